"""Upload a file to S3: one PUT when small, parallel checksummed parts when large.

The promises, and where each is kept:

* Memory: each worker owns one reusable ``bytearray`` of the part size; a part is read into it
  with ``os.preadv`` (no intermediate ``bytes``), checksummed in place and sent from that
  buffer in ``memoryview`` slices (no copy): by ``direct.DirectParts`` (each part pre-signed
  and sent over the transfer's own connections, past botocore's ~2 ms per-call pipeline) or,
  when the client needs botocore to see the request (``Stubber``, proxies, hooks,
  ``direct_parts=False``), as a ``BlockBody`` to ``upload_part``. The upload therefore holds
  at most ``concurrency × part size`` of file data, whatever the file size.
* Slow links: the body goes out in ``SEND_BLOCK_SIZE`` blocks, one ``sendall`` each. A socket
  timeout bounds a whole ``sendall`` (Python ≥ 3.5) even while bytes flow, so one ``sendall`` of
  an 8 MiB part fails on any uplink slower than 8 MiB per read timeout; per block, the timeout
  measures progress instead.
* Integrity: every part carries its checksum (one algorithm for all parts); S3 rejects a part
  whose bytes do not match. After completion the composite checksum S3 reports is compared with
  the one computed here; a mismatching object is deleted and the upload fails.
* Nothing lost, nothing orphaned silently: every multipart upload is journalled (by default
  under ``$XDG_CACHE_HOME/securestore/uploads``). A permanent cause (access denied, no such
  bucket, a checksum mismatch, the source changed) aborts the upload. A transient one that
  outlasts the retry budget (network, 5xx, throttling) keeps the upload and its journal and
  raises ``TemporaryTransferError``; the same call with ``resume=True`` continues it. Ctrl-C
  aborts within ``interrupt_seconds`` or, if the abort cannot be confirmed, keeps both and
  says so (``UploadInterrupted.kept``). The journal is deleted only when the upload completed
  or S3 confirmed the abort.
* Resume only continues, retries, or (when S3 says the upload no longer exists) starts afresh;
  a transient error while resuming never aborts or forgets the upload.
* The source is re-checked (size, mtime, ctime) after the last part: a file rewritten in place
  during the upload aborts it instead of storing a mix of old and new bytes.
* Concurrent writers: verification reads back the version (or ETag) this upload created, never
  whatever another writer put at the key since, and only a version this upload provably wrote
  is ever deleted.
"""

from __future__ import annotations

import os
import queue
import threading
import time
from dataclasses import asdict, dataclass, replace
from typing import Any, Callable, Mapping, Optional, Union

from botocore.exceptions import ClientError

from ..kms_key import require_key_arn
from .checksums import ChecksumAlgorithm, get_algorithm, split_composite
from .config import KiB, PartPlan, TransferConfig, plan_parts
from .direct import DirectParts
from .direct_objects import DirectObjects
from .errors import (
    KEPT, NOT_STORED, STORED, ChecksumMismatchError, FileChangedError, PendingUpload,
    StateFileConflictError, TemporaryTransferError, TransferError, UploadInterrupted,
    UploadPendingError, describe_error as _describe, error_code,
)
from .inflight import InFlight, bounded
from .progress import ProgressCallback, ThrottledProgress
from .resume import UploadIdentity, UploadJournal, UploadState, default_state_path
from .retry import Link, RetryPolicy, TransferCancelled, is_retryable
from .workers import run_parallel

PathLike = Union[str, "os.PathLike[str]"]

PART_SIZE_METADATA_KEY = "securestore-part-size"
"""User metadata recording the part size, so a download can verify the composite checksum."""

LIST_PARTS_PAGE = 1000
SEND_BLOCK_SIZE = 256 * KiB
"""Bytes per ``sendall``: small enough that a read timeout measures progress on a slow link (a
block takes under a second at 300 KiB/s), large enough that the loop costs nothing at speed."""


class BlockBody:
    """A part buffer as a read-only file object whose ``read`` returns ``memoryview`` blocks.

    urllib3 sends a file-like body one ``read()`` at a time, each with its own ``sendall``;
    ``read`` returns at least ``SEND_BLOCK_SIZE`` bytes when it can (urllib3 asks for 16 KiB,
    which would cost a system call per 16 KiB) and never copies the buffer.
    """

    def __init__(self, buffer, block_size: int = SEND_BLOCK_SIZE) -> None:
        self._view = memoryview(buffer)
        self._position = 0
        self._block_size = block_size

    def __len__(self) -> int:
        return len(self._view)

    def read(self, size: int = -1):
        if size is None or size < 0:  # a reader that wants it all (in-process fakes) gets bytes
            block = bytes(self._view[self._position:])
            self._position = len(self._view)
            return block
        block = self._view[self._position:self._position + max(size, self._block_size)]
        self._position += len(block)
        return block

    def seek(self, offset: int, whence: int = 0) -> int:
        base = {0: 0, 1: self._position, 2: len(self._view)}[whence]
        self._position = max(0, min(len(self._view), base + offset))
        return self._position

    def tell(self) -> int:
        return self._position

    def seekable(self) -> bool:
        return True

    def readable(self) -> bool:
        return True

OBJECT_ARGS = frozenset({"CacheControl", "ContentDisposition", "ContentEncoding", "ContentLanguage",
                         "StorageClass", "Expires"})
"""Stored object attributes a caller may add (``object_args``); sent with the PUT or the
CreateMultipartUpload, like ``aws s3 cp --cache-control ...``."""


