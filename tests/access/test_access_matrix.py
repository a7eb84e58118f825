"""Tenant isolation by IAM, proven by an access matrix over the stack's real documents.

Callers (Lambda, EC2, a role holding only the least-privilege managed policy, uploader
tagged acme, tenant role as acme and as globex, a principal of another account, anonymous) x operations (get, put, delete, list, multipart create /
upload part / complete / abort / list parts) x keys (acme/, globex/, public/, root, tricky
ones) x transport (TLS 1.3, TLS 1.1, plain HTTP) x encryption headers. Every document
comes from the offline graph of the stack (what ``pulumi up`` would create); the expected
outcome of every cell is ``expected()`` below, written from the product promise.

Two evaluators judge each cell: our small IAM evaluator (``access.evaluator``) on every
cell, and principalmapper on every cell outside its known gaps, which are each shown here.
"""

from __future__ import annotations

import dataclasses
from typing import Callable

import pytest

from components import access_model

from access import evaluator, pmapper
from access.matrix import (
    ATTACKERS,
    BUCKET_OPERATION,
    OBJECT_ATTACK_OPERATION,
    OBJECT_OPERATIONS,
    OPERATIONS,
    Cell,
    callers,
    cells,
    checks_for,
    TrustCell,
    broker_arn,
    has_dot_or_empty_segment,
    trust_callers,
    trust_cells,
    trust_check,
)
from components import access_model
from securestore.offline.engine import evaluate_stack
from securestore.offline.mocks import DEFAULT_ACCOUNT_ID
from access.stack_access import StackAccess, stack_access

KeyRule = Callable[[str], bool]

ANY_KEY: KeyRule = lambda key: True  # noqa: E731
DOWNLOADS = ("get", "get-version", "get-attributes", "get-version-attributes")
"""Every request ``securestore download`` makes (see ``OBJECT_OPERATIONS``): whoever may read
an object may make all of them, or objects written by other tools cannot be downloaded."""
UPLOADS = ("put", "mpu-create", "mpu-upload-part", "mpu-complete", "mpu-abort", "mpu-list-parts")
PUT_OBJECT_OPERATIONS = tuple(op for op, (action, _, _) in OBJECT_OPERATIONS.items() if action == "s3:PutObject")
OFFBOARDING_ONLY = ("delete-version",)
"""Removing a version for good: only the offboarding role (not even a tenant session given
``s3:*`` later, inside its own prefix); everyone else deletes by adding a delete marker."""
OFFBOARDING_OPERATIONS = DOWNLOADS + ("delete", "delete-version", "mpu-abort", "mpu-list-parts")
TENANT_OF = {"uploader-acme": "acme", "tenant-acme": "acme", "tenant-globex": "globex"} | dict.fromkeys(ATTACKERS, "acme")
"""Callers that carry a ``tenant_id`` tag, and its value."""


def under(prefix: str) -> KeyRule:
    """Keys (or list prefixes) inside ``prefix``. ``acme/../globex/x`` IS inside ``acme/``:
    S3 keys are literal strings, so that object lives under acme/ and nowhere else."""
    return lambda key: key.startswith(prefix)


