"""Download an S3 object with parallel ranged GETs, verify its checksum, then rename into place.

The bytes go into a temporary file beside the destination (same filesystem, so the final
``os.replace`` is atomic): a reader of ``dest`` sees the old file or the complete, verified new
one, never a half-written or corrupt one. Every ranged GET carries ``If-Match`` with the ETag
seen at the start (and the version id when there is one), so an object replaced mid-download
fails instead of mixing two versions.

Verification uses the checksum S3 stored with the object:

* multipart objects carry a composite checksum (``H(d1 || ... || dN)-N``); the ranges are then
  the object's parts, each hashed as it streams in, and the composite is recomputed. The part
  layout comes from the ``securestore-part-size`` metadata our uploader writes, or else from
  ``GetObjectAttributes`` (``ObjectParts``).
* single-PUT (full-object) checksums are recomputed in one sequential pass over the written file.

* S3's default full-object CRC64NVME (objects uploaded without an explicit algorithm) is
  verified the same way, with ``awscrt``'s native CRC64NVME.
* a mismatch (bytes corrupted in transit) fetches the ranges once more, within the same retry
  budget, before the download fails: a ranged GET has no checksum of its own to say which range.

An object with no stored checksum at all is downloaded with ``verified=False`` (the CLI says
"NOT verified"), unless ``require_checksum`` refuses it before any byte is fetched;
``verify=False`` skips verification and is reported the same way, never as verified.

Into a directory, the file takes the key's last segment as its name, checked like a tenant
key's filename (``keys.local_file_name``): ``..``, an empty last segment, bidi overrides,
zero-width or non-characters, and NFKC look-alikes of ``/`` or ``..`` are refused first.

The temporary file's name carries the downloader's pid, so a later download to the same place
removes the full-size temporary files of downloads that were killed (pid gone, same owner).
"""

from __future__ import annotations

import math
import os
import re
import tempfile
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Callable, Optional, Union

from .checksums import ChecksumAlgorithm, split_composite, stored_checksum
from .config import MiB, TransferConfig
from .errors import STORED, ChecksumMismatchError, TransferError, describe_error as _describe
from .progress import ProgressCallback, ThrottledProgress
from .retry import Link, RetryPolicy, TransferCancelled
from .workers import run_parallel
from .upload import PART_SIZE_METADATA_KEY

PathLike = Union[str, "os.PathLike[str]"]

STREAM_CHUNK_SIZE = 1 * MiB
VERIFY_CHUNK_SIZE = 8 * MiB
ATTRIBUTE_PAGE = 1000


@dataclass(frozen=True)
class DownloadResult:
    bucket: str
    key: str
    path: str
    size: int
    seconds: float
    checksum_algorithm: Optional[str]
    checksum: Optional[str]
    version_id: Optional[str]
    verified: bool = True
    """False when nothing was compared: the object has no stored checksum, or ``verify=False``."""

    @property
    def outcome(self) -> str:
        """``stored-and-verified``, or ``stored-not-checked`` when no checksum was compared (the
        object has none, or ``verify=False``): never called verified. A failure is an error,
        which leaves ``dest`` untouched (``not-stored-and-cleaned``)."""
        return STORED if self.verified else "stored-not-checked"

    def summary(self) -> dict[str, Any]:
        data = asdict(self)
        data["outcome"] = self.outcome
        data["bytes"] = data.pop("size")
        data["seconds"] = round(self.seconds, 3)
        return data


@dataclass(frozen=True)
class _Range:
    index: int
    start: int
    length: int

    @property
    def header(self) -> str:
        return f"bytes={self.start}-{self.start + self.length - 1}"


