"""Smaller correctness points of the security review, each with the failure it prevents.

* expired object delete markers are cleaned up (a versioned bucket with expiry otherwise
  piles up delete markers that slow every listing and cost requests);
* both server access logging configurations wait for the log bucket's policy (S3 checks
  that it may write there when logging is configured; without our grant first, the call
  fails or S3 adds its own ACL-based grant);
* the stack name, part of every resource name, is validated before any resource exists;
* trust and key policies are checked against AWS's size limits in the settings, so a long
  ARN list fails in preview instead of in ``pulumi up``;
* prod does not serve private files on the default ``*.cloudfront.net`` certificate
  (TLS 1.0 negotiable, signed cookies unusable) unless explicitly opted out.
"""

from __future__ import annotations

import pytest

from components.settings import SettingsError, parse
from securestore.offline.engine import ProgramError, evaluate_stack
from securestore.offline.graph import StackGraph

LIFECYCLE = "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration"
LOGGING = "aws:s3/bucketLogging:BucketLogging"
BUCKET_POLICY = "aws:s3/bucketPolicy:BucketPolicy"


def test_data_bucket_lifecycle_removes_expired_delete_markers(graph):
    """Failure class: unbounded growth of versioned-bucket metadata. After expiry (and
    noncurrent expiry) only delete markers remain; a rule removes them."""
    (lifecycle,) = [r for r in graph.of_type(LIFECYCLE) if r.name.endswith("-storage-data-lifecycle")]
    rules = [rule for rule in lifecycle.inputs["rules"] if rule.get("expiration", {}).get("expiredObjectDeleteMarker")]
    assert len(rules) == 1 and rules[0]["status"] == "Enabled"
    assert "days" not in rules[0]["expiration"]  # S3 refuses days together with the marker flag


def test_every_access_logging_waits_for_the_log_bucket_policy(graph):
    """Failure class: ordering. Each BucketLogging (data bucket; trail bucket in prod)
    depends on the BucketPolicy of the bucket it logs into."""
    policies = {p.inputs["bucket"]: p.urn for p in graph.of_type(BUCKET_POLICY)}
    loggings = graph.of_type(LOGGING)
    assert len(loggings) == (2 if graph.stack == "prod" else 1)
    for logging in loggings:
        target_policy = policies[logging.inputs["targetBucket"]]
        assert target_policy in logging.dependencies, logging.name


@pytest.mark.parametrize("stack", ["Prod", "prod_eu", "-prod", "prod-", "a" * 30])
def test_bad_stack_name_fails_before_any_resource(stack):
    """Failure class: a stack name that makes invalid or too long resource names (bucket
    names are lowercase and at most 63 characters). The settings refuse it by name."""
    with pytest.raises(SettingsError) as caught:
        parse({}, project="securestore", stack=stack)
    assert "stack" in str(caught.value) and repr(stack) in str(caught.value)


def test_good_stack_names_pass():
    for stack in ("dev", "prod", "staging-eu-2", "a1"):
        assert parse({}, project="securestore", stack=stack).stack == stack


def _roles(n: int, account: str = "123456789012") -> list[str]:
    return [f"arn:aws:iam::{account}:role/backend-service-number-{i:03d}-with-a-long-descriptive-name" for i in range(n)]


@pytest.mark.parametrize("key", ["uploaderTrustedPrincipalArns", "tenantBrokerPrincipalArns"])
def test_trust_policy_over_the_iam_size_limit_fails_in_settings(key):
    """Failure class: a limit AWS enforces only at ``pulumi up``. A trust policy rendered
    over 2,048 characters (IAM's default quota, whitespace not counted) is refused, naming
    the key that made it long."""
    with pytest.raises(SettingsError) as caught:
        parse({key: _roles(40)}, project="securestore", stack="dev")
    assert f"securestore:{key}" in str(caught.value) and "2048" in str(caught.value)
    assert parse({key: _roles(2)}, project="securestore", stack="dev")  # a few fit


def test_key_policy_over_32_kb_fails_in_settings():
    """The data key's policy (and the audit key's) must stay under KMS's 32 KB."""
    with pytest.raises(SettingsError) as caught:
        parse({"kmsAdminArns": _roles(400)}, project="securestore", stack="dev")
    assert "securestore:kmsAdminArns" in str(caught.value) and "32768" in str(caught.value)
    assert parse({"kmsAdminArns": _roles(20)}, project="securestore", stack="dev")


def test_the_rendered_stack_documents_fit_what_settings_estimated(graphs):
    """The settings' size estimate is not looser than the real documents of both stacks."""
    import json

    from components.settings import estimated_policy_sizes

    for stack, graph in graphs.items():
        estimate = estimated_policy_sizes(parse(graph.config, project="securestore", stack=stack))
        roles = {r.name.rsplit("-", 1)[-1]: r for r in graph.of_type("aws:iam/role:Role")}
        for role in ("uploader", "tenant"):
            trust = json.loads(roles[role].inputs["assumeRolePolicy"])
            assert len(json.dumps(trust, separators=(",", ":"))) <= estimate[f"{role} trust"], (stack, role)
        for policy in graph.of_type("aws:kms/keyPolicy:KeyPolicy"):
            assert len(json.dumps(json.loads(policy.inputs["policy"]), separators=(",", ":"))) <= estimate["data key policy"]


def _prod(**overrides):
    from pathlib import Path

    import yaml

    prod = yaml.safe_load((Path(__file__).resolve().parents[2] / "Pulumi.prod.yaml").read_text())["config"]
    raw = {k.split(":", 1)[1]: v for k, v in prod.items() if k.startswith("securestore:")}
    raw.update(overrides)
    return {k: v for k, v in raw.items() if v is not None}


def test_prod_refuses_the_default_cloudfront_certificate():
    """Failure class: weak transport in prod. Without customDomain/acmCertificateArn the
    distribution would use *.cloudfront.net (TLS 1.0 negotiable, cookies unusable)."""
    with pytest.raises(SettingsError) as caught:
        parse(_prod(customDomain=None, acmCertificateArn=None), project="securestore", stack="prod")
    assert "securestore:customDomain" in str(caught.value) and "allowDefaultCertificateInProd" in str(caught.value)
    opted_out = parse(_prod(customDomain=None, acmCertificateArn=None, allowDefaultCertificateInProd=True),
                      project="securestore", stack="prod")
    assert opted_out.edge.custom_domain is None
