"""``SecureBucket``: the private data bucket and the bucket that receives its access logs.

Both buckets get the same hardening (ACLs disabled, all four public-access flags, default
encryption, versioning); the data bucket adds SSE-KMS with our key and a bucket key,
lifecycle, CORS for browser uploads and server access logging. The log bucket uses SSE-S3
because S3 cannot deliver server access logs into an SSE-KMS bucket.

The bucket policies are created by ``attach_policies`` after the components that grant
access (CloudFront, tenant roles) exist, so that a grant can name the distribution's ARN
without a cycle. Each policy waits for its public access block: applied together, AWS
races them and answers 403/409.
"""

import json
from typing import TYPE_CHECKING, NotRequired, Optional, Sequence, TypedDict

import pulumi
import pulumi_aws as aws

from . import args_check
from .bucket_policies import (
    ACCESS_LOG_PREFIX,
    INVENTORY_ID,
    INVENTORY_PREFIX,
    data_bucket_policy,
    log_bucket_policy,
)
from .package import resource_type
from .policy_common import Statement
from .settings import LifecycleSettings

# No ``from __future__ import annotations`` here: the component provider infers the schema
# from the Args and output annotations at runtime and refuses string annotations.

TYPE_TOKEN = "securestore:storage:SecureBucket"

CORS_ALLOWED_METHODS = ("GET", "HEAD", "POST", "PUT")
CORS_ALLOWED_HEADERS = (
    "content-type",
    "content-md5",
    "content-disposition",
    "x-amz-server-side-encryption",
    "x-amz-server-side-encryption-aws-kms-key-id",
    "x-amz-sdk-checksum-algorithm",
    "x-amz-checksum-crc32",
    "x-amz-checksum-crc32c",
    "x-amz-checksum-sha256",
    "x-amz-meta-*",
)
"""Exactly what a pre-signed PUT signs; no ``*``, so a browser cannot add others."""
CORS_EXPOSE_HEADERS = ("ETag", "x-amz-version-id", "x-amz-checksum-crc32c", "x-amz-checksum-sha256")
"""The browser needs ETag to complete a multipart upload."""
CORS_MAX_AGE_SECONDS = 3000


def retained_child(
    parent: pulumi.Resource, protect: bool, depends_on: Optional[Sequence[pulumi.Resource]] = None
) -> pulumi.ResourceOptions:
    """Options of a child that configures a bucket or key: protected and retained with it."""
    return pulumi.ResourceOptions(
        parent=parent, protect=protect, retain_on_delete=protect, depends_on=list(depends_on or [])
    )


def harden_bucket(
    parent: pulumi.Resource,
    prefix: str,
    bucket: aws.s3.Bucket,
    encryption_rule: aws.s3.BucketServerSideEncryptionConfigurationRuleArgs,
    protect: bool = False,
) -> aws.s3.BucketPublicAccessBlock:
    """What every bucket of this stack gets: ACLs off, all four public-access flags,
    default encryption and versioning, as children of ``parent`` named ``<prefix>-<role>``.

    ``protect``: the bucket is protected and retained, so these are too; otherwise
    ``pulumi destroy --exclude-protected`` would delete them and leave the kept bucket
    without its public access block, with versioning suspended.
    Returns the public access block, which the bucket's policy must wait for.
    """
    child = retained_child(parent, protect)
    aws.s3.BucketOwnershipControls(
        f"{prefix}-ownership",
        aws.s3.BucketOwnershipControlsArgs(
            bucket=bucket.id,
            rule=aws.s3.BucketOwnershipControlsRuleArgs(object_ownership="BucketOwnerEnforced"),
        ),
        child,
    )
    public_access_block = aws.s3.BucketPublicAccessBlock(
        f"{prefix}-public-access",
        aws.s3.BucketPublicAccessBlockArgs(
            bucket=bucket.id,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
        ),
        child,
    )
    aws.s3.BucketServerSideEncryptionConfiguration(
        f"{prefix}-encryption",
        aws.s3.BucketServerSideEncryptionConfigurationInitArgs(
            bucket=bucket.id, rules=[encryption_rule]
        ),
        child,
    )
    aws.s3.BucketVersioning(
        f"{prefix}-versioning",
        aws.s3.BucketVersioningInitArgs(
            bucket=bucket.id,
            versioning_configuration=aws.s3.BucketVersioningVersioningConfigurationArgs(
                status="Enabled"
            ),
        ),
        child,
    )
    return public_access_block


