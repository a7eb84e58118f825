"""Many small files: ours (``securestore sync``) vs ``aws s3 cp --recursive`` vs ``rclone copy``, then an
unchanged-tree ``sync`` vs ``aws s3 sync``, and our peak RSS at 10,000 and 50,000 files.

One run writes a seeded tree (``--files``, default 10,000 files of 1 to 64 KiB, 100 a directory),
starts the discard S3 sink in its own process (``tests/support/discard_s3.py``: it keeps each
object's metadata, never its bytes, and answers listings and HEADs), and measures:

1. the sink's ceiling: a raw client (one thread, ``--concurrency`` persistent connections driven
   by ``selectors``, unsigned PUTs of the same files, no checksum) in a fresh process: no client
   does better (a thread per connection, as this used to measure, was itself the limit);
2. uploads of the whole tree, each client in its own fresh process to its own empty prefix,
   interleaved (the order rotates every round), best of ``--rounds``:
   ``securestore sync DIR s3://bench/P`` (``--concurrency`` N), ``aws s3 cp --recursive``
   (aws-cli 1.x in ``bench/.venv-awscli``, installed here if missing; its defaults: 10 threads),
   ``rclone copy --transfers N`` (Debian's rclone; remote configured by environment);
3. an unchanged tree: ``securestore sync`` again (its checksum cache warm from its upload, its
   endpoint cache warm from the cold run: the steady state of a nightly job, which then makes
   no botocore client; a cold-cache run is printed too) against ``aws s3 sync`` (which
   compares size and time only), best of ``--rounds``. The uploads of step 2 and the RSS runs
   each start with an empty endpoint cache, so they make the botocore client every time;
4. our peak RSS (VmHWM) for the upload of 10,000 and of 50,000 files (sparse files of the same
   sizes, so the 50,000 tree costs no disk; memory does not depend on the bytes).

Files per second are the tree's file count over each process's wall time, start-up included
(what a user waits for). Every timed run starts with the tree in the page cache (``warm``:
rclone evicts what it read, which made the client after it read from disk). The machine's load average is printed with every phase: this machine
has 2 cores shared with other work. The last line is the figure:
``small files: N files, ours X files/s, aws Y files/s, rclone Z files/s, ours/aws A.Ax,
ours/rclone B.Bx, sync/aws-sync C.Cx; sink ceiling W files/s; RSS 10k M MiB 50k N MiB``.

``--quick``: a few hundred files, ours only, and a correctness check (every file listed by the
sink with its size, an unchanged re-sync copies nothing, with its cache and with an empty one,
which decides every file by HEAD and checksum); for CI.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Optional

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import transfer_common as common  # noqa: E402
from transfer_common import BUCKET, KiB, MiB  # noqa: E402

ROOT = common.ROOT
AWSCLI_VENV = ROOT / "bench" / ".venv-awscli"
AWSCLI_PACKAGE = "awscli"
FILES_PER_DIRECTORY = 100
MIN_SIZE, MAX_SIZE = 1 * KiB, 64 * KiB
SEED = 27
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench",
               "AWS_DEFAULT_REGION": "us-east-1", "AWS_REGION": "us-east-1"}
RSS_COUNTS = (10_000, 50_000)

RSS_CHILD = """
import sys
from securestore.cli import main
code = main(sys.argv[1:])
with open("/proc/self/status") as status:
    peak = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:")) * 1024
print("RSS", code, peak)
"""

RAW_CHILD = r"""
import os, selectors, socket, sys, time
host, port, root, workers = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
paths = iter(sorted(os.path.join(d, n) for d, _, names in os.walk(root) for n in names))
selector = selectors.DefaultSelector()
count = 0
def send(conn):
    path = next(paths, None)
    if path is None:
        selector.unregister(conn); conn.close(); return
    with open(path, "rb") as handle:
        body = handle.read()
    head = f"PUT /bench/raw/{os.path.relpath(path, root)} HTTP/1.1\r\nHost: {host}\r\nContent-Length: {len(body)}\r\n\r\n"
    conn.sendall(head.encode() + body)
started = time.perf_counter()
for _ in range(workers):
    conn = socket.create_connection((host, port))
    conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    selector.register(conn, selectors.EVENT_READ, bytearray())
    send(conn)
while selector.get_map():
    for key, _ in selector.select():
        buffer = key.data
        buffer += key.fileobj.recv(65536)
        end = buffer.find(b"\r\n\r\n")
        if end < 0:
            continue
        length = int([l.split(b":")[1] for l in buffer[:end].split(b"\r\n") if l.lower().startswith(b"content-length")][0])
        if len(buffer) < end + 4 + length:
            continue
        del buffer[:end + 4 + length]
        count += 1
        send(key.fileobj)
