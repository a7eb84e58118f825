"""Upload throughput: securestore.transfer vs boto3 ``upload_file``, same file, same server.

One run: writes a 256 MiB random file, starts the discard S3 server
(``tests/support/discard_s3.py``, a separate process on loopback that answers the multipart
calls and throws the bytes away, so the server is not what is measured), then uploads the file
with each client in its own fresh process, ``--runs`` times each (alternating), and takes each
client's median. Ours uses its defaults (``TransferConfig()``, ``make_s3_client``); boto3 uses a
plain ``boto3.client('s3')`` and ``upload_file`` with its default ``TransferConfig``. The peak
RSS is the largest ``ru_maxrss`` of our upload processes, next to the bound the issue sets
(``concurrency × part size + 64 MiB``).

``--explore`` first measures a few alternative settings of ours (the figures behind the
defaults). The last line is the figure:
``upload 256 MiB: ours X MB/s, boto3 Y MB/s, Z.Zx; peak RSS N MiB``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SINK = ROOT / "tests" / "support" / "discard_s3.py"
MiB = 1024 * 1024
FILE_SIZE = 256 * MiB
BUCKET = "bench"
MB = 1_000_000
RSS_SLACK = 64 * MiB


def _own_peak_rss() -> int:
    """This process's peak RSS in bytes: VmHWM, which (unlike ru_maxrss) does not include the
    parent's peak that Linux carries over exec."""
    try:
        with open("/proc/self/status") as status:
            return next(int(line.split()[1]) * 1024 for line in status if line.startswith("VmHWM:"))
    except (OSError, StopIteration):
        import resource

        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


class _CopyingClient:
    """What most uploaders do: each part body as a fresh ``bytes`` (botocore then also joins it
    to the request head, a second copy). Used only to measure what avoiding that saves."""

    def __init__(self, client) -> None:
        self._client = client

    def upload_part(self, **params):
        return self._client.upload_part(**{**params, "Body": bytes(params["Body"])})

    def __getattr__(self, name):
        return getattr(self._client, name)


def _cpu_seconds(resource) -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _child(argv: list[str]) -> int:
    """Run one upload in this (fresh) process and print its figures as JSON."""
    import resource

    parser = argparse.ArgumentParser()
    parser.add_argument("--child", required=True)
    parser.add_argument("--endpoint", required=True)
    parser.add_argument("--file", required=True)
    parser.add_argument("--part-size-mib", type=int, default=0)
    parser.add_argument("--concurrency", type=int, default=0)
    parser.add_argument("--sign-payload", action="store_true")
    parser.add_argument("--copy-bodies", action="store_true")
    args = parser.parse_args(argv)
    import boto3

    session = boto3.session.Session(aws_access_key_id="bench", aws_secret_access_key="bench")
    if args.child == "boto3":
        from botocore.config import Config

        client = session.client("s3", region_name="us-east-1", endpoint_url=args.endpoint,
                                config=Config(signature_version="s3v4"))
        started = time.perf_counter()
        cpu_before = _cpu_seconds(resource)
        client.upload_file(args.file, BUCKET, "boto3.bin")
        seconds = time.perf_counter() - started
        cpu = _cpu_seconds(resource) - cpu_before
        part_size, concurrency = 8 * MiB, 10
    else:
        from securestore.transfer import TransferConfig, make_s3_client, transfer_client_config, upload_file

        defaults = TransferConfig()
        config = TransferConfig(part_size=(args.part_size_mib * MiB) or defaults.part_size,
                                concurrency=args.concurrency or defaults.concurrency)
        client = make_s3_client(session, region_name="us-east-1", endpoint_url=args.endpoint,
                                concurrency=config.concurrency)
        if args.sign_payload:
            client_config = transfer_client_config(config.concurrency).merge(
                __import__("botocore.config").config.Config(s3={"payload_signing_enabled": True}))
            client = session.client("s3", region_name="us-east-1", endpoint_url=args.endpoint,
                                    config=client_config)
        if args.copy_bodies:
            client = _CopyingClient(client)
        cpu_before = _cpu_seconds(resource)
        result = upload_file(client, args.file, BUCKET, "ours.bin", config=config)
        seconds = result.seconds
        cpu = _cpu_seconds(resource) - cpu_before
        part_size, concurrency = result.part_size, config.concurrency
    peak = _own_peak_rss()
    print(json.dumps({"seconds": seconds, "cpu_seconds": cpu, "peak_rss": peak, "part_size": part_size,
                      "concurrency": concurrency}))
    return 0


