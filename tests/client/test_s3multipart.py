"""Browser multipart uploads (securestore.s3multipart) without a server: signing and refusals.

LocalStack and Chromium prove the flow end to end (tests/localstack/browser/); these tests pin
what the backend decides before S3 is asked: sizes, part URLs, tenant checks, abort on failure.
"""

from __future__ import annotations

import datetime as dt
from urllib.parse import parse_qs, urlsplit

import pytest

from securestore._sigv4 import SigningCredentials
from securestore.s3multipart import BrowserMultipartUploads, validate_completed_parts

MiB = 1024 * 1024
NOW = dt.datetime(2026, 5, 4, 12, 0, tzinfo=dt.timezone.utc)
KMS_KEY = "arn:aws:kms:eu-central-1:123456789012:key/0b6f9a53-3a3e-4e8e-9d6a-4cbd1c1f5e21"


class RecordingS3:
    """Records the calls the backend makes; answers create with a fixed upload id."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict]] = []

    def create_multipart_upload(self, **params):
        self.calls.append(("create", params))
        return {"UploadId": "upload-1"}

    def complete_multipart_upload(self, **params):
        self.calls.append(("complete", params))
        return {"ETag": '"abc-2"'}

    def abort_multipart_upload(self, **params):
        self.calls.append(("abort", params))


@pytest.fixture
def s3() -> RecordingS3:
    return RecordingS3()


@pytest.fixture
def uploads(s3) -> BrowserMultipartUploads:
    return BrowserMultipartUploads(bucket="securestore-data", region_name="eu-central-1", kms_key_id=KMS_KEY,
                                   credentials=SigningCredentials("AKIDEXAMPLE", "secret"), s3_client=s3,
                                   part_size=5 * MiB, max_bytes=64 * MiB, clock=lambda: NOW)


def test_start_creates_with_our_kms_key_and_signs_each_parts_exact_length(uploads, s3):
    """Promise: the upload is created SSE-KMS under our key, and each part URL signs its exact
    Content-Length; together the parts cover the file once. Attack class: a browser growing the
    object past the size the backend approved."""
    upload = uploads.start("T001", "uploads", "big.bin", content_type="application/octet-stream", size=12 * MiB + 1)
    assert s3.calls == [("create", {"Bucket": "securestore-data", "Key": upload.key, "ContentType":
                                    "application/octet-stream", "ServerSideEncryption": "aws:kms",
                                    "SSEKMSKeyId": KMS_KEY})]
    assert upload.key == "T001/uploads/2026/05/04/big.bin"
    assert [(p.offset, p.length) for p in upload.parts] == [(0, 5 * MiB), (5 * MiB, 5 * MiB), (10 * MiB, 2 * MiB + 1)]
    for part in upload.parts:
        query = parse_qs(urlsplit(part.url).query)
        assert query["partNumber"] == [str(part.part_number)] and query["uploadId"] == ["upload-1"]
        assert query["X-Amz-SignedHeaders"] == ["content-length;host"]
        assert urlsplit(part.url).path == "/T001/uploads/2026/05/04/big.bin"


@pytest.mark.parametrize("size", [0, -1, 64 * MiB + 1, 1.5, True, "10"])
def test_start_refuses_a_size_outside_one_byte_to_the_maximum(uploads, s3, size):
    """Bad input names ``size`` and creates nothing. Attack class: oversize or nonsense sizes."""
    with pytest.raises(ValueError, match="size must be an integer"):
        uploads.start("T001", "uploads", "big.bin", content_type="application/octet-stream", size=size)
    assert s3.calls == []


def test_a_signing_failure_after_create_aborts_the_upload(uploads, s3, monkeypatch):
    """Promise: once the upload id exists, any failure aborts it before the error is raised.
    Attack class: any failure after the upload exists (orphaned parts cost storage)."""
    def broken(*args, **kwargs):
        raise RuntimeError("signer broke")
    monkeypatch.setattr(uploads._signer, "presign_url", broken)
    with pytest.raises(RuntimeError, match="signer broke"):
        uploads.start("T001", "uploads", "big.bin", content_type="application/octet-stream", size=6 * MiB)
    assert [name for name, _ in s3.calls] == ["create", "abort"]
    assert s3.calls[1][1]["UploadId"] == "upload-1"


@pytest.mark.parametrize("operation", ["complete", "abort"])
def test_complete_and_abort_refuse_another_tenants_key_before_asking_s3(uploads, s3, operation):
    """Promise: a tenant cannot finish or abort an upload under another tenant's key. Attack
    class: IDOR through the completion API."""
    key = "T002/uploads/2026/05/04/secret.pdf"
    args = ("T001", key, "upload-1") + (([{"part_number": 1, "etag": '"e"'}],) if operation == "complete" else ())
    with pytest.raises(ValueError, match="belongs to tenant 'T002'"):
        getattr(uploads, operation)(*args)
    assert s3.calls == []


@pytest.mark.parametrize(("parts", "message"), [
    ([], "non-empty list"),
    ([{"part_number": 2, "etag": '"a"'}, {"part_number": 1, "etag": '"b"'}], "not above"),
    ([{"part_number": 1, "etag": '"a"'}, {"part_number": 1, "etag": '"a"'}], "not above"),
    ([{"part_number": 0, "etag": '"a"'}], "part_number must be"),
    ([{"part_number": 1, "etag": "<Part>"}], "not an S3 ETag"),
    ([{"part_number": 1, "etag": '"a"', "size": 5}], "exactly the fields"),
])
def test_completed_parts_are_validated(parts, message):
    """Bad part lists from the browser get one error naming the part. Attack class: malformed
    or injected completion requests."""
    with pytest.raises(ValueError, match=message):
        validate_completed_parts(parts)


def test_a_part_size_below_s3s_minimum_is_refused(s3):
    with pytest.raises(ValueError, match="part_size must be"):
        BrowserMultipartUploads(bucket="securestore-data", region_name="eu-central-1", kms_key_id=KMS_KEY,
                                credentials=SigningCredentials("a", "b"), s3_client=s3, part_size=MiB)
