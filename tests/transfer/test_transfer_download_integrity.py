"""Downloads never write bytes other than the object's, and never merge two keys into one path.

Classes:

* **A server that ignores ``Range``** (an S3-compatible server, a proxy or a cache answering a
  ranged GET with 200 and the whole object): refused before anything is written, whatever the
  object's checksum. (Before: an object without a checksum was written corrupt with exit 0; one
  with a checksum was fetched twice and reported as corrupted in transit.)
* **Keys that collide locally** in a recursive download (``p/a`` and ``p/a/x``: one path would
  be both a file and a directory): each collision is reported and neither key is written.
  (Before: one was dropped or written inside the other's directory, in silence.)
"""

from __future__ import annotations

import pytest

from securestore.transfer import MiB, TransferConfig, download_file, upload_file
from securestore.transfer.batch import plan_directory_download
from securestore.transfer.errors import TransferError

try:
    from support.transfer_fixtures import (  # noqa: F401 - fixtures
        REGION, aws_env, bucket, moto_endpoint, proxied_client, proxy, random_file, s3_direct, session,
    )
except ImportError:  # pragma: no cover - when tests/ is a package
    from tests.support.transfer_fixtures import (  # noqa: F401
        REGION, aws_env, bucket, moto_endpoint, proxied_client, proxy, random_file, s3_direct, session,
    )

CONFIG = TransferConfig(part_size=5 * MiB, multipart_threshold=5 * MiB, concurrency=2,
                        backoff_base_seconds=0.01, backoff_max_seconds=0.05, retry_for_seconds=2.0)


def _plain_put(session, s3_direct, bucket, key, data):
    """An object with no stored checksum (the client sends none)."""
    from botocore.config import Config

    plain = session.client("s3", endpoint_url=s3_direct.meta.endpoint_url, region_name=REGION,
                           config=Config(request_checksum_calculation="when_required"))
    plain.put_object(Bucket=bucket, Key=key, Body=data)


@pytest.mark.parametrize("stored", ["no-checksum", "full-object-crc32c", "composite-crc32c"])
@pytest.mark.parametrize("size", [6 * MiB, 11 * MiB + 3])
def test_a_server_that_ignores_range_is_refused_and_nothing_is_written(
        tmp_path, proxy, proxied_client, s3_direct, session, bucket, stored, size):
    """Class: a server that ignores ``Range`` (answers 200 with the whole object)."""
    source = random_file(tmp_path, size)
    if stored == "no-checksum":
        _plain_put(session, s3_direct, bucket, "object.bin", source.read_bytes())
    elif stored == "full-object-crc32c":
        s3_direct.put_object(Bucket=bucket, Key="object.bin", Body=source.read_bytes(),
                             ChecksumAlgorithm="CRC32C")
    else:
        upload_file(proxied_client, source, bucket, "object.bin", config=CONFIG)
    proxy.reset(lambda r: "ignore_range" if r.operation == "GetObject" else "forward")
    target = tmp_path / "out.bin"
    with pytest.raises(TransferError, match="does not honour ranges"):
        download_file(proxied_client, bucket, "object.bin", target, config=CONFIG)
    assert not target.exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".out.bin")] == []


COLLISIONS = [
    (["p/a", "p/a/x"], {"p/a", "p/a/x"}),
    (["p/a/x", "p/a"], {"p/a", "p/a/x"}),
    (["p/a", "p/a/b/c", "p/b"], {"p/a", "p/a/b/c"}),
    (["p/a", "p/a/x", "p/a/y"], {"p/a", "p/a/x", "p/a/y"}),
    (["p/d/e", "p/d", "p/d2"], {"p/d", "p/d/e"}),
]


@pytest.mark.parametrize("keys,colliding", COLLISIONS)
def test_keys_that_would_be_both_file_and_directory_are_reported_and_none_is_written(keys, colliding):
    """Class: local collisions in a recursive download (pure planning: no server)."""
    listing = [{"Key": key, "Size": 1} for key in keys]
    items, problems = plan_directory_download(listing, "p/", "/dest", [])
    assert {item.key for item in items} == set(keys) - colliding
    for key in colliding:
        assert any(repr(key) in problem and "collide" in problem for problem in problems), (key, problems)


def test_a_recursive_download_with_colliding_keys_exits_1_naming_them_and_writes_the_rest(
        tmp_path, s3_direct, bucket, aws_env, capsys):
    """Class: local collisions, through the command line: exit 1, each named, the others written."""
    from securestore.cli import main

    for key in ("p/a", "p/a/x", "p/b"):
        s3_direct.put_object(Bucket=bucket, Key=key, Body=key.encode())
    dest = tmp_path / "dest"
    code = main(["download", "p/", str(dest), "--recursive", "--bucket", bucket,
                 "--endpoint-url", s3_direct.meta.endpoint_url, "--region", REGION])
    err = capsys.readouterr().err
    assert code == 1, err
    assert "'p/a' and 'p/a/x' collide" in err
    assert (dest / "b").read_bytes() == b"p/b"
    assert not (dest / "a").exists()