def grants(caller: str, ec2_mode: str) -> dict[str, KeyRule]:
    """What each caller may do, by operation, over TLS >= 1.2 with acceptable encryption."""
    everything = {operation: ANY_KEY for operation in OPERATIONS if operation not in OFFBOARDING_ONLY}
    if caller in ("lambda", "managed-policy"):
        return everything
    if caller == "ec2":
        return everything if ec2_mode == "read-write" else {**dict.fromkeys(DOWNLOADS, ANY_KEY), "list": ANY_KEY}
    if caller == "uploader-acme":
        return {operation: under("acme/") for operation in UPLOADS}
    if caller in ("tenant-acme", "tenant-globex"):
        return {operation: under(f"{TENANT_OF[caller]}/") for operation in OPERATIONS if operation not in OFFBOARDING_ONLY}
    if caller in ATTACKERS:
        # The attackers: a later s3:* or * policy gains nothing outside the prefix, and the
        # tenant boundary keeps versions out of reach even inside it.
        return {operation: under(f"{TENANT_OF[caller]}/") for operation in OPERATIONS if operation not in OFFBOARDING_ONLY}
    if caller == "offboarding":
        # Every tenant's keys (any "<segment>/" but public/), as the access model declares.
        any_tenant = lambda key: access_model._in_scope(access_model.ANY_TENANT_PREFIX, key, None)  # noqa: E731
        return {**{operation: any_tenant for operation in OFFBOARDING_OPERATIONS}, "list": ANY_KEY}
    if caller in ("other-account", "anonymous"):
        return {}
    raise KeyError(caller)


SCAN_TAG_WRITES = {"s3:PutObjectTagging", "s3:PutObjectVersionTagging", "s3:DeleteObjectTagging",
                   "s3:DeleteObjectVersionTagging", "s3:ReplicateObject", "s3:ReplicateTags"}
"""With the malware-scan gate, nobody but the scanner rewrites a scanned object's tags
(the base matrix's objects carry the clean tag) or replicates objects in."""


def expected(cell: Cell, ec2_mode: str, gated: bool = False) -> bool:
    if cell.operation.startswith(BUCKET_OPERATION):
        return False  # nobody changes or deletes the bucket or its configuration at run time
    if gated and cell.operation.startswith(OBJECT_ATTACK_OPERATION) and \
            "s3:" + cell.operation.removeprefix(OBJECT_ATTACK_OPERATION) in SCAN_TAG_WRITES:
        return False  # see tests/access/test_access_scan_matrix.py for every tag-writing attempt
    if cell.operation.startswith(OBJECT_ATTACK_OPERATION):
        # only the over-broad tenant sessions get these rows: what the access model grants
        # tenant sessions (components/access_model.py), own prefix only
        action = "s3:" + cell.operation.removeprefix(OBJECT_ATTACK_OPERATION)
        return access_model.allowed(access_model.DATA_BUCKET, access_model.TENANT, action,
                                    key=cell.key, tenant=TENANT_OF[cell.caller])
    if cell.operation in PUT_OBJECT_OPERATIONS and has_dot_or_empty_segment(cell.key):
        return False  # keys CloudFront would normalize onto another path cannot be written
    if cell.transport != "tls1.3":
        return False  # plain HTTP and TLS < 1.2 are denied to everyone
    if cell.encryption not in (None, "default", "right-key"):
        return False  # SSE-S3, another KMS key or SSE-C are refused on upload
    rule = grants(cell.caller, ec2_mode).get(cell.operation)
    return rule is not None and rule(cell.key)


def ec2_mode(access: StackAccess) -> str:
    sids = {s.get("Sid") for doc in access.roles["ec2"].identity for s in doc["Statement"]}
    return "read-write" if "AllowObjectReadWriteDeleteInTheDataBucket" in sids else "read-only"


@pytest.fixture(scope="module")
def matrices(graphs):
    """Per stack: the access documents, the callers, and every cell with both verdicts."""
    built = {}
    for stack, graph in graphs.items():
        access = stack_access(graph)
        who = callers(access)
        rows = []
        for cell in cells(who):
            checks = checks_for(access, who[cell.caller], cell)
            ours = all(evaluator.authorize(who[cell.caller], c) for c in checks)
            theirs = all(pmapper.pm_authorize(who[cell.caller], c) for c in checks)
            rows.append((cell, ours, theirs))
        built[stack] = (access, who, rows)
    return built


@pytest.fixture(params=["dev", "prod"])
def matrix(request, matrices):
    return matrices[request.param]


def test_stacks_cover_both_ec2_modes(matrices):
    """The matrix sees EC2 read-write (dev) and read-only (prod)."""
    assert {ec2_mode(access) for access, _, _ in matrices.values()} == {"read-only", "read-write"}


