"""Policies of the audit plane: topic, audit key and CloudTrail bucket (pure, no Pulumi).

Every service grant here names the one resource it serves: S3 may publish only for the
data bucket in our account, CloudTrail may write and encrypt only for our trail (whose ARN
is known before it exists because its name is set explicitly), CloudWatch Logs may use
the key only for the trail's log group.

The audit key is a dedicated customer-managed key, not the data key: the data key's
policy lets account principals use it only through S3, and adding SNS, CloudTrail and
CloudWatch Logs service principals there would widen who can ask KMS to decrypt tenant
files. A separate key also separates duties (auditors may decrypt trail logs without
being able to decrypt tenant files) and has its own lifecycle.
"""

from __future__ import annotations

import re
from typing import Optional, Sequence

from .key_policies import account_root_arn, administration_statements, deny_workload_roles
from .policy_common import Statement, deny_insecure_transport, deny_outdated_tls, deny_tenant_sessions, document

S3_PRINCIPAL = "s3.amazonaws.com"
EVENTS_PRINCIPAL = "events.amazonaws.com"
CLOUDTRAIL_PRINCIPAL = "cloudtrail.amazonaws.com"
TRAIL_LOG_PREFIX = "AWSLogs"
"""CloudTrail writes ``AWSLogs/<account>/...`` under the bucket (no custom key prefix)."""

_ACCOUNT_ID = re.compile(r"^\d{12}$")
_PARTITION = r"arn:aws(-cn|-us-gov)?"
_TOPIC_ARN = re.compile(rf"^{_PARTITION}:sns:[a-z0-9-]+:\d{{12}}:[A-Za-z0-9_-]{{1,256}}$")
_BUCKET_ARN = re.compile(rf"^{_PARTITION}:s3:::[a-z0-9][a-z0-9.-]{{1,61}}[a-z0-9]$")
_TRAIL_ARN = re.compile(rf"^{_PARTITION}:cloudtrail:[a-z0-9-]+:\d{{12}}:trail/[A-Za-z0-9._-]{{3,128}}$")
_LOG_GROUP_ARN = re.compile(rf"^{_PARTITION}:logs:[a-z0-9-]+:\d{{12}}:log-group:[A-Za-z0-9._/#-]{{1,512}}$")
_RULE_ARN = re.compile(rf"^{_PARTITION}:events:[a-z0-9-]+:\d{{12}}:rule/[A-Za-z0-9._-]{{1,64}}$")
_REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d$")


def _checked(value: object, pattern: re.Pattern[str], what: str) -> str:
    """Refuse a missing or malformed ARN: ``None`` would become a grant on ``"None"``."""
    if not isinstance(value, str) or not pattern.match(value):
        raise ValueError(f"{what} must look like {pattern.pattern}, got {value!r}")
    return value


def topic_arn(region: str, account_id: str, topic_name: str, partition: str = "aws") -> str:
    return f"arn:{partition}:sns:{region}:{account_id}:{topic_name}"


def trail_arn(region: str, account_id: str, trail_name: str, partition: str = "aws") -> str:
    """A trail's ARN from its (explicit) name: the trail's policies need it before it exists."""
    return f"arn:{partition}:cloudtrail:{region}:{account_id}:trail/{trail_name}"


def log_group_arn(region: str, account_id: str, group_name: str, partition: str = "aws") -> str:
    """As KMS sees it in ``kms:EncryptionContext:aws:logs:arn`` (no trailing ``:*``)."""
    return f"arn:{partition}:logs:{region}:{account_id}:log-group:{group_name}"


def event_rule_arn(region: str, account_id: str, rule_name: str, partition: str = "aws") -> str:
    """A rule's ARN on the default bus, from its explicit name (known before it exists)."""
    return f"arn:{partition}:events:{region}:{account_id}:rule/{rule_name}"


def topic_policy(
    *, topic_arn: str, bucket_arn: str, account_id: str, event_rule_arns: Sequence[str] = ()
) -> dict:
    """Only the data bucket, in our account, may publish, and the named EventBridge rules
    of this account (the malware-scan alerts); nothing over plain HTTP."""
    topic = _checked(topic_arn, _TOPIC_ARN, "topic_arn")
    bucket = _checked(bucket_arn, _BUCKET_ARN, "bucket_arn")
    account = _checked(account_id, _ACCOUNT_ID, "account_id")
    rules = sorted({_checked(arn, _RULE_ARN, "event_rule_arn") for arn in event_rule_arns})
    publishers: list[Statement] = []
    if rules:
        publishers.append(
            {
                "Sid": "AllowEventBridgePublishForTheNamedRulesOnly",
                "Effect": "Allow",
                "Principal": {"Service": EVENTS_PRINCIPAL},
                "Action": "sns:Publish",
                "Resource": topic,
                # The rule ARN names our account and region, so aws:SourceAccount adds nothing.
                "Condition": {"ArnEquals": {"aws:SourceArn": rules}},
            }
        )
    return document(
        [
            deny_insecure_transport([topic], action="sns:Publish"),
            # The topic carries every tenant's new keys: no tenant session may subscribe,
            # read its attributes or change it, whatever its identity policy says.
            deny_tenant_sessions(topic, "sns:*", "TheTopic"),
            {
                "Sid": "AllowS3PublishFromTheDataBucketOnly",
                "Effect": "Allow",
                "Principal": {"Service": S3_PRINCIPAL},
                "Action": "sns:Publish",
                "Resource": topic,
                "Condition": {
                    "ArnEquals": {"aws:SourceArn": bucket},
                    "StringEquals": {"aws:SourceAccount": account},
                },
            },
            *publishers,
        ]
    )