def _run_child(kind: str, endpoint: str, path: str, *extra: str) -> dict:
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    output = subprocess.run(
        [sys.executable, __file__, "--child", kind, "--endpoint", endpoint, "--file", path, *extra],
        check=True, capture_output=True, text=True, env=env).stdout
    return json.loads(output.strip().splitlines()[-1])


def _rate(seconds: float) -> float:
    return FILE_SIZE / MB / seconds


def main() -> int:
    if "--child" in sys.argv:
        return _child(sys.argv[1:])
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="uploads per client (median taken)")
    parser.add_argument("--explore", action="store_true", help="also measure alternative settings")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="securestore-bench-") as workdir:
        path = os.path.join(workdir, "payload.bin")
        with open(path, "wb") as handle:
            for _ in range(FILE_SIZE // (16 * MiB)):
                handle.write(os.urandom(16 * MiB))
        sink = subprocess.Popen([sys.executable, str(SINK)], stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, text=True)
        try:
            port = int(sink.stdout.readline().split()[1])
            endpoint = f"http://127.0.0.1:{port}"
            _run_child("ours", endpoint, path)  # warm the page cache and the interpreter's caches
            if args.explore:
                variants = [("8MiB x 4, payload SHA-256 signed", ["--sign-payload"]),
                            ("8MiB x 4, part bodies copied to bytes", ["--copy-bodies"]),
                            ("8MiB x 2", ["--part-size-mib", "8", "--concurrency", "2"]),
                            ("8MiB x 8", ["--part-size-mib", "8", "--concurrency", "8"]),
                            ("16MiB x 4", ["--part-size-mib", "16", "--concurrency", "4"]),
                            ("32MiB x 4", ["--part-size-mib", "32", "--concurrency", "4"])]
                for label, extra in variants:
                    figures = [_run_child("ours", endpoint, path, *extra) for _ in range(args.runs)]
                    rate = statistics.median(_rate(f["seconds"]) for f in figures)
                    peak = max(f["peak_rss"] for f in figures) / MiB
                    cpu = statistics.median(f["cpu_seconds"] for f in figures)
                    print(f"variant {label}: {rate:.0f} MB/s, client CPU {cpu:.2f}s, "
                          f"peak RSS {peak:.0f} MiB", flush=True)
            ours, theirs = [], []
            for _ in range(args.runs):
                ours.append(_run_child("ours", endpoint, path))
                theirs.append(_run_child("boto3", endpoint, path))
        finally:
            sink.stdin.close()
            sink.wait(timeout=10)

    ours_rate = statistics.median(_rate(f["seconds"]) for f in ours)
    boto3_rate = statistics.median(_rate(f["seconds"]) for f in theirs)
    peak = max(f["peak_rss"] for f in ours)
    bound = ours[0]["concurrency"] * ours[0]["part_size"] + RSS_SLACK
    cpu_ours = statistics.median(f["cpu_seconds"] for f in ours)
    cpu_boto3 = statistics.median(f["cpu_seconds"] for f in theirs)
    print(f"runs: ours {[round(_rate(f['seconds'])) for f in ours]} MB/s, "
          f"boto3 {[round(_rate(f['seconds'])) for f in theirs]} MB/s; client CPU per upload "
          f"(user+sys, median): ours {cpu_ours:.2f}s, boto3 {cpu_boto3:.2f}s; "
          f"RSS bound {ours[0]['concurrency']} x {ours[0]['part_size'] // MiB} MiB + 64 MiB = "
          f"{bound // MiB} MiB")
    print(f"upload 256 MiB: ours {ours_rate:.0f} MB/s, boto3 {boto3_rate:.0f} MB/s, "
          f"{ours_rate / boto3_rate:.1f}x; peak RSS {peak / MiB:.0f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
