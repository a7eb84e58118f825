"""``sync``: make a key prefix match a local tree (or a local tree match a prefix), copying only what differs.

How a file and an object are judged the same, by default:

1. a different size: they differ (nothing is read);
2. the same size: the object's stored checksum (CRC32C, CRC32, CRC64NVME, SHA-1 or SHA-256; a
   full-object value, or a composite ``xxx-N`` over its parts) is compared with the local file's
   checksum computed the same way: same algorithm and, for a composite, the object's own part
   sizes (our ``securestore-part-size`` metadata, else ``GetObjectAttributes`` ``ObjectParts``).
   An object with no stored checksum is judged as ``aws s3 sync`` would (size and time).

``aws s3 sync`` compares size and modification time only, so a file rewritten with the same
size within the same second, or an object replaced by another writer, looks unchanged to it.
``size_only`` and ``exact_timestamps`` give its rules back (for parity and for speed on
trees where reading is too dear).

What keeps an unchanged tree cheap: the local checksum is cached by (device, inode, size,
mtime_ns, ctime_ns) and the object's by (key, ETag, size, LastModified) in ``sync_state`` (SQLite), so a
second run reads no file and sends no HEAD: one listing page per 1,000 objects and a ``stat``
per file.

Memory does not grow with the number of files: both sides are streams joined in key order
(``tree.pair``), the workers take from a bounded queue (``batch.run_streamed``), the summary
keeps counters (and the first ``MAX_ERRORS_KEPT`` errors), the checksums go to SQLite and the
deletes to a temporary file. Deletes run only after the whole join has passed its key-order
check (``tree.ListingOrderError``): a listing out of order never deletes anything.
"""

from __future__ import annotations

import collections
import itertools
import os
import tempfile
import threading
import time
from dataclasses import dataclass, field, replace
from typing import Any, Callable, Iterator, Mapping, Optional, Sequence

from .batch import Filter, MemoryBudget, WorkerPool, local_path_for
from .checksums import ChecksumAlgorithm, get_algorithm, split_composite, stored_checksum
from .config import TransferConfig
from .errors import EndpointUnreachableError, TemporaryTransferError, TransferError, describe_error
from .lazy_client import endpoint_url_of
from .retry import Link, RetryPolicy, TransferCancelled
from .sync_state import ChecksumState
from .tree import LocalFile, RemoteObject, directory_prefix, list_remote, pair, walk_local

MAX_ERRORS_KEPT = 100
_MISS = object()
_CHANGED = object()
"""What a cache lookup with ``cached_only`` returns when the answer needs a HEAD or a read."""
_DONE = object()
"""What ``_Upload._decided_here`` returns for an entry it counted as skipped."""
DELETE_BATCH = 1000
HASH_CHUNK = 1024 * 1024
FULL = "full"


@dataclass(frozen=True)
class SyncOptions:
    delete: bool = False
    """Remove what the destination has and the source does not (within the filters)."""
    filters: Sequence[Filter] = ()
    """``("include"|"exclude", pattern)`` in order, last match decides (``batch.selected``)."""
    dryrun: bool = False
    size_only: bool = False
    """Same size means same file (``aws s3 sync --size-only``): nothing is read or HEADed."""
    exact_timestamps: bool = False
    """Judge by size and time as ``aws s3 sync`` does; downloading, same-size files are skipped
    only when the local mtime equals the object's LastModified (``--exact-timestamps``)."""
    report_skips: bool = True
    """Send a ``skip`` event per unchanged path (a progress display counts them); without it an
    unchanged tree costs ~10 µs a file less (the summary counts them either way)."""


@dataclass(frozen=True)
class SyncEvent:
    """One thing done (or that would be done, ``dryrun``): ``action`` is ``upload``, ``download``,
    ``delete``, ``skip`` or ``fail``."""

    action: str
    relative: str
    source: str
    target: str
    size: int = 0
    error: Optional[str] = None
    dryrun: bool = False


@dataclass
class SyncSummary:
    """Counters only: memory stays flat however many files were checked."""

    direction: str
    source: str
    destination: str
    checked: int = 0
    copied: int = 0
    skipped: int = 0
    deleted: int = 0
    failed: int = 0
    bytes_copied: int = 0
    seconds: float = 0.0
    dryrun: bool = False
    decided_by: dict = field(default_factory=lambda: {"size": 0, "checksum": 0, "time": 0, "missing": 0})
    errors: list = field(default_factory=list)
    temporary_failures: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {"action": "sync", "direction": self.direction, "source": self.source,
                "destination": self.destination, "checked": self.checked, "copied": self.copied,
                "skipped": self.skipped, "deleted": self.deleted, "failed": self.failed,
                "bytes": self.bytes_copied, "seconds": round(self.seconds, 3), "dryrun": self.dryrun,
                "decided_by": dict(self.decided_by), "errors": list(self.errors)}


