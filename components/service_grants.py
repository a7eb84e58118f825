"""Every grant to an AWS service principal, with the AWS page that documents its conditions.

A condition key that a service does not send makes a grant fail closed: delivery stops, or
the deploy fails. So each (principal, policy kind, condition keys) combination the stacks
render is listed here with where AWS documents it, and ``tests/stack/test_service_grants_documented.py``
fails when a stack renders a combination that is not listed. The README's table "Service
grants and the AWS documentation behind them" is this list, for people.

``documented`` is ``"yes"`` when the cited page shows this principal with these keys in
this kind of policy; otherwise ``first_deploy`` says what the first real ``pulumi up`` (or
the first deploy that uses the role) shows if AWS does not send a key.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

REGION_PLACEHOLDER = "<region>"
"""Regional service principals (``logs.eu-west-1.amazonaws.com``) are listed with this."""


@dataclass(frozen=True)
class ServiceGrant:
    principal: str
    policy: str
    """``bucket``, ``key``, ``topic`` or ``trust`` (role trust policy)."""
    condition_keys: frozenset[str]
    """As written in the policy; compared case-insensitively (IAM key names are)."""
    grant: str
    documented: str
    """``yes``, ``partly`` or ``no``."""
    reference: str
    """Title and URL of the AWS page."""
    first_deploy: Optional[str] = None


def _keys(*names: str) -> frozenset[str]:
    return frozenset(names)


_CLOUDFRONT_OAC = (
    "CloudFront Developer Guide, \"Restrict access to an Amazon S3 origin\" "
    "https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/private-content-restricting-access-to-s3.html"
)
_S3_ACCESS_LOGS = (
    "S3 User Guide, \"Enabling Amazon S3 server access logging\" (bucket policy for "
    "logging.s3.amazonaws.com) "
    "https://docs.aws.amazon.com/AmazonS3/latest/userguide/enable-server-access-logging.html"
)
_S3_INVENTORY = (
    "S3 User Guide, \"Bucket policy examples\": Grant permissions for S3 Inventory and S3 "
    "analytics (InventoryAndAnalyticsExamplePolicy), referred to by \"Configuring Amazon S3 "
    "Inventory\" (creating a destination bucket policy) "
    "https://docs.aws.amazon.com/AmazonS3/latest/userguide/example-bucket-policies.html"
)
_VENDED_LOGS_S3 = (
    "CloudWatch Logs User Guide, \"Logs sent to Amazon S3\" (enabling logging from AWS "
    "services, V2 permissions) "
    "https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/AWS-logs-infrastructure-V2-S3.html"
)
_TRAIL_BUCKET = (
    "CloudTrail User Guide, \"Amazon S3 bucket policy for CloudTrail\" "
    "https://docs.aws.amazon.com/awscloudtrail/latest/userguide/create-s3-bucket-policy-for-cloudtrail.html"
)
_TRAIL_KEY = (
    "CloudTrail User Guide, \"Configure AWS KMS key policies for CloudTrail\" "
    "https://docs.aws.amazon.com/awscloudtrail/latest/userguide/create-kms-key-policy-for-cloudtrail.html"
)
_TRAIL_LOGS_ROLE = (
    "CloudTrail User Guide, \"Role policy document for CloudTrail to use CloudWatch Logs for "
    "monitoring\" "
    "https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-required-policy-for-cloudwatch-logs.html"
)
_S3_TO_SNS = (
    "S3 User Guide, \"Granting permissions to publish event notification messages to a "
    "destination\" "
    "https://docs.aws.amazon.com/AmazonS3/latest/userguide/grant-destinations-permissions-to-s3.html"
)
_GUARDDUTY_ROLE = (
    "GuardDuty User Guide, \"Create or update IAM role policy\" (Malware Protection for S3) "
    "https://docs.aws.amazon.com/guardduty/latest/ug/malware-protection-s3-iam-policy-prerequisite.html"
)
_EVENTS_TO_SNS = (
    "EventBridge User Guide, \"Using resource-based policies for Amazon EventBridge\" (Amazon SNS "
    "permissions: topic policy for events.amazonaws.com, key policy for encrypted topics) "
    "https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-use-resource-based.html"
)
_SNS_KEY = (
    "SNS Developer Guide, \"Key management\" (service event sources and encrypted topics) "
    "https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html; the topic-ARN "
    "encryption context with a publishing service principal: GameLift FlexMatch Guide, "
    "\"Set up an SNS topic with server-side encryption\" "
    "https://docs.aws.amazon.com/gamelift/latest/flexmatchguide/queue-notification-sns-sse.html"
)
_LOGS_KEY = (
    "CloudWatch Logs User Guide, \"Encrypt log data in CloudWatch Logs using AWS KMS\" "
    "https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/encrypt-log-data-kms.html"
)
_LAMBDA_ROLE = (
    "Lambda Developer Guide, \"Defining Lambda function permissions with an execution role\" "
    "https://docs.aws.amazon.com/lambda/latest/dg/lambda-intro-execution-role.html"
)
_EC2_ROLE = (
    "IAM User Guide, \"Use an IAM role to grant permissions to applications running on "
    "Amazon EC2 instances\" "
    "https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_use_switch-role-ec2.html"
)

SERVICE_GRANTS: tuple[ServiceGrant, ...] = (
    ServiceGrant(
        "cloudfront.amazonaws.com", "bucket", _keys("AWS:SourceArn"),
        "data bucket: `s3:GetObject` for this distribution (OAC)", "yes", _CLOUDFRONT_OAC,
    ),
    ServiceGrant(
        "cloudfront.amazonaws.com", "key", _keys("AWS:SourceArn"),
        "data key: `kms:Decrypt` for this distribution (SSE-KMS origin)", "yes", _CLOUDFRONT_OAC,
    ),
    ServiceGrant(
        "logging.s3.amazonaws.com", "bucket", _keys("aws:SourceArn", "aws:SourceAccount"),
        "log bucket: `s3:PutObject` of server access logs from the data (and trail) bucket",
        "yes", _S3_ACCESS_LOGS,
    ),
    ServiceGrant(
        "s3.amazonaws.com", "bucket", _keys("aws:SourceArn", "aws:SourceAccount", "s3:x-amz-acl"),
        "log bucket: `s3:PutObject` of the data bucket's S3 Inventory reports under `inventory/`",
        "yes", _S3_INVENTORY,
    ),
    ServiceGrant(
        "delivery.logs.amazonaws.com", "bucket", _keys("aws:SourceArn", "aws:SourceAccount"),
        "log bucket: `s3:PutObject` of CloudFront standard logs (v2) from this delivery source",
        "yes", _VENDED_LOGS_S3,
    ),
    ServiceGrant(
        "cloudtrail.amazonaws.com", "bucket", _keys("aws:SourceArn"),
        "trail bucket: `s3:GetBucketAcl` for this trail", "yes", _TRAIL_BUCKET,
    ),
    ServiceGrant(
        "cloudtrail.amazonaws.com", "bucket", _keys("aws:SourceArn", "s3:x-amz-acl"),
        "trail bucket: `s3:PutObject` under `AWSLogs/<account>/` for this trail", "yes", _TRAIL_BUCKET,
    ),
    ServiceGrant(
        "cloudtrail.amazonaws.com", "key",
        _keys("aws:SourceArn", "kms:EncryptionContext:aws:cloudtrail:arn"),
        "audit key: `kms:GenerateDataKey*` for this trail", "yes", _TRAIL_KEY,
    ),
    ServiceGrant(
        "cloudtrail.amazonaws.com", "key", _keys("aws:SourceArn"),
        "audit key: `kms:DescribeKey` for this trail", "yes", _TRAIL_KEY,
    ),
    ServiceGrant(
        "cloudtrail.amazonaws.com", "trust", _keys(),
        "CloudWatch Logs delivery role: `sts:AssumeRole`, no condition (the guide says "
        "CloudTrail does not send `aws:SourceArn`/`aws:SourceAccount` here)",
        "yes", _TRAIL_LOGS_ROLE,
    ),
    ServiceGrant(
        f"logs.{REGION_PLACEHOLDER}.amazonaws.com", "key",
        _keys("kms:EncryptionContext:aws:logs:arn"),
        "audit key: encrypt/decrypt for the trail's log group only", "yes", _LOGS_KEY,
    ),
    ServiceGrant(
        "s3.amazonaws.com", "topic", _keys("aws:SourceArn", "aws:SourceAccount"),
        "upload topic: `sns:Publish` from the data bucket", "yes", _S3_TO_SNS,
    ),
    ServiceGrant(
        "s3.amazonaws.com", "key",
        _keys("aws:SourceAccount", "kms:EncryptionContext:aws:sns:topicArn"),
        "audit key: `kms:GenerateDataKey*`/`kms:Decrypt` so S3 can publish to the encrypted topic",
        "partly", _SNS_KEY,
        first_deploy=(
            "AWS shows this grant for S3 without conditions, the topic-ARN "
            "encryption context for SNS-encrypted topics and `aws:SourceAccount` on the key "
            "for other publishing services, not these keys for S3. If one is not sent, S3's "
            "test event fails when the upload notification is created, so the first "
            "`pulumi up` stops there."
        ),
    ),
    ServiceGrant(
        "lambda.amazonaws.com", "trust", _keys("aws:SourceAccount"),
        "Lambda role trust, this account only", "no", _LAMBDA_ROLE,
        first_deploy=(
            "The Lambda guide's execution-role trust has no condition. If Lambda did not "
            "send `aws:SourceAccount`, the first function created with this role would fail "
            "(CreateFunction checks that Lambda can assume it). Kept: it fails closed."
        ),
    ),
    ServiceGrant(
        "ec2.amazonaws.com", "trust", _keys(),
        "EC2 role trust (instance profile), no condition", "yes", _EC2_ROLE,
    ),
    ServiceGrant(
        "malware-protection-plan.guardduty.amazonaws.com", "trust", _keys("aws:SourceAccount"),
        "malware scanner role trust, this account only", "partly", _GUARDDUTY_ROLE,
        first_deploy=(
            "The GuardDuty guide's role trust names the service principal; the account "
            "condition follows IAM's confused-deputy guidance. GuardDuty assumes the role when "
            "the plan is created, so if the key were not sent the plan would fail to create "
            "(status ERROR), at the first `pulumi up`. Kept: it fails closed."
        ),
    ),
    ServiceGrant(
        "events.amazonaws.com", "topic", _keys("aws:SourceArn"),
        "upload topic: `sns:Publish` from the malware-scan alert rule", "partly", _EVENTS_TO_SNS,
        first_deploy=(
            "AWS shows `events.amazonaws.com` publishing to a topic and recommends "
            "`aws:SourceArn` (the rule) against a confused deputy. If it were not sent, alerts "
            "would not arrive: the rule's FailedInvocations metric shows it, not the deploy "
            "(test an alert after the first deploy, README 'Malware scanning')."
        ),
    ),
    ServiceGrant(
        "events.amazonaws.com", "key", _keys("kms:EncryptionContext:aws:sns:topicArn"),
        "audit key: `kms:GenerateDataKey*`/`kms:Decrypt` so EventBridge can publish to the encrypted topic",
        "partly", _EVENTS_TO_SNS,
        first_deploy=(
            "AWS shows this grant for EventBridge without conditions; SNS asks KMS with the "
            "topic ARN as encryption context for every publisher of an SSE topic. If not, "
            "alerts would not arrive (rule FailedInvocations), not the deploy."
        ),
    ),
)


def normalize_principal(principal: str) -> str:
    """``logs.eu-west-1.amazonaws.com`` -> ``logs.<region>.amazonaws.com``; others unchanged."""
    parts = principal.split(".")
    if len(parts) == 4 and parts[2:] == ["amazonaws", "com"] and "-" in parts[1]:
        return f"{parts[0]}.{REGION_PLACEHOLDER}.amazonaws.com"
    return principal


def grant_key(principal: str, policy: str, condition_keys) -> tuple[str, str, frozenset[str]]:
    """How a rendered statement is matched with a listed grant."""
    return (normalize_principal(principal), policy, frozenset(k.lower() for k in condition_keys))


def find(principal: str, policy: str, condition_keys) -> Optional[ServiceGrant]:
    wanted = grant_key(principal, policy, condition_keys)
    for grant in SERVICE_GRANTS:
        if grant_key(grant.principal, grant.policy, grant.condition_keys) == wanted:
            return grant
    return None
