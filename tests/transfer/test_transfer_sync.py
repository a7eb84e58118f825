"""``securestore sync``: what is copied, skipped and deleted, both ways, and what it costs per file.

moto (a threaded server on loopback) is the functional S3 here: it lists, stores bytes and
returns full-object checksums. It is not the witness of composite checksums (its HEAD drops the
``-N``; GetObjectAttributes is partial): ``tests/localstack/test_sync_localstack.py`` checks
objects written in parts by boto3/aws-cli's engine and by rclone against LocalStack, which
computes and checks checksums as S3 does. The discard sink (``support/discard_s3.py``) serves
the per-file cost tests (connections, memory), where only the requests matter.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from securestore.transfer import make_s3_client
from securestore.transfer.sync import SyncOptions, sync_down, sync_up
from securestore.transfer.sync_state import ChecksumState
from securestore.transfer.tree import ListingOrderError, LocalFile, RemoteObject, pair, walk_local

try:
    from support.discard_s3 import DiscardS3Server
    from support.transfer_fixtures import *  # noqa: F401,F403 - fixtures
    from support.transfer_fixtures import CREDENTIALS, REGION
except ImportError:  # pragma: no cover - when tests/ is a package
    from tests.support.discard_s3 import DiscardS3Server
    from tests.support.transfer_fixtures import *  # noqa: F401,F403
    from tests.support.transfer_fixtures import CREDENTIALS, REGION

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def client(moto_endpoint, session):
    host, port = moto_endpoint
    return make_s3_client(session, region_name=REGION, endpoint_url=f"http://{host}:{port}", concurrency=4)


@pytest.fixture
def state(tmp_path):
    with ChecksumState(tmp_path / "state" / "checksums.sqlite3") as cache:
        yield cache


def _tree(root: Path, files: dict[str, bytes]) -> Path:
    for relative, data in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return root


def _objects(s3, bucket: str, prefix: str = "") -> dict[str, bytes]:
    found = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for entry in page.get("Contents", []):
            found[entry["Key"][len(prefix):]] = s3.get_object(Bucket=bucket, Key=entry["Key"])["Body"].read()
    return found


def _local(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


# ------------------------------------------------------------------ order and join
def _random_names(rng: random.Random, count: int) -> set[str]:
    alphabet = ["a", "b", "-", ".", "_", "é", "Z", "0", " ", "+", "~", "ü", "中"]
    names = set()
    while len(names) < count:
        depth = rng.randint(1, 3)
        segments = ["".join(rng.choice(alphabet) for _ in range(rng.randint(1, 3))) for _ in range(depth)]
        if not any(segment in (".", "..") for segment in segments):
            names.add("/".join(segments))
    # a file may not also be a directory: drop names that are a prefix-directory of another
    return {n for n in names if not any(other.startswith(n + "/") for other in names)}


@pytest.mark.parametrize("seed", range(5))
def test_the_local_walk_lists_paths_in_s3_key_order(tmp_path, seed):
    """The join is only right if both sides come in the same order: S3 lists keys in UTF-8
    byte order, where ``a-b`` (0x2D) precedes ``a/x`` (0x2F). A walk that sorts names per
    directory without the ``/`` puts the directory ``a`` first; generated trees catch that."""
    rng = random.Random(seed)
    names = _random_names(rng, 60)
    _tree(tmp_path / "t", {name: b"x" for name in names})
    walked = [entry.relative for entry in walk_local(str(tmp_path / "t"))]
    assert walked == sorted(names, key=lambda n: n.encode("utf-8"))


def _local_file(relative):
    return LocalFile(relative, relative, 1, 0, 0, 0)


def _remote(relative):
    import datetime as dt

    return RemoteObject(relative, relative, 1, '"e"', dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc))


def test_pair_joins_two_sorted_streams_and_refuses_one_out_of_order():
    joined = [(r, a is not None, b is not None) for r, a, b in
              pair(map(_local_file, ["a", "b", "d"]), map(_remote, ["b", "c", "d", "e"]))]
    assert joined == [("a", True, False), ("b", True, True), ("c", False, True), ("d", True, True),
                      ("e", False, True)]
    with pytest.raises(ListingOrderError):
        list(pair(map(_local_file, ["a", "c"]), map(_remote, ["b", "a"])))


def test_a_listing_out_of_key_order_deletes_nothing(tmp_path, client, s3_direct, bucket, state, monkeypatch):
    """Class: a server whose listing is not in key order (S3 Express directory buckets, some
    S3-compatible servers). Joined anyway, an object present on both sides looks remote-only and
    ``--delete`` would remove it; the join's order check raises first, and deletes only ever run
    after a clean join."""
    import securestore.transfer.direct_objects as direct_objects

    for key in ("p/a", "p/b", "p/c"):
        s3_direct.put_object(Bucket=bucket, Key=key, Body=b"1")
    root = _tree(tmp_path / "src", {"a": b"1", "c": b"1"})
    parse = direct_objects._parse_listing
    monkeypatch.setattr(direct_objects, "_parse_listing",
                        lambda data: (list(reversed(parse(data)[0])), parse(data)[1]))
    deletes = []
    client.meta.events.register("before-call.s3.DeleteObjects", lambda **kwargs: deletes.append(1))
    with pytest.raises(ListingOrderError):
        sync_up(client, str(root), bucket, "p", options=SyncOptions(delete=True), state=state)
    assert deletes == []
    assert sorted(_objects(s3_direct, bucket, "p/")) == ["a", "b", "c"]
    for thread in [t for t in threading.enumerate() if t.name.startswith("securestore-sync")]:
        thread.join(2)
        assert not thread.is_alive(), "a worker outlived the stream that failed"


def test_the_direct_listing_reads_what_botocore_reads(client, s3_direct, bucket, monkeypatch):
    """The listing parsed past botocore (``DirectObjects.list_page``) gives the same keys, sizes,
    ETags and times as botocore's paginator, across pages and for keys XML cannot carry raw
    (they come ``encoding-type=url``)."""
    from securestore.transfer import tree

    keys = ["p/a b+c%41.txt", "p/é/ü 中", "p/x&y<z>", "p/\u0001ctl", "p/sub/last"]
    for index, key in enumerate(keys):
        s3_direct.put_object(Bucket=bucket, Key=key, Body=b"x" * index)
    monkeypatch.setattr(tree, "LIST_PAGE_SIZE", 2)
    direct = [tuple(vars(o).values()) for o in tree.list_remote(client, bucket, "p/")]
    paginated = [(e["Key"][2:], e["Key"], e["Size"], e["ETag"], e["LastModified"])
                 for page in s3_direct.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix="p/")
                 for e in page["Contents"]]
    assert direct == paginated and len(direct) == len(keys)


def test_the_direct_head_reads_what_botocore_reads(client, s3_direct, bucket):
    """HeadObject past botocore gives the members a sync uses as botocore does, and 412 for an
    ETag that is no longer the object's."""
    from botocore.exceptions import ClientError

    from securestore.transfer.direct_objects import DirectObjects

    put = s3_direct.put_object(Bucket=bucket, Key="h/é x", Body=b"abc", ChecksumAlgorithm="SHA256",
                               Metadata={"securestore-part-size": "5242880"})
    direct = DirectObjects.for_client(client, bucket, "HeadObject")
    ours = direct.head_object("h/é x", put["ETag"])
    theirs = s3_direct.head_object(Bucket=bucket, Key="h/é x", ChecksumMode="ENABLED")
    for name in ("ContentLength", "ETag", "VersionId", "ChecksumSHA256", "Metadata"):
        assert ours.get(name) == theirs.get(name), name
    with pytest.raises(ClientError) as refused:
        direct.head_object("h/é x", '"not-the-etag"')
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 412


