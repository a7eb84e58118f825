"""Upload then download through moto: the bytes come back identical and checksums verify."""

from __future__ import annotations

import base64
import json
import os

import pytest

from securestore.cli import main
from securestore.transfer import (
    ChecksumMismatchError, MiB, TransferConfig, download_file, make_s3_client, upload_file,
)

try:
    from support.transfer_fixtures import (  # noqa: F401 - fixtures
        REGION, aws_env, bucket, moto_endpoint, open_multipart_uploads, proxied_client, proxy,
        random_file, s3_direct, session,
    )
except ImportError:  # pragma: no cover - when tests/ is a package
    from tests.support.transfer_fixtures import (  # noqa: F401
        REGION, aws_env, bucket, moto_endpoint, open_multipart_uploads, proxied_client, proxy,
        random_file, s3_direct, session,
    )

SMALL_PARTS = TransferConfig(part_size=5 * MiB, concurrency=3, multipart_threshold=5 * MiB)


@pytest.mark.parametrize("algorithm", ["crc32c", "sha256"])
def test_multipart_upload_and_ranged_download_are_byte_identical(
        tmp_path, proxied_client, s3_direct, bucket, algorithm):
    path = random_file(tmp_path, 13 * MiB + 17)
    config = TransferConfig(part_size=5 * MiB, concurrency=3, multipart_threshold=5 * MiB,
                            checksum_algorithm=algorithm)
    seen = []
    result = upload_file(proxied_client, path, bucket, "t/one.bin", config=config,
                         progress=lambda done, total: seen.append((done, total)))
    assert (result.parts, result.size) == (3, 13 * MiB + 17)
    assert result.checksum.endswith("-3")
    assert seen[-1] == (result.size, result.size)
    assert s3_direct.get_object(Bucket=bucket, Key="t/one.bin")["Body"].read() == path.read_bytes()
    assert open_multipart_uploads(s3_direct, bucket) == []

    target = tmp_path / "back.bin"
    downloaded = download_file(proxied_client, bucket, "t/one.bin", target, config=config)
    assert target.read_bytes() == path.read_bytes()
    assert downloaded.checksum_algorithm == algorithm
    assert not [p for p in os.listdir(tmp_path) if p.endswith(".download")]


def test_single_put_round_trip_and_download_into_a_directory(tmp_path, proxied_client, bucket):
    path = random_file(tmp_path, 1000, name="note.txt")
    result = upload_file(proxied_client, path, bucket, "docs/note.txt")
    assert result.parts == 1
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    downloaded = download_file(proxied_client, bucket, "docs/note.txt", out_dir)
    assert downloaded.path == str(out_dir / "note.txt")
    assert (out_dir / "note.txt").read_bytes() == path.read_bytes()


def test_download_refuses_bytes_that_do_not_match_the_stored_checksum(tmp_path, proxied_client,
                                                                      s3_direct, bucket):
    """A stored checksum that the bytes do not match fails the download; DEST is untouched."""
    wrong = base64.b64encode(b"\x00\x00\x00\x01").decode()
    s3_direct.put_object(Bucket=bucket, Key="bad.bin", Body=b"corrupted?", ChecksumAlgorithm="CRC32C",
                         ChecksumCRC32C=wrong)
    if s3_direct.head_object(Bucket=bucket, Key="bad.bin", ChecksumMode="ENABLED").get("ChecksumCRC32C") != wrong:
        pytest.skip("this moto version does not store a client-supplied checksum")
    target = tmp_path / "dest.bin"
    target.write_bytes(b"previous content")
    with pytest.raises(ChecksumMismatchError, match="was not written"):
        download_file(proxied_client, bucket, "bad.bin", target)
    assert target.read_bytes() == b"previous content"
    assert sorted(os.listdir(tmp_path)) == ["dest.bin"]