print("RAW", count, time.perf_counter() - started)
"""


def write_tree(root: Path, count: int, *, sparse: bool = False) -> int:
    """``count`` files of 1 to 64 KiB (seeded), ``FILES_PER_DIRECTORY`` a directory; returns bytes."""
    rng = random.Random(SEED)
    total = 0
    for index in range(count):
        directory = root / f"d{index // FILES_PER_DIRECTORY:04d}"
        if index % FILES_PER_DIRECTORY == 0:
            directory.mkdir(parents=True, exist_ok=True)
        size = rng.randint(MIN_SIZE, MAX_SIZE)
        path = directory / f"f{index:06d}.bin"
        with open(path, "wb") as handle:
            if sparse:
                handle.truncate(size)
            else:
                handle.write(rng.randbytes(size))
        total += size
    return total


def awscli() -> str:
    """``aws`` from the bench's own virtualenv, made (``pip install awscli``) when missing."""
    aws = AWSCLI_VENV / "bin" / "aws"
    if not aws.exists():
        print(f"installing {AWSCLI_PACKAGE} into {AWSCLI_VENV} ...", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(AWSCLI_VENV)], check=True)
        subprocess.run([str(AWSCLI_VENV / "bin" / "python"), "-m", "pip", "install", "-q", AWSCLI_PACKAGE],
                       check=True)
    return str(aws)


def environment(endpoint: str) -> dict[str, str]:
    env = {**os.environ, **CREDENTIALS,
           "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    # Python's default bytecode cache for every client (as bench/cdk_env.py ENV): this machine
    # sets PYTHONDONTWRITEBYTECODE=1, which no user has; aws-cli's modules were compiled when
    # pip installed them, ours (outside site-packages) would be compiled on every run.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.pop("AWS_PROFILE", None)
    env.pop("AWS_CA_BUNDLE", None)  # plain-HTTP sink; rclone refuses a CA bundle there
    env.update({"RCLONE_CONFIG_SINK_TYPE": "s3", "RCLONE_CONFIG_SINK_PROVIDER": "Other",
                "RCLONE_CONFIG_SINK_ENDPOINT": endpoint, "RCLONE_CONFIG_SINK_ACCESS_KEY_ID": "bench",
                "RCLONE_CONFIG_SINK_SECRET_ACCESS_KEY": "bench", "RCLONE_CONFIG_SINK_REGION": "us-east-1",
                "RCLONE_CONFIG_SINK_FORCE_PATH_STYLE": "true"})
    return env


def warm(tree: Path) -> None:
    """Read every file of the tree, so that each client starts with it in the page cache.

    Why: rclone drops the files it read from the page cache (``fadvise`` DONTNEED, measured
    here: 426 MB cached before ``rclone copy``, 84 MB after), so whichever client ran next read
    the tree from disk (ours: 4.1 s cold against 2.2 s warm), and the interleaving charged
    rclone's clean-up to its successor."""
    for directory, _, names in os.walk(tree):
        for name in names:
            with open(os.path.join(directory, name), "rb") as handle:
                while handle.read(1 << 20):
                    pass


def timed(argv: list[str], env: dict[str, str], tree: Optional[Path] = None) -> float:
    """Wall time of one client process (``tree`` read into the page cache first, untimed)."""
    if tree is not None:
        warm(tree)
    started = time.perf_counter()
    done = subprocess.run(argv, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{argv[0]} {' '.join(argv[1:3])} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return seconds


class Clients:
    """The command line of each client, for an upload (``prefix`` empty) or a re-sync."""

    def __init__(self, tree: Path, endpoint: str, concurrency: int, work: Path) -> None:
        self.tree, self.endpoint, self.concurrency, self.work = tree, endpoint, concurrency, work
        self.env = environment(endpoint)
        self.aws = None

    def ours(self, prefix: str, cache: str) -> list[str]:
        return [sys.executable, "-m", "securestore.cli", "sync", str(self.tree), f"s3://{BUCKET}/{prefix}",
                "--endpoint-url", self.endpoint, "--region", "us-east-1", "--concurrency", str(self.concurrency),
                "--checksum-cache", str(self.work / f"{cache}.sqlite3"), "--quiet"]

    def aws_cp(self, prefix: str) -> list[str]:
        return [self.aws or awscli(), "--endpoint-url", self.endpoint, "s3", "cp", "--recursive", "--quiet",
                str(self.tree), f"s3://{BUCKET}/{prefix}/"]

    def aws_sync(self, prefix: str) -> list[str]:
        return [self.aws or awscli(), "--endpoint-url", self.endpoint, "s3", "sync", "--quiet",
                str(self.tree), f"s3://{BUCKET}/{prefix}/"]

    def rclone(self, prefix: str) -> list[str]:
        return ["rclone", "copy", "--transfers", str(self.concurrency), "--s3-no-check-bucket",
                str(self.tree), f"sink:{BUCKET}/{prefix}"]


def raw_ceiling(tree: Path, endpoint: str, workers: int) -> float:
    host, port = endpoint.removeprefix("http://").split(":")
    done = subprocess.run([sys.executable, "-c", RAW_CHILD, host, port, str(tree), str(workers)],
                          capture_output=True, text=True, check=True)
    _, count, seconds = done.stdout.split()
    return int(count) / float(seconds)


def peak_rss(count: int, endpoint: str, concurrency: int, work: Path) -> int:
    tree = work / f"rss{count}"
    write_tree(tree, count, sparse=True)
    env = {**environment(endpoint), "XDG_CACHE_HOME": str(work / f"xdg-rss{count}")}  # botocore made: the upper bound
    done = subprocess.run([sys.executable, "-c", RSS_CHILD, "sync", str(tree), f"s3://{BUCKET}/rss{count}",
                           "--endpoint-url", endpoint, "--region", "us-east-1", "--concurrency", str(concurrency),
                           "--checksum-cache", str(work / f"rss{count}.sqlite3"), "--quiet"],
                          env=env, capture_output=True, text=True)
    line = done.stdout.strip().splitlines()[-1] if done.stdout.strip() else ""
    if not line.startswith("RSS") or line.split()[1] != "0":
        raise SystemExit(f"RSS run of {count} files failed:\n{done.stderr[-3000:]}")
    shutil.rmtree(tree)
    return int(line.split()[2])


def check_sink(tree: Path, endpoint: str, prefix: str) -> None:
    """Every file of the tree is an object of the same size under ``prefix`` (quick mode)."""
    import boto3

    client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                          aws_access_key_id="bench", aws_secret_access_key="bench")
    listed = {}
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=prefix + "/"):
        listed.update({entry["Key"][len(prefix) + 1:]: entry["Size"] for entry in page.get("Contents", [])})
    local = {p.relative_to(tree).as_posix(): p.stat().st_size for p in tree.rglob("*") if p.is_file()}
    if listed != local:
        missing = sorted(set(local) - set(listed))[:5]
        raise SystemExit(f"quick check failed: {len(listed)} objects listed, {len(local)} files; e.g. {missing}")


