"""Every upload ends in exactly one outcome, and says which: stored, not stored, or kept.

The classes, each tried several ways through the loopback fault proxy in front of moto (moto is
only the functional S3 here; it witnesses no security property):

* **The last answer lost**: CompleteMultipartUpload took effect but its answer never arrived (the
  connection dropped after S3 acted, a 500 after S3 acted, an interrupt while it was in flight,
  an interrupt and no answer at all). The upload must be reported as stored (checked with
  ListParts and HeadObject), never as aborted. (Before: "aborted", exit 1, or a KeyboardInterrupt
  saying the upload was aborted while the object was stored.)
* **An interrupt during Create**: S3 created the upload but the answer came after Ctrl-C. It must
  be aborted when the answer comes in time, and reported as possibly left open otherwise.
  (Before: "no multipart upload was created" and the upload stayed open.)
* **Two uploads, one state file**: a state file that journals another file or key is refused,
  naming that upload; it is never aborted or taken over. (Before: the second upload aborted the
  first's multipart upload, or named its own file in the message.)
* **A source replaced by the same size and time**: resuming re-checks each journalled part's
  content against the checksum of what was sent; changed parts are sent again, never mixed in.
  (Before: a mix of old and new bytes was stored and verified as a success.)

Interrupts are delivered as a real SIGINT to the main thread (``pthread_kill``) at the moment the
proxy sees the request; the engine's ``notify`` line "waiting ... for S3's answer" is what lets
the proxy answer, so no step waits on a sleep.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from securestore.transfer import MiB, TransferConfig, upload_file
from securestore.transfer.errors import (
    KEPT, NOT_STORED, STORED, StateFileConflictError, TemporaryTransferError, UploadInterrupted,
    UploadPendingError,
)

try:
    from support.transfer_fixtures import (  # noqa: F401 - fixtures
        CREDENTIALS, REGION, aws_env, bucket, moto_endpoint, open_multipart_uploads,
        proxied_client, proxy, random_file, s3_direct, session,
    )
except ImportError:  # pragma: no cover - when tests/ is a package
    from tests.support.transfer_fixtures import (  # noqa: F401
        CREDENTIALS, REGION, aws_env, bucket, moto_endpoint, open_multipart_uploads,
        proxied_client, proxy, random_file, s3_direct, session,
    )

ROOT = Path(__file__).resolve().parents[2]
FAST = dict(part_size=5 * MiB, multipart_threshold=5 * MiB, backoff_base_seconds=0.01,
            backoff_max_seconds=0.05)
CONFIG = TransferConfig(concurrency=2, **FAST)


def _stored_bytes(s3, bucket, key) -> bytes:
    return s3.get_object(Bucket=bucket, Key=key)["Body"].read()


def _keys(s3, bucket) -> list:
    return [o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]


def _interrupt_main_when(operation: str, action: str):
    """A rule: the first ``operation`` gets ``action``, and SIGINT is sent to the main thread."""
    main = threading.main_thread().ident
    sent = []

    def rule(request):
        if request.operation == operation and not sent:
            sent.append(request)
            signal.pthread_kill(main, signal.SIGINT)
            return action
        return "forward"
    return rule


def _interrupt_main_once_held(proxy) -> None:
    """SIGINT to the main thread once the proxy holds an answer (the server has acted)."""
    main = threading.main_thread().ident

    def interrupt():
        if proxy.hanging.wait(60):
            signal.pthread_kill(main, signal.SIGINT)
    threading.Thread(target=interrupt, daemon=True).start()


@pytest.fixture(params=["versioned", "unversioned"])
def any_bucket(request, s3_direct, bucket):
    if request.param == "unversioned":
        name = bucket + "-plain"
        s3_direct.create_bucket(Bucket=name)
        return name
    return bucket


@pytest.mark.parametrize("retry", ["forward", "error:404:NoSuchUpload"])
@pytest.mark.parametrize("action", ["drop_response", "forward_then_500"])
def test_complete_took_effect_but_its_answer_was_lost_is_reported_stored(
        tmp_path, proxy, proxied_client, s3_direct, any_bucket, action, retry):
    """Class: the last answer lost, after S3 acted on it. Stored, verified, nothing aborted.
    The retried Complete is answered as moto does (success again) or as S3 may once the upload
    is gone (``NoSuchUpload``)."""
    path = random_file(tmp_path, 11 * MiB)
    state = tmp_path / "lost.state.json"
    proxy.reset(lambda r: (action if r.attempt == 1 else retry)
                if r.operation == "CompleteMultipartUpload" else "forward")
    result = upload_file(proxied_client, path, any_bucket, "lost.bin", config=CONFIG, state_path=state)
    assert _stored_bytes(s3_direct, any_bucket, "lost.bin") == path.read_bytes()
    assert proxy.requests("AbortMultipartUpload") == []
    assert open_multipart_uploads(s3_direct, any_bucket) == []
    assert not state.exists()
    assert result.verified and result.outcome == STORED


@pytest.mark.parametrize("answer", ["in-time", "never"])
def test_an_interrupt_while_complete_is_in_flight_reports_the_object_stored(
        tmp_path, proxy, proxied_client, s3_direct, any_bucket, answer):
    """Class: the last answer lost to an interrupt (Ctrl-C or SIGTERM during Complete). S3
    completed the upload; the interrupt must say so (outcome stored), not "aborted"."""
    path = random_file(tmp_path, 11 * MiB)
    state = tmp_path / "complete.state.json"
    proxy.reset(lambda r: "hold_response" if r.operation == "CompleteMultipartUpload" else "forward")
    _interrupt_main_once_held(proxy)  # S3 has acted; its answer is held
    lines = []

    def notify(line):
        lines.append(line)
        if answer == "in-time" and "waiting" in line:
            proxy.release()

    config = TransferConfig(concurrency=2, interrupt_seconds=1.0, **FAST)
    with pytest.raises(UploadInterrupted) as caught:
        upload_file(proxied_client, path, any_bucket, "complete.bin", config=config, state_path=state,
                    notify=notify)
    proxy.release()
    interrupted = caught.value
    assert "is stored" in interrupted.message and not interrupted.kept, interrupted.message
    assert interrupted.outcome == STORED
    assert interrupted.result.verified and interrupted.result.size == 11 * MiB
    assert any("CompleteMultipartUpload" in line for line in lines)
    assert _stored_bytes(s3_direct, any_bucket, "complete.bin") == path.read_bytes()
    assert proxy.requests("AbortMultipartUpload") == []
    assert not state.exists()


def test_an_interrupt_while_create_is_in_flight_aborts_the_upload_s3_created(
        tmp_path, proxy, proxied_client, s3_direct, bucket):
    """Class: an interrupt during Create whose answer comes in time: the upload S3 created is
    aborted, and the message says so."""
    path = random_file(tmp_path, 11 * MiB)
    proxy.reset(_interrupt_main_when("CreateMultipartUpload", "hold_response"))
    config = TransferConfig(concurrency=2, interrupt_seconds=5.0, **FAST)
    with pytest.raises(UploadInterrupted) as caught:
        upload_file(proxied_client, path, bucket, "create.bin", config=config,
                    state_path=tmp_path / "c.json",
                    notify=lambda line: proxy.release() if "waiting" in line else None)
    assert open_multipart_uploads(s3_direct, bucket) == []
    assert len(proxy.requests("AbortMultipartUpload")) == 1
    assert "aborted" in caught.value.message and caught.value.outcome == NOT_STORED


def test_an_interrupt_while_create_is_unanswered_reports_an_upload_possibly_left_open(
        tmp_path, proxy, proxied_client, s3_direct, bucket):
    """Class: an interrupt during Create, no answer in time. It must not claim "nothing was
    created": it says an upload may be open, and how to list and end it."""
    path = random_file(tmp_path, 11 * MiB)
    proxy.reset(_interrupt_main_when("CreateMultipartUpload", "hold_response"))
    config = TransferConfig(concurrency=2, interrupt_seconds=0.5, **FAST)
    with pytest.raises(UploadInterrupted) as caught:
        upload_file(proxied_client, path, bucket, "open.bin", config=config, state_path=tmp_path / "o.json")
    proxy.release()
    assert "may have been left open" in caught.value.message
    assert "securestore uploads abort --key open.bin" in caught.value.message
    assert caught.value.kept and caught.value.outcome == KEPT


