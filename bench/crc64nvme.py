"""CRC64NVME throughput: awscrt's native implementation vs a pure-Python table-driven one.

Why it matters: S3 stores a full-object CRC64NVME with every object uploaded without an explicit
algorithm, and ``securestore download`` verifies it over the whole file. The pure-Python CRC is
the reference for correctness (both must give the standard check value for "123456789") and the
baseline for speed. The last line is the figure:
``crc64nvme: awscrt X MB/s, pure Python Y MB/s, Z×``.
"""

from __future__ import annotations

import os
import time

POLY_REFLECTED = 0x9A6C9329AC4BC9B5
MASK = (1 << 64) - 1
CHECK_VALUE = 0xAE8B14860A799888  # CRC-64/NVME of b"123456789"
MB = 1_000_000


def _table() -> list[int]:
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ POLY_REFLECTED if crc & 1 else crc >> 1
        table.append(crc)
    return table


TABLE = _table()


def pure_python_crc64nvme(data: bytes, previous: int = 0) -> int:
    crc = previous ^ MASK
    table = TABLE
    for byte in data:
        crc = table[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc ^ MASK


def _rate(function, data: bytes, minimum_seconds: float) -> float:
    runs, started = 0, time.perf_counter()
    while True:
        function(data)
        runs += 1
        elapsed = time.perf_counter() - started
        if elapsed >= minimum_seconds:
            return runs * len(data) / elapsed / MB


def main() -> None:
    import argparse

    from awscrt.checksums import crc64nvme

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="check values, time briefly (CI)")
    quick = parser.parse_args().quick
    assert pure_python_crc64nvme(b"123456789") == CHECK_VALUE
    assert crc64nvme(b"123456789") == CHECK_VALUE
    sample = os.urandom(1 << 16 if quick else 1 << 20)
    assert crc64nvme(sample) == pure_python_crc64nvme(sample), "the two implementations disagree"
    # chained: S3's full-object CRC64NVME is computed part by part
    half = len(sample) // 2
    assert crc64nvme(sample[half:], crc64nvme(sample[:half])) == crc64nvme(sample)
    seconds = 0.05 if quick else 0.5
    native = _rate(crc64nvme, os.urandom(4 << 20 if quick else 64 << 20), seconds)
    python = _rate(pure_python_crc64nvme, sample, seconds)
    print(f"crc64nvme: awscrt {native:.0f} MB/s, pure Python {python:.1f} MB/s, {native / python:.0f}×")


if __name__ == "__main__":
    main()
