"""Outages and server errors: ridden out within the retry budget, else kept resumable, never lost.

Each test drives the real client through the loopback fault proxy in front of moto and ends with
``list_multipart_uploads``. The classes they stand for:

* an outage (refused or reset connections) shorter than the retry budget: the upload finishes
  byte-identical;
* any transient cause (outage, 5xx, throttling) that outlasts the budget, at any step after the
  multipart upload exists: exit 75, upload and journal kept, and the printed resume command
  finishes it sending only the missing parts;
* ``--resume`` meeting a transient error: it never aborts or forgets the upload it should continue;
* a permanent cause (access denied): the upload is aborted and the journal removed.

moto is only the functional S3 here (it stores parts and lists uploads); nothing in these tests
depends on moto enforcing a security property.
"""

from __future__ import annotations

import base64
import json
import os
import shlex
import subprocess
import sys
import threading
import time
from pathlib import Path

import crc32c
import pytest

from securestore.cli import main
from securestore.transfer import MiB, TransferConfig, upload_file
from securestore.transfer.errors import TemporaryTransferError, TransferError
from securestore.transfer.resume import UploadIdentity, UploadJournal

try:
    from support.fault_proxy import failing
    from support.transfer_fixtures import (  # noqa: F401 - fixtures
        CREDENTIALS, REGION, aws_env, bucket, moto_endpoint, open_multipart_uploads,
        proxied_client, proxy, random_file, s3_direct, session,
    )
except ImportError:  # pragma: no cover - when tests/ is a package
    from tests.support.fault_proxy import failing
    from tests.support.transfer_fixtures import (  # noqa: F401
        CREDENTIALS, REGION, aws_env, bucket, moto_endpoint, open_multipart_uploads,
        proxied_client, proxy, random_file, s3_direct, session,
    )

ROOT = Path(__file__).resolve().parents[2]
SHORT = dict(backoff_base_seconds=0.05, backoff_max_seconds=0.5, retry_for_seconds=2.0)


def _wait_for(condition, what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.01)


def _objects(s3, bucket):
    return [o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]


def test_a_20_second_outage_is_ridden_out_with_the_default_retry_budget(
        tmp_path, proxy, proxied_client, s3_direct, bucket):
    """Class: an outage shorter than the default budget (a Wi-Fi drop). Connections are refused
    for 20 s once the parts are flowing; with the defaults (no --retry-for) the upload must wait
    it out and finish byte-identical. (Before: failed after 5 attempts, ~4 s of backoff.)"""
    path = random_file(tmp_path, 16 * MiB)
    outage_started = []

    def start_outage_at_part_2(request):
        if request.operation == "UploadPart" and request.part_number == 2 and not outage_started:
            outage_started.append(time.monotonic())
            threading.Timer(0.0, proxy.outage, args=(20, "refuse")).start()
            return "reset"
        return "forward"

    proxy.reset(start_outage_at_part_2)
    result = upload_file(proxied_client, path, bucket, "outage.bin",
                         config=TransferConfig(part_size=5 * MiB, concurrency=2, multipart_threshold=5 * MiB))
    assert outage_started and time.monotonic() - outage_started[0] >= 19, "the outage happened"
    assert result.parts == 4
    assert s3_direct.get_object(Bucket=bucket, Key="outage.bin")["Body"].read() == path.read_bytes()
    assert open_multipart_uploads(s3_direct, bucket) == []


def _cli(*argv, env=None, timeout=60):
    environment = {**os.environ, **CREDENTIALS, **(env or {}),
                   "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    return subprocess.run([sys.executable, "-m", "securestore.cli", *argv], env=environment,
                          capture_output=True, text=True, timeout=timeout)


def _printed_command(err: str, label: str) -> list[str]:
    line = next(line for line in err.splitlines() if line.strip().startswith(label))
    return shlex.split(line.split(label, 1)[1])


@pytest.mark.parametrize("mode", ["refuse", "reset"])
def test_an_outage_longer_than_retry_for_keeps_the_upload_and_exits_75_then_resume_finishes(
        tmp_path, proxy, s3_direct, bucket, mode):
    """Class: any transient cause outlasting --retry-for after the upload exists. No --resume
    flag on the first run: the journal is written anyway; the printed resume command then sends
    only the parts that had not completed. (Before: exit 1, journal deleted, upload orphaned.)"""
    path = random_file(tmp_path, 21 * MiB)  # 5 parts of 5 MiB, sent one at a time
    state = tmp_path / "journal.state.json"

    def outage_at_part_3(request):
        if request.operation == "UploadPart" and request.part_number == 3 and request.attempt == 1:
            threading.Timer(0.0, proxy.outage, args=(30, mode)).start()
            return "reset"
        return "forward"

    proxy.reset(outage_at_part_3)
    first = _cli("upload", str(path), "--key", "kept.bin", "--bucket", bucket, "--endpoint-url",
                 proxy.endpoint_url, "--region", REGION, "--part-size", "5MiB", "--concurrency", "1",
                 "--retry-for", "3s", "--state-file", str(state))
    assert first.returncode == 75, first.stderr
    assert "kept" in first.stderr
    assert state.exists(), "the journal is kept"
    uploads = open_multipart_uploads(s3_direct, bucket)
    assert len(uploads) == 1 and proxy.requests("AbortMultipartUpload") == []
    resume = _printed_command(first.stderr, "continue:")
    assert resume[:2] == ["securestore", "upload"] and "--resume" in resume
    assert _printed_command(first.stderr, "give up:")[:3] == ["securestore", "uploads", "abort"]

    proxy.outage(0)  # the network is back
    proxy.reset()
    second = _cli(*resume[1:], "--json")
    assert second.returncode == 0, second.stderr
    assert json.loads(second.stdout)["resumed_parts"] == 2
    assert sorted(r.part_number for r in proxy.requests("UploadPart")) == [3, 4, 5]
    assert s3_direct.get_object(Bucket=bucket, Key="kept.bin")["Body"].read() == path.read_bytes()
    assert open_multipart_uploads(s3_direct, bucket) == []
    assert not state.exists()


