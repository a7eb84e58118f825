"""Downloads: S3's default CRC64NVME is verified, unsafe names are refused first, stale temporaries reclaimed.

* Class: objects carrying only S3's default full-object CRC64NVME (every object uploaded since
  late 2024 without an explicit algorithm, including pre-signed POST/PUT uploads). They must be
  verified, which a byte flipped in transit proves, not refused.
* Class: keys whose last segment cannot safely be a file name (``..``, empty, bidi overrides,
  zero-width or non-characters, NFKC look-alikes of ``/`` and ``..``): refused before any request.
* Class: a killed download's full-size temporary file: the next download to the same place
  removes it (its pid is gone) and leaves a live download's file alone.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from securestore.cli import main
from securestore.transfer import download_file
from securestore.transfer.errors import ChecksumMismatchError

try:
    from support.transfer_fixtures import (  # noqa: F401 - fixtures
        REGION, aws_env, bucket, moto_endpoint, proxied_client, proxy, s3_direct, session,
    )
except ImportError:  # pragma: no cover - when tests/ is a package
    from tests.support.transfer_fixtures import (  # noqa: F401
        REGION, aws_env, bucket, moto_endpoint, proxied_client, proxy, s3_direct, session,
    )


def _put_crc64nvme(s3, bucket, key, body):
    stored = s3.put_object(Bucket=bucket, Key=key, Body=body, ChecksumAlgorithm="CRC64NVME")
    assert stored["ChecksumCRC64NVME"]
    return stored["ChecksumCRC64NVME"]


def test_default_crc64nvme_object_is_verified_and_a_flipped_byte_is_caught(
        tmp_path, proxy, proxied_client, s3_direct, bucket):
    """(Before: refused with "has no stored checksum".)"""
    body = os.urandom(3 * 1024 * 1024 + 7)
    checksum = _put_crc64nvme(s3_direct, bucket, "default.bin", body)
    result = download_file(proxied_client, bucket, "default.bin", tmp_path / "ok.bin")
    assert (tmp_path / "ok.bin").read_bytes() == body
    assert (result.checksum_algorithm, result.checksum, result.verified) == ("crc64nvme", checksum, True)

    proxy.reset(lambda r: "corrupt_response_body" if r.operation == "GetObject" else "forward")
    with pytest.raises(ChecksumMismatchError, match="crc64nvme"):
        download_file(proxied_client, bucket, "default.bin", tmp_path / "bad.bin")
    assert not (tmp_path / "bad.bin").exists()


def test_no_verify_and_a_missing_checksum_never_print_verified(tmp_path, proxy, s3_direct, session,
                                                               bucket, aws_env, capsys):
    from botocore.config import Config

    plain = session.client("s3", endpoint_url=s3_direct.meta.endpoint_url, region_name=REGION,
                           config=Config(request_checksum_calculation="when_required"))
    plain.put_object(Bucket=bucket, Key="plain.bin", Body=b"no checksum")
    _put_crc64nvme(s3_direct, bucket, "sum.bin", b"with checksum")
    common = ["--bucket", bucket, "--endpoint-url", proxy.endpoint_url, "--region", REGION]
    assert main(["download", "plain.bin", str(tmp_path / "a"), *common]) == 0
    assert "verified" not in capsys.readouterr().err
    assert main(["download", "sum.bin", str(tmp_path / "b"), *common, "--no-verify"]) == 0
    assert "verified" not in capsys.readouterr().err
    assert main(["download", "plain.bin", str(tmp_path / "c"), *common, "--require-checksum"]) == 1
    assert "no stored checksum" in capsys.readouterr().err and not (tmp_path / "c").exists()


@pytest.mark.parametrize("key", [
    "acme/docs/..", "acme/docs/", "acme/docs/.", "acme/docs/invoice\u202efdp.exe",
    "acme/docs/a\u200bb.pdf", "acme/docs/x\ufdd0.pdf", "acme/docs/a\uff0fb.pdf", "acme/docs/\u2025",
])
def test_a_key_that_cannot_be_a_file_name_is_refused_before_any_request(
        tmp_path, proxy, proxied_client, key):
    proxy.reset()
    with pytest.raises(ValueError, match="cannot be saved|ends with '/'"):
        download_file(proxied_client, "any-bucket", key, tmp_path)
    assert proxy.seen == [], "not one request was made"
    assert os.listdir(tmp_path) == []


def test_a_killed_downloads_temporary_is_reclaimed_and_a_live_ones_kept(
        tmp_path, proxied_client, s3_direct, bucket):
    """(Before: the full-size temporary of a killed download stayed forever.)"""
    _put_crc64nvme(s3_direct, bucket, "big.bin", b"x" * 1000)
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True).stdout.strip()
    stale = tmp_path / f".dest.bin.{dead}.abc123.download"
    stale.write_bytes(b"\0" * 4096)
    live = tmp_path / f".dest.bin.{os.getppid()}.def456.download"
    live.write_bytes(b"\0" * 10)
    download_file(proxied_client, bucket, "big.bin", tmp_path / "dest.bin")
    assert not stale.exists()
    assert live.exists()
    assert (tmp_path / "dest.bin").read_bytes() == b"x" * 1000


@pytest.mark.parametrize("name", [
    "invoice\u202efdp.exe", "a\u2066b.pdf", "zero\u200bwidth.pdf", "bom\ufeff.pdf", "x\ufdd0.pdf",
    "y\U0001fffe.pdf", "a\uff0fb.pdf", "a\uff3cb.pdf", "\u2025", "\uff0e\uff0e",
])
def test_the_tenant_key_builder_refuses_names_that_disguise_or_fold_into_paths(name):
    """Class: names that display as something else (bidi, zero-width) or that NFKC folds into a
    separator or dot segment; the key builder is the only way keys are made."""
    from securestore.keys import build_key

    with pytest.raises(ValueError, match="filename"):
        build_key("acme", "docs", name)


def test_a_range_corrupted_in_transit_is_fetched_again_and_the_download_is_identical(
        tmp_path, proxy, proxied_client, s3_direct, bucket):
    """Class: bytes corrupted in transit in one range (a middlebox, a flaky NIC), not a bad
    object. (Before: the whole download failed with a checksum mismatch.)"""
    from securestore.transfer import MiB, TransferConfig, upload_file

    path = tmp_path / "src.bin"
    path.write_bytes(os.urandom(11 * MiB))
    config = TransferConfig(part_size=5 * MiB, concurrency=2, multipart_threshold=5 * MiB)
    upload_file(proxied_client, path, bucket, "flip.bin", config=config, state_path=tmp_path / "j")
    corrupted = []

    def corrupt_the_second_range_once(request):
        if request.operation == "GetObject" and request.range and \
                not request.range.startswith("bytes=0-") and not corrupted:
            corrupted.append(request.range)
            return "corrupt_response_body"
        return "forward"

    proxy.reset(corrupt_the_second_range_once)
    result = download_file(proxied_client, bucket, "flip.bin", tmp_path / "back.bin", config=config)
    assert corrupted and result.verified
    assert [r.attempt for r in proxy.requests("GetObject") if r.range == corrupted[0]] == [1, 2]
    assert (tmp_path / "back.bin").read_bytes() == path.read_bytes()
