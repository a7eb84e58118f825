"""Failures injected by a loopback proxy in front of moto: retried, aborted, or resumed.

* a connection dropped in the middle of a part's body is retried and the object is identical;
* a ranged GET cut off mid-body is retried and the download is identical;
* 500s on every UploadPart outlast the retry budget: exit 75, the upload and journal are kept,
  and the printed give-up command removes it;
* ``kill -9`` mid-upload leaves a journal; ``--resume`` finishes byte-identically and sends only
  the parts that had not completed;
* SIGINT mid-upload aborts the multipart upload and exits 130.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from securestore.cli import main
from securestore.transfer import MiB, TransferConfig, download_file, upload_file

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
FAST_RETRIES = dict(backoff_base_seconds=0.01, backoff_max_seconds=0.05)
WAIT_SECONDS = 60


def _wait_for(condition, what: str, timeout: float = WAIT_SECONDS) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


def test_connection_dropped_mid_part_is_retried_and_object_is_identical(
        tmp_path, proxy, proxied_client, s3_direct, bucket):
    path = random_file(tmp_path, 16 * MiB + 5)

    def drop_part_2_once(request):
        if request.operation == "UploadPart" and request.part_number == 2 and request.attempt == 1:
            return "drop_request_body"
        return "forward"

    proxy.reset(drop_part_2_once)
    result = upload_file(proxied_client, path, bucket, "dropped.bin", config=TransferConfig(
        part_size=5 * MiB, concurrency=2, multipart_threshold=5 * MiB, **FAST_RETRIES))
    attempts = [r.attempt for r in proxy.requests("UploadPart") if r.part_number == 2]
    assert attempts == [1, 2], "part 2 was dropped once and sent again"
    assert result.parts == 4
    assert s3_direct.get_object(Bucket=bucket, Key="dropped.bin")["Body"].read() == path.read_bytes()
    assert open_multipart_uploads(s3_direct, bucket) == []


def test_ranged_get_cut_off_mid_body_is_retried_and_download_is_identical(
        tmp_path, proxy, proxied_client, s3_direct, bucket):
    path = random_file(tmp_path, 11 * MiB)
    config = TransferConfig(part_size=5 * MiB, concurrency=2, multipart_threshold=5 * MiB, **FAST_RETRIES)
    upload_file(proxied_client, path, bucket, "cut.bin", config=config)
    cut = []

    def cut_second_range_once(request):
        if request.operation == "GetObject" and request.range and not request.range.startswith("bytes=0-") \
                and not cut:
            cut.append(request.range)
            return "drop_response_body"
        return "forward"

    proxy.reset(cut_second_range_once)
    target = tmp_path / "back.bin"
    download_file(proxied_client, bucket, "cut.bin", target, config=config)
    assert cut, "a ranged GET was cut off"
    assert [r.attempt for r in proxy.requests("GetObject") if r.range == cut[0]] == [1, 2]
    assert target.read_bytes() == path.read_bytes()


def test_persistent_500s_exit_75_keep_the_upload_and_the_give_up_command_removes_it(
        tmp_path, proxy, s3_direct, bucket, aws_env, capsys):
    """Class: a transient cause (5xx) that outlasts the retries. 5xx is the server's trouble, not
    the upload's: the work done is kept for --resume, exit 75, and the printed give-up command
    (``securestore uploads abort``) is what removes it. (Before: exit 1, aborted, journal gone.)"""
    path = random_file(tmp_path, 11 * MiB)
    proxy.reset(lambda r: "error_500" if r.operation == "UploadPart" else "forward")
    code = main(["upload", str(path), "--key", "fails.bin", "--bucket", bucket, "--endpoint-url",
                 proxy.endpoint_url, "--region", REGION, "--part-size", "5MiB",
                 "--concurrency", "2", "--max-attempts", "3"])
    err = capsys.readouterr().err
    assert code == 75, err
    assert "InternalError" in err and "kept" in err
    per_part = {}
    for request in proxy.requests("UploadPart"):
        per_part[request.part_number] = max(per_part.get(request.part_number, 0), request.attempt)
    assert 3 in per_part.values(), "the failing part was tried --max-attempts times"
    assert proxy.requests("AbortMultipartUpload") == []
    assert len(open_multipart_uploads(s3_direct, bucket)) == 1
    give_up = next(line.split("give up:", 1)[1].split() for line in err.splitlines() if "give up:" in line)
    assert give_up[:3] == ["securestore", "uploads", "abort"]
    assert main(give_up[1:]) == 0
    assert open_multipart_uploads(s3_direct, bucket) == []
    assert "fails.bin" not in [o["Key"] for o in s3_direct.list_objects_v2(Bucket=bucket).get("Contents", [])]


def _start_upload(path, bucket, key, endpoint, state_file, *extra):
    env = {**os.environ, **CREDENTIALS,
           "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    return subprocess.Popen(
        [sys.executable, "-m", "securestore.cli", "upload", str(path), "--key", key, "--bucket", bucket,
         "--endpoint-url", endpoint, "--region", REGION, "--part-size", "5MiB", "--concurrency", "1",
         "--resume", "--state-file", str(state_file), *extra],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        preexec_fn=interruptible_by_ctrl_c)


def _hold_part(number):
    def rule(request):
        if request.operation == "UploadPart" and request.part_number == number:
            return "hang"
        return "forward"
    return rule


def test_kill_9_mid_upload_then_resume_completes_byte_identically(tmp_path, proxy, s3_direct, bucket):
    path = random_file(tmp_path, 22 * MiB + 3)  # 5 parts of 5 MiB
    state_file = tmp_path / "upload.state.json"
    proxy.reset(_hold_part(3))
    first = _start_upload(path, bucket, "resumed.bin", proxy.endpoint_url, state_file)
    try:
        _wait_for(proxy.hanging.is_set, "part 3 to be in flight")
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=WAIT_SECONDS)
    finally:
        if first.poll() is None:
            first.kill()
        proxy.release()
    assert first.returncode == -signal.SIGKILL
    uploads = open_multipart_uploads(s3_direct, bucket)
    assert len(uploads) == 1, "kill -9 leaves the multipart upload (nothing could abort it)"
    assert state_file.exists()

    proxy.reset()  # forward everything, fresh log
    second = _start_upload(path, bucket, "resumed.bin", proxy.endpoint_url, state_file, "--json")
    out, err = second.communicate(timeout=WAIT_SECONDS)
    assert second.returncode == 0, err
    summary = json.loads(out)
    assert summary["resumed_parts"] == 2
    assert sorted(r.part_number for r in proxy.requests("UploadPart")) == [3, 4, 5], \
        "only the parts that had not completed are sent again"
    assert proxy.requests("CreateMultipartUpload") == []
    assert s3_direct.get_object(Bucket=bucket, Key="resumed.bin")["Body"].read() == path.read_bytes()
    assert summary["checksum"].endswith("-5")
    assert open_multipart_uploads(s3_direct, bucket) == []
    assert not state_file.exists()


def test_sigint_mid_upload_aborts_and_exits_130(tmp_path, proxy, s3_direct, bucket):
    path = random_file(tmp_path, 16 * MiB)
    state_file = tmp_path / "interrupted.state.json"
    proxy.reset(_hold_part(2))
    process = _start_upload(path, bucket, "interrupted.bin", proxy.endpoint_url, state_file)
    try:
        _wait_for(proxy.hanging.is_set, "part 2 to be in flight")
        process.send_signal(signal.SIGINT)
        time.sleep(0.3)
        proxy.release()  # the part in flight now fails; the worker sees the cancel and stops
        _, err = process.communicate(timeout=WAIT_SECONDS)
    finally:
        if process.poll() is None:
            process.kill()
        proxy.release()
    assert process.returncode == 130, err
    assert "aborted" in err
    assert len(proxy.requests("AbortMultipartUpload")) == 1
    assert open_multipart_uploads(s3_direct, bucket) == []
    assert not state_file.exists()
