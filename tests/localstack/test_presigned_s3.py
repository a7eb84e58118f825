"""Pre-signed URLs against a real S3 implementation that checks signatures (LocalStack).

Each test states the security promise it proves. Requests go over plain HTTP with urllib,
as a browser would send them: the URL plus exactly the returned headers or form fields.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import subprocess
import sys
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import boto3
import pytest
from botocore.config import Config

from securestore._sigv4 import SigningCredentials
from securestore.keys import build_key
from securestore.s3presign import ExpiryClampedWarning, S3Presigner
from securestore.sts import assume_role_session

pytestmark = pytest.mark.localstack

ACCOUNT_KEYS = SigningCredentials("test", "test")  # LocalStack's default account credentials
REPO = Path(__file__).resolve().parents[2]


def send(method: str, url: str, headers: dict | None = None, body: bytes | None = None) -> tuple[int, bytes, dict]:
    request = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read(), dict(response.headers)
    except urllib.error.HTTPError as error:
        return error.code, error.read(), dict(error.headers)


def multipart(fields: dict[str, str], file_bytes: bytes, content_type: str) -> tuple[bytes, str]:
    """A browser's multipart/form-data body: the policy fields, then the file last."""
    boundary = f"----securestore{uuid.uuid4().hex}"
    parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
             for name, value in fields.items()]
    parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="upload"\r\n'
                 f"Content-Type: {content_type}\r\n\r\n".encode() + file_bytes + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


@pytest.fixture(scope="module")
def aws(localstack):
    kwargs = dict(region_name=localstack.region, endpoint_url=localstack.endpoint_url,
                  aws_access_key_id="test", aws_secret_access_key="test")
    s3 = boto3.client("s3", config=Config(signature_version="s3v4", s3={"addressing_style": "path"}), **kwargs)
    kms = boto3.client("kms", **kwargs)
    sts = boto3.client("sts", **kwargs)
    return {"s3": s3, "kms": kms, "sts": sts}


@pytest.fixture(scope="module")
def kms_key(aws) -> str:
    return aws["kms"].create_key(Description="securestore test key")["KeyMetadata"]["Arn"]


@pytest.fixture(scope="module")
def other_kms_key(aws) -> str:
    return aws["kms"].create_key(Description="someone else's key")["KeyMetadata"]["Arn"]


@pytest.fixture(scope="module")
def bucket(aws, localstack) -> str:
    name = f"securestore-it-{uuid.uuid4().hex[:12]}"
    aws["s3"].create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": localstack.region})
    return name


@pytest.fixture(scope="module")
def presigner(localstack, bucket, kms_key) -> S3Presigner:
    return S3Presigner(bucket=bucket, region_name=localstack.region, kms_key_id=kms_key,
                       credentials=ACCOUNT_KEYS, endpoint_url=localstack.endpoint_url)


def exists(aws, bucket: str, key: str) -> bool:
    try:
        aws["s3"].head_object(Bucket=bucket, Key=key)
    except aws["s3"].exceptions.ClientError:
        return False
    return True


def test_presigned_put_lands_object_encrypted_with_our_kms_key(aws, bucket, kms_key, presigner):
    put = presigner.presign_put("T001", "uploads", f"po {uuid.uuid4().hex}.pdf", content_type="application/pdf", content_length=13)
    status, body, _ = send("PUT", put.url, dict(put.headers), b"%PDF-1.7 test")
    assert status == 200, body
    head = aws["s3"].head_object(Bucket=bucket, Key=put.key)
    assert head["ServerSideEncryption"] == "aws:kms"
    assert head["SSEKMSKeyId"] == kms_key
    assert head["ContentType"] == "application/pdf"
    assert aws["s3"].get_object(Bucket=bucket, Key=put.key)["Body"].read() == b"%PDF-1.7 test"


