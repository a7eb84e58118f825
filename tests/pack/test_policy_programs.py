"""Small insecure Pulumi programs, run under the offline engine's mocks, caught by the pack.

These go through everything a real preview does before CrossGuard sees a resource: the
pulumi-aws Python classes turn snake_case arguments into camelCase inputs, outputs feed
inputs (so ``property_dependencies`` carry the bucket's URN), and JSON policies are built
inside ``apply``. The synthetic-graph tests pin each rule down; these prove the rules read
what the real SDK actually sends.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from policies.rules import ALL_POLICIES, PACK_NAME
from securestore.offline.engine import evaluate_stack
from securestore.offline.policy_runner import run_policies

HEADER = """\
import json
import pulumi
import pulumi_aws as aws
"""

PROGRAMS = {
    "bare_bucket": (
        """
        aws.s3.Bucket("bare")
        """,
        {"s3-bucket-has-public-access-block", "s3-bucket-acls-disabled", "s3-bucket-default-encryption-kms",
         "s3-bucket-versioning-enabled", "s3-bucket-lifecycle-abort-multipart",
         "s3-bucket-policy-denies-insecure-transport", "s3-bucket-policy-denies-old-tls",
         "s3-bucket-access-logging"},
    ),
    "block_off_and_public_policy": (
        """
        bucket = aws.s3.Bucket("site")
        aws.s3.BucketPublicAccessBlock("site-pab", bucket=bucket.id, block_public_acls=True,
            block_public_policy=False, ignore_public_acls=True, restrict_public_buckets=True)
        aws.s3.BucketPolicy("site-policy", bucket=bucket.id, policy=bucket.arn.apply(lambda arn: json.dumps({
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
                           "Resource": f"{arn}/*"}]})))
        """,
        {"s3-public-access-block-all-flags", "s3-bucket-policy-no-public-access",
         "s3-bucket-policy-denies-insecure-transport"},
    ),
    "block_names_another_bucket": (
        """
        bucket = aws.s3.Bucket("data")
        aws.s3.BucketPublicAccessBlock("data-pab", bucket="somebody-elses-bucket", block_public_acls=True,
            block_public_policy=True, ignore_public_acls=True, restrict_public_buckets=True)
        """,
        {"s3-bucket-has-public-access-block"},
    ),
    "deprecated_v2_public_website": (
        """
        bucket = aws.s3.BucketV2("legacy", acl="public-read")
        aws.s3.BucketWebsiteConfigurationV2("legacy-site", bucket=bucket.id,
            index_document=aws.s3.BucketWebsiteConfigurationV2IndexDocumentArgs(suffix="index.html"))
        aws.s3.BucketVersioningV2("legacy-versioning", bucket=bucket.id,
            versioning_configuration=aws.s3.BucketVersioningV2VersioningConfigurationArgs(status="Suspended"))
        aws.s3.BucketServerSideEncryptionConfigurationV2("legacy-sse", bucket=bucket.id, rules=[
            aws.s3.BucketServerSideEncryptionConfigurationV2RuleArgs(
                apply_server_side_encryption_by_default=aws.s3.BucketServerSideEncryptionConfigurationV2RuleApplyServerSideEncryptionByDefaultArgs(
                    sse_algorithm="AES256"))])
        """,
        {"s3-no-public-acl", "s3-no-website-hosting", "s3-bucket-versioning-enabled",
         "s3-bucket-default-encryption-kms", "s3-bucket-acls-disabled"},
    ),
    "wildcard_cors_upload": (
        """
        bucket = aws.s3.Bucket("uploads")
        aws.s3.BucketCorsConfiguration("uploads-cors", bucket=bucket.id, cors_rules=[
            aws.s3.BucketCorsConfigurationCorsRuleArgs(allowed_methods=["PUT", "POST"], allowed_origins=["*"])])
        """,
        {"s3-cors-no-wildcard-write"},
    ),
    "unrotated_key_with_public_policy": (
        """
        key = aws.kms.Key("key", enable_key_rotation=False, deletion_window_in_days=7,
                          bypass_policy_lockout_safety_check=True)
        aws.kms.KeyPolicy("key-policy", key_id=key.id, policy=json.dumps({"Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "kms:*", "Resource": "*"}]}))
        """,
        {"kms-key-rotation-enabled", "kms-key-policy-not-public", "kms-no-lockout-safety-bypass",
         "kms-key-policy-least-privilege", "model-who-can-reach"},
    ),
    "overbroad_role": (
        """
        role = aws.iam.Role("role", assume_role_policy=json.dumps({"Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}]}),
            inline_policies=[aws.iam.RoleInlinePolicyArgs(name="all", policy=json.dumps({
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}))])
        aws.iam.RolePolicy("role-kms", role=role.id, policy=json.dumps({"Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "kms:Decrypt", "Resource": "*"}]}))
        """,
        {"iam-no-wildcard-trust", "iam-no-wildcard-actions", "iam-no-kms-decrypt-on-all-keys",
         "iam-no-broad-write"},
    ),
    "http_distribution_with_oai": (
        """
        bucket = aws.s3.Bucket("origin")
        oai = aws.cloudfront.OriginAccessIdentity("oai")
        aws.cloudfront.Distribution("cdn", enabled=True,
            origins=[aws.cloudfront.DistributionOriginArgs(origin_id="s3",
                domain_name=bucket.bucket_regional_domain_name,
                s3_origin_config=aws.cloudfront.DistributionOriginS3OriginConfigArgs(
                    origin_access_identity=oai.cloudfront_access_identity_path))],
            default_cache_behavior=aws.cloudfront.DistributionDefaultCacheBehaviorArgs(
                target_origin_id="s3", viewer_protocol_policy="allow-all",
                allowed_methods=["GET", "HEAD"], cached_methods=["GET", "HEAD"]),
            restrictions=aws.cloudfront.DistributionRestrictionsArgs(
                geo_restriction=aws.cloudfront.DistributionRestrictionsGeoRestrictionArgs(restriction_type="none")),
            viewer_certificate=aws.cloudfront.DistributionViewerCertificateArgs(
                acm_certificate_arn="arn:aws:acm:us-east-1:123456789012:certificate/x",
                minimum_protocol_version="TLSv1", ssl_support_method="sni-only"))
        """,
        {"cloudfront-viewer-https-only", "cloudfront-s3-origin-access-control", "cloudfront-tls-minimum-protocol",
         "cloudfront-access-logging", "cloudfront-private-by-default"},
    ),
    "plain_topic_and_trail": (
        """
        aws.sns.Topic("events")
        aws.cloudtrail.Trail("trail", s3_bucket_name="some-bucket")
        """,
        {"sns-topic-encrypted", "cloudtrail-kms-encryption", "cloudtrail-multi-region",
         "cloudtrail-log-file-validation", "model-where-data-goes"},
    ),
}


def _project(tmp_path: Path, body: str) -> Path:
    (tmp_path / "Pulumi.yaml").write_text("name: policyprobe\nruntime: python\n")
    (tmp_path / "Pulumi.probe.yaml").write_text("config:\n  aws:region: eu-west-1\n")
    (tmp_path / "__main__.py").write_text(HEADER + textwrap.dedent(body))
    return tmp_path


BARE_BUCKET_RULES = PROGRAMS["bare_bucket"][1]
"""What any bucket without its settings breaks; a program that makes a bucket may fire these
too, and nothing else beyond what it expects."""


@pytest.mark.parametrize("program", list(PROGRAMS))
def test_insecure_program_is_caught(program, tmp_path):
    """Every rule the program breaks reports a violation on the resource that breaks it."""
    body, expected = PROGRAMS[program]
    graph = evaluate_stack("probe", project_dir=_project(tmp_path, body))
    report = run_policies(graph, policies=ALL_POLICIES, pack_name=PACK_NAME)
    # The model's analyses also judge these programs (a public policy is a reach by anyone):
    # they are required where a case names them and otherwise checked in tests/pack_mutation.
    got = {v.policy for v in report.violations if not v.policy.startswith("model-") or v.policy in expected}
    assert expected <= got, report.format_text()
    has_bucket = any(r.type.startswith("aws:s3/bucket") for r in graph.resources)
    assert got - expected <= (BARE_BUCKET_RULES if has_bucket else set()), report.format_text()


def test_distribution_with_oac_https_and_waf_requirement(tmp_path):
    """The secure CloudFront shape passes the CloudFront rules; required WAF is enforced."""
    body = """
        bucket = aws.s3.Bucket("origin")
        oac = aws.cloudfront.OriginAccessControl("oac", origin_access_control_origin_type="s3",
            signing_behavior="always", signing_protocol="sigv4")
        aws.cloudfront.Distribution("cdn", enabled=True,
            origins=[aws.cloudfront.DistributionOriginArgs(origin_id="s3",
                domain_name=bucket.bucket_regional_domain_name, origin_access_control_id=oac.id)],
            default_cache_behavior=aws.cloudfront.DistributionDefaultCacheBehaviorArgs(
                target_origin_id="s3", viewer_protocol_policy="redirect-to-https",
                allowed_methods=["GET", "HEAD"], cached_methods=["GET", "HEAD"],
                trusted_key_groups=["key-group-id"]),
            logging_config=aws.cloudfront.DistributionLoggingConfigArgs(bucket=bucket.bucket_domain_name),
            restrictions=aws.cloudfront.DistributionRestrictionsArgs(
                geo_restriction=aws.cloudfront.DistributionRestrictionsGeoRestrictionArgs(restriction_type="none")),
            viewer_certificate=aws.cloudfront.DistributionViewerCertificateArgs(
                cloudfront_default_certificate=True))
        """
    graph = evaluate_stack("probe", project_dir=_project(tmp_path, body))
    cloudfront = lambda report: {v.policy for v in report.violations if v.policy.startswith("cloudfront")}
    assert cloudfront(run_policies(graph, policies=ALL_POLICIES)) == set()
    required = run_policies(graph, policies=ALL_POLICIES, config={"cloudfront-waf-enabled": {"required": True}})
    assert cloudfront(required) == {"cloudfront-waf-enabled"}
