"""The securestore stack written as an AWS CDK (Python) app: the reference side of the benches.

``bench/preview.py`` times ``cdk synth`` of this app against ``securestore preview``, and
``bench/cdk/test_secure_bucket_cdk.py`` (the promises of ``tests/test_secure_bucket.py``,
checked with ``Template.from_stack``) against our graph-test file. It is written the way a
CDK engineer would write it: L2 constructs where they exist (``s3.Bucket``, ``kms.Key``,
``cloudfront.Distribution`` with Origin Access Control, ``cloudtrail.Trail``, ``sns.Topic``),
L1 where they do not (roles with exact trust documents, the WAF web ACL, CloudFront log
delivery). Settings come from the same ``Pulumi.<stack>.yaml`` through the same
``components.settings.parse``, and the bucket, key and role documents from the same pure
builders, so both sides describe one stack.

Known differences (all make CDK's job smaller or equal, never larger):
* One stack per app run (``-c stack=prod``), in the stack's region; the us-east-1 pieces
  (WAF web ACL, log delivery) stay in it instead of a cross-region stack CDK would need
  for a deploy.
* The data key's CloudFront grant is CDK's own (any distribution of the account: CDK cannot
  name the distribution in the key policy without a cycle; we attach the key policy last).
* CDK's bucket notifications and ``autoDeleteObjects`` (dev) are custom resources.

Run: ``.venv-cdk/bin/python bench/cdk/app.py`` via ``cdk synth`` (see bench/README.md).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

import yaml  # noqa: E402
from aws_cdk import (  # noqa: E402
    App,
    Duration,
    Environment,
    RemovalPolicy,
    Stack,
    Tags,
)
from aws_cdk import aws_cloudfront as cloudfront  # noqa: E402
from aws_cdk import aws_cloudfront_origins as origins  # noqa: E402
from aws_cdk import aws_cloudtrail as cloudtrail  # noqa: E402
from aws_cdk import aws_iam as iam  # noqa: E402
from aws_cdk import aws_kms as kms  # noqa: E402
from aws_cdk import aws_logs as logs  # noqa: E402
from aws_cdk import aws_s3 as s3  # noqa: E402
from aws_cdk import aws_s3_notifications as s3n  # noqa: E402
from aws_cdk import aws_sns as sns  # noqa: E402
from aws_cdk import aws_wafv2 as wafv2  # noqa: E402
from constructs import Construct  # noqa: E402

from components import role_policies  # noqa: E402
from components.audit_policies import (  # noqa: E402
    audit_key_policy,
    log_group_arn,
    topic_arn,
    trail_arn,
)
from components.bucket_policies import (  # noqa: E402
    ACCESS_LOG_PREFIX,
    data_bucket_policy,
    log_bucket_policy,
)
from components.key_policies import key_policy  # noqa: E402
from components.settings import StackSettings, parse  # noqa: E402

ACCOUNT_ID = "123456789012"
"""The account our offline mocks answer with; an explicit env makes ARNs plain strings."""
PROJECT = "securestore"
FEATURE_FLAGS = {
    # What `cdk init` writes into a new app's cdk.json: server access logs through a bucket
    # policy, so that the log bucket keeps ACLs disabled (as ours does).
    "@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy": True,
}
WAF_MANAGED_RULE_GROUPS = (
    "AWSManagedRulesAmazonIpReputationList",
    "AWSManagedRulesCommonRuleSet",
    "AWSManagedRulesKnownBadInputsRuleSet",
)


def load_settings(stack: str, overrides: dict | None = None) -> tuple[StackSettings, str]:
    """The stack's settings (parsed as ``__main__.py`` does) and its region."""
    project = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())
    stack_file = yaml.safe_load((ROOT / f"Pulumi.{stack}.yaml").read_text())["config"]
    raw = {k: v.get("default") for k, v in project["config"].items() if "default" in v}
    raw.update({k.split(":", 1)[1]: v for k, v in stack_file.items() if k.startswith(f"{PROJECT}:")})
    raw.update(overrides or {})
    return parse(raw, project=PROJECT, stack=stack), stack_file["aws:region"]


