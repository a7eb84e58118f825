"""``AuditTrail``: who uploaded what, as it happens and for the record.

* Upload notifications: the data bucket publishes ``s3:ObjectCreated:*`` to an SNS topic
  that only the data bucket (in our account) may publish to, over TLS only, encrypted with
  the audit key; an e-mail subscription is optional.
* CloudTrail (prod on, dev off by config): a multi-region trail with log file validation,
  encrypted with the audit key, recording S3 data events (reads and writes) on the data
  bucket through advanced event selectors, into its own hardened bucket; optionally also
  into a KMS-encrypted CloudWatch Logs group.

The audit key is dedicated (rotation on), not the data key: see ``audit_policies`` for why.
Its policy is inline on the key because everything it names (the topic, the trail, the log
group) has an explicit name, so every ARN is known before the resource exists.
"""

import json
from typing import TYPE_CHECKING, NotRequired, Optional, Sequence, TypedDict

import pulumi
import pulumi_aws as aws

from . import args_check
from .audit_policies import (
    TRAIL_ACCESS_LOG_PREFIX,
    audit_key_policy,
    event_rule_arn,
    log_group_arn,
    topic_arn,
    topic_policy,
    trail_access_log_statement,
    trail_arn,
    trail_bucket_policy,
    trail_logs_role_policy,
    trail_logs_role_trust,
)
from .package import resource_type
from .settings import AuditSettings
from .storage import harden_bucket, retained_child

# No ``from __future__ import annotations`` here: the component provider infers the schema
# from the Args and output annotations at runtime and refuses string annotations.

TYPE_TOKEN = "securestore:audit:AuditTrail"

OBJECT_CREATED_EVENTS = ["s3:ObjectCreated:*"]
NONCURRENT_TRAIL_LOG_DAYS = 90
"""Replaced trail log objects are kept this long (current ones are evidence and stay)."""
ABORT_MULTIPART_DAYS = 1


class AuditTrailArgs(TypedDict):
    bucket_id: pulumi.Input[str]
    """Name of the data bucket that notifies on uploads and whose data events are recorded."""
    bucket_arn: pulumi.Input[str]
    """ARN of the data bucket: the only publisher to the topic, the trail's data events."""
    log_bucket_id: pulumi.Input[str]
    """The access-log bucket; the trail bucket's server access logs go there."""
    log_bucket_arn: pulumi.Input[str]
    """ARN of the access-log bucket."""
    account_id: pulumi.Input[str]
    """This account: the only source that may publish to the topic and write the trail."""
    region: pulumi.Input[str]
    """Home region of the topic and the trail."""
    partition: pulumi.Input[str]
    """ARN partition (``aws``, ``aws-cn``, ``aws-us-gov``)."""
    cloudtrail_enabled: bool
    """Record S3 data events (reads and writes) on the data bucket with a multi-region trail."""
    cloudtrail_cloudwatch_logs: bool
    """Also send the trail to a KMS-encrypted CloudWatch Logs group."""
    cloudtrail_log_retention_days: int
    """Days the trail's log group keeps events (a period CloudWatch Logs accepts, e.g. 365)."""
    notification_email: Optional[str]
    """E-mail address subscribed to the upload-notification topic; absent: no subscription."""
    admin_arns: Sequence[str]
    """IAM principals that manage (not use) the audit key."""
    key_deletion_window_days: int
    """Days a scheduled deletion of the audit key can still be cancelled (7-30)."""
    force_destroy: bool
    """Let ``pulumi destroy`` delete a non-empty trail bucket (dev only)."""
    protect: bool
    """Protect and retain the audit key and trail bucket (prod)."""
    tags: pulumi.Input[dict[str, str]]
    """Tags of the key, topic, trail and trail bucket."""
    alert_rule_names: NotRequired[Sequence[str]]
    """Names of EventBridge rules (default bus, this account and region) that may publish to the upload topic, e.g. the malware-scan alert rule; absent: none."""
    workload_role_arns: NotRequired[pulumi.Input[Sequence[str]]]
    """Roles that run application code (Lambda, EC2, uploader, tenant): refused every KMS action on the audit key."""