@pytest.mark.parametrize(
    "tamper",
    ["signature", "expires", "key-to-other-tenant", "content-type", "other-kms-key", "drop-sse-header"],
)
def test_tampered_put_is_refused(aws, bucket, presigner, other_kms_key, tamper):
    """Any change to what was signed (signature, expiry, key, content type, SSE headers) is a 403
    and writes nothing."""
    put = presigner.presign_put("T001", "uploads", f"t-{uuid.uuid4().hex}.pdf", content_type="application/pdf", content_length=23)
    url, headers, target = put.url, dict(put.headers), put.key
    if tamper == "signature":
        url = url[:-1] + ("0" if url[-1] != "0" else "1")
    elif tamper == "expires":
        url = url.replace("X-Amz-Expires=900", "X-Amz-Expires=9000")
    elif tamper == "key-to-other-tenant":
        target = target.replace("T001/", "T002/", 1)
        parts = urlsplit(url)
        url = urlunsplit(parts._replace(path=parts.path.replace("/T001/", "/T002/", 1)))
    elif tamper == "content-type":
        headers["Content-Type"] = "text/html"
    elif tamper == "other-kms-key":
        headers["x-amz-server-side-encryption-aws-kms-key-id"] = other_kms_key
    elif tamper == "drop-sse-header":
        del headers["x-amz-server-side-encryption-aws-kms-key-id"]
    status, body, _ = send("PUT", url, headers, b"<script>evil()</script>")
    assert status == 403, body
    assert not exists(aws, bucket, target)


def test_expired_url_is_refused(aws, bucket, localstack, kms_key):
    """Signed 10 minutes ago for 60 seconds: S3 says the request has expired."""
    ten_minutes_ago = dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=10)
    past = S3Presigner(bucket=bucket, region_name=localstack.region, kms_key_id=kms_key, credentials=ACCOUNT_KEYS,
                       endpoint_url=localstack.endpoint_url, clock=lambda: ten_minutes_ago)
    put = past.presign_put("T001", "uploads", "late.pdf", content_type="application/pdf", content_length=1, expires_in=60)
    status, body, _ = send("PUT", put.url, dict(put.headers), b"x")
    assert status == 403 and b"expired" in body.lower(), body
    assert not exists(aws, bucket, put.key)


def test_signed_checksum_rejects_another_body(aws, bucket, presigner):
    content = b"the real drawing"
    digest = base64.b64encode(hashlib.sha256(content).digest()).decode()
    put = presigner.presign_put("T001", "drawings", f"d-{uuid.uuid4().hex}.dwg",
                                content_type="application/octet-stream", content_length=len(content),
                                checksum_sha256=digest)
    status, body, _ = send("PUT", put.url, dict(put.headers), content.upper())  # same size, other bytes
    assert status == 400, body
    assert not exists(aws, bucket, put.key)
    status, body, _ = send("PUT", put.url, dict(put.headers), content)
    assert status == 200, body


@pytest.mark.parametrize("sent", [b"%PDF-1.7 tes", b"%PDF-1.7 test" + b"x" * 100])
def test_presigned_put_refuses_a_body_of_another_size(aws, bucket, presigner, sent):
    """Attack class: signed scope. A URL signed for 13 bytes carries a smaller or a larger
    body (without Content-Length signed, one URL accepted up to 5 GiB): 403, nothing
    written. LocalStack checks the SigV4 signature over the signed Content-Length."""
    put = presigner.presign_put("T001", "uploads", f"sz-{uuid.uuid4().hex}.pdf", content_type="application/pdf",
                                content_length=13)
    status, body, _ = send("PUT", put.url, dict(put.headers), sent)
    assert status == 403, body
    assert not exists(aws, bucket, put.key)


def test_post_within_limits_is_accepted(aws, bucket, kms_key, presigner):
    post = presigner.presign_post("T001", "cvs", f"cv-{uuid.uuid4().hex}.pdf", content_type="application/pdf",
                                  max_bytes=1024)
    body, form_type = multipart(dict(post.fields), b"%PDF small", "application/pdf")
    status, response, _ = send("POST", post.url, {"Content-Type": form_type}, body)
    assert status == 201, response
    head = aws["s3"].head_object(Bucket=bucket, Key=post.key)
    assert head["SSEKMSKeyId"] == kms_key and head["ContentType"] == "application/pdf"


def test_post_over_the_size_limit_is_refused(aws, bucket, presigner):
    post = presigner.presign_post("T001", "cvs", f"big-{uuid.uuid4().hex}.pdf", content_type="application/pdf",
                                  max_bytes=1024)
    body, form_type = multipart(dict(post.fields), b"x" * 1025, "application/pdf")
    status, response, _ = send("POST", post.url, {"Content-Type": form_type}, body)
    assert status == 400 and b"EntityTooLarge" in response, response
    assert not exists(aws, bucket, post.key)


