"""The checksums S3 stores with an object, computed the way S3 computes them.

One algorithm is used for every part of an upload (S3 requires it). For a multipart upload S3
stores a *composite* checksum: the algorithm applied to the concatenated raw part digests,
base64-encoded, followed by ``-<number of parts>``. A single PUT stores the plain checksum of
the whole body. CRC32C comes from the ``crc32c`` package (hardware-accelerated, ~13 GB/s here,
releases the GIL); note that ``zlib.crc32`` is CRC32, a different polynomial.

CRC64NVME is S3's default full-object checksum (every object uploaded since late 2024 without
an explicit algorithm, including pre-signed POST and PUT uploads). It comes from ``awscrt``
(AWS's native common runtime, the implementation botocore itself uses for it); a pure-Python
table-driven CRC-64 runs at a few MB/s, ``bench/crc64nvme.py`` measures both.
"""

from __future__ import annotations

import base64
import hashlib
import zlib
from dataclasses import dataclass
from typing import Callable, Iterable, Optional

import crc32c as _crc32c


class _Crc:
    """A running CRC with the hashlib ``update``/``digest`` shape (big-endian digest)."""

    def __init__(self, function: Callable[[bytes, int], int], width: int = 4) -> None:
        self._function = function
        self._value = 0
        self._width = width

    def update(self, data) -> None:
        self._value = self._function(data, self._value)

    def digest(self) -> bytes:
        return self._value.to_bytes(self._width, "big")


def _crc64nvme(data, previous: int) -> int:
    from awscrt.checksums import crc64nvme

    return crc64nvme(data, previous)


@dataclass(frozen=True)
class ChecksumAlgorithm:
    """One S3 checksum algorithm: its names in the API and a factory for running hashers."""

    name: str            # lower-case, as on the command line: "crc32c"
    s3_name: str         # ChecksumAlgorithm value: "CRC32C"
    new_hasher: Callable[[], object]

    @property
    def parameter(self) -> str:
        """The request/response member carrying the value, e.g. ``ChecksumCRC32C``."""
        return "Checksum" + self.s3_name

    def digest(self, data) -> bytes:
        """Raw digest of one buffer (bytes, bytearray or memoryview)."""
        hasher = self.new_hasher()
        hasher.update(data)
        return hasher.digest()

    def encode(self, digest: bytes) -> str:
        return base64.b64encode(digest).decode("ascii")

    def composite(self, part_digests: Iterable[bytes]) -> str:
        """S3's multipart checksum over the raw part digests, in part order: ``b64-N``."""
        digests = list(part_digests)
        return f"{self.encode(self.digest(b''.join(digests)))}-{len(digests)}"


ALGORITHMS: dict[str, ChecksumAlgorithm] = {
    "crc32c": ChecksumAlgorithm("crc32c", "CRC32C", lambda: _Crc(_crc32c.crc32c)),
    "sha256": ChecksumAlgorithm("sha256", "SHA256", hashlib.sha256),
    # Verification only (objects written by other tools): boto3's default is CRC32.
    "crc32": ChecksumAlgorithm("crc32", "CRC32", lambda: _Crc(zlib.crc32)),
    "sha1": ChecksumAlgorithm("sha1", "SHA1", hashlib.sha1),
    "crc64nvme": ChecksumAlgorithm("crc64nvme", "CRC64NVME", lambda: _Crc(_crc64nvme, 8)),
}

UPLOAD_ALGORITHMS = ("crc32c", "sha256")


def get_algorithm(name: str) -> ChecksumAlgorithm:
    try:
        return ALGORITHMS[name.lower()]
    except KeyError:
        raise ValueError(f"unsupported checksum algorithm {name!r}; known: {', '.join(ALGORITHMS)}") from None


def stored_checksum(response: dict) -> Optional[tuple[ChecksumAlgorithm, str]]:
    """The (algorithm, value) S3 returned in a response, for the algorithms we can verify."""
    for algorithm in ALGORITHMS.values():
        value = response.get(algorithm.parameter)
        if value:
            return algorithm, value
    return None


def split_composite(value: str) -> tuple[str, Optional[int]]:
    """``"abc==-12"`` → ``("abc==", 12)``; a full-object value → ``(value, None)``."""
    head, sep, tail = value.rpartition("-")
    if sep and tail.isdigit():
        return head, int(tail)
    return value, None
