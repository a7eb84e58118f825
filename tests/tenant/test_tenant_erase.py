"""``erase_tenant``: every version, delete marker and open upload of one tenant, nothing else.

The promises, one test each: look-alike tenants untouched (and a listing that hands back a
foreign key cannot make us delete it), the report and its manifest, the dry run, paging,
parallel batches, throttling, per-key errors, Object Lock reported and never bypassed, and an
interruption at any DeleteObjects request followed by a resume that finishes the job.
"""

from __future__ import annotations

import datetime as _dt
import hashlib

import pytest
from botocore.exceptions import ClientError

from securestore.tenant.erase import EraseFailed, erase_tenant, manifest_text
from support.tenant_data import LOOK_ALIKES, CallLog, bulk_versions, listing, seed


def _snapshot(s3, bucket):
    return {tenant: listing(s3, bucket, tenant + "/") for tenant in LOOK_ALIKES}


def test_erase_removes_everything_of_the_tenant_and_nothing_of_look_alike_tenants(s3, bucket, state_dir):
    """Class: prefix confusion. ``acme`` shares its first letters with ``acmecorp``/``acme-eu``
    and differs from ``ACME`` only in case: after erasing ``acme`` nothing is left under
    ``acme/``, and every version, marker and upload of the others is exactly as before."""
    stored = seed(s3, bucket)
    before = _snapshot(s3, bucket)
    report = erase_tenant(s3, bucket, "acme", state_dir=state_dir, concurrency=3)
    after = _snapshot(s3, bucket)
    assert after["acme"] == (set(), set(), set())
    for tenant in LOOK_ALIKES[1:]:
        assert after[tenant] == before[tenant] and after[tenant][0] == stored[tenant].versions
    assert report.complete and report.remaining_versions == 0 and report.remaining_uploads == 0


def test_report_counts_times_and_the_manifest_the_officer_keeps(s3, bucket, state_dir, tmp_path):
    """The report states what was removed, when, and the SHA-256 of the manifest file, whose
    lines are the sorted ``key<TAB>versionId`` of every removed version and marker."""
    stored = seed(s3, bucket)["acme"]
    manifest = tmp_path / "acme.manifest.tsv"
    report = erase_tenant(s3, bucket, "acme", state_dir=state_dir, manifest_path=manifest)
    summary = report.summary()
    assert summary["versions_removed"] == len(stored.versions)
    assert summary["delete_markers_removed"] == len(stored.markers)
    assert summary["uploads_aborted"] == len(stored.uploads)
    assert summary["bytes_removed"] == stored.bytes
    assert summary["upload_bytes_removed"] == 1024 * len(stored.uploads)
    assert summary["irregular_keys"] == 3  # acme/notes.txt: 3 versions the key builder would not make
    text = manifest.read_text()
    assert text == manifest_text(stored.refs)
    assert text.splitlines() == sorted(f"{k}\t{v}" for k, v in stored.refs)
    assert summary["manifest_sha256"] == hashlib.sha256(manifest.read_bytes()).hexdigest()
    assert summary["manifest_path"] == str(manifest) and summary["manifest_lines"] == len(stored.refs)
    started = _dt.datetime.fromisoformat(summary["started_at"])
    finished = _dt.datetime.fromisoformat(summary["finished_at"])
    assert started.utcoffset() == _dt.timedelta(0) and started <= finished
    assert not list(state_dir.glob("*.erase.jsonl")), "a finished erasure leaves no journal"


def test_dry_run_counts_and_removes_nothing(s3, bucket, state_dir):
    """``dry_run`` lists and counts; the bucket is unchanged, and the digest is the one the
    real run will report."""
    stored = seed(s3, bucket)["acme"]
    before = _snapshot(s3, bucket)
    dry = erase_tenant(s3, bucket, "acme", dry_run=True, state_dir=state_dir)
    assert _snapshot(s3, bucket) == before
    assert (dry.versions, dry.delete_markers, dry.uploads, dry.bytes) == (
        len(stored.versions), len(stored.markers), len(stored.uploads), stored.bytes)
    real = erase_tenant(s3, bucket, "acme", state_dir=state_dir)
    assert real.manifest_sha256 == dry.manifest_sha256


