"""Tenant erase / export / usage against LocalStack's S3: versions, delete markers, open
uploads of several tenants with look-alike ids, many listing pages, an interruption and a
resume, Object Lock refusals.

LocalStack is a second functional S3 beside moto (its own listing markers, DeleteObjects
answers and Object Lock checks). Neither is a witness of access: LocalStack community does not
enforce IAM or bucket policies, so the offboarding role's limits are proven by the IAM engine
(tests/access/test_offboarding_and_inventory.py).
"""

from __future__ import annotations

import datetime as _dt
import json
import uuid

import boto3
import pytest
from botocore.config import Config

from securestore.tenant.erase import erase_tenant, manifest_text
from securestore.tenant.export import export_tenant
from securestore.tenant.usage import usage_from_listing
from securestore.transfer import make_s3_client

try:
    from support.tenant_data import LOOK_ALIKES, CallLog, bulk_versions, listing, seed
except ImportError:  # pragma: no cover - when tests/ is a package
    from tests.support.tenant_data import LOOK_ALIKES, CallLog, bulk_versions, listing, seed

pytestmark = pytest.mark.localstack


@pytest.fixture(scope="module")
def s3(localstack):
    session = boto3.session.Session(aws_access_key_id="test", aws_secret_access_key="test",
                                    region_name=localstack.region)
    return make_s3_client(session, region_name=localstack.region, endpoint_url=localstack.endpoint_url,
                          concurrency=8)


def _bucket(s3, localstack, **extra) -> str:
    name = f"tenants-{uuid.uuid4().hex[:10]}"
    s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": localstack.region}, **extra)
    if not extra:
        s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    return name


class Killed(BaseException):
    """SIGKILL right after a DeleteObjects request reached S3."""


def test_erase_with_look_alikes_pages_interruption_and_resume(s3, localstack, tmp_path):
    """Everything of ``acme`` goes (versions, markers, uploads) over many listing pages, across
    a kill after the 2nd DeleteObjects and a resume; ``acmecorp``, ``acme-eu`` and ``ACME``
    are byte-for-byte what they were; the manifest covers both runs exactly once."""
    bucket = _bucket(s3, localstack)
    stored = seed(s3, bucket, keys=6)
    stored["acme"].versions |= bulk_versions(s3, bucket, "acme", 60)
    before = {t: listing(s3, bucket, t + "/") for t in LOOK_ALIKES}

    def die(number, params, real):
        answer = real()
        if number == 2:
            raise Killed()
        return answer

    with pytest.raises(Killed):
        erase_tenant(CallLog(s3, {"delete_objects": die}), bucket, "acme", state_dir=tmp_path,
                     page_size=9, batch_size=7, concurrency=3)
    log = CallLog(s3)
    report = erase_tenant(log, bucket, "acme", state_dir=tmp_path, page_size=9, batch_size=7, concurrency=3)
    assert report.resumed and report.replayed_batches >= 1 and report.complete, json.dumps(report.summary())[:3000]
    assert log.count("list_object_versions") > 3
    assert listing(s3, bucket, "acme/") == (set(), set(), set())
    for tenant in LOOK_ALIKES[1:]:
        assert listing(s3, bucket, tenant + "/") == before[tenant]
    assert open(report.manifest_path).read() == manifest_text(stored["acme"].refs)
    assert report.uploads == len(stored["acme"].uploads)


def test_export_and_usage(s3, localstack, tmp_path):
    bucket = _bucket(s3, localstack)
    stored = seed(s3, bucket, ["acme", "acmecorp"])
    report = export_tenant(s3, bucket, "acme", tmp_path / "out")
    assert report.complete and report.files == len(stored["acme"].current)
    for key, body in stored["acme"].current.items():
        assert (tmp_path / "out" / key[len("acme/"):]).read_bytes() == body
    usage = usage_from_listing(s3, bucket)
    assert usage["acme"].current_objects == len(stored["acme"].current)
    assert usage["acme"].current_bytes + usage["acme"].noncurrent_bytes == stored["acme"].bytes
    assert usage["acme"].open_uploads == 1 and usage["acmecorp"].delete_markers == 1


def test_object_lock_is_reported_and_never_bypassed(s3, localstack, tmp_path):
    """LocalStack refuses deleting a version under retention or legal hold; the erasure
    reports each such version and sends no BypassGovernanceRetention."""
    bucket = _bucket(s3, localstack, ObjectLockEnabledForBucket=True)
    until = _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0) + _dt.timedelta(days=2)
    kept = s3.put_object(Bucket=bucket, Key="acme/a/2026/01/31/kept.pdf", Body=b"k",
                         ObjectLockMode="GOVERNANCE", ObjectLockRetainUntilDate=until)["VersionId"]
    held = s3.put_object(Bucket=bucket, Key="acme/a/2026/01/31/held.pdf", Body=b"h",
                         ObjectLockLegalHoldStatus="ON")["VersionId"]
    free = s3.put_object(Bucket=bucket, Key="acme/a/2026/01/31/free.pdf", Body=b"f")["VersionId"]
    log = CallLog(s3)
    report = erase_tenant(log, bucket, "acme", state_dir=tmp_path)
    assert {(lv.key, lv.version_id) for lv in report.locked} == {
        ("acme/a/2026/01/31/kept.pdf", kept), ("acme/a/2026/01/31/held.pdf", held)}
    assert not report.complete and report.remaining_versions == 2
    assert all("BypassGovernanceRetention" not in params for _, params in log.calls)
    remaining = listing(s3, bucket, "acme/")[0]
    assert ("acme/a/2026/01/31/free.pdf", free) not in remaining and len(remaining) == 2
    s3.put_object_legal_hold(Bucket=bucket, Key="acme/a/2026/01/31/held.pdf", VersionId=held,
                             LegalHold={"Status": "OFF"})
