"""The exact S3 calls an upload makes, checked with botocore's Stubber (no server)."""

from __future__ import annotations

import base64
import hashlib

import boto3
import crc32c
import pytest
from botocore.stub import ANY, Stubber

from securestore.transfer import ChecksumMismatchError, MiB, TransferConfig, TransferError, upload_file
from securestore.transfer.upload import PART_SIZE_METADATA_KEY

KMS_KEY = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"


def _client():
    return boto3.session.Session(aws_access_key_id="a", aws_secret_access_key="b").client(
        "s3", region_name="us-east-1")


def _crc(data: bytes) -> str:
    return base64.b64encode(crc32c.crc32c(data).to_bytes(4, "big")).decode()


def _composite(parts: list[bytes]) -> str:
    raw = b"".join(crc32c.crc32c(p).to_bytes(4, "big") for p in parts)
    return _crc(raw) + f"-{len(parts)}"


@pytest.fixture
def payload(tmp_path):
    data = hashlib.sha256(b"seed").digest() * (11 * MiB // 32) + b"tail"  # 11 MiB + 4 bytes
    path = tmp_path / "payload.bin"
    path.write_bytes(data)
    return path, data


def test_small_file_is_one_put_with_sse_kms_and_its_checksum(tmp_path):
    path = tmp_path / "small.txt"
    path.write_bytes(b"hello")
    client = _client()
    with Stubber(client) as stub:
        stub.add_response("put_object", {"ETag": '"e"', "ChecksumCRC32C": _crc(b"hello"), "VersionId": "v1"},
                          {"Bucket": "b", "Key": "k", "Body": ANY, "ChecksumAlgorithm": "CRC32C",
                           "ChecksumCRC32C": _crc(b"hello"), "ServerSideEncryption": "aws:kms",
                           "SSEKMSKeyId": KMS_KEY, "Metadata": {}})
        result = upload_file(client, path, "b", "k", sse_kms_key_id=KMS_KEY)
        stub.assert_no_pending_responses()
    assert (result.parts, result.size, result.version_id) == (1, 5, "v1")
    assert result.checksum == _crc(b"hello")


def test_large_file_is_multipart_with_sse_kms_per_part_checksums_and_verified_composite(payload):
    path, data = payload
    parts = [data[: 5 * MiB], data[5 * MiB: 10 * MiB], data[10 * MiB:]]
    client = _client()
    with Stubber(client) as stub:
        stub.add_response("create_multipart_upload", {"UploadId": "u1"},
                          {"Bucket": "b", "Key": "k", "ChecksumAlgorithm": "CRC32C",
                           "ChecksumType": "COMPOSITE", "ServerSideEncryption": "aws:kms",
                           "SSEKMSKeyId": KMS_KEY,
                           "Metadata": {PART_SIZE_METADATA_KEY: str(5 * MiB)}})
        for number, part in enumerate(parts, 1):
            stub.add_response("upload_part", {"ETag": f'"p{number}"'},
                              {"Bucket": "b", "Key": "k", "UploadId": "u1", "PartNumber": number,
                               "Body": ANY, "ChecksumAlgorithm": "CRC32C", "ChecksumCRC32C": _crc(part)})
        stub.add_response("complete_multipart_upload",
                          {"ETag": '"m-3"', "ChecksumCRC32C": _composite(parts), "VersionId": "v9"},
                          {"Bucket": "b", "Key": "k", "UploadId": "u1", "MultipartUpload": {"Parts": [
                              {"PartNumber": n, "ETag": f'"p{n}"', "ChecksumCRC32C": _crc(p)}
                              for n, p in enumerate(parts, 1)]}})
        result = upload_file(client, path, "b", "k", sse_kms_key_id=KMS_KEY,
                             config=TransferConfig(part_size=5 * MiB, concurrency=1,
                                                   multipart_threshold=5 * MiB))
        stub.assert_no_pending_responses()
    assert (result.parts, result.part_size, result.checksum) == (3, 5 * MiB, _composite(parts))


def test_a_part_that_fails_for_good_aborts_the_upload(payload):
    path, _ = payload
    client = _client()
    with Stubber(client) as stub:
        stub.add_response("create_multipart_upload", {"UploadId": "u2"})
        stub.add_client_error("upload_part", "AccessDenied", "denied", 403)
        stub.add_response("abort_multipart_upload", {}, {"Bucket": "b", "Key": "k", "UploadId": "u2"})
        with pytest.raises(TransferError, match="AccessDenied.*the multipart upload was aborted"):
            upload_file(client, path, "b", "k", config=TransferConfig(
                part_size=5 * MiB, concurrency=1, multipart_threshold=5 * MiB))
        stub.assert_no_pending_responses()


def test_keyboard_interrupt_mid_upload_aborts_then_propagates(payload):
    path, _ = payload
    client = _client()
    calls = []

    def interrupt(*_args, **_kwargs):
        calls.append("progress")
        raise KeyboardInterrupt

    with Stubber(client) as stub:
        stub.add_response("create_multipart_upload", {"UploadId": "u3"})
        stub.add_response("upload_part", {"ETag": '"p1"'})
        stub.add_response("abort_multipart_upload", {}, {"Bucket": "b", "Key": "k", "UploadId": "u3"})
        with pytest.raises(KeyboardInterrupt):
            upload_file(client, path, "b", "k", progress=interrupt, config=TransferConfig(
                part_size=5 * MiB, concurrency=1, multipart_threshold=5 * MiB))
        stub.assert_no_pending_responses()
    assert calls == ["progress"]


def test_wrong_composite_checksum_fails_and_deletes_the_new_version(payload):
    path, data = payload
    client = _client()
    with Stubber(client) as stub:
        stub.add_response("create_multipart_upload", {"UploadId": "u4"})
        for number in (1, 2, 3):
            stub.add_response("upload_part", {"ETag": f'"p{number}"'})
        stub.add_response("complete_multipart_upload",
                          {"ETag": '"m-3"', "ChecksumCRC32C": "AAAAAA==-3", "VersionId": "bad"})
        stub.add_response("delete_object", {}, {"Bucket": "b", "Key": "k", "VersionId": "bad"})
        with pytest.raises(ChecksumMismatchError, match="expected .*-3; version bad, which this upload created, was deleted"):
            upload_file(client, path, "b", "k", config=TransferConfig(
                part_size=5 * MiB, concurrency=1, multipart_threshold=5 * MiB))
        stub.assert_no_pending_responses()