def download_file(
    client: Any,
    bucket: str,
    key: str,
    dest: PathLike,
    *,
    config: Optional[TransferConfig] = None,
    version_id: Optional[str] = None,
    progress: Optional[ProgressCallback] = None,
    verify: bool = True,
    require_checksum: bool = False,
    notify: Optional[Callable[[str], None]] = None,
) -> DownloadResult:
    """Download ``s3://bucket/key`` to ``dest`` (a file path, or a directory to put it in).

    Raises ``ChecksumMismatchError`` when the bytes do not match the stored checksum (or, with
    ``require_checksum``, when there is none) and ``TransferError`` when a range fails after its
    retries; ``dest`` is untouched either way.
    """
    config = config or TransferConfig()
    if not bucket or not key:
        raise ValueError("bucket and key must not be empty")
    policy = RetryPolicy(config.max_attempts, config.backoff_base_seconds, config.backoff_max_seconds,
                         config.retry_for_seconds, config.first_answer_seconds,
                         Link.for_client(client, notify))
    target = Path(dest)
    # "dir/" names a directory even before it exists (Path() drops the slash): never a file "dir"
    if target.is_dir() or str(dest).endswith(("/", os.sep)):
        from securestore.keys import local_file_name

        target = target / local_file_name(key)
    if not target.parent.is_dir():
        raise ValueError(f"destination directory {str(target.parent)!r} does not exist")
    _remove_stale_temporaries(target)
    started = time.monotonic()
    version = {"VersionId": version_id} if version_id else {}
    try:
        head = policy.call(lambda: client.head_object(Bucket=bucket, Key=key, ChecksumMode="ENABLED",
                                                      **version))
    except TransferError:
        raise
    except Exception as error:
        raise TransferError(f"cannot read s3://{bucket}/{key}: {_describe(error)}") from error
    size = head["ContentLength"]
    pinned = {"IfMatch": head["ETag"]} if head.get("ETag") else {}
    if head.get("VersionId") and head["VersionId"] != "null":
        pinned["VersionId"] = head["VersionId"]

    found = stored_checksum(head)
    if found is None and require_checksum:
        raise ChecksumMismatchError(
            f"s3://{bucket}/{key} has no stored checksum, so the download cannot be verified "
            "(without --require-checksum it is downloaded and reported as not verified)")
    algorithm, stored_value = found if found else (None, None)
    part_count = _composite_part_count(head, stored_value)
    if part_count:
        ranges = _part_ranges(client, policy, bucket, key, head, size, part_count,
                              {"VersionId": pinned["VersionId"]} if "VersionId" in pinned else {})
    else:
        ranges = _even_ranges(size, config.part_size)

    reporter = ThrottledProgress(size, progress, interval_seconds=config.progress_interval_seconds)
    descriptor, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.{os.getpid()}.",
                                             suffix=TEMPORARY_SUFFIX)
    try:
        os.ftruncate(descriptor, size)
        def fetch(progress: ThrottledProgress) -> dict[int, bytes]:
            return _fetch_ranges(client, policy, bucket, key, pinned, ranges, descriptor,
                                 algorithm if part_count else None, config.concurrency,
                                 config.grace_seconds, progress)

        def computed_checksum(digests: dict[int, bytes]) -> str:
            if part_count:
                return algorithm.composite(digests[r.index] for r in ranges)
            return algorithm.encode(_file_digest(descriptor, size, algorithm))

        digests = fetch(reporter)
        if verify and algorithm is not None:
            computed = computed_checksum(digests)
            if split_composite(computed)[0] != split_composite(stored_value)[0]:
                # Bytes corrupted in transit (a middlebox, a flaky NIC): a ranged GET carries no
                # checksum of its own, so which range is bad cannot be told; fetch the ranges
                # once more (same retry budget) and check again before giving up.
                computed = computed_checksum(fetch(ThrottledProgress(size, None)))
            if split_composite(computed)[0] != split_composite(stored_value)[0]:
                raise ChecksumMismatchError(
                    f"s3://{bucket}/{key}: downloaded bytes have {algorithm.name} {computed}, "
                    f"S3 stored {stored_value}; {target} was not written")
        os.fsync(descriptor)
        os.close(descriptor)
        descriptor = -1
        os.replace(temporary, target)
    except BaseException as error:
        if descriptor >= 0:
            os.close(descriptor)
        try:
            os.unlink(temporary)
        except FileNotFoundError:
            pass
        if isinstance(error, (TransferError, KeyboardInterrupt, SystemExit, ValueError)):
            raise
        raise TransferError(f"download of s3://{bucket}/{key} failed: {_describe(error)}") from error
    reporter.finish()
    return DownloadResult(bucket=bucket, key=key, path=str(target), size=size,
                          seconds=time.monotonic() - started,
                          checksum_algorithm=algorithm.name if algorithm else None,
                          checksum=stored_value, version_id=head.get("VersionId"),
                          verified=bool(verify and algorithm is not None))


TEMPORARY_SUFFIX = ".download"


def _remove_stale_temporaries(target: Path) -> None:
    """Delete ``.<name>.<pid>.*.download`` beside ``target`` left by a killed download of ours.

    Only files owned by this user whose pid is no longer running are removed: a download of the
    same destination still in progress keeps its file.
    """
    pattern = re.compile(re.escape(f".{target.name}.") + r"(\d+)\..*" + re.escape(TEMPORARY_SUFFIX) + "$")
    try:
        entries = list(os.scandir(target.parent))
    except OSError:
        return
    for entry in entries:
        match = pattern.match(entry.name)
        if not match:
            continue
        try:
            if not entry.is_file(follow_symlinks=False) or entry.stat(follow_symlinks=False).st_uid != os.getuid():
                continue
            pid = int(match.group(1))
            if pid == os.getpid() or _running(pid):
                continue
            os.unlink(entry.path)
        except OSError:
            continue


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process: leave its file alone
    return True


def _composite_part_count(head: dict, stored_value: Optional[str]) -> Optional[int]:
    """How many parts a composite checksum covers, or ``None`` for a full-object checksum.

    S3 states it as the ``-N`` suffix. Some servers (moto's HEAD) drop the suffix; the
    multipart ETag (``"…-N"``) then gives the count, unless the type says FULL_OBJECT.
    """
    if not stored_value:
        return None
    count = split_composite(stored_value)[1]
    if count is not None:
        return count
    if head.get("ChecksumType") == "FULL_OBJECT":
        return None
    return split_composite((head.get("ETag") or "").strip('"'))[1]


