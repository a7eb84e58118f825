"""Checksums are computed the way S3 computes them (CRC32C, SHA-256, composite of parts)."""

from __future__ import annotations

import base64
import hashlib
import zlib

from securestore.transfer.checksums import get_algorithm, split_composite, stored_checksum


def test_crc32c_matches_the_standard_check_value():
    """CRC-32C (Castagnoli) of "123456789" is 0xE3069283; zlib's CRC-32 would give 0xCBF43926."""
    crc32c = get_algorithm("crc32c")
    assert crc32c.digest(b"123456789") == bytes.fromhex("e3069283")
    assert zlib.crc32(b"123456789") == 0xCBF43926  # the other polynomial, not ours


def test_running_hasher_equals_one_shot_digest():
    crc32c = get_algorithm("crc32c")
    hasher = crc32c.new_hasher()
    for piece in (b"hello ", bytearray(b"wor"), memoryview(b"ld")):
        hasher.update(piece)
    assert hasher.digest() == crc32c.digest(b"hello world")


def test_composite_is_the_checksum_of_concatenated_part_digests_with_part_count():
    sha256 = get_algorithm("sha256")
    parts = [b"a" * 10, b"b" * 7, b"c"]
    digests = [hashlib.sha256(p).digest() for p in parts]
    expected = base64.b64encode(hashlib.sha256(b"".join(digests)).digest()).decode() + "-3"
    assert sha256.composite(digests) == expected
    assert sha256.composite(digests) != sha256.encode(sha256.digest(b"".join(parts))) + "-3"


def test_split_composite_separates_the_part_count():
    assert split_composite("Wcso6Q==-3") == ("Wcso6Q==", 3)
    assert split_composite("Wcso6Q==") == ("Wcso6Q==", None)


def test_stored_checksum_finds_the_algorithm_in_a_response():
    algorithm, value = stored_checksum({"ETag": "x", "ChecksumSHA256": "abc="})
    assert (algorithm.name, value) == ("sha256", "abc=")
    assert stored_checksum({"ETag": "x"}) is None