def test_many_listing_pages_and_parallel_batches(s3, bucket, state_dir):
    """More than one listing page per tenant (7 entries a page) and batches of 5 keys run 4 at
    a time: every version is removed and none of ``acmecorp``'s; the continuation marker of
    each page is kept until the next page is fetched (moto returns nothing after a deleted
    marker)."""
    bulk_versions(s3, bucket, "acme", 120)
    others = bulk_versions(s3, bucket, "acmecorp", 20)
    log = CallLog(s3)
    report = erase_tenant(log, bucket, "acme", state_dir=state_dir, page_size=7, batch_size=5, concurrency=4)
    assert report.versions == 120 and report.complete
    assert log.count("list_object_versions") > 120 // 7
    assert log.count("delete_objects") == 24
    assert all(len(p["Delete"]["Objects"]) <= 5 for name, p in log.calls if name == "delete_objects")
    assert listing(s3, bucket, "acmecorp/")[0] == others


def test_batches_hold_at_most_1000_keys(s3, bucket, state_dir):
    """DeleteObjects takes 1,000 keys: 2,100 versions go in 3 requests."""
    bulk_versions(s3, bucket, "acme", 2100)
    log = CallLog(s3)
    report = erase_tenant(log, bucket, "acme", state_dir=state_dir)
    sizes = sorted(len(p["Delete"]["Objects"]) for name, p in log.calls if name == "delete_objects")
    assert sizes == [100, 1000, 1000] and report.versions == 2100 and report.complete


def _throttled(code="SlowDown", status=503):
    return ClientError({"Error": {"Code": code, "Message": "Please reduce your request rate."},
                        "ResponseMetadata": {"HTTPStatusCode": status}}, "DeleteObjects")


def test_throttling_is_retried_with_backoff(s3, bucket, state_dir):
    """Class: throttling. Whole requests answered 503 SlowDown, and keys answered SlowDown
    one by one, are sent again; everything ends removed and the retries are counted."""
    stored = seed(s3, bucket, ["acme"])["acme"]

    def flaky(number, params, real):
        if number <= 2:
            raise _throttled()
        if number == 3:  # S3 throttles the first key alone; the rest goes through
            first, *rest = params["Delete"]["Objects"]
            response = s3.delete_objects(Bucket=params["Bucket"], Delete={"Objects": rest, "Quiet": False})
            response.setdefault("Errors", []).append({**first, "Code": "SlowDown", "Message": "slow down"})
            return response
        return real()

    from securestore.transfer.retry import RetryPolicy

    log = CallLog(s3, {"delete_objects": flaky})
    report = erase_tenant(log, bucket, "acme", state_dir=state_dir, concurrency=1,
                          policy=RetryPolicy(None, 0.01, 0.05, 30.0))
    assert report.complete and report.versions == len(stored.versions)
    assert report.retries >= 3
    assert listing(s3, bucket, "acme/") == (set(), set(), set())


def test_per_key_errors_are_reported_and_the_rest_removed(s3, bucket, state_dir):
    """A key S3 refuses (AccessDenied, no Object Lock on the bucket) is reported with its
    code; the erasure removes everything else and says it is not complete."""
    stored = seed(s3, bucket, ["acme"], uploads=0)["acme"]
    victim = sorted(stored.versions)[0]

    def refuse_one(number, params, real):
        objects = [o for o in params["Delete"]["Objects"] if (o["Key"], o["VersionId"]) != victim]
        response = s3.delete_objects(Bucket=params["Bucket"], Delete={"Objects": objects, "Quiet": False})
        if len(objects) != len(params["Delete"]["Objects"]):
            response.setdefault("Errors", []).append(
                {"Key": victim[0], "VersionId": victim[1], "Code": "AccessDenied", "Message": "Access Denied"})
        return response

    report = erase_tenant(CallLog(s3, {"delete_objects": refuse_one}), bucket, "acme", state_dir=state_dir)
    assert report.errors == [{"key": victim[0], "version_id": victim[1], "code": "AccessDenied",
                              "message": "Access Denied"}]
    assert not report.complete and report.remaining_versions == 1
    assert listing(s3, bucket, "acme/")[0] == {victim}


class Killed(BaseException):
    """Stands for SIGKILL: raised after the N-th DeleteObjects reached S3, nothing cleaned up."""


