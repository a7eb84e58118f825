"""``-`` on the command line: upload from stdin, download to stdout, memory bounded as for files.

Upload: stdin is read one part at a time into one buffer. Input shorter than a part goes up in
one PUT; anything longer becomes a multipart upload whose parts are sent in order as they are
read (a pipe cannot be read at two offsets at once), each with its checksum; the abort is armed
as soon as the upload id exists. A pipe's length is unknown, so the part size cannot grow to
keep within 10,000 parts by itself: ``--expected-size`` tells it (as ``aws s3 cp -`` does).

Download: the object is streamed to stdout in 1 MiB chunks and hashed on the way. A stored
full-object checksum, or a composite one with our part-size metadata, is recomputed; a mismatch
is reported (exit 1) after the bytes were written, since a pipe cannot be un-written: the
reader must treat a non-zero exit as "discard". An object with no verifiable checksum is
streamed and reported as NOT checked (as a file download is), or refused before a byte is
written with ``--require-checksum``.
"""

from __future__ import annotations

import time
from typing import Any, BinaryIO, Mapping, Optional

from .checksums import get_algorithm, split_composite, stored_checksum
from .config import MAX_PARTS, MiB, TransferConfig, plan_parts
from .errors import ChecksumMismatchError, TransferError, describe_error
from .upload import PART_SIZE_METADATA_KEY

STREAM_CHUNK = 1 * MiB


def _read_part(reader: BinaryIO, buffer: bytearray) -> int:
    view = memoryview(buffer)
    filled = 0
    while filled < len(buffer):
        count = reader.readinto(view[filled:])
        if not count:
            break
        filled += count
    return filled


def upload_stream(client: Any, reader: BinaryIO, bucket: str, key: str, *, config: TransferConfig,
                  expected_size: Optional[int] = None, extra_args: Optional[Mapping[str, Any]] = None,
                  metadata: Optional[Mapping[str, str]] = None, progress=None) -> dict[str, Any]:
    algorithm = get_algorithm(config.checksum_algorithm)
    part_size = plan_parts(expected_size, config.part_size).part_size if expected_size else config.part_size
    extra = dict(extra_args or {})
    started = time.monotonic()
    buffer = bytearray(part_size)
    length = _read_part(reader, buffer)
    done = 0
    if length < part_size:
        body = bytes(buffer[:length])
        checksum = algorithm.encode(algorithm.digest(body))
        try:
            response = client.put_object(Bucket=bucket, Key=key, Body=body, ChecksumAlgorithm=algorithm.s3_name,
                                         Metadata=dict(metadata or {}), **{algorithm.parameter: checksum}, **extra)
        except Exception as error:
            raise TransferError(f"PUT s3://{bucket}/{key} failed: {describe_error(error)}") from error
        if progress:
            progress(length, length)
        return {"bucket": bucket, "key": key, "bytes": length, "parts": 1, "checksum_algorithm": algorithm.name,
                "checksum": checksum, "version_id": response.get("VersionId"),
                "seconds": round(time.monotonic() - started, 3)}
    upload_id = client.create_multipart_upload(
        Bucket=bucket, Key=key, ChecksumAlgorithm=algorithm.s3_name, ChecksumType="COMPOSITE",
        Metadata={**dict(metadata or {}), PART_SIZE_METADATA_KEY: str(part_size)}, **extra)["UploadId"]
    parts: list[dict] = []
    digests: list[bytes] = []
    try:
        while length:
            number = len(parts) + 1
            if number > MAX_PARTS:
                raise TransferError(f"stdin is longer than {MAX_PARTS} parts of {part_size} bytes; "
                                    "pass --expected-size (or a larger --part-size)")
            body = memoryview(buffer)[:length]
            digest = algorithm.digest(body)
            checksum = algorithm.encode(digest)
            response = client.upload_part(Bucket=bucket, Key=key, UploadId=upload_id, PartNumber=number,
                                          Body=bytes(body), ChecksumAlgorithm=algorithm.s3_name,
                                          **{algorithm.parameter: checksum})
            parts.append({"PartNumber": number, "ETag": response["ETag"], algorithm.parameter: checksum})
            digests.append(digest)
            done += length
            if progress:
                progress(done, max(done, expected_size or 0))
            length = _read_part(reader, buffer)
        response = client.complete_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id,
                                                    MultipartUpload={"Parts": parts})
    except BaseException as error:
        try:
            client.abort_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id)
            note = "the multipart upload was aborted"
        except Exception as abort_error:  # noqa: BLE001
            note = f"aborting upload {upload_id} failed too ({describe_error(abort_error)})"
        if isinstance(error, (KeyboardInterrupt, SystemExit)):
            raise
        if isinstance(error, TransferError):
            raise TransferError(f"{error}; {note}") from error
        raise TransferError(f"upload of stdin to s3://{bucket}/{key} failed: {describe_error(error)}; {note}") from error
    expected = algorithm.composite(digests)
    stored = response.get(algorithm.parameter)
    if stored is not None and split_composite(stored)[0] != split_composite(expected)[0]:
        client.delete_object(Bucket=bucket, Key=key)
        raise ChecksumMismatchError(f"S3 stored {algorithm.name} {stored} for s3://{bucket}/{key}, expected "
                                    f"{expected}; the object was deleted")
    return {"bucket": bucket, "key": key, "bytes": done, "parts": len(parts), "checksum_algorithm": algorithm.name,
            "checksum": expected, "version_id": response.get("VersionId"),
            "seconds": round(time.monotonic() - started, 3)}


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
