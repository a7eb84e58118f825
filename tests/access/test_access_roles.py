"""The access roles: trust, permissions, wiring and outputs, for both stacks.

Trust policies are evaluated, not just compared: each case asks both our evaluator and
principalmapper whether a caller may ``sts:AssumeRole``/``sts:TagSession`` with the given
external id, MFA state and session tags, against the trust policy from the stack's graph.
"""

from __future__ import annotations

import json

import pytest

from access import evaluator, pmapper
from access.evaluator import Caller, Check
from access.stack_access import stack_access
from components import role_policies
from components.settings import SettingsError, parse
from securestore.offline.engine import evaluate_stack
from support.stack_helpers import named

ROLE = "aws:iam/role:Role"
OTHER_ACCOUNT = "210987654321"


def _both(caller: Caller, check: Check) -> bool:
    """Our evaluator's verdict, after checking that principalmapper gives the same one."""
    ours = evaluator.authorize(caller, check)
    assert pmapper.pm_authorize(caller, check) is ours, f"principalmapper disagrees on {caller.name} {check.action}"
    return ours


def _assume(access, role: str, caller: Caller, *, tags=None, external_id=None, mfa=None, action="sts:AssumeRole"):
    context = {"aws:SecureTransport": "true"}
    if tags is not None:
        for key, value in tags.items():
            context[f"aws:RequestTag/{key}"] = value
        context["aws:TagKeys"] = sorted(tags)
    if external_id is not None:
        context["sts:ExternalId"] = external_id
    if mfa is not None:
        context["aws:MultiFactorAuthPresent"] = "true" if mfa else "false"
    target = access.roles[role]
    return _both(caller, Check(action, target.arn, context, target.trust, access.account))


def _user(account: str, role_arn: str, tenant: str = "acme") -> Caller:
    """An IAM user tagged ``tenant_id=<tenant>`` (its own tenant; it may request only that
    one), allowed by its own identity policy to assume and tag ``role_arn``."""
    policy = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": ["sts:AssumeRole", "sts:TagSession"], "Resource": role_arn}],
    }
    return Caller("user", account, f"arn:aws:iam::{account}:user/uploader-cli", (policy,), {"tenant_id": tenant})


def _session(access, role: str) -> Caller:
    document = access.roles[role]
    return Caller(role, access.account, document.arn, document.identity, dict(document.tags))


# --- wiring -------------------------------------------------------------------------------


def test_five_roles_children_of_access_roles(graph):
    """Lambda, EC2, uploader, tenant and offboarding roles exist, parented to the component,
    1 h sessions."""
    component = graph.one("securestore:access:AccessRoles")
    roles = [r for r in graph.of_type(ROLE) if r.parent == component.urn]
    assert sorted(r.name.rsplit("-", 1)[1] for r in roles) == ["ec2", "lambda", "offboarding", "tenant", "uploader"]
    assert all(r.inputs["maxSessionDuration"] == 3600 for r in roles)
    boundary = named(graph, "aws:iam/policy:Policy", "-tenant-boundary").outputs["arn"]
    assert {r.name.rsplit("-", 1)[1]: r.inputs.get("permissionsBoundary") for r in roles} == {
        "ec2": None, "lambda": None, "offboarding": None, "tenant": boundary, "uploader": boundary}


def test_lambda_writes_only_its_own_function_logs(graph):
    """Attack class: a workload forges audit events. The Lambda role writes CloudWatch Logs
    only under ``/aws/lambda/*``; the AWS managed basic-execution policy (``logs`` writes
    on ``*``, the trail's log group included) is not attached."""
    assert graph.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment") == []
    lambda_role = named(graph, ROLE, "-access-lambda")
    (policy,) = [p for p in graph.of_type("aws:iam/rolePolicy:RolePolicy") if p.inputs["role"] == lambda_role.outputs["name"]]
    logs = [s for s in json.loads(policy.inputs["policy"])["Statement"] if any(str(a).startswith("logs:") for a in s["Action"])]
    assert len(logs) == 1 and logs[0]["Resource"].startswith("arn:aws:logs:")
    assert logs[0]["Resource"].endswith(":log-group:/aws/lambda/*")


def test_ec2_instance_profile_carries_the_ec2_role(graph):
    """The instance profile wraps the EC2 role; its name is exported."""
    profile = named(graph, "aws:iam/instanceProfile:InstanceProfile", "-ec2-profile")
    assert profile.inputs["role"] == named(graph, ROLE, "-access-ec2").outputs["name"]
    assert graph.exports["ec2InstanceProfileName"] == profile.outputs["name"]


def test_outputs_name_every_role_and_the_managed_policy(graph):
    """Every role ARN, the instance profile name and the managed policy ARN are exported."""
    access = stack_access(graph)
    exported = {
        "lambdaRoleArn": "lambda", "ec2RoleArn": "ec2", "uploaderRoleArn": "uploader", "tenantRoleArn": "tenant",
    }
    for export, role in exported.items():
        assert graph.exports[export] == access.roles[role].arn
    policy = named(graph, "aws:iam/policy:Policy", "-access-least-privilege")
    assert graph.exports["leastPrivilegePolicyArn"] == policy.outputs["arn"]