@pytest.mark.parametrize("kill_after", [1, 2, 4])
def test_interrupted_erasure_resumes_and_the_manifest_covers_both_runs(s3, bucket, state_dir, kill_after):
    """Class: any interruption after the journal exists. The process dies right after its
    N-th DeleteObjects was applied by S3 (the batch is in the journal as intent, not done).
    The next run says it resumed, replays that batch (harmless: deleting a gone version
    succeeds), finishes, and its manifest lists every version removed by either run once."""
    stored = seed(s3, bucket, ["acme", "acmecorp"], keys=10)["acme"]
    others = listing(s3, bucket, "acmecorp/")

    def die(number, params, real):
        answer = real()
        if number == kill_after:
            raise Killed()
        return answer

    with pytest.raises(Killed):
        erase_tenant(CallLog(s3, {"delete_objects": die}), bucket, "acme", state_dir=state_dir,
                     batch_size=5, concurrency=1)
    journals = list(state_dir.glob("*.erase.jsonl"))
    assert len(journals) == 1
    first_started = journals[0].read_text().splitlines()[0]
    report = erase_tenant(s3, bucket, "acme", state_dir=state_dir, batch_size=5, concurrency=1)
    assert report.resumed and report.runs == 2 and report.replayed_batches == 1
    assert report.removed_by_earlier_runs == 5 * (kill_after - 1)
    assert report.started_at in first_started, "the erasure started when the first run did"
    assert report.complete and listing(s3, bucket, "acme/") == (set(), set(), set())
    assert report.manifest_lines == len(stored.refs)
    assert open(report.manifest_path).read() == manifest_text(stored.refs)
    assert listing(s3, bucket, "acmecorp/") == others


def test_a_listing_that_returns_a_foreign_key_cannot_make_us_delete_it(s3, bucket, state_dir):
    """Class: a server (emulator, proxy) whose prefix filter is wrong. The listing for
    ``acme/`` also returns ``acmecorp/...``: it is refused by the key re-check, reported, and
    still there afterwards."""
    seed(s3, bucket, ["acme", "acmecorp"], uploads=0)
    foreign = listing(s3, bucket, "acmecorp/")[0]

    def leaky(number, params, real):
        if params.get("Prefix") == "acme/":
            return s3.list_object_versions(**{**params, "Prefix": "acme"})
        return real()

    log = CallLog(s3, {"list_object_versions": leaky})
    report = erase_tenant(log, bucket, "acme", state_dir=state_dir)
    assert listing(s3, bucket, "acmecorp/")[0] == foreign
    assert report.refused_foreign_keys and all(k.startswith("acmecorp/") for k in report.refused_foreign_keys)
    assert not report.complete
    deleted = {o["Key"] for n, p in log.calls if n == "delete_objects" for o in p["Delete"]["Objects"]}
    assert deleted and all(k.startswith("acme/") for k in deleted)


@pytest.mark.parametrize("tenant", ["public", "PUBLIC", "", "acme/", "../acme", "acme/../x", "a" * 64, "-acme", "ac me"])
def test_ids_the_key_builder_refuses_are_refused(s3, bucket, state_dir, tenant):
    """Nothing is listed for an id the key builder would refuse (``public`` is everyone's)."""
    log = CallLog(s3)
    with pytest.raises(ValueError):
        erase_tenant(log, bucket, tenant, state_dir=state_dir)
    assert log.calls == []


@pytest.fixture
def locked_bucket(s3):
    s3.create_bucket(Bucket="tenants-locked", ObjectLockEnabledForBucket=True)
    return "tenants-locked"


def test_object_lock_is_reported_per_object_and_never_bypassed(s3, locked_bucket, state_dir):
    """Class: retention that must win over erasure. A version under GOVERNANCE retention and
    one under legal hold stay, each reported with mode, date and hold; no request carries
    BypassGovernanceRetention; everything else of the tenant is removed."""
    until = _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0) + _dt.timedelta(days=3)
    kept = s3.put_object(Bucket=locked_bucket, Key="acme/invoices/2026/01/31/kept.pdf", Body=b"k",
                         ObjectLockMode="GOVERNANCE", ObjectLockRetainUntilDate=until)["VersionId"]
    held = s3.put_object(Bucket=locked_bucket, Key="acme/invoices/2026/01/31/held.pdf", Body=b"h",
                         ObjectLockLegalHoldStatus="ON")["VersionId"]
    seed(s3, locked_bucket, ["acme"], uploads=0)
    log = CallLog(s3)
    report = erase_tenant(log, locked_bucket, "acme", state_dir=state_dir)
    assert [(lv.key, lv.version_id, lv.retention_mode, lv.retain_until, lv.legal_hold) for lv in report.locked] == [
        ("acme/invoices/2026/01/31/held.pdf", held, None, None, "ON"),
        ("acme/invoices/2026/01/31/kept.pdf", kept, "GOVERNANCE", until.isoformat(), None),
    ]
    assert report.errors == [] and report.remaining_versions == 2 and not report.complete
    assert all("BypassGovernanceRetention" not in params for _, params in log.calls)
    assert listing(s3, locked_bucket, "acme/")[0] == {("acme/invoices/2026/01/31/kept.pdf", kept),
                                                      ("acme/invoices/2026/01/31/held.pdf", held)}


