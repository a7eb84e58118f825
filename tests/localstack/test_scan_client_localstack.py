"""``securestore upload --wait-for-scan`` and ``download`` of a quarantined object, on LocalStack.

LocalStack has no GuardDuty and does not enforce bucket policies. So these tests prove the
client flow only: the test tags the object in the scanner's place (as GuardDuty's role
would, a moment after the upload), and, for the download, makes S3 answer the read with
403 AccessDenied as the bucket policy's gate would (a botocore hook on that one client).
That AWS really refuses those reads, and that nobody but the scanner can write the tag, is
the IAM engine's proof (tests/access/test_access_scan_matrix.py, the pack's s3-malware-scan-gate).
"""

from __future__ import annotations

import threading
import time
import uuid

import boto3
import pytest
from botocore.config import Config

from securestore.cli import main
from securestore.cli import transfer as cli_transfer
from securestore.scan import SCAN_TAG_KEY

pytestmark = pytest.mark.localstack


@pytest.fixture(scope="module")
def s3(localstack):
    return boto3.client("s3", region_name=localstack.region, endpoint_url=localstack.endpoint_url,
                        aws_access_key_id="test", aws_secret_access_key="test",
                        config=Config(signature_version="s3v4", s3={"addressing_style": "path"}))


@pytest.fixture
def bucket(s3, localstack, monkeypatch):
    name = f"scan-it-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": localstack.region})
    s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    return name


def _scanner(s3, bucket: str, key: str, status: str, after: float = 1.5) -> threading.Thread:
    """In GuardDuty's place: once the object exists, wait, then tag it with the verdict."""
    def run():
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                head = s3.head_object(Bucket=bucket, Key=key)
                break
            except s3.exceptions.ClientError:
                time.sleep(0.1)
        time.sleep(after)
        s3.put_object_tagging(Bucket=bucket, Key=key, VersionId=head["VersionId"],
                              Tagging={"TagSet": [{"Key": SCAN_TAG_KEY, "Value": status}]})
    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def _argv(localstack, *rest):
    return [*rest, "--endpoint-url", localstack.endpoint_url, "--region", localstack.region]


@pytest.mark.parametrize("status,code", [("NO_THREATS_FOUND", 0), ("THREATS_FOUND", 1), ("UNSUPPORTED", 1)])
def test_upload_waits_for_the_verdict_and_fails_naming_it(tmp_path, s3, bucket, localstack, capsys, status, code):
    """The upload returns only once the verdict is there; a verdict that is not clean exits 1
    with a line naming the status."""
    source = tmp_path / "cv.pdf"
    source.write_bytes(b"%PDF-1.7 test\n" * 100)
    key = "acme/cv/2026/01/31/cv.pdf"
    scanner = _scanner(s3, bucket, key, status)
    started = time.monotonic()
    exit_code = main(_argv(localstack, "upload", str(source), f"s3://{bucket}/{key}", "--wait-for-scan", "30"))
    waited = time.monotonic() - started
    scanner.join(5)
    err = capsys.readouterr().err
    assert exit_code == code, err
    assert waited >= 1.5  # it did wait for the tag the scanner wrote after 1.5 s
    if code:
        assert f"quarantined: {status}: s3://{bucket}/{key}" in err and "Traceback" not in err


def test_upload_without_a_verdict_in_time_exits_75(tmp_path, bucket, localstack, capsys):
    source = tmp_path / "po.pdf"
    source.write_bytes(b"x" * 1000)
    exit_code = main(_argv(localstack, "upload", str(source), f"s3://{bucket}/acme/po.pdf", "--wait-for-scan", "2"))
    assert exit_code == 75
    assert "not scanned yet" in capsys.readouterr().err


@pytest.fixture
def gate(monkeypatch):
    """S3 answers GetObject/HeadObject with 403, as the bucket policy's gate does for an
    object that is not NO_THREATS_FOUND (LocalStack would serve it)."""
    original = cli_transfer._client

    def refused(http_response_status=403):
        class Response:
            status_code = http_response_status
            headers: dict = {}
            raw = None
            content = b""
        return Response(), {"Error": {"Code": "AccessDenied", "Message": "Access Denied"},
                            "ResponseMetadata": {"HTTPStatusCode": http_response_status}}

    def gated_client(*args, **kwargs):
        client = original(*args, **kwargs)
        for operation in ("GetObject", "HeadObject"):
            client.meta.events.register(f"before-call.s3.{operation}", lambda **_: refused())
        return client

    monkeypatch.setattr(cli_transfer, "_client", gated_client)


@pytest.mark.parametrize("status,expected", [("THREATS_FOUND", "quarantined: THREATS_FOUND"),
                                             (None, "not scanned yet")])
def test_download_of_a_quarantined_object_names_the_status(tmp_path, s3, bucket, localstack, gate, capsys,
                                                          status, expected):
    """Not a bare 403: the download reads the tag (readers may) and says why."""
    key = "acme/cv/2026/01/31/evil.pdf"
    s3.put_object(Bucket=bucket, Key=key, Body=b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR")
    if status:
        s3.put_object_tagging(Bucket=bucket, Key=key, Tagging={"TagSet": [{"Key": SCAN_TAG_KEY, "Value": status}]})
    exit_code = main(_argv(localstack, "download", f"s3://{bucket}/{key}", str(tmp_path / "out.pdf")))
    err = capsys.readouterr().err
    assert exit_code == 1
    assert expected in err and "Traceback" not in err
    assert not (tmp_path / "out.pdf").exists()