class SecureBucketArgs(TypedDict):
    kms_key_arn: pulumi.Input[str]
    """The customer-managed key every data object is encrypted with."""
    sse_algorithm: str
    """``aws:kms`` (the settings refuse ``aws:kms:dsse``: the clients send ``aws:kms``)."""
    cors_allowed_origins: Sequence[str]
    """Exact browser origins allowed to upload with pre-signed URLs; empty: no CORS."""
    transition_to_ia_days: int
    """Days after creation an object moves to STANDARD_IA (at least 30)."""
    expire_after_days: int
    """Days after creation an object expires (0: never); more than transition_to_ia_days."""
    noncurrent_version_expire_days: int
    """Days a replaced or deleted object version is kept."""
    abort_incomplete_multipart_days: int
    """Days after which an unfinished multipart upload is aborted."""
    account_id: pulumi.Input[str]
    """Only this account's data bucket may write access logs into the log bucket."""
    log_retention_days: int
    """Days access logs are kept."""
    force_destroy: bool
    """Let ``pulumi destroy`` delete non-empty buckets (dev only)."""
    protect: bool
    """Protect and retain both buckets (prod)."""
    tags: pulumi.Input[dict[str, str]]
    """Tags of both buckets."""
    inventory_format: Optional[str]
    """Daily S3 Inventory of every object version into the log bucket under ``inventory/``
    (SSE-S3 encrypted): ``CSV`` or ``Parquet``; absent or empty: no inventory."""
    defer_policies: NotRequired[bool]
    """False (default): the bucket policies are created now, with this component's own statements. True: created later with grants to resources made after this component, by ``attach_policies()`` in Python or the StorePolicies component from any language (a bucket left without them fails the policy pack)."""


