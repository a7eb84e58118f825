"""Validated transfer settings and the size arithmetic S3's multipart rules impose.

S3 accepts at most 10,000 parts, each at least 5 MiB (except the last) and at most 5 GiB; a
single PUT carries at most 5 GiB. ``TransferConfig`` refuses values outside those rules with a
message naming the field, and ``plan_parts`` grows the part size so that any file fits in
10,000 parts. The memory an upload holds is ``concurrency × part size`` (one reusable buffer per
worker), so both numbers are the caller's memory budget.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Optional, Union

KiB = 1024
MiB = 1024 * KiB
GiB = 1024 * MiB
TiB = 1024 * GiB

MIN_PART_SIZE = 5 * MiB
MAX_PART_SIZE = 5 * GiB
MAX_PARTS = 10_000
MAX_SINGLE_PUT_SIZE = 5 * GiB

DEFAULT_PART_SIZE = 8 * MiB
DEFAULT_CONCURRENCY = 4
MAX_CONCURRENCY = 64
PART_SIZE_GRANULARITY = 1 * MiB

CHECKSUM_ALGORITHMS = ("crc32c", "sha256")
DEFAULT_CHECKSUM_ALGORITHM = "crc32c"

DEFAULT_MAX_ATTEMPTS: Optional[int] = None
"""No count limit by default: ``retry_for_seconds`` bounds retries (outages last seconds, not tries)."""
DEFAULT_RETRY_FOR_SECONDS = 180.0
"""How long one request may keep failing transiently before the transfer stops (and keeps the upload).
Three minutes rides out the 2-minute outage the README promises with a margin for the last,
capped wait and for a request that itself hangs until its timeout."""
DEFAULT_FIRST_ANSWER_SECONDS = 10.0
"""How long an endpoint that has never answered is retried before the transfer fails (a typo in
the endpoint or region fails in seconds, as ``aws s3 cp`` does; an outage after the first answer
keeps ``retry_for_seconds``). With the client's 10 s connect timeout, a blackholed endpoint
fails after one or two tries."""
DEFAULT_BACKOFF_BASE_SECONDS = 0.25
DEFAULT_BACKOFF_MAX_SECONDS = 8.0
DEFAULT_PROGRESS_INTERVAL_SECONDS = 0.1
DEFAULT_GRACE_SECONDS = 5.0
DEFAULT_INTERRUPT_SECONDS = 6.0
"""After Ctrl-C or SIGTERM: at most this long for parts in flight to end and the abort to be
confirmed (systemd and Kubernetes send SIGKILL after 30 s or less; we promise exit within 10 s)."""

_DURATION_UNITS = {"": 1, "s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600}
_DURATION_PATTERN = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$")

_SIZE_UNITS = {
    "": 1, "b": 1,
    "k": KiB, "kb": KiB, "kib": KiB,
    "m": MiB, "mb": MiB, "mib": MiB,
    "g": GiB, "gb": GiB, "gib": GiB,
    "t": TiB, "tb": TiB, "tib": TiB,
}
_SIZE_PATTERN = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$")


def parse_size(text: Union[str, int]) -> int:
    """``"8MiB"``, ``"8M"``, ``"16 MiB"``, ``"1GiB"`` or ``"5242880"`` to bytes (binary units).

    Decimal-looking suffixes (``MB``) are read as binary too, as ``aws s3`` does; a value that is
    not a whole number of bytes or has an unknown unit raises ``ValueError`` naming the value.
    """
    if isinstance(text, int):
        return text
    match = _SIZE_PATTERN.match(text)
    if not match or match.group(2).lower() not in _SIZE_UNITS:
        raise ValueError(f"invalid size {text!r}: use a number with an optional unit, e.g. 8MiB, 64KiB, 1GiB")
    value = float(match.group(1)) * _SIZE_UNITS[match.group(2).lower()]
    if value != int(value):
        raise ValueError(f"invalid size {text!r}: not a whole number of bytes")
    return int(value)


def parse_duration(text: Union[str, int, float]) -> float:
    """``"90"``, ``"90s"``, ``"2m"``, ``"1.5h"`` to seconds; ``ValueError`` naming the value otherwise."""
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        return float(text)
    match = _DURATION_PATTERN.match(str(text))
    if not match or match.group(2).lower() not in _DURATION_UNITS:
        raise ValueError(f"invalid duration {text!r}: use seconds with an optional unit, e.g. 90s, 5m, 1h")
    return float(match.group(1)) * _DURATION_UNITS[match.group(2).lower()]


def format_size(size: int) -> str:
    """Bytes as the largest binary unit that divides them exactly (``8388608`` → ``8MiB``)."""
    for unit, factor in (("GiB", GiB), ("MiB", MiB), ("KiB", KiB)):
        if size >= factor and size % factor == 0:
            return f"{size // factor}{unit}"
    return f"{size}B"


@dataclass(frozen=True)
class TransferConfig:
    """How a transfer is cut up and retried; every field is checked when the object is made.

    ``part_size`` is a floor: ``plan_parts`` raises it (in whole MiB) when a file would otherwise
    need more than 10,000 parts. Files smaller than ``multipart_threshold`` go up in one PUT.
    """

    part_size: int = DEFAULT_PART_SIZE
    concurrency: int = DEFAULT_CONCURRENCY
    multipart_threshold: Optional[int] = None
    """Files smaller than this go up in one PUT; ``None`` means the part size."""
    checksum_algorithm: str = DEFAULT_CHECKSUM_ALGORITHM
    max_attempts: Optional[int] = DEFAULT_MAX_ATTEMPTS
    """Tries per request at most; ``None``: only ``retry_for_seconds`` bounds retries."""
    retry_for_seconds: float = DEFAULT_RETRY_FOR_SECONDS
    """How long a request may keep failing on a transient cause before the transfer gives up."""
    first_answer_seconds: float = DEFAULT_FIRST_ANSWER_SECONDS
    """How long to keep trying an endpoint that has not answered once (then: a permanent error)."""
    backoff_base_seconds: float = DEFAULT_BACKOFF_BASE_SECONDS
    backoff_max_seconds: float = DEFAULT_BACKOFF_MAX_SECONDS
    progress_interval_seconds: float = DEFAULT_PROGRESS_INTERVAL_SECONDS
    grace_seconds: float = DEFAULT_GRACE_SECONDS
    """After a failure, how long parts already in flight may take to end before the abort."""
    interrupt_seconds: float = DEFAULT_INTERRUPT_SECONDS
    """After Ctrl-C/SIGTERM, how long to wait for parts in flight and the abort, in all."""
    direct_parts: bool = True
    """Send parts pre-signed over the transfer's own connections (``transfer/direct.py``) when
    the client allows it; ``False``: every part through botocore's ``upload_part``."""

    def __post_init__(self) -> None:
        if self.multipart_threshold is None and isinstance(self.part_size, int):
            object.__setattr__(self, "multipart_threshold", self.part_size)
        if isinstance(self.part_size, bool) or not isinstance(self.part_size, int):
            raise ValueError(f"part_size must be an integer number of bytes, got {self.part_size!r}")
        if not MIN_PART_SIZE <= self.part_size <= MAX_PART_SIZE:
            raise ValueError(
                f"part_size {format_size(self.part_size)} is outside S3's limits: "
                f"parts must be between {format_size(MIN_PART_SIZE)} and {format_size(MAX_PART_SIZE)}"
            )
        if isinstance(self.concurrency, bool) or not isinstance(self.concurrency, int) \
                or not 1 <= self.concurrency <= MAX_CONCURRENCY:
            raise ValueError(f"concurrency must be an integer from 1 to {MAX_CONCURRENCY}, got {self.concurrency!r}")
        if isinstance(self.multipart_threshold, bool) or not isinstance(self.multipart_threshold, int) \
                or self.multipart_threshold < 1:
            raise ValueError(f"multipart_threshold must be a positive number of bytes, got {self.multipart_threshold!r}")
        if self.multipart_threshold > min(MAX_SINGLE_PUT_SIZE, self.memory_budget):
            raise ValueError(
                f"multipart_threshold {format_size(self.multipart_threshold)} is above "
                f"concurrency × part_size ({format_size(self.memory_budget)}) or S3's 5GiB single-PUT "
                "limit; a single PUT holds the whole file in memory"
            )
        if self.checksum_algorithm not in CHECKSUM_ALGORITHMS:
            raise ValueError(
                f"checksum_algorithm must be one of {', '.join(CHECKSUM_ALGORITHMS)}, got {self.checksum_algorithm!r}"
            )
        if self.max_attempts is not None and (isinstance(self.max_attempts, bool)
                                              or not isinstance(self.max_attempts, int) or self.max_attempts < 1):
            raise ValueError(f"max_attempts must be an integer ≥ 1 (or None), got {self.max_attempts!r}")
        if isinstance(self.retry_for_seconds, bool) or not isinstance(self.retry_for_seconds, (int, float)) \
                or not self.retry_for_seconds >= 0:
            raise ValueError(f"retry_for_seconds must be a number of seconds ≥ 0, got {self.retry_for_seconds!r}")
        if isinstance(self.first_answer_seconds, bool) or not isinstance(self.first_answer_seconds, (int, float)) \
                or not self.first_answer_seconds >= 0:
            raise ValueError(f"first_answer_seconds must be a number of seconds ≥ 0, got {self.first_answer_seconds!r}")
        if not self.interrupt_seconds >= 0:
            raise ValueError(f"interrupt_seconds must be ≥ 0, got {self.interrupt_seconds!r}")
        if self.backoff_base_seconds < 0 or self.backoff_max_seconds < self.backoff_base_seconds:
            raise ValueError(
                "backoff_base_seconds must be ≥ 0 and backoff_max_seconds ≥ backoff_base_seconds, got "
                f"{self.backoff_base_seconds!r} and {self.backoff_max_seconds!r}"
            )
        if self.grace_seconds < 0:
            raise ValueError(f"grace_seconds must be ≥ 0, got {self.grace_seconds!r}")
        if self.progress_interval_seconds < 0:
            raise ValueError(f"progress_interval_seconds must be ≥ 0, got {self.progress_interval_seconds!r}")

    @property
    def memory_budget(self) -> int:
        """Bytes of part buffers an upload may hold at once (``concurrency × part_size``)."""
        return self.concurrency * self.part_size


