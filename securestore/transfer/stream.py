"""``-`` on the command line: download to stdout, memory bounded as for files.

Upload from stdin is the upload engine's (``stream_upload.upload_stream``, re-exported here for
callers of the old name): same retries, checksums and cleanup as a file.

Download: the object is streamed to stdout in 1 MiB chunks and hashed on the way. A stored
full-object checksum, or a composite one with our part-size metadata, is recomputed; a mismatch
is reported (exit 1) after the bytes were written, since a pipe cannot be un-written: the
reader must treat a non-zero exit as "discard". An object with no verifiable checksum is
streamed and reported as NOT checked (as a file download is), or refused before a byte is
written with ``--require-checksum``.
"""

from __future__ import annotations

import time
from typing import Any, BinaryIO, Optional

from .checksums import split_composite, stored_checksum
from .config import MiB
from .errors import ChecksumMismatchError, TransferError
from .stream_upload import upload_stream  # noqa: F401 - the old name of the stdin upload
from .upload import PART_SIZE_METADATA_KEY

STREAM_CHUNK = 1 * MiB


def download_stream(client: Any, bucket: str, key: str, out: BinaryIO, *, version_id: Optional[str] = None,
                    verify: bool = True, require_checksum: bool = False, progress=None) -> dict[str, Any]:
    version = {"VersionId": version_id} if version_id else {}
    started = time.monotonic()
    head = client.head_object(Bucket=bucket, Key=key, ChecksumMode="ENABLED", **version)
    found = stored_checksum(head)
    algorithm, stored = found if found else (None, None)
    part_size = None
    from .download import _composite_part_count

    if stored is not None and _composite_part_count(head, stored):
        text = (head.get("Metadata") or {}).get(PART_SIZE_METADATA_KEY, "")
        part_size = int(text) if text.isdigit() and int(text) > 0 else None
        if part_size is None:
            algorithm = None  # a composite checksum whose part layout we do not know
    if require_checksum and algorithm is None:
        raise ChecksumMismatchError(f"s3://{bucket}/{key} has no checksum this command can verify while "
                                    "streaming, and --require-checksum was given")
    pinned = {"IfMatch": head["ETag"]} if head.get("ETag") else {}
    body = client.get_object(Bucket=bucket, Key=key, **version, **pinned)["Body"]
    size = head["ContentLength"]
    hasher = algorithm.new_hasher() if algorithm else None
    digests: list[bytes] = []
    in_part = 0
    done = 0
    for chunk in iter(lambda: body.read(STREAM_CHUNK), b""):
        out.write(chunk)
        done += len(chunk)
        if hasher is not None:
            view = memoryview(chunk)
            while len(view):
                take = len(view) if part_size is None else min(len(view), part_size - in_part)
                hasher.update(view[:take])
                view = view[take:]
                in_part += take
                if part_size is not None and in_part == part_size:
                    digests.append(hasher.digest())
                    hasher, in_part = algorithm.new_hasher(), 0
        if progress:
            progress(done, size)
    out.flush()
    if done != size:
        raise TransferError(f"s3://{bucket}/{key}: got {done} of {size} bytes")
    checksum = None
    if verify and algorithm is not None:
        if part_size is not None:
            if in_part:
                digests.append(hasher.digest())
            checksum = algorithm.composite(digests)
        else:
            checksum = algorithm.encode(hasher.digest())
        if split_composite(checksum)[0] != split_composite(stored)[0]:
            raise ChecksumMismatchError(f"s3://{bucket}/{key}: streamed bytes have {algorithm.name} {checksum}, "
                                        f"S3 stored {stored}: discard what was written")
    return {"bucket": bucket, "key": key, "path": "-", "bytes": done, "verified": checksum is not None,
            "checksum_algorithm": algorithm.name if algorithm else None, "checksum": stored,
            "version_id": head.get("VersionId"), "seconds": round(time.monotonic() - started, 3)}