class SecureBucket(pulumi.ComponentResource):
    """A private, encrypted, versioned bucket with its access-log bucket."""

    if TYPE_CHECKING:  # child resources, for Python callers; not outputs of the package
        bucket: aws.s3.Bucket
        log_bucket: aws.s3.Bucket
        public_access_block: aws.s3.BucketPublicAccessBlock
        log_public_access_block: aws.s3.BucketPublicAccessBlock
        policy: Optional[aws.s3.BucketPolicy]
        log_policy: Optional[aws.s3.BucketPolicy]
    bucket_name: pulumi.Output[str]
    """Name of the data bucket."""
    bucket_arn: pulumi.Output[str]
    """ARN of the data bucket."""
    bucket_regional_domain_name: pulumi.Output[str]
    """Regional endpoint of the data bucket (CloudFront's origin)."""
    log_bucket_name: pulumi.Output[str]
    """Name of the access-log bucket."""
    log_bucket_arn: pulumi.Output[str]
    """ARN of the access-log bucket."""
    inventory_destination: pulumi.Output[str]
    """``s3://<log bucket>/inventory/<data bucket>/tenant-usage/``: where the daily inventory
    reports land (``securestore tenant usage --inventory``); empty without an inventory."""

    def __init__(
        self, name: str, args: SecureBucketArgs, opts: Optional[pulumi.ResourceOptions] = None
    ) -> None:
        lifecycle = self._check(name, args)
        self._inventory_format = args_check.check(
            "SecureBucket", name, args, {"inventory_format": "inventoryFormat"}, args_check.inventory_rule
        )
        super().__init__(resource_type(TYPE_TOKEN), name, None, opts)
        self._name = name
        self._args = args
        # Every child configures one of the two buckets, so each is kept with its bucket.
        keep = child = retained_child(self, args["protect"])

        self.log_bucket = aws.s3.Bucket(
            f"{name}-logs",
            aws.s3.BucketArgs(force_destroy=args["force_destroy"], tags=args["tags"]),
            keep,
        )
        self.log_public_access_block = harden_bucket(
            self,
            f"{name}-logs",
            self.log_bucket,
            aws.s3.BucketServerSideEncryptionConfigurationRuleArgs(
                apply_server_side_encryption_by_default=aws.s3.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(
                    sse_algorithm="AES256"
                ),
                blocked_encryption_types=["SSE-C"],
            ),
            args["protect"],
        )
        aws.s3.BucketLifecycleConfiguration(
            f"{name}-logs-lifecycle",
            aws.s3.BucketLifecycleConfigurationArgs(
                bucket=self.log_bucket.id,
                rules=[
                    aws.s3.BucketLifecycleConfigurationRuleArgs(
                        id="expire-access-logs",
                        status="Enabled",
                        filter=aws.s3.BucketLifecycleConfigurationRuleFilterArgs(prefix=""),
                        expiration=aws.s3.BucketLifecycleConfigurationRuleExpirationArgs(
                            days=args["log_retention_days"]
                        ),
                        # A log deleted or overwritten early is evidence too: its old version
                        # lives as long as a current log would (it was one day: a deleted log was
                        # gone the next day).
                        noncurrent_version_expiration=aws.s3.BucketLifecycleConfigurationRuleNoncurrentVersionExpirationArgs(
                            noncurrent_days=args["log_retention_days"]
                        ),
                        abort_incomplete_multipart_upload=aws.s3.BucketLifecycleConfigurationRuleAbortIncompleteMultipartUploadArgs(
                            days_after_initiation=1
                        ),
                    )
                ],
            ),
            child,
        )

        self.bucket = aws.s3.Bucket(
            f"{name}-data",
            aws.s3.BucketArgs(force_destroy=args["force_destroy"], tags=args["tags"]),
            keep,
        )
        self.public_access_block = harden_bucket(
            self,
            f"{name}-data",
            self.bucket,
            aws.s3.BucketServerSideEncryptionConfigurationRuleArgs(
                apply_server_side_encryption_by_default=aws.s3.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(
                    sse_algorithm=args["sse_algorithm"],
                    kms_master_key_id=args["kms_key_arn"],
                ),
                bucket_key_enabled=True,
                blocked_encryption_types=["SSE-C"],
            ),
            args["protect"],
        )
        aws.s3.BucketLifecycleConfiguration(
            f"{name}-data-lifecycle",
            aws.s3.BucketLifecycleConfigurationArgs(
                bucket=self.bucket.id, rules=self._lifecycle_rules(lifecycle)
            ),
            child,
        )
        if args["cors_allowed_origins"]:
            aws.s3.BucketCorsConfiguration(
                f"{name}-data-cors",
                aws.s3.BucketCorsConfigurationArgs(
                    bucket=self.bucket.id, cors_rules=[self._cors_rule(args["cors_allowed_origins"])]
                ),
                child,
            )
        self.policy = None
        self.log_policy = None
        self.bucket_name = self.bucket.bucket
        self.bucket_arn = self.bucket.arn
        self.bucket_regional_domain_name = self.bucket.bucket_regional_domain_name
        self.log_bucket_name = self.log_bucket.bucket
        self.log_bucket_arn = self.log_bucket.arn
        self.inventory_destination = (
            pulumi.Output.concat(
                "s3://", self.log_bucket.bucket, f"/{INVENTORY_PREFIX}/", self.bucket.bucket, f"/{INVENTORY_ID}/"
            )
            if self._inventory_format
            else pulumi.Output.from_input("")
        )
        self.register_outputs(
            {
                "bucket_name": self.bucket_name,
                "bucket_arn": self.bucket_arn,
                "bucket_regional_domain_name": self.bucket_regional_domain_name,
                "log_bucket_name": self.log_bucket_name,
                "log_bucket_arn": self.log_bucket_arn,
                "inventory_destination": self.inventory_destination,
            }
        )
        if not args.get("defer_policies", False):
            self.attach_policies()

    @staticmethod
    def _check(name: str, args: SecureBucketArgs) -> LifecycleSettings:
        """The storage rules of ``settings``, before anything is registered."""
        component = "SecureBucket"
        args_check.require(component, name, args, SecureBucketArgs)
        args_check.check(component, name, args, {"sse_algorithm": "sseAlgorithm"}, args_check.key_rules)
        args_check.check(
            component, name, args, {"cors_allowed_origins": "corsAllowedOrigins"}, args_check.cors_rules
        )
        args_check.check(
            component,
            name,
            args,
            {"log_retention_days": "logRetentionDays"},
            args_check.positive_days_rule("logRetentionDays", "days access logs are kept"),
        )
        return args_check.check(
            component,
            name,
            args,
            {
                "transition_to_ia_days": "transitionToIaDays",
                "expire_after_days": "expireAfterDays",
                "noncurrent_version_expire_days": "noncurrentVersionExpireDays",
                "abort_incomplete_multipart_days": "abortIncompleteMultipartDays",
            },
            args_check.lifecycle_rules,
        )

    @staticmethod
    def _lifecycle_rules(
        lifecycle: LifecycleSettings,
    ) -> list[aws.s3.BucketLifecycleConfigurationRuleArgs]:
        """Tiering and expiry of current objects; cleanup of old versions and stale uploads."""
        whole_bucket = aws.s3.BucketLifecycleConfigurationRuleFilterArgs(prefix="")
        expiration = (
            aws.s3.BucketLifecycleConfigurationRuleExpirationArgs(days=lifecycle.expire_after_days)
            if lifecycle.expire_after_days
            else None
        )
        return [
            aws.s3.BucketLifecycleConfigurationRuleArgs(
                id="tier-and-expire-objects",
                status="Enabled",
                filter=whole_bucket,
                transitions=[
                    aws.s3.BucketLifecycleConfigurationRuleTransitionArgs(
                        days=lifecycle.transition_to_ia_days, storage_class="STANDARD_IA"
                    )
                ],
                expiration=expiration,
            ),
            aws.s3.BucketLifecycleConfigurationRuleArgs(
                id="expire-noncurrent-versions",
                status="Enabled",
                filter=whole_bucket,
                noncurrent_version_expiration=aws.s3.BucketLifecycleConfigurationRuleNoncurrentVersionExpirationArgs(
                    noncurrent_days=lifecycle.noncurrent_version_expire_days
                ),
            ),
            aws.s3.BucketLifecycleConfigurationRuleArgs(
                # Once expiry and noncurrent expiry have removed every version of a key, its
                # delete marker stays forever unless a rule removes it (listings slow down).
                id="remove-expired-delete-markers",
                status="Enabled",
                filter=whole_bucket,
                expiration=aws.s3.BucketLifecycleConfigurationRuleExpirationArgs(
                    expired_object_delete_marker=True
                ),
            ),
            aws.s3.BucketLifecycleConfigurationRuleArgs(
                id="abort-incomplete-multipart-uploads",
                status="Enabled",
                filter=whole_bucket,
                abort_incomplete_multipart_upload=aws.s3.BucketLifecycleConfigurationRuleAbortIncompleteMultipartUploadArgs(
                    days_after_initiation=lifecycle.abort_incomplete_multipart_days
                ),
            ),
        ]

    @staticmethod
    def _cors_rule(origins: Sequence[str]) -> aws.s3.BucketCorsConfigurationCorsRuleArgs:
        return aws.s3.BucketCorsConfigurationCorsRuleArgs(
            id="browser-presigned-transfers",
            allowed_methods=list(CORS_ALLOWED_METHODS),
            allowed_origins=list(origins),
            allowed_headers=list(CORS_ALLOWED_HEADERS),
            expose_headers=list(CORS_EXPOSE_HEADERS),
            max_age_seconds=CORS_MAX_AGE_SECONDS,
        )

    def attach_policies(
        self,
        data_statements: pulumi.Input[Sequence[Statement]] = (),
        log_statements: pulumi.Input[Sequence[Statement]] = (),
    ) -> tuple[aws.s3.BucketPolicy, aws.s3.BucketPolicy]:
        """Create both bucket policies with the grants other components add. Call once."""
        if self.policy is not None:
            raise RuntimeError(
                f"{self._name}: the bucket policies are already attached (pass defer_policies=True "
                "to attach them later, with extra statements)"
            )
        args = self._args
        self.policy, self.log_policy = create_bucket_policies(
            self, self._name, bucket_id=self.bucket.id, bucket_arn=self.bucket.arn,
            log_bucket_id=self.log_bucket.id, log_bucket_arn=self.log_bucket.arn,
            kms_key_arn=args["kms_key_arn"], sse_algorithm=args["sse_algorithm"], account_id=args["account_id"],
            protect=args["protect"], data_statements=data_statements, log_statements=log_statements,
            data_after=[self.public_access_block], log_after=[self.log_public_access_block],
            inventory=bool(self._inventory_format),
        )
        if self._inventory_format:
            self._inventory(self._inventory_format)
        return self.policy, self.log_policy

    def _inventory(self, file_format: str) -> aws.s3.Inventory:
        """Daily report of every version (what ``securestore tenant usage`` reads instead of
        listing), SSE-S3 like everything in the log bucket; after the grant that admits it."""
        return aws.s3.Inventory(
            f"{self._name}-data-inventory",
            aws.s3.InventoryArgs(
                bucket=self.bucket.id,
                name=INVENTORY_ID,
                enabled=True,
                included_object_versions="All",
                schedule=aws.s3.InventoryScheduleArgs(frequency="Daily"),
                optional_fields=["Size", "LastModifiedDate", "StorageClass", "ObjectLockMode",
                                 "ObjectLockRetainUntilDate", "ObjectLockLegalHoldStatus"],
                destination=aws.s3.InventoryDestinationArgs(
                    bucket=aws.s3.InventoryDestinationBucketArgs(
                        bucket_arn=self.log_bucket.arn,
                        account_id=self._args["account_id"],
                        format=file_format,
                        prefix=INVENTORY_PREFIX,
                        encryption=aws.s3.InventoryDestinationBucketEncryptionArgs(
                            sse_s3=aws.s3.InventoryDestinationBucketEncryptionSseS3Args()
                        ),
                    )
                ),
            ),
            retained_child(self, self._args["protect"], [self.log_policy]),
        )

