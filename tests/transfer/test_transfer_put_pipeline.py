"""Small files sent from one thread (``securestore/transfer/put_pipeline.py``), attacked as a
hostile network would: every fault the loopback proxy can inject, on the first PUT and on one
in the middle of the stream, must leave the summary true (a file said copied is stored with its
bytes; a file that is not stored is said failed, with S3's reason), and a transient fault must
cost nothing but time.

Witnesses: moto behind the fault proxy stores bytes (it does not check signatures or
checksums: LocalStack's ``tests/localstack/test_sync_localstack.py`` runs the same sync and
checks both); the discard sink over TLS for certificate trust; a raw socket for the request's
exact bytes, compared with what the threaded path (``DirectObjects.put_object``) sends.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import socket
import threading
from pathlib import Path

import boto3
import pytest
from botocore.config import Config

from securestore.transfer import TransferConfig, make_s3_client
from securestore.transfer.clients import transfer_client_config
from securestore.transfer.direct_objects import DirectObjects
from securestore.transfer.put_pipeline import PutPipeline, PutRequest, _Answer
from securestore.transfer.sync import SyncOptions, sync_up
from securestore.transfer.sync_state import ChecksumState

try:
    from support.discard_s3 import DiscardS3Server
    from support.tls_cert import self_signed, server_context
    from support.transfer_fixtures import (  # noqa: F401 - fixtures
        REGION, aws_env, bucket, moto_endpoint, proxy, s3_direct, session,
    )
except ImportError:  # pragma: no cover - when tests/ is a package
    from tests.support.discard_s3 import DiscardS3Server
    from tests.support.tls_cert import self_signed, server_context
    from tests.support.transfer_fixtures import (  # noqa: F401
        REGION, aws_env, bucket, moto_endpoint, proxy, s3_direct, session,
    )

FILES = 12
FAST_RETRIES = dict(backoff_base_seconds=0.01, backoff_max_seconds=0.05, retry_for_seconds=20)

# Every fault the proxy can put on a PUT, and whether S3 would end up storing the file after
# our retries: transient faults must cost nothing, permanent ones exactly that file.
TRANSIENT = ["error_500", "error_503", "reset", "drop_request_body", "drop_response", "forward_then_500",
             "error:503:SlowDown", "error:500:InternalError"]
PERMANENT = ["error_403", "error:400:InvalidRequest", "error:403:AccessDenied",
             "refuse_mid_body:403:AccessDenied", "error:404:NoSuchBucket"]


def _tree(root: Path, count: int = FILES) -> dict[str, bytes]:
    rng = random.Random(count)
    files = {}
    for index in range(count):
        relative = f"d{index % 3}/f{index:03d}.bin"
        data = rng.randbytes(rng.randint(1, 40_000))
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        files[relative] = data
    return files


def _stored(s3, bucket: str, prefix: str) -> dict[str, bytes]:
    found = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for entry in page.get("Contents", []):
            found[entry["Key"][len(prefix):]] = s3.get_object(Bucket=bucket, Key=entry["Key"])["Body"].read()
    return found


def _faulted(action: str, key: str, times: int = 1, operation: str = "PutObject"):
    """A rule: ``action`` on the first ``times`` ``operation`` requests of ``key``, everything
    else forwarded."""
    seen = []

    def rule(request):
        if request.operation == operation and request.path.endswith("/" + key) and len(seen) < times:
            seen.append(key)
            return action
        return "forward"
    return rule


@pytest.mark.parametrize("position", ["first", "middle"])
@pytest.mark.parametrize("action", TRANSIENT + PERMANENT)
def test_every_fault_on_a_pipelined_put_leaves_the_summary_true(tmp_path, proxy, session, s3_direct, bucket,
                                                                action, position):
    files = _tree(tmp_path / "src")
    victim = sorted(files)[0 if position == "first" else FILES // 2]
    # a transient fault happens once; a permanent one every time that key is sent
    proxy.reset(_faulted(action, victim, times=1 if action in TRANSIENT else 1000))
    client = make_s3_client(session, region_name=REGION, endpoint_url=proxy.endpoint_url, concurrency=4)
    events, threads = [], set()

    def seen(event):
        events.append(event)
        if event.action == "upload":
            threads.add(threading.current_thread() is threading.main_thread())

    summary = sync_up(client, str(tmp_path / "src"), bucket, "p", state=ChecksumState(":memory:"),
                      config=TransferConfig(concurrency=4, **FAST_RETRIES), on_event=seen)
    stored = _stored(s3_direct, bucket, "p/")
    said_copied = {event.relative for event in events if event.action == "upload"}
    said_failed = {event.relative for event in events if event.action == "fail"}

    # the outcome model: every file said copied is stored with its bytes, and the counters agree
    assert {relative: stored.get(relative) for relative in said_copied} == \
        {relative: files[relative] for relative in said_copied}
    assert summary.copied == len(said_copied) and summary.failed == len(said_failed)
    assert said_copied | said_failed == set(files) and not said_copied & said_failed
    if action in TRANSIENT:
        assert said_failed == set(), summary.errors
        assert stored == files
    else:
        code = action.split(":")[2] if ":" in action else "AccessDenied"
        assert said_failed == {victim}
        assert code in summary.errors[0]["error"], summary.errors
        assert victim not in stored and summary.temporary_failures == 0
    assert True in threads, "the pipeline (this thread) sent nothing: the test did not test it"


def _read_request(conn, pending: bytes = b""):
    """One HTTP request from ``conn``: ``(head, body, what follows)``, or ``None`` at the end."""
    while b"\r\n\r\n" not in pending:
        chunk = conn.recv(65536)
        if not chunk:
            return None
        pending += chunk
    head, _, body = pending.partition(b"\r\n\r\n")
    length = int([line.split(b":")[1] for line in head.split(b"\r\n")
                  if line.lower().startswith(b"content-length")][0])
    while len(body) < length:
        body += conn.recv(65536)
    return head, body[:length], body[length:]


def _raw_server(handle) -> socket.socket:
    """A loopback listener whose every connection ``handle(conn)`` serves on its own thread."""
    listener = socket.create_server(("127.0.0.1", 0))

    def serve():
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            threading.Thread(target=handle, args=(conn,), daemon=True).start()

    threading.Thread(target=serve, daemon=True).start()
    return listener


def test_the_pipeline_sends_what_the_threaded_path_sends(tmp_path, monkeypatch):
    """Byte for byte (at one frozen time): target, Host, Content-Length, every signed header and
    the body, for a key that needs quoting, SSE-KMS, metadata and a content type."""
    captured = []

    def handle(conn):
        head, body, _ = _read_request(conn)
        captured.append((head, body))
        conn.sendall(b'HTTP/1.1 200 OK\r\nETag: "e"\r\nContent-Length: 0\r\nConnection: close\r\n\r\n')
        conn.close()

    listener = _raw_server(handle)
    port = listener.getsockname()[1]
    client = make_s3_client(boto3.session.Session(aws_access_key_id="AKIDEXAMPLE", aws_secret_access_key="s",
                                                  aws_session_token="tok/en+=", region_name="eu-west-1"),
                            region_name="eu-west-1", endpoint_url=f"http://127.0.0.1:{port}")
    direct = DirectObjects.for_client(client, "bkt")
    frozen = dt.datetime(2026, 12, 6, 12, 0, tzinfo=dt.timezone.utc)
    direct.clock = lambda: frozen
    headers = DirectObjects.headers_for({
        "Bucket": "bkt", "Key": "k", "ContentType": "text/csv", "ServerSideEncryption": "aws:kms",
        "SSEKMSKeyId": "arn:aws:kms:eu-west-1:111122223333:key/abc", "Metadata": {"origin": "nightly"},
        "ChecksumAlgorithm": "CRC64NVME", "ChecksumCRC64NVME": "AAAAAAAAAAA="})
    key = "acme/reports/2026/12/06/é x+y (1).csv"
    body = os.urandom(3000)
    assert direct.put_object(key, body, headers)["ETag"] == '"e"'
    stored = []
    PutPipeline(direct, 1).run(iter([PutRequest(key, headers, body)]), on_stored=lambda r, a: stored.append(a),
                               on_refused=lambda r, e: pytest.fail(f"refused: {e!r}"))
    listener.close()
    assert stored == [{"ETag": '"e"'}]

    def lines(head):
        return sorted(head.split(b"\r\n")[1:]), head.split(b"\r\n")[0]

    (threaded, threaded_body), (pipelined, pipelined_body) = captured
    assert lines(pipelined) == lines(threaded)
    assert pipelined_body == threaded_body == body


ANSWERS = [
    b'HTTP/1.1 200 OK\r\nETag: "a"\r\nx-amz-checksum-crc64nvme: AAAAAAAAAAA=\r\nContent-Length: 0\r\n\r\n',
    b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nETag: \"b\"\r\nContent-Length: 3\r\n\r\nxyz",
    b"HTTP/1.1 503 Slow Down\r\nTransfer-Encoding: chunked\r\n\r\n"
    b"5\r\n<Erro\r\n1a\r\nr><Code>SlowDown</Code></E\r\n6;ext=1\r\nrror>\n\r\n0\r\nX-Trailer: t\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nConnection: close\r\nETag: \"c\"\r\nContent-Length: 0\r\n\r\n",
    b"HTTP/1.0 403 Forbidden\r\n\r\n<Error><Code>AccessDenied</Code></Error>",
]
EXPECTED = [(200, '"a"', b"", False), (200, '"b"', b"xyz", False),
            (503, None, b"<Error><Code>SlowDown</Code></Error>\n", False), (200, '"c"', b"", True),
            (403, None, b"<Error><Code>AccessDenied</Code></Error>", True)]


@pytest.mark.parametrize("seed", range(40))
def test_an_answer_split_anywhere_reads_the_same(seed):
    """Class: a parser that assumes an answer arrives in one read. Each answer (length-delimited,
    after a 100 Continue, chunked with extensions and trailers, Connection: close, HTTP/1.0 read
    to the close) is fed in random pieces, down to one byte, followed by the next answer's bytes."""
    rng = random.Random(seed)
    for raw, (status, etag, body, closes) in zip(ANSWERS, EXPECTED):
        trailing = b"HTTP/1.1 200 OK\r\n" if not closes else b""
        data = raw + trailing
        cuts = sorted(rng.sample(range(1, len(data)), min(len(data) - 1, rng.randint(1, 12))))
        answer, buffer = _Answer(), bytearray()
        for start, end in zip([0] + cuts, cuts + [len(data)]):
            buffer += data[start:end]
            if not answer.done:
                answer.feed(buffer)
        if not answer.done:
            assert answer.closed(), raw
        assert (answer.status, answer.headers.get("etag"), bytes(answer.body), answer.will_close) == \
            (status, etag, body, closes)
        assert bytes(buffer) == trailing, "bytes of the next answer were eaten"