@dataclass(frozen=True)
class UploadResult:
    bucket: str
    key: str
    size: int
    seconds: float
    checksum_algorithm: str
    checksum: str
    version_id: Optional[str]
    etag: Optional[str]
    parts: int
    part_size: int
    resumed_parts: int
    verified: bool = True
    """False when the whole-object checksum could not be read back for the version this upload
    made (e.g. an unversioned bucket where another writer replaced the key first); every part's
    checksum was still checked by S3 as it arrived."""
    outcome: str = STORED
    """Always ``stored-and-verified`` (``errors.STORED``): other outcomes are errors."""

    def summary(self) -> dict[str, Any]:
        """The ``--json`` summary: key, version id, bytes, seconds, checksum and friends."""
        data = asdict(self)
        data["bytes"] = data.pop("size")
        data["seconds"] = round(self.seconds, 3)
        return data


def upload_file(
    client: Any,
    path: PathLike,
    bucket: str,
    key: str,
    *,
    config: Optional[TransferConfig] = None,
    sse_kms_key_id: Optional[str] = None,
    content_type: Optional[str] = None,
    metadata: Optional[Mapping[str, str]] = None,
    progress: Optional[ProgressCallback] = None,
    state_path: Optional[PathLike] = None,
    resume: bool = True,
    object_args: Optional[Mapping[str, str]] = None,
    notify: Optional[Callable[[str], None]] = None,
) -> UploadResult:
    """Upload ``path`` to ``s3://bucket/key`` with the injected boto3 S3 ``client``.

    ``sse_kms_key_id`` requests SSE-KMS with that key (otherwise the bucket's default
    encryption applies). ``progress(bytes_done, bytes_total)`` is called from worker threads,
    serialised and throttled. A multipart upload is always journalled, at ``state_path``
    (default: ``default_state_path(path, bucket, key)``); with ``resume`` an unfinished upload
    journalled there for the same file, bucket and key is continued, without it such an upload
    raises ``UploadPendingError`` (nothing is touched); a journal of another file or key there
    raises ``StateFileConflictError`` (nothing is touched either). ``notify(line)`` receives what
    the user should see while it runs (retries, journal repairs, an interrupt's wait).

    Raises ``TransferError`` (a permanent cause: the multipart upload aborted),
    ``TemporaryTransferError`` (a transient cause outlasted the retry budget: upload and journal
    kept, resumable), ``JournalBusyError`` (another process is uploading the same file to the
    same key), ``ValueError`` for bad arguments, and ``UploadInterrupted`` (a
    ``KeyboardInterrupt``) on Ctrl-C, saying whether the upload was aborted or kept.
    """
    config = config or TransferConfig()
    if not bucket:
        raise ValueError("bucket must not be empty")
    if not key:
        raise ValueError("key must not be empty")
    algorithm = get_algorithm(config.checksum_algorithm)
    extra_args = object_extra_args(sse_kms_key_id, content_type, object_args)
    user_metadata = dict(metadata or {})

    started = time.monotonic()
    link = Link.for_client(client, notify)
    with open(path, "rb") as handle:
        status = os.fstat(handle.fileno())
        reporter = ThrottledProgress(status.st_size, progress,
                                     interval_seconds=config.progress_interval_seconds)
        if status.st_size < config.multipart_threshold:
            result = _put_single(client, handle.fileno(), status.st_size, bucket, key, config,
                                 algorithm, {**extra_args, "Metadata": user_metadata}, reporter, link)
        else:
            identity_path = os.path.abspath(os.fspath(path))
            if state_path is None:
                state_path = default_state_path(identity_path, bucket, key)
            job = _MultipartUpload(client, handle.fileno(), status, identity_path, bucket, key,
                                   config, algorithm, extra_args, user_metadata, reporter,
                                   UploadJournal(state_path), resume=resume, link=link)
            try:
                result = job.run()
            except UploadInterrupted as interrupted:
                if isinstance(interrupted.result, dict):  # stored before the interrupt took effect
                    interrupted.result = UploadResult(seconds=time.monotonic() - started,
                                                      **interrupted.result)
                raise
    reporter.finish()
    return UploadResult(seconds=time.monotonic() - started, **result)


def _read_exactly(fd: int, buffer, offset: int) -> None:
    """Fill ``buffer`` from ``fd`` at ``offset``; the file shrinking is an error."""
    view = memoryview(buffer)
    filled = 0
    while filled < len(buffer):
        count = os.preadv(fd, [view[filled:]], offset + filled)
        if count == 0:
            raise FileChangedError(
                f"file ended at byte {offset + filled}, expected {offset + len(buffer)}: "
                "it changed while being uploaded")
        filled += count


def _policy(config: TransferConfig, link: Optional[Link] = None) -> RetryPolicy:
    return RetryPolicy(config.max_attempts, config.backoff_base_seconds, config.backoff_max_seconds,
                       config.retry_for_seconds, config.first_answer_seconds, link)


def _file_signature(status: os.stat_result) -> tuple[int, int, int]:
    """What a rewrite in place changes: size, modification time and change time."""
    return status.st_size, status.st_mtime_ns, status.st_ctime_ns