def test_matrix_has_no_unexpected_cell(matrix):
    """Every cell of the matrix is allowed or denied exactly as the promise says."""
    access, _, rows = matrix
    mode = ec2_mode(access)
    gated = access.scanner is not None
    unexpected = [f"{cell}: got {ours}" for cell, ours, _ in rows if ours != expected(cell, mode, gated)]
    assert len(rows) > 2500
    assert unexpected == []


def test_matrix_allows_what_each_role_is_for(matrix):
    """Not a deny-everything matrix: each role's purpose is allowed somewhere."""
    _, _, rows = matrix
    allowed_callers = {cell.caller for cell, ours, _ in rows if ours}
    assert allowed_callers == {
        "lambda", "ec2", "managed-policy", "uploader-acme", "tenant-acme", "tenant-globex", "offboarding", *ATTACKERS
    }


def test_no_tenant_session_reaches_another_prefix(matrix):
    """A session tagged with a tenant is allowed nothing outside ``<tenant>/`` by any key tried."""
    _, _, rows = matrix
    escapes = [
        str(cell)
        for cell, ours, _ in rows
        if ours and cell.caller in TENANT_OF and not cell.key.startswith(TENANT_OF[cell.caller] + "/")
    ]
    assert escapes == []


@pytest.mark.parametrize("attacker", ATTACKERS)
def test_over_broad_tenant_session_cannot_change_the_bucket(matrix, attacker):
    """Attack class: a tenant session later given ``s3:*`` or ``*`` turns off the bucket's
    protections (DeleteBucketPolicy, PutLifecycleConfiguration, PutBucketVersioning, ...).
    Every bucket-level Put*/Delete* action in AWS's S3 action list is denied to it."""
    _, _, rows = matrix
    bucket_rows = [(cell, ours) for cell, ours, _ in rows if cell.caller == attacker and cell.operation.startswith(BUCKET_OPERATION)]
    assert len(bucket_rows) >= 20
    assert [str(cell) for cell, ours in bucket_rows if ours] == []


@pytest.mark.parametrize("attacker", ATTACKERS)
def test_over_broad_tenant_session_reaches_no_foreign_object(matrix, attacker):
    """Attack class: a tenant session later given ``s3:*`` or ``*`` uses any object action
    (tagging, ACLs, retention, restore, ...) on another tenant's or ``public/`` keys."""
    _, _, rows = matrix
    object_rows = [(cell, ours) for cell, ours, _ in rows if cell.caller == attacker and cell.operation.startswith(OBJECT_ATTACK_OPERATION)]
    assert {cell.key for cell, ours in object_rows if ours} == {"acme/x"}


def test_nobody_writes_a_dot_or_empty_segment_key_under_its_prefix(matrix):
    """Attack class: a tenant writes ``acme/../public/evil.html`` (a literal key under its
    prefix) that CloudFront would serve, path-normalized, through the unsigned ``public/*``
    behaviour. The bucket policy refuses every such write, for every caller and form."""
    _, _, rows = matrix
    written = [
        str(cell) for cell, ours, _ in rows
        if ours and cell.operation in PUT_OBJECT_OPERATIONS and has_dot_or_empty_segment(cell.key)
    ]
    assert written == []
    assert any(has_dot_or_empty_segment(cell.key) and cell.caller == "tenant-acme" for cell, _, _ in rows)


def _pm_expected(cell: Cell, mode: str, gated: bool = False) -> bool:
    """principalmapper matches Resource ARNs case-insensitively (gap 1), so for object
    operations it answers ``ACME/x`` as if it were ``acme/x``; everything else is as IAM."""
    if cell.operation in OBJECT_OPERATIONS or cell.operation.startswith(OBJECT_ATTACK_OPERATION):
        return expected(dataclasses.replace(cell, key=cell.key.lower()), mode, gated)
    if cell.operation == "list" and cell.key == "" and cell.caller in ATTACKERS:
        # gap 3: a tagged session whose identity may list the whole bucket lists without a
        # prefix; IAM's StringNotLike matches the missing s3:prefix, principalmapper's not.
        return cell.transport == "tls1.3"
    return expected(cell, mode, gated)