def audit_key_policy(
    *,
    account_id: str,
    region: str,
    topic_arn: str,
    partition: str = "aws",
    admin_arns: Sequence[str] = (),
    trail_arn: Optional[str] = None,
    log_group_arn: Optional[str] = None,
    events_publish: bool = False,
    workload_role_arns: Sequence[str] = (),
) -> dict:
    """The audit key: the topic always; the trail and its log group when they exist;
    EventBridge for the topic when rules publish to it (``events_publish``).

    Tenant sessions and the workload roles (``workload_role_arns``) are refused every KMS
    action on it: none of them needs the audit key, and administering it (disable, schedule
    deletion, replace the policy) would silence the trail and the upload topic."""
    account = _checked(account_id, _ACCOUNT_ID, "account_id")
    topic = _checked(topic_arn, _TOPIC_ARN, "topic_arn")
    _checked(region, _REGION, "region")
    root = account_root_arn(account, partition)
    statements = administration_statements(root_arn=root, admin_arns=admin_arns)
    statements.append(deny_tenant_sessions("*", "kms:*", "TheAuditKey"))
    if workload_role_arns:
        statements.append(deny_workload_roles(workload_role_arns, "kms:*", "TheAuditKey"))
    statements += [
        {
            # S3 publishes with its own service principal, so it needs the key itself.
            # SNS asks KMS with the topic ARN as encryption context, which binds every
            # data key to this one topic; aws:SourceAccount stops a confused deputy. If
            # AWS ever left it out of the request, S3's test event when the notification
            # is saved would fail the deploy at once, not silently later.
            "Sid": "AllowS3ToEncryptNotificationsForThisTopic",
            "Effect": "Allow",
            "Principal": {"Service": S3_PRINCIPAL},
            "Action": ["kms:GenerateDataKey*", "kms:Decrypt"],
            "Resource": "*",
            "Condition": {
                "StringEquals": {
                    "aws:SourceAccount": account,
                    "kms:EncryptionContext:aws:sns:topicArn": topic,
                }
            },
        },
        {
            # Subscribers and publishers in this account reach the key only through SNS.
            "Sid": "AllowAccountPrincipalsToUseTheKeyThroughSnsOnly",
            "Effect": "Allow",
            "Principal": {"AWS": root},
            "Action": ["kms:GenerateDataKey*", "kms:Decrypt"],
            "Resource": "*",
            "Condition": {
                "StringEquals": {
                    "kms:ViaService": f"sns.{region}.amazonaws.com",
                    "kms:CallerAccount": account,
                }
            },
        },
    ]
    if events_publish:
        statements.append(
            {
                # EventBridge publishes to an SSE topic with its own service principal;
                # the topic-ARN encryption context binds each data key to this topic.
                "Sid": "AllowEventBridgeToEncryptAlertsForThisTopic",
                "Effect": "Allow",
                "Principal": {"Service": EVENTS_PRINCIPAL},
                "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
                "Resource": "*",
                "Condition": {"StringEquals": {"kms:EncryptionContext:aws:sns:topicArn": topic}},
            }
        )
    if trail_arn is not None:
        statements += _trail_key_statements(account, root, _checked(trail_arn, _TRAIL_ARN, "trail_arn"))
    if log_group_arn is not None:
        group = _checked(log_group_arn, _LOG_GROUP_ARN, "log_group_arn")
        statements.append(
            {
                "Sid": "AllowCloudWatchLogsForTheTrailLogGroupOnly",
                "Effect": "Allow",
                "Principal": {"Service": f"logs.{region}.amazonaws.com"},
                # AWS's sample also lists kms:Describe*, but DescribeKey carries no
                # encryption context, so under this condition it could never match.
                "Action": [
                    "kms:Encrypt",
                    "kms:Decrypt",
                    "kms:ReEncryptFrom",
                    "kms:ReEncryptTo",
                    "kms:GenerateDataKey",
                    "kms:GenerateDataKeyWithoutPlaintext",
                ],
                "Resource": "*",
                "Condition": {"StringEquals": {"kms:EncryptionContext:aws:logs:arn": group}},
            }
        )
    return document(statements)