def test_a_header_that_would_split_the_request_is_never_sent(tmp_path, proxy, session, s3_direct, bucket):
    """Metadata with CR/LF (``x-amz-acl: public-read`` smuggled in): no request carries it, every
    file fails with a clear error, nothing is stored."""
    _tree(tmp_path / "src", 3)
    client = make_s3_client(session, region_name=REGION, endpoint_url=proxy.endpoint_url, concurrency=2)
    summary = sync_up(client, str(tmp_path / "src"), bucket, "p", state=ChecksumState(":memory:"),
                      config=TransferConfig(concurrency=2, **FAST_RETRIES),
                      upload_args={"metadata": {"note": "x\r\nx-amz-acl: public-read"}})
    assert summary.failed == 3 and summary.copied == 0
    assert "header" in summary.errors[0]["error"].lower(), summary.errors
    assert not [r for r in proxy.seen if "x-amz-acl" in r.headers]
    assert _stored(s3_direct, bucket, "p/") == {}


def test_a_server_that_stops_answering_is_left_after_the_read_timeout(tmp_path, proxy, session, s3_direct,
                                                                       bucket):
    """The first PUT is held without an answer: after ``read_timeout`` (1 s) the pipeline gives
    up on it, hands everything to the workers, and every file is stored once the proxy lets go."""
    files = _tree(tmp_path / "src", 6)
    victim = sorted(files)[0]
    proxy.reset(_faulted("hang", victim))
    client = boto3.session.Session(aws_access_key_id="testing", aws_secret_access_key="testing").client(
        "s3", region_name=REGION, endpoint_url=proxy.endpoint_url,
        config=transfer_client_config(2).merge(Config(read_timeout=1, connect_timeout=1)))
    threading.Timer(3.0, proxy.release).start()
    summary = sync_up(client, str(tmp_path / "src"), bucket, "p", state=ChecksumState(":memory:"),
                      config=TransferConfig(concurrency=2, **FAST_RETRIES))
    assert (summary.copied, summary.failed) == (6, 0), summary.errors
    assert _stored(s3_direct, bucket, "p/") == files