def test_principalmapper_agrees_on_every_cell_outside_its_gaps(matrix):
    """principalmapper gives the expected verdict on every cell, except that it folds case
    (gap 1) and misses a missing ``s3:prefix`` under ``StringNotLike`` (gap 3)."""
    access, _, rows = matrix
    mode = ec2_mode(access)
    gated = access.scanner is not None
    disagreements = [f"{cell}: principalmapper {theirs}" for cell, _, theirs in rows
                     if theirs != _pm_expected(cell, mode, gated)]
    assert disagreements == []
    differ = [cell for cell, ours, theirs in rows if ours != theirs]
    assert differ and all(cell.key == "ACME/x" or (cell.operation, cell.key) == ("list", "") for cell in differ)


UNSAFE_KEYS = (
    "acme/../public/evil.html", "acme/./x", "acme/x/..", "acme/x/.", "acme/..", "acme/.",
    "acme//x", "acme/x//", "../acme/x", "./acme/x", "/acme/x", "..", ".",
)
SAFE_KEYS = ("acme/x", "acme/dir/", "acme/.hidden", "acme/x..y", "acme/.../x", "acme/x.")


@pytest.mark.parametrize("key", UNSAFE_KEYS + SAFE_KEYS)
def test_bucket_policy_refuses_every_form_of_dot_or_empty_segment_key(matrix, key):
    """Attack class: a key CloudFront would normalize onto another path (first, middle,
    last or only segment ``.``/``..``, or an empty segment). Lambda (whole-bucket writes)
    puts each form: refused exactly when the key has such a segment, by both evaluators.
    Dots inside a segment and a trailing ``/`` (folder marker) stay writable."""
    access, who, _ = matrix
    unsafe = has_dot_or_empty_segment(key)
    assert unsafe is (key in UNSAFE_KEYS)
    checks = checks_for(access, who["lambda"], Cell("lambda", "put", key, "tls1.3", "default"))
    assert all(evaluator.authorize(who["lambda"], c) for c in checks) is not unsafe
    assert all(pmapper.pm_authorize(who["lambda"], c) for c in checks) is not unsafe


# --- trust: a caller may request only its own tenant, unless it is a named broker ----------

BROKER_CONFIG = {"tenantBrokerPrincipalArns": [broker_arn(DEFAULT_ACCOUNT_ID)]}
OWN_TENANT = {"user-tagged-acme": "acme", "broker-tagged-acme": "acme", "lambda-tagged-acme": "acme"}
MAY_ASSUME = {
    "uploader": {"user-tagged-acme", "user-untagged", "broker", "broker-tagged-acme"},
    "tenant": {"lambda", "lambda-tagged-acme", "broker", "broker-tagged-acme"},
}
"""Whom identity and trust let in at all: the uploader trusts this account (its principals
need their own permission), the tenant role the backends and the brokers."""
BROKERS = {"broker", "broker-tagged-acme", "lambda", "lambda-tagged-acme"}
"""Named brokers (configured; the Lambda role is a built-in broker of the tenant role)."""


def trust_expected(cell: TrustCell) -> bool:
    """A tagged caller gets only its own tenant, broker or not; an untagged broker any
    tenant; an untagged non-broker nothing."""
    if cell.caller not in MAY_ASSUME[cell.role]:
        return False
    if cell.caller in OWN_TENANT:
        return cell.tenant == OWN_TENANT[cell.caller]
    return cell.caller in BROKERS


