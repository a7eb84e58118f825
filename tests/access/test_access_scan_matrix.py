"""The malware-scan gate as an access matrix: every reader x every scan status, and every
way to write the scan tag, over the prod stack's real documents (reviewer configured).

Readers: every caller of the access matrix (backends, tenant sessions, the uploader, the
least-privilege policy, another account, anonymous, tenant sessions later given ``s3:*`` or
``*``), a backend role later given ``s3:*``, CloudFront for this distribution, the scanner
(GuardDuty's role) and the reviewer. Statuses: the five GuardDuty writes, and no tag (not
scanned yet). Tag writes: PutObjectTagging / PutObjectVersionTagging / DeleteObjectTagging /
DeleteObjectVersionTagging on an object carrying each status, the same Put*Tagging with the
scan key in the request on an unscanned object, and uploads (PutObject, CreateMultipartUpload)
that carry the key in ``x-amz-tagging``.

Two evaluators judge every cell: the project's IAM engine (the witness) and principalmapper
(a second opinion). They agree on every cell here: principalmapper's known gaps (case-folded
keys, variables in condition values, ``StringNotLike`` on a missing key) do not reach these
cells, because the gate's missing-tag case is ``StringNotEquals``, which principalmapper
treats as IAM does (``test_a_missing_tag_is_refused_by_both_readings`` shows both on the bare
condition, beside gap 3).
LocalStack and moto are not used: neither enforces bucket policies, and neither has GuardDuty.
"""

from __future__ import annotations

import dataclasses
import itertools

import pytest

from access import evaluator, pmapper
from access.evaluator import Caller, Check
from access.matrix import S3_STAR_POLICY, Cell, callers, checks_for, with_policy
from access.stack_access import stack_access
from components.scan_gate_policies import CLEAN, NOT_CLEAN, SCAN_TAG_KEY
from securestore.offline.engine import evaluate_stack
from access.test_access_matrix import ec2_mode, expected

REVIEWER = "arn:aws:iam::123456789012:role/security-reviewer"
STATUSES = (CLEAN,) + NOT_CLEAN + (None,)
READS = ("get", "get-version")
TAG_WRITES = ("s3:PutObjectTagging", "s3:PutObjectVersionTagging",
              "s3:DeleteObjectTagging", "s3:DeleteObjectVersionTagging")
TAGGED_UPLOADS = ("put", "mpu-create")
KEYS = ("acme/cv/2026/01/31/cv.pdf", "globex/po/2026/01/31/po.pdf", "public/logo.png")
REVIEWER_POLICY = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": ["s3:GetObject", "s3:GetObjectVersion", "kms:Decrypt"],
                   "Resource": "*"}],
}
"""What the reviewer's own identity policy grants (the stack does not create that role)."""


@pytest.fixture(scope="module")
def world():
    access = stack_access(evaluate_stack("prod", config_overrides={"malwareScanReviewerRoleArn": REVIEWER}))
    assert access.scanner is not None
    who = dict(callers(access))
    who["lambda-s3-star"] = dataclasses.replace(with_policy(who["lambda"], S3_STAR_POLICY), name="lambda-s3-star")
    who["scanner"] = Caller("scanner", access.account, access.scanner.arn, access.scanner.identity)
    who["reviewer"] = Caller("reviewer", access.account, REVIEWER, (REVIEWER_POLICY,))
    return access, who


def _verdicts(caller: Caller, checks: list[Check]) -> tuple[bool, bool]:
    return (all(evaluator.authorize(caller, c) for c in checks), all(pmapper.pm_authorize(caller, c) for c in checks))


def read_rows(world):
    access, who = world
    rows = []
    for name, operation, key, status in itertools.product(who, READS, KEYS, STATUSES):
        cell = Cell(name, operation, key, "tls1.3", None, scan_status=status)
        rows.append((cell, *_verdicts(who[name], checks_for(access, who[name], cell))))
    return rows


def may_read_when_clean(access, cell: Cell) -> bool:
    """What the access matrix promises for the same read of a clean object."""
    if cell.caller in ("scanner", "reviewer"):
        return True
    if cell.caller == "lambda-s3-star":
        return cell.transport == "tls1.3"
    return expected(dataclasses.replace(cell, scan_status=CLEAN), ec2_mode(access), gated=True)


@pytest.fixture(scope="module")
def reads(world):
    return read_rows(world)


def test_every_reader_reads_only_clean_objects(world, reads):
    """Attack class: reading a file that is infected, unscannable, or not scanned yet. For
    every reader, key and status, a read is allowed exactly when the same read of a clean
    object is, and the status is NO_THREATS_FOUND; the scanner and the reviewer read all."""
    access, _ = world
    unexpected = []
    for cell, ours, _ in reads:
        promise = may_read_when_clean(access, cell) and (
            cell.scan_status == CLEAN or cell.caller in ("scanner", "reviewer"))
        if ours != promise:
            unexpected.append(f"{cell}: got {ours}")
    assert len(reads) == len(world[1]) * len(READS) * len(KEYS) * len(STATUSES)
    assert unexpected == []


def test_matrix_is_not_vacuous(reads):
    """Clean objects are read by the roles that read; quarantine is read by exactly two."""
    clean = {cell.caller for cell, ours, _ in reads if ours and cell.scan_status == CLEAN}
    assert {"lambda", "ec2", "tenant-acme", "managed-policy", "scanner", "reviewer"} <= clean
    unclean = {cell.caller for cell, ours, _ in reads if ours and cell.scan_status != CLEAN}
    assert unclean == {"scanner", "reviewer"}