def test_bucket_policy_carries_the_tenant_isolation_denies(graph):
    """The data bucket policy holds both isolation denies, built for this bucket."""
    access = stack_access(graph)
    statements = {s.get("Sid"): s for s in access.bucket_policy["Statement"]}
    for expected in role_policies.tenant_isolation_statements(access.bucket_arn):
        assert statements[expected["Sid"]] == expected


# --- trust, evaluated -------------------------------------------------------------------


@pytest.mark.parametrize(
    "service,account,allowed",
    [("lambda.amazonaws.com", None, True), ("lambda.amazonaws.com", OTHER_ACCOUNT, False), ("ec2.amazonaws.com", None, False)],
)
def test_lambda_trust_is_the_lambda_service_for_this_account(graph, service, allowed, account):
    """Only Lambda, and only on behalf of this account (aws:SourceAccount), assumes the role."""
    access = stack_access(graph)
    caller = Caller(service, service=service)
    context = {"aws:SourceAccount": account or access.account}
    role = access.roles["lambda"]
    assert _both(caller, Check("sts:AssumeRole", role.arn, context, role.trust, access.account)) is allowed


@pytest.mark.parametrize("service,allowed", [("ec2.amazonaws.com", True), ("lambda.amazonaws.com", False)])
def test_ec2_trust_is_the_ec2_service(graph, service, allowed):
    access = stack_access(graph)
    role = access.roles["ec2"]
    check = Check("sts:AssumeRole", role.arn, {}, role.trust, access.account)
    assert _both(Caller(service, service=service), check) is allowed


def _uploader_external_id(graph) -> str:
    trust = stack_access(graph).roles["uploader"].trust
    (deny,) = [s for s in trust["Statement"] if s["Sid"] == "DenyAssumingWithoutTheExternalId"]
    return deny["Condition"]["StringNotEquals"]["sts:ExternalId"]


def test_uploader_needs_external_id_tenant_tag_and_prod_mfa(graph):
    """STS by this account's principals with the external id and a tenant_id tag; MFA in prod."""
    access = stack_access(graph)
    user = _user(access.account, access.roles["uploader"].arn)
    external_id = _uploader_external_id(graph)
    acme = {"tenant_id": "acme"}
    prod = graph.stack == "prod"
    assert _assume(access, "uploader", user, tags=acme, external_id=external_id, mfa=True)
    assert _assume(access, "uploader", user, tags=acme, external_id=external_id, mfa=True, action="sts:TagSession")
    assert _assume(access, "uploader", user, tags=acme, external_id=external_id, mfa=False) is not prod
    assert not _assume(access, "uploader", user, tags=acme, mfa=True)
    assert not _assume(access, "uploader", user, tags=acme, external_id="guess", mfa=True)
    assert not _assume(access, "uploader", user, external_id=external_id, mfa=True)
    assert not _assume(access, "uploader", user, tags={"tenant_id": ""}, external_id=external_id, mfa=True)


@pytest.mark.parametrize("role", ["uploader", "tenant"])
@pytest.mark.parametrize("tenant_id", ["public", "acme/sub", "acme/../globex"])
def test_reserved_or_nested_tenant_tags_are_refused(graph, role, tenant_id):
    """``public`` (served to everyone) and ids with ``/`` (a prefix inside another tenant's)
    cannot become a session's tenant_id."""
    access = stack_access(graph)
    caller = _user(access.account, access.roles[role].arn) if role == "uploader" else _session(access, "lambda")
    for action in ("sts:AssumeRole", "sts:TagSession"):
        assert not _assume(access, role, caller, tags={"tenant_id": tenant_id},
                           external_id=_uploader_external_id(graph), mfa=True, action=action)


def test_reserved_tenant_ids_match_the_client_key_builder():
    """IAM refuses the same reserved tenant ids the client's key builder refuses."""
    from securestore.keys import RESERVED_TENANT_IDS

    assert set(role_policies.RESERVED_TENANT_IDS) == set(RESERVED_TENANT_IDS)


def test_uploader_may_tag_the_session_with_tenant_id_only(graph):
    """sts:TagSession is refused when any tag key other than tenant_id is passed."""
    access = stack_access(graph)
    user = _user(access.account, access.roles["uploader"].arn)
    tags = {"tenant_id": "acme", "role": "admin"}
    assert not _assume(access, "uploader", user, tags=tags, external_id=_uploader_external_id(graph), mfa=True,
                       action="sts:TagSession")


def test_uploader_is_not_assumable_from_another_account(graph):
    access = stack_access(graph)
    stranger = _user(OTHER_ACCOUNT, access.roles["uploader"].arn)
    assert not _assume(access, "uploader", stranger, tags={"tenant_id": "acme"},
                       external_id=_uploader_external_id(graph), mfa=True)