class _Feed:
    """The pipeline's requests: a PUT a HEAD's answer decided first, then the stream's next."""

    def __init__(self, requests: Iterator[Any]) -> None:
        self.requests = requests
        self.followups: "collections.deque[Any]" = collections.deque()

    def __iter__(self) -> "_Feed":
        return self

    def __next__(self) -> Any:
        if self.followups:
            return self.followups.popleft()
        return next(self.requests)


class _Sync:
    """What both directions share: decisions, caches, counters, the stream of work."""

    def __init__(self, client: Any, bucket: str, prefix: str, root: str, *, direction: str,
                 options: SyncOptions, config: TransferConfig, state: Optional[ChecksumState],
                 on_event: Optional[Callable[[SyncEvent], None]]) -> None:
        self.client = client
        self.bucket = bucket
        self.prefix = directory_prefix(prefix)
        self.root = root
        self.options = options
        self.config = config
        self.single = replace(config, concurrency=1)
        self.own_state = state is None
        self.state = state if state is not None else ChecksumState()
        self.endpoint = endpoint_url_of(client)
        self.on_event = on_event or (lambda event: None)
        self.link = Link(self.endpoint or "the endpoint")
        """What this sync learnt about its endpoint (a clock skew), shared by the listing, the
        HEADs and the pipeline."""
        self.policy = RetryPolicy(config.max_attempts, config.backoff_base_seconds,
                                  config.backoff_max_seconds, config.retry_for_seconds, link=self.link)
        self.budget = MemoryBudget(config.concurrency)
        self.lock = threading.Lock()
        where = f"s3://{bucket}/{self.prefix}"
        source, destination = (root, where) if direction == "upload" else (where, root)
        self.summary = SyncSummary(direction, source, destination, dryrun=options.dryrun)
        self.cancelled = threading.Event()
        self.outage: Optional[str] = None
        """Set when a file gave up on a transient cause after the whole retry budget (or the
        endpoint never answered): later files are not attempted, each failed as temporary, so a
        dead endpoint costs one budget, not one per file (50,000 files × 180 s before)."""
        self.read_ahead: Any = None  # the pipeline's ``small_puts.read_ahead`` over the stream, if any

    # counters and events ------------------------------------------------------------------------
    def count(self, outcome: str, decided: Optional[str] = None, size: int = 0, checked: bool = False) -> None:
        with self.lock:
            if checked:
                self.summary.checked += 1
            setattr(self.summary, outcome, getattr(self.summary, outcome) + 1)
            if decided:
                self.summary.decided_by[decided] += 1
            if outcome == "copied":
                self.summary.bytes_copied += size

    def fail(self, relative: str, source: str, target: str, error: BaseException) -> None:
        text = str(error) if isinstance(error, (OSError, ValueError, TransferError)) else describe_error(error)
        with self.lock:
            if isinstance(error, (TemporaryTransferError, EndpointUnreachableError)) and self.outage is None:
                self.outage = text  # the retry budget is the command's, not each file's
            self.summary.failed += 1
            if isinstance(error, TemporaryTransferError) or _is_transient(error):
                self.summary.temporary_failures += 1
            if len(self.summary.errors) < MAX_ERRORS_KEPT:
                self.summary.errors.append({"path": relative, "error": text})
        self.on_event(SyncEvent("fail", relative, source, target, error=text))

    # deciding ---------------------------------------------------------------------------------
    def differs(self, local: LocalFile, remote: RemoteObject, downloading: bool,
                cached_only: bool = False, head: Any = _MISS) -> Optional[tuple[bool, str, Optional[tuple]]]:
        """``(differs, decided_by, remote checksum)`` for a path present on both sides.

        ``cached_only``: decide from the listing, the ``stat`` and the caches alone, or return
        ``None`` when a HEAD or a read would be needed (the main thread decides an unchanged
        tree this way, with no hand-off to a worker per file). ``head``: the object's HeadObject
        answer when the caller already has it (the pipeline's), ``None`` when it found the object
        changed or gone since the listing (404, 412)."""
        if local.size != remote.size:
            return True, "size", None
        if self.options.size_only:
            return False, "size", None
        if not self.options.exact_timestamps:
            found = self.remote_checksum(remote, cached_only, head)
            if found is _MISS:
                return None
            if found is _CHANGED:
                return True, "checksum", None  # replaced or removed since the listing: copy
            if found is not None and found[2] is not None:
                algorithm, value, layout = found
                local_value = self.local_checksum(local, get_algorithm(algorithm), layout, cached_only)
                if local_value is _MISS:
                    return None
                if local_value is None:
                    return True, "checksum", found  # changed while being read: copy it
                same = split_composite(local_value)[0] == split_composite(value)[0]
                return (not same), "checksum", found
        return _time_differs(local, remote, downloading, self.options.exact_timestamps), "time", None

    def remote_checksum(self, remote: RemoteObject, cached_only: bool = False, head: Any = _MISS) -> Any:
        """``(algorithm, value, layout)`` S3 stores for the listed object; layout ``None`` when
        the part sizes of a composite value cannot be learnt; ``None`` when it has no checksum;
        ``_MISS`` when ``cached_only`` and the cache does not know."""
        modified = remote.last_modified.isoformat()
        cached = self.state.remote(self.endpoint, self.bucket, remote.key, remote.etag, remote.size, modified)
        if cached is not None:
            return None if cached[0] == "" else (cached[0], cached[1], cached[2] or None)
        if cached_only:
            return _MISS
        from .download import _composite_part_count, _part_ranges

        if head is _MISS:
            head = self._head(remote)
        if head is None:
            return _CHANGED
        found = stored_checksum(head)
        if found is None:
            self.state.remember_remote(self.endpoint, self.bucket, remote.key, remote.etag, remote.size,
                                       modified, "", "", "")
            return None
        algorithm, value = found
        count = _composite_part_count(head, value)
        layout: Optional[str] = FULL
        if count:
            try:
                version = head.get("VersionId")
                pinned = {"VersionId": version} if version and version != "null" else {}
                ranges = _part_ranges(self.client, self.policy, self.bucket, remote.key, head, remote.size,
                                      count, pinned)
            except TransferError:
                layout = None  # part sizes unknown: a composite cannot be recomputed
            else:
                layout = _layout_of([r.length for r in ranges], remote.size)
        if layout is not None:
            self.state.remember_remote(self.endpoint, self.bucket, remote.key, remote.etag, remote.size,
                                       modified, algorithm.name, value, layout)
        return algorithm.name, value, layout

    def _head(self, remote: RemoteObject) -> Optional[dict]:
        """HeadObject of the listed version (``If-Match`` its ETag), past botocore when the
        client allows; ``None`` when the object changed or went since it was listed."""
        from botocore.exceptions import ClientError

        from .direct_objects import DirectObjects

        direct = DirectObjects.for_client(self.client, self.bucket, "HeadObject")
        try:
            if direct is not None:
                return self.policy.call(lambda: direct.head_object(remote.key, remote.etag or None),
                                        cancelled=self.cancelled)
            pin = {"IfMatch": remote.etag} if remote.etag else {}
            return self.policy.call(lambda: self.client.head_object(
                Bucket=self.bucket, Key=remote.key, ChecksumMode="ENABLED", **pin), cancelled=self.cancelled)
        except ClientError as error:
            if _gone_since_listed(error):
                return None
            raise

    def local_checksum(self, local: LocalFile, algorithm: ChecksumAlgorithm, layout: str,
                       cached_only: bool = False) -> Any:
        cached = self.state.local(local.device, local.inode, local.size, local.mtime_ns, local.ctime_ns,
                                  algorithm.name, layout)
        if cached is not None:
            return cached
        if cached_only:
            return _MISS
        value = file_checksum(local, algorithm, layout)
        if value is not None:
            self.state.remember_local(local.device, local.inode, local.size, local.mtime_ns, local.ctime_ns,
                                      algorithm.name, layout, value)
        return value

    # deletes ----------------------------------------------------------------------------------
    def run(self, joined: Iterator[tuple[str, Optional[LocalFile], Optional[RemoteObject]]],
            task: Callable[[tuple], None], orphan: Callable[[Any], bool]) -> SyncSummary:
        """Stream ``joined`` through ``task`` on the workers; destination-only entries for which
        ``orphan`` says so go to the delete list, deleted once the join has finished cleanly."""
        started = time.monotonic()
        with tempfile.TemporaryFile("w+", encoding="utf-8", newline="\n") as deletes:
            pending = [0]

            def work() -> Iterator[tuple]:
                for entry in joined:
                    relative, local, remote = entry
                    if orphan(entry):
                        if self.options.delete:
                            deletes.write(relative.replace("\\", "\\\\").replace("\n", "\\n") + "\n")
                            pending[0] += 1
                        continue
                    if local is not None and remote is not None and self._skipped_at_once(entry):
                        continue
                    yield entry

            try:
                self._stream(work(), task)
            finally:
                if self.own_state:
                    self.state.close()
                else:
                    self.state.flush()
            if pending[0]:
                deletes.seek(0)
                self.delete_all(_unescape(line[:-1]) for line in deletes)
        self.summary.seconds = time.monotonic() - started
        return self.summary

    def _stream(self, entries: Iterator[tuple], task: Callable[[tuple], None]) -> None:
        """Each entry to ``task`` on the workers, or (the small uploads the pipeline can send,
        ``_Upload.fast_requests``) to ``put_pipeline`` on this thread; what the pipeline hands
        back, and everything after a transient failure stopped it, goes to the workers."""
        pool = WorkerPool(self._guarded(task), workers=self.config.concurrency, cancelled=self.cancelled,
                          name="securestore-sync")
        first = next(entries, None)
        if first is None:
            return  # nothing differs: no pipeline (asyncio's import alone is ~20 ms), no workers
        entries = itertools.chain([first], entries)
        try:
            pipeline = self.pipeline()
            if pipeline is not None:
                self.pool = pool
                self.feed = _Feed(self.fast_requests(entries, pool))
                pipeline.run(self.feed, on_stored=self.fast_stored, on_refused=self.fast_refused)
                while self.feed.followups:  # decided after the pipeline's connections had ended
                    if not pool.submit(self.feed.followups.popleft().context[0][0]):
                        break
                for entry in self.read_ahead.left() if self.read_ahead is not None else ():  # taken, not sent
                    if not pool.submit(entry):
                        break
            for entry in entries:
                if not pool.submit(entry):
                    break
            pool.close()
        except BaseException:
            self.cancelled.set()
            raise

    def pipeline(self) -> Any:
        """A ``put_pipeline.PutPipeline`` for this sync, or ``None`` (the workers do it all)."""
        return None

    def fast_requests(self, entries: Iterator[tuple], pool: WorkerPool) -> Iterator[Any]:
        raise NotImplementedError

    def fast_stored(self, request: Any, response: dict) -> None:
        raise NotImplementedError

    def fast_refused(self, request: Any, error: BaseException) -> None:
        raise NotImplementedError

    def _skipped_at_once(self, entry: tuple) -> bool:
        """Count and report a path the caches prove unchanged, in the caller's thread."""
        relative, local, remote = entry
        try:
            if self._agreed(local, remote):
                decided: Optional[tuple] = (False, "checksum", None)
            else:
                decided = self.differs(local, remote, downloading=self.summary.direction == "download",
                                       cached_only=True)
                if decided is not None and not decided[0] and decided[1] == "checksum":
                    self.agree(remote, local)
        except Exception:  # noqa: BLE001 - a worker decides again, and reports it
            return False
        if decided is None or decided[0]:
            return False
        self.skipped(relative, decided[1], local.size)
        return True

    def skipped(self, relative: str, decided: str, size: int) -> None:
        """Count a path checked and found the same (by ``decided``), and report it."""
        self.count("skipped", decided, checked=True)
        if self.options.report_skips:
            source, target = self.ends(relative)
            self.on_event(SyncEvent("skip", relative, source, target, size))

    def _agreed(self, local: LocalFile, remote: RemoteObject) -> bool:
        """Whether the last run found this very file and this very object equal by checksum."""
        if self.options.size_only or self.options.exact_timestamps or local.size != remote.size:
            return False
        row = self.state.agreed(self.endpoint, self.bucket, remote.key)
        if row is None:
            return False
        etag, size, modified, device, inode, mtime_ns, ctime_ns = row
        if (etag, size) != (remote.etag, remote.size) or \
                (device, inode, mtime_ns, ctime_ns) != (local.device, local.inode, local.mtime_ns, local.ctime_ns):
            return False
        listed = remote.last_modified.isoformat()
        if modified is None:  # recorded by our upload: the first listing tells its LastModified
            self.agree(remote, local)
        elif modified != listed:
            return False
        return True

    def agree(self, remote: RemoteObject, local: LocalFile, last_modified: Any = True) -> None:
        """Record that ``local`` and ``remote`` hold the same bytes (``last_modified=None``: an
        object our upload just wrote, whose LastModified the next listing will give)."""
        modified = remote.last_modified.isoformat() if last_modified is True else last_modified
        self.state.remember_agreed(self.endpoint, self.bucket, remote.key, remote.etag, remote.size, modified,
                                   local.device, local.inode, local.mtime_ns, local.ctime_ns)

    def _guarded(self, task: Callable[[tuple], None]) -> Callable[[tuple], None]:
        def guarded(entry: tuple) -> None:
            relative = entry[0]
            if self.outage is not None:
                source, target = self.ends(relative)
                self.fail(relative, source, target, TemporaryTransferError(
                    f"not attempted: an earlier file ran out of retries ({self.outage}); run the same "
                    "command again"))
                return
            try:
                task(entry)
            except (KeyboardInterrupt, TransferCancelled):
                raise
            except Exception as error:  # noqa: BLE001 - one file's failure, the stream goes on
                source, target = self.ends(relative)
                self.fail(relative, source, target, error)
        return guarded

    def ends(self, relative: str) -> tuple[str, str]:
        raise NotImplementedError

    def delete_all(self, relatives: Iterator[str]) -> None:
        raise NotImplementedError