class AuditTrail(pulumi.ComponentResource):
    """An encrypted upload-notification topic and, when enabled, a data-event trail."""

    if TYPE_CHECKING:  # child resources and policy grants, for Python callers; not outputs
        key: aws.kms.Key
        topic: aws.sns.Topic
        topic_policy: aws.sns.TopicPolicy
        notification: aws.s3.BucketNotification
        trail_bucket: Optional[aws.s3.Bucket]
        trail: Optional[aws.cloudtrail.Trail]
        log_statements: pulumi.Output[list]
        """Grants for the log bucket's policy (the trail bucket's access logs)."""
    key_arn: pulumi.Output[str]
    """ARN of the audit key (encrypts the topic and the trail)."""
    topic_arn: pulumi.Output[str]
    """ARN of the SNS topic notified on every upload (s3:ObjectCreated:*)."""
    trail_arn: pulumi.Output[Optional[str]]
    """ARN of the data-event trail; absent when CloudTrail is off."""

    def __init__(
        self, name: str, args: AuditTrailArgs, opts: Optional[pulumi.ResourceOptions] = None
    ) -> None:
        audit = self._check(name, args)
        super().__init__(resource_type(TYPE_TOKEN), name, None, opts)
        self._name = name
        self._args = args
        keep = pulumi.ResourceOptions(
            parent=self, protect=args["protect"], retain_on_delete=args["protect"]
        )
        self._topic_name = f"{name}-object-created"
        self._trail_name = f"{name}-data-events" if audit.cloudtrail_enabled else None
        self._log_group_name = (
            f"/aws/cloudtrail/{name}"
            if audit.cloudtrail_enabled and audit.cloudtrail_cloudwatch_logs
            else None
        )
        where = pulumi.Output.all(args["account_id"], args["region"], args["partition"])
        self._alert_rule_names = list(args.get("alert_rule_names") or ())
        self._alert_rule_arns = where.apply(
            lambda w: [event_rule_arn(w[1], w[0], rule, w[2]) for rule in self._alert_rule_names]
        )
        self._topic_arn_known = where.apply(lambda w: topic_arn(w[1], w[0], self._topic_name, w[2]))
        self._trail_arn_known = where.apply(
            lambda w: trail_arn(w[1], w[0], self._trail_name, w[2]) if self._trail_name else None
        )
        self._log_group_arn_known = where.apply(
            lambda w: log_group_arn(w[1], w[0], self._log_group_name, w[2])
            if self._log_group_name
            else None
        )

        self.key = aws.kms.Key(
            f"{name}-key",
            aws.kms.KeyArgs(
                description=f"{name}: encrypts upload notifications and the audit trail",
                key_usage="ENCRYPT_DECRYPT",
                customer_master_key_spec="SYMMETRIC_DEFAULT",
                enable_key_rotation=True,
                deletion_window_in_days=args["key_deletion_window_days"],
                bypass_policy_lockout_safety_check=False,
                policy=pulumi.Output.all(
                    where, self._topic_arn_known, self._trail_arn_known, self._log_group_arn_known,
                    args.get("workload_role_arns") or [],
                ).apply(
                    lambda a: json.dumps(
                        audit_key_policy(
                            account_id=a[0][0],
                            region=a[0][1],
                            partition=a[0][2],
                            topic_arn=a[1],
                            admin_arns=args["admin_arns"],
                            trail_arn=a[2],
                            log_group_arn=a[3],
                            events_publish=bool(self._alert_rule_names),
                            workload_role_arns=a[4],
                        )
                    )
                ),
                tags=args["tags"],
            ),
            keep,
        )
        aws.kms.Alias(
            f"{name}-alias",
            aws.kms.AliasArgs(name=f"alias/{name}", target_key_id=self.key.key_id),
            keep,
        )
        self._notifications(audit)
        self.trail_bucket = None
        self.trail_bucket_logging = None
        self.trail = None
        self.log_statements = pulumi.Output.from_input([])
        if audit.cloudtrail_enabled:
            self._cloudtrail(audit)

        self.key_arn = self.key.arn
        self.topic_arn = self.topic.arn
        self.trail_arn = self.trail.arn if self.trail else pulumi.Output.from_input(None)
        self.register_outputs(
            {"key_arn": self.key_arn, "topic_arn": self.topic_arn, "trail_arn": self.trail_arn}
        )

    @staticmethod
    def _check(name: str, args: AuditTrailArgs) -> AuditSettings:
        """The audit and key rules of ``settings``, before anything is registered; the plain
        fields come back as the (normalized) settings the private methods read."""
        component = "AuditTrail"
        args_check.require(component, name, args, AuditTrailArgs)
        args_check.check(
            component,
            name,
            args,
            {"key_deletion_window_days": "kmsDeletionWindowDays", "admin_arns": "kmsAdminArns"},
            args_check.key_rules,
        )
        return args_check.check(
            component,
            name,
            args,
            {
                "cloudtrail_enabled": "cloudTrailEnabled",
                "cloudtrail_cloudwatch_logs": "cloudTrailCloudWatchLogs",
                "cloudtrail_log_retention_days": "cloudTrailLogRetentionDays",
                "notification_email": "notificationEmail",
            },
            args_check.audit_rules,
        )

    def _notifications(self, audit: AuditSettings) -> None:
        """Topic, its policy, the bucket notification and the optional e-mail subscription."""
        args = self._args
        child = pulumi.ResourceOptions(parent=self)
        self.topic = aws.sns.Topic(
            f"{self._name}-object-created",
            aws.sns.TopicArgs(
                name=self._topic_name,
                display_name="securestore uploads",
                kms_master_key_id=self.key.arn,
                tags=args["tags"],
            ),
            child,
        )
        self.topic_policy = aws.sns.TopicPolicy(
            f"{self._name}-object-created-policy",
            aws.sns.TopicPolicyArgs(
                arn=self.topic.arn,
                policy=pulumi.Output.all(
                    self.topic.arn, args["bucket_arn"], args["account_id"], self._alert_rule_arns
                ).apply(
                    lambda a: json.dumps(
                        topic_policy(topic_arn=a[0], bucket_arn=a[1], account_id=a[2], event_rule_arns=a[3])
                    )
                ),
            ),
            child,
        )
        # S3 sends a test event when the configuration is saved: the topic policy and the
        # key policy must already let it publish, or the call fails. EventBridge stays on:
        # GuardDuty Malware Protection turns it on to see new objects, and a configuration
        # without it would switch it off again on every deploy.
        self.notification = aws.s3.BucketNotification(
            f"{self._name}-object-created-notification",
            aws.s3.BucketNotificationArgs(
                bucket=args["bucket_id"],
                eventbridge=True,
                topics=[
                    aws.s3.BucketNotificationTopicArgs(
                        id="object-created", topic_arn=self.topic.arn, events=OBJECT_CREATED_EVENTS
                    )
                ],
            ),
            # Configures the retained data bucket: kept with it.
            retained_child(self, args["protect"], [self.topic_policy, self.key]),
        )
        if audit.notification_email:
            aws.sns.TopicSubscription(
                f"{self._name}-object-created-email",
                aws.sns.TopicSubscriptionArgs(
                    topic=self.topic.arn, protocol="email", endpoint=audit.notification_email
                ),
                child,
            )

    def _cloudtrail(self, audit: AuditSettings) -> None:
        args = self._args
        bucket_policy = self._trail_bucket()
        trail_depends: list[pulumi.Resource] = [bucket_policy]
        cloudwatch = {}
        if self._log_group_name:
            group, role, role_policy = self._trail_log_group(audit)
            trail_depends.append(role_policy)
            cloudwatch = {
                "cloud_watch_logs_group_arn": group.arn.apply(lambda arn: f"{arn}:*"),
                "cloud_watch_logs_role_arn": role.arn,
            }
        self.trail = aws.cloudtrail.Trail(
            f"{self._name}-trail",
            aws.cloudtrail.TrailArgs(
                name=self._trail_name,
                s3_bucket_name=self.trail_bucket.id,
                is_multi_region_trail=True,
                include_global_service_events=True,
                enable_log_file_validation=True,
                enable_logging=True,
                kms_key_id=self.key.arn,
                advanced_event_selectors=self._event_selectors(),
                tags=args["tags"],
                **cloudwatch,
            ),
            pulumi.ResourceOptions(parent=self, depends_on=trail_depends),
        )

    def _event_selectors(self) -> list[aws.cloudtrail.TrailAdvancedEventSelectorArgs]:
        """Management events, plus every S3 object read and write on the data bucket."""
        selector = aws.cloudtrail.TrailAdvancedEventSelectorFieldSelectorArgs
        objects_prefix = pulumi.Output.from_input(self._args["bucket_arn"]).apply(
            lambda arn: f"{arn}/"
        )
        return [
            aws.cloudtrail.TrailAdvancedEventSelectorArgs(
                name="Management events",
                field_selectors=[selector(field="eventCategory", equals=["Management"])],
            ),
            aws.cloudtrail.TrailAdvancedEventSelectorArgs(
                name="S3 object reads and writes on the data bucket",
                field_selectors=[
                    selector(field="eventCategory", equals=["Data"]),
                    selector(field="resources.type", equals=["AWS::S3::Object"]),
                    selector(field="resources.ARN", starts_withs=[objects_prefix]),
                ],
            ),
        ]

    def _trail_bucket(self) -> aws.s3.BucketPolicy:
        """A private, versioned, KMS-encrypted bucket only this trail writes to."""
        args = self._args
        name = f"{self._name}-trail-bucket"
        self.trail_bucket = aws.s3.Bucket(
            name,
            aws.s3.BucketArgs(force_destroy=args["force_destroy"], tags=args["tags"]),
            pulumi.ResourceOptions(
                parent=self, protect=args["protect"], retain_on_delete=args["protect"]
            ),
        )
        bucket = self.trail_bucket.id
        public_access_block = harden_bucket(
            self,
            name,
            self.trail_bucket,
            aws.s3.BucketServerSideEncryptionConfigurationRuleArgs(
                apply_server_side_encryption_by_default=aws.s3.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(
                    sse_algorithm="aws:kms", kms_master_key_id=self.key.arn
                ),
                # No bucket key: CloudTrail encrypts each log file with the context
                # aws:cloudtrail:arn that the key policy requires; a bucket key would
                # ask KMS with the bucket's ARN instead. Trail volume is small.
                bucket_key_enabled=False,
                blocked_encryption_types=["SSE-C"],
            ),
            args["protect"],
        )
        kept = retained_child(self, args["protect"])
        aws.s3.BucketLifecycleConfiguration(
            f"{name}-lifecycle",
            aws.s3.BucketLifecycleConfigurationArgs(
                bucket=bucket,
                rules=[
                    aws.s3.BucketLifecycleConfigurationRuleArgs(
                        id="expire-replaced-versions-and-stale-uploads",
                        status="Enabled",
                        filter=aws.s3.BucketLifecycleConfigurationRuleFilterArgs(prefix=""),
                        noncurrent_version_expiration=aws.s3.BucketLifecycleConfigurationRuleNoncurrentVersionExpirationArgs(
                            noncurrent_days=NONCURRENT_TRAIL_LOG_DAYS
                        ),
                        abort_incomplete_multipart_upload=aws.s3.BucketLifecycleConfigurationRuleAbortIncompleteMultipartUploadArgs(
                            days_after_initiation=ABORT_MULTIPART_DAYS
                        ),
                    )
                ],
            ),
            kept,
        )
        self.log_statements = pulumi.Output.all(
            args["log_bucket_arn"], self.trail_bucket.arn, args["account_id"]
        ).apply(
            lambda a: [
                trail_access_log_statement(log_bucket_arn=a[0], trail_bucket_arn=a[1], account_id=a[2])
            ]
        )
        return aws.s3.BucketPolicy(
            f"{name}-policy",
            aws.s3.BucketPolicyArgs(
                bucket=bucket,
                policy=pulumi.Output.all(
                    self.trail_bucket.arn, self._trail_arn_known, args["account_id"]
                ).apply(
                    lambda a: json.dumps(
                        trail_bucket_policy(bucket_arn=a[0], trail_arn=a[1], account_id=a[2])
                    )
                ),
            ),
            retained_child(self, args["protect"], [public_access_block]),
        )

    def log_trail_bucket_access(self, after: Sequence[pulumi.Resource]) -> Optional[aws.s3.BucketLogging]:
        """Server access logging of the trail bucket into the log bucket, created once the log
        bucket's policy (``after``) grants S3 logging: S3 checks that when it is configured.
        Nothing without a trail. Call once, after the log bucket policy exists."""
        if self.trail_bucket is None:
            return None
        if self.trail_bucket_logging is not None:
            raise RuntimeError(f"{self._name}: trail bucket access logging already exists")
        args = self._args
        self.trail_bucket_logging = aws.s3.BucketLogging(
            f"{self._name}-trail-bucket-access-logging",
            aws.s3.BucketLoggingInitArgs(
                bucket=self.trail_bucket.id,
                target_bucket=args["log_bucket_id"],
                target_prefix=TRAIL_ACCESS_LOG_PREFIX,
            ),
            retained_child(self, args["protect"], list(after)),
        )
        return self.trail_bucket_logging

    def _trail_log_group(
        self, audit: AuditSettings
    ) -> tuple[aws.cloudwatch.LogGroup, aws.iam.Role, aws.iam.RolePolicy]:
        """A KMS-encrypted log group and the role CloudTrail assumes to write into it."""
        args = self._args
        child = pulumi.ResourceOptions(parent=self)
        group = aws.cloudwatch.LogGroup(
            f"{self._name}-trail-logs",
            aws.cloudwatch.LogGroupArgs(
                name=self._log_group_name,
                retention_in_days=audit.cloudtrail_log_retention_days,
                kms_key_id=self.key.arn,
                tags=args["tags"],
            ),
            child,
        )
        role = aws.iam.Role(
            f"{self._name}-trail-logs-role",
            aws.iam.RoleArgs(
                description="CloudTrail delivers the data-event trail to its log group",
                # No SourceArn/SourceAccount: AWS documents that CloudTrail sends neither here.
                assume_role_policy=json.dumps(trail_logs_role_trust()),
                tags=args["tags"],
            ),
            child,
        )
        role_policy = aws.iam.RolePolicy(
            f"{self._name}-trail-logs-role-policy",
            aws.iam.RolePolicyArgs(
                role=role.id,
                policy=self._log_group_arn_known.apply(
                    lambda arn: json.dumps(trail_logs_role_policy(log_group_arn=arn))
                ),
            ),
            child,
        )
        return group, role, role_policy