def load() -> str:
    return f"load average {common.load_average()}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, default=10_000, help="files in the tree (default 10,000)")
    parser.add_argument("--rounds", type=int, default=3, help="uploads per client, interleaved (default 3)")
    parser.add_argument("--concurrency", type=int, default=8,
                        help="our --concurrency and rclone's --transfers (default 8)")
    parser.add_argument("--quick", action="store_true", help="300 files, ours only, with a correctness check")
    parser.add_argument("--no-rss", action="store_true", help="skip the 10,000/50,000-file RSS runs")
    args = parser.parse_args()
    count = 300 if args.quick else args.files

    with tempfile.TemporaryDirectory(prefix="securestore-small-") as scratch:
        work = Path(scratch)
        tree = work / "tree"
        size = write_tree(tree, count)
        print(f"tree: {count} files, {size / MiB:.1f} MiB, {count // FILES_PER_DIRECTORY + 1} directories; "
              f"concurrency {args.concurrency}; {load()}", flush=True)
        with common.Sink() as sink:
            clients = Clients(tree, sink.endpoint, args.concurrency, work)
            if args.quick:
                seconds = timed(clients.ours("quick", "quick"), clients.env)
                check_sink(tree, sink.endpoint, "quick")
                again = subprocess.run(clients.ours("quick", "quick")[:-1] + ["--json"], env=clients.env,
                                       capture_output=True, text=True)
                summary = json.loads(again.stdout)
                if again.returncode != 0 or summary["copied"] != 0 or summary["skipped"] != count:
                    raise SystemExit(f"quick check failed: unchanged re-sync {summary}")
                cold = subprocess.run(clients.ours("quick", "quick-cold")[:-1] + ["--json"], env=clients.env,
                                      capture_output=True, text=True)
                decided = json.loads(cold.stdout) if cold.returncode == 0 else {}
                if decided.get("copied") != 0 or decided.get("decided_by", {}).get("checksum") != count:
                    raise SystemExit(f"quick check failed: re-sync with an empty checksum cache {decided or cold.stderr}")
                print(f"quick: ours uploaded {count} files in {seconds:.2f}s ({count / seconds:.0f} files/s); "
                      f"every object listed with its size; unchanged re-sync copied 0 of {count} "
                      f"in {summary['seconds']:.2f}s, with an empty checksum cache (every object HEADed) "
                      f"in {decided['seconds']:.2f}s; {load()}")
                return 0
            clients.aws = awscli()
            warm(tree)
            ceiling = max(raw_ceiling(tree, sink.endpoint, args.concurrency) for _ in range(2))
            print(f"sink ceiling (raw unsigned PUTs, {args.concurrency} connections): {ceiling:.0f} files/s; "
                  f"{load()}", flush=True)

            order = ["ours", "aws", "rclone"]
            rates: dict[str, list[float]] = {kind: [] for kind in order}
            for round_index in range(args.rounds):
                rotated = order[round_index % 3:] + order[:round_index % 3]
                for kind in rotated:
                    prefix = f"{kind}-{round_index}"
                    argv = {"ours": lambda: clients.ours(prefix, prefix), "aws": lambda: clients.aws_cp(prefix),
                            "rclone": lambda: clients.rclone(prefix)}[kind]()
                    # each upload with an empty endpoint cache: ours makes its botocore client
                    # every time (the first run of a command); the unchanged syncs below reuse it
                    env = {**clients.env, "XDG_CACHE_HOME": str(work / f"xdg-{prefix}")}
                    seconds = timed(argv, env, tree)
                    rates[kind].append(count / seconds)
                    print(f"  round {round_index + 1} {kind:>6}: {seconds:6.2f}s {count / seconds:7.0f} files/s; "
                          f"{load()}", flush=True)
            best = {kind: max(values) for kind, values in rates.items()}
            for kind in order:
                print(f"upload {kind:>6}: best {best[kind]:.0f} files/s, rounds "
                      f"{[round(r) for r in rates[kind]]}", flush=True)

            sync_times: dict[str, list[float]] = {"ours": [], "aws": []}
            sync_env = {**clients.env, "XDG_CACHE_HOME": str(work / "xdg-sync")}
            cold = timed(clients.ours("ours-0", "cold"), sync_env, tree)
            print(f"  unchanged sync, ours with a cold cache (every object HEADed, every file read): "
                  f"{cold:.2f}s; {load()}", flush=True)
            for round_index in range(args.rounds):
                for kind in (["ours", "aws"] if round_index % 2 == 0 else ["aws", "ours"]):
                    argv = clients.ours("ours-0", "ours-0") if kind == "ours" else clients.aws_sync("aws-0")
                    seconds = timed(argv, sync_env if kind == "ours" else clients.env, tree)
                    sync_times[kind].append(seconds)
                    print(f"  unchanged sync {kind:>4}: {seconds:.2f}s; {load()}", flush=True)
            sync_best = {kind: min(values) for kind, values in sync_times.items()}
            sync_ratio = sync_best["aws"] / sync_best["ours"]
            print(f"unchanged sync: ours best {sync_best['ours']:.2f}s, aws s3 sync best {sync_best['aws']:.2f}s",
                  flush=True)

        rss = {}
        if not args.no_rss:
            with common.Sink() as sink:
                for files in RSS_COUNTS:
                    rss[files] = peak_rss(files, sink.endpoint, args.concurrency, work)
                    print(f"peak RSS, ours syncing {files} files: {rss[files] / MiB:.0f} MiB; {load()}", flush=True)
    rss_text = (f"RSS 10k {rss[10_000] / MiB:.0f} MiB 50k {rss[50_000] / MiB:.0f} MiB" if rss
                else "RSS 10k - MiB 50k - MiB")
    print(f"small files: {count} files, ours {best['ours']:.0f} files/s, aws {best['aws']:.0f} files/s, "
          f"rclone {best['rclone']:.0f} files/s, ours/aws {best['ours'] / best['aws']:.1f}x, "
          f"ours/rclone {best['ours'] / best['rclone']:.1f}x, sync/aws-sync {sync_ratio:.1f}x; "
          f"sink ceiling {ceiling:.0f} files/s; {rss_text}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