def test_tenant_role_is_assumed_by_backends_with_a_tenant_tag(graph):
    """Lambda (and EC2 in read-write mode) assume the tenant role only with a tenant_id tag."""
    access = stack_access(graph)
    backend = _session(access, "lambda")
    assert _assume(access, "tenant", backend, tags={"tenant_id": "acme"})
    assert _assume(access, "tenant", backend, tags={"tenant_id": "acme"}, action="sts:TagSession")
    assert not _assume(access, "tenant", backend)
    assert not _assume(access, "tenant", backend, tags={"tenant_id": "acme", "x": "y"}, action="sts:TagSession")
    assert not _assume(access, "tenant", _session(access, "uploader"), tags={"tenant_id": "acme"})
    ec2_writes = graph.stack == "dev"  # dev: read-write, prod: read-only
    assert _assume(access, "tenant", _session(access, "ec2"), tags={"tenant_id": "acme"}) is ec2_writes


# --- config -------------------------------------------------------------------------------


def test_configured_principals_boundary_and_session_length_reach_every_role():
    """uploaderTrustedPrincipalArns replaces the account root; the session length applies to
    every role, the configured boundary to every role a tenant session does not run as (the
    tenant and uploader roles always carry the stack's tenant boundary)."""
    ci = "arn:aws:iam::123456789012:role/ci-uploader"
    boundary = "arn:aws:iam::123456789012:policy/workload-boundary"
    graph = evaluate_stack("dev", config_overrides={
        "uploaderTrustedPrincipalArns": [ci], "permissionsBoundaryArn": boundary, "roleMaxSessionSeconds": 7200,
    })
    access = stack_access(graph)
    for statement in access.roles["uploader"].trust["Statement"]:
        if statement["Effect"] == "Allow":
            assert statement["Principal"] == {"AWS": [ci]}
    roles = [r for r in graph.of_type(ROLE) if r.parent == graph.one("securestore:access:AccessRoles").urn]
    stack_boundary = named(graph, "aws:iam/policy:Policy", "-tenant-boundary").outputs["arn"]
    assert {r.name.rsplit("-", 1)[1]: r.inputs["permissionsBoundary"] for r in roles} == {
        "lambda": boundary, "ec2": boundary, "offboarding": boundary, "tenant": stack_boundary,
        "uploader": stack_boundary}
    assert {r.inputs["maxSessionDuration"] for r in roles} == {7200}


def test_default_uploader_principal_is_this_accounts_root(dev_graph):
    access = stack_access(dev_graph)
    for statement in access.roles["uploader"].trust["Statement"]:
        if statement["Effect"] == "Allow":
            assert statement["Principal"] == {"AWS": [f"arn:aws:iam::{access.account}:root"]}


@pytest.mark.parametrize(
    "key,value,environment,words",
    [
        ("ec2AccessMode", "admin", "dev", "read-only, read-write"),
        ("uploaderTrustedPrincipalArns", ["arn:aws:iam::*:root"], "dev", "no wildcards"),
        ("uploaderTrustedPrincipalArns", ["*"], "dev", "no wildcards"),
        ("uploaderExternalId", "", "prod", "unique external id in prod"),
        ("uploaderExternalId", "bad id!", "dev", "2-1224"),
        ("permissionsBoundaryArn", "arn:aws:iam::123456789012:role/x", "dev", "policy ARN"),
        ("roleMaxSessionSeconds", 60, "dev", "between 3600 and 43200"),
    ],
)
def test_bad_access_settings_name_key_and_rule(key, value, environment, words):
    raw = {"environment": environment, key: value}
    if environment == "prod":
        raw.update(protect=True, forceDestroy=False, cloudfrontPublicKeyPem=_prod_pem())
        raw.setdefault("uploaderExternalId", "x")
    with pytest.raises(SettingsError) as caught:
        parse(raw, project="securestore", stack=environment)
    assert f"securestore:{key}" in str(caught.value) and words in str(caught.value)


def _prod_pem() -> str:
    import yaml
    from pathlib import Path

    prod = yaml.safe_load((Path(__file__).resolve().parents[2] / "Pulumi.prod.yaml").read_text())
    return prod["config"]["securestore:cloudfrontPublicKeyPem"]


def test_dev_without_external_id_gets_a_per_stack_default():
    """In dev an unset external id becomes ``<namePrefix>-<stack>-uploader``."""
    assert parse({}, project="securestore", stack="dev").access.uploader_external_id == "securestore-dev-uploader"


def test_ec2_policy_builder_refuses_an_unknown_mode():
    """A mode other than read-only/read-write fails naming the value and what is allowed."""
    with pytest.raises(ValueError, match="'admin' is not one of read-only, read-write"):
        role_policies.ec2_policy(mode="admin", bucket_arn="arn:aws:s3:::b", kms_key_arn="k", region="eu-west-1")


def test_uploader_trust_builder_requires_an_external_id():
    with pytest.raises(ValueError, match="external id is required"):
        role_policies.uploader_trust_policy(["arn:aws:iam::123456789012:root"], "")