def create_bucket_policies(
    owner: pulumi.Resource,
    name: str,
    *,
    bucket_id: pulumi.Input[str],
    bucket_arn: pulumi.Input[str],
    log_bucket_id: pulumi.Input[str],
    log_bucket_arn: pulumi.Input[str],
    kms_key_arn: pulumi.Input[str],
    sse_algorithm: str,
    account_id: pulumi.Input[str],
    protect: bool,
    data_statements: pulumi.Input[Sequence[Statement]] = (),
    log_statements: pulumi.Input[Sequence[Statement]] = (),
    data_after: Sequence[pulumi.Resource] = (),
    log_after: Sequence[pulumi.Resource] = (),
    inventory: bool = False,
) -> tuple[aws.s3.BucketPolicy, aws.s3.BucketPolicy]:
    """The data and log bucket policies (``<name>-data-policy``, ``<name>-logs-policy``) and the
    access logging that needs the log policy first, as children of ``owner``: what
    ``SecureBucket.attach_policies`` creates, and what the ``StorePolicies`` wiring component
    creates for a program in another language (``components/wiring.py``)."""
    data_document = pulumi.Output.all(bucket_arn, kms_key_arn, data_statements).apply(
        lambda resolved: json.dumps(
            data_bucket_policy(
                bucket_arn=resolved[0],
                kms_key_arn=resolved[1],
                sse_algorithm=sse_algorithm,
                extra_statements=resolved[2],
            )
        )
    )
    log_document = pulumi.Output.all(log_bucket_arn, bucket_arn, account_id, log_statements).apply(
        lambda resolved: json.dumps(
            log_bucket_policy(
                log_bucket_arn=resolved[0],
                source_bucket_arn=resolved[1],
                account_id=resolved[2],
                extra_statements=resolved[3],
                inventory=inventory,
            )
        )
    )
    policy = aws.s3.BucketPolicy(
        f"{name}-data-policy",
        aws.s3.BucketPolicyArgs(bucket=bucket_id, policy=data_document),
        retained_child(owner, protect, list(data_after)),
    )
    log_policy = aws.s3.BucketPolicy(
        f"{name}-logs-policy",
        aws.s3.BucketPolicyArgs(bucket=log_bucket_id, policy=log_document),
        retained_child(owner, protect, list(log_after)),
    )
    # S3 checks at configuration time that it may deliver logs: after our grant exists.
    aws.s3.BucketLogging(
        f"{name}-data-access-logging",
        aws.s3.BucketLoggingInitArgs(
            bucket=bucket_id,
            target_bucket=log_bucket_id,
            target_prefix=ACCESS_LOG_PREFIX,
            target_object_key_format=aws.s3.BucketLoggingTargetObjectKeyFormatArgs(
                partitioned_prefix=aws.s3.BucketLoggingTargetObjectKeyFormatPartitionedPrefixArgs(
                    partition_date_source="EventTime"
                )
            ),
        ),
        retained_child(owner, protect, [*log_after, log_policy]),
    )
    return policy, log_policy
