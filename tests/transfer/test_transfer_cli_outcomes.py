"""The command line says the outcome, every wait and every skipped file, with stable exit statuses.

Classes (through ``securestore upload``/``download``, the fault proxy in front of moto):

* **Silence**: a retry wait prints "retrying (n s of N s): cause" on stderr; an endpoint that
  never answered fails within ``--first-answer-timeout`` (exit 1, naming it). (Before: minutes
  of silence, then exit 75 "run it again".)
* **The last answer lost to SIGTERM**: SIGTERM while Complete is in flight: the object is stored
  and the message says so, with the outcome, exit 130. (Before: "aborted" while it was stored.)
* **Two uploads, one state file**: exit 2, naming the other upload's file.
* **Files a recursive upload cannot send** (FIFOs, dangling links, link loops, links to
  directories, unreadable files): each warned on stderr, the others uploaded, exit 2 as
  ``aws s3 cp`` does. (Before: skipped in silence, exit 0.)
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from securestore.cli import main

try:
    from support.transfer_fixtures import (  # noqa: F401 - fixtures
        CREDENTIALS, REGION, aws_env, bucket, interruptible_by_ctrl_c, moto_endpoint,
        open_multipart_uploads, proxy, random_file, s3_direct, session,
    )
except ImportError:  # pragma: no cover - when tests/ is a package
    from tests.support.transfer_fixtures import (  # noqa: F401
        CREDENTIALS, REGION, aws_env, bucket, interruptible_by_ctrl_c, moto_endpoint,
        open_multipart_uploads, proxy, random_file, s3_direct, session,
    )

ROOT = Path(__file__).resolve().parents[2]
MiB = 1024 * 1024


def _upload(path, key, bucket, endpoint, *extra):
    return main(["upload", str(path), "--key", key, "--bucket", bucket, "--endpoint-url", endpoint,
                 "--region", REGION, "--part-size", "5MiB", "--concurrency", "2", *extra])


def test_a_retry_wait_is_said_on_stderr(tmp_path, proxy, bucket, aws_env, capsys):
    """Class: silence. The wait is said, with its time, budget and cause."""
    path = random_file(tmp_path, 11 * MiB)
    proxy.reset(lambda r: "error_503" if r.operation == "UploadPart" and r.attempt == 1 else "forward")
    assert _upload(path, "said.bin", bucket, proxy.endpoint_url) == 0
    err = capsys.readouterr().err
    assert "securestore upload: retrying (0 s of 180 s): SlowDown" in err
    assert "[stored-and-verified]" in err


@pytest.mark.parametrize("command", ["upload", "download"])
def test_an_endpoint_that_never_answered_fails_within_the_first_answer_timeout(
        tmp_path, aws_env, capsys, command):
    """Class: silence; a typo in the endpoint fails in seconds, exit 1, naming it."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    url = f"http://127.0.0.1:{listener.getsockname()[1]}"
    listener.close()
    path = random_file(tmp_path, 1000)
    started = time.monotonic()
    common = ["--bucket", "bucket", "--endpoint-url", url, "--region", REGION, "--first-answer-timeout", "1s"]
    if command == "upload":
        code = main(["upload", str(path), "--key", "k", *common])
    else:
        code = main(["download", "k", str(tmp_path / "out"), *common])
    err = capsys.readouterr().err
    assert code == 1, err
    assert time.monotonic() - started < 10
    assert f"{url} has not answered" in err


