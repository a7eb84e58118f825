"""Parts sent outside botocore (``securestore/transfer/direct.py``): same signature, same errors,
botocore still in charge whenever something else must see the request.

Witnesses: botocore's own signer (the signature of each part must be the one botocore computes
for the same request and time), tiny loopback servers that answer as S3 does (100-continue,
an early 403, a 503 after the body), and LocalStack (``tests/localstack``), which checks
signatures and checksums. moto checks neither and is never the witness of either here.
"""

from __future__ import annotations

import datetime as dt
import os
import socket
import ssl
import threading
from urllib.parse import parse_qs, urlsplit

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber

from securestore.transfer import MiB, TransferConfig, make_s3_client, upload_file
from securestore.transfer.direct import DirectParts
from securestore.transfer.retry import is_retryable

try:
    from support.tls_cert import server_context, self_signed
except ImportError:  # pragma: no cover - when tests/ is a package
    from tests.support.tls_cert import server_context, self_signed

KEY = "acme/invoices/2026/12/05/é x+y (1).pdf"
UPLOAD_ID = "upload-id/with+odd=chars"
NOW = dt.datetime(2026, 12, 5, 13, 0, 0, tzinfo=dt.timezone.utc)


def _client(endpoint_url="http://127.0.0.1:9", token=None):
    session = boto3.session.Session(aws_access_key_id="AKIDEXAMPLE", aws_secret_access_key="secret",
                                    aws_session_token=token, region_name="eu-west-1")
    return make_s3_client(session, region_name="eu-west-1", endpoint_url=endpoint_url)


@pytest.mark.parametrize("endpoint_url", [None, "http://127.0.0.1:9"], ids=["aws", "custom-endpoint"])
@pytest.mark.parametrize("token", [None, "session/token+=="], ids=["keys", "session-token"])
@pytest.mark.parametrize("number", [1, 10000])
def test_each_part_carries_the_signature_botocore_computes(monkeypatch, endpoint_url, token, number):
    """Virtual-hosted (AWS) and path-style (custom endpoint) addressing, an odd key and upload
    id, temporary credentials: scheme, host, path and X-Amz-Signature equal botocore's."""
    client = _client(endpoint_url, token=token)
    direct = DirectParts.for_upload(client, "tenant-bucket", KEY, UPLOAD_ID, "ChecksumCRC32C")
    assert direct is not None
    direct.clock = lambda: NOW
    monkeypatch.setattr("botocore.auth.get_current_datetime", lambda: NOW.replace(tzinfo=None))
    monkeypatch.setattr("botocore.signers.get_current_datetime", lambda: NOW.replace(tzinfo=None))
    # botocore's pure-Python signers (with awscrt installed it picks the CRT ones, whose clock
    # cannot be frozen); both compute the same SigV4.
    import botocore.auth

    monkeypatch.setitem(botocore.auth.AUTH_TYPE_MAPS, "s3v4-query", botocore.auth.S3SigV4QueryAuth)
    theirs = urlsplit(client.generate_presigned_url(
        "upload_part", Params={"Bucket": "tenant-bucket", "Key": KEY, "UploadId": UPLOAD_ID,
                               "PartNumber": number}, ExpiresIn=900))
    ours = urlsplit(direct.part_url(number))
    assert (ours.scheme, ours.netloc, ours.path) == (theirs.scheme, theirs.netloc, theirs.path)
    assert parse_qs(ours.query) == parse_qs(theirs.query)


def test_botocore_sends_when_something_else_must_see_the_request(monkeypatch):
    client = _client()
    assert DirectParts.for_upload(client, "tenant-bucket", "k", "u", "ChecksumCRC32C") is not None
    with Stubber(client):
        assert DirectParts.for_upload(client, "tenant-bucket", "k", "u", "ChecksumCRC32C") is None
    hooked = _client()
    hooked.meta.events.register("before-send.s3.UploadPart", lambda **kwargs: None)
    assert DirectParts.for_upload(hooked, "tenant-bucket", "k", "u", "ChecksumCRC32C") is None
    monkeypatch.setenv("HTTP_PROXY", "http://proxy.example:3128")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    assert DirectParts.for_upload(_client(), "tenant-bucket", "k", "u", "ChecksumCRC32C") is None