def _check_unchanged(fd: int, path: Optional[str], before: os.stat_result) -> None:
    """Raise ``FileChangedError`` when the open file, or the file now at ``path``, differs."""
    now = os.fstat(fd)
    changed = _file_signature(now) != _file_signature(before)
    if not changed and path is not None:
        try:
            at_path = os.stat(path)
        except OSError:
            changed = True
        else:
            changed = (at_path.st_dev, at_path.st_ino) != (before.st_dev, before.st_ino)
    if changed:
        raise FileChangedError(
            f"{path or 'the source file'} changed while it was being uploaded (size, modification or "
            "change time differ from when the upload started); upload it again once it is complete")


def _put_single(client, fd, size, bucket, key, config, algorithm: ChecksumAlgorithm,
                extra_args, reporter: ThrottledProgress, link: Optional[Link] = None) -> dict[str, Any]:
    status = os.fstat(fd)
    body = bytearray(size)
    _read_exactly(fd, body, 0)
    _check_unchanged(fd, None, status)
    return put_body(client, body, bucket, key, config, algorithm, extra_args, reporter, link)


def put_body(client, body, bucket, key, config, algorithm: ChecksumAlgorithm,
             extra_args, reporter: ThrottledProgress, link: Optional[Link] = None) -> dict[str, Any]:
    """One PUT of ``body`` (a file's bytes or a short stream), checksummed and retried."""
    size = len(body)
    params, checksum = single_put_params(bucket, key, body, algorithm, extra_args)
    direct = DirectObjects.for_client(client, bucket) if config.direct_parts else None
    headers = direct.headers_for(params) if direct is not None else None
    if headers is not None:  # the PUT over the transfer's persistent connections (direct_objects.py)
        send = lambda: direct.put_object(key, body, headers)  # noqa: E731
    else:
        send = lambda: client.put_object(Body=BlockBody(body) if body else b"", **params)  # noqa: E731
    try:
        response = _policy(config, link).call(send)
    except Exception as error:
        if isinstance(error, TransferError):
            raise
        if is_retryable(error):
            failure = TemporaryTransferError(
                f"PUT s3://{bucket}/{key} failed for {config.retry_for_seconds:g}s on a transient "
                f"cause ({_describe(error)}); nothing was stored, run it again")
            failure.outcome = NOT_STORED
            raise failure from error
        raise TransferError(f"PUT s3://{bucket}/{key} failed: {_describe(error)}") from error
    result = single_put_result(response, bucket, key, size, algorithm, checksum)
    reporter.advance(size)
    return result


def object_extra_args(sse_kms_key_id: Optional[str], content_type: Optional[str],
                      object_args: Optional[Mapping[str, str]]) -> dict[str, Any]:
    """PutObject/CreateMultipartUpload arguments for encryption, type and ``object_args``
    (checked: a key that is not an ARN, an argument not in ``OBJECT_ARGS``: ``ValueError``)."""
    extra_args: dict[str, Any] = {}
    if sse_kms_key_id:
        extra_args["ServerSideEncryption"] = "aws:kms"
        extra_args["SSEKMSKeyId"] = require_key_arn(sse_kms_key_id, "sse_kms_key_id")
    if content_type:
        extra_args["ContentType"] = content_type
    unknown = set(object_args or {}) - OBJECT_ARGS
    if unknown:
        raise ValueError(f"object_args {sorted(unknown)} are not among {sorted(OBJECT_ARGS)}")
    extra_args.update(object_args or {})
    return extra_args


def single_put_params(bucket: str, key: str, body, algorithm: ChecksumAlgorithm,
                      extra_args: Mapping[str, Any]) -> tuple[dict[str, Any], str]:
    """The PutObject parameters of one whole-body PUT, and the body's checksum they carry."""
    checksum = algorithm.encode(algorithm.digest(body))
    return {"Bucket": bucket, "Key": key, "ChecksumAlgorithm": algorithm.s3_name,
            algorithm.parameter: checksum, **extra_args}, checksum


def single_put_result(response: Mapping[str, Any], bucket: str, key: str, size: int,
                      algorithm: ChecksumAlgorithm, checksum: str) -> dict[str, Any]:
    """What a stored single PUT returns (``UploadResult`` fields); ``ChecksumMismatchError`` when
    S3 echoed another checksum than the one sent."""
    stored = response.get(algorithm.parameter)
    if stored is not None and stored != checksum:
        raise ChecksumMismatchError(
            f"S3 stored {algorithm.name} {stored} for s3://{bucket}/{key}, expected {checksum}")
    return dict(bucket=bucket, key=key, size=size, checksum_algorithm=algorithm.name,
                checksum=checksum, version_id=_version_id(response),
                etag=response.get("ETag"), parts=1, part_size=size, resumed_parts=0)


class _BufferPool:
    """Part-sized ``bytearray``s, created on first use and then reused; never more than workers.

    ``take`` hands out a ``memoryview`` of exactly the part's length over a pooled buffer (the
    short last part is a shorter view of a full buffer), so buffers are never resized: a view
    that botocore or a traceback still holds would make resizing fail (``BufferError``).
    """

    def __init__(self, part_size: int) -> None:
        self._part_size = part_size
        self._free: "queue.SimpleQueue[bytearray]" = queue.SimpleQueue()

    def take(self, length: int) -> tuple[bytearray, memoryview]:
        try:
            buffer = self._free.get_nowait()
        except queue.Empty:
            buffer = bytearray(self._part_size)
        return buffer, memoryview(buffer)[:length]

    def give_back(self, buffer: bytearray) -> None:
        self._free.put(buffer)


