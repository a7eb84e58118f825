"""securestore: the stack. Reads settings once, composes the components, exports outputs.

Order matters only where a policy names a resource created later: the key policy and the
bucket policies are attached last, once every principal they grant to exists.
"""

import pulumi
import pulumi_aws as aws

from components import settings as stack_settings
from components.access import AccessRoles, AccessRolesArgs
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

access = AccessRoles(
    f"{prefix}-access",
    AccessRolesArgs(
        bucket_arn=storage.bucket_arn,
        kms_key_arn=key.key_arn,
        account_id=account_id,
        region=region,
        partition=partition,
        ec2_access_mode=settings.access.ec2_access_mode,
        uploader_trusted_arns=settings.access.uploader_trusted_arns,
        uploader_external_id=settings.access.uploader_external_id,
        uploader_require_mfa=settings.access.uploader_require_mfa,
        permissions_boundary_arn=settings.access.permissions_boundary_arn,
        max_session_duration_seconds=settings.access.max_session_duration_seconds,
        tags=settings.tags,
    ),
)

data_bucket_statements = pulumi.Output.all(access.bucket_policy_statements()).apply(
    lambda groups: [statement for group in groups for statement in group]
)
"""Grants and denies other components add to the data bucket's policy, combined."""

storage.attach_policies(data_statements=data_bucket_statements)
key.attach_policy()

pulumi.export("environment", settings.environment)
pulumi.export("bucketName", storage.bucket_name)
pulumi.export("bucketArn", storage.bucket_arn)
pulumi.export("bucketRegionalDomainName", storage.bucket_regional_domain_name)
pulumi.export("logBucketName", storage.log_bucket_name)
pulumi.export("kmsKeyArn", key.key_arn)
pulumi.export("kmsKeyId", key.key_id)
pulumi.export("kmsAliasName", key.alias_name)
pulumi.export("lambdaRoleArn", access.lambda_role_arn)
pulumi.export("ec2RoleArn", access.ec2_role_arn)
pulumi.export("ec2InstanceProfileName", access.ec2_instance_profile_name)
pulumi.export("uploaderRoleArn", access.uploader_role_arn)
pulumi.export("tenantRoleArn", access.tenant_role_arn)
pulumi.export("leastPrivilegePolicyArn", access.least_privilege_policy_arn)