def _kept_upload(tmp_path, proxy, client, bucket, key, path, state):
    """What an earlier run leaves: parts 1-2 sent and journalled, the upload kept (exit 75)."""
    proxy.reset(lambda r: "error_500" if r.operation == "UploadPart" and r.part_number >= 3 else "forward")
    with pytest.raises(TemporaryTransferError):
        upload_file(client, path, bucket, key, state_path=state, config=TransferConfig(
            concurrency=1, retry_for_seconds=0.2, **FAST))
    proxy.reset()


@pytest.mark.parametrize("other", ["another-file", "another-key", "another-file-and-key"])
@pytest.mark.parametrize("resume", [True, False])
def test_a_state_file_of_another_upload_is_refused_naming_it_and_left_alone(
        tmp_path, proxy, proxied_client, s3_direct, bucket, other, resume):
    """Class: two uploads sharing one state file. The second is refused naming the first's file
    and key; the first's multipart upload is not aborted and its journal is intact."""
    first = random_file(tmp_path, 16 * MiB, "first.bin")
    state = tmp_path / "shared.state.json"
    _kept_upload(tmp_path, proxy, proxied_client, bucket, "first.bin", first, state)
    journal = state.read_text()
    second = random_file(tmp_path, 16 * MiB, "second.bin") if "file" in other else first
    key = "second.bin" if "key" in other else "first.bin"
    with pytest.raises(StateFileConflictError) as caught:
        upload_file(proxied_client, second, bucket, key, config=CONFIG, state_path=state, resume=resume)
    message = str(caught.value)
    assert f"{first} to s3://{bucket}/first.bin" in message and str(state) in message
    assert proxy.requests("AbortMultipartUpload") == [] and proxy.requests("CreateMultipartUpload") == []
    assert len(open_multipart_uploads(s3_direct, bucket)) == 1
    assert state.read_text() == journal


