"""Upload a file to S3: one PUT when small, parallel checksummed parts when large.

The promises, and where each is kept:

* Memory: each worker owns one reusable ``bytearray`` of the part size; a part is read into it
  with ``os.preadv`` (no intermediate ``bytes``), checksummed in place and handed to botocore as
  the body, which sends a bytes-like body with one ``sendall`` and no copy. The upload therefore
  holds at most ``concurrency × part size`` of file data, whatever the file size.
* Integrity: every part carries its checksum (one algorithm for all parts); S3 rejects a part
  whose bytes do not match. After completion the composite checksum S3 reports is compared with
  the one computed here; a mismatching object is deleted and the upload fails.
* No orphans: the abort is armed the moment ``CreateMultipartUpload`` returns an id; any
  exception after that (a part that failed all its retries, a bad checksum, Ctrl-C) aborts the
  upload before the error propagates.
* Resume: with a state file, each finished part is journalled; a later call with the same file,
  bucket and key continues the same upload and sends only the missing parts.
"""

from __future__ import annotations

import os
import queue
import threading
import time
from dataclasses import asdict, dataclass, replace
from typing import Any, Mapping, Optional, Union

from botocore.exceptions import ClientError

from .checksums import ChecksumAlgorithm, get_algorithm, split_composite
from .config import PartPlan, TransferConfig, plan_parts
from .errors import ChecksumMismatchError, FileChangedError, TransferError, describe_error as _describe
from .progress import ProgressCallback, ThrottledProgress
from .resume import UploadIdentity, UploadJournal, UploadState
from .retry import RetryPolicy, TransferCancelled
from .workers import run_parallel

PathLike = Union[str, "os.PathLike[str]"]

PART_SIZE_METADATA_KEY = "securestore-part-size"
"""User metadata recording the part size, so a download can verify the composite checksum."""

LIST_PARTS_PAGE = 1000

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
    object_args: Optional[Mapping[str, str]] = None,
) -> UploadResult:
    """Upload ``path`` to ``s3://bucket/key`` with the injected boto3 S3 ``client``.

    ``sse_kms_key_id`` requests SSE-KMS with that key (otherwise the bucket's default
    encryption applies). ``progress(bytes_done, bytes_total)`` is called from worker threads,
    serialised and throttled. ``state_path`` makes a multipart upload resumable: an unfinished
    upload journalled there for the same file, bucket and key is continued.

    Raises ``TransferError`` (the multipart upload aborted) when the upload cannot complete,
    ``ValueError`` for bad arguments, and lets ``KeyboardInterrupt`` through after aborting.
    """
    config = config or TransferConfig()
    if not bucket:
        raise ValueError("bucket must not be empty")
    if not key:
        raise ValueError("key must not be empty")
    algorithm = get_algorithm(config.checksum_algorithm)
    extra_args: dict[str, Any] = {}
    if sse_kms_key_id:
        extra_args["ServerSideEncryption"] = "aws:kms"
        extra_args["SSEKMSKeyId"] = sse_kms_key_id
    if content_type:
        extra_args["ContentType"] = content_type
    unknown = set(object_args or {}) - OBJECT_ARGS
    if unknown:
        raise ValueError(f"object_args {sorted(unknown)} are not among {sorted(OBJECT_ARGS)}")
    extra_args.update(object_args or {})
    user_metadata = dict(metadata or {})

    started = time.monotonic()
    with open(path, "rb") as handle:
        status = os.fstat(handle.fileno())
        reporter = ThrottledProgress(status.st_size, progress,
                                     interval_seconds=config.progress_interval_seconds)
        if status.st_size < config.multipart_threshold:
            result = _put_single(client, handle.fileno(), status.st_size, bucket, key, config,
                                 algorithm, {**extra_args, "Metadata": user_metadata}, reporter)
        else:
            identity_path = os.path.abspath(os.fspath(path))
            job = _MultipartUpload(client, handle.fileno(), status, identity_path, bucket, key,
                                   config, algorithm, extra_args, user_metadata, reporter,
                                   UploadJournal(state_path) if state_path else None)
            result = job.run()
    reporter.finish()
    return UploadResult(seconds=time.monotonic() - started, **result)


def _read_exactly(fd: int, buffer: bytearray, offset: int) -> None:
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


def _policy(config: TransferConfig) -> RetryPolicy:
    return RetryPolicy(config.max_attempts, config.backoff_base_seconds, config.backoff_max_seconds)


def _put_single(client, fd, size, bucket, key, config, algorithm: ChecksumAlgorithm,
                extra_args, reporter: ThrottledProgress) -> dict[str, Any]:
    body = bytearray(size)
    _read_exactly(fd, body, 0)
    checksum = algorithm.encode(algorithm.digest(body))
    params = {"Bucket": bucket, "Key": key, "Body": body or b"", "ChecksumAlgorithm": algorithm.s3_name,
              algorithm.parameter: checksum, **extra_args}
    try:
        response = _policy(config).call(lambda: client.put_object(**params))
    except Exception as error:
        raise TransferError(f"PUT s3://{bucket}/{key} failed: {_describe(error)}") from error
    stored = response.get(algorithm.parameter)
    if stored is not None and stored != checksum:
        raise ChecksumMismatchError(
            f"S3 stored {algorithm.name} {stored} for s3://{bucket}/{key}, expected {checksum}")
    reporter.advance(size)
    return dict(bucket=bucket, key=key, size=size, checksum_algorithm=algorithm.name,
                checksum=checksum, version_id=_version_id(response),
                etag=response.get("ETag"), parts=1, part_size=size, resumed_parts=0)


