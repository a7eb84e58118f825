"""No wildcards and parliament-clean: every identity and trust policy of the access roles.

Documents are taken from each stack's offline graph (what ``pulumi up`` would create), plus
the pure builders in both EC2 modes, with MFA, and with a configured principal list.
"""

from __future__ import annotations

import pytest

from access.stack_access import AWS_MANAGED_POLICIES, stack_access
from components import role_policies
from support.policy_lint import lint

BUCKET = "arn:aws:s3:::securestore-dev-data-1234567"
KEY = "arn:aws:kms:eu-west-1:123456789012:key/0f6c1b5e-2a43-4c55-9f0e-3b1c4a2d5e6f"
REGION = "eu-west-1"
TENANT_ROLE = "arn:aws:iam::123456789012:role/securestore-dev-access-tenant-abc1234"


def _stack_documents(graph):
    access = stack_access(graph)
    for name, role in access.roles.items():
        yield f"{name} trust", "trust", with_role_resource(role.trust, role.arn)
        for index, document in enumerate(role.identity):
            if document not in AWS_MANAGED_POLICIES.values():  # AWS's, not ours to lint
                yield f"{name} identity #{index}", "identity", document
    yield "least-privilege managed policy", "identity", access.managed_policy


def with_role_resource(trust: dict, role_arn: str) -> dict:
    """A trust policy as parliament can read it: each statement's implied Resource is the
    role itself. Without it parliament stops at MALFORMED and checks nothing else (not the
    actions, not the condition keys), so this makes the lint stricter, not looser."""
    return {**trust, "Statement": [{**s, "Resource": role_arn} for s in trust["Statement"]]}


def _builder_documents():
    resources = dict(bucket_arn=BUCKET, kms_key_arn=KEY, region=REGION)
    for mode in role_policies.EC2_ACCESS_MODES:
        yield f"ec2 {mode}", "identity", role_policies.ec2_policy(mode=mode, tenant_role_arn=TENANT_ROLE, **resources)
    yield "lambda", "identity", role_policies.lambda_policy(tenant_role_arn=TENANT_ROLE, **resources)
    yield "uploader", "identity", role_policies.uploader_policy(**resources)
    yield "tenant", "identity", role_policies.tenant_policy(**resources)
    yield "least-privilege", "identity", role_policies.least_privilege_policy(**resources)
    yield "offboarding", "identity", role_policies.offboarding_policy(log_bucket_arn=BUCKET + "-logs", **resources)
    trusts = {
        "uploader trust with MFA": role_policies.uploader_trust_policy(
            ["arn:aws:iam::123456789012:role/ci", "arn:aws:iam::210987654321:root"], "ext-123", True
        ),
        "tenant trust": role_policies.tenant_role_trust_policy([TENANT_ROLE]),
        "offboarding trust": role_policies.offboarding_trust_policy(["arn:aws:iam::123456789012:root"]),
        "lambda trust": role_policies.service_trust_policy("lambda.amazonaws.com", "123456789012"),
    }
    for label, trust in trusts.items():
        yield label, "trust", with_role_resource(trust, TENANT_ROLE)


def _all_documents(graph):
    return list(_stack_documents(graph)) + list(_builder_documents())


def _list(value):
    return value if isinstance(value, list) else [value]


def test_parliament_reports_nothing_on_identity_and_trust_policies(graph):
    """parliament: 0 findings (only the lead's documented false positives are filtered)."""
    findings = {label: lint(document, kind) for label, kind, document in _all_documents(graph)}
    assert {label: found for label, found in findings.items() if found} == {}


def test_no_wildcard_action_or_not_elements_in_allows(graph):
    """No ``*``/``service:*`` action, no NotAction/NotResource in an Allow."""
    for label, _, document in _all_documents(graph):
        for statement in document["Statement"]:
            assert "NotAction" not in statement and "NotPrincipal" not in statement, label
            if statement["Effect"] != "Allow":
                continue
            assert "NotResource" not in statement, label
            for action in _list(statement["Action"]):
                assert "*" not in action, f"{label}: {statement['Sid']} allows {action}"


def test_no_s3_or_kms_action_on_every_resource(graph):
    """An s3 or kms action always names our bucket, its objects or our key, never ``*``."""
    for label, kind, document in _all_documents(graph):
        if kind != "identity":
            continue
        for statement in document["Statement"]:
            actions = _list(statement["Action"])
            if not any(a.startswith(("s3:", "kms:")) for a in actions):
                continue
            for resource in _list(statement["Resource"]):
                assert resource != "*" and resource.startswith(("arn:aws:s3:::", "arn:aws:kms:")), label


def test_kms_use_only_through_s3_on_our_key(graph):
    """Every KMS grant names our key and carries ``kms:ViaService = s3.<region>`` and the data
    bucket as encryption context (the key serves S3 for this bucket only)."""
    access = stack_access(graph)
    for name, role in access.roles.items():
        for document in role.identity:
            for statement in document["Statement"]:
                if any(a.startswith("kms:") for a in _list(statement["Action"])):
                    assert statement["Resource"] == access.kms_key_arn, name
                    assert statement["Condition"] == {
                        "StringEquals": {"kms:ViaService": f"s3.{access.region}.amazonaws.com"},
                        "StringLike": {"kms:EncryptionContext:aws:s3:arn": [access.bucket_arn, f"{access.bucket_arn}/*"]},
                    }, name


def test_no_trust_to_everyone(graph):
    """No trust policy grants to ``*`` (or a wildcard ARN); its Deny statements name ``*``
    on purpose (they refuse invalid tenant ids and a missing external id to everyone)."""
    for label, kind, document in _all_documents(graph):
        if kind != "trust":
            continue
        for statement in [s for s in document["Statement"] if s["Effect"] == "Allow"]:
            principal = statement["Principal"]
            assert principal != "*", label
            for value in [v for values in principal.values() for v in _list(values)]:
                assert "*" not in value, label


@pytest.mark.parametrize("bad", [[], ["*"], ["arn:aws:iam::*:root"], ["123456789012"]])
def test_trust_builders_refuse_wildcards_and_empty_lists(bad):
    """A wildcard, a bare account id or nobody is refused with a message naming the value."""
    with pytest.raises(ValueError, match="trust"):
        role_policies.uploader_trust_policy(bad, "ext-123")
    with pytest.raises(ValueError, match="trust"):
        role_policies.tenant_role_trust_policy(bad)