@pytest.fixture
def tls_sink(tmp_path):
    cert_path, key_path = self_signed(tmp_path)
    with DiscardS3Server(tls=server_context(cert_path, key_path)) as sink:
        yield sink, str(cert_path)


def test_over_tls_with_the_clients_ca_bundle_every_file_goes_up(tmp_path, tls_sink):
    sink, ca_bundle = tls_sink
    _tree(tmp_path / "src", 5)
    client = boto3.session.Session(aws_access_key_id="a", aws_secret_access_key="b").client(
        "s3", region_name=REGION, endpoint_url=sink.endpoint_url, verify=ca_bundle,
        config=transfer_client_config(2))
    summary = sync_up(client, str(tmp_path / "src"), "sink", "tls", state=ChecksumState(":memory:"),
                      config=TransferConfig(concurrency=2, **FAST_RETRIES), options=SyncOptions())
    assert (summary.copied, summary.failed) == (5, 0), summary.errors
    assert sink.requests.get("PutObject") == 5


def test_over_tls_a_certificate_the_client_does_not_trust_sends_nothing(tls_sink, monkeypatch):
    """The pipeline's own connections verify as botocore's would: with the default trust store
    (not the sink's CA) every request is handed back with the verification error, permanent
    (``is_retryable`` says no), and the sink never sees a PUT."""
    import ssl

    from securestore.transfer.retry import is_retryable

    sink, _ = tls_sink
    monkeypatch.delenv("AWS_CA_BUNDLE", raising=False)
    client = boto3.session.Session(aws_access_key_id="a", aws_secret_access_key="b").client(
        "s3", region_name=REGION, endpoint_url=sink.endpoint_url, config=transfer_client_config(2))
    direct = DirectObjects.for_client(client, "sink")
    refused = []
    requests = [PutRequest(f"k{i}", {"x-amz-checksum-crc32c": "AAAAAA=="}, b"data") for i in range(3)]
    finished = PutPipeline(direct, 2).run(iter(requests), on_stored=lambda r, a: pytest.fail("stored"),
                                          on_refused=lambda r, e: refused.append(e))
    assert not finished and refused
    assert all(isinstance(error, ssl.SSLCertVerificationError) for error in refused), refused
    assert not any(is_retryable(error) for error in refused)
    assert not sink.requests.get("PutObject")


