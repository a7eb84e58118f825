"""securestore: the stack. Reads settings once, composes the components, exports outputs.

Order matters only where a policy names a resource created later: the key policy and the
bucket policies are attached last (``defer_policies``), once every principal they grant to exists.
"""

import pulumi
import pulumi_aws as aws

from components import settings as stack_settings
from components.access import AccessRoles, AccessRolesArgs
from components.audit import AuditTrail, AuditTrailArgs
from components.edge import EdgeDelivery, EdgeDeliveryArgs
from components.encryption import EncryptionKey, EncryptionKeyArgs
from components.malware_scan import MalwareScan, MalwareScanArgs, alert_rule_name
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
        defer_policies=True,
    ),
)

storage = SecureBucket(
    f"{prefix}-storage",
    SecureBucketArgs(
        kms_key_arn=key.key_arn,
        sse_algorithm=settings.key.sse_algorithm,
        cors_allowed_origins=settings.storage.cors_allowed_origins,
        transition_to_ia_days=settings.storage.lifecycle.transition_to_ia_days,
        expire_after_days=settings.storage.lifecycle.expire_after_days,
        noncurrent_version_expire_days=settings.storage.lifecycle.noncurrent_version_expire_days,
        abort_incomplete_multipart_days=settings.storage.lifecycle.abort_incomplete_multipart_days,
        account_id=account_id,
        log_retention_days=settings.storage.log_retention_days,
        inventory_format=settings.storage.inventory_format,
        force_destroy=settings.storage.force_destroy,
        protect=settings.protect,
        tags=settings.tags,
        defer_policies=True,
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
        tenant_broker_arns=settings.access.tenant_broker_arns,
        permissions_boundary_arn=settings.access.permissions_boundary_arn,
        max_session_duration_seconds=settings.access.max_session_duration_seconds,
        offboarding_trusted_arns=settings.access.offboarding_trusted_arns,
        log_bucket_arn=storage.log_bucket_arn,
        tags=settings.tags,
    ),
)

edge = EdgeDelivery(
    f"{prefix}-edge",
    EdgeDeliveryArgs(
        bucket_arn=storage.bucket_arn,
        bucket_regional_domain_name=storage.bucket_regional_domain_name,
        log_bucket_arn=storage.log_bucket_arn,
        account_id=account_id,
        partition=partition,
        public_key_pem=settings.edge.public_key_pem,
        price_class=settings.edge.price_class,
        geo_restriction_type=settings.edge.geo_restriction_type,
        geo_restriction_locations=settings.edge.geo_restriction_locations,
        custom_domain=settings.edge.custom_domain,
        acm_certificate_arn=settings.edge.acm_certificate_arn,
        waf_enabled=settings.edge.waf_enabled,
        waf_rate_limit=settings.edge.waf_rate_limit,
        ipv6_enabled=settings.edge.ipv6_enabled,
        inline_content_types=list(settings.edge.inline_content_types),
        tags=settings.tags,
    ),
)

scan_name = f"{prefix}-scan"
scan_settings = settings.malware_scan
audit = AuditTrail(
    f"{prefix}-audit",
    AuditTrailArgs(
        bucket_id=storage.bucket_name,
        bucket_arn=storage.bucket_arn,
        log_bucket_id=storage.log_bucket_name,
        log_bucket_arn=storage.log_bucket_arn,
        account_id=account_id,
        region=region,
        partition=partition,
        cloudtrail_enabled=settings.audit.cloudtrail_enabled,
        cloudtrail_cloudwatch_logs=settings.audit.cloudtrail_cloudwatch_logs,
        cloudtrail_log_retention_days=settings.audit.cloudtrail_log_retention_days,
        notification_email=settings.audit.notification_email,
        admin_arns=settings.key.admin_arns,
        key_deletion_window_days=settings.key.deletion_window_days,
        force_destroy=settings.storage.force_destroy,
        protect=settings.protect,
        tags=settings.tags,
        alert_rule_names=[alert_rule_name(scan_name)] if scan_settings.enabled else [],
        workload_role_arns=access.workload_role_arns(),
    ),
)

scan = None
if scan_settings.enabled:
    scan = MalwareScan(
        scan_name,
        MalwareScanArgs(
            bucket_name=storage.bucket_name,
            bucket_arn=storage.bucket_arn,
            kms_key_arn=key.key_arn,
            account_id=account_id,
            region=region,
            partition=partition,
            object_prefixes=scan_settings.object_prefixes,
            topic_arn=audit.topic_arn,
            reviewer_role_arn=scan_settings.reviewer_role_arn,
            ungated_reader_arns=[] if scan_settings.gate_backends else [access.lambda_role_arn, access.ec2_role_arn],
            permissions_boundary_arn=settings.access.permissions_boundary_arn,
            tags=settings.tags,
        ),
    )


def combined(*groups: pulumi.Input[list]) -> pulumi.Output[list]:
    """Statement lists several components add to one policy, concatenated in order."""
    return pulumi.Output.all(*groups).apply(
        lambda resolved: [statement for group in resolved for statement in group]
    )


data_bucket_statements = combined(
    access.bucket_policy_statements(),
    edge.data_statements,
    scan.bucket_policy_statements() if scan else [],
)
"""Grants and denies other components add to the data bucket's policy, combined."""

_, log_bucket_policy = storage.attach_policies(
    data_statements=data_bucket_statements,
    log_statements=combined(edge.log_statements, audit.log_statements),
)
key.attach_policy(
    extra_statements=combined(edge.key_statements, access.key_statements()),
    bucket_arn=storage.bucket_arn,
)
edge.deliver_access_logs(after=[log_bucket_policy])
audit.log_trail_bucket_access(after=[log_bucket_policy])

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
pulumi.export("offboardingRoleArn", access.offboarding_role_arn)
pulumi.export("inventoryDestination", storage.inventory_destination)
pulumi.export("distributionId", edge.distribution_id)
pulumi.export("distributionDomainName", edge.domain_name)
pulumi.export("cloudfrontKeyGroupId", edge.key_group_id)
pulumi.export("cloudfrontPublicKeyId", edge.public_key_id)
pulumi.export("uploadTopicArn", audit.topic_arn)
pulumi.export("auditTrailArn", audit.trail_arn)
pulumi.export("malwareScanPlanArn", scan.plan_arn if scan else None)
pulumi.export("malwareScannerRoleArn", scan.scanner_role_arn if scan else None)
