"""The transfer client against an S3 that checks checksums (LocalStack); moto cannot witness these.

moto ignores the checksum a part is sent with and returns no checksum from
CompleteMultipartUpload; LocalStack rejects a part whose bytes do not match its checksum header
(``BadDigest``) and returns the composite checksum on completion, as S3 does. A fault proxy
(``tests/support/fault_proxy.py``) sits in front of LocalStack. Not witnessed here: that S3 itself
behaves the same (LocalStack is an emulator), and anything about TLS.
"""

from __future__ import annotations

import os
import uuid

import boto3
import pytest
from botocore.config import Config

from securestore.transfer import MiB, TransferConfig, make_s3_client, upload_file

try:
    from support.fault_proxy import FaultProxy
except ImportError:  # pragma: no cover - when tests/ is a package
    from tests.support.fault_proxy import FaultProxy

pytestmark = pytest.mark.localstack


@pytest.fixture(scope="module")
def s3(localstack):
    return boto3.client("s3", region_name=localstack.region, endpoint_url=localstack.endpoint_url,
                        aws_access_key_id="test", aws_secret_access_key="test",
                        config=Config(signature_version="s3v4", s3={"addressing_style": "path"}))


@pytest.fixture
def through_proxy(localstack):
    host, port = localstack.endpoint_url.removeprefix("http://").split(":")
    proxy = FaultProxy(host, int(port)).start()
    session = boto3.session.Session(aws_access_key_id="test", aws_secret_access_key="test",
                                    region_name=localstack.region)
    try:
        yield proxy, make_s3_client(session, region_name=localstack.region, endpoint_url=proxy.endpoint_url)
    finally:
        proxy.stop()


@pytest.fixture
def bucket(s3, localstack):
    name = f"transfer-it-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": localstack.region})
    return name


def test_a_part_corrupted_in_transit_is_refused_by_s3_and_sent_again(tmp_path, s3, bucket, through_proxy):
    """Class: request bytes changed on the way (a middlebox, bad RAM on a NIC). The part's own
    checksum makes S3 refuse it (BadDigest); it is sent again from our buffer and the object is
    byte-identical, and the Complete response's composite checksum is verified (no read-back)."""
    proxy, client = through_proxy
    path = tmp_path / "payload.bin"
    path.write_bytes(os.urandom(11 * MiB))

    def corrupt_part_2_once(request):
        if request.operation == "UploadPart" and request.part_number == 2 and request.attempt == 1:
            return "corrupt_request_body"
        return "forward"

    proxy.reset(corrupt_part_2_once)
    result = upload_file(client, path, bucket, "corrupted.bin", state_path=tmp_path / "journal",
                         config=TransferConfig(part_size=5 * MiB, concurrency=2, multipart_threshold=5 * MiB,
                                               backoff_base_seconds=0.01, backoff_max_seconds=0.05))
    assert [r.attempt for r in proxy.requests("UploadPart") if r.part_number == 2] == [1, 2]
    assert result.verified and result.checksum.endswith("-3")
    assert proxy.requests("HeadObject") == [], "verified from the Complete response, not a read-back"
    assert s3.get_object(Bucket=bucket, Key="corrupted.bin")["Body"].read() == path.read_bytes()
    assert s3.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []


ODD_KEY = "acme/invoices/2026/12/05/é x+y (1).bin"


def test_parts_sent_directly_carry_a_signature_s3_accepts(tmp_path, s3, bucket, through_proxy):
    """``transfer/direct.py`` signs each UploadPart itself (query SigV4) and sends it past
    botocore. LocalStack checks signatures (``S3_SKIP_SIGNATURE_VALIDATION=0``) and checksums;
    moto checks neither, so this is the witness that the parts are accepted, with a key that
    needs percent-encoding."""
    proxy, client = through_proxy
    path = tmp_path / "payload.bin"
    path.write_bytes(os.urandom(11 * MiB))
    result = upload_file(client, path, bucket, ODD_KEY, state_path=tmp_path / "journal",
                         config=TransferConfig(part_size=5 * MiB, concurrency=2, multipart_threshold=5 * MiB))
    parts = proxy.requests("UploadPart")
    assert len(parts) == 3 and all("X-Amz-Signature" in r.query for r in parts), "sent directly"
    assert result.verified and result.checksum.endswith("-3")
    assert s3.get_object(Bucket=bucket, Key=ODD_KEY)["Body"].read() == path.read_bytes()


def test_a_part_signed_with_the_wrong_secret_is_refused_and_the_upload_aborted(
        tmp_path, s3, bucket, through_proxy, monkeypatch):
    """Class: a signature S3 does not accept. The refusal is permanent (no retries until the
    budget runs out), the upload is aborted, nothing is stored."""
    from securestore._sigv4 import SigningCredentials
    from securestore.s3presign import CredentialSource
    from securestore.transfer import TransferError
    from securestore.transfer.direct import DirectParts
    from securestore.transfer.errors import TemporaryTransferError

    built = DirectParts.for_upload.__func__

    def with_wrong_secret(cls, *args, **kwargs):
        sender = built(cls, *args, **kwargs)
        sender._credentials = CredentialSource(SigningCredentials("test", "not-the-secret"))
        return sender

    monkeypatch.setattr(DirectParts, "for_upload", classmethod(with_wrong_secret))
    proxy, client = through_proxy
    path = tmp_path / "payload.bin"
    path.write_bytes(os.urandom(6 * MiB))
    with pytest.raises(TransferError) as raised:
        upload_file(client, path, bucket, "refused.bin", state_path=tmp_path / "journal",
                    config=TransferConfig(part_size=5 * MiB, concurrency=1, multipart_threshold=5 * MiB))
    assert not isinstance(raised.value, TemporaryTransferError), raised.value
    assert "SignatureDoesNotMatch" in str(raised.value) or "403" in str(raised.value), raised.value
    assert [r.attempt for r in proxy.requests("UploadPart")] == [1], "refused once, not retried"
    assert len(proxy.requests("AbortMultipartUpload")) == 1
    assert s3.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []
