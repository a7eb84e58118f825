"""The offboarding role and the S3 Inventory configuration (issue 26), in both stacks.

What is promised, one test each: the inventory is daily, lists every version, writes
encrypted CSV/Parquet into the log bucket under ``inventory/`` after the grant that admits it,
and can be switched off; the log bucket admits ``s3.amazonaws.com`` only for our bucket and
account; no tenant session reaches the reports; the offboarding role is assumed only with a
recent MFA, never from a tagged session and never tagged itself; it erases versions and
aborts uploads under every tenant prefix but not ``public/``; it can change no bucket setting
and cannot bypass Object Lock, even when a broader policy is attached to it later.

The witness of access is the project's IAM engine over the documents the program renders
(LocalStack community and moto enforce neither IAM nor bucket policies).
"""

from __future__ import annotations

import json

import pytest

from access.evaluator import Caller, Check, authorize
from access.matrix import S3_STAR_POLICY, STAR_POLICY, with_policy
from access.s3_actions import BUCKET_WRITE_ACTIONS
from access.stack_access import stack_access
from components import access_model as model
from components import role_policies
from securestore.offline.engine import evaluate_stack

INVENTORY = "aws:s3/inventory:Inventory"
TLS = {"aws:SecureTransport": "true", "s3:TlsVersion": "1.3"}


def _log_policy(graph) -> dict:
    (policy,) = [p for p in graph.of_type("aws:s3/bucketPolicy:BucketPolicy") if p.name.endswith("-logs-policy")
                 and "-storage-" in p.name]
    return json.loads(policy.inputs["policy"])


def _bucket(graph, suffix: str):
    (bucket,) = [b for b in graph.of_type("aws:s3/bucket:Bucket") if b.name.endswith(suffix) and "-storage-" in b.name]
    return bucket


# --- the inventory -----------------------------------------------------------------------


def test_inventory_is_daily_every_version_encrypted_into_the_log_bucket(graph):
    """Daily, all versions (so usage sees noncurrent bytes and delete markers), CSV, SSE-S3,
    into the log bucket under inventory/, created after the log bucket policy exists."""
    (inventory,) = graph.of_type(INVENTORY)
    inputs = inventory.inputs
    assert inputs["schedule"] == {"frequency": "Daily"} and inputs["includedObjectVersions"] == "All"
    assert inputs["enabled"] is True and inputs["name"] == "tenant-usage"
    destination = inputs["destination"]["bucket"]
    assert destination["bucketArn"] == _bucket(graph, "-logs").outputs["arn"]
    assert destination["format"] == "CSV" and destination["prefix"] == "inventory"
    assert "sseS3" in destination["encryption"]
    assert inputs["bucket"] == _bucket(graph, "-data").outputs["id"]
    log_policy = next(p for p in graph.of_type("aws:s3/bucketPolicy:BucketPolicy") if p.name.endswith("-storage-logs-policy"))
    assert log_policy.urn in inventory.dependencies
    assert "Size" in inputs["optionalFields"]


def test_inventory_off_removes_the_configuration_and_the_grant():
    """``inventoryFormat: off``: no Inventory resource, no grant to s3.amazonaws.com in the
    log bucket, and the stack output says so (empty)."""
    graph = evaluate_stack("dev", config_overrides={"inventoryFormat": "off"})
    assert graph.of_type(INVENTORY) == []
    principals = [s.get("Principal") for s in _log_policy(graph)["Statement"]]
    assert {"Service": "s3.amazonaws.com"} not in principals
    assert graph.exports.get("inventoryDestination") == ""


def test_parquet_inventory_is_rendered_as_parquet():
    graph = evaluate_stack("dev", config_overrides={"inventoryFormat": "Parquet"})
    (inventory,) = graph.of_type(INVENTORY)
    assert inventory.inputs["destination"]["bucket"]["format"] == "Parquet"


def test_inventory_destination_output_names_where_reports_land(graph):
    logs, data = _bucket(graph, "-logs").outputs["bucket"], _bucket(graph, "-data").outputs["bucket"]
    assert graph.exports["inventoryDestination"] == f"s3://{logs}/inventory/{data}/tenant-usage/"


def _s3_service_check(graph, source_arn: str, account: str, acl: str = "bucket-owner-full-control") -> bool:
    logs = _bucket(graph, "-logs").outputs["arn"]
    context = {**TLS, "aws:SourceArn": source_arn, "aws:SourceAccount": account, "s3:x-amz-acl": acl}
    check = Check("s3:PutObject", f"{logs}/inventory/{_bucket(graph, '-data').outputs['bucket']}/x/manifest.json",
                  context, _log_policy(graph), stack_access(graph).account)
    return authorize(Caller("s3", service="s3.amazonaws.com"), check)