@pytest.mark.parametrize("position", ["first", "middle"])
@pytest.mark.parametrize("action", TRANSIENT + PERMANENT)
def test_upload_recursive_through_the_pipeline_reports_what_happened(tmp_path, proxy, aws_env, s3_direct, bucket,
                                                                     monkeypatch, capsys, action, position):
    """The same faults through ``securestore upload --recursive`` (``batch.run_batch``): the JSON
    summary lists a file as transferred only if it is stored with its bytes, the others as
    errors with S3's reason, and the exit status says which kind of failure it was."""
    import json

    from securestore.cli import main

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    files = _tree(tmp_path / "src")
    victim = sorted(files)[0 if position == "first" else FILES // 2]
    proxy.reset(_faulted(action, "p/" + victim, times=1 if action in TRANSIENT else 1000))
    code = main(["upload", str(tmp_path / "src"), f"s3://{bucket}/p/", "--recursive", "--json",
                 "--endpoint-url", proxy.endpoint_url, "--region", REGION, "--concurrency", "4",
                 "--retry-for", "20"])
    summary = json.loads(capsys.readouterr().out)
    stored = _stored(s3_direct, bucket, "p/")
    said_copied = {entry["key"][2:] for entry in summary["transferred"]}
    said_failed = {entry["key"][2:] for entry in summary["errors"]}
    assert {relative: stored.get(relative) for relative in said_copied} == \
        {relative: files[relative] for relative in said_copied}
    assert said_copied | said_failed == set(files) and not said_copied & said_failed
    if action in TRANSIENT:
        assert (code, said_failed, stored) == (0, set(), files), summary["errors"]
    else:
        assert (code, said_failed) == (1, {victim}), summary["errors"]
        assert victim not in stored


def test_ctrl_c_while_the_pipeline_waits_exits_130_at_once_and_a_rerun_finishes(tmp_path):
    """SIGINT while every connection waits on an answer (the proxy holds the 31st PUT on): the
    command stops within a few seconds with 130, not after the read timeout; the same command
    run again copies exactly what is missing."""
    import signal
    import subprocess
    import sys
    import time

    try:
        from support.fault_proxy import FaultProxy
        from support.transfer_fixtures import interruptible_by_ctrl_c
    except ImportError:  # pragma: no cover
        from tests.support.fault_proxy import FaultProxy
        from tests.support.transfer_fixtures import interruptible_by_ctrl_c

    _tree(tmp_path / "src", 80)
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "AWS_ACCESS_KEY_ID": "a", "AWS_SECRET_ACCESS_KEY": "b",
           "XDG_CACHE_HOME": str(tmp_path / "cache"), "PYTHONPATH": str(root)}
    with DiscardS3Server() as sink:
        proxy = FaultProxy("127.0.0.1", sink.port).start()
        try:
            proxy.reset(lambda r: "hang" if r.operation == "PutObject" and r.attempt > 30 else "forward")
            argv = [sys.executable, "-m", "securestore.cli", "sync", str(tmp_path / "src"), "s3://sink/p",
                    "--endpoint-url", proxy.endpoint_url, "--region", REGION, "--json",
                    "--checksum-cache", str(tmp_path / "sums.sqlite3")]
            child = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                     preexec_fn=interruptible_by_ctrl_c)
            assert proxy.hanging.wait(60), "the proxy never held a PUT"
            interrupted = time.monotonic()
            child.send_signal(signal.SIGINT)
            child.communicate(timeout=30)
            assert child.returncode == 130
            assert time.monotonic() - interrupted < 5
            proxy.release()
            stored_before = sink.requests.get("PutObject", 0)
            proxy.reset()
            again = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=120)
        finally:
            proxy.stop()
    import json

    summary = json.loads(again.stdout)
    assert again.returncode == 0, again.stderr
    assert summary["copied"] + summary["skipped"] == 80 and summary["failed"] == 0
    assert summary["copied"] <= 80 - 30 + 1 and stored_before >= 30, (summary, stored_before)