def test_a_running_upload_holding_the_state_file_is_named_by_its_own_file(
        tmp_path, proxy, proxied_client, bucket):
    """Class: two uploads sharing one state file at the same time. The refusal names the file
    the running process uploads, not the refused one's."""
    first = random_file(tmp_path, 11 * MiB, "running.bin")
    second = random_file(tmp_path, 11 * MiB, "refused.bin")
    state = tmp_path / "busy.state.json"
    proxy.reset(lambda r: "hang" if r.operation == "UploadPart" else "forward")
    env = {**os.environ, **CREDENTIALS, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    process = subprocess.Popen(
        [sys.executable, "-m", "securestore.cli", "upload", str(first), "--key", "running.bin",
         "--bucket", bucket, "--endpoint-url", proxy.endpoint_url, "--region", REGION,
         "--part-size", "5MiB", "--state-file", str(state)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proxy.hanging.wait(60), "the first upload never started a part"
        with pytest.raises(Exception) as caught:
            upload_file(proxied_client, second, bucket, "refused.bin", config=CONFIG, state_path=state)
        assert f"pid {process.pid}" in str(caught.value)
        assert str(first) in str(caught.value) and str(second) not in str(caught.value)
    finally:
        process.kill()
        process.wait()
        proxy.release()


def _rewrite(path, offset: int, data: bytes) -> None:
    """Change bytes in place, then put the size and modification time back as they were."""
    before = os.stat(path)
    with open(path, "r+b") as handle:
        handle.seek(offset)
        handle.write(data)
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert os.stat(path).st_size == before.st_size


@pytest.mark.parametrize("change", ["part-1", "part-2-one-byte", "all", "tail-of-part-1"])
def test_resume_after_the_source_was_replaced_at_the_same_size_and_time_stores_the_new_content(
        tmp_path, proxy, proxied_client, s3_direct, bucket, change):
    """Class: a source replaced by another of the same size and modification time between two
    runs (a restore, a copy with -p). Resume re-checks every journalled part by content."""
    path = random_file(tmp_path, 16 * MiB)
    state = tmp_path / "replaced.state.json"
    _kept_upload(tmp_path, proxy, proxied_client, bucket, "replaced.bin", path, state)
    edits = {"part-1": (0, os.urandom(5 * MiB)), "part-2-one-byte": (5 * MiB + 7, b"\x00"),
             "all": (0, os.urandom(16 * MiB)), "tail-of-part-1": (5 * MiB - 3, os.urandom(3))}
    offset, data = edits[change]
    if change == "part-2-one-byte":
        data = bytes([path.read_bytes()[offset] ^ 0xFF])
    _rewrite(path, offset, data)
    lines = []
    result = upload_file(proxied_client, path, bucket, "replaced.bin", config=CONFIG, state_path=state,
                         notify=lines.append)
    assert _stored_bytes(s3_direct, bucket, "replaced.bin") == path.read_bytes()
    assert result.verified
    assert any("sent again" in line and str(state) in line for line in lines)
    assert open_multipart_uploads(s3_direct, bucket) == []


def test_resume_after_an_earlier_complete_took_effect_reports_stored_without_uploading_again(
        tmp_path, proxy, proxied_client, s3_direct, bucket):
    """Class: the last answer lost, then the process died (kill -9 during Complete). The next
    run finds the upload gone and the object at the key with the journalled parts' checksum:
    stored, and no part is sent again."""
    path = random_file(tmp_path, 11 * MiB)
    state = tmp_path / "earlier.state.json"
    proxy.reset(lambda r: "drop_response" if r.operation == "CompleteMultipartUpload" else "forward")
    config = TransferConfig(concurrency=2, retry_for_seconds=0.2, **FAST)
    with pytest.raises(Exception):
        # every Complete answer lost, and checks refused: the run can only keep the upload
        proxy.reset(lambda r: "drop_response" if r.operation in (
            "CompleteMultipartUpload", "ListParts", "HeadObject") else "forward")
        upload_file(proxied_client, path, bucket, "earlier.bin", config=config, state_path=state)
    assert state.exists() and open_multipart_uploads(s3_direct, bucket) == []
    proxy.reset()
    result = upload_file(proxied_client, path, bucket, "earlier.bin", config=CONFIG, state_path=state)
    assert proxy.requests("UploadPart") == [] and proxy.requests("CreateMultipartUpload") == []
    assert not state.exists()
    assert result.verified and result.outcome == STORED
