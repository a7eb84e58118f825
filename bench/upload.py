"""Upload throughput: securestore.transfer vs boto3 (default and HTTPS-equivalent) vs one curl PUT.

One run writes a random file (1 GiB by default), starts the discard S3 server
(``tests/support/discard_s3.py``: a separate process on loopback that answers the multipart
calls and throws the bytes away into one reused buffer, so the server is cheap and the same for
everyone), then uploads the file ``--rounds`` times with each client, interleaved, each upload in
a fresh process (see ``bench/transfer_common.py`` for the clients and why). The figure is the
median rate of each client; ``ours`` peak RSS is its largest VmHWM, next to the bound the
README promises (``concurrency x part size + 64 MiB`` = 96 MiB at the defaults).

``--explore`` first measures alternative settings of ours (the figures behind the defaults).
The last line is the figure:
``upload 1 GiB: ours X MB/s, boto3-https-equivalent Y MB/s, Z.Zx; limit L MB/s (ours/limit R); peak RSS N MiB``.

Needs ``curl`` and ``awscrt`` (boto3's CRC32C): ``pip install awscrt``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import transfer_common as common  # noqa: E402
from transfer_common import BUCKET, MiB  # noqa: E402


class _CopyingClient:
    """What most uploaders do: each part body as a fresh ``bytes`` (botocore then also joins it
    to the request head, a second copy). Used only to measure what avoiding that saves."""

    def __init__(self, client) -> None:
        self._client = client

    def upload_part(self, **params):
        body = params["Body"]
        data = bytes(body.read()) if hasattr(body, "read") else bytes(body)
        return self._client.upload_part(**{**params, "Body": data})

    def __getattr__(self, name):
        return getattr(self._client, name)


def _child(argv: list[str]) -> int:
    """Run one upload in this (fresh) process and print its figures as JSON."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--child", required=True)
    parser.add_argument("--endpoint", required=True)
    parser.add_argument("--file", required=True)
    parser.add_argument("--part-size-mib", type=int, default=0)
    parser.add_argument("--concurrency", type=int, default=0)
    parser.add_argument("--sign-payload", action="store_true")
    parser.add_argument("--copy-bodies", action="store_true")
    args = parser.parse_args(argv)
    key = f"{args.child}.bin"
    if args.child.startswith("boto3"):
        client, transfer = common.boto3_client(args.child, args.endpoint)
        extra = {"ChecksumAlgorithm": "CRC32C"} if args.child == "boto3-https-equivalent" else None
        cpu_before, started = common.cpu_seconds(), time.perf_counter()
        client.upload_file(args.file, BUCKET, key, Config=transfer, ExtraArgs=extra)
        seconds = time.perf_counter() - started
        common.child_report(seconds, common.cpu_seconds() - cpu_before,
                            part_size=transfer.multipart_chunksize, concurrency=transfer.max_concurrency)
        return 0
    from botocore.config import Config

    from securestore.transfer import TransferConfig, make_s3_client, transfer_client_config, upload_file

    defaults = TransferConfig()
    config = TransferConfig(part_size=(args.part_size_mib * MiB) or defaults.part_size,
                            concurrency=args.concurrency or defaults.concurrency)
    if args.sign_payload:
        client = common.session().client(
            "s3", region_name="us-east-1", endpoint_url=args.endpoint,
            config=transfer_client_config(config.concurrency).merge(
                Config(s3={"payload_signing_enabled": True})))
    else:
        client = make_s3_client(common.session(), region_name="us-east-1", endpoint_url=args.endpoint,
                                concurrency=config.concurrency)
    if args.copy_bodies:
        client = _CopyingClient(client)
    state = os.path.join(os.path.dirname(args.file), f"journal-{os.getpid()}.json")
    cpu_before, started = common.cpu_seconds(), time.perf_counter()
    result = upload_file(client, args.file, BUCKET, key, config=config, state_path=state)
    seconds = time.perf_counter() - started
    common.child_report(seconds, common.cpu_seconds() - cpu_before, part_size=result.part_size,
                        concurrency=config.concurrency, checksum=result.checksum)
    return 0


def main() -> int:
    if "--child" in sys.argv:
        return _child(sys.argv[1:])
    parser = common.transfer_parser(__doc__, "uploads")
    parser.add_argument("--explore", action="store_true", help="also measure alternative settings of ours")
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
    print(f"upload {args.size_mib} MiB, {args.rounds} rounds, load average {common.load_average()}",
          flush=True)

    with common.payload_file(size) as path:
        with common.Sink() as sink:
            script = os.path.abspath(__file__)

            def measure(kind: str, *extra: str) -> dict:
                if kind == "curl":
                    return common.curl_put(path, sink.endpoint)
                return common.run_child(script, kind, sink.endpoint, "--file", path, *extra,
                                        root=args.baseline if kind == common.BASELINE else None)

            for kind in () if args.quick else clients:  # warm the page cache and the interpreter's caches
                measure(kind)
            if args.explore:
                variants = [("8MiB x 4, payload SHA-256 signed", ["--sign-payload"]),
                            ("8MiB x 4, part bodies copied to bytes", ["--copy-bodies"]),
                            ("8MiB x 2", ["--part-size-mib", "8", "--concurrency", "2"]),
                            ("8MiB x 8", ["--part-size-mib", "8", "--concurrency", "8"]),
                            ("16MiB x 4", ["--part-size-mib", "16", "--concurrency", "4"]),
                            ("16MiB x 2", ["--part-size-mib", "16", "--concurrency", "2"])]
                for label, extra in variants:
                    figures = [measure("ours", *extra) for _ in range(args.rounds)]
                    rates = [common.rate(size, f) for f in figures]
                    cpu = statistics.median(f["cpu_seconds"] for f in figures)
                    print(f"variant {label}: median {statistics.median(rates):.0f} MB/s, best "
                          f"{max(rates):.0f} MB/s, client CPU {cpu:.2f} s, peak RSS "
                          f"{max(f['peak_rss'] for f in figures) / MiB:.0f} MiB", flush=True)
            results = common.interleave(args.rounds, measure, clients)
            if args.quick and "ours" in results:
                first = results["ours"][0]
                expected = common.composite_crc32c(path, first["part_size"])
                if first.get("checksum") != expected:
                    print(f"MISMATCH: ours sent checksum {first.get('checksum')}, the file's is {expected}",
                          file=sys.stderr)
                    return 1
                print(f"identical checksum: ours {expected} = the file's composite CRC32C")

    medians = common.summarize(size, results)
    label = f"{args.size_mib // 1024} GiB" if args.size_mib % 1024 == 0 else f"{args.size_mib} MiB"
    print(common.cpu_line(results))
    print(f"load average after: {common.load_average()}")
    if "ours" not in medians:
        return 0
    ours = medians["ours"]
    first = results["ours"][0]
    bound = first["concurrency"] * first["part_size"] + common.RSS_SLACK
    peak = max(f["peak_rss"] for f in results["ours"])
    print(f"ours: RSS bound {first['concurrency']} x {first['part_size'] // MiB} MiB + 64 MiB = "
          f"{bound // MiB} MiB; ours/boto3-default "
          f"{ours / medians.get('boto3-default', float('nan')):.2f}x")
    reference = medians.get("boto3-https-equivalent", float("nan"))
    limit = medians.get("curl", float("nan"))
    print(f"upload {label}: ours {ours:.0f} MB/s, boto3-https-equivalent {reference:.0f} MB/s, "
          f"{ours / reference:.1f}x; limit {limit:.0f} MB/s (ours/limit {ours / limit:.2f}); "
          f"peak RSS {peak / MiB:.0f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