@pytest.mark.parametrize("command", ["sync", "upload-recursive"])
def test_an_endpoint_that_stays_down_costs_one_retry_budget_not_one_per_file(tmp_path, proxy, session, aws_env,
                                                                             bucket, monkeypatch, capsys, command):
    """Every PUT is reset (the listing still answers): with a 2 s retry budget and 2 workers,
    40 files used to take 40 budgets / 2 workers = 40 s (50,000 files at 180 s: days). Once one
    file has spent the budget the rest are not attempted, each reported failed and temporary
    (exit 75: run it again)."""
    import json
    import time

    from securestore.cli import main

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    _tree(tmp_path / "src", 40)
    proxy.reset(lambda request: "reset" if request.operation == "PutObject" else "forward")
    started = time.monotonic()
    if command == "sync":
        client = make_s3_client(session, region_name=REGION, endpoint_url=proxy.endpoint_url, concurrency=2)
        summary = sync_up(client, str(tmp_path / "src"), bucket, "p", state=ChecksumState(":memory:"),
                          config=TransferConfig(concurrency=2, backoff_base_seconds=0.01, backoff_max_seconds=0.05,
                                                retry_for_seconds=2, first_answer_seconds=2))
        failed, temporary, copied = summary.failed, summary.temporary_failures, summary.copied
        not_attempted = sum("not attempted" in error["error"] for error in summary.errors)
    else:
        code = main(["upload", str(tmp_path / "src"), f"s3://{bucket}/p/", "--recursive", "--json",
                     "--endpoint-url", proxy.endpoint_url, "--region", REGION, "--concurrency", "2",
                     "--retry-for", "2s"])
        out = json.loads(capsys.readouterr().out)
        assert code == 75, out["errors"][:2]
        failed, copied = out["failed"], out["files"]
        temporary = sum(error["temporary"] for error in out["errors"])
        not_attempted = sum("not attempted" in error["error"] for error in out["errors"])
    elapsed = time.monotonic() - started
    assert (copied, failed) == (0, 40)
    assert temporary >= 40 - 2, "all but the files that hit the first-answer limit are temporary"
    assert not_attempted >= 30
    assert elapsed < 20, f"{elapsed:.1f} s: each file waited out its own budget"


HEAD_FAULTS = TRANSIENT + PERMANENT + ["error:404:NoSuchKey", "error:412:PreconditionFailed"]