def _even_ranges(size: int, chunk: int) -> list[_Range]:
    return [_Range(i, start, min(chunk, size - start))
            for i, start in enumerate(range(0, size, chunk))]


def _part_ranges(client, policy: RetryPolicy, bucket, key, head, size, part_count,
                 version: dict) -> list[_Range]:
    """The object's part boundaries, needed to recompute a composite checksum; read for the
    version being downloaded (``version``), not whatever is at the key now."""
    recorded = (head.get("Metadata") or {}).get(PART_SIZE_METADATA_KEY)
    if recorded and recorded.isdigit():
        part_size = int(recorded)
        if part_size > 0 and math.ceil(size / part_size) == part_count:
            return _even_ranges(size, part_size)
    sizes: list[int] = []
    marker = 0
    try:
        while True:
            page = policy.call(lambda: client.get_object_attributes(
                Bucket=bucket, Key=key, ObjectAttributes=["ObjectParts"], MaxParts=ATTRIBUTE_PAGE,
                PartNumberMarker=marker, **version))
            parts = page.get("ObjectParts") or {}
            sizes += [part["Size"] for part in sorted(parts.get("Parts", []),
                                                      key=lambda p: p["PartNumber"])]
            if not parts.get("IsTruncated"):
                break
            marker = parts["NextPartNumberMarker"]
    except Exception as error:  # noqa: BLE001
        raise TransferError(f"cannot read the part layout of s3://{bucket}/{key} to verify its "
                            f"composite checksum: {_describe(error)}") from error
    if len(sizes) != part_count or sum(sizes) != size:
        raise ChecksumMismatchError(
            f"s3://{bucket}/{key}: the composite checksum names {part_count} parts but the part "
            "layout is unknown, so it cannot be verified (use --no-verify to download anyway)")
    ranges, start = [], 0
    for index, length in enumerate(sizes):
        ranges.append(_Range(index, start, length))
        start += length
    return ranges


def _fetch_ranges(client, policy: RetryPolicy, bucket, key, pinned, ranges, descriptor,
                  algorithm: Optional[ChecksumAlgorithm], concurrency, grace_seconds,
                  reporter) -> dict[int, bytes]:
    cancelled = threading.Event()
    digests: dict[int, bytes] = {}

    def fetch(piece: _Range) -> None:
        def attempt() -> bytes:
            hasher = algorithm.new_hasher() if algorithm else None
            response = client.get_object(Bucket=bucket, Key=key, Range=piece.header, **pinned)
            body = response["Body"]
            _check_range(response, piece, body, bucket, key)
            position, end = piece.start, piece.start + piece.length
            try:
                while position < end:
                    if cancelled.is_set():
                        raise TransferCancelled()
                    chunk = body.read(min(STREAM_CHUNK_SIZE, end - position))
                    if not chunk:
                        raise ConnectionError(f"range {piece.header} ended at byte {position}")
                    view = memoryview(chunk)
                    while view:
                        written = os.pwrite(descriptor, view, position)
                        position += written
                        view = view[written:]
                    if hasher is not None:
                        hasher.update(chunk)
            finally:
                body.close()
            return hasher.digest() if hasher is not None else b""

        digests[piece.index] = policy.call(attempt, cancelled=cancelled)
        reporter.advance(piece.length)

    run_parallel(ranges, fetch, workers=concurrency, cancelled=cancelled,
                 grace_seconds=grace_seconds, name="securestore-range")
    return digests


class RangeIgnoredError(TransferError):
    """The server answered a ranged GET with something other than that range."""


def _check_range(response: dict, piece: _Range, body, bucket: str, key: str) -> None:
    """Refuse an answer that is not the range asked for: a server (or proxy, or cache) that
    ignores ``Range`` answers 200 with the whole object, whose first bytes would otherwise be
    written at this range's offset, a corrupt file that only a stored checksum could catch."""
    status = response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    content_range = response.get("ContentRange")
    expected = f"bytes {piece.start}-{piece.start + piece.length - 1}/"
    if status not in (None, 206) or (content_range is not None and not content_range.startswith(expected)):
        body.close()
        raise RangeIgnoredError(
            f"s3://{bucket}/{key}: the server answered GET Range: {piece.header} with HTTP {status} "
            f"and Content-Range {content_range!r}, not that range: it does not honour ranges, so "
            "the object cannot be fetched in parts; nothing was written")


def _file_digest(descriptor: int, size: int, algorithm: ChecksumAlgorithm) -> bytes:
    hasher = algorithm.new_hasher()
    buffer = bytearray(min(VERIFY_CHUNK_SIZE, max(size, 1)))
    view = memoryview(buffer)
    position = 0
    while position < size:
        count = os.preadv(descriptor, [view[: min(len(buffer), size - position)]], position)
        if count == 0:
            raise TransferError(f"temporary file ended at byte {position}, expected {size}")
        hasher.update(view[:count])
        position += count
    return hasher.digest()
