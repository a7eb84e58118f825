"""Ctrl-C and SIGTERM end an upload within 10 s whatever the network does, and say the truth.

The class: an interrupt while S3 cannot be reached (a blackholed network, a stuck request).
systemd and Kubernetes send SIGKILL 30 s or less after SIGTERM, so the process must stop
promptly; if the abort cannot be confirmed in that time, the upload and its journal are kept
and the message says so, with the resume command. A second Ctrl-C stops waiting at once.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from securestore.transfer import MiB
from securestore.transfer.resume import UploadJournal

try:
    from support.transfer_fixtures import (  # noqa: F401 - fixtures
        CREDENTIALS, REGION, aws_env, bucket, interruptible_by_ctrl_c, moto_endpoint,
        open_multipart_uploads, proxied_client, proxy, random_file, s3_direct, session,
    )
except ImportError:  # pragma: no cover - when tests/ is a package
    from tests.support.transfer_fixtures import (  # noqa: F401
        CREDENTIALS, REGION, aws_env, bucket, interruptible_by_ctrl_c, moto_endpoint,
        open_multipart_uploads, proxied_client, proxy, random_file, s3_direct, session,
    )

ROOT = Path(__file__).resolve().parents[2]
PROMISED_EXIT_SECONDS = 10


def _wait_for(condition, what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.01)


def _start(path, bucket, key, endpoint, state_file):
    env = {**os.environ, **CREDENTIALS,
           "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    return subprocess.Popen(
        [sys.executable, "-m", "securestore.cli", "upload", str(path), "--key", key, "--bucket", bucket,
         "--endpoint-url", endpoint, "--region", REGION, "--part-size", "5MiB", "--concurrency", "2",
         "--resume", "--state-file", str(state_file)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        preexec_fn=interruptible_by_ctrl_c)


def _blackhole_after_part_1(request):
    """Part 1 goes through; then every request (other parts, the abort) hangs unanswered."""
    if request.operation in ("CreateMultipartUpload",) or \
            (request.operation == "UploadPart" and request.part_number == 1):
        return "forward"
    return "hang"


def test_sigterm_with_the_network_blackholed_exits_within_10s_keeping_upload_and_journal(
        tmp_path, proxy, s3_direct, bucket):
    """(Before: one SIGTERM took the grace period plus an abort retried against 60 s timeouts,
    and the journal was deleted although the upload stayed open.)"""
    path = random_file(tmp_path, 21 * MiB)
    state = tmp_path / "term.state.json"
    proxy.reset(_blackhole_after_part_1)
    process = _start(path, bucket, "term.bin", proxy.endpoint_url, state)
    try:
        _wait_for(lambda: len(UploadJournal(state).load().parts) == 1 if state.exists()
                  and UploadJournal(state).load() else False, "part 1 to be journalled")
        _wait_for(proxy.hanging.is_set, "a request to hang")
        sent = time.monotonic()
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=60)
        took = time.monotonic() - sent
    finally:
        if process.poll() is None:
            process.kill()
        proxy.release()
    assert took < PROMISED_EXIT_SECONDS, f"exit took {took:.1f}s"
    assert process.returncode == 130, err
    assert "not confirmed" in err and "kept" in err and "--resume" in err
    assert "was aborted" not in err
    assert UploadJournal(state).load().parts.keys() == {1}
    assert len(open_multipart_uploads(s3_direct, bucket)) == 1


def test_a_second_ctrl_c_while_the_abort_is_stuck_exits_at_once_keeping_the_journal(
        tmp_path, proxy, s3_direct, bucket):
    """(Before: exit 130 saying "the multipart upload (if any) was aborted" although it was
    still open and the journal was gone.)"""
    path = random_file(tmp_path, 21 * MiB)
    state = tmp_path / "twice.state.json"
    proxy.reset(_blackhole_after_part_1)
    process = _start(path, bucket, "twice.bin", proxy.endpoint_url, state)
    try:
        _wait_for(proxy.hanging.is_set, "a request to hang")
        process.send_signal(signal.SIGINT)
        _wait_for(lambda: proxy.requests("AbortMultipartUpload"), "the abort to be sent")
        sent = time.monotonic()
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=60)
        took = time.monotonic() - sent
    finally:
        if process.poll() is None:
            process.kill()
        proxy.release()
    assert took < 2, f"the second Ctrl-C took {took:.1f}s to end the process"
    assert process.returncode == 130, err
    assert "was aborted" not in err and "kept" in err
    assert state.exists()
    assert len(open_multipart_uploads(s3_direct, bucket)) == 1


def test_ctrl_c_with_a_working_network_aborts_and_says_so(tmp_path, proxy, s3_direct, bucket):
    """The other half of the truth: when S3 confirms the abort, nothing is left and the
    message says aborted."""
    path = random_file(tmp_path, 21 * MiB)
    state = tmp_path / "abort.state.json"

    def hold_part_2(request):
        return "hang" if request.operation == "UploadPart" and request.part_number == 2 else "forward"

    proxy.reset(hold_part_2)
    process = _start(path, bucket, "abort.bin", proxy.endpoint_url, state)
    try:
        _wait_for(proxy.hanging.is_set, "part 2 to hang")
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
        proxy.release()
    assert process.returncode == 130, err
    assert "was aborted" in err
    assert not state.exists()
    assert open_multipart_uploads(s3_direct, bucket) == []
