"""Erase a tenant: every version, delete marker and open multipart upload under ``TENANT/``.

Order of work, and why:

1. Batches an interrupted run had sent but not confirmed are replayed (``journal``).
2. Open multipart uploads are aborted first, so none completes later into a new version.
3. Versions and delete markers are listed page by page and removed with ``DeleteObjects``,
   1,000 (key, version id) pairs a request, several requests in parallel on one client.
   A whole request that is throttled (``SlowDown``, 503) or cut off is retried with capped,
   jittered backoff; keys S3 reports one by one are retried when their code is transient
   and reported otherwise.
4. The prefix is listed again; anything still there that was not refused (a version written
   meanwhile) is removed in another pass, until a pass removes nothing. The report gives what
   remains, which on a clean run is nothing.

Every listed key is checked again against the tenant (``scope``): ``acme`` never touches
``acmecorp/`` or ``acme-eu/``. Object Lock is obeyed, never bypassed: no request carries
``BypassGovernanceRetention``. A version S3 refuses because of a retention period or a legal
hold is reported with its mode, date and hold, and stays.

The report (``EraseReport.summary()``) is what a compliance officer keeps: counts and bytes,
start and end time (UTC, ISO 8601), and the SHA-256 of the manifest, the sorted lines
``key<TAB>versionId`` of every version and delete marker removed, which is written to a file.
In a key, ``\\``, TAB, LF and CR are written ``\\\\``, ``\\t``, ``\\n``, ``\\r``.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import os
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Optional, Union

from securestore.transfer.errors import describe_error, error_code
from securestore.transfer.retry import RETRYABLE_ERROR_CODES, RetryPolicy, is_retryable
from securestore.transfer.workers import run_parallel

from .journal import EraseJournal, JournalState, default_state_dir, journal_path
from .listing import (DELETE_MARKER, LIST_PAGE, VERSION, OpenUpload, StoredVersion, default_policy,
                      upload_bytes, upload_pages, version_pages)
from .scope import TenantScope, foreign_key_error

PathLike = Union[str, "os.PathLike[str]"]

DELETE_BATCH = 1000  # DeleteObjects takes at most 1,000 keys a request
DEFAULT_CONCURRENCY = 8
MAX_PASSES = 5
GRACE_SECONDS = 5.0
ALREADY_GONE_CODES = frozenset({"NoSuchVersion", "NoSuchKey"})
"""Per-key answers meaning the version is not there (any more). S3 reports deleting a gone
version as deleted; LocalStack answers NoSuchVersion. Either way it is removed."""
LOCK_REFUSAL_CODES = frozenset({"AccessDenied", "ObjectLocked", "InvalidRequest"})
"""Per-key codes S3 gives a version protected by Object Lock (AccessDenied on AWS)."""


class EraseFailed(RuntimeError):
    """The erasure stopped; the journal is kept and running it again continues it.

    ``temporary`` is True when the cause was transient (throttling or the network outlasted
    the retry budget)."""

    def __init__(self, message: str, *, temporary: bool, journal: Optional[str]) -> None:
        super().__init__(message)
        self.temporary = temporary
        self.journal = journal


@dataclass(frozen=True)
class LockedVersion:
    key: str
    version_id: str
    retention_mode: Optional[str]
    retain_until: Optional[str]
    legal_hold: Optional[str]


@dataclass
class EraseReport:
    tenant: str
    bucket: str
    prefix: str
    dry_run: bool
    started_at: str
    finished_at: str = ""
    versions: int = 0
    delete_markers: int = 0
    uploads: int = 0
    bytes: int = 0
    upload_bytes: int = 0
    irregular_keys: int = 0
    """Keys under the prefix the key builder would not make (erased all the same)."""
    locked: list[LockedVersion] = field(default_factory=list)
    errors: list[dict] = field(default_factory=list)
    refused_foreign_keys: list[str] = field(default_factory=list)
    remaining_versions: int = 0
    remaining_uploads: int = 0
    resumed: bool = False
    runs: int = 1
    replayed_batches: int = 0
    removed_by_earlier_runs: int = 0
    passes: int = 0
    delete_requests: int = 0
    retries: int = 0
    manifest_path: Optional[str] = None
    manifest_sha256: str = ""
    manifest_lines: int = 0

    @property
    def complete(self) -> bool:
        """Nothing is left under the prefix and nothing failed."""
        return (not self.dry_run and not self.errors and not self.refused_foreign_keys
                and self.remaining_versions == 0 and self.remaining_uploads == 0)

    def summary(self) -> dict[str, Any]:
        data = asdict(self)
        data["complete"] = self.complete
        data["bytes_removed"] = data.pop("bytes")
        data["upload_bytes_removed"] = data.pop("upload_bytes")
        data["versions_removed"] = data.pop("versions")
        data["delete_markers_removed"] = data.pop("delete_markers")
        data["uploads_aborted"] = data.pop("uploads")
        return data


def utc_now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


def manifest_line(key: str, version_id: str) -> str:
    escaped = key.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    return f"{escaped}\t{version_id}\n"


def manifest_text(refs: Iterable[tuple[str, str]]) -> str:
    """The manifest: one ``key<TAB>versionId`` line per removed version, sorted (bytewise)."""
    return "".join(sorted((manifest_line(k, v) for k, v in set(refs)), key=lambda s: s.encode("utf-8")))


def erase_tenant(
    client: Any,
    bucket: str,
    tenant: str,
    *,
    dry_run: bool = False,
    state_dir: Optional[PathLike] = None,
    manifest_path: Optional[PathLike] = None,
    concurrency: int = DEFAULT_CONCURRENCY,
    page_size: int = LIST_PAGE,
    batch_size: int = DELETE_BATCH,
    policy: Optional[RetryPolicy] = None,
    clock: Callable[[], str] = utc_now,
) -> EraseReport:
    """Remove everything stored under ``tenant/`` in ``bucket`` (or, ``dry_run``, count it).

    ``ValueError`` for a tenant id the key builder refuses; ``EraseFailed`` when a request
    fails for good (the journal in ``state_dir`` is kept and a second call continues).
    """
    scope = TenantScope(tenant)
    if not 1 <= batch_size <= DELETE_BATCH:
        raise ValueError(f"batch_size must be 1-{DELETE_BATCH}")
    if concurrency < 1:
        raise ValueError("concurrency must be at least 1")
    policy = policy or default_policy()
    eraser = _Eraser(client, bucket, scope, policy, concurrency, page_size, batch_size, clock)
    if dry_run:
        return eraser.count()
    journal = EraseJournal(journal_path(state_dir or default_state_dir(), bucket, tenant))
    journal.lock()
    try:
        report = eraser.erase(journal)
        report.manifest_path = str(_write_manifest(manifest_path, journal.path, report, eraser.removed_refs()))
        journal.discard()
        return report
    finally:
        journal.close()


def _write_manifest(path: Optional[PathLike], journal: Path, report: EraseReport,
                    refs: Iterable[tuple[str, str]]) -> Path:
    text = manifest_text(refs)
    report.manifest_sha256 = hashlib.sha256(text.encode("utf-8")).hexdigest()
    report.manifest_lines = text.count("\n")
    if path is None:
        stamp = report.finished_at.replace(":", "").replace("+0000", "Z")
        path = journal.parent / f"{report.tenant}-{stamp}.manifest.tsv"
    target = Path(path)
    temporary = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    with open(temporary, "w", encoding="utf-8", newline="") as out:
        out.write(text)
        out.flush()
        os.fsync(out.fileno())
    os.replace(temporary, target)
    return target


class _Eraser:
    def __init__(self, client, bucket, scope: TenantScope, policy: RetryPolicy, concurrency: int,
                 page_size: int, batch_size: int, clock) -> None:
        self.client, self.bucket, self.scope, self.policy = client, bucket, scope, policy
        self.concurrency, self.page_size, self.batch_size, self.clock = concurrency, page_size, batch_size, clock
        self.state: Optional[JournalState] = None
        self.journal: Optional[EraseJournal] = None
        self.report: Optional[EraseReport] = None
        self._mutex = threading.Lock()
        self._lock_enabled: Optional[bool] = None

    # ---------------------------------------------------------------- dry run
    def count(self) -> EraseReport:
        report = EraseReport(self.scope.tenant, self.bucket, self.scope.prefix, True, self.clock())
        refs = []
        locked_candidates = []
        for entry in self._owned_versions(report):
            refs.append(entry.ref)
            if entry.kind == VERSION:
                report.versions += 1
                report.bytes += entry.size
                locked_candidates.append(entry)
            else:
                report.delete_markers += 1
        for upload in self._owned_uploads(report):
            report.uploads += 1
            report.upload_bytes += upload_bytes(self.client, self.bucket, upload, policy=self.policy)
        if locked_candidates and self._bucket_has_object_lock():
            report.locked = self._lock_states(locked_candidates, only_protected=True)
        text = manifest_text(refs)
        report.manifest_sha256 = hashlib.sha256(text.encode("utf-8")).hexdigest()
        report.manifest_lines = text.count("\n")
        report.finished_at = self.clock()
        return report

    # ---------------------------------------------------------------- erase
    def erase(self, journal: EraseJournal) -> EraseReport:
        self.journal = journal
        now = self.clock()
        state = journal.load(self.bucket, self.scope.tenant)
        if state is None:
            state = JournalState(started_at=now)
            journal.start(self.bucket, self.scope.tenant, now)
        else:
            journal.resumed(now)
            state.runs += 1
        self.state = state
        report = EraseReport(self.scope.tenant, self.bucket, self.scope.prefix, False, state.started_at,
                             resumed=state.runs > 1, runs=state.runs,
                             removed_by_earlier_runs=len(state.removed))
        self.report = report
        self._failed: dict[tuple[str, str], tuple[str, str]] = {}
        self._upload_errors: list[dict] = []
        try:
            pending = sorted(state.pending.items())
            report.replayed_batches = len(pending)
            self._run_batches([(number, [self._entry(e) for e in entries]) for number, entries in pending])
            self._abort_uploads(report)
            while report.passes < MAX_PASSES:
                report.passes += 1
                if not self._pass(report):
                    break
            remaining = [e for e in self._owned_versions(None)]
            report.remaining_versions = len(remaining)
            report.remaining_uploads = sum(1 for _ in self._owned_uploads(None))
        except EraseFailed:
            raise
        except Exception as error:  # noqa: BLE001 - classified; the journal stays for a rerun
            raise EraseFailed(f"erasure of {self.scope.prefix} in {self.bucket} stopped: {describe_error(error)}; "
                              f"run it again to continue (journal {journal.path})",
                              temporary=is_retryable(error), journal=str(journal.path)) from error
        self._tally(report)
        report.finished_at = self.clock()
        return report

    def removed_refs(self) -> list[tuple[str, str]]:
        return list(self.state.removed) if self.state else []

    def _tally(self, report: EraseReport) -> None:
        state = self.state
        for key, version_id, kind, size in state.removed.values():
            if kind == DELETE_MARKER:
                report.delete_markers += 1
            else:
                report.versions += 1
                report.bytes += size
            if not self.scope.is_regular(key):
                report.irregular_keys += 1
        report.uploads = len(state.uploads)
        report.upload_bytes = sum(state.uploads.values())
        failed = {ref: why for ref, why in self._failed.items() if ref not in state.removed}
        refused = [StoredVersion(k, v, VERSION, 0, False) for (k, v), (code, _m) in failed.items()
                   if code in LOCK_REFUSAL_CODES]
        locked = self._lock_states(refused, only_protected=True) if refused and self._bucket_has_object_lock() else []
        report.locked = locked
        locked_refs = {(lv.key, lv.version_id) for lv in locked}
        report.errors = [{"key": k, "version_id": v, "code": code, "message": message}
                         for (k, v), (code, message) in sorted(failed.items()) if (k, v) not in locked_refs]
        report.errors += sorted(self._upload_errors, key=lambda e: (e["key"], e["upload_id"]))

    def _entry(self, raw) -> StoredVersion:
        key, version_id, kind, size = raw
        return StoredVersion(key, version_id, kind, int(size), False)

    def _owned_versions(self, report: Optional[EraseReport]) -> Iterator[StoredVersion]:
        for page, _marker in self._owned_pages(report):
            yield from page

    def _owned_pages(self, report: Optional[EraseReport]
                     ) -> Iterator[tuple[list[StoredVersion], Optional[tuple[str, str]]]]:
        """Listing pages with every key checked again against the tenant (foreign ones refused)."""
        for page, marker in version_pages(self.client, self.bucket, self.scope.prefix,
                                          page_size=self.page_size, policy=self.policy):
            owned = []
            for entry in page:
                if self.scope.owns(entry.key):
                    owned.append(entry)
                elif report is not None and entry.key not in report.refused_foreign_keys:
                    report.refused_foreign_keys.append(entry.key)
            yield owned, marker

    def _owned_uploads(self, report: Optional[EraseReport]) -> Iterator[OpenUpload]:
        for page in upload_pages(self.client, self.bucket, self.scope.prefix, policy=self.policy):
            for upload in page:
                if self.scope.owns(upload.key):
                    yield upload
                elif report is not None and upload.key not in report.refused_foreign_keys:
                    report.refused_foreign_keys.append(upload.key)

    # ---------------------------------------------------------------- uploads
    def _abort_uploads(self, report: EraseReport) -> None:
        done = self.state.uploads

        def abort(upload: OpenUpload) -> None:
            try:
                size = upload_bytes(self.client, self.bucket, upload, policy=self.policy)
                self.policy.call(lambda: self.client.abort_multipart_upload(
                    Bucket=self.bucket, Key=upload.key, UploadId=upload.upload_id))
            except Exception as error:  # noqa: BLE001 - classified below
                code = error_code(error)
                if code == "NoSuchUpload":  # gone already (completed or aborted meanwhile)
                    size = 0
                elif is_retryable(error):
                    raise  # retries ran out: stop, keep the journal (exit 75)
                else:  # refused for this upload alone: reported, the erasure goes on
                    with self._mutex:
                        self._upload_errors.append({"key": upload.key, "upload_id": upload.upload_id,
                                                    "code": code, "message": describe_error(error)})
                    return
            self.journal.upload(upload.key, upload.upload_id, size)
            with self._mutex:
                done[(upload.key, upload.upload_id)] = size

        for page in upload_pages(self.client, self.bucket, self.scope.prefix, policy=self.policy):
            owned = []
            for upload in page:
                if self.scope.owns(upload.key):
                    owned.append(upload)
                elif upload.key not in report.refused_foreign_keys:
                    report.refused_foreign_keys.append(upload.key)
            self._parallel(owned, abort, "securestore-abort")

    # ---------------------------------------------------------------- versions
    def _pass(self, report: EraseReport) -> int:
        """List the prefix once, removing what it finds; the number of versions removed.

        The version the next page continues after is held back until that page is fetched
        (``listing.version_pages``), then removed with the rest."""
        before = len(self.state.removed)
        batches: list[tuple[int, list[StoredVersion]]] = []
        current: list[StoredVersion] = []

        def add(entry: StoredVersion) -> None:
            nonlocal current, batches
            refused = self._failed.get(entry.ref)
            if refused is not None and refused[0] not in RETRYABLE_ERROR_CODES:
                return  # refused once in this run (Object Lock, access): reported, not retried
            current.append(entry)
            if len(current) == self.batch_size:
                batches.append((self._next_batch(), current))
                current = []
                if len(batches) >= self.concurrency:
                    self._run_batches(batches)
                    batches = []

        held: Optional[StoredVersion] = None
        for page, marker in self._owned_pages(report):
            if held is not None:
                add(held)
                held = None
            for entry in page:
                if marker is not None and entry.ref == marker:
                    held = entry
                else:
                    add(entry)
        if held is not None:
            add(held)
        if current:
            batches.append((self._next_batch(), current))
        self._run_batches(batches)
        return len(self.state.removed) - before

    def _next_batch(self) -> int:
        number = self.state.next_batch
        self.state.next_batch += 1
        return number

    def _run_batches(self, batches: list[tuple[int, list[StoredVersion]]]) -> None:
        self._parallel(batches, lambda batch: self._delete_batch(*batch), "securestore-erase")

    def _parallel(self, items: list, function: Callable[[Any], None], name: str) -> None:
        if items:
            run_parallel(items, function, workers=min(self.concurrency, len(items)),
                         cancelled=threading.Event(), grace_seconds=GRACE_SECONDS, name=name)

    def _delete_batch(self, number: int, entries: list[StoredVersion]) -> None:
        """One ``DeleteObjects`` of up to 1,000 versions; only what S3 confirms counts as removed.

        Never ``BypassGovernanceRetention``: Object Lock decides, and its refusals are reported.
        """
        self.journal.intent(number, [(e.key, e.version_id, e.kind, e.size) for e in entries])
        todo = {e.ref: e for e in entries}
        removed: list[StoredVersion] = []
        failed: list[tuple[str, str, str, str]] = []
        first_failure: Optional[float] = None
        attempt = 1
        while todo:
            objects = [{"Key": key, "VersionId": version_id} for key, version_id in todo]
            response = self.policy.call(
                lambda: self.client.delete_objects(Bucket=self.bucket,
                                                   Delete={"Objects": objects, "Quiet": False}),
                on_retry=lambda *_: self._count_retry())
            with self._mutex:
                self.report.delete_requests += 1
            for deleted in response.get("Deleted", []):
                entry = _take(todo, deleted.get("Key"), deleted.get("VersionId"))
                if entry is not None:
                    removed.append(entry)
            retry: dict[tuple[str, str], StoredVersion] = {}
            last_code = ""
            for error in response.get("Errors", []):
                entry = _take(todo, error.get("Key"), error.get("VersionId"))
                if entry is None:
                    continue
                code = last_code = error.get("Code", "")
                if code in ALREADY_GONE_CODES:
                    removed.append(entry)  # a replayed batch: S3 answers success, LocalStack this
                elif code in RETRYABLE_ERROR_CODES:
                    retry[entry.ref] = entry
                else:
                    failed.append((entry.key, entry.version_id, code, error.get("Message", "")))
            retry.update(todo)  # neither deleted nor refused: no answer, ask again
            todo = retry
            if todo:
                now = time.monotonic()
                first_failure = first_failure if first_failure is not None else now
                remaining = self.policy.retry_for_seconds - (now - first_failure)
                if remaining <= 0 or (self.policy.max_attempts is not None and attempt >= self.policy.max_attempts):
                    failed += [(e.key, e.version_id, last_code or "NoAnswer", "retries exhausted")
                               for e in todo.values()]
                    break
                self._count_retry()
                time.sleep(min(self.policy.delay(attempt), remaining))
                attempt += 1
        self.journal.done(number, [(e.key, e.version_id, e.kind, e.size) for e in removed], failed)
        with self._mutex:
            for e in removed:
                self.state.removed[e.ref] = (e.key, e.version_id, e.kind, e.size)
                self._failed.pop(e.ref, None)
            for key, version_id, code, message in failed:
                self._failed[(key, version_id)] = (code, message)

    def _count_retry(self) -> None:
        with self._mutex:
            self.report.retries += 1

    # ---------------------------------------------------------------- Object Lock
    def _bucket_has_object_lock(self) -> bool:
        if self._lock_enabled is None:
            try:
                answer = self.policy.call(lambda: self.client.get_object_lock_configuration(Bucket=self.bucket))
                enabled = (answer.get("ObjectLockConfiguration") or {}).get("ObjectLockEnabled") == "Enabled"
            except Exception as error:  # noqa: BLE001 - no configuration: no lock
                if error_code(error) not in ("ObjectLockConfigurationNotFoundError", "NoSuchObjectLockConfiguration"):
                    raise
                enabled = False
            self._lock_enabled = enabled
        return self._lock_enabled

    def _lock_states(self, entries: list[StoredVersion], *, only_protected: bool) -> list[LockedVersion]:
        """Retention and legal hold of each version, read with HEAD (never changed or bypassed).

        HEAD returns ``x-amz-object-lock-mode``, ``-retain-until-date`` and ``-legal-hold``
        to a caller with ``s3:GetObjectRetention``/``s3:GetObjectLegalHold``; moto 5 has no
        ``GetObjectRetention`` at all, and one request gives all three."""
        found: list[LockedVersion] = []
        now = _dt.datetime.now(_dt.timezone.utc)

        def read(entry: StoredVersion) -> None:
            try:
                head = self.policy.call(lambda: self.client.head_object(
                    Bucket=self.bucket, Key=entry.key, VersionId=entry.version_id))
            except Exception as error:  # noqa: BLE001 - classified: the version stays in the errors
                # A delete marker or a version gone meanwhile (404/405), or a HEAD the bucket
                # refuses (403: e.g. the malware-scan gate on an object not scanned clean).
                if error_code(error) not in ("403", "404", "405", "AccessDenied", "NoSuchKey", "NoSuchVersion",
                                             "MethodNotAllowed"):
                    raise
                return
            mode, date, hold = (head.get("ObjectLockMode"), head.get("ObjectLockRetainUntilDate"),
                                head.get("ObjectLockLegalHoldStatus"))
            until = None
            if date is not None:
                moment = date if getattr(date, "tzinfo", None) else date.replace(tzinfo=_dt.timezone.utc)
                until = moment.astimezone(_dt.timezone.utc).isoformat(timespec="seconds")
                if only_protected and moment <= now:
                    mode = until = None  # the retention period is over: it no longer protects
            if only_protected and not until and hold != "ON":
                return
            with self._mutex:
                found.append(LockedVersion(entry.key, entry.version_id, mode, until, hold))

        self._parallel(entries, read, "securestore-lock")
        return sorted(found, key=lambda lv: (lv.key, lv.version_id))


def _take(todo: dict[tuple[str, str], StoredVersion], key: Optional[str],
          version_id: Optional[str]) -> Optional[StoredVersion]:
    """Remove and return the entry S3 answered for; an answer without a version id (moto's
    per-key errors) matches the first entry of that key still waiting."""
    if key is None:
        return None
    if version_id:
        return todo.pop((key, version_id), None)
    for ref in todo:
        if ref[0] == key:
            return todo.pop(ref)
    return None
