"""securestore: the stack. Reads settings once, composes the components, exports outputs.

Order matters only where a policy names a resource created later: the key policy and the
bucket policies are attached last, once every principal they grant to exists.
"""

import pulumi
import pulumi_aws as aws

from components import settings as stack_settings
from components.encryption import EncryptionKey, EncryptionKeyArgs
from components.storage import SecureBucket, SecureBucketArgs

settings = stack_settings.load()
prefix = settings.resource_prefix

account_id = aws.get_caller_identity_output().account_id
region = aws.get_region_output().region
partition = aws.get_partition_output().partition

key = EncryptionKey(
    f"{prefix}-key",
    EncryptionKeyArgs(
        alias_name=f"alias/{prefix}",
        description=f"{prefix}: encrypts tenant files in the data bucket",
        deletion_window_in_days=settings.key.deletion_window_days,
        admin_arns=settings.key.admin_arns,
        account_id=account_id,
        region=region,
        partition=partition,
        protect=settings.protect,
        tags=settings.tags,
    ),
)

storage = SecureBucket(
    f"{prefix}-storage",
    SecureBucketArgs(
        kms_key_arn=key.key_arn,
        sse_algorithm=settings.key.sse_algorithm,
        cors_allowed_origins=settings.storage.cors_allowed_origins,
        lifecycle=settings.storage.lifecycle,
        account_id=account_id,
        log_retention_days=settings.storage.log_retention_days,
        force_destroy=settings.storage.force_destroy,
        protect=settings.protect,
        tags=settings.tags,
    ),
)

storage.attach_policies()
key.attach_policy()

pulumi.export("environment", settings.environment)
pulumi.export("bucketName", storage.bucket_name)
pulumi.export("bucketArn", storage.bucket_arn)
pulumi.export("bucketRegionalDomainName", storage.bucket_regional_domain_name)
pulumi.export("logBucketName", storage.log_bucket_name)
pulumi.export("kmsKeyArn", key.key_arn)
pulumi.export("kmsKeyId", key.key_id)
pulumi.export("kmsAliasName", key.alias_name)
