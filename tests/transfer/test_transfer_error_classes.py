"""Permanent causes fail at once with the server's words; transient ones are retried, and said.

Classes, each tried several ways through the loopback fault proxy in front of moto (moto is the
functional S3 only; the proxy plays the server's refusals, which moto does not make):

* **A permanent refusal** (access denied, an unknown access key, a bad signature, a bad request,
  a clock the server refuses even after correction), at every step of an upload and a download:
  one attempt, then a ``TransferError`` carrying the server's code and message. (Before:
  ``RequestTimeTooSkewed`` was retried for the whole budget and ended with "run it again".)
* **A refusal that arrives mid-body** on the direct part path: the server answers and closes
  while the part is still being sent; the send fails with a broken pipe or a reset, and the
  answer must still be read and reported. (Before: a ``ConnectionError``, retried for the whole
  budget, exit 75 "temporary failure".)
* **A clock off by more than S3's 15 minutes** (either way): the offset is learnt from the first
  refusal and every request is signed with the server's time, by botocore and by the direct path.
  (Before: every request refused, retried, exit 75.)
* **An endpoint that never answered** (a closed port, a name that does not resolve, a listener
  that never answers): fails within the first-answer budget naming the endpoint, while an
  outage after a first answer keeps the long budget. (Before: silent retries for 180 s.)
* **Silence**: every retry wait is said, "retrying (n s of N s): cause".
"""

from __future__ import annotations

import socket
import threading
import time

import pytest

from securestore.transfer import MiB, TransferConfig, download_file, upload_file
from securestore.transfer.clients import make_s3_client, transfer_client_config
from securestore.transfer.errors import EndpointUnreachableError, TemporaryTransferError, TransferError

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

FAST = dict(part_size=5 * MiB, multipart_threshold=5 * MiB, backoff_base_seconds=0.01,
            backoff_max_seconds=0.05)
BUDGET = 6.0
"""A retry budget a test could not miss: a permanent error must end long before it."""

REFUSALS = [("403", "AccessDenied"), ("403", "InvalidAccessKeyId"), ("403", "SignatureDoesNotMatch"),
            ("400", "InvalidRequest"), ("403", "RequestTimeTooSkewed")]
"""The proxy's skew refusal carries a Date of now: the correction changes nothing, so the second
refusal is final (a server whose clock disagrees with itself, or a proxy in between)."""
UPLOAD_STEPS = ["CreateMultipartUpload", "UploadPart", "CompleteMultipartUpload", "PutObject"]
DOWNLOAD_STEPS = ["HeadObject", "GetObject"]


def _config(**extra) -> TransferConfig:
    return TransferConfig(**{"concurrency": 2, "retry_for_seconds": BUDGET, **FAST, **extra})


def _attempts(proxy, operation) -> int:
    return len(proxy.requests(operation))


@pytest.mark.parametrize("status,code", REFUSALS)
@pytest.mark.parametrize("step", UPLOAD_STEPS)
def test_a_permanent_refusal_during_an_upload_fails_at_once_with_the_servers_code(
        tmp_path, proxy, proxied_client, s3_direct, bucket, step, status, code):
    """Class: a permanent refusal at any step of an upload."""
    size = 3 * MiB if step == "PutObject" else 11 * MiB
    path = random_file(tmp_path, size)
    proxy.reset(lambda r: f"error:{status}:{code}" if r.operation == step else "forward")
    started = time.monotonic()
    with pytest.raises(TransferError) as caught:
        upload_file(proxied_client, path, bucket, "refused.bin", config=_config(),
                    state_path=tmp_path / "r.json")
    assert not isinstance(caught.value, TemporaryTransferError), str(caught.value)
    assert code in str(caught.value) and "injected by the fault proxy" in str(caught.value)
    assert time.monotonic() - started < BUDGET
    expected = 2 if code == "RequestTimeTooSkewed" else 1  # corrected once, then final
    if step == "UploadPart":
        assert max(r.attempt for r in proxy.requests(step)) == expected
    else:
        assert _attempts(proxy, step) == expected
    assert open_multipart_uploads(s3_direct, bucket) == []