def _trail_key_statements(account: str, root: str, trail: str) -> list[Statement]:
    """CloudTrail encrypts for this trail only; account principals may decrypt its logs."""
    return [
        {
            "Sid": "AllowCloudTrailToEncryptLogsForThisTrail",
            "Effect": "Allow",
            "Principal": {"Service": CLOUDTRAIL_PRINCIPAL},
            "Action": "kms:GenerateDataKey*",
            "Resource": "*",
            "Condition": {
                "StringEquals": {
                    "aws:SourceArn": trail,
                    "kms:EncryptionContext:aws:cloudtrail:arn": trail,
                }
            },
        },
        {
            "Sid": "AllowCloudTrailToDescribeTheKeyForThisTrail",
            "Effect": "Allow",
            "Principal": {"Service": CLOUDTRAIL_PRINCIPAL},
            "Action": "kms:DescribeKey",
            "Resource": "*",
            "Condition": {"StringEquals": {"aws:SourceArn": trail}},
        },
        {
            "Sid": "AllowAccountPrincipalsToDecryptThisTrailsLogs",
            "Effect": "Allow",
            "Principal": {"AWS": root},
            "Action": ["kms:Decrypt", "kms:ReEncryptFrom"],
            "Resource": "*",
            "Condition": {
                "StringEquals": {
                    "kms:CallerAccount": account,
                    "kms:EncryptionContext:aws:cloudtrail:arn": trail,
                }
            },
        },
    ]


def trail_bucket_policy(*, bucket_arn: str, trail_arn: str, account_id: str) -> dict:
    """The trail bucket: TLS only; CloudTrail may check the ACL and write, for this trail only."""
    bucket = _checked(bucket_arn, _BUCKET_ARN, "bucket_arn")
    trail = _checked(trail_arn, _TRAIL_ARN, "trail_arn")
    account = _checked(account_id, _ACCOUNT_ID, "account_id")
    everything = [bucket, f"{bucket}/*"]
    return document(
        [
            deny_insecure_transport(everything),
            deny_outdated_tls(everything),
            deny_tenant_sessions(everything, "s3:*", "TheTrailBucket"),
            {
                "Sid": "AllowCloudTrailAclCheckForThisTrail",
                "Effect": "Allow",
                "Principal": {"Service": CLOUDTRAIL_PRINCIPAL},
                "Action": "s3:GetBucketAcl",
                "Resource": bucket,
                "Condition": {"StringEquals": {"aws:SourceArn": trail}},
            },
            {
                "Sid": "AllowCloudTrailWriteForThisTrail",
                "Effect": "Allow",
                "Principal": {"Service": CLOUDTRAIL_PRINCIPAL},
                "Action": "s3:PutObject",
                "Resource": f"{bucket}/{TRAIL_LOG_PREFIX}/{account}/*",
                "Condition": {
                    "StringEquals": {
                        "aws:SourceArn": trail,
                        "s3:x-amz-acl": "bucket-owner-full-control",
                    }
                },
            },
        ]
    )


def trail_logs_role_trust() -> dict:
    """CloudTrail may assume the log-delivery role, with no condition on purpose.

    AWS documents (CloudTrail User Guide, "Role policy document for CloudTrail to use
    CloudWatch Logs for monitoring") that confused-deputy prevention does not apply to this
    role: CloudTrail does not send ``aws:SourceArn``/``aws:SourceAccount`` when it assumes
    it, so such a condition would silently stop delivery. What limits the role instead:
    only a principal of this account allowed ``iam:PassRole`` can hand it to a trail (roles
    cannot be passed across accounts), and its permissions reach this one log group.
    """
    return document(
        [
            {
                "Sid": "AllowCloudTrailToAssume",
                "Effect": "Allow",
                "Principal": {"Service": CLOUDTRAIL_PRINCIPAL},
                "Action": "sts:AssumeRole",
            }
        ]
    )


def trail_logs_role_policy(*, log_group_arn: str) -> dict:
    """The role may create streams and put events in the trail's log group, nowhere else."""
    group = _checked(log_group_arn, _LOG_GROUP_ARN, "log_group_arn")
    return document(
        [
            {
                "Sid": "AllowTrailEventsIntoItsLogGroupOnly",
                "Effect": "Allow",
                "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                "Resource": f"{group}:log-stream:*",
            }
        ]
    )


TRAIL_ACCESS_LOG_PREFIX = "s3-access-trail/"
"""Where S3 server access logs of the trail bucket land in the log bucket."""


def trail_access_log_statement(*, log_bucket_arn: str, trail_bucket_arn: str, account_id: str) -> Statement:
    """Log bucket: S3 may write the trail bucket's access logs under their own prefix only."""
    log_bucket = _checked(log_bucket_arn, _BUCKET_ARN, "log_bucket_arn")
    source = _checked(trail_bucket_arn, _BUCKET_ARN, "trail_bucket_arn")
    account = _checked(account_id, _ACCOUNT_ID, "account_id")
    return {
        "Sid": "AllowServerAccessLogsFromTheTrailBucketOnly",
        "Effect": "Allow",
        "Principal": {"Service": "logging.s3.amazonaws.com"},
        "Action": "s3:PutObject",
        "Resource": f"{log_bucket}/{TRAIL_ACCESS_LOG_PREFIX}*",
        "Condition": {
            "ArnEquals": {"aws:SourceArn": source},
            "StringEquals": {"aws:SourceAccount": account},
        },
    }
