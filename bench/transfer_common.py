"""What bench/upload.py and bench/download.py share: the payload, the sink, fresh processes, figures.

Each client runs in its own fresh interpreter (``python bench/X.py --child KIND ...``) so that
one client's memory and warm caches never help or hurt another, and prints one JSON line. The
parent interleaves the clients (the order rotates every round), because this machine's 2 cores
are shared and its load drifts within a minute: a client measured only in a quiet minute would
win by luck. Each client's figures are its median and best rate over the rounds.

The three kinds of client, the same in both directions:

* ``ours``: ``securestore.transfer`` at its defaults (``TransferConfig()``, ``make_s3_client``).
* ``boto3-default``: ``boto3.client('s3')`` and ``upload_file``/``download_file`` with boto3's
  default ``TransferConfig`` (8 MiB x 10). Over plain HTTP (this sink) botocore then hashes
  every upload body with SHA-256 for the signature, which it does not do over HTTPS.
* ``boto3-https-equivalent``: boto3 made to do what it does over HTTPS, on this HTTP sink:
  unsigned payloads (``payload_signing_enabled=False``), our checksum algorithm (CRC32C, via
  ``awscrt`` as boto3 itself requires), our part size and concurrency (8 MiB x 4). The ratio the
  issue asks for is against this client.
* ``curl``: one PUT / GET of the whole file to the same sink: no parts, no checksum, no Python;
  the practical limit of one connection here.
"""

from __future__ import annotations

import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable, Optional

ROOT = Path(__file__).resolve().parent.parent
SINK = ROOT / "tests" / "support" / "discard_s3.py"
KiB = 1024
MiB = 1024 * KiB
MB = 1_000_000
BUCKET = "bench"
PART_SIZE = 8 * MiB
CONCURRENCY = 4
RSS_SLACK = 64 * MiB
CLIENTS = ("ours", "boto3-default", "boto3-https-equivalent", "curl")


def own_peak_rss() -> int:
    """This process's peak RSS in bytes: VmHWM, which (unlike ru_maxrss) does not include the
    parent's peak that Linux carries over exec."""
    try:
        with open("/proc/self/status") as status:
            return next(int(line.split()[1]) * 1024 for line in status if line.startswith("VmHWM:"))
    except (OSError, StopIteration):
        import resource

        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def cpu_seconds() -> float:
    import resource

    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def write_payload(path: str, size: int) -> None:
    """``size`` random bytes (incompressible, so nothing on the way can shortcut them)."""
    block = 16 * MiB
    with open(path, "wb") as handle:
        remaining = size
        while remaining:
            count = min(block, remaining)
            handle.write(os.urandom(count))
            remaining -= count


def session():
    import boto3

    return boto3.session.Session(aws_access_key_id="bench", aws_secret_access_key="bench")


def boto3_client(kind: str, endpoint: str):
    """The boto3 client and ``boto3.s3.transfer.TransferConfig`` for a ``boto3-*`` kind."""
    from boto3.s3.transfer import TransferConfig as Boto3TransferConfig
    from botocore.config import Config

    if kind == "boto3-default":
        config = Config(signature_version="s3v4")
        transfer = Boto3TransferConfig(preferred_transfer_client="classic")
    elif kind == "boto3-https-equivalent":
        try:
            import awscrt  # noqa: F401 - botocore's CRC32C needs it
        except ImportError:
            raise SystemExit("boto3-https-equivalent uses CRC32C, which botocore computes with awscrt: "
                             "pip install awscrt") from None
        config = Config(signature_version="s3v4", s3={"payload_signing_enabled": False})
        transfer = Boto3TransferConfig(multipart_threshold=PART_SIZE, multipart_chunksize=PART_SIZE,
                                       max_concurrency=CONCURRENCY, preferred_transfer_client="classic")
    else:
        raise ValueError(kind)
    client = session().client("s3", region_name="us-east-1", endpoint_url=endpoint, config=config)
    return client, transfer


def child_report(seconds: float, cpu: float, **extra) -> None:
    import resource

    faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    print(json.dumps({"seconds": seconds, "cpu_seconds": cpu, "peak_rss": own_peak_rss(),
                      "minor_faults": faults, **extra}))


BASELINE = "ours-baseline"
"""``--baseline DIR``: ours again, importing ``securestore`` from another checkout (e.g. the
commit before a change), in the same interleaved run, for before/after figures."""