class _Upload(_Sync):
    def __init__(self, *args, upload_args: Mapping[str, Any], **kwargs) -> None:
        super().__init__(*args, direction="upload", **kwargs)
        self.upload_args = dict(upload_args)

    def ends(self, relative: str) -> tuple[str, str]:
        return os.path.join(self.root, *relative.split("/")), f"s3://{self.bucket}/{self.prefix}{relative}"

    def task(self, entry: tuple) -> None:
        relative, local, remote = entry
        source, target = local.path, f"s3://{self.bucket}/{self.prefix}{relative}"
        self.count("checked")
        if remote is None:
            decided, differs = "missing", True
        else:
            differs, decided, _found = self.differs(local, remote, downloading=False)
            if not differs and decided == "checksum":
                self.agree(remote, local)
        if not differs:
            self.count("skipped", decided)
            if self.options.report_skips:
                self.on_event(SyncEvent("skip", relative, source, target, local.size))
            return
        if self.options.dryrun:
            self.count("copied", decided, local.size)
            self.on_event(SyncEvent("upload", relative, source, target, local.size, dryrun=True))
            return
        self.upload(local, self.prefix + relative)
        self.count("copied", decided, local.size)
        self.on_event(SyncEvent("upload", relative, source, target, local.size))

    def upload(self, local: LocalFile, key: str) -> None:
        from .upload import upload_file

        large = local.size >= self.config.multipart_threshold
        taken = self.budget.take(self.config.concurrency if large else 1)
        try:
            result = upload_file(self.client, local.path, self.bucket, key,
                                 config=self.config if large else self.single,
                                 content_type=_content_type(local.path), **self.upload_args)
        finally:
            self.budget.give_back(taken)
        self.remember_upload(local, key, result)

    # the pipeline: small new or resized files, sent from this thread --------------------------
    def pipeline(self) -> Any:
        if self.options.dryrun:
            return None
        from .small_puts import SmallPuts
        from .upload import object_extra_args

        upload_args = dict(self.upload_args)
        metadata = dict(upload_args.pop("metadata", None) or {})
        kms = upload_args.pop("sse_kms_key_id", None)
        object_args = upload_args.pop("object_args", None)
        if upload_args:
            return None  # an upload_file argument the pipeline does not know: the workers send
        self.small_puts = SmallPuts(self.client, self.bucket, self.config)
        if not self.small_puts.available:
            return None
        self.fast_extra = {**object_extra_args(kms, None, object_args), "Metadata": metadata}
        return self.small_puts.pipeline(self.link)

    def fast_requests(self, entries: Iterator[tuple], pool: WorkerPool) -> Iterator[Any]:
        """The pipeline's requests, decided on this thread without waiting on the network: a PUT
        for a small file the bucket lacks, or has at another size, or whose checksum the caches
        say differs; a HEAD for a small file of the same size whose object's checksum is not
        cached (``fast_stored`` decides with its answer). Every other entry goes to ``pool``
        on the way."""
        from .direct_objects import DirectObjects
        from .put_pipeline import PutRequest
        from .small_puts import read_ahead

        limit = self.small_puts.limit
        self.read_ahead = read_ahead(entries, lambda e: e[1].path if e[1].size <= limit else None)
        for entry in self.read_ahead:
            relative, local, remote = entry
            request = None
            if local.size <= limit:
                if remote is None:
                    request = self._put_request(entry, "missing")
                elif local.size != remote.size:
                    request = self._put_request(entry, "size")
                elif self.options.exact_timestamps or self.options.size_only or \
                        self.remote_checksum(remote, cached_only=True) is not _MISS:
                    request = self._decided_here(entry)  # no network: the object's answer is cached
                    if request is _DONE:
                        continue
                else:
                    request = PutRequest(remote.key, DirectObjects.head_headers(remote.etag or None), b"",
                                         context=((entry, None), None), method="HEAD")
            if request is None:
                if not pool.submit(entry):
                    return
                continue
            yield request

    def _put_request(self, entry: tuple, decided: str) -> Any:
        """The pipeline's PUT of this entry's file, or ``None`` (the workers upload it)."""
        relative, local, _remote = entry
        content_type = _content_type(local.path)  # object_args may override it, as in upload_file
        extra = {**({"ContentType": content_type} if content_type else {}), **self.fast_extra}
        return self.small_puts.request(local.path, self.prefix + relative, local.size, extra, (entry, decided),
                                       listed=(local.mtime_ns, local.inode))

    def _decided_here(self, entry: tuple, head: Any = _MISS) -> Any:
        """Decide a same-size entry as ``task`` would (``head``: the pipeline's HeadObject
        answer, ``None`` for a 404/412); count a skip and return ``_DONE``, or return the PUT
        to send (``None``: the workers take it)."""
        relative, local, remote = entry
        try:
            differs, decided, _found = self.differs(local, remote, downloading=False, head=head)
        except Exception:  # noqa: BLE001 - the workers decide again, retrying, and report it
            return None
        if differs:
            return self._put_request(entry, decided)
        if decided == "checksum":
            self.agree(remote, local)
        self.skipped(relative, decided, local.size)
        return _DONE

    def _follow_up(self, entry: tuple, head: Any) -> None:
        request = self._decided_here(entry, head)
        if request is None:
            self.pool.submit(entry)
        elif request is not _DONE:
            self.feed.followups.append(request)

    def fast_stored(self, request: Any, response: dict) -> None:
        (entry, decided), _ = request.context
        if request.method == "HEAD":
            self._follow_up(entry, response)
            return
        relative, local, _remote = entry
        source, target = local.path, f"s3://{self.bucket}/{request.key}"
        self.count("checked")
        try:
            self.remember_upload(local, request.key, self.small_puts.stored(request, response))
        except Exception as error:  # noqa: BLE001 - this file's failure; the stream goes on
            self.fail(relative, source, target, error)
            return
        self.count("copied", decided, local.size)
        self.on_event(SyncEvent("upload", relative, source, target, local.size))

    def fast_refused(self, request: Any, error: BaseException) -> None:
        """A request that did not succeed: a HEAD that finds the object changed or gone since the
        listing (404, 412) means "upload it", as ``remote_checksum`` reads it; anything else
        goes to the workers, which decide and send again with retries and report the outcome."""
        (entry, _), _ = request.context
        if request.method == "HEAD" and _gone_since_listed(error):
            self._follow_up(entry, None)
            return
        self.pool.submit(entry)

    def remember_upload(self, local: LocalFile, key: str, result: Any) -> None:
        """What the caches learn from an upload: the object's checksum, and (the file unchanged
        since it was listed) the file's and their agreement."""
        layout = _layout_of_upload(result.checksum, result.part_size, local.size)
        if result.etag:
            self.state.remember_remote(self.endpoint, self.bucket, key, result.etag, local.size, None,
                                       result.checksum_algorithm, result.checksum, layout)
        if _unchanged_since(local):
            self.state.remember_local(local.device, local.inode, local.size, local.mtime_ns, local.ctime_ns,
                                      result.checksum_algorithm, layout, result.checksum)
            if result.etag:
                self.state.remember_agreed(self.endpoint, self.bucket, key, result.etag, local.size, None,
                                           local.device, local.inode, local.mtime_ns, local.ctime_ns)

    def delete_all(self, relatives: Iterator[str]) -> None:
        batch: list[str] = []
        for relative in relatives:
            batch.append(relative)
            if len(batch) == DELETE_BATCH:
                self._delete_batch(batch)
                batch = []
        if batch:
            self._delete_batch(batch)

    def _delete_batch(self, relatives: list[str]) -> None:
        keys = {self.prefix + relative: relative for relative in relatives}
        for key, relative in keys.items():
            self.on_event(SyncEvent("delete", relative, "", f"s3://{self.bucket}/{key}", dryrun=self.options.dryrun))
        if self.options.dryrun:
            for _ in keys:
                self.count("deleted")
            return
        try:
            response = self.policy.call(lambda: self.client.delete_objects(
                Bucket=self.bucket, Delete={"Objects": [{"Key": key} for key in keys], "Quiet": True}))
        except Exception as error:  # noqa: BLE001 - the whole batch failed
            for key, relative in keys.items():
                self.fail(relative, "", f"s3://{self.bucket}/{key}", error)
            return
        failed = {entry["Key"]: entry for entry in response.get("Errors", [])}
        for key, relative in keys.items():
            if key in failed:
                self.fail(relative, "", f"s3://{self.bucket}/{key}",
                          TransferError(f"delete failed: {failed[key].get('Code')}: {failed[key].get('Message')}"))
            else:
                self.state.forget_remote(self.endpoint, self.bucket, key)
                self.count("deleted")