def test_dry_run_reports_locked_versions_too(s3, locked_bucket, state_dir):
    """The officer sees before erasing which versions Object Lock will keep."""
    s3.put_object(Bucket=locked_bucket, Key="acme/invoices/2026/01/31/held.pdf", Body=b"h",
                  ObjectLockLegalHoldStatus="ON")
    report = erase_tenant(s3, locked_bucket, "acme", dry_run=True, state_dir=state_dir)
    assert [lv.legal_hold for lv in report.locked] == ["ON"]


def test_a_second_erasure_of_the_same_tenant_waits_for_the_first(s3, bucket, state_dir):
    """One erasure per (bucket, tenant) at a time: the journal's lock refuses a second."""
    from securestore.tenant.journal import EraseJournal, JournalBusy, journal_path

    holder = EraseJournal(journal_path(state_dir, bucket, "acme"))
    holder.lock()
    try:
        with pytest.raises(JournalBusy):
            erase_tenant(s3, bucket, "acme", state_dir=state_dir)
    finally:
        holder.close()


def test_a_permanent_request_failure_stops_with_the_journal_kept(s3, bucket, state_dir):
    """AccessDenied on the whole DeleteObjects request: EraseFailed (not temporary), the
    journal stays, and a later run with permission finishes."""
    seed(s3, bucket, ["acme"], uploads=0)

    def denied(number, params, real):
        raise ClientError({"Error": {"Code": "AccessDenied", "Message": "no"},
                           "ResponseMetadata": {"HTTPStatusCode": 403}}, "DeleteObjects")

    with pytest.raises(EraseFailed) as failure:
        erase_tenant(CallLog(s3, {"delete_objects": denied}), bucket, "acme", state_dir=state_dir)
    assert not failure.value.temporary and failure.value.journal
    report = erase_tenant(s3, bucket, "acme", state_dir=state_dir)
    assert report.resumed and report.complete


def test_an_upload_s3_refuses_to_abort_is_reported_and_the_rest_goes(s3, bucket, state_dir):
    """Per-upload errors: an abort refused with AccessDenied is reported with the upload id;
    every version and the other uploads are removed; the erasure says it is not complete."""
    stored = seed(s3, bucket, ["acme"], uploads=2)["acme"]
    refused_key, refused_id = sorted(stored.uploads)[0]

    def refuse(number, params, real):
        if params["UploadId"] == refused_id:
            raise ClientError({"Error": {"Code": "AccessDenied", "Message": "no"},
                               "ResponseMetadata": {"HTTPStatusCode": 403}}, "AbortMultipartUpload")
        return real()

    report = erase_tenant(CallLog(s3, {"abort_multipart_upload": refuse}), bucket, "acme", state_dir=state_dir)
    assert [(e["key"], e["upload_id"], e["code"]) for e in report.errors] == [(refused_key, refused_id, "AccessDenied")]
    assert report.uploads == 1 and report.remaining_uploads == 1 and not report.complete
    assert listing(s3, bucket, "acme/") == (set(), set(), {(refused_key, refused_id)})
    assert report.versions == len(stored.versions)


def test_throttled_listings_are_retried(s3, bucket, state_dir):
    """Class: throttling on the listing side. ListObjectVersions answered 503 SlowDown twice
    is sent again; the erasure completes."""
    from securestore.transfer.retry import RetryPolicy

    seed(s3, bucket, ["acme"], uploads=0)

    def slow(number, params, real):
        if number <= 2:
            raise ClientError({"Error": {"Code": "SlowDown", "Message": "slow down"},
                               "ResponseMetadata": {"HTTPStatusCode": 503}}, "ListObjectVersions")
        return real()

    report = erase_tenant(CallLog(s3, {"list_object_versions": slow}), bucket, "acme", state_dir=state_dir,
                          policy=RetryPolicy(None, 0.01, 0.05, 30.0))
    assert report.complete and listing(s3, bucket, "acme/") == (set(), set(), set())