def test_download_of_an_object_without_checksum_is_reported_unverified_or_refused_on_request(
        tmp_path, proxied_client, s3_direct, session, bucket):
    from botocore.config import Config

    host = s3_direct.meta.endpoint_url
    plain = session.client("s3", endpoint_url=host, region_name=REGION,
                           config=Config(request_checksum_calculation="when_required"))
    plain.put_object(Bucket=bucket, Key="plain.bin", Body=b"no checksum here")
    with pytest.raises(ChecksumMismatchError, match="no stored checksum"):
        download_file(proxied_client, bucket, "plain.bin", tmp_path / "x", require_checksum=True)
    assert not (tmp_path / "x").exists()
    result = download_file(proxied_client, bucket, "plain.bin", tmp_path / "x")
    assert (tmp_path / "x").read_bytes() == b"no checksum here" and result.checksum is None
    assert result.verified is False


def test_cli_upload_with_tenant_key_and_json_summary_then_download(tmp_path, proxy, s3_direct,
                                                                   bucket, aws_env, capsys):
    path = random_file(tmp_path, 6 * MiB, name="po-1.pdf")
    code = main(["upload", str(path), "--tenant", "acme", "--module", "purchase-orders",
                 "--bucket", bucket, "--endpoint-url", proxy.endpoint_url, "--region", REGION,
                 "--part-size", "5MiB", "--json"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    summary = json.loads(captured.out)
    assert summary["key"].startswith("acme/purchase-orders/") and summary["key"].endswith("/po-1.pdf")
    assert summary["bytes"] == 6 * MiB and summary["parts"] == 2
    assert summary["version_id"] and summary["checksum"].endswith("-2") and summary["seconds"] >= 0
    assert captured.err == ""  # no progress bar when stderr is not a terminal

    target = tmp_path / "copy.pdf"
    code = main(["download", summary["key"], str(target), "--bucket", bucket, "--endpoint-url",
                 proxy.endpoint_url, "--region", REGION, "--json"])
    assert code == 0
    assert target.read_bytes() == path.read_bytes()


def test_cli_sends_sse_kms_with_the_configured_key(tmp_path, proxy, s3_direct, bucket, aws_env,
                                                   monkeypatch, capsys):
    """``--sse-kms-key-id`` reaches CreateMultipartUpload: the object is stored SSE-KMS with that key.

    Plumbing only: moto records the headers; whether S3 enforces the key is the bucket policy's
    job, proven by policy evaluation elsewhere.
    """
    key_arn = "arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555"
    path = random_file(tmp_path, 6 * MiB)
    code = main(["upload", str(path), "--key", "kms.bin", "--bucket", bucket, "--endpoint-url",
                 proxy.endpoint_url, "--region", REGION, "--part-size", "5MiB",
                 "--sse-kms-key-id", key_arn])
    assert code == 0, capsys.readouterr().err
    head = s3_direct.head_object(Bucket=bucket, Key="kms.bin")
    assert head["ServerSideEncryption"] == "aws:kms"
    assert head["SSEKMSKeyId"] == key_arn


@pytest.mark.parametrize("flags, signed_in_query", [([], True), (["--parts-via-botocore"], False)],
                         ids=["direct", "via-botocore"])
def test_cli_parts_go_direct_unless_asked_to_go_through_botocore(tmp_path, proxy, s3_direct, bucket, aws_env,
                                                                 capsys, flags, signed_in_query):
    """Direct parts carry their signature in the query (``transfer/direct.py``); through botocore
    they carry an Authorization header. Both store the same bytes."""
    path = random_file(tmp_path, 11 * MiB)
    code = main(["upload", str(path), "--key", "via.bin", "--bucket", bucket, "--endpoint-url",
                 proxy.endpoint_url, "--region", REGION, "--part-size", "5MiB", "--quiet", *flags])
    assert code == 0, capsys.readouterr().err
    parts = proxy.requests("UploadPart")
    assert len(parts) == 3
    assert all(("X-Amz-Signature" in r.query) is signed_in_query for r in parts)
    assert s3_direct.get_object(Bucket=bucket, Key="via.bin")["Body"].read() == path.read_bytes()