class _Download(_Sync):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, direction="download", **kwargs)
        self.mode = _umask_mode()

    def ends(self, relative: str) -> tuple[str, str]:
        return f"s3://{self.bucket}/{self.prefix}{relative}", os.path.join(self.root, *relative.split("/"))

    def task(self, entry: tuple) -> None:
        relative, local, remote = entry
        source = f"s3://{self.bucket}/{remote.key}"
        target = local.path if local is not None else os.path.join(self.root, *relative.split("/"))
        self.count("checked")
        found = None
        if local is None:
            decided, differs = "missing", True
        else:
            differs, decided, found = self.differs(local, remote, downloading=True)
            if not differs and decided == "checksum":
                self.agree(remote, local)
        if not differs:
            self.count("skipped", decided)
            if self.options.report_skips:
                self.on_event(SyncEvent("skip", relative, source, target, remote.size))
            return
        path = local_path_for(remote.key, self.prefix, self.root)  # refuses keys that leave the root
        if self.options.dryrun:
            self.count("copied", decided, remote.size)
            self.on_event(SyncEvent("download", relative, source, path, remote.size, dryrun=True))
            return
        self.download(remote, path, found)
        self.count("copied", decided, remote.size)
        self.on_event(SyncEvent("download", relative, source, path, remote.size))

    def download(self, remote: RemoteObject, path: str, found: Optional[tuple]) -> None:
        from .download import download_file

        os.makedirs(os.path.dirname(path), exist_ok=True)
        large = remote.size >= self.config.multipart_threshold
        taken = self.budget.take(self.config.concurrency if large else 1)
        try:
            result = download_file(self.client, self.bucket, remote.key, path,
                                   config=self.config if large else self.single)
        finally:
            self.budget.give_back(taken)
        os.chmod(path, self.mode)
        stamp = int(remote.last_modified.timestamp() * 1_000_000_000)
        os.utime(path, ns=(stamp, stamp))  # as aws s3 sync does: time rules then see them equal
        if not (result.verified and result.checksum):
            return
        layout = FULL if split_composite(result.checksum)[1] is None else (found[2] if found else None)
        if layout is None:
            return
        status = os.stat(path)
        self.state.remember_local(status.st_dev, status.st_ino, status.st_size, status.st_mtime_ns,
                                  status.st_ctime_ns, result.checksum_algorithm, layout, result.checksum)
        if status.st_size == remote.size:
            self.state.remember_agreed(self.endpoint, self.bucket, remote.key, remote.etag, remote.size,
                                       remote.last_modified.isoformat(), status.st_dev, status.st_ino,
                                       status.st_mtime_ns, status.st_ctime_ns)
        self.state.remember_remote(self.endpoint, self.bucket, remote.key, remote.etag, remote.size,
                                   remote.last_modified.isoformat(), result.checksum_algorithm,
                                   result.checksum, layout)

    def delete_all(self, relatives: Iterator[str]) -> None:
        for relative in relatives:
            path = os.path.join(self.root, *relative.split("/"))
            self.on_event(SyncEvent("delete", relative, "", path, dryrun=self.options.dryrun))
            if self.options.dryrun:
                self.count("deleted")
                continue
            try:
                os.unlink(path)
            except FileNotFoundError:
                pass
            except OSError as error:
                self.fail(relative, "", path, error)
                continue
            self.count("deleted")