# ------------------------------------------------------------------ what differs
def test_sync_up_copies_everything_then_nothing_and_reads_no_file_the_second_time(
        tmp_path, client, s3_direct, bucket, state, monkeypatch):
    """An unchanged tree costs a listing and a stat per file: the checksums of the first run
    are cached (local by inode/size/mtime, the objects by ETag/size/LastModified)."""
    files = {f"d{i % 3}/f{i}.txt": os.urandom(10 + i) for i in range(20)}
    root = _tree(tmp_path / "src", files)
    first = sync_up(client, str(root), bucket, "pre", state=state)
    assert (first.copied, first.skipped, first.failed) == (20, 0, 0)
    assert _objects(s3_direct, bucket, "pre/") == files

    import securestore.transfer.sync as sync_module

    def no_reading(*args, **kwargs):
        raise AssertionError("an unchanged file was read")

    monkeypatch.setattr(sync_module, "file_checksum", no_reading)
    heads = []
    head = sync_module._Sync._head
    monkeypatch.setattr(sync_module._Sync, "_head", lambda self, remote: heads.append(1) or head(self, remote))
    second = sync_up(client, str(root), bucket, "pre", state=state)
    assert (second.copied, second.skipped, second.failed, second.decided_by["checksum"]) == (0, 20, 0, 20)
    assert heads == []