def test_sigterm_while_complete_is_in_flight_reports_the_object_stored(tmp_path, proxy, s3_direct, bucket):
    """Class: the last answer lost to SIGTERM during Complete (a deploy, a supervisor)."""
    path = random_file(tmp_path, 11 * MiB)
    proxy.reset(lambda r: "hold_response" if r.operation == "CompleteMultipartUpload" else "forward")
    env = {**os.environ, **CREDENTIALS, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    process = subprocess.Popen(
        [sys.executable, "-m", "securestore.cli", "upload", str(path), "--key", "term.bin", "--bucket", bucket,
         "--endpoint-url", proxy.endpoint_url, "--region", REGION, "--part-size", "5MiB",
         "--state-file", str(tmp_path / "term.json")],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=interruptible_by_ctrl_c)
    try:
        assert proxy.hanging.wait(60), "Complete never arrived"
        process.send_signal(signal.SIGTERM)
        lines = []
        for line in process.stderr:  # the child says it waits for the answer: then give it
            lines.append(line)
            if "waiting up to" in line:
                proxy.release()
                break
        lines += process.stderr.readlines()
        process.wait(60)
    finally:
        if process.poll() is None:
            process.kill()
        proxy.release()
    err = "".join(lines)
    assert process.returncode == 130, err
    assert "is stored" in err and "[stored-and-verified]" in err
    assert proxy.requests("AbortMultipartUpload") == []
    assert s3_direct.get_object(Bucket=bucket, Key="term.bin")["Body"].read() == path.read_bytes()


def test_a_state_file_of_another_upload_exits_2_naming_it(tmp_path, proxy, s3_direct, bucket, aws_env, capsys):
    """Class: two uploads, one state file."""
    first = random_file(tmp_path, 11 * MiB, "first.bin")
    second = random_file(tmp_path, 11 * MiB, "second.bin")
    state = tmp_path / "shared.json"
    proxy.reset(lambda r: "error_500" if r.operation == "UploadPart" else "forward")
    assert _upload(first, "first.bin", bucket, proxy.endpoint_url, "--state-file", str(state),
                   "--retry-for", "0.2s") == 75
    capsys.readouterr()
    proxy.reset()
    code = _upload(second, "second.bin", bucket, proxy.endpoint_url, "--state-file", str(state), "--resume")
    err = capsys.readouterr().err
    assert code == 2, err
    assert f"{first} to s3://{bucket}/first.bin" in err
    assert len(open_multipart_uploads(s3_direct, bucket)) == 1


def _tree(root: Path) -> dict:
    """Regular files, and one of each kind of entry a recursive upload cannot send."""
    (root / "sub").mkdir(parents=True)
    (root / "a.txt").write_text("a")
    (root / "sub" / "b.txt").write_text("b")
    os.mkfifo(root / "pipe")
    (root / "dangling").symlink_to(root / "nowhere")
    (root / "loop").symlink_to(root / "loop")
    (root / "sub" / "up").symlink_to(root)
    (root / "secret.txt").write_text("s")
    return {"pipe": "FIFO", "dangling": "dangling", "loop": "loop", "sub/up": "link to a directory",
            "secret.txt": "not readable"}


def test_a_recursive_upload_warns_for_each_file_it_cannot_send_and_exits_2(
        tmp_path, s3_direct, bucket, aws_env, capsys, monkeypatch):
    """Class: silence over skipped files. (The unreadable file is made so by ``os.access``:
    these tests may run as root, whom no mode bit stops.)"""
    root = tmp_path / "tree"
    skipped = _tree(root)
    real_access = os.access
    monkeypatch.setattr(os, "access", lambda path, mode, *a, **k: False if str(path).endswith("secret.txt")
                        else real_access(path, mode, *a, **k))
    code = main(["upload", str(root), "--recursive", "--key", "t/", "--bucket", bucket,
                 "--endpoint-url", s3_direct.meta.endpoint_url, "--region", REGION])
    err = capsys.readouterr().err
    assert code == 2, err
    for name, why in skipped.items():
        assert any(f"warning: skipped: {root / name}" in line and why in line for line in err.splitlines()), (name, err)
    keys = sorted(o["Key"] for o in s3_direct.list_objects_v2(Bucket=bucket).get("Contents", []))
    assert keys == ["t/a.txt", "t/sub/b.txt"]
