"""``securestore upload - --key K``: a stream goes through the one upload engine.

Class: **a second engine drifting from the first.** stdin had its own multipart loop with no
retries at all: one dropped connection, 500 or throttling answer ended the upload. It now runs
on the file engine (``transfer/stream_upload.py``): the same retries, checksums, lost-answer
checks and aborts; only resuming is impossible (the bytes read are gone), so a transient cause
that outlasts ``--retry-for`` aborts the upload and exits 75. Each case feeds real bytes on the
CLI's stdin, through the fault proxy in front of moto. (Before: exit 1 on every transient fault.)
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

try:
    from support.transfer_fixtures import (  # noqa: F401 - fixtures
        CREDENTIALS, REGION, aws_env, bucket, moto_endpoint, open_multipart_uploads, proxy, s3_direct, session,
    )
except ImportError:  # pragma: no cover - when tests/ is a package
    from tests.support.transfer_fixtures import (  # noqa: F401
        CREDENTIALS, REGION, aws_env, bucket, moto_endpoint, open_multipart_uploads, proxy, s3_direct, session,
    )

ROOT = Path(__file__).resolve().parents[2]
MiB = 1024 * 1024


def _upload_stdin(data: bytes, bucket: str, endpoint: str, *extra: str) -> subprocess.CompletedProcess:
    env = {**os.environ, **CREDENTIALS, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    return subprocess.run(
        [sys.executable, "-m", "securestore.cli", "upload", "-", "--key", "piped.bin", "--bucket", bucket,
         "--endpoint-url", endpoint, "--region", REGION, "--part-size", "5MiB", "--concurrency", "2", *extra],
        input=data, env=env, capture_output=True, timeout=120)


FAULTS = {
    "500-on-part-2": lambda r: "error_500" if r.operation == "UploadPart" and r.part_number == 2 and r.attempt == 1 else "forward",
    "dropped-part-1": lambda r: "drop_request_body" if r.operation == "UploadPart" and r.part_number == 1 and r.attempt == 1 else "forward",
    "throttled-create": lambda r: "error_503" if r.operation == "CreateMultipartUpload" and r.attempt == 1 else "forward",
    "lost-complete-answer": lambda r: "drop_response" if r.operation == "CompleteMultipartUpload" and r.attempt == 1 else "forward",
    "500-on-single-put": lambda r: "error_500" if r.operation == "PutObject" and r.attempt == 1 else "forward",
}


@pytest.mark.parametrize("fault", sorted(FAULTS))
@pytest.mark.parametrize("size", [3 * MiB, 10 * MiB, 11 * MiB + 7])
def test_a_transient_fault_during_a_stdin_upload_is_retried_and_the_bytes_are_stored(
        proxy, s3_direct, bucket, fault, size):
    """A transient fault at any step (single PUT or multipart) is retried, as for a file."""
    data = os.urandom(size)
    proxy.reset(FAULTS[fault])
    done = _upload_stdin(data, bucket, proxy.endpoint_url)
    assert done.returncode == 0, done.stderr.decode()
    assert b"[stored-and-verified]" in done.stderr
    assert s3_direct.get_object(Bucket=bucket, Key="piped.bin")["Body"].read() == data
    assert open_multipart_uploads(s3_direct, bucket) == []


def test_a_transient_cause_outlasting_the_budget_aborts_the_stream_upload_and_exits_75(proxy, s3_direct, bucket):
    """Nothing to resume from a pipe: the upload is aborted (not left open), exit 75."""
    proxy.reset(lambda r: "error_500" if r.operation == "UploadPart" else "forward")
    done = _upload_stdin(os.urandom(11 * MiB), bucket, proxy.endpoint_url, "--retry-for", "0.5s")
    assert done.returncode == 75, done.stderr.decode()
    assert b"cannot be resumed" in done.stderr and b"aborted" in done.stderr
    assert open_multipart_uploads(s3_direct, bucket) == []


def test_a_permanent_refusal_of_a_stream_part_aborts_and_exits_1_with_the_servers_code(proxy, s3_direct, bucket):
    proxy.reset(lambda r: "error:403:AccessDenied" if r.operation == "UploadPart" else "forward")
    done = _upload_stdin(os.urandom(11 * MiB), bucket, proxy.endpoint_url)
    assert done.returncode == 1, done.stderr.decode()
    assert b"AccessDenied" in done.stderr and b"[not-stored-and-cleaned]" in done.stderr
    assert open_multipart_uploads(s3_direct, bucket) == []


@pytest.mark.parametrize("size", [0, 5 * MiB, 10 * MiB])
def test_stdin_of_edge_lengths_is_stored_exactly(proxy, s3_direct, bucket, size):
    """Empty input, and input of exactly one and two parts (the last read finds nothing)."""
    data = os.urandom(size)
    done = _upload_stdin(data, bucket, proxy.endpoint_url)
    assert done.returncode == 0, done.stderr.decode()
    assert s3_direct.get_object(Bucket=bucket, Key="piped.bin")["Body"].read() == data