@pytest.mark.parametrize("position", ["first", "middle"])
@pytest.mark.parametrize("action", HEAD_FAULTS)
def test_a_first_sync_decides_same_size_files_by_the_pipelines_heads_under_every_fault(
        tmp_path, proxy, session, s3_direct, bucket, action, position):
    """A tree uploaded once, then a sync with an empty checksum cache (a new machine, a lost
    cache): every same-size file is decided by a HEAD through the pipeline and its checksum.
    Three files were rewritten in place with the same size: exactly they are copied. A fault
    on one file's HEAD: transient costs nothing; 404/412 (changed since the listing) means copy
    it; a permanent refusal fails that file alone (with S3's code); the summary stays true."""
    files = _tree(tmp_path / "src")
    client = make_s3_client(session, region_name=REGION, endpoint_url=proxy.endpoint_url, concurrency=4)
    config = TransferConfig(concurrency=4, **FAST_RETRIES)
    first = sync_up(client, str(tmp_path / "src"), bucket, "p", state=ChecksumState(":memory:"), config=config)
    assert first.copied == FILES
    rewritten = sorted(files)[1::4][:3]
    for relative in rewritten:
        data = bytes(byte ^ 0x5A for byte in files[relative])
        (tmp_path / "src" / relative).write_bytes(data)
        files[relative] = data
    victim = sorted(files)[0 if position == "first" else FILES // 2]
    proxy.reset(_faulted(action, victim, times=1 if action in TRANSIENT else 1000, operation="HeadObject"))
    events = []
    summary = sync_up(client, str(tmp_path / "src"), bucket, "p", state=ChecksumState(":memory:"), config=config,
                      on_event=events.append)
    copied = {event.relative for event in events if event.action == "upload"}
    failed = {event.relative for event in events if event.action == "fail"}
    stored = _stored(s3_direct, bucket, "p/")
    assert proxy.requests("HeadObject"), "no HEAD was sent: the test did not test the pipeline's HEADs"
    assert {relative: stored[relative] for relative in copied} == {relative: files[relative] for relative in copied}
    assert summary.copied == len(copied) and summary.failed == len(failed)
    assert summary.copied + summary.skipped + summary.failed == FILES
    gone = action.startswith(("error:404:", "error:412:"))  # a HEAD's answer has no body: 404 is 404
    if action in PERMANENT and not gone:
        assert failed == {victim} and copied == set(rewritten) - {victim}, (failed, copied)
    elif gone:
        assert failed == set() and copied == set(rewritten) | {victim}
        assert stored == files
    else:
        assert failed == set() and copied == set(rewritten), (copied, summary.errors)
        assert stored == files


def test_a_clock_the_server_refuses_stops_the_pipeline_and_the_workers_sign_with_its_time(
        tmp_path, proxy, session, s3_direct, bucket):
    """Class: a refusal that every later request of the pipeline would get too (here
    RequestTimeTooSkewed: this machine's clock an hour behind the server's). The pipeline stops
    at the first one instead of sending every file twice; the workers learn the server's time
    (``clock.py``) and store every file; nothing is reported failed."""
    files = _tree(tmp_path / "src", 20)
    proxy.server_clock(3600)
    client = make_s3_client(session, region_name=REGION, endpoint_url=proxy.endpoint_url, concurrency=4)
    summary = sync_up(client, str(tmp_path / "src"), bucket, "p", state=ChecksumState(":memory:"),
                      config=TransferConfig(concurrency=4, **FAST_RETRIES))
    assert (summary.copied, summary.failed) == (20, 0), summary.errors
    assert _stored(s3_direct, bucket, "p/") == files
    refused = [r for r in proxy.requests("PutObject") if r.attempt]  # every PUT the proxy saw
    assert len(refused) <= 20 + 4 + 4, f"{len(refused)} PUTs for 20 files: the pipeline kept sending"


def test_the_pipeline_learns_a_clock_skew_from_its_own_refusal(proxy, session, bucket):
    """Without a listing to learn it first: the first answers are RequestTimeTooSkewed, handed
    back (one per connection at most, they were signed at once), and every later request is
    signed with the server's time and stored."""
    from securestore.transfer.retry import Link

    proxy.server_clock(-3600)
    client = make_s3_client(session, region_name=REGION, endpoint_url=proxy.endpoint_url, concurrency=2)
    direct = DirectObjects.for_client(client, bucket)
    requests = [PutRequest(f"k{i:02d}", {"x-amz-checksum-crc32c": "AAAAAA=="}, b"", ) for i in range(12)]
    stored, refused = [], []
    finished = PutPipeline(direct, 2, link=Link()).run(iter(requests), on_stored=lambda r, a: stored.append(r.key),
                                                       on_refused=lambda r, e: refused.append(r.key))
    assert finished
    assert 1 <= len(refused) <= 2 and len(stored) == 12 - len(refused), (refused, stored)
    assert sorted(refused) == [request.key for request in requests[:len(refused)]]  # in either order


def test_a_kept_alive_connection_the_server_closed_hands_back_one_request_and_the_pipeline_goes_on():
    """Class: servers close idle keep-alive connections, and one can close just as a request
    goes out on it. Here every connection answers one PUT, then closes on reading the next
    one: each such request comes back (for the workers to send), and the pipeline is not
    stopped as it is for an outage (every fresh connection failing)."""
    def handle(conn):
        _, _, rest = _read_request(conn)
        conn.sendall(b'HTTP/1.1 200 OK\r\nETag: "x"\r\nContent-Length: 0\r\n\r\n')
        _read_request(conn, rest)  # the next request arrives: close without an answer
        conn.close()

    listener = _raw_server(handle)
    port = listener.getsockname()[1]
    client = make_s3_client(boto3.session.Session(aws_access_key_id="a", aws_secret_access_key="b"),
                            region_name=REGION, endpoint_url=f"http://127.0.0.1:{port}")
    direct = DirectObjects.for_client(client, "bkt")
    requests = [PutRequest(f"k{i:02d}", {"x-amz-checksum-crc32c": "AAAAAA=="}, b"abc") for i in range(20)]
    stored, refused = [], []
    finished = PutPipeline(direct, 2).run(iter(requests), on_stored=lambda r, a: stored.append(r.key),
                                          on_refused=lambda r, e: refused.append((r.key, e)))
    listener.close()
    assert finished, "the pipeline stopped as for an outage"
    assert refused and all(isinstance(error, ConnectionError) for _, error in refused)
    assert sorted(stored + [key for key, _ in refused]) == [r.key for r in requests]


@pytest.mark.parametrize("count", [0, 1, 5, 64, 65, 200])
def test_read_ahead_yields_every_item_in_order_after_asking_the_kernel_for_the_files_ahead(tmp_path, monkeypatch,
                                                                                        count):
    """Class: a read-ahead that loses, reorders or duplicates work, or advises too late. Each
    item comes out once, in order, and by the time item i comes out the kernel has been asked
    for the files of items up to i + 64; a file that cannot be opened is skipped quietly."""
    from securestore.transfer import small_puts

    advised = []
    monkeypatch.setattr(small_puts.os, "posix_fadvise",
                        lambda fd, offset, length, advice: advised.append(os.readlink(f"/proc/self/fd/{fd}")),
                        raising=False)
    paths = []
    for index in range(count):
        path = tmp_path / f"f{index:03d}"
        path.write_bytes(b"x")
        paths.append(str(path))
    items = [(index, path) for index, path in enumerate(paths)] + [(count, str(tmp_path / "missing"))]
    seen = []
    for item in small_puts.read_ahead(items, lambda item: item[1]):
        seen.append(item)
        ahead = min(item[0] + small_puts.READ_AHEAD_FILES, count - 1)
        assert count == 0 or item[0] >= count or paths[ahead] in advised, f"item {item[0]}: not asked ahead"
    assert seen == items
    assert advised == paths


@pytest.mark.parametrize("stop_after", [0, 1, 10, 70, 150])
def test_read_ahead_hands_back_what_it_took_when_the_consumer_stops_early(stop_after):
    """Class: work taken from a stream into a look-ahead window and lost when the consumer
    stops (the pipeline stopping on a transient failure lost up to 64 files of a sync, found by
    the fault matrix above). ``left()`` plus the rest of the stream is exactly what was not
    yielded, in order."""
    from securestore.transfer import small_puts

    stream = iter(range(150))
    ahead = small_puts.read_ahead(stream, lambda item: None)
    taken = [next(ahead) for _ in range(stop_after)]
    assert taken + ahead.left() + list(stream) == list(range(150))