def run_child(script: str, kind: str, endpoint: str, *extra: str, root: Optional[str] = None) -> dict:
    env = {**os.environ, "PYTHONPATH": str(root or ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    child_kind = "ours" if kind == BASELINE else kind
    done = subprocess.run([sys.executable, script, "--child", child_kind, "--endpoint", endpoint, *extra],
                          capture_output=True, text=True, env=env)
    if done.returncode != 0:
        raise SystemExit(f"{kind} failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def run_curl(argv: list[str]) -> dict:
    """Time one curl transfer by curl's own clock (its process start is not the transfer)."""
    started = time.perf_counter()
    done = subprocess.run(["curl", "--silent", "--show-error", "--fail", "--write-out",
                           "%{time_total}", *argv], capture_output=True, text=True)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"curl failed: {done.stderr}")
    return {"seconds": float(done.stdout.strip().splitlines()[-1]), "cpu_seconds": 0.0,
            "peak_rss": 0, "wall_seconds": wall}


def transfer_parser(doc: str, what: str) -> "argparse.ArgumentParser":
    """The options every transfer bench has: ``--size-mib`` and ``--rounds`` (of ``what``)."""
    import argparse

    parser = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    parser.add_argument("--size-mib", type=int, default=1024, help="size (default 1024 = 1 GiB)")
    parser.add_argument("--rounds", type=int, default=5, help=f"{what} per client, interleaved")
    parser.add_argument("--quick", action="store_true",
                        help=f"CI: {QUICK_SIZE_MIB} MiB, one round, no warm-up; the bytes are checked")
    return parser


QUICK_SIZE_MIB = 24
"""``--quick``: three 8 MiB parts, enough to exercise multipart, small enough for CI."""


def apply_quick(args) -> None:
    if args.quick:
        args.size_mib, args.rounds = QUICK_SIZE_MIB, 1


def file_digest(path: str) -> str:
    import hashlib

    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(MiB), b""):
            digest.update(chunk)
    return digest.hexdigest()


def composite_crc32c(path: str, part_size: int) -> str:
    """S3's multipart CRC32C of ``path`` in ``part_size`` parts, computed here independently."""
    import base64

    import crc32c

    digests = []
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(part_size), b""):
            digests.append(crc32c.crc32c(chunk).to_bytes(4, "big"))
    return f"{base64.b64encode(crc32c.crc32c(b''.join(digests)).to_bytes(4, 'big')).decode()}-{len(digests)}"


@contextlib.contextmanager
def payload_file(size: int):
    """The path of a random file of ``size`` bytes in a temporary directory (removed after)."""
    with tempfile.TemporaryDirectory(prefix="securestore-bench-") as workdir:
        path = os.path.join(workdir, "payload.bin")
        write_payload(path, size)
        yield path


def curl_put(path: str, endpoint: str) -> dict:
    """One ``curl`` PUT of the whole file to the sink: the single-connection limit of the upload
    benches (``-H 'Expect:'``: no 100-continue round trip, curl at its best)."""
    return run_curl(["--upload-file", path, "-H", "Expect:", "-o", os.devnull,
                     f"{endpoint}/{BUCKET}/curl.bin"])


class Sink:
    """The discard S3 server in its own process (so its CPU is not charged to any client)."""

    def __init__(self, *serve: str) -> None:
        self._process = subprocess.Popen([sys.executable, str(SINK), *serve], stdin=subprocess.PIPE,
                                         stdout=subprocess.PIPE, text=True)
        port = int(self._process.stdout.readline().split()[1])
        self.endpoint = f"http://127.0.0.1:{port}"

    def close(self) -> None:
        self._process.stdin.close()
        self._process.wait(timeout=30)

    def __enter__(self) -> "Sink":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def interleave(rounds: int, measure: Callable[[str], dict],
               clients: tuple[str, ...] = CLIENTS) -> dict[str, list[dict]]:
    """``rounds`` rounds of every client, the order rotated each round."""
    results: dict[str, list[dict]] = {kind: [] for kind in clients}
    for index in range(rounds):
        order = clients[index % len(clients):] + clients[:index % len(clients)]
        for kind in order:
            results[kind].append(measure(kind))
    return results


def rate(size: int, figures: dict) -> float:
    return size / MB / figures["seconds"]


def summarize(size: int, results: dict[str, list[dict]]) -> dict[str, float]:
    """Print every client's rounds, median and best; return the medians (MB/s)."""
    medians = {}
    for kind, figures in results.items():
        rates = [rate(size, f) for f in figures]
        medians[kind] = statistics.median(rates)
        cpu = statistics.median(f["cpu_seconds"] for f in figures)
        rss = max(f["peak_rss"] for f in figures) / MiB
        extra = f", client CPU {cpu:.2f} s (median), peak RSS {rss:.0f} MiB" if kind != "curl" else ""
        if kind == BASELINE and "ours" in results:
            ours = statistics.median(rate(size, f) for f in results["ours"])
            extra += f"; ours/baseline {ours / medians[kind]:.2f}x"
        print(f"{kind:>24}: median {medians[kind]:.0f} MB/s, best {max(rates):.0f} MB/s, "
              f"rounds {[round(r) for r in rates]}{extra}", flush=True)
    return medians


def cpu_line(results: dict[str, list[dict]]) -> str:
    """Client CPU (user+sys of the client process, median): what a client costs, which the
    machine's load moves far less than wall time."""
    cpu = {kind: statistics.median(f["cpu_seconds"] for f in figures)
           for kind, figures in results.items() if kind != "curl"}
    text = ", ".join(f"{kind} {seconds:.2f} s" for kind, seconds in cpu.items())
    if "ours" in cpu and "boto3-https-equivalent" in cpu:
        text += f"; boto3-https-equivalent/ours {cpu['boto3-https-equivalent'] / cpu['ours']:.2f}x"
    return f"client CPU per transfer (median): {text}"


def load_average() -> Optional[str]:
    try:
        return " ".join(f"{value:.1f}" for value in os.getloadavg())
    except OSError:
        return None