@pytest.mark.parametrize("status,code", REFUSALS)
@pytest.mark.parametrize("step", DOWNLOAD_STEPS)
def test_a_permanent_refusal_during_a_download_fails_at_once_with_the_servers_code(
        tmp_path, proxy, proxied_client, s3_direct, bucket, step, status, code):
    """Class: a permanent refusal at any step of a download; nothing is written."""
    s3_direct.put_object(Bucket=bucket, Key="object.bin", Body=b"x" * 1000, ChecksumAlgorithm="CRC32C")
    proxy.reset(lambda r: f"error:{status}:{code}" if r.operation == step else "forward")
    started = time.monotonic()
    with pytest.raises(TransferError) as caught:
        download_file(proxied_client, bucket, "object.bin", tmp_path / "out.bin", config=_config())
    # A HEAD's refusal has no body (S3 sends none): its status is all there is to report.
    assert (status if step == "HeadObject" else code) in str(caught.value)
    assert time.monotonic() - started < BUDGET
    skew_corrected = code == "RequestTimeTooSkewed" and step != "HeadObject"
    on_object = [r for r in proxy.requests(step) if r.path.endswith("/object.bin")]
    assert len(on_object) == (2 if skew_corrected else 1)  # (botocore may HEAD the bucket)
    assert not (tmp_path / "out.bin").exists()


@pytest.mark.parametrize("status,code", [("403", "AccessDenied"), ("403", "SignatureDoesNotMatch"),
                                         ("404", "NoSuchUpload"), ("400", "InvalidArgument")])
def test_a_refusal_mid_body_on_the_direct_path_is_read_and_reported(
        tmp_path, proxy, proxied_client, s3_direct, bucket, status, code):
    """Class: a refusal that arrives while the part's body is still being sent (the server
    answers, then closes: our write fails). The answer is read, not retried as a network error."""
    path = random_file(tmp_path, 33 * MiB)
    proxy.reset(lambda r: f"refuse_mid_body:{status}:{code}" if r.operation == "UploadPart" else "forward")
    started = time.monotonic()
    with pytest.raises(TransferError) as caught:
        upload_file(proxied_client, path, bucket, "midbody.bin", state_path=tmp_path / "m.json",
                    config=_config(part_size=16 * MiB, multipart_threshold=16 * MiB, concurrency=1))
    assert not isinstance(caught.value, TemporaryTransferError), str(caught.value)
    assert code in str(caught.value)
    assert time.monotonic() - started < BUDGET
    assert max(r.attempt for r in proxy.requests("UploadPart")) == 1


@pytest.mark.parametrize("direct_parts", [True, False], ids=["direct-parts", "botocore-parts"])
@pytest.mark.parametrize("offset", [20 * 60, -20 * 60, 3 * 3600])
def test_a_clock_off_by_more_than_15_minutes_is_corrected_once_and_the_upload_stored(
        tmp_path, proxy, proxied_client, s3_direct, bucket, offset, direct_parts):
    """Class: a clock S3 refuses (the server is ``offset`` s ahead of this machine): learnt from
    the first refusal, then every request (botocore's and the direct path's) is signed with it."""
    path = random_file(tmp_path, 16 * MiB)
    proxy.server_clock(offset)
    lines = []
    result = upload_file(proxied_client, path, bucket, "skewed.bin", state_path=tmp_path / "s.json",
                         config=_config(direct_parts=direct_parts), notify=lines.append)
    assert result.verified
    assert s3_direct.get_object(Bucket=bucket, Key="skewed.bin")["Body"].read() == path.read_bytes()
    refused = [r for r in proxy.seen if r.attempt > 1 or r.operation == "CreateMultipartUpload"]
    assert len(proxy.requests("CreateMultipartUpload")) == 2, "refused once, then signed right"
    assert len(refused) <= 2 + 2, "at most the requests in flight when the offset was learnt again"
    side = "behind" if offset > 0 else "ahead of"
    assert any("RequestTimeTooSkewed" in line and f"{abs(offset) // 60} min {side}" in line for line in lines)
    target = tmp_path / "back.bin"
    download_file(proxied_client, bucket, "skewed.bin", target, config=_config())
    assert target.read_bytes() == path.read_bytes()