def _rewrite_same_size_same_mtime(path: Path) -> None:
    status = path.stat()
    data = bytearray(path.read_bytes())
    data[0] ^= 0xFF
    path.write_bytes(bytes(data))
    os.utime(path, ns=(status.st_atime_ns, status.st_mtime_ns))


def test_a_same_size_rewrite_is_found_by_checksum_and_missed_by_the_aws_rules(
        tmp_path, client, s3_direct, bucket, state):
    """Class: content changed, size and mtime not (a tool that restores mtimes, a rewrite within
    the timestamp's resolution). ``aws s3 sync``'s rules (size, time) skip it; the checksum does
    not. ``--size-only`` and ``--exact-timestamps`` keep aws's rules on request."""
    root = _tree(tmp_path / "src", {"a.bin": os.urandom(100), "b.bin": os.urandom(100)})
    sync_up(client, str(root), bucket, "p", state=state)
    _rewrite_same_size_same_mtime(root / "a.bin")
    for rule in (SyncOptions(size_only=True), SyncOptions(exact_timestamps=True)):
        summary = sync_up(client, str(root), bucket, "p", options=rule, state=state)
        assert (summary.copied, summary.skipped) == (0, 2), rule
    summary = sync_up(client, str(root), bucket, "p", state=state)
    assert (summary.copied, summary.skipped, summary.decided_by["checksum"]) == (1, 1, 2)
    assert _objects(s3_direct, bucket, "p/")["a.bin"] == (root / "a.bin").read_bytes()


def test_an_object_replaced_by_another_writer_is_found_although_the_cache_knew_it(
        tmp_path, client, s3_direct, bucket, state):
    """Class: the remote side changed behind the cache's back. The cached object checksum is
    keyed by ETag, size and LastModified, so another writer's same-size object misses, is
    HEADed, and (checksum differs) is replaced by ours."""
    root = _tree(tmp_path / "src", {"a.bin": b"A" * 64})
    sync_up(client, str(root), bucket, "p", state=state)
    sync_up(client, str(root), bucket, "p", state=state)  # the cache now knows p/a.bin
    s3_direct.put_object(Bucket=bucket, Key="p/a.bin", Body=b"B" * 64, ChecksumAlgorithm="CRC32")
    summary = sync_up(client, str(root), bucket, "p", state=state)
    assert (summary.copied, summary.decided_by["checksum"]) == (1, 1)
    assert _objects(s3_direct, bucket, "p/")["a.bin"] == b"A" * 64


@pytest.mark.parametrize("algorithm", ["CRC32", "CRC32C", "SHA256", "SHA1", "CRC64NVME"])
def test_objects_written_by_others_with_any_algorithm_are_compared_by_their_checksum(
        tmp_path, client, s3_direct, bucket, state, algorithm):
    """A tree put by another tool (boto3, aws-cli: CRC32 by default; S3's own default
    CRC64NVME) is compared in that object's algorithm: identical files are skipped, a
    same-size different one is copied."""
    files = {"same.bin": os.urandom(300), "other.bin": os.urandom(300)}
    for name, data in files.items():
        s3_direct.put_object(Bucket=bucket, Key=f"x/{name}", Body=data, ChecksumAlgorithm=algorithm)
    local = dict(files, **{"other.bin": os.urandom(300)})
    root = _tree(tmp_path / "src", local)
    summary = sync_up(client, str(root), bucket, "x", state=state)
    assert (summary.copied, summary.skipped, summary.decided_by["checksum"]) == (1, 1, 2)
    down = sync_down(client, bucket, "x", str(root), state=state)
    assert (down.copied, down.skipped) == (0, 2)