class _BufferPool:
    """Part-sized ``bytearray``s, created on first use and then reused; never more than workers.

    The short last part shrinks a pooled buffer in place (``del buffer[n:]``) rather than
    allocating another, so the pool never holds more than ``concurrency`` part buffers.
    """

    def __init__(self, part_size: int) -> None:
        self._part_size = part_size
        self._free: "queue.SimpleQueue[bytearray]" = queue.SimpleQueue()

    def take(self, length: int) -> bytearray:
        try:
            buffer = self._free.get_nowait()
        except queue.Empty:
            buffer = bytearray(self._part_size)
        if length != self._part_size:
            del buffer[length:]
        return buffer

    def give_back(self, buffer: bytearray) -> None:
        if len(buffer) == self._part_size:
            self._free.put(buffer)


class _MultipartUpload:
    def __init__(self, client, fd, status, path, bucket, key, config: TransferConfig,
                 algorithm: ChecksumAlgorithm, extra_args, metadata, reporter: ThrottledProgress,
                 journal: Optional[UploadJournal]) -> None:
        self.client = client
        self.fd = fd
        self.bucket = bucket
        self.key = key
        self.config = config
        self.algorithm = algorithm
        self.extra_args = extra_args
        self.metadata = metadata
        self.reporter = reporter
        self.journal = journal
        self.policy = _policy(config)
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

    # the whole upload ---------------------------------------------------------------------------
    def run(self) -> dict[str, Any]:
        resumed = self._resumable_state()
        try:
            if resumed is not None:
                self.upload_id = resumed.upload_id
                if not self._adopt_finished_parts(resumed):
                    self.upload_id, resumed = None, None  # S3 no longer has it: start afresh
            if resumed is None:
                self.upload_id = self._create()  # from here on, any failure aborts
                if self.journal is not None:
                    self.journal.start(self.identity, self.upload_id)
            resumed_parts = len(self.digests)
            if self.digests:
                self.reporter.advance(sum(self.plan.length(n) for n in self.digests))
            self._send_missing_parts()
            response = self._complete()
        except BaseException as error:
            note = self._abort()
            if isinstance(error, (KeyboardInterrupt, SystemExit)):
                raise
            if isinstance(error, TransferError):
                raise type(error)(f"{error}; {note}") from error
            raise TransferError(
                f"upload of s3://{self.bucket}/{self.key} failed: {_describe(error)}; {note}"
            ) from error
        if self.journal is not None:
            self.journal.discard()
        try:
            checksum = self._verify(response)
        except TransferError:
            raise
        except Exception as error:  # noqa: BLE001 - e.g. the HEAD for the checksum failed
            raise TransferError(f"s3://{self.bucket}/{self.key} was uploaded but its checksum could "
                                f"not be read back to verify it: {_describe(error)}") from error
        return dict(bucket=self.bucket, key=self.key, size=self.plan.file_size,
                    checksum_algorithm=self.algorithm.name, checksum=checksum,
                    version_id=_version_id(response), etag=response.get("ETag"),
                    parts=self.plan.count, part_size=self.plan.part_size,
                    resumed_parts=resumed_parts)

    def _create(self) -> str:
        metadata = {**self.metadata, PART_SIZE_METADATA_KEY: str(self.plan.part_size)}
        response = self.policy.call(lambda: self.client.create_multipart_upload(
            Bucket=self.bucket, Key=self.key, ChecksumAlgorithm=self.algorithm.s3_name,
            ChecksumType="COMPOSITE", Metadata=metadata, **self.extra_args))
        return response["UploadId"]

    # resume -------------------------------------------------------------------------------------
    def _resumable_state(self) -> Optional[UploadState]:
        if self.journal is None:
            return None
        state = self.journal.load()
        if state is None:
            return None
        if replace(state.identity, part_size=self.identity.part_size) != self.identity:
            # Another file, a changed file, or another algorithm: that upload cannot be continued.
            self._abort_quietly(state)
            return None
        if state.identity.part_size != self.plan.part_size:
            # Continue with the part size the upload was started with, not today's --part-size.
            count = max(1, -(-self.plan.file_size // state.identity.part_size))
            self.plan = PartPlan(self.plan.file_size, state.identity.part_size, count)
            self.identity = state.identity
            self._buffers = _BufferPool(self.plan.part_size)
        return state

    def _adopt_finished_parts(self, state: UploadState) -> bool:
        """Keep the journalled parts that S3 still lists with the same ETag (and checksum).

        Returns False when S3 no longer knows the upload (completed, aborted or expired).
        """
        listed: dict[int, dict] = {}
        marker = 0
        while True:
            try:
                page = self.policy.call(lambda: self.client.list_parts(
                    Bucket=self.bucket, Key=self.key, UploadId=state.upload_id,
                    MaxParts=LIST_PARTS_PAGE, PartNumberMarker=marker))
            except ClientError as error:
                if error.response.get("Error", {}).get("Code") == "NoSuchUpload":
                    if self.journal is not None:
                        self.journal.discard()
                    return False
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
        if self.journal is not None:
            kept = UploadState(state.identity, state.upload_id, state.created_at,
                               {n: state.parts[n] for n in self.etags})
            self.journal.resume(kept)
        return True

    def _abort_quietly(self, state: UploadState) -> None:
        try:
            self.client.abort_multipart_upload(Bucket=state.identity.bucket, Key=state.identity.key,
                                               UploadId=state.upload_id)
        except Exception:  # noqa: BLE001 - a stale upload that is already gone is fine
            pass
        if self.journal is not None:
            self.journal.discard()

    # parts --------------------------------------------------------------------------------------
    def _send_missing_parts(self) -> None:
        missing = [n for n in range(1, self.plan.count + 1) if n not in self.digests]
        run_parallel(missing, self._send_part, workers=self.config.concurrency,
                     cancelled=self.cancelled, grace_seconds=self.config.grace_seconds,
                     name="securestore-part")

    def _send_part(self, number: int) -> None:
        if self.cancelled.is_set():
            raise TransferCancelled()
        length = self.plan.length(number)
        buffer = self._buffers.take(length)
        try:
            _read_exactly(self.fd, buffer, self.plan.offset(number))
            digest = self.algorithm.digest(buffer)
            checksum = self.algorithm.encode(digest)
            params = {"Bucket": self.bucket, "Key": self.key, "UploadId": self.upload_id,
                      "PartNumber": number, "Body": buffer,
                      "ChecksumAlgorithm": self.algorithm.s3_name, self.algorithm.parameter: checksum}
            response = self.policy.call(lambda: self.client.upload_part(**params),
                                        cancelled=self.cancelled)
        finally:
            self._buffers.give_back(buffer)
        echoed = response.get(self.algorithm.parameter)
        if echoed is not None and echoed != checksum:
            raise ChecksumMismatchError(
                f"S3 stored {self.algorithm.name} {echoed} for part {number}, expected {checksum}")
        with self._lock:
            self.digests[number] = digest
            self.etags[number] = response["ETag"]
        if self.journal is not None:
            self.journal.record(number, response["ETag"], checksum)
        self.reporter.advance(length)

    # the end ------------------------------------------------------------------------------------
    def _complete(self) -> dict:
        parts = [{"PartNumber": n, "ETag": self.etags[n],
                  self.algorithm.parameter: self.algorithm.encode(self.digests[n])}
                 for n in sorted(self.etags)]
        return self.policy.call(lambda: self.client.complete_multipart_upload(
            Bucket=self.bucket, Key=self.key, UploadId=self.upload_id,
            MultipartUpload={"Parts": parts}))

    def _verify(self, response: dict) -> str:
        expected = self.algorithm.composite(self.digests[n] for n in sorted(self.digests))
        stored = response.get(self.algorithm.parameter)
        if stored is None:
            version = _version_id(response)
            head = self.policy.call(lambda: self.client.head_object(
                Bucket=self.bucket, Key=self.key, ChecksumMode="ENABLED",
                **({"VersionId": version} if version else {})))
            stored = head.get(self.algorithm.parameter)
        if _same_composite(stored, expected):
            return expected
        self._delete_corrupt(response)
        raise ChecksumMismatchError(
            f"s3://{self.bucket}/{self.key}: S3 reports {self.algorithm.name} checksum {stored!r}, "
            f"expected {expected}; the object was deleted")

    def _delete_corrupt(self, response: dict) -> None:
        params = {"Bucket": self.bucket, "Key": self.key}
        if _version_id(response):
            params["VersionId"] = _version_id(response)
        try:
            self.client.delete_object(**params)
        except Exception:  # noqa: BLE001 - the mismatch is the error worth reporting
            pass

    def _abort(self) -> str:
        """Abort the multipart upload (if one was created); retried, never raises.

        Returns a sentence for the error message saying what happened to the upload.
        """
        if self.upload_id is None:
            return "no multipart upload was created"
        try:
            self.policy.call(lambda: self.client.abort_multipart_upload(
                Bucket=self.bucket, Key=self.key, UploadId=self.upload_id))
        except Exception as error:  # noqa: BLE001 - the bucket's lifecycle rule is the backstop
            return (f"aborting multipart upload {self.upload_id} failed too ({_describe(error)}); "
                    "the bucket's abort-incomplete-multipart lifecycle rule will remove it")
        finally:
            if self.journal is not None:
                self.journal.discard()
        return "the multipart upload was aborted"


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
