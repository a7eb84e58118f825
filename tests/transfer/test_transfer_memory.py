"""Peak memory of an upload stays within concurrency × part size + 64 MiB, whatever the file size.

Each upload runs in a fresh process (the CLI, as a user runs it) against the discard S3 server,
and reports its own ``ru_maxrss``. The files are sparse, so making them costs no disk or time.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(not os.path.exists("/proc/self/status"), reason="needs Linux /proc")

try:
    from support.discard_s3 import DiscardS3Server
    from support.transfer_fixtures import CREDENTIALS
except ImportError:  # pragma: no cover - when tests/ is a package
    from tests.support.discard_s3 import DiscardS3Server
    from tests.support.transfer_fixtures import CREDENTIALS

MiB = 1024 * 1024
ROOT = Path(__file__).resolve().parents[2]
SLACK = 64 * MiB
# VmHWM is this process's own high-water mark. ru_maxrss is not: Linux carries the parent's
# peak over exec (a child of a 400 MiB pytest would report 400 MiB).
CHILD = """
import json, sys
from securestore.cli import main
code = main(sys.argv[1:])
with open("/proc/self/status") as status:
    peak_kib = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
print(json.dumps({"code": code, "peak": peak_kib * 1024}))
"""


@pytest.fixture(scope="module")
def sink():
    with DiscardS3Server() as server:
        yield server


def _peak_upload(tmp_path, sink, file_size, part_size_mib, concurrency) -> int:
    path = tmp_path / f"sparse-{file_size}.bin"
    with open(path, "wb") as handle:
        handle.truncate(file_size)
    env = {**os.environ, **CREDENTIALS,
           "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    completed = subprocess.run(
        [sys.executable, "-c", CHILD, "upload", str(path), "--key", "k", "--bucket", "memory",
         "--endpoint-url", sink.endpoint_url, "--region", "us-east-1",
         "--part-size", f"{part_size_mib}MiB", "--concurrency", str(concurrency)],
        env=env, capture_output=True, text=True, timeout=120)
    report = json.loads(completed.stdout.strip().splitlines()[-1])
    assert report["code"] == 0, completed.stderr
    return report["peak"]


@pytest.mark.parametrize("part_size_mib, concurrency", [(8, 2), (16, 4)])
def test_peak_rss_is_bounded_by_concurrency_times_part_size(tmp_path, sink, part_size_mib, concurrency):
    budget = concurrency * part_size_mib * MiB
    received_before = sink.bytes_received
    peak = _peak_upload(tmp_path, sink, 6 * budget + 3 * MiB + 1, part_size_mib, concurrency)
    assert sink.bytes_received - received_before == 6 * budget + 3 * MiB + 1
    assert peak <= budget + SLACK, f"peak RSS {peak / MiB:.0f} MiB > {(budget + SLACK) / MiB:.0f} MiB"


def test_peak_rss_does_not_grow_with_file_size(tmp_path, sink):
    small = _peak_upload(tmp_path, sink, 40 * MiB, 8, 2)
    large = _peak_upload(tmp_path, sink, 400 * MiB, 8, 2)
    assert large <= 16 * MiB + SLACK
    assert large - small < 8 * MiB, f"{small / MiB:.0f} MiB for 40 MiB, {large / MiB:.0f} MiB for 400 MiB"


def test_part_bodies_reach_the_signer_as_streams_so_no_signer_copies_them(tmp_path, sink):
    """Memory bound, whichever signer botocore picks. Class: a layer between us and the socket
    that copies a body it cannot stream. botocore signs with awscrt whenever that is installed
    (``boto3[crt]``), and that signer wraps every body without ``seek`` in a ``BytesIO``: one more
    part per worker. With bytearray bodies a 1 GiB upload at 8 MiB x 4 peaked at 154 MiB (bound
    96 MiB) in ``bench/upload.py``. awscrt is not a test dependency, so its copy cannot run
    here: this checks, at the signer's door, that every part and single-PUT body is a seekable
    stream, not a bytes-like object (it failed on the bytearray bodies). The parts go through
    botocore here (``direct_parts=False``, the single PUT too); sent directly (``transfer/direct.py``,
    ``transfer/direct_objects.py``) they never reach a botocore signer, and the RSS tests above
    bound that path."""
    import boto3

    from securestore.transfer import TransferConfig, make_s3_client, upload_file

    client = make_s3_client(boto3.session.Session(aws_access_key_id="a", aws_secret_access_key="b"),
                            region_name="us-east-1", endpoint_url=sink.endpoint_url)
    seen = []

    def record(request, **kwargs):
        seen.append((hasattr(request.body, "seek"), isinstance(request.body, (bytes, bytearray, memoryview))))

    client.meta.events.register("before-sign.s3.UploadPart", record)
    client.meta.events.register("before-sign.s3.PutObject", record)
    large, small = tmp_path / "large.bin", tmp_path / "small.bin"
    large.write_bytes(os.urandom(11 * MiB))
    small.write_bytes(b"x" * 1000)
    upload_file(client, large, "memory", "large", config=TransferConfig(part_size=5 * MiB, concurrency=2,
                                                                     direct_parts=False),
                state_path=tmp_path / "journal")
    upload_file(client, small, "memory", "small", config=TransferConfig(direct_parts=False))
    assert seen == [(True, False)] * 4, f"(seekable, bytes-like) per body: {seen}"