def test_sync_down_fetches_what_differs_sets_mtimes_and_skips_it_next_time(
        tmp_path, client, s3_direct, bucket, state):
    files = {"a/1.txt": b"one", "a/2.txt": b"two", "b.txt": b"three"}
    for name, data in files.items():
        s3_direct.put_object(Bucket=bucket, Key=f"src/{name}", Body=data, ChecksumAlgorithm="CRC32C")
    dest = tmp_path / "dest"
    first = sync_down(client, bucket, "src/", str(dest), state=state)
    assert (first.copied, first.failed) == (3, 0) and _local(dest) == files
    listed = {e["Key"]: e["LastModified"] for e in s3_direct.list_objects_v2(Bucket=bucket)["Contents"]}
    assert int((dest / "b.txt").stat().st_mtime) == int(listed["src/b.txt"].timestamp())
    (dest / "b.txt").write_bytes(b"THREE")  # same size, newer
    second = sync_down(client, bucket, "src", str(dest), state=state)
    assert (second.copied, second.skipped) == (1, 2) and _local(dest) == files


def test_exact_timestamps_downloads_same_size_files_whose_times_differ(tmp_path, client, s3_direct, bucket, state):
    """``--exact-timestamps`` (aws): downloading, a same-size file is skipped only when its
    mtime equals LastModified; without it (aws's default rule) an older local file is kept."""
    s3_direct.put_object(Bucket=bucket, Key="t/f", Body=b"remote")
    dest = _tree(tmp_path / "dest", {"f": b"local!"})
    os.utime(dest / "f", (1_000_000, 1_000_000))  # older than the object
    assert sync_down(client, bucket, "t", str(dest), options=SyncOptions(size_only=True), state=state).copied == 0
    exact = sync_down(client, bucket, "t", str(dest), options=SyncOptions(exact_timestamps=True), state=state)
    assert exact.copied == 1 and (dest / "f").read_bytes() == b"remote"
    again = sync_down(client, bucket, "t", str(dest), options=SyncOptions(exact_timestamps=True), state=state)
    assert (again.copied, again.skipped) == (0, 1)


def test_delete_removes_only_what_the_source_lacks_within_the_filters(tmp_path, client, s3_direct, bucket, state):
    """``--delete`` with ``--exclude``: an excluded path is neither copied nor deleted on the
    other side (aws semantics: the filters apply to both sides)."""
    root = _tree(tmp_path / "src", {"keep.txt": b"k", "gone.txt": b"g", "skip.tmp": b"s"})
    sync_up(client, str(root), bucket, "p", state=state)
    s3_direct.put_object(Bucket=bucket, Key="p/remote.tmp", Body=b"r")
    (root / "gone.txt").unlink()
    options = SyncOptions(delete=True, filters=(("exclude", "*.tmp"),))
    dry = sync_up(client, str(root), bucket, "p", options=replace_dry(options), state=state)
    assert (dry.deleted, dry.copied) == (1, 0)
    assert "gone.txt" in _objects(s3_direct, bucket, "p/")
    done = sync_up(client, str(root), bucket, "p", options=options, state=state)
    assert done.deleted == 1
    assert sorted(_objects(s3_direct, bucket, "p/")) == ["keep.txt", "remote.tmp", "skip.tmp"]
    # and downwards: a local file the prefix lacks goes, an excluded one stays
    dest = _tree(tmp_path / "dest", {"extra.txt": b"e", "mine.tmp": b"m"})
    down = sync_down(client, bucket, "p", str(dest), options=options, state=state)
    assert down.deleted == 1 and sorted(_local(dest)) == ["keep.txt", "mine.tmp"]


def replace_dry(options: SyncOptions) -> SyncOptions:
    from dataclasses import replace

    return replace(options, dryrun=True)


def test_dryrun_changes_nothing_either_way(tmp_path, client, s3_direct, bucket, state):
    root = _tree(tmp_path / "src", {"a": b"1", "b": b"2"})
    summary = sync_up(client, str(root), bucket, "p", options=SyncOptions(dryrun=True), state=state)
    assert summary.copied == 2 and _objects(s3_direct, bucket, "p/") == {}
    s3_direct.put_object(Bucket=bucket, Key="q/x", Body=b"x")
    dest = tmp_path / "dest"
    down = sync_down(client, bucket, "q", str(dest), options=SyncOptions(dryrun=True, delete=True), state=state)
    assert down.copied == 1 and not dest.exists()