def sync_up(client: Any, root: str, bucket: str, prefix: str, *, options: SyncOptions = SyncOptions(),
            config: Optional[TransferConfig] = None, state: Optional[ChecksumState] = None,
            on_event: Optional[Callable[[SyncEvent], None]] = None,
            on_problem: Optional[Callable[[str], None]] = None,
            upload_args: Optional[Mapping[str, Any]] = None) -> SyncSummary:
    """Make ``s3://bucket/prefix/`` match the directory ``root``; returns the counters.

    ``upload_args`` go to every ``upload_file`` (``sse_kms_key_id``, ``metadata``,
    ``object_args``). ``state`` defaults to the user's cache (``sync_state``). A file that fails
    is counted and reported through ``on_event``; the others go on. Raises
    ``ListingOrderError`` (nothing deleted), ``KeyboardInterrupt``, and listing errors.
    """
    if not os.path.isdir(root):
        raise ValueError(f"{root!r} is not a directory")
    job = _Upload(client, bucket, prefix, root, options=options, config=config or TransferConfig(),
                  state=state, on_event=on_event, upload_args=upload_args or {})
    problems = _problem_counter(job, on_problem)
    joined = pair(walk_local(root, options.filters, problems),
                  list_remote(client, bucket, job.prefix, options.filters, job.policy))
    return job.run(joined, job.task, orphan=lambda entry: entry[1] is None)