@dataclass(frozen=True)
class PartPlan:
    """How one file is cut: ``count`` parts of ``part_size`` bytes, the last one shorter."""

    file_size: int
    part_size: int
    count: int

    def offset(self, part_number: int) -> int:
        return (part_number - 1) * self.part_size

    def length(self, part_number: int) -> int:
        return min(self.part_size, self.file_size - self.offset(part_number))


def plan_parts(file_size: int, part_size: int) -> PartPlan:
    """Cut ``file_size`` bytes into at most 10,000 parts of at least ``part_size`` bytes.

    When the requested size would need more parts, the size grows to the smallest whole MiB
    that fits; a file too large for 10,000 parts of 5 GiB raises ``ValueError``.
    """
    if file_size < 0:
        raise ValueError(f"file size must be ≥ 0, got {file_size}")
    if part_size < MIN_PART_SIZE:
        raise ValueError(f"part size {format_size(part_size)} is below S3's {format_size(MIN_PART_SIZE)} minimum")
    needed = math.ceil(file_size / MAX_PARTS)
    if needed > part_size:
        part_size = math.ceil(needed / PART_SIZE_GRANULARITY) * PART_SIZE_GRANULARITY
    if part_size > MAX_PART_SIZE:
        raise ValueError(
            f"file of {file_size} bytes does not fit in {MAX_PARTS} parts of at most {format_size(MAX_PART_SIZE)}"
        )
    count = max(1, math.ceil(file_size / part_size))
    return PartPlan(file_size=file_size, part_size=part_size, count=count)