def test_keys_that_would_leave_the_directory_fail_and_write_nothing_outside(tmp_path, client, s3_direct, bucket, state):
    """Class: hostile keys (``..`` segments, empty segments) under the synced prefix."""
    s3_direct.put_object(Bucket=bucket, Key="p/ok.txt", Body=b"ok")
    s3_direct.put_object(Bucket=bucket, Key="p/../../escape.txt", Body=b"bad")
    s3_direct.put_object(Bucket=bucket, Key="p/a//b.txt", Body=b"bad")
    dest = tmp_path / "inner" / "dest"
    summary = sync_down(client, bucket, "p", str(dest), state=state)
    assert (summary.copied, summary.failed) == (1, 2)
    assert sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file()
                  and "state" not in p.parts) == ["inner/dest/ok.txt"]


# ------------------------------------------------------------------ per-file cost
def test_small_files_share_one_persistent_connection_per_worker(tmp_path, session):
    """No connection (and no client, no thread) per file: 120 files through 3 workers open at
    most the workers' connections plus botocore's listing one."""
    root = _tree(tmp_path / "src", {f"f{i:03d}": os.urandom(2000) for i in range(120)})
    with DiscardS3Server() as sink:
        client = make_s3_client(session, region_name=REGION, endpoint_url=sink.endpoint_url, concurrency=3)
        from securestore.transfer.config import TransferConfig

        workers = set()
        summary = sync_up(client, str(root), "sink", "p", config=TransferConfig(concurrency=3),
                          state=ChecksumState(":memory:"),
                          on_event=lambda event: workers.add(threading.current_thread().name))
        assert summary.copied == 120
        assert sink.requests.get("PutObject") == 120
        assert sink.connections <= 3 + 1, sink.connections
        assert len(workers) <= 3, workers
        assert not [t for t in threading.enumerate() if t.name.startswith("securestore")]


def test_the_direct_put_falls_back_to_botocore_for_what_it_cannot_express():
    from securestore.transfer.direct_objects import DirectObjects

    assert DirectObjects.headers_for({"Bucket": "b", "Key": "k", "ContentType": "text/plain",
                                      "Metadata": {"A": "1"}, "ChecksumCRC32C": "AAAAAA=="}) == {
        "Content-Type": "text/plain", "x-amz-meta-a": "1", "x-amz-checksum-crc32c": "AAAAAA=="}
    assert DirectObjects.headers_for({"Bucket": "b", "Key": "k", "Tagging": "a=b"}) is None
    assert DirectObjects.headers_for({"Bucket": "b", "Key": "k", "Metadata": {"name": "é"}}) is None


def test_the_agreed_paths_read_ahead_answers_as_single_lookups_would(tmp_path):
    """The read-ahead (one query per 512 keys, in key order) must answer exactly what a lookup
    per key would: across its windows, for keys missing between present ones, out of order."""
    with ChecksumState(tmp_path / "s.sqlite3") as cache:
        present = [f"k{i:05d}" for i in range(0, 3000, 2)]
        for key in present:
            cache.remember_agreed("e", "b", key, '"t"', 1, None, 1, 2, 3, 4)
        cache.remember_agreed("e", "other", "k00001", '"t"', 1, None, 1, 2, 3, 4)
        cache.flush()
        asked = [f"k{i:05d}" for i in range(3000)] + ["k02001", "k00010", "k99999"]
        answers = {key: cache.agreed("e", "b", key) is not None for key in asked}
    assert answers == {key: key in set(present) for key in asked}


MEMORY_CHILD = r"""
import json, os, sys, tracemalloc
from securestore.transfer import make_s3_client, TransferConfig
from securestore.transfer.sync import sync_up, SyncOptions
from securestore.transfer.sync_state import ChecksumState
from securestore.transfer import tree
import boto3
root, endpoint, state = sys.argv[1:4]
tree.LIST_PAGE_SIZE = 100  # a page's worth is then ~0.35 MiB, so growth per file stands out
client = make_s3_client(boto3.session.Session(aws_access_key_id="a", aws_secret_access_key="b"),
                        region_name="us-east-1", endpoint_url=endpoint, concurrency=4)
# warm up the libraries (upload, then unchanged) so their one-off allocations are not counted
with ChecksumState(state + ".warm") as cache:
    for _ in range(2):
        sync_up(client, os.path.join(root, "d000"), "sink", "warm-" + os.path.basename(root), state=cache)
tracemalloc.start()
prefix = os.path.basename(root)
with ChecksumState(state) as cache:
    summary = sync_up(client, root, "sink", prefix, config=TransferConfig(concurrency=4), state=cache)
first_peak = tracemalloc.get_traced_memory()[1]
tracemalloc.reset_peak()
with ChecksumState(state) as cache:
    again = sync_up(client, root, "sink", prefix, config=TransferConfig(concurrency=4), state=cache)
peak = max(first_peak, tracemalloc.get_traced_memory()[1])
print(json.dumps({"copied": summary.copied, "skipped": again.skipped, "peak": peak}))
"""