def _closed_port_url() -> str:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    listener.close()
    return f"http://127.0.0.1:{port}"


@pytest.fixture
def silent_listener():
    """Accepts connections (the kernel does) and never answers a byte."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    listener.close()


@pytest.mark.parametrize("where", ["closed-port", "unresolvable-name", "silent-listener"])
@pytest.mark.parametrize("direction", ["upload", "download"])
def test_an_endpoint_that_never_answered_fails_within_the_first_answer_budget(
        tmp_path, session, silent_listener, where, direction):
    """Class: an endpoint that has never answered (a typo). It fails within seconds, naming
    the endpoint, though the retry budget for outages is long."""
    from botocore.config import Config

    url = {"closed-port": _closed_port_url(), "unresolvable-name": "http://s3.no-such-host.invalid:9000",
           "silent-listener": silent_listener}[where]
    client = session.client("s3", region_name=REGION, endpoint_url=url,
                            config=transfer_client_config(2).merge(Config(read_timeout=0.5, connect_timeout=0.5)))
    config = _config(retry_for_seconds=60.0, first_answer_seconds=1.0)
    started = time.monotonic()
    with pytest.raises(EndpointUnreachableError) as caught:
        if direction == "upload":
            upload_file(client, random_file(tmp_path, 1000), "bucket", "k", config=config)
        else:
            download_file(client, "bucket", "k", tmp_path / "k", config=config)
    assert time.monotonic() - started < 10
    assert url in str(caught.value) and "has not answered" in str(caught.value)


def test_an_outage_after_the_first_answer_keeps_the_long_budget(
        tmp_path, proxy, proxied_client, s3_direct, bucket):
    """Class (the other side): the endpoint answered, then went away for longer than the
    first-answer budget; the upload rides it out and every wait is said."""
    path = random_file(tmp_path, 11 * MiB)
    outage = []

    def outage_at_first_part(request):
        if request.operation == "UploadPart" and not outage:
            outage.append(request)  # (the rule runs under the proxy's lock: start it beside)
            threading.Thread(target=proxy.outage, args=(1.5, "reset"), daemon=True).start()
            return "reset"
        return "forward"

    proxy.reset(outage_at_first_part)
    lines = []
    result = upload_file(proxied_client, path, bucket, "outage.bin", state_path=tmp_path / "o.json",
                         notify=lines.append,
                         config=_config(retry_for_seconds=30.0, first_answer_seconds=0.2))
    assert result.verified and outage
    assert any(line.startswith("retrying (") and "of 30 s)" in line for line in lines), lines


@pytest.mark.parametrize("fault", ["error_500", "error_503", "reset"])
def test_every_retry_wait_is_said_with_its_time_and_cause(
        tmp_path, proxy, proxied_client, s3_direct, bucket, fault):
    """Class: silence. A wait on retries prints "retrying (n s of N s): cause"."""
    path = random_file(tmp_path, 11 * MiB)
    proxy.reset(lambda r: fault if r.operation == "UploadPart" and r.attempt <= 2 else "forward")
    lines = []
    upload_file(proxied_client, path, bucket, "said.bin", state_path=tmp_path / "w.json",
                notify=lines.append, config=_config())
    said = [line for line in lines if line.startswith("retrying (") and f"of {BUDGET:g} s): " in line]
    assert said, lines
    if fault != "reset":
        assert {"error_500": "InternalError", "error_503": "SlowDown"}[fault] in said[0]