def test_moto_in_process_mock_is_honoured():
    """moto's in-process mock answers through a before-send hook: while it is on, botocore sends."""
    from moto import mock_aws

    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1", aws_access_key_id="a", aws_secret_access_key="b")
        assert DirectParts.for_upload(client, "tenant-bucket", "k", "u", "ChecksumCRC32C") is None


class _OneShotServer:
    """A loopback server that runs ``script(conn, head)`` for each request and counts body bytes."""

    def __init__(self, script, tls=None) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.endpoint_url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        if tls is not None:
            self.listener = tls.wrap_socket(self.listener, server_side=True)
            self.endpoint_url = self.endpoint_url.replace("http://", "https://")
        self.body_bytes = 0
        self.script = script
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except ssl.SSLError:
                continue  # a client that did not trust the certificate
            except OSError:
                return
            with conn:
                head = b""
                while b"\r\n\r\n" not in head:
                    chunk = conn.recv(4096)
                    if not chunk:
                        break
                    head += chunk
                if head:
                    self.script(self, conn, head)

    def read_body(self, conn, head: bytes) -> None:
        length = int(next(line.split(b":")[1] for line in head.split(b"\r\n")
                          if line.lower().startswith(b"content-length")))
        already = len(head.split(b"\r\n\r\n", 1)[1])
        self.body_bytes += already
        while self.body_bytes < length:
            chunk = conn.recv(1 << 20)
            if not chunk:
                return
            self.body_bytes += len(chunk)

    def close(self) -> None:
        self.listener.close()


def _sender(server) -> DirectParts:
    return DirectParts.for_upload(_client(server.endpoint_url), "tenant-bucket", "k", "u", "ChecksumCRC32C")


def test_100_continue_then_success_returns_etag_and_echoed_checksum():
    def script(server, conn, head):
        assert b"expect: 100-continue" in head.lower()
        conn.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
        server.read_body(conn, head)
        conn.sendall(b'HTTP/1.1 200 OK\r\nETag: "e1"\r\nx-amz-checksum-crc32c: AAAAAA==\r\n'
                     b"Content-Length: 0\r\n\r\n")

    server = _OneShotServer(script)
    try:
        result = _sender(server).upload_part(1, memoryview(bytes(MiB)), "AAAAAA==")
    finally:
        server.close()
    assert result == {"ETag": '"e1"', "ChecksumCRC32C": "AAAAAA=="}
    assert server.body_bytes == MiB