def trust_rows_for(stack: str) -> list:
    """With a broker configured: every trust cell of ``stack`` with both verdicts."""
    access = stack_access(evaluate_stack(stack, config_overrides=BROKER_CONFIG))
    who = trust_callers(access)
    rows = []
    for cell in trust_cells(who):
        check = trust_check(access, cell)
        rows.append((cell, evaluator.authorize(who[cell.caller], check), pmapper.pm_authorize(who[cell.caller], check)))
    return rows


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_a_caller_requests_only_its_own_tenant_unless_it_is_a_broker(stack):
    """Attack class: a caller chooses its own tenant. A principal tagged acme (user, broker
    or backend session) asking the uploader or tenant role for ``tenant_id=globex``, or an
    untagged principal of the account that is no broker asking for any tenant, is refused;
    a named broker gets any tenant. Both evaluators agree on every cell."""
    rows = trust_rows_for(stack)
    assert len(rows) == 2 * 7 * 2 * 2
    unexpected = [f"{cell}: got {ours}" for cell, ours, _ in rows if ours != trust_expected(cell)]
    assert unexpected == []
    assert [str(cell) for cell, ours, theirs in rows if ours != theirs] == []
    allowed = {(cell.role, cell.caller, cell.tenant) for cell, ours, _ in rows if ours}
    assert ("uploader", "broker", "globex") in allowed and ("uploader", "user-tagged-acme", "acme") in allowed


# --- principalmapper's gaps, each on one concrete request ---------------------------------


def _one(matrix, caller: str, operation: str, key: str, encryption=None):
    access, who, _ = matrix
    cell = Cell(caller, operation, key, "tls1.3", encryption)
    return who[caller], checks_for(access, who[caller], cell)


def test_gap_principalmapper_folds_case_of_object_keys(matrix):
    """Gap 1: S3 keys are case-sensitive; principalmapper lets tenant acme read ``ACME/x``."""
    caller, checks = _one(matrix, "tenant-acme", "get", "ACME/x")
    assert evaluator.authorize(caller, checks[0]) is False
    assert pmapper.pm_authorize(caller, checks[0]) is True


def test_gap_principalmapper_leaves_variables_in_condition_values(matrix):
    """Gap 2: without substituting ``${aws:PrincipalTag/tenant_id}`` in ``s3:prefix``
    conditions principalmapper denies acme listing ``acme/``; IAM allows it, and so do we
    and principalmapper once the variable is resolved as IAM resolves it."""
    access, who, _ = matrix
    caller, (check,) = _one(matrix, "tenant-acme", "list", "acme/")
    assert evaluator.authorize(caller, check) is True
    assert pmapper.pm_authorize(caller, check) is True
    raw = pmapper._new_node(caller)
    raw.attached_policies = [pmapper.Policy(caller.arn, "raw", doc) for doc in caller.identity]
    assert pmapper.local_check_authorization_full(
        raw, check.action, check.resource, dict(check.context),
        resource_policy=access.bucket_policy, resource_owner=access.account,
    ) is False


def test_gap_principalmapper_string_not_like_on_missing_key():
    """Gap 3: IAM's ``StringNotLike`` matches when the key is absent; principalmapper's not."""
    condition = {"StringNotLike": {"s3:prefix": "acme/*"}}
    assert evaluator._condition_matches(condition, {}) is True
    assert pmapper.simulation._get_condition_match(condition, pmapper.CaseInsensitiveDict({})) is False


# --- defence in depth: the bucket policy alone keeps tenants apart ------------------------


