"""``sync`` against objects other tools wrote in parts, on an S3 that computes checksums (LocalStack).

moto drops the ``-N`` of composite checksums on HEAD and has no part layout to give; LocalStack
stores and returns composite and full-object checksums as S3 does, and GetObjectAttributes'
``ObjectParts``. The writers: boto3's ``upload_file`` (s3transfer, the engine of ``aws s3 cp``)
in parts with an explicit algorithm, and ``rclone copy`` (Debian's rclone, in parts too). Not
witnessed here: S3 itself (LocalStack is an emulator).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid

import boto3
import pytest
from botocore.config import Config

from securestore.transfer import MiB, TransferConfig, make_s3_client
from securestore.transfer.sync import SyncOptions, sync_down, sync_up
from securestore.transfer.sync_state import ChecksumState

pytestmark = pytest.mark.localstack
PART = 5 * MiB


@pytest.fixture(scope="module")
def plain(localstack):
    return boto3.client("s3", region_name=localstack.region, endpoint_url=localstack.endpoint_url,
                        aws_access_key_id="test", aws_secret_access_key="test",
                        config=Config(signature_version="s3v4", s3={"addressing_style": "path"}))


@pytest.fixture
def ours(localstack):
    session = boto3.session.Session(aws_access_key_id="test", aws_secret_access_key="test",
                                    region_name=localstack.region)
    return make_s3_client(session, region_name=localstack.region, endpoint_url=localstack.endpoint_url)


@pytest.fixture
def bucket(plain, localstack):
    name = f"sync-it-{uuid.uuid4().hex[:12]}"
    plain.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": localstack.region})
    return name


@pytest.fixture
def state(tmp_path):
    with ChecksumState(tmp_path / "checksums.sqlite3") as cache:
        yield cache


def _tree(root, sizes):
    root.mkdir(parents=True, exist_ok=True)
    for name, size in sizes.items():
        (root / name).write_bytes(os.urandom(size))
    return root


def _flip_a_byte(path, offset):
    status = path.stat()
    data = bytearray(path.read_bytes())
    data[offset] ^= 0x01
    path.write_bytes(bytes(data))
    os.utime(path, ns=(status.st_atime_ns, status.st_mtime_ns))  # same size, same mtime


@pytest.mark.parametrize("algorithm", ["CRC32C", "SHA256", "CRC32"])
def test_objects_boto3_wrote_in_parts_are_judged_by_their_composite_checksum(
        tmp_path, plain, ours, bucket, state, algorithm):
    """A 12 MiB file in three 5 MiB parts by s3transfer (aws-cli's engine) carries a
    composite checksum over those parts; sync recomputes the file's with the object's own part
    sizes (read from GetObjectAttributes) and skips it, then finds a one-byte change in part 2
    that size and mtime do not show."""
    from boto3.s3.transfer import TransferConfig as Boto3Config

    root = _tree(tmp_path / "src", {"big.bin": 12 * MiB + 17, "small.txt": 900})
    for name in ("big.bin", "small.txt"):
        plain.upload_file(str(root / name), bucket, f"t/{name}", ExtraArgs={"ChecksumAlgorithm": algorithm},
                          Config=Boto3Config(multipart_threshold=PART, multipart_chunksize=PART))
    head = plain.head_object(Bucket=bucket, Key="t/big.bin", ChecksumMode="ENABLED")
    assert head[f"Checksum{algorithm}"].endswith("-3") and head["ChecksumType"] == "COMPOSITE", head
    summary = sync_up(ours, str(root), bucket, "t", state=state)
    assert (summary.copied, summary.skipped, summary.failed, summary.decided_by["checksum"]) == (0, 2, 0, 2)
    _flip_a_byte(root / "big.bin", PART + 3)
    assert sync_up(ours, str(root), bucket, "t", options=SyncOptions(exact_timestamps=True), state=state).copied == 0
    summary = sync_up(ours, str(root), bucket, "t", state=state)
    assert (summary.copied, summary.skipped, summary.decided_by["checksum"]) == (1, 1, 2)
    assert plain.get_object(Bucket=bucket, Key="t/big.bin")["Body"].read() == (root / "big.bin").read_bytes()


def test_both_ways_with_our_own_multipart_objects(tmp_path, ours, plain, bucket, state):
    """Up in our parts (8 MiB, CRC32C, composite verified by LocalStack), down into an empty
    directory (each object verified), then nothing to do in either direction."""
    root = _tree(tmp_path / "src", {"big.bin": 9 * MiB, "x.txt": 10})
    config = TransferConfig(part_size=PART, multipart_threshold=PART)
    up = sync_up(ours, str(root), bucket, "both", config=config, state=state)
    assert (up.copied, up.failed) == (2, 0)
    assert plain.head_object(Bucket=bucket, Key="both/big.bin", ChecksumMode="ENABLED")["ChecksumCRC32C"].endswith("-2")
    dest = tmp_path / "dest"
    down = sync_down(ours, bucket, "both", str(dest), config=config, state=state)
    assert (down.copied, down.failed) == (2, 0)
    assert (dest / "big.bin").read_bytes() == (root / "big.bin").read_bytes()
    fresh = ChecksumState(tmp_path / "fresh.sqlite3")  # nothing cached: every object is HEADed, files read
    try:
        again_down = sync_down(ours, bucket, "both", str(dest), config=config, state=fresh)
        again_up = sync_up(ours, str(root), bucket, "both", config=config, state=fresh)
    finally:
        fresh.close()
    assert (again_down.copied, again_down.decided_by["checksum"]) == (0, 2)
    assert (again_up.copied, again_up.decided_by["checksum"]) == (0, 2)


@pytest.mark.skipif(shutil.which("rclone") is None, reason="rclone is not installed (apt-get install rclone)")
def test_a_tree_rclone_copied_is_not_copied_again_and_a_change_is_found(tmp_path, localstack, ours, plain, bucket, state):
    """rclone (1.60) sends no x-amz-checksum; what the object then carries is what the server
    computed for it (LocalStack, like S3 since 2025, a full-object CRC64NVME for a single PUT; a
    multipart upload without checksums may have none, and is judged by size and time)."""
    root = _tree(tmp_path / "src", {"big.bin": 11 * MiB, "one.txt": 1000, "two.txt": 2000})
    env = {**os.environ, "RCLONE_CONFIG_LS_TYPE": "s3", "RCLONE_CONFIG_LS_PROVIDER": "Other",
           "RCLONE_CONFIG_LS_ENDPOINT": localstack.endpoint_url, "RCLONE_CONFIG_LS_ACCESS_KEY_ID": "test",
           "RCLONE_CONFIG_LS_SECRET_ACCESS_KEY": "test", "RCLONE_CONFIG_LS_REGION": localstack.region,
           "RCLONE_CONFIG_LS_FORCE_PATH_STYLE": "true"}
    env.pop("AWS_CA_BUNDLE", None)  # rclone refuses a CA bundle on a plain-HTTP transport
    done = subprocess.run(["rclone", "copy", "--s3-upload-cutoff", "5M", "--s3-chunk-size", "5M",
                           str(root), f"ls:{bucket}/r"], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    summary = sync_up(ours, str(root), bucket, "r", state=state)
    assert (summary.copied, summary.skipped, summary.failed) == (0, 3, 0), summary.as_dict()
    (root / "two.txt").write_bytes(os.urandom(2000))
    summary = sync_up(ours, str(root), bucket, "r", state=state)
    assert (summary.copied, summary.skipped) == (1, 2), summary.as_dict()
    dest = tmp_path / "dest"
    down = sync_down(ours, bucket, "r", str(dest), state=state)
    assert (down.copied, down.failed) == (3, 0)
    assert sorted(p.name for p in dest.iterdir()) == ["big.bin", "one.txt", "two.txt"]


def test_a_single_put_past_botocore_carries_every_attribute_and_is_accepted_signed(
        tmp_path, localstack, plain, ours, bucket):
    """The direct single PUT (``transfer/direct_objects.py``) signs every header it sends:
    LocalStack checks SigV4 and refuses unsigned ``x-amz-*`` headers, so a PUT with SSE-KMS,
    metadata, content type, cache control and storage class landing with all of them shows
    the headers were sent and signed as botocore would."""
    from securestore.transfer import upload_file
    from securestore.transfer.direct_objects import DirectObjects

    kms = boto3.client("kms", region_name=localstack.region, endpoint_url=localstack.endpoint_url,
                       aws_access_key_id="test", aws_secret_access_key="test")
    key_arn = kms.create_key()["KeyMetadata"]["Arn"]
    assert DirectObjects.for_client(ours, bucket) is not None, "the direct path must be the one under test"
    path = tmp_path / "report.csv"
    path.write_bytes(b"a,b\n1,2\n")
    result = upload_file(ours, path, bucket, "T001/report.csv", sse_kms_key_id=key_arn, content_type="text/csv",
                         metadata={"origin": "nightly"},
                         object_args={"CacheControl": "no-store", "StorageClass": "STANDARD_IA"})
    head = plain.head_object(Bucket=bucket, Key="T001/report.csv", ChecksumMode="ENABLED")
    assert head["ServerSideEncryption"] == "aws:kms" and head["SSEKMSKeyId"] == key_arn
    assert (head["ContentType"], head["CacheControl"], head["StorageClass"]) == ("text/csv", "no-store", "STANDARD_IA")
    assert head["Metadata"] == {"origin": "nightly"}
    assert head["ChecksumCRC32C"] == result.checksum



def test_the_pipeline_puts_and_heads_odd_keys_signed_as_localstack_checks(tmp_path, localstack, plain, ours, bucket):
    """``put_pipeline`` (a sync's small files and its HEADs, sent from one thread) on an S3 that
    checks SigV4 and refuses unsigned ``x-amz-*`` headers: keys with spaces, ``+``, ``%``,
    ``~``, parentheses and non-ASCII; SSE-KMS and metadata on every PUT. The uploads land with
    their attributes; a sync with an empty checksum cache HEADs each object (``If-Match``,
    ``x-amz-checksum-mode``) and copies nothing; a same-size rewrite is then the only copy."""
    import threading

    kms = boto3.client("kms", region_name=localstack.region, endpoint_url=localstack.endpoint_url,
                       aws_access_key_id="test", aws_secret_access_key="test")
    key_arn = kms.create_key()["KeyMetadata"]["Arn"]
    names = ["a b.txt", "plus+sign.csv", "per%cent.bin", "tilde~x", "(paren).json", "é/中文.txt", "sub dir/x=y&z.txt"]
    root = tmp_path / "src"
    for index, name in enumerate(names):
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(os.urandom(100 + index))
    on_main = []
    summary = sync_up(ours, str(root), bucket, "T001/odd", state=ChecksumState(":memory:"),
                      upload_args={"sse_kms_key_id": key_arn, "metadata": {"origin": "nightly"}},
                      on_event=lambda event: on_main.append(threading.current_thread() is threading.main_thread()))
    assert (summary.copied, summary.failed) == (len(names), 0), summary.errors
    assert all(on_main), "some files did not go through the pipeline"
    for name in names:
        head = plain.head_object(Bucket=bucket, Key=f"T001/odd/{name}", ChecksumMode="ENABLED")
        assert head["SSEKMSKeyId"] == key_arn and head["Metadata"] == {"origin": "nightly"}
        assert plain.get_object(Bucket=bucket, Key=f"T001/odd/{name}")["Body"].read() == (root / name).read_bytes()

    again = sync_up(ours, str(root), bucket, "T001/odd", state=ChecksumState(":memory:"))
    assert (again.copied, again.skipped, again.failed, again.decided_by["checksum"]) == (0, len(names), 0, len(names))

    _flip_a_byte(root / "é/中文.txt", 5)
    changed = sync_up(ours, str(root), bucket, "T001/odd", state=ChecksumState(":memory:"))
    assert (changed.copied, changed.skipped, changed.failed) == (1, len(names) - 1, 0), changed.errors
    assert plain.get_object(Bucket=bucket, Key="T001/odd/é/中文.txt")["Body"].read() == \
        (root / "é/中文.txt").read_bytes()