def _sync_peak(tmp_path: Path, endpoint: str, count: int) -> dict:
    root = tmp_path / f"tree{count}"
    for i in range(count):
        directory = root / f"d{i // 100:03d}"
        directory.mkdir(parents=True, exist_ok=True)
        (directory / f"f{i:06d}.bin").write_bytes(b"x" * 1024)
    env = {**os.environ, **CREDENTIALS, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    done = subprocess.run([sys.executable, "-c", MEMORY_CHILD, str(root), endpoint, str(tmp_path / f"s{count}")],
                          env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_memory_does_not_grow_with_the_number_of_files(tmp_path):
    """Class: per-file records kept after the file is done (a list of items planned up front, a
    result per file in the summary, a cache buffer never flushed). tracemalloc's peak over an
    upload and an unchanged re-sync of 1,500 and of 4,500 files (a separate process per run; the
    sink in its own process, since it keeps every object's metadata), listed 100 keys a page
    (the peak holds about two parsed pages). 3,000 more files may add noise, not ~100 bytes a
    file (the unflushed cache buffer this caught added ~500)."""
    sink = subprocess.Popen([sys.executable, str(ROOT / "tests" / "support" / "discard_s3.py")],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        endpoint = f"http://127.0.0.1:{int(sink.stdout.readline().split()[1])}"
        small = _sync_peak(tmp_path, endpoint, 1550)
        large = _sync_peak(tmp_path, endpoint, 4550)
    finally:
        sink.stdin.close()
        sink.wait(timeout=30)
    assert (small["copied"], small["skipped"]) == (1550, 1550)
    assert (large["copied"], large["skipped"]) == (4550, 4550)
    growth = large["peak"] - small["peak"]
    assert growth < 256 * 1024, f"peak {small['peak']} B for 1,550 files, {large['peak']} B for 4,550"


# ------------------------------------------------------------------ command line
def _cli(*argv, env):
    return subprocess.run([sys.executable, "-m", "securestore.cli", "sync", *argv], env=env,
                          capture_output=True, text=True, timeout=120)


def test_the_command_prints_a_summary_and_exits_as_the_other_transfer_commands(tmp_path, moto_endpoint, s3_direct, bucket):
    host, port = moto_endpoint
    env = {**os.environ, **CREDENTIALS, "PYTHONPATH": str(ROOT), "XDG_CACHE_HOME": str(tmp_path / "cache")}
    common = ["--endpoint-url", f"http://{host}:{port}"]
    root = _tree(tmp_path / "src", {"a.txt": b"a", "sub/b.txt": b"b"})
    done = _cli(str(root), f"s3://{bucket}/T1/docs", "--tenant", "T1", "--json", *common, env=env)
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert (summary["copied"], summary["skipped"], summary["deleted"], summary["failed"]) == (2, 0, 0, 0)
    assert (tmp_path / "cache" / "securestore" / "sync" / "checksums.sqlite3").exists()
    again = _cli(str(root), f"s3://{bucket}/T1/docs", *common, env=env)
    assert again.returncode == 0 and "skipped 2" in again.stderr and "upload:" not in again.stderr
    outside = _cli(str(root), f"s3://{bucket}/T2/docs", "--tenant", "T1", *common, env=env)
    assert outside.returncode == 2 and "outside tenant" in outside.stderr and "Traceback" not in outside.stderr
    both_local = _cli(str(root), str(tmp_path), *common, env=env)
    assert both_local.returncode == 2 and "Traceback" not in both_local.stderr
    s3_direct.put_object(Bucket=bucket, Key="bad/../../x", Body=b"x")
    failed = _cli(f"s3://{bucket}/bad", str(tmp_path / "down"), *common, env=env)
    assert failed.returncode == 1 and "no safe local path" in failed.stderr