@pytest.mark.parametrize(
    "key,allowed",
    [
        ("acme/invoices/2026/01/31/po-1.pdf", True),
        ("globex/invoices/2026/01/31/po-2.pdf", False),
        ("public/logo.png", False),
        ("readme.txt", False),
        ("acme-evil/x", False),
        ("ACME/x", False),
    ],
)
def test_bucket_policy_confines_a_tagged_session_with_a_too_broad_policy(matrix, key, allowed):
    """A session tagged acme that carries the Lambda role's whole-bucket policy still
    reaches only ``acme/``: the bucket policy denies everything else."""
    access, who, _ = matrix
    broad = dataclasses.replace(who["lambda"], name="broad-acme", tags={"tenant_id": "acme"})
    for operation in ("get", "put", "delete"):
        checks = checks_for(access, broad, Cell("broad-acme", operation, key, "tls1.3", "default"))
        assert all(evaluator.authorize(broad, c) for c in checks) is allowed, operation
        assert all(pmapper.pm_authorize(broad, c) for c in checks) is (allowed or key == "ACME/x")


@pytest.mark.parametrize("action", ["s3:ListBucket", "s3:ListBucketVersions", "s3:ListBucketMultipartUploads"])
@pytest.mark.parametrize("prefix,allowed", [("acme/", True), ("acme", False), ("globex/", False), ("", False)])
def test_bucket_policy_confines_listing_of_a_tagged_session(matrix, action, prefix, allowed):
    """A session tagged acme that may list the whole bucket (keys, versions, uploads) lists
    only under ``acme/``; no prefix counts as outside. Versions and open uploads are not in
    the access model's tenant grants: refused under any prefix."""
    access, who, _ = matrix
    lister = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": action, "Resource": access.bucket_arn}]}
    broad = dataclasses.replace(who["lambda"], name="broad-acme", identity=(lister,), tags={"tenant_id": "acme"})
    (check,) = checks_for(access, broad, Cell("broad-acme", "list", prefix, "tls1.3", None))
    check = dataclasses.replace(check, action=action)
    allowed = allowed and action == "s3:ListBucket"
    assert evaluator.authorize(broad, check) is allowed
    # principalmapper misses the no-prefix case (gap 3) and only that one.
    assert pmapper.pm_authorize(broad, check) is (allowed or (prefix == "" and action == "s3:ListBucket"))


# --- any key: a property over random tenants and adversarial keys -------------------------

from hypothesis import HealthCheck, given, settings, strategies as st  # noqa: E402
from support.hypothesis_profiles import examples  # noqa: E402

from securestore.keys import RESERVED_TENANT_IDS, TENANT_ID_PATTERN  # noqa: E402

TENANT_IDS = st.from_regex(TENANT_ID_PATTERN, fullmatch=True).filter(lambda t: t.lower() not in RESERVED_TENANT_IDS)
KEY_TEXT = st.text(alphabet="aAcmeEgGlobx-_/.*?${}% ", max_size=24)


@st.composite
def tenant_and_key(draw):
    tenant = draw(TENANT_IDS)
    other = draw(TENANT_IDS)
    head = draw(st.sampled_from([tenant, other, tenant.upper(), tenant.lower(), tenant[:-1], tenant + "-", ""]))
    separator = draw(st.sampled_from(["/", "", "-", "/../", "//"]))
    return tenant, head + separator + draw(KEY_TEXT)


@settings(max_examples=examples(150), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=tenant_and_key(), operation=st.sampled_from(["get", "put", "delete", "list"]))
def test_a_tenant_session_reaches_exactly_its_prefix_for_any_key(matrices, case, operation):
    """For random tenant ids and adversarial keys, a tenant session is allowed iff the key
    (or list prefix) starts with ``<tenant_id>/``, byte for byte."""
    tenant, key = case
    if operation != "list" and not key:
        return
    access, who, _ = matrices["dev"]
    session = dataclasses.replace(who["tenant-acme"], name=f"tenant-{tenant}", tags={"tenant_id": tenant})
    cell = Cell(session.name, operation, key, "tls1.3", "default" if operation == "put" else None)
    checks = checks_for(access, session, cell)
    writable = not (operation == "put" and has_dot_or_empty_segment(key))
    inside = key.startswith(f"{tenant}/") and writable
    assert all(evaluator.authorize(session, c) for c in checks) is inside
    folded_inside = key.lower().startswith(f"{tenant.lower()}/") and writable if operation != "list" else inside
    assert all(pmapper.pm_authorize(session, c) for c in checks) is folded_inside