def test_log_bucket_admits_inventory_only_from_our_bucket_and_account(graph):
    """Class: confused deputy. S3 writing another bucket's (or account's) inventory into our
    log bucket is refused; ours is admitted, with the documented conditions."""
    data_arn = _bucket(graph, "-data").outputs["arn"]
    account = stack_access(graph).account
    assert _s3_service_check(graph, data_arn, account)
    assert not _s3_service_check(graph, "arn:aws:s3:::someone-elses-bucket", account)
    assert not _s3_service_check(graph, data_arn, "210987654321")
    assert not _s3_service_check(graph, data_arn, account, acl="private")


@pytest.mark.parametrize("policy", [S3_STAR_POLICY, STAR_POLICY], ids=["s3-star", "star"])
@pytest.mark.parametrize("action", ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"])
def test_no_tenant_session_reaches_the_inventory_reports(graph, policy, action):
    """Class: a tenant session later given ``s3:*``/``*``. The reports name every tenant's keys:
    the log bucket policy denies tagged principals every action on them."""
    access = stack_access(graph)
    tenant = with_policy(Caller("tenant-acme", access.account, access.roles["tenant"].arn,
                                access.roles["tenant"].identity, {"tenant_id": "acme"}), policy)
    logs = _bucket(graph, "-logs").outputs["arn"]
    assert not authorize(tenant, Check(action, f"{logs}/inventory/data/tenant-usage/x.csv.gz", TLS,
                                       _log_policy(graph), access.account))


def test_offboarding_role_reads_the_inventory_reports(graph):
    access = stack_access(graph)
    officer = _officer(access)
    logs = _bucket(graph, "-logs").outputs["arn"]
    policy = _log_policy(graph)
    assert authorize(officer, Check("s3:GetObject", f"{logs}/inventory/d/tenant-usage/m.json", TLS, policy, access.account))
    assert authorize(officer, Check("s3:ListBucket", logs, {**TLS, "s3:prefix": "inventory/"}, policy, access.account))
    assert not authorize(officer, Check("s3:GetObject", f"{logs}/s3-access/x", TLS, policy, access.account))


# --- the offboarding role ---------------------------------------------------------------


def _officer(access, extra=None) -> Caller:
    role = access.roles["offboarding"]
    caller = Caller("offboarding", access.account, role.arn, role.identity, dict(role.tags))
    return with_policy(caller, extra) if extra else caller


TRUST_CASES = {
    # name: (principal tags, context, action, expected)
    "officer with fresh MFA": ({}, {"aws:MultiFactorAuthPresent": "true", "aws:MultiFactorAuthAge": "300"}, "sts:AssumeRole", True),
    "officer without MFA": ({}, {"aws:MultiFactorAuthPresent": "false"}, "sts:AssumeRole", False),
    "officer, MFA key absent": ({}, {}, "sts:AssumeRole", False),
    "officer with a 2-hour-old MFA": ({}, {"aws:MultiFactorAuthPresent": "true", "aws:MultiFactorAuthAge": "7200"}, "sts:AssumeRole", False),
    "tenant-tagged user with MFA": ({"tenant_id": "acme"}, {"aws:MultiFactorAuthPresent": "true", "aws:MultiFactorAuthAge": "60"}, "sts:AssumeRole", False),
    "officer asking for session tags": ({}, {"aws:MultiFactorAuthPresent": "true", "aws:MultiFactorAuthAge": "60",
                                             "aws:RequestTag/tenant_id": "acme", "aws:TagKeys": ["tenant_id"]}, "sts:TagSession", False),
}


@pytest.mark.parametrize("case", sorted(TRUST_CASES))
def test_offboarding_trust_needs_recent_mfa_and_no_tenant_tag(graph, case):
    """Class: a tenant session (or a stolen password without MFA) takes the role that can
    erase every tenant. Only an untagged principal of the account with MFA at most an hour
    old may assume it, and no session tag can be attached."""
    tags, context, action, expected = TRUST_CASES[case]
    access = stack_access(graph)
    role = access.roles["offboarding"]
    user = Caller("officer", access.account, f"arn:aws:iam::{access.account}:user/officer",
                  ({"Statement": [{"Effect": "Allow", "Action": "sts:*", "Resource": "*"}]},), tags)
    assert authorize(user, Check(action, role.arn, context, role.trust, access.account)) is expected


CLEAN = {"s3:ExistingObjectTag/GuardDutyMalwareScanStatus": "NO_THREATS_FOUND"}
"""Objects scanned clean: in prod the malware-scan gate refuses reads of anything else to
every role but the scanner's, the offboarding role included (``test_export_obeys_the_scan_gate``)."""
TENANT_KEYS = ("acme/invoices/2026/01/31/a.pdf", "acmecorp/x/2026/01/31/b.pdf", "acme-eu/m/2026/01/31/c",
               "globex/../public/x", "ACME/x")
NOT_TENANT_KEYS = ("public/logo.png", "readme.txt", "acme")


@pytest.mark.parametrize("action", ["s3:DeleteObjectVersion", "s3:DeleteObject", "s3:AbortMultipartUpload",
                                    "s3:GetObjectVersion", "s3:GetObjectRetention", "s3:GetObjectLegalHold"])
def test_offboarding_erases_under_every_tenant_prefix_and_not_public(graph, action):
    """It removes versions and uploads of any tenant (look-alike ids included) and reads their
    lock state; ``public/`` (CloudFront's unsigned assets) and root keys are out of reach."""
    access = stack_access(graph)
    officer = _officer(access)
    context = {**TLS, **CLEAN}
    for key in TENANT_KEYS:
        assert authorize(officer, Check(action, f"{access.bucket_arn}/{key}", context, access.bucket_policy, access.account)), key
    for key in NOT_TENANT_KEYS:
        assert not authorize(officer, Check(action, f"{access.bucket_arn}/{key}", context, access.bucket_policy, access.account)), key


def test_export_obeys_the_scan_gate():
    """Class: offboarding as a way around the malware gate. In prod (scan on) the offboarding
    role reads only objects scanned clean, like every reader; it still erases the others."""
    access = stack_access(evaluate_stack("prod"))
    officer = _officer(access)
    key = f"{access.bucket_arn}/acme/invoices/2026/01/31/unscanned.pdf"
    infected = {**TLS, "s3:ExistingObjectTag/GuardDutyMalwareScanStatus": "THREATS_FOUND"}
    assert not authorize(officer, Check("s3:GetObject", key, TLS, access.bucket_policy, access.account))
    assert not authorize(officer, Check("s3:GetObject", key, infected, access.bucket_policy, access.account))
    assert authorize(officer, Check("s3:DeleteObjectVersion", key, infected, access.bucket_policy, access.account))


@pytest.mark.parametrize("action", ["s3:ListBucketVersions", "s3:ListBucketMultipartUploads", "s3:ListBucket",
                                    "s3:GetBucketObjectLockConfiguration"])
def test_offboarding_lists_versions_and_uploads(graph, action):
    access = stack_access(graph)
    assert authorize(_officer(access), Check(action, access.bucket_arn, {**TLS, "s3:prefix": "acme/"},
                                             access.bucket_policy, access.account))


@pytest.mark.parametrize("later", [None, S3_STAR_POLICY, STAR_POLICY], ids=["as-built", "s3-star-later", "star-later"])
def test_offboarding_changes_no_bucket_setting_and_bypasses_no_lock(graph, later):
    """Class: the erasure role turned against the bucket. Every bucket-level Put*/Delete* action
    of AWS's S3 list (policy, versioning, lifecycle, Object Lock, encryption, inventory...),
    governance bypass and retention/legal-hold changes are refused, also after ``s3:*`` or
    ``*`` is attached to the role later (the role's own deny holds)."""
    access = stack_access(graph)
    officer = _officer(access, later)
    allowed = [a for a in BUCKET_WRITE_ACTIONS
               if authorize(officer, Check(f"s3:{a}", access.bucket_arn, TLS, access.bucket_policy, access.account))]
    assert len(BUCKET_WRITE_ACTIONS) >= 20 and allowed == []
    for action in ("s3:BypassGovernanceRetention", "s3:PutObjectRetention", "s3:PutObjectLegalHold"):
        assert not authorize(officer, Check(action, f"{access.bucket_arn}/acme/x", TLS, access.bucket_policy, access.account))


def test_offboarding_writes_no_object(graph):
    """It erases; it never writes: no PutObject anywhere (a restore is an upload's job)."""
    access = stack_access(graph)
    assert not authorize(_officer(access), Check("s3:PutObject", f"{access.bucket_arn}/acme/x", TLS,
                                                 access.bucket_policy, access.account))


def test_offboarding_document_grants_exactly_the_model():
    """The role's S3 and KMS grants are the access model's OFFBOARDING rows, no more."""
    bucket, key, logs = "arn:aws:s3:::data", "arn:aws:kms:eu-west-1:123456789012:key/k", "arn:aws:s3:::logs"
    document = role_policies.offboarding_policy(bucket_arn=bucket, kms_key_arn=key, region="eu-west-1",
                                                log_bucket_arn=logs)

    def granted(resource_prefix: str) -> set[str]:
        return {a for s in document["Statement"] if s["Effect"] == "Allow"
                for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])
                for r in ([s["Resource"]] if isinstance(s["Resource"], str) else s["Resource"])
                if r == resource_prefix or r.startswith(resource_prefix + "/")}

    assert granted(bucket) == set(model.actions_of(model.DATA_BUCKET, model.OFFBOARDING))
    assert granted(key) == set(model.actions_of(model.DATA_KEY, model.OFFBOARDING))
    assert granted(logs) == set(model.actions_of(model.LOG_BUCKET, model.OFFBOARDING))
