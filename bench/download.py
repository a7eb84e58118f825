"""Download throughput: securestore.transfer vs boto3 (default and HTTPS-equivalent) vs one curl GET.

One run writes a random file (1 GiB by default) and starts the discard S3 server
(``tests/support/discard_s3.py``) serving it read-only as an object our uploader would have
made: a composite CRC32C over 8 MiB parts, a multipart ETag and the part-size metadata. The
server answers every GET with ``os.sendfile`` from the page cache, so it costs no copy and is
the same for everyone. Each client then downloads the object ``--rounds`` times, interleaved,
each download in a fresh process (``bench/transfer_common.py`` says which clients and why).

What each client does with the bytes differs, and the figures include it:

* ours: ranged GETs of the object's parts (8 MiB x 4), each hashed with CRC32C as it streams
  into a temporary file, the composite compared with the stored one, then fsync and an atomic
  rename into place;
* boto3 (``download_file``): ranged GETs (8 MiB x 10 by default, 8 MiB x 4 HTTPS-equivalent)
  into a temporary file, renamed into place; it verifies nothing (S3 returns no checksum for a
  ranged GET, and botocore skips composite checksums), which is how it behaves over HTTPS too;
* curl: one GET into the destination file.

The destinations live on ``--dest-dir`` (default ``/dev/shm`` when it exists: RAM, so that the
disk, which is the same for everyone, does not hide the clients' own costs; ours' fsync is then
nearly free, on a disk it is not). The last line is the figure:
``download 1 GiB: ours X MB/s, boto3-https-equivalent Y MB/s, Z.Zx; limit L MB/s (ours/limit R); peak RSS N MiB``.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import transfer_common as common  # noqa: E402
from transfer_common import BUCKET, MiB  # noqa: E402

KEY = "object.bin"


def _child(argv: list[str]) -> int:
    """Run one download in this (fresh) process and print its figures as JSON."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--child", required=True)
    parser.add_argument("--endpoint", required=True)
    parser.add_argument("--dest", required=True)
    parser.add_argument("--size", type=int, required=True)
    args = parser.parse_args(argv)
    if args.child.startswith("boto3"):
        client, transfer = common.boto3_client(args.child, args.endpoint)
        cpu_before, started = common.cpu_seconds(), time.perf_counter()
        client.download_file(BUCKET, KEY, args.dest, Config=transfer)
        seconds = time.perf_counter() - started
        extra = {"part_size": transfer.multipart_chunksize, "concurrency": transfer.max_concurrency}
    else:
        from securestore.transfer import TransferConfig, download_file, make_s3_client

        config = TransferConfig()
        client = make_s3_client(common.session(), region_name="us-east-1", endpoint_url=args.endpoint,
                                concurrency=config.concurrency)
        cpu_before, started = common.cpu_seconds(), time.perf_counter()
        result = download_file(client, BUCKET, KEY, args.dest, config=config)
        seconds = time.perf_counter() - started
        if result.checksum_algorithm != "crc32c":
            raise SystemExit(f"ours did not verify the download: {result}")
        extra = {"part_size": config.part_size, "concurrency": config.concurrency}
    size = os.path.getsize(args.dest)
    if size != args.size:
        raise SystemExit(f"{args.child} wrote {size} bytes, expected {args.size}")
    common.child_report(seconds, common.cpu_seconds() - cpu_before, **extra)
    return 0


def main() -> int:
    if "--child" in sys.argv:
        return _child(sys.argv[1:])
    parser = common.transfer_parser(__doc__, "downloads")
    parser.add_argument("--dest-dir", default="/dev/shm" if os.path.isdir("/dev/shm") else None,
                        help="where the downloaded files go (default /dev/shm)")
    parser.add_argument("--only", default=",".join(common.CLIENTS),
                        help="comma-separated clients to run (default: all four)")
    parser.add_argument("--baseline", metavar="DIR",
                        help="also run ours from another checkout (before/after in one run)")
    args = parser.parse_args()
    common.apply_quick(args)
    size = args.size_mib * MiB
    clients = tuple(kind for kind in common.CLIENTS if kind in args.only.split(","))
    if args.baseline:
        clients += (common.BASELINE,)
    print(f"download {args.size_mib} MiB into {args.dest_dir or tempfile.gettempdir()}, {args.rounds} "
          f"rounds, load average {common.load_average()}", flush=True)

    with tempfile.TemporaryDirectory(prefix="securestore-bench-") as workdir, \
            tempfile.TemporaryDirectory(prefix="securestore-bench-dest-", dir=args.dest_dir) as destdir:
        source = os.path.join(workdir, "object.bin")
        common.write_payload(source, size)
        expected = common.file_digest(source) if args.quick else None
        with common.Sink("--serve", f"{BUCKET}/{KEY}={source}") as sink:
            script = os.path.abspath(__file__)

            def measure(kind: str) -> dict:
                dest = os.path.join(destdir, f"{kind}.bin")
                try:
                    if kind == "curl":
                        figures = common.run_curl(["-o", dest, f"{sink.endpoint}/{BUCKET}/{KEY}"])
                    else:
                        figures = common.run_child(
                            script, kind, sink.endpoint, "--dest", dest, "--size", str(size),
                            root=args.baseline if kind == common.BASELINE else None)
                    if expected is not None and common.file_digest(dest) != expected:
                        raise SystemExit(f"MISMATCH: {kind} wrote other bytes than the object's")
                finally:
                    if os.path.exists(dest):
                        os.unlink(dest)
                return figures

            for kind in () if args.quick else clients:  # warm the page cache and the interpreter's caches
                measure(kind)
            results = common.interleave(args.rounds, measure, clients)

    medians = common.summarize(size, results)
    label = f"{args.size_mib // 1024} GiB" if args.size_mib % 1024 == 0 else f"{args.size_mib} MiB"
    print(common.cpu_line(results))
    print(f"load average after: {common.load_average()}")
    if "ours" not in medians:
        return 0
    ours = medians["ours"]
    peak = max(f["peak_rss"] for f in results["ours"])
    print(f"ours/boto3-default {ours / medians.get('boto3-default', float('nan')):.2f}x")
    reference = medians.get("boto3-https-equivalent", float("nan"))
    limit = medians.get("curl", float("nan"))
    if args.quick:
        print("identical bytes: every client's file has the object's SHA-256")
    print(f"download {label}: ours {ours:.0f} MB/s, boto3-https-equivalent {reference:.0f} MB/s, "
          f"{ours / reference:.1f}x; limit {limit:.0f} MB/s (ours/limit {ours / limit:.2f}); "
          f"peak RSS {peak / MiB:.0f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