def test_a_503_on_every_complete_keeps_the_upload_and_resume_only_completes(
        tmp_path, proxy, proxied_client, s3_direct, bucket):
    """Class: a per-operation 5xx (here CompleteMultipartUpload) after every part is sent: the
    upload is kept with all parts journalled, and the next run sends no part again."""
    path = random_file(tmp_path, 11 * MiB)
    state = tmp_path / "complete.state.json"
    config = TransferConfig(part_size=5 * MiB, concurrency=2, multipart_threshold=5 * MiB, **SHORT)
    proxy.reset(failing("CompleteMultipartUpload", "error_503"))
    with pytest.raises(TemporaryTransferError, match="SlowDown.*kept") as caught:
        upload_file(proxied_client, path, bucket, "complete.bin", config=config, state_path=state)
    assert caught.value.pending.upload_id == open_multipart_uploads(s3_direct, bucket)[0]["UploadId"]
    assert len(UploadJournal(state).load().parts) == 3
    assert proxy.requests("AbortMultipartUpload") == []
    proxy.reset()
    result = upload_file(proxied_client, path, bucket, "complete.bin", config=config, state_path=state)
    assert result.resumed_parts == 3 and proxy.requests("UploadPart") == []
    assert s3_direct.get_object(Bucket=bucket, Key="complete.bin")["Body"].read() == path.read_bytes()
    assert open_multipart_uploads(s3_direct, bucket) == []


def test_access_denied_is_permanent_the_upload_is_aborted_and_the_journal_removed(
        tmp_path, proxy, proxied_client, s3_direct, bucket):
    """Class: a permanent cause. Repeating cannot help, so the upload is aborted at once (no
    retries) and nothing is left to resume."""
    path = random_file(tmp_path, 11 * MiB)
    state = tmp_path / "denied.state.json"
    proxy.reset(failing("UploadPart", "error_403"))
    with pytest.raises(TransferError, match="AccessDenied.*aborted") as caught:
        upload_file(proxied_client, path, bucket, "denied.bin", state_path=state,
                    config=TransferConfig(part_size=5 * MiB, concurrency=1, multipart_threshold=5 * MiB))
    assert not isinstance(caught.value, TemporaryTransferError)
    assert len(proxy.requests("UploadPart")) == 1
    assert len(proxy.requests("AbortMultipartUpload")) == 1
    assert not state.exists()
    assert open_multipart_uploads(s3_direct, bucket) == []


def _partial_upload(s3, bucket, path, key, journal_path):
    """What an earlier run leaves: an open upload with part 1 sent and journalled."""
    upload_id = s3.create_multipart_upload(Bucket=bucket, Key=key, ChecksumAlgorithm="CRC32C")["UploadId"]
    with open(path, "rb") as handle:
        first = handle.read(5 * MiB)
    checksum = base64.b64encode(crc32c.crc32c(first).to_bytes(4, "big")).decode()
    etag = s3.upload_part(Bucket=bucket, Key=key, UploadId=upload_id, PartNumber=1, Body=first,
                          ChecksumCRC32C=checksum)["ETag"]
    status = os.stat(path)
    journal = UploadJournal(journal_path)
    journal.start(UploadIdentity(bucket, key, os.path.abspath(path), status.st_size, status.st_mtime_ns,
                                 5 * MiB, "crc32c"), upload_id)
    journal.record(1, etag, checksum)
    journal.close()
    return upload_id


@pytest.mark.parametrize("fault", ["503 on ListParts", "connections refused"])
def test_resume_during_a_transient_error_never_aborts_or_forgets_the_upload(
        tmp_path, proxy, proxied_client, s3_direct, bucket, fault):
    """Class: --resume meeting any transient error. It may only continue, retry, or start afresh
    when S3 says the upload is gone. (Before: a 503 on ListParts aborted the upload and deleted
    the journal; refused connections deleted the journal and orphaned the upload.)"""
    path = random_file(tmp_path, 12 * MiB)
    journal_path = tmp_path / "resume.state.json"
    upload_id = _partial_upload(s3_direct, bucket, path, "k", journal_path)
    config = TransferConfig(part_size=5 * MiB, concurrency=2, multipart_threshold=5 * MiB, **SHORT)
    if fault == "connections refused":
        proxy.outage(30, "refuse")
    else:
        proxy.reset(failing("ListParts", "error_503"))
    with pytest.raises(TemporaryTransferError):
        upload_file(proxied_client, path, bucket, "k", config=config, state_path=journal_path)
    assert journal_path.exists() and UploadJournal(journal_path).load().upload_id == upload_id
    assert [u["UploadId"] for u in open_multipart_uploads(s3_direct, bucket)] == [upload_id]
    assert proxy.requests("AbortMultipartUpload") == []

    proxy.outage(0)
    proxy.reset()
    result = upload_file(proxied_client, path, bucket, "k", config=config, state_path=journal_path)
    assert result.resumed_parts == 1
    assert s3_direct.get_object(Bucket=bucket, Key="k")["Body"].read() == path.read_bytes()
    assert open_multipart_uploads(s3_direct, bucket) == []
