"""A stream (stdin, a pipe) uploaded by the one upload engine: same retries, checksums, outcome
model, interrupt handling and versioned cleanup as a file, with two differences a pipe forces.

* Parts are read in order, as workers free up: a worker takes the next part number and reads
  its bytes under one lock (a pipe cannot be read at two offsets at once), then checksums and
  sends it from its own buffer outside the lock, so a retry resends that buffer and memory
  stays ``concurrency × part size``. The length is unknown, so the part size cannot grow to
  stay within 10,000 parts by itself: ``expected_size`` tells it (``aws s3 cp -`` has the same
  flag).
* Nothing can be resumed (the bytes read are gone), so there is no journal and a transient
  failure that outlasts the retry budget aborts the upload (exit 75: run the pipeline again).

Input shorter than one part goes up in one PUT (``upload.put_body``).
"""

from __future__ import annotations

import os
import threading
import time
from typing import Any, BinaryIO, Callable, Mapping, Optional

from .checksums import get_algorithm
from .config import MAX_PARTS, PartPlan, TransferConfig, plan_parts
from .errors import TransferError
from .progress import ThrottledProgress
from .retry import Link, TransferCancelled
from .upload import PART_SIZE_METADATA_KEY, UploadResult, _BufferPool, _MultipartUpload, put_body


class _NoJournal:
    """A stream's upload keeps no journal: it cannot be resumed."""

    path = "(none: a stream cannot be resumed)"

    def lock(self, what: str = "") -> None:
        pass

    def unlock(self) -> None:
        pass

    def load(self, notify: Optional[Callable[[str], None]] = None) -> None:
        return None

    def start(self, identity: Any, upload_id: str) -> None:
        pass

    def record(self, part_number: int, etag: str, checksum: str) -> None:
        pass

    def discard(self) -> None:
        pass

    def close(self) -> None:
        pass


class _StreamEnded(TransferCancelled):
    """The stream has no more bytes: the worker that found out stops (not an error)."""


def _read_into(reader: BinaryIO, view: memoryview) -> int:
    filled = 0
    while filled < len(view):
        count = reader.readinto(view[filled:])
        if not count:
            break
        filled += count
    return filled


class _StreamUpload(_MultipartUpload):
    resumable = False

    def __init__(self, client, reader: BinaryIO, first: bytearray, part_size: int, bucket: str, key: str,
                 config: TransferConfig, extra_args, metadata, reporter, link: Link) -> None:
        nothing = os.stat_result((0,) * 10)
        super().__init__(client, -1, nothing, "-", bucket, key, config, get_algorithm(config.checksum_algorithm),
                         extra_args, metadata, reporter, _NoJournal(), resume=False, link=link)
        self.plan = PartPlan(0, part_size, 0)
        self._buffers = _BufferPool(part_size)
        self._reader = reader
        self._first: Optional[bytearray] = first
        self._read_lock = threading.Lock()
        self._next = 1
        self._total = 0
        self._ended = False

    def run(self) -> dict[str, Any]:
        try:
            return self._run_locked()
        finally:
            if self._direct is not None:
                self._direct.close()

    def _source_unchanged(self) -> None:
        pass  # a stream is read once

    def _send_missing_parts(self) -> None:
        super()._send_missing_parts_of(range(1, MAX_PARTS + 1), self._send_next)
        if not self._ended and self._reader.read(1):
            raise TransferError(f"the stream is longer than {MAX_PARTS} parts of {self.plan.part_size} "
                                "bytes; pass --expected-size (or a larger --part-size)")
        self.plan = PartPlan(self._total, self.plan.part_size, len(self.etags))

    def _send_next(self, _item: int) -> None:
        if self.cancelled.is_set():
            raise TransferCancelled()
        with self._read_lock:
            if self._ended:
                raise _StreamEnded()
            number = self._next
            if self._first is not None:
                buffer, self._first = self._first, None
                view = memoryview(buffer)
                length = len(buffer)
            else:
                buffer, view = self._buffers.take(self.plan.part_size)
                try:
                    length = _read_into(self._reader, view)
                except BaseException:
                    self._buffers.give_back(buffer)
                    raise
            if length < self.plan.part_size:
                self._ended = True
            if length == 0:
                self._buffers.give_back(buffer)
                raise _StreamEnded()
            self._next += 1
            self._total += length
        self._send_buffer(number, buffer, view[:length])


def upload_stream(client: Any, reader: BinaryIO, bucket: str, key: str, *, config: TransferConfig,
                  expected_size: Optional[int] = None, extra_args: Optional[Mapping[str, Any]] = None,
                  metadata: Optional[Mapping[str, str]] = None, progress=None,
                  notify: Optional[Callable[[str], None]] = None) -> UploadResult:
    """Upload everything ``reader`` yields to ``s3://bucket/key`` (see the module doc)."""
    algorithm = get_algorithm(config.checksum_algorithm)
    part_size = plan_parts(expected_size, config.part_size).part_size if expected_size else config.part_size
    link = Link.for_client(client, notify)
    started = time.monotonic()
    first = bytearray(part_size)
    length = _read_into(reader, memoryview(first))
    reporter = ThrottledProgress(expected_size or 0, progress, interval_seconds=config.progress_interval_seconds)
    extra = dict(extra_args or {})
    if length < part_size:
        result = put_body(client, memoryview(first)[:length], bucket, key, config, algorithm,
                          {**extra, "Metadata": dict(metadata or {})}, reporter, link)
    else:
        job = _StreamUpload(client, reader, first, part_size, bucket, key, config, extra,
                            dict(metadata or {}), reporter, link)
        result = job.run()
    reporter.finish()
    return UploadResult(seconds=time.monotonic() - started, **result)


__all__ = ["upload_stream", "PART_SIZE_METADATA_KEY"]
