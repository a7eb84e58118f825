"""Concurrent writers of one key never delete each other's objects; leftovers can be listed and removed.

* Class: any verification that reads "the object at the key" rather than "the version this
  upload made". Eight uploads of different files to one key of an unversioned bucket, at once:
  all must succeed and the key must hold one of the eight files, byte-identical. moto is the
  right witness here because its CompleteMultipartUpload returns no checksum, which is exactly
  what sends the client to read the checksum back (real S3 returns it; LocalStack does too).
* Class: open multipart uploads no listing shows (kill -9, lost network). ``securestore uploads
  list|abort`` find and remove them by key, upload id or prefix, confined to one tenant with
  ``--tenant``.
"""

from __future__ import annotations

import json
import threading
import uuid

from securestore.cli import main
from securestore.transfer import MiB, TransferConfig, make_s3_client, upload_file

try:
    from support.transfer_fixtures import (  # noqa: F401 - fixtures
        REGION, aws_env, moto_endpoint, open_multipart_uploads, random_file, s3_direct, session,
    )
except ImportError:  # pragma: no cover - when tests/ is a package
    from tests.support.transfer_fixtures import (  # noqa: F401
        REGION, aws_env, moto_endpoint, open_multipart_uploads, random_file, s3_direct, session,
    )

WRITERS = 8


def test_eight_concurrent_writers_of_one_key_all_succeed_and_the_object_survives(
        tmp_path, moto_endpoint, session, s3_direct):
    """(Before: a writer whose HEAD saw another writer's object judged it corrupt and deleted
    the key without a version id: several writers failed and the object could be gone.)"""
    bucket = f"writers-{uuid.uuid4().hex[:8]}"
    s3_direct.create_bucket(Bucket=bucket)  # unversioned: a delete removes the object for good
    host, port = moto_endpoint
    client = make_s3_client(session, region_name=REGION, endpoint_url=f"http://{host}:{port}",
                            concurrency=WRITERS)
    files = [random_file(tmp_path, 5 * MiB + 1 + n, name=f"w{n}.bin") for n in range(WRITERS)]
    config = TransferConfig(part_size=5 * MiB, concurrency=1, multipart_threshold=5 * MiB)
    errors: list[BaseException] = []
    start = threading.Barrier(WRITERS)

    def write(path):
        start.wait()
        try:
            upload_file(client, path, bucket, "shared.bin", config=config,
                        state_path=tmp_path / f"{path.name}.state.json")
        except BaseException as error:  # noqa: BLE001 - collected for the assertion
            errors.append(error)

    threads = [threading.Thread(target=write, args=(path,)) for path in files]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert errors == []
    stored = s3_direct.get_object(Bucket=bucket, Key="shared.bin")["Body"].read()
    assert stored in [path.read_bytes() for path in files]
    assert open_multipart_uploads(s3_direct, bucket) == []


def _cli(capsys, *argv):
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_uploads_list_and_abort_by_upload_id_key_and_prefix_within_one_tenant(
        moto_endpoint, s3_direct, aws_env, capsys):
    """Leftovers of two tenants: the acme-scoped commands see and remove only acme's, refuse a
    prefix outside acme, and ``--json`` lists key, upload id and whether a journal exists."""
    bucket = f"leftovers-{uuid.uuid4().hex[:8]}"
    s3_direct.create_bucket(Bucket=bucket)
    ids = {key: s3_direct.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"]
           for key in ("acme/docs/2026/12/01/a.bin", "acme/docs/2026/12/01/b.bin",
                       "acme/cvs/2026/12/01/c.bin", "globex/docs/2026/12/01/a.bin")}
    host, port = moto_endpoint
    common = ["--bucket", bucket, "--endpoint-url", f"http://{host}:{port}", "--region", REGION]

    code, out, _ = _cli(capsys, "uploads", "list", *common, "--tenant", "acme", "--json")
    assert code == 0
    listed = json.loads(out)
    assert sorted(u["key"] for u in listed) == sorted(k for k in ids if k.startswith("acme/"))
    assert all(u["journal"] is None and u["upload_id"] == ids[u["key"]] for u in listed)

    code, _, err = _cli(capsys, "uploads", "abort", *common, "--tenant", "acme", "--prefix", "globex/")
    assert code == 2 and "--prefix" in err and "outside tenant" in err

    code, out, _ = _cli(capsys, "uploads", "abort", *common, "--tenant", "acme",
                        "--upload-id", ids["acme/docs/2026/12/01/a.bin"])
    assert code == 0 and "aborted" in out
    code, out, _ = _cli(capsys, "uploads", "abort", *common, "--key", "acme/cvs/2026/12/01/c.bin", "--json")
    assert code == 0 and [r["outcome"] for r in json.loads(out)] == ["aborted"]
    code, out, _ = _cli(capsys, "uploads", "abort", *common, "--prefix", "acme/")
    assert code == 0 and out.count("aborted") == 1
    assert [u["Key"] for u in open_multipart_uploads(s3_direct, bucket)] == ["globex/docs/2026/12/01/a.bin"]