@pytest.mark.parametrize("status", STATUSES)
def test_cloudfront_serves_only_clean_objects(world, status):
    """CloudFront (this distribution, OAC) is a reader like any other: a signed URL to an
    infected or unscanned object answers 403 at the origin."""
    access, _ = world
    cloudfront = Caller("cloudfront", service="cloudfront.amazonaws.com")
    source = next(s for s in access.bucket_policy["Statement"]
                  if s.get("Principal") == {"Service": "cloudfront.amazonaws.com"})["Condition"]["StringEquals"]
    context = {"aws:SecureTransport": "true", "s3:TlsVersion": "1.3", **source}
    if status:
        context[f"s3:ExistingObjectTag/{SCAN_TAG_KEY}"] = status
    check = Check("s3:GetObject", f"{access.bucket_arn}/public/logo.png", context, access.bucket_policy,
                  access.account)
    assert evaluator.authorize(cloudfront, check) is (status == CLEAN)
    assert pmapper.pm_authorize(cloudfront, check) is (status == CLEAN)


def tag_write_rows(world):
    """Every tag-writing attempt by every caller on the first tenant's key."""
    access, who = world
    key = KEYS[0]
    rows = []
    for name in who:
        caller = who[name]
        for action, status in itertools.product(TAG_WRITES, STATUSES):
            request = ("project",) if "Put" in action else ()
            cell = Cell(name, "object:" + action.removeprefix("s3:"), key, "tls1.3", None,
                        scan_status=status, request_tag_keys=request)
            rows.append((cell, *_verdicts(caller, checks_for(access, caller, cell))))
        for action in TAG_WRITES[:2]:
            cell = Cell(name, "object:" + action.removeprefix("s3:"), key, "tls1.3", None,
                        scan_status=None, request_tag_keys=(SCAN_TAG_KEY,))
            rows.append((cell, *_verdicts(caller, checks_for(access, caller, cell))))
        for operation in TAGGED_UPLOADS:
            cell = Cell(name, operation, key, "tls1.3", "default", scan_status=None,
                        request_tag_keys=(SCAN_TAG_KEY,))
            rows.append((cell, *_verdicts(caller, checks_for(access, caller, cell))))
    return rows


@pytest.fixture(scope="module")
def tag_writes(world):
    return tag_write_rows(world)


def _forges(cell: Cell) -> bool:
    """The attempt sets, changes or removes the scan tag."""
    return SCAN_TAG_KEY in cell.request_tag_keys or cell.scan_status is not None


def test_nobody_but_the_scanner_writes_the_scan_tag(tag_writes):
    """Attack class: forging or removing the verdict (tag at upload, tag afterwards, delete
    the tags, version forms), including by sessions later given ``s3:*`` or ``*`` and a
    backend given ``s3:*``. Refused to everyone but the scanner, whatever the status."""
    forged = [str(cell) for cell, ours, _ in tag_writes if ours and _forges(cell) and cell.caller != "scanner"]
    assert forged == []
    scanner = {(cell.operation, cell.scan_status) for cell, ours, _ in tag_writes
               if ours and cell.caller == "scanner"}
    assert ("object:PutObjectTagging", None) in scanner and ("object:PutObjectTagging", "THREATS_FOUND") in scanner


def test_uploads_and_other_tags_keep_working_untagged(world, tag_writes):
    """Not a deny-everything gate: an upload without tags is allowed to whoever may upload,
    and tagging an unscanned object with another key stays possible for a session given s3:*."""
    access, who = world
    for name in ("tenant-acme", "uploader-acme", "lambda"):
        cell = Cell(name, "put", KEYS[0], "tls1.3", "default", scan_status=None)
        assert _verdicts(who[name], checks_for(access, who[name], cell)) == (True, True), name
    other = [cell for cell, ours, _ in tag_writes
             if ours and cell.caller == "lambda-s3-star" and not _forges(cell)]
    assert other, "another tag on an unscanned object"


def test_a_missing_tag_is_refused_by_both_readings():
    """IAM: "If the policy condition requires that the key is not matched, such as
    StringNotLike or ArnNotLike, and the right key is not present, the condition is true"
    (IAM User Guide, "IAM JSON policy elements: Condition operators",
    https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html).
    So the gate's Deny with StringNotEquals matches an object without the tag. Our engine and
    principalmapper both read StringNotEquals so; principalmapper's StringNotLike does not (gap 3)."""
    not_clean = {"StringNotEquals": {f"s3:ExistingObjectTag/{SCAN_TAG_KEY}": CLEAN}}
    assert evaluator._condition_matches(not_clean, {}) is True
    assert pmapper.simulation._get_condition_match(not_clean, pmapper.CaseInsensitiveDict({})) is True
    like = {"StringNotLike": {f"s3:ExistingObjectTag/{SCAN_TAG_KEY}": CLEAN}}
    assert evaluator._condition_matches(like, {}) is True
    assert pmapper.simulation._get_condition_match(like, pmapper.CaseInsensitiveDict({})) is False


def test_principalmapper_agrees_outside_its_gaps(reads, tag_writes):
    """principalmapper agrees on every read and tag-write cell (none of its gaps applies:
    no key here differs only by case, no condition value holds a variable)."""
    disagree = [f"{cell}: ours {ours}, principalmapper {theirs}"
                for cell, ours, theirs in reads + tag_writes if ours != theirs]
    assert disagree == []