class _MultipartUpload:
    resumable = True
    """A file can be read again: a transient failure keeps the upload for ``--resume``."""

    def __init__(self, client, fd, status, path, bucket, key, config: TransferConfig,
                 algorithm: ChecksumAlgorithm, extra_args, metadata, reporter: ThrottledProgress,
                 journal: UploadJournal, *, resume: bool = True,
                 link: Optional[Link] = None) -> None:
        self.client = client
        self.fd = fd
        self.path = path
        self.status = status
        self.bucket = bucket
        self.key = key
        self.config = config
        self.algorithm = algorithm
        self.extra_args = extra_args
        self.metadata = metadata
        self.reporter = reporter
        self.journal = journal
        self.resume = resume
        self.link = link or Link.for_client(client)
        self.policy = _policy(config, self.link)
        self.plan: PartPlan = plan_parts(status.st_size, config.part_size)
        self.identity = UploadIdentity(bucket=bucket, key=key, path=path, file_size=status.st_size,
                                       mtime_ns=status.st_mtime_ns, part_size=self.plan.part_size,
                                       checksum_algorithm=algorithm.name)
        self.upload_id: Optional[str] = None
        self.digests: dict[int, bytes] = {}
        self.etags: dict[int, str] = {}
        self.cancelled = threading.Event()
        self._lock = threading.Lock()
        self._buffers = _BufferPool(self.plan.part_size)
        self._adopting = False  # while resuming: a failure never aborts the journalled upload
        self._direct: Optional[DirectParts] = None
        self._direct_for: Optional[str] = None  # the upload id _direct was built for
        self.notify = self.link.notify
        self._in_flight: Optional[InFlight] = None  # Create/Complete when an interrupt came

    # the whole upload ---------------------------------------------------------------------------
    def run(self) -> dict[str, Any]:
        self.journal.lock(f"an upload of {self.path} to s3://{self.bucket}/{self.key}")
        try:
            return self._run_locked()
        finally:
            if self._direct is not None:
                self._direct.close()
            self.journal.close()
            self.journal.unlock()

    def _run_locked(self) -> dict[str, Any]:
        try:
            response: Optional[dict] = None
            resumed = self._resumable_state()
            if resumed is not None:
                self.upload_id = resumed.upload_id
                self._adopting = True
                adopted = self._adopt_finished_parts(resumed)
                if isinstance(adopted, dict):
                    response = adopted  # an earlier run's Complete had succeeded
                elif not adopted:
                    self.upload_id, resumed = None, None  # S3 no longer has it: start afresh
                    self.digests, self.etags = {}, {}
                self._adopting = False
            resumed_parts = len(self.digests)
            if response is None:
                if resumed is None:
                    # from here on, a failure aborts or keeps the upload
                    self.upload_id = self._shielded("CreateMultipartUpload", self._create)
                    self.journal.start(self.identity, self.upload_id)
                if self.digests:
                    self.reporter.advance(sum(self.plan.length(n) for n in self.digests))
                self._send_missing_parts()
                self._source_unchanged()
                response = self._complete()
        except BaseException as error:
            raise self._failure(error) from error
        self.journal.discard()
        return self._stored(response, resumed_parts)

    def _stored(self, response: dict, resumed_parts: int) -> dict[str, Any]:
        """The result of a completed upload, once its whole-object checksum was compared."""
        try:
            checksum, verified = self._verify(response)
        except TransferError:
            raise
        except Exception as error:  # noqa: BLE001 - e.g. the HEAD for the checksum failed
            raise TransferError(f"s3://{self.bucket}/{self.key} was uploaded but its checksum could "
                                f"not be read back to verify it: {_describe(error)}") from error
        return dict(bucket=self.bucket, key=self.key, size=self.plan.file_size,
                    checksum_algorithm=self.algorithm.name, checksum=checksum,
                    version_id=_version_id(response), etag=response.get("ETag"),
                    parts=self.plan.count, part_size=self.plan.part_size,
                    resumed_parts=resumed_parts, verified=verified)

    def _shielded(self, name: str, call: Callable[[], Any]) -> Any:
        """Run a request S3 acts on even when nobody listens (Create, Complete) so that an
        interrupt does not lose its answer: after Ctrl-C/SIGTERM wait up to ``interrupt_seconds``
        for it (saying so), remember it for ``_interrupted``, then let the interrupt through."""
        self._in_flight = InFlight(name, call)
        try:
            self._in_flight.start().wait()
        except KeyboardInterrupt:
            self.cancelled.set()  # no further retries; the request in flight is awaited
            if not self._in_flight.began:
                self._in_flight = None  # interrupted before it was sent
                raise
            self.notify(f"interrupted while {name} was in flight: waiting up to "
                        f"{self.config.interrupt_seconds:g} s for S3's answer, to report what it did")
            self._in_flight.wait_quietly(self.config.interrupt_seconds)
            raise
        call_done, self._in_flight = self._in_flight, None
        return call_done.result()

    def _source_unchanged(self) -> None:
        _check_unchanged(self.fd, self.path, self.status)

    def _pending(self) -> PendingUpload:
        return PendingUpload(self.bucket, self.key, self.upload_id, str(self.journal.path),
                             parts_done=len(self.etags))

    def _failure(self, error: BaseException) -> BaseException:
        """Decide what happens to the multipart upload after ``error``; return what to raise.

        Interrupt: abort within ``interrupt_seconds`` or keep. Transient cause (or any failure
        while resuming): keep the upload and its journal. Permanent cause: abort.
        """
        where = f"s3://{self.bucket}/{self.key}"
        if isinstance(error, UploadPendingError):
            return error
        if isinstance(error, (KeyboardInterrupt, SystemExit)):
            return self._interrupted(error)
        if isinstance(error, StateFileConflictError) or getattr(error, "settled", False):
            return error  # nothing of ours to abort or keep: it already says what is left
        if self.upload_id is None:
            if isinstance(error, TransferError):
                return error
            if is_retryable(error):
                failure = TemporaryTransferError(
                    f"upload of {where} could not start ({_describe(error)}, still failing after "
                    f"{self.config.retry_for_seconds:g}s); no multipart upload was created, run it again")
                failure.outcome = NOT_STORED
                return failure
            return TransferError(f"upload of {where} failed: {_describe(error)}; "
                                 "no multipart upload was created")
        if self.resumable and (self._adopting or is_retryable(error) or isinstance(error, TransferCancelled)):
            self.journal.close()
            return TemporaryTransferError(
                f"upload of {where} stopped: {_describe(error)} (still failing after "
                f"{self.config.retry_for_seconds:g}s of retries). Nothing was lost: multipart upload "
                f"{self.upload_id} ({len(self.etags)} of {self.plan.count} parts done) and its journal "
                f"{self.journal.path} are kept", self._pending())
        note, cleaned = self._abort()
        if isinstance(error, TransferError):
            failure = type(error)(f"{error}; {note}")
        elif is_retryable(error) or isinstance(error, TransferCancelled):  # not resumable (a stream)
            failure = TemporaryTransferError(f"upload of {where} stopped: {_describe(error)} (still failing "
                                             f"after {self.config.retry_for_seconds:g}s of retries); a stream "
                                             f"cannot be resumed, so {note}: run it again")
        else:
            failure = TransferError(f"upload of {where} failed: {_describe(error)}; {note}")
        failure.outcome = NOT_STORED if cleaned else KEPT
        return failure

    def _interrupted(self, error: BaseException) -> UploadInterrupted:
        """Ctrl-C/SIGTERM: say what S3 did, then abort within ``interrupt_seconds`` or keep.

        A Create or Complete in flight was given time to answer (``_shielded``): a Create that
        answered is aborted like any upload, one that did not is reported as possibly left open;
        a Complete that answered, or that ListParts/HeadObject show took effect, is reported as
        stored. A second Ctrl-C stops waiting at once. The journal goes only when S3 confirmed
        the abort (or the completion)."""
        where = f"s3://{self.bucket}/{self.key}"
        call, self._in_flight = self._in_flight, None
        if call is not None and call.name == "CreateMultipartUpload":
            if not call.answered:
                return UploadInterrupted(
                    f"interrupted while CreateMultipartUpload of {where} was in flight, and S3 did "
                    f"not answer within {self.config.interrupt_seconds:g} s: a multipart upload may "
                    f"have been left open. See it with `securestore uploads list --key {self.key}` "
                    f"and end it with `securestore uploads abort --key {self.key}`",
                    kept=True, pending=PendingUpload(self.bucket, self.key, None, None), outcome=KEPT)
            if call.error is None:
                self.upload_id = call.value  # created after all: abort it below
        if self.upload_id is None:
            return UploadInterrupted("interrupted; no multipart upload was created", kept=False)
        self.journal.close()
        if call is not None and call.name == "CompleteMultipartUpload":
            outcome = self._interrupted_complete(call)
            if outcome is not None:
                return outcome
        finished, _, failure = bounded("abort", lambda: self.client.abort_multipart_upload(
            Bucket=self.bucket, Key=self.key, UploadId=self.upload_id), self.config.interrupt_seconds)
        if finished and failure is not None and error_code(failure) == "NoSuchUpload" and \
                call is not None and call.name == "CompleteMultipartUpload":
            # the Complete still in flight may have won the race with the abort: look
            done, found, _ = bounded("check", lambda: self._stored_copy(self._composite()),
                                     self.config.interrupt_seconds)
            if done and found is not None:
                return self._interrupted_complete_stored(found)
        if finished and (failure is None or error_code(failure) == "NoSuchUpload"):
            self.journal.discard()
            return UploadInterrupted(f"interrupted; multipart upload {self.upload_id} was aborted",
                                     kept=False)
        why = _describe(failure) if failure is not None else "S3 did not answer in time"
        return UploadInterrupted(
            f"interrupted; the abort of multipart upload {self.upload_id} was not confirmed ({why}), "
            f"so it is kept with its journal {self.journal.path} ({len(self.etags)} of "
            f"{self.plan.count} parts done)", kept=True, pending=self._pending())

    def _interrupted_complete(self, call: InFlight) -> Optional[UploadInterrupted]:
        """What an interrupted Complete did: ``None`` when S3 says it did not happen (abort)."""
        where = f"s3://{self.bucket}/{self.key}"
        response = call.value if call.answered and call.error is None else None
        if response is None:
            finished, found, failure = bounded("check", self._completion_state,
                                               self.config.interrupt_seconds)
            state, response = found if finished and failure is None else ("unknown", None)
            if state == "open":
                return None
            if state == "gone":
                self.journal.discard()
                return UploadInterrupted(
                    f"interrupted; multipart upload {self.upload_id} no longer exists and no object "
                    f"with this upload's checksum is at {where}: nothing was stored", kept=False)
            if state == "unknown":
                return UploadInterrupted(
                    f"interrupted after CompleteMultipartUpload of {where} was sent; whether it took "
                    f"effect could not be checked in time, so multipart upload {self.upload_id} is "
                    f"kept with its journal {self.journal.path}: --resume checks and finishes it",
                    kept=True, pending=self._pending())
        return self._interrupted_complete_stored(response)

    def _interrupted_complete_stored(self, response: dict) -> UploadInterrupted:
        where = f"s3://{self.bucket}/{self.key}"
        self.journal.discard()
        try:
            result = self._stored(response, 0)
        except TransferError as failure:
            return UploadInterrupted(f"interrupted after CompleteMultipartUpload; {failure}",
                                     kept=False, outcome=failure.outcome)
        return UploadInterrupted(
            f"interrupted after CompleteMultipartUpload was sent; it took effect: {where} is stored "
            f"({self.algorithm.name} {result['checksum']}"
            f"{' verified' if result['verified'] else ', not re-read'}, version "
            f"{result['version_id'] or 'none (unversioned bucket)'})",
            kept=False, outcome=STORED, result=result)

    def _completion_state(self) -> tuple[str, Optional[dict]]:
        """After Complete's answer was lost: ``("open", None)`` when S3 still lists the upload
        (Complete did not happen), ``("stored", response)`` when the upload is gone and the key
        holds an object with this upload's composite checksum, ``("gone", None)`` when the
        upload is gone and the key does not hold it; errors propagate (cannot tell)."""
        try:
            self.client.list_parts(Bucket=self.bucket, Key=self.key, UploadId=self.upload_id, MaxParts=1)
            return "open", None
        except ClientError as error:
            if error_code(error) != "NoSuchUpload":
                raise
        found = self._stored_copy(self._composite())
        return ("stored", found) if found is not None else ("gone", None)

    def _composite(self) -> str:
        """The whole-object checksum of the parts sent, as S3 computes it."""
        return self.algorithm.composite(self.digests[n] for n in sorted(self.digests))

    def _stored_copy(self, expected: str) -> Optional[dict]:
        """A Complete-like response for the object at the key, if its checksum is ``expected``."""
        try:
            head = self.client.head_object(Bucket=self.bucket, Key=self.key, ChecksumMode="ENABLED")
        except ClientError as error:
            if error.response.get("ResponseMetadata", {}).get("HTTPStatusCode") == 404 or \
                    error_code(error) in ("404", "NoSuchKey"):
                return None
            raise
        stored = head.get(self.algorithm.parameter)
        if not _same_composite(stored, expected):
            return None
        return {"ETag": head.get("ETag"), "VersionId": head.get("VersionId"), self.algorithm.parameter: stored}

    def _create(self) -> str:
        metadata = {**self.metadata, PART_SIZE_METADATA_KEY: str(self.plan.part_size)}
        response = self.policy.call(lambda: self.client.create_multipart_upload(
            Bucket=self.bucket, Key=self.key, ChecksumAlgorithm=self.algorithm.s3_name,
            ChecksumType="COMPOSITE", Metadata=metadata, **self.extra_args))
        return response["UploadId"]

    # resume -------------------------------------------------------------------------------------
    def _resumable_state(self) -> Optional[UploadState]:
        state = self.journal.load(notify=self.notify)
        if state is None:
            return None
        theirs = state.identity
        if (theirs.bucket, theirs.key, theirs.path) != (self.bucket, self.key, self.path):
            raise StateFileConflictError(
                f"the state file {self.journal.path} belongs to another upload: {theirs.path} to "
                f"s3://{theirs.bucket}/{theirs.key} (multipart upload {state.upload_id}, "
                f"{len(state.parts)} parts done). It was left as it is; give this upload of "
                f"{self.path} its own --state-file")
        if not self.resume:
            pending = PendingUpload(state.identity.bucket, state.identity.key, state.upload_id,
                                    str(self.journal.path), parts_done=len(state.parts))
            raise UploadPendingError(
                f"an unfinished upload of {self.path} to s3://{self.bucket}/{self.key} exists "
                f"(multipart upload {state.upload_id}, {len(state.parts)} parts done, journal "
                f"{self.journal.path}): continue it with --resume, or give it up with "
                "`securestore uploads abort`", pending)
        if replace(state.identity, part_size=self.identity.part_size) != self.identity:
            # Another file, a changed file, or another algorithm: that upload cannot be continued.
            self._abort_stale(state)
            return None
        if state.identity.part_size != self.plan.part_size:
            # Continue with the part size the upload was started with, not today's --part-size.
            count = max(1, -(-self.plan.file_size // state.identity.part_size))
            self.plan = PartPlan(self.plan.file_size, state.identity.part_size, count)
            self.identity = state.identity
            self._buffers = _BufferPool(self.plan.part_size)
        return state

    def _adopt_finished_parts(self, state: UploadState) -> Union[bool, dict]:
        """Keep the journalled parts that S3 still lists with the same ETag (and checksum) and
        whose bytes in the file today still have the checksum journalled for what was sent.

        Returns False when S3 no longer knows the upload (aborted or expired), or a
        Complete-like response when it is gone because an earlier run's Complete took effect
        (the key holds an object with the journalled parts' composite checksum, and the file
        still has that content). Any other error propagates with the journal untouched (the
        caller keeps the upload).
        """
        listed: dict[int, dict] = {}
        marker = 0
        while True:
            try:
                page = self.policy.call(lambda: self.client.list_parts(
                    Bucket=self.bucket, Key=self.key, UploadId=state.upload_id,
                    MaxParts=LIST_PARTS_PAGE, PartNumberMarker=marker))
            except ClientError as error:
                if error_code(error) == "NoSuchUpload":
                    completed = self._completed_earlier(state)
                    if completed is None:
                        self.journal.discard()
                        return False
                    return completed
                raise
            for part in page.get("Parts", []):
                listed[part["PartNumber"]] = part
            if not page.get("IsTruncated"):
                break
            marker = page["NextPartNumberMarker"]
        for number, (etag, checksum) in state.parts.items():
            part = listed.get(number)
            if part is None or part.get("ETag") != etag:
                continue
            if part.get(self.algorithm.parameter) not in (None, checksum):
                continue
            self.etags[number] = etag
            self.digests[number] = _b64decode(checksum)
        self._drop_parts_whose_content_changed()
        kept = UploadState(state.identity, state.upload_id, state.created_at,
                           {n: state.parts[n] for n in self.etags})
        self.journal.resume(kept)
        return True

    def _drop_parts_whose_content_changed(self) -> None:
        """Re-read every adopted part and forget those whose checksum differs from the one
        journalled for what was sent: a file replaced by another of the same size and
        modification time must not be stored as a mix; those parts are sent again."""
        changed = []
        for number in sorted(self.digests):
            buffer, view = self._buffers.take(self.plan.length(number))
            try:
                _read_exactly(self.fd, view, self.plan.offset(number))
                same = self.algorithm.digest(view) == self.digests[number]
            finally:
                self._buffers.give_back(buffer)
            if not same:
                changed.append(number)
                del self.digests[number], self.etags[number]
        if changed:
            self.notify(f"{self.path}: the content of part(s) {', '.join(map(str, changed))} differs from "
                        f"what the journal {self.journal.path} records as sent (same size and "
                        "modification time); they are sent again")

    def _completed_earlier(self, state: UploadState) -> Optional[dict]:
        """The object an earlier run completed (its answer lost, or killed meanwhile), if every
        part was journalled, the file still has that content and the key holds it."""
        if sorted(state.parts) != list(range(1, self.plan.count + 1)):
            return None
        self.digests = {n: _b64decode(checksum) for n, (_, checksum) in state.parts.items()}
        self.etags = {n: etag for n, (etag, _) in state.parts.items()}
        self._drop_parts_whose_content_changed()
        if len(self.digests) != self.plan.count:
            return None
        try:
            return self._stored_copy(self._composite())
        except ClientError:
            return None

    def _abort_stale(self, state: UploadState) -> None:
        """Abort the journalled upload of a file that has since changed; forget it only once
        S3 confirmed (or says it is gone already)."""
        try:
            self.policy.call(lambda: self.client.abort_multipart_upload(
                Bucket=state.identity.bucket, Key=state.identity.key, UploadId=state.upload_id))
        except Exception as error:  # noqa: BLE001 - classified below
            if error_code(error) != "NoSuchUpload":
                pending = PendingUpload(state.identity.bucket, state.identity.key, state.upload_id,
                                        str(self.journal.path), parts_done=len(state.parts))
                cls = TemporaryTransferError if is_retryable(error) else TransferError
                raise cls(f"{self.path} changed since multipart upload {state.upload_id} was started, "
                          f"and aborting that upload failed ({_describe(error)}); its journal "
                          f"{self.journal.path} is kept", pending) from error
        self.journal.discard()

    # parts --------------------------------------------------------------------------------------
    def _send_missing_parts(self) -> None:
        self._send_missing_parts_of([n for n in range(1, self.plan.count + 1) if n not in self.digests],
                                    self._send_part)

    def _send_missing_parts_of(self, numbers, send) -> None:
        run_parallel(numbers, send, workers=self.config.concurrency,
                     cancelled=self.cancelled, grace_seconds=self.config.grace_seconds,
                     interrupt_grace_seconds=min(self.config.grace_seconds,
                                                 self.config.interrupt_seconds / 3),
                     name="securestore-part")

    def _send_part(self, number: int) -> None:
        if self.cancelled.is_set():
            raise TransferCancelled()
        length = self.plan.length(number)
        buffer, view = self._buffers.take(length)
        try:
            _read_exactly(self.fd, view, self.plan.offset(number))
        except BaseException:
            self._buffers.give_back(buffer)
            raise
        self._send_buffer(number, buffer, view)

    def _send_buffer(self, number: int, buffer: bytearray, view: memoryview) -> None:
        """Checksum and send part ``number`` from ``view`` (over ``buffer``, given back after)."""
        length = len(view)
        try:
            digest = self.algorithm.digest(view)
            checksum = self.algorithm.encode(digest)
            direct = self._direct_sender()
            if direct is not None:
                response = self.policy.call(lambda: direct.upload_part(number, view, checksum),
                                            cancelled=self.cancelled)
            else:
                params = {"Bucket": self.bucket, "Key": self.key, "UploadId": self.upload_id,
                          "PartNumber": number,
                          "ChecksumAlgorithm": self.algorithm.s3_name, self.algorithm.parameter: checksum}
                response = self.policy.call(
                    lambda: self.client.upload_part(Body=BlockBody(view), **params), cancelled=self.cancelled)
        finally:
            self._buffers.give_back(buffer)
        echoed = response.get(self.algorithm.parameter)
        if echoed is not None and echoed != checksum:
            raise ChecksumMismatchError(
                f"S3 stored {self.algorithm.name} {echoed} for part {number}, expected {checksum}")
        with self._lock:
            self.digests[number] = digest
            self.etags[number] = response["ETag"]
        self.journal.record(number, response["ETag"], checksum)
        self.reporter.advance(length)

    def _direct_sender(self) -> Optional[DirectParts]:
        """The upload's ``DirectParts`` (built once, for its current upload id), or ``None``."""
        if not self.config.direct_parts:
            return None
        with self._lock:
            if self._direct_for != self.upload_id:
                if self._direct is not None:
                    self._direct.close()
                self._direct = DirectParts.for_upload(self.client, self.bucket, self.key, self.upload_id,
                                                      self.algorithm.parameter)
                self._direct_for = self.upload_id
            return self._direct

    # the end ------------------------------------------------------------------------------------
    def _complete(self) -> dict:
        """CompleteMultipartUpload; when its answer is lost (a dropped connection, a 500 after
        S3 acted, a retry told NoSuchUpload), ListParts and HeadObject say what happened."""
        parts = [{"PartNumber": n, "ETag": self.etags[n],
                  self.algorithm.parameter: self.algorithm.encode(self.digests[n])}
                 for n in sorted(self.etags)]
        try:
            return self._shielded("CompleteMultipartUpload", lambda: self.policy.call(
                lambda: self.client.complete_multipart_upload(
                    Bucket=self.bucket, Key=self.key, UploadId=self.upload_id,
                    MultipartUpload={"Parts": parts}), cancelled=self.cancelled))
        except Exception as error:
            try:
                state, response = self._completion_state()
            except Exception:  # noqa: BLE001 - cannot tell: the original error decides
                raise error from None
            if state == "stored":
                return response
            if state == "gone":
                self.journal.discard()
                gone = TransferError(
                    f"CompleteMultipartUpload of s3://{self.bucket}/{self.key} failed "
                    f"({_describe(error)}) and multipart upload {self.upload_id} no longer exists; "
                    "no object with this upload's checksum is at the key: nothing was stored")
                gone.settled = True
                raise gone from error
            raise

    def _verify(self, response: dict) -> tuple[str, bool]:
        """Compare the composite checksum of *the object this upload created* with ours.

        The Complete response carries it on S3; when it does not (moto), the checksum is read
        back by this upload's version id, or (unversioned bucket) by ETag with ``If-Match``, so
        that another writer's later object at the same key is never judged. Returns
        ``(checksum, verified)``; on a proven mismatch the version we wrote is deleted (only
        with its version id: without one, another writer's object could be at the key).
        """
        expected = self._composite()
        stored = response.get(self.algorithm.parameter)
        version = _version_id(response)
        etag = response.get("ETag")
        if stored is None:
            if version:
                pin = {"VersionId": version}
            elif etag:
                pin = {"IfMatch": etag}
            else:
                return expected, False
            try:
                head = self.policy.call(lambda: self.client.head_object(
                    Bucket=self.bucket, Key=self.key, ChecksumMode="ENABLED", **pin))
            except ClientError as error:
                status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
                if status in (404, 412) or error_code(error) in ("PreconditionFailed", "NoSuchKey",
                                                                 "NoSuchVersion", "404", "412"):
                    return expected, False  # another writer replaced (or removed) it already
                raise
            if not version and head.get("ETag") != etag:
                return expected, False  # a server that ignores If-Match: still not ours
            stored = head.get(self.algorithm.parameter)
        if not stored:
            return expected, False  # nothing to compare with: cannot tell, so touch nothing
        if _same_composite(stored, expected):
            return expected, True
        if version:
            try:
                self.client.delete_object(Bucket=self.bucket, Key=self.key, VersionId=version)
                what = f"version {version}, which this upload created, was deleted"
            except Exception as error:  # noqa: BLE001 - the mismatch is the error worth reporting
                what = f"deleting version {version} failed ({_describe(error)})"
        else:
            what = ("the object was left in place: the bucket is not versioned, so a delete could "
                    "remove another writer's object")
        raise ChecksumMismatchError(
            f"s3://{self.bucket}/{self.key}: S3 reports {self.algorithm.name} checksum {stored!r}, "
            f"expected {expected}; {what}")

    def _abort(self) -> tuple[str, bool]:
        """Abort the multipart upload (retried within the budget), never raises.

        Returns a sentence for the error message saying what happened to the upload, and
        whether nothing is left. The journal is deleted only when S3 confirmed the abort (or
        says the upload is gone).
        """
        if self.upload_id is None:
            return "no multipart upload was created", True
        try:
            self.policy.call(lambda: self.client.abort_multipart_upload(
                Bucket=self.bucket, Key=self.key, UploadId=self.upload_id))
        except Exception as error:  # noqa: BLE001 - reported, journal kept
            if error_code(error) != "NoSuchUpload":
                self.journal.close()
                return (f"aborting multipart upload {self.upload_id} failed too ({_describe(error)}); "
                        f"it is kept with its journal {self.journal.path}: remove it with "
                        "`securestore uploads abort`"), False
        self.journal.discard()
        return "the multipart upload was aborted", True


def _version_id(response: dict) -> Optional[str]:
    """The new object's version id; ``None`` for an unversioned bucket (some servers say "null")."""
    version = response.get("VersionId")
    return None if version in (None, "", "null") else version


def _same_composite(stored: Optional[str], expected: str) -> bool:
    """Equal digests, and equal part counts when the server states one (moto's HEAD omits it)."""
    if not stored:
        return False
    stored_value, stored_count = split_composite(stored)
    expected_value, expected_count = split_composite(expected)
    return stored_value == expected_value and stored_count in (None, expected_count)


def _b64decode(value: str) -> bytes:
    import base64

    return base64.b64decode(value)
