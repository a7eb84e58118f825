"""The source and the journal are each one process's, and a source that changes is never stored.

* Class: a source rewritten in place while it is uploaded (a log being written, an editor
  saving). The parts already sent hold old bytes, the later ones new bytes; completing would
  store a mix and call it success. Here the file is rewritten at the same size with its mtime
  put back, so only the change time gives it away.
* Class: two processes continuing one upload (two cron runs, a user re-running a stuck
  command). They would share one journal, each rewriting it under the other; the second must
  fail at once naming the first.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from securestore.transfer import MiB, TransferConfig, upload_file
from securestore.transfer.errors import FileChangedError, TransferError

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
CONFIG = TransferConfig(part_size=5 * MiB, concurrency=1, multipart_threshold=5 * MiB)


def test_a_source_rewritten_in_place_during_upload_is_aborted_not_stored_as_a_mix(
        tmp_path, proxy, proxied_client, s3_direct, bucket):
    """(Before: the upload succeeded with parts of the old and the new content.)"""
    path = random_file(tmp_path, 15 * MiB)
    state = tmp_path / "changed.state.json"
    original = os.stat(path)

    def rewrite_when_part_2_arrives(request):
        if request.operation == "UploadPart" and request.part_number == 2 and request.attempt == 1:
            with open(path, "r+b") as handle:
                handle.write(os.urandom(15 * MiB))
            os.utime(path, ns=(original.st_atime_ns, original.st_mtime_ns))  # hide it from mtime
        return "forward"

    proxy.reset(rewrite_when_part_2_arrives)
    with pytest.raises(FileChangedError, match="changed while it was being uploaded.*aborted"):
        upload_file(proxied_client, path, bucket, "mixed.bin", config=CONFIG, state_path=state)
    assert proxy.requests("CompleteMultipartUpload") == []
    assert "mixed.bin" not in [o["Key"] for o in s3_direct.list_objects_v2(Bucket=bucket).get("Contents", [])]
    assert open_multipart_uploads(s3_direct, bucket) == []
    assert not state.exists()


def test_a_second_process_on_the_same_journal_fails_at_once_naming_the_first(
        tmp_path, proxy, proxied_client, s3_direct, bucket):
    """(Before: no lock; 2-5 of 8 concurrent resumes failed with FileNotFoundError mid-way.)"""
    path = random_file(tmp_path, 11 * MiB)
    state = tmp_path / "shared.state.json"
    proxy.reset(lambda r: "hang" if r.operation == "UploadPart" else "forward")
    env = {**os.environ, **CREDENTIALS, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    first = subprocess.Popen(
        [sys.executable, "-m", "securestore.cli", "upload", str(path), "--key", "shared.bin",
         "--bucket", bucket, "--endpoint-url", proxy.endpoint_url, "--region", REGION,
         "--part-size", "5MiB", "--resume", "--state-file", str(state)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 30
        while not proxy.hanging.is_set():
            assert time.monotonic() < deadline, "the first upload never started a part"
            time.sleep(0.01)
        started = time.monotonic()
        with pytest.raises(TransferError, match=f"pid {first.pid}"):
            upload_file(proxied_client, path, bucket, "shared.bin", config=CONFIG, state_path=state)
        assert time.monotonic() - started < 2, "failed at once, not after waiting"
        assert len(proxy.requests("CreateMultipartUpload")) == 1, "the second one touched nothing"
    finally:
        first.kill()
        first.wait()
        proxy.release()
    assert state.exists(), "the first process's journal is intact"
    assert len(open_multipart_uploads(s3_direct, bucket)) == 1