class _RecordingS3:
    """Answers a download of a versioned object another tool uploaded in 3 parts (composite
    CRC32, no part-size metadata of ours), and records every request the download makes."""

    def __init__(self, data: bytes, part: int) -> None:
        import base64
        import zlib

        self.data, self.part, self.calls = data, part, []
        chunks = [data[i:i + part] for i in range(0, len(data), part)]
        digests = b"".join(zlib.crc32(c).to_bytes(4, "big") for c in chunks)
        self.checksum = base64.b64encode(zlib.crc32(digests).to_bytes(4, "big")).decode() + f"-{len(chunks)}"
        self.sizes = [len(c) for c in chunks]

    def head_object(self, **params):
        self.calls.append(("HeadObject", params))
        return {"ContentLength": len(self.data), "ETag": '"abc-3"', "VersionId": "v1",
                "ChecksumCRC32": self.checksum, "Metadata": {}}

    def get_object_attributes(self, **params):
        self.calls.append(("GetObjectAttributes", params))
        return {"ObjectParts": {"IsTruncated": False, "Parts": [
            {"PartNumber": n + 1, "Size": size} for n, size in enumerate(self.sizes)]}}

    def get_object(self, **params):
        import io

        self.calls.append(("GetObject", params))
        start, end = (int(x) for x in params["Range"].removeprefix("bytes=").split("-"))
        body = self.data[start:end + 1]
        return {"Body": io.BytesIO(body), "ContentRange": f"bytes {start}-{end}/{len(self.data)}",
                "ResponseMetadata": {"HTTPStatusCode": 206}}


def _iam_action(operation: str, params: dict) -> str:
    """The IAM action S3 authorises a request as (AWS's S3 actions table)."""
    versioned = "VersionId" in params
    if operation in ("HeadObject", "GetObject"):
        return "s3:GetObjectVersion" if versioned else "s3:GetObject"
    if operation == "GetObjectAttributes":
        return "s3:GetObjectVersionAttributes" if versioned else "s3:GetObjectAttributes"
    raise AssertionError(f"the download made a request this test does not map: {operation}")


@pytest.mark.parametrize("caller", ["tenant-acme", "ec2", "lambda", "managed-policy"])
def test_whoever_may_read_may_make_every_request_a_download_makes(matrices, caller, tmp_path):
    """Class: a role that may read objects but lacks a permission the download path needs
    (before: the tenant role had neither s3:GetObjectVersion, which a GET pinned to the version
    it saw needs, nor GetObject(Version)Attributes, which the part layout of an aws-cli,
    rclone or boto3 multipart object needs: tenants could not download such objects at all).
    The requests are those ``download_file`` really makes, recorded; our IAM evaluator is the
    witness (LocalStack and moto enforce no IAM)."""
    import os

    from securestore.transfer import MiB, TransferConfig, download_file

    fake = _RecordingS3(os.urandom(11 * MiB), 5 * MiB)
    download_file(fake, "bucket", "acme/x", tmp_path / "x", config=TransferConfig(part_size=5 * MiB))
    needed = {_iam_action(operation, params) for operation, params in fake.calls}
    assert {"s3:GetObjectVersion", "s3:GetObjectVersionAttributes"} <= needed
    by_action = {action: operation for operation, (action, _, _) in OBJECT_OPERATIONS.items()}
    assert needed <= set(by_action), "the matrix has a row for every request a download makes"
    for stack, (access, who, _) in matrices.items():
        for action in sorted(needed):
            cell = Cell(caller, by_action[action], "acme/x", "tls1.3", None)
            allowed = all(evaluator.authorize(who[caller], check)
                          for check in checks_for(access, who[caller], cell))
            assert allowed, f"{stack}: {caller} may read but not {action}, which a download needs"