def sync_down(client: Any, bucket: str, prefix: str, root: str, *, options: SyncOptions = SyncOptions(),
              config: Optional[TransferConfig] = None, state: Optional[ChecksumState] = None,
              on_event: Optional[Callable[[SyncEvent], None]] = None,
              on_problem: Optional[Callable[[str], None]] = None) -> SyncSummary:
    """Make the directory ``root`` match ``s3://bucket/prefix/`` (created if missing)."""
    if os.path.exists(root) and not os.path.isdir(root):
        raise ValueError(f"{root!r} exists and is not a directory")
    if not options.dryrun:
        os.makedirs(root, exist_ok=True)
    job = _Download(client, bucket, prefix, root, options=options, config=config or TransferConfig(),
                    state=state, on_event=on_event)
    problems = _problem_counter(job, on_problem)
    local = walk_local(root, options.filters, problems) if os.path.isdir(root) else iter(())
    joined = pair(local, list_remote(client, bucket, job.prefix, options.filters, job.policy))
    return job.run(joined, job.task, orphan=lambda entry: entry[2] is None)


# helpers ------------------------------------------------------------------------------------------
def _problem_counter(job: _Sync, on_problem: Optional[Callable[[str], None]]) -> Callable[[str], None]:
    def problem(text: str) -> None:
        with job.lock:
            job.summary.failed += 1
            if len(job.summary.errors) < MAX_ERRORS_KEPT:
                job.summary.errors.append({"path": "", "error": text})
        if on_problem is not None:
            on_problem(text)
    return problem