def statements(document: dict) -> list[iam.PolicyStatement]:
    return [iam.PolicyStatement.from_json(s) for s in document["Statement"]]


def blocked_sse_c(bucket: s3.Bucket) -> None:
    """CFN's BlockedEncryptionTypes has no L2 property yet."""
    bucket.node.default_child.add_property_override(
        "BucketEncryption.ServerSideEncryptionConfiguration.0.BlockedEncryptionTypes",
        {"EncryptionType": ["SSE-C"]},
    )


class SecureStoreStack(Stack):
    def __init__(self, scope: Construct, cfg: StackSettings, region: str) -> None:
        super().__init__(
            scope, cfg.resource_prefix, env=Environment(account=ACCOUNT_ID, region=region)
        )
        prefix = cfg.resource_prefix
        keep = RemovalPolicy.RETAIN if cfg.protect else RemovalPolicy.DESTROY
        for k, v in cfg.tags.items():
            Tags.of(self).add(k, v)

        # --- EncryptionKey -----------------------------------------------------------
        scope = Construct(self, "key")  # one construct per concern, like our components
        data_key = kms.Key(
            scope,
            "key",
            description=f"{prefix}: encrypts tenant files in the data bucket",
            enable_key_rotation=True,
            pending_window=Duration.days(cfg.key.deletion_window_days),
            alias=f"alias/{prefix}",
            removal_policy=keep,
            policy=iam.PolicyDocument.from_json(
                key_policy(account_id=ACCOUNT_ID, region=region, admin_arns=cfg.key.admin_arns)
            ),
        )

        # --- SecureBucket ------------------------------------------------------------
        scope = Construct(self, "storage")  # one construct per concern, like our components
        storage = cfg.storage
        lifecycle = storage.lifecycle
        log_bucket = s3.Bucket(
            scope,
            "logs",
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            encryption=s3.BucketEncryption.S3_MANAGED,
            versioned=True,
            removal_policy=keep,
            auto_delete_objects=storage.force_destroy,
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="expire-access-logs",
                    expiration=Duration.days(storage.log_retention_days),
                    noncurrent_version_expiration=Duration.days(1),
                    abort_incomplete_multipart_upload_after=Duration.days(1),
                )
            ],
        )
        blocked_sse_c(log_bucket)
        bucket = s3.Bucket(
            scope,
            "data",
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            encryption=(
                s3.BucketEncryption.DSSE
                if cfg.key.sse_algorithm == "aws:kms:dsse"
                else s3.BucketEncryption.KMS
            ),
            encryption_key=data_key,
            bucket_key_enabled=True,
            versioned=True,
            removal_policy=keep,
            auto_delete_objects=storage.force_destroy,
            server_access_logs_bucket=log_bucket,
            server_access_logs_prefix=ACCESS_LOG_PREFIX,
            target_object_key_format=s3.TargetObjectKeyFormat.partitioned_prefix(
                s3.PartitionDateSource.EVENT_TIME
            ),
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="tier-and-expire-objects",
                    transitions=[
                        s3.Transition(
                            storage_class=s3.StorageClass.INFREQUENT_ACCESS,
                            transition_after=Duration.days(lifecycle.transition_to_ia_days),
                        )
                    ],
                    expiration=(
                        Duration.days(lifecycle.expire_after_days)
                        if lifecycle.expire_after_days
                        else None
                    ),
                ),
                s3.LifecycleRule(
                    id="expire-noncurrent-versions",
                    noncurrent_version_expiration=Duration.days(
                        lifecycle.noncurrent_version_expire_days
                    ),
                ),
                s3.LifecycleRule(
                    id="abort-incomplete-multipart-uploads",
                    abort_incomplete_multipart_upload_after=Duration.days(
                        lifecycle.abort_incomplete_multipart_days
                    ),
                ),
            ],
            cors=(
                [
                    s3.CorsRule(
                        id="browser-presigned-transfers",
                        allowed_methods=[
                            s3.HttpMethods.GET,
                            s3.HttpMethods.HEAD,
                            s3.HttpMethods.POST,
                            s3.HttpMethods.PUT,
                        ],
                        allowed_origins=list(storage.cors_allowed_origins),
                        allowed_headers=[
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
                        ],
                        exposed_headers=[
                            "ETag",
                            "x-amz-version-id",
                            "x-amz-checksum-crc32c",
                            "x-amz-checksum-sha256",
                        ],
                        max_age=3000,
                    )
                ]
                if storage.cors_allowed_origins
                else None
            ),
        )
        blocked_sse_c(bucket)
        for s in statements(
            data_bucket_policy(
                bucket_arn=bucket.bucket_arn,
                kms_key_arn=data_key.key_arn,
                sse_algorithm=cfg.key.sse_algorithm,
                extra_statements=role_policies.tenant_isolation_statements(bucket.bucket_arn),
            )
        ):
            bucket.add_to_resource_policy(s)
        for s in statements(
            log_bucket_policy(
                log_bucket_arn=log_bucket.bucket_arn,
                source_bucket_arn=bucket.bucket_arn,
                account_id=ACCOUNT_ID,
            )
        ):
            log_bucket.add_to_resource_policy(s)

        # --- AccessRoles -------------------------------------------------------------
        scope = Construct(self, "access")  # one construct per concern, like our components
        access = cfg.access
        region_ = region

        def role_arn(name: str) -> str:
            """Named roles: the builders check principal ARNs, which a token is not."""
            return f"arn:aws:iam::{ACCOUNT_ID}:role/{prefix}-access-{name}"

        def role(name: str, trust: dict, description: str) -> iam.CfnRole:
            return iam.CfnRole(
                scope,
                f"{name}-role",
                role_name=f"{prefix}-access-{name}",
                assume_role_policy_document=trust,
                description=description,
                max_session_duration=access.max_session_duration_seconds,
                permissions_boundary=access.permissions_boundary_arn or None,
            )

        lambda_role = role(
            "lambda",
            role_policies.service_trust_policy("lambda.amazonaws.com", ACCOUNT_ID),
            "Backend functions: read/write/delete tenant files in the data bucket",
        )
        lambda_role.managed_policy_arns = [
            role_policies.aws_managed_policy_arn(role_policies.LAMBDA_BASIC_EXECUTION_POLICY)
        ]
        ec2_role = role(
            "ec2",
            role_policies.service_trust_policy("ec2.amazonaws.com"),
            f"Application servers: {access.ec2_access_mode} access to the data bucket",
        )
        iam.CfnInstanceProfile(scope, "ec2-profile", roles=[ec2_role.ref])
        uploader_role = role(
            "uploader",
            role_policies.uploader_trust_policy(
                list(access.uploader_trusted_arns) or [f"arn:aws:iam::{ACCOUNT_ID}:root"],
                access.uploader_external_id,
                access.uploader_require_mfa,
            ),
            "Uploader (STS, external id, tenant_id session tag): uploads under its tenant prefix",
        )
        backends = [role_arn("lambda")]
        if access.ec2_access_mode == "read-write":
            backends.append(role_arn("ec2"))
        tenant_role = role(
            "tenant",
            role_policies.tenant_role_trust_policy(backends),
            "Tenant-scoped access (ABAC): only ${aws:PrincipalTag/tenant_id}/ in the data bucket",
        )
        where = dict(bucket_arn=bucket.bucket_arn, kms_key_arn=data_key.key_arn, region=region_)
        for name, role_, document in (
            ("lambda-data-access", lambda_role,
             role_policies.lambda_policy(**where, tenant_role_arn=tenant_role.attr_arn)),
            ("ec2-data-access", ec2_role,
             role_policies.ec2_policy(mode=access.ec2_access_mode, **where,
                                      tenant_role_arn=tenant_role.attr_arn)),
            ("uploader-tenant-uploads", uploader_role, role_policies.uploader_policy(**where)),
            ("tenant-prefix-access", tenant_role, role_policies.tenant_policy(**where)),
        ):
            iam.CfnRolePolicy(
                scope, name, role_name=role_.ref, policy_name=name, policy_document=document
            )
        iam.CfnManagedPolicy(
            scope,
            "least-privilege",
            description="Least-privilege access to the data bucket and its key (through S3 only)",
            policy_document=role_policies.least_privilege_policy(**where),
        )

        # --- EdgeDelivery ------------------------------------------------------------
        scope = Construct(self, "edge")  # one construct per concern, like our components
        edge = cfg.edge
        headers = cloudfront.ResponseHeadersPolicy(
            scope,
            "security-headers",
            response_headers_policy_name=f"{prefix}-edge-security-headers",
            comment="Security headers for private and public files",
            security_headers_behavior=cloudfront.ResponseSecurityHeadersBehavior(
                strict_transport_security=cloudfront.ResponseHeadersStrictTransportSecurity(
                    access_control_max_age=Duration.seconds(2 * 365 * 24 * 3600),
                    include_subdomains=True,
                    preload=False,
                    override=True,
                ),
                content_type_options=cloudfront.ResponseHeadersContentTypeOptions(override=True),
                frame_options=cloudfront.ResponseHeadersFrameOptions(
                    frame_option=cloudfront.HeadersFrameOption.DENY, override=True
                ),
                referrer_policy=cloudfront.ResponseHeadersReferrerPolicy(
                    referrer_policy=cloudfront.HeadersReferrerPolicy.NO_REFERRER, override=True
                ),
            ),
        )
        guard_js = (ROOT / "components" / "edge_functions" / "viewer_request.js").read_text()
        guard = cloudfront.Function(
            scope,
            "viewer-guard",
            runtime=cloudfront.FunctionRuntime.JS_2_0,
            comment="Refuses URIs CloudFront would normalize onto another path (dot segments, //, %2f)",
            code=cloudfront.FunctionCode.from_inline(guard_js),
        )
        key_groups = None
        default_function = guard
        if edge.public_key_pem:
            public_key = cloudfront.PublicKey(
                scope,
                "signer-key",
                encoded_key=edge.public_key_pem,
                comment="Verifies signed URLs and cookies for private files",
            )
            key_groups = [
                cloudfront.KeyGroup(
                    scope,
                    "signers",
                    key_group_name=f"{prefix}-edge-signers",
                    items=[public_key],
                    comment="Signers trusted for private (non-public/) paths",
                )
            ]
        else:
            default_function = cloudfront.Function(
                scope,
                "deny-unsigned",
                runtime=cloudfront.FunctionRuntime.JS_2_0,
                comment="No signer public key configured: private paths answer 403 (after the viewer guard)",
                code=cloudfront.FunctionCode.from_inline(
                    guard_js.replace("var DENY_UNSIGNED = false;", "var DENY_UNSIGNED = true;", 1)
                ),
            )

        def on_viewer_request(function: cloudfront.Function) -> list:
            return [cloudfront.FunctionAssociation(
                function=function, event_type=cloudfront.FunctionEventType.VIEWER_REQUEST
            )]

        web_acl = None
        if edge.waf_enabled:
            metric = f"{prefix}-edge"

            def visibility(name: str) -> wafv2.CfnWebACL.VisibilityConfigProperty:
                return wafv2.CfnWebACL.VisibilityConfigProperty(
                    cloud_watch_metrics_enabled=True, metric_name=name, sampled_requests_enabled=True
                )

            rules = [
                wafv2.CfnWebACL.RuleProperty(
                    name="rate-limit-per-ip",
                    priority=0,
                    action=wafv2.CfnWebACL.RuleActionProperty(block={}),
                    statement=wafv2.CfnWebACL.StatementProperty(
                        rate_based_statement=wafv2.CfnWebACL.RateBasedStatementProperty(
                            limit=edge.waf_rate_limit, aggregate_key_type="IP"
                        )
                    ),
                    visibility_config=visibility(f"{metric}-rate-limit-per-ip"),
                )
            ]
            for priority, group in enumerate(WAF_MANAGED_RULE_GROUPS, start=1):
                rules.append(
                    wafv2.CfnWebACL.RuleProperty(
                        name=group,
                        priority=priority,
                        override_action=wafv2.CfnWebACL.OverrideActionProperty(none={}),
                        statement=wafv2.CfnWebACL.StatementProperty(
                            managed_rule_group_statement=wafv2.CfnWebACL.ManagedRuleGroupStatementProperty(
                                vendor_name="AWS", name=group
                            )
                        ),
                        visibility_config=visibility(f"{metric}-{group}"),
                    )
                )
            web_acl = wafv2.CfnWebACL(
                scope,
                "waf",
                scope="CLOUDFRONT",
                description="Managed protections and a per-IP rate limit for the file CDN",
                default_action=wafv2.CfnWebACL.DefaultActionProperty(allow={}),
                rules=rules,
                visibility_config=visibility(f"{metric}-waf"),
            )
        origin = origins.S3BucketOrigin.with_origin_access_control(bucket)
        behaviour = dict(
            origin=origin,
            viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
            allowed_methods=cloudfront.AllowedMethods.ALLOW_GET_HEAD,
            cached_methods=cloudfront.CachedMethods.CACHE_GET_HEAD,
            compress=True,
            cache_policy=cloudfront.CachePolicy.CACHING_OPTIMIZED,
            origin_request_policy=cloudfront.OriginRequestPolicy.CORS_S3_ORIGIN,
            response_headers_policy=headers,
        )
        distribution = cloudfront.Distribution(
            scope,
            "distribution",
            comment=f"{prefix}-edge: private files signed, public/* unsigned",
            enable_ipv6=True,
            http_version=cloudfront.HttpVersion.HTTP2_AND_3,
            price_class=cloudfront.PriceClass[
                edge.price_class.upper().replace("PRICECLASS_", "PRICE_CLASS_")
            ],
            geo_restriction=(
                cloudfront.GeoRestriction.allowlist(*edge.geo_restriction_locations)
                if edge.geo_restriction_type == "whitelist"
                else cloudfront.GeoRestriction.denylist(*edge.geo_restriction_locations)
                if edge.geo_restriction_type == "blacklist"
                else None
            ),
            web_acl_id=web_acl.attr_arn if web_acl else None,
            default_behavior=cloudfront.BehaviorOptions(
                **behaviour,
                trusted_key_groups=key_groups,
                function_associations=on_viewer_request(default_function),
            ),
            additional_behaviors={
                "public/*": cloudfront.BehaviorOptions(
                    **behaviour, function_associations=on_viewer_request(guard)
                )
            },
        )
        source_name = f"{prefix}-edge-access-logs"
        source = logs.CfnDeliverySource(
            scope,
            "log-source",
            name=source_name,
            log_type="ACCESS_LOGS",
            resource_arn=distribution.distribution_arn,
        )
        destination = logs.CfnDeliveryDestination(
            scope,
            "log-destination",
            name=f"{prefix}-edge-log-bucket",
            output_format="json",
            destination_resource_arn=f"{log_bucket.bucket_arn}/cloudfront",
        )
        delivery = logs.CfnDelivery(
            scope,
            "log-delivery",
            delivery_source_name=source.ref,
            delivery_destination_arn=destination.attr_arn,
        )
        log_bucket.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowCloudFrontLogDelivery",
                principals=[iam.ServicePrincipal("delivery.logs.amazonaws.com")],
                actions=["s3:PutObject"],
                resources=[f"{log_bucket.bucket_arn}/cloudfront/*"],
                conditions={
                    "StringEquals": {"aws:SourceAccount": ACCOUNT_ID},
                    "ArnLike": {
                        "aws:SourceArn": f"arn:aws:logs:us-east-1:{ACCOUNT_ID}:delivery-source:{source_name}"
                    },
                },
            )
        )
        delivery.node.add_dependency(log_bucket.policy)

        # --- AuditTrail --------------------------------------------------------------
        scope = Construct(self, "audit")  # one construct per concern, like our components
        audit = cfg.audit
        name = f"{prefix}-audit"
        topic_name = f"{name}-object-created"
        trail_name = f"{name}-data-events" if audit.cloudtrail_enabled else None
        group_name = (
            f"/aws/cloudtrail/{name}"
            if audit.cloudtrail_enabled and audit.cloudtrail_cloudwatch_logs
            else None
        )
        audit_key = kms.Key(
            scope,
            "audit-key",
            description=f"{name}: encrypts upload notifications and the audit trail",
            enable_key_rotation=True,
            pending_window=Duration.days(cfg.key.deletion_window_days),
            alias=f"alias/{name}",
            removal_policy=keep,
            policy=iam.PolicyDocument.from_json(
                audit_key_policy(
                    account_id=ACCOUNT_ID,
                    region=region,
                    topic_arn=topic_arn(region, ACCOUNT_ID, topic_name),
                    admin_arns=cfg.key.admin_arns,
                    trail_arn=trail_arn(region, ACCOUNT_ID, trail_name) if trail_name else None,
                    log_group_arn=(
                        log_group_arn(region, ACCOUNT_ID, group_name) if group_name else None
                    ),
                )
            ),
        )
        topic = sns.Topic(
            scope,
            "object-created",
            topic_name=topic_name,
            display_name="securestore uploads",
            master_key=audit_key,
            enforce_ssl=True,
        )
        topic.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowS3PublishFromTheDataBucketOnly",
                principals=[iam.ServicePrincipal("s3.amazonaws.com")],
                actions=["sns:Publish"],
                resources=[topic.topic_arn],
                conditions={
                    "ArnLike": {"aws:SourceArn": bucket.bucket_arn},
                    "StringEquals": {"aws:SourceAccount": ACCOUNT_ID},
                },
            )
        )
        bucket.add_event_notification(s3.EventType.OBJECT_CREATED, s3n.SnsDestination(topic))
        if audit.cloudtrail_enabled:
            trail_bucket = s3.Bucket(
                scope,
                "trail-bucket",
                object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
                block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
                encryption=s3.BucketEncryption.KMS,
                encryption_key=audit_key,
                bucket_key_enabled=False,
                versioned=True,
                enforce_ssl=True,
                minimum_tls_version=1.2,
                removal_policy=keep,
                auto_delete_objects=storage.force_destroy,
                server_access_logs_bucket=log_bucket,
                server_access_logs_prefix="cloudtrail-bucket/",
                lifecycle_rules=[
                    s3.LifecycleRule(
                        id="expire-replaced-versions-and-stale-uploads",
                        noncurrent_version_expiration=Duration.days(90),
                        abort_incomplete_multipart_upload_after=Duration.days(1),
                    )
                ],
            )
            blocked_sse_c(trail_bucket)
            group = (
                logs.LogGroup(
                    scope,
                    "trail-logs",
                    log_group_name=group_name,
                    retention=logs.RetentionDays.ONE_YEAR,  # the days are set below
                    encryption_key=audit_key,
                    removal_policy=keep,
                )
                if group_name
                else None
            )
            if group is not None:
                group.node.default_child.retention_in_days = audit.cloudtrail_log_retention_days
            trail = cloudtrail.Trail(
                scope,
                "trail",
                trail_name=trail_name,
                bucket=trail_bucket,
                encryption_key=audit_key,
                is_multi_region_trail=True,
                include_global_service_events=True,
                enable_file_validation=True,
                send_to_cloud_watch_logs=group is not None,
                cloud_watch_log_group=group,
            )
            trail.node.default_child.add_property_override(
                "AdvancedEventSelectors",
                [
                    {
                        "Name": "Management events",
                        "FieldSelectors": [{"Field": "eventCategory", "Equals": ["Management"]}],
                    },
                    {
                        "Name": "S3 object reads and writes on the data bucket",
                        "FieldSelectors": [
                            {"Field": "eventCategory", "Equals": ["Data"]},
                            {"Field": "resources.type", "Equals": ["AWS::S3::Object"]},
                            {"Field": "resources.ARN", "StartsWith": [f"{bucket.bucket_arn}/"]},
                        ],
                    },
                ],
            )


def build(
    stack: str, app: App | None = None, overrides: dict | None = None
) -> tuple[App, SecureStoreStack]:
    """An app holding the one stack asked for (tests call this; ``cdk synth`` runs main)."""
    app = app or App()
    for flag, value in FEATURE_FLAGS.items():
        app.node.set_context(flag, value)
    cfg, region = load_settings(stack, overrides)
    return app, SecureStoreStack(app, cfg, region)


def main() -> None:
    app = App()
    stack = app.node.try_get_context("stack") or os.environ.get("SECURESTORE_STACK", "prod")
    build(stack, app)
    app.synth()


if __name__ == "__main__":
    main()