@pytest.mark.parametrize(
    ("field", "value"),
    [("Content-Type", "text/html"), ("key", "T002/cvs/2026/01/01/planted.pdf"),
     ("x-amz-server-side-encryption", "AES256")],
)
def test_post_with_another_content_type_key_or_encryption_is_refused(aws, bucket, presigner, field, value):
    post = presigner.presign_post("T001", "cvs", f"cv-{uuid.uuid4().hex}.pdf", content_type="application/pdf",
                                  max_bytes=1024)
    fields = {**post.fields, field: value}
    body, form_type = multipart(fields, b"small", "text/html")
    status, response, _ = send("POST", post.url, {"Content-Type": form_type}, body)
    assert status == 403, response
    assert not exists(aws, bucket, post.key) and not exists(aws, bucket, fields["key"])


def test_get_works_with_attachment_disposition_and_cannot_be_redirected_to_another_tenant(aws, bucket, presigner):
    own = build_key("T001", "uploads", f"Zürich plan {uuid.uuid4().hex}.pdf")
    other = own.replace("T001/", "T002/", 1)
    for key, content in ((own, b"mine"), (other, b"theirs")):
        aws["s3"].put_object(Bucket=bucket, Key=key, Body=content)
    get = presigner.presign_get("T001", own)
    status, body, headers = send("GET", get.url)
    assert status == 200 and body == b"mine"
    assert headers["Content-Disposition"].startswith("attachment; filename=")
    with pytest.raises(ValueError, match="belongs to tenant 'T002'"):
        presigner.presign_get("T001", other)
    parts = urlsplit(get.url)  # and editing T001's URL to point at T002's object breaks the signature
    redirected = urlunsplit(parts._replace(path=parts.path.replace("/T001/", "/T002/", 1)))
    status, body, _ = send("GET", redirected)
    assert status == 403 and b"theirs" not in body


def test_session_credentials_from_assume_role_sign_working_urls(aws, bucket, localstack, kms_key):
    """Temporary credentials (with a session token) from our STS helper sign a working PUT."""
    session = assume_role_session("arn:aws:iam::000000000000:role/securestore-tenant", tenant_id="T001",
                                  region_name=localstack.region, sts_client=aws["sts"], duration_seconds=900)
    presigner = S3Presigner(bucket=bucket, region_name=localstack.region, kms_key_id=kms_key, credentials=session,
                            endpoint_url=localstack.endpoint_url)
    with pytest.warns(ExpiryClampedWarning):
        put = presigner.presign_put("T001", "uploads", f"s-{uuid.uuid4().hex}.txt", content_type="text/plain", content_length=14,
                                    expires_in=3600)
    assert "X-Amz-Security-Token=" in put.url
    assert put.expires_at <= dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=901)  # clamped to the session
    status, body, _ = send("PUT", put.url, dict(put.headers), b"from a session")
    assert status == 200, body


def test_cli_presign_put_and_assume_end_to_end(aws, bucket, localstack, kms_key):
    env = {"PATH": "/usr/bin:/bin", "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test",
           "AWS_REGION": localstack.region, "SECURESTORE_BUCKET": bucket, "SECURESTORE_KMS_KEY_ID": kms_key,
           "SECURESTORE_S3_ENDPOINT_URL": localstack.endpoint_url, "SECURESTORE_STS_ENDPOINT_URL": localstack.endpoint_url,
           "PYTHONPATH": str(REPO)}
    run = lambda *args: subprocess.run([sys.executable, "-m", "securestore.cli", *args], env=env, cwd=REPO,  # noqa: E731
                                       capture_output=True, text=True, timeout=60)
    put_result = run("presign", "put", "T001", "uploads", "cli.txt", "--content-type", "text/plain",
                     "--content-length", "7", "--json")
    assert put_result.returncode == 0, put_result.stderr
    put = json.loads(put_result.stdout)
    status, body, _ = send("PUT", put["url"], put["headers"], b"via cli")
    assert status == 200, body
    assert aws["s3"].head_object(Bucket=bucket, Key=put["key"])["SSEKMSKeyId"] == kms_key
    assumed = run("assume", "arn:aws:iam::000000000000:role/securestore-uploader", "--tenant", "T001", "--json")
    assert assumed.returncode == 0, assumed.stderr
    credentials = json.loads(assumed.stdout)
    assert credentials["Version"] == 1 and credentials["SessionToken"] and credentials["Expiration"]