def _gone_since_listed(error: BaseException) -> bool:
    """A HEAD pinned to the listed ETag answered 404 or 412: the object went or changed."""
    response = getattr(error, "response", None)
    return isinstance(response, dict) and \
        response.get("ResponseMetadata", {}).get("HTTPStatusCode") in (404, 412)


def _time_differs(local: LocalFile, remote: RemoteObject, downloading: bool, exact: bool) -> bool:
    """``aws s3 sync``'s rule for same-size entries (``syncstrategy``): uploading, copy when the
    file is newer than the object; downloading, when the file is newer than the object (aws
    sets a downloaded file's mtime to LastModified), or, exact, whenever they differ. In whole
    seconds: LastModified has no finer resolution, so a file written in the same second as its
    upload is not "newer"."""
    local_seconds = local.mtime_ns // 1_000_000_000
    remote_seconds = int(remote.last_modified.timestamp())
    if downloading and exact:
        return local_seconds != remote_seconds
    return local_seconds > remote_seconds


def file_checksum(local: LocalFile, algorithm: ChecksumAlgorithm, layout: str) -> Optional[str]:
    """The checksum S3 would store for this file under ``layout`` (``full``, ``parts:P`` or
    ``sizes:a,b,...``); ``None`` if the file changed (size, mtime, inode) since it was listed."""
    with open(local.path, "rb") as handle:
        fd = handle.fileno()
        before = os.fstat(fd)
        if (before.st_size, before.st_mtime_ns, before.st_ino) != (local.size, local.mtime_ns, local.inode):
            return None
        buffer = bytearray(min(HASH_CHUNK, max(local.size, 1)))
        view = memoryview(buffer)
        digests: list[bytes] = []
        offset = 0
        for length in _part_lengths(layout, local.size):
            hasher = algorithm.new_hasher()
            end = offset + length
            while offset < end:
                count = os.preadv(fd, [view[:min(len(buffer), end - offset)]], offset)
                if count == 0:
                    return None
                hasher.update(view[:count])
                offset += count
            digests.append(hasher.digest())
        after = os.fstat(fd)
        if (after.st_size, after.st_mtime_ns) != (before.st_size, before.st_mtime_ns):
            return None
    if layout == FULL:
        return algorithm.encode(digests[0])
    return algorithm.composite(digests)


def _part_lengths(layout: str, size: int) -> Iterator[int]:
    if layout == FULL:
        yield size
        return
    kind, _, value = layout.partition(":")
    if kind == "parts":
        part = int(value)
        for start in range(0, max(size, 1), part):
            yield min(part, size - start)
        return
    for text in value.split(","):
        yield int(text)


def _layout_of(lengths: Sequence[int], size: int) -> str:
    """``parts:P`` when the parts are all P bytes but the last (the usual case), else the list."""
    if lengths and all(length == lengths[0] for length in lengths[:-1]) and lengths[-1] <= lengths[0] \
            and list(_part_lengths(f"parts:{lengths[0]}", size)) == list(lengths):
        return f"parts:{lengths[0]}"
    return "sizes:" + ",".join(str(length) for length in lengths)


def _layout_of_upload(checksum: str, part_size: int, size: int) -> str:
    return FULL if split_composite(checksum)[1] is None else f"parts:{part_size}"


def _unchanged_since(local: LocalFile) -> bool:
    try:
        now = os.stat(local.path)
    except OSError:
        return False
    return (now.st_size, now.st_mtime_ns, now.st_ctime_ns, now.st_ino) == \
        (local.size, local.mtime_ns, local.ctime_ns, local.inode)


def _content_type(path: str) -> Optional[str]:
    import mimetypes

    return mimetypes.guess_type(path, strict=False)[0]


def _umask_mode() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


def _is_transient(error: BaseException) -> bool:
    from .retry import is_retryable

    try:
        return bool(is_retryable(error))
    except Exception:  # noqa: BLE001
        return False


def _unescape(text: str) -> str:
    out, escaped = [], False
    for char in text:
        if escaped:
            out.append("\n" if char == "n" else char)
            escaped = False
        elif char == "\\":
            escaped = True
        else:
            out.append(char)
    return "".join(out)