def test_a_refusal_before_the_body_is_a_clean_permanent_error_and_sends_no_body():
    """S3 answers 403 to the headers (expired credentials, a policy deny): the body is never
    sent, and the error is botocore's ClientError with S3's code, so the upload aborts."""
    def script(server, conn, head):
        body = b"<Error><Code>AccessDenied</Code><Message>no</Message></Error>"
        conn.sendall(b"HTTP/1.1 403 Forbidden\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))

    server = _OneShotServer(script)
    try:
        with pytest.raises(ClientError) as raised:
            _sender(server).upload_part(1, memoryview(bytes(8 * MiB)), "AAAAAA==")
    finally:
        server.close()
    assert raised.value.response["Error"]["Code"] == "AccessDenied"
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert not is_retryable(raised.value)
    assert server.body_bytes == 0


def test_a_server_error_after_the_body_is_retryable_and_a_dropped_connection_too():
    answers = iter([b"HTTP/1.1 503 Slow Down\r\nContent-Length: 46\r\n\r\n"
                    b"<Error><Code>SlowDown</Code><Message/></Error>", None])

    def script(server, conn, head):
        conn.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
        server.read_body(conn, head)
        answer = next(answers)
        if answer is not None:
            conn.sendall(answer)
        # else: close without answering

    server = _OneShotServer(script)
    sender = _sender(server)
    try:
        with pytest.raises(ClientError) as slow:
            sender.upload_part(1, memoryview(bytes(MiB)), "AAAAAA==")
        with pytest.raises(ConnectionError) as dropped:
            sender.upload_part(1, memoryview(bytes(MiB)), "AAAAAA==")
    finally:
        server.close()
    assert slow.value.response["Error"]["Code"] == "SlowDown" and is_retryable(slow.value)
    assert is_retryable(dropped.value)


def test_without_an_interim_answer_the_body_goes_after_a_second():
    """A server that never says 100 Continue (many proxies) still gets the part."""
    def script(server, conn, head):
        server.read_body(conn, head)
        conn.sendall(b'HTTP/1.1 200 OK\r\nETag: "e2"\r\nContent-Length: 0\r\n\r\n')

    server = _OneShotServer(script)
    try:
        result = _sender(server).upload_part(3, memoryview(bytes(MiB)), "AAAAAA==")
    finally:
        server.close()
    assert result["ETag"] == '"e2"' and server.body_bytes == MiB


def test_direct_parts_false_sends_every_part_through_botocore(tmp_path):
    from support.discard_s3 import DiscardS3Server

    path = tmp_path / "f.bin"
    path.write_bytes(os.urandom(11 * MiB))
    with DiscardS3Server() as sink:
        client = _client(sink.endpoint_url)
        seen = []

        def count_bodies(request, **kwargs):  # (signing the first part's URL has no body)
            if request.body:
                seen.append(1)

        client.meta.events.register("before-sign.s3.UploadPart", count_bodies)
        upload_file(client, path, "bkt", "a", state_path=tmp_path / "j1",
                    config=TransferConfig(part_size=5 * MiB, direct_parts=False))
        assert len(seen) == 3
        upload_file(client, path, "bkt", "b", state_path=tmp_path / "j2",
                    config=TransferConfig(part_size=5 * MiB))
        assert len(seen) == 3, "the default sends the parts directly, past botocore's signer"


@pytest.fixture
def tls_server(tmp_path):
    """A loopback HTTPS server with a self-signed certificate for 127.0.0.1, answering 200."""
    cert_path, key_path = self_signed(tmp_path)
    context = server_context(cert_path, key_path)

    def script(server, conn, head):
        conn.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
        server.read_body(conn, head)
        conn.sendall(b'HTTP/1.1 200 OK\r\nETag: "tls"\r\nContent-Length: 0\r\n\r\n')

    server = _OneShotServer(script, tls=context)
    yield server, str(cert_path)
    server.close()


def _tls_client(endpoint_url, verify):
    session = boto3.session.Session(aws_access_key_id="AKIDEXAMPLE", aws_secret_access_key="secret")
    from securestore.transfer.clients import transfer_client_config

    return session.client("s3", region_name="eu-west-1", endpoint_url=endpoint_url, verify=verify,
                          config=transfer_client_config(4))


def test_over_tls_the_clients_ca_bundle_is_trusted(tls_server):
    server, ca_bundle = tls_server
    sender = DirectParts.for_upload(_tls_client(server.endpoint_url, ca_bundle), "tenant-bucket", "k", "u",
                                    "ChecksumCRC32C")
    assert sender is not None
    assert sender.upload_part(1, memoryview(bytes(MiB)), "AAAAAA==")["ETag"] == '"tls"'
    assert server.body_bytes == MiB


def test_over_tls_a_certificate_the_client_does_not_trust_is_a_permanent_error(tls_server, monkeypatch):
    """The default trust store does not know the self-signed certificate: the part is not sent
    and the error is not retried (a certificate does not fix itself)."""
    import ssl

    server, _ = tls_server
    monkeypatch.delenv("AWS_CA_BUNDLE", raising=False)
    sender = DirectParts.for_upload(_tls_client(server.endpoint_url, None), "tenant-bucket", "k", "u",
                                    "ChecksumCRC32C")
    assert sender is not None
    with pytest.raises(ssl.SSLCertVerificationError) as raised:
        sender.upload_part(1, memoryview(bytes(MiB)), "AAAAAA==")
    assert not is_retryable(raised.value)
    assert server.body_bytes == 0


def test_verify_false_or_a_client_certificate_leave_the_parts_to_botocore(tls_server, tmp_path):
    server, ca_bundle = tls_server
    assert DirectParts.for_upload(_tls_client(server.endpoint_url, False), "tenant-bucket", "k", "u",
                                  "ChecksumCRC32C") is None
    from botocore.config import Config

    client = boto3.session.Session(aws_access_key_id="a", aws_secret_access_key="b").client(
        "s3", region_name="eu-west-1", endpoint_url=server.endpoint_url, verify=ca_bundle,
        config=Config(client_cert=(ca_bundle, ca_bundle)))
    assert DirectParts.for_upload(client, "tenant-bucket", "k", "u", "ChecksumCRC32C") is None
