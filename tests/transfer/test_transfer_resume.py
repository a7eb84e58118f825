"""The resume journal: survives a cut-off line, refuses a changed file, skips finished parts."""

from __future__ import annotations

import base64
import os

import crc32c

from securestore.transfer import MiB, TransferConfig, default_state_path, upload_file
from securestore.transfer.resume import UploadIdentity, UploadJournal

try:
    from support.transfer_fixtures import (  # noqa: F401 - fixtures
        REGION, aws_env, bucket, moto_endpoint, open_multipart_uploads, proxied_client, proxy,
        random_file, s3_direct, session,
    )
except ImportError:  # pragma: no cover - when tests/ is a package
    from tests.support.transfer_fixtures import (  # noqa: F401
        REGION, aws_env, bucket, moto_endpoint, open_multipart_uploads, proxied_client, proxy,
        random_file, s3_direct, session,
    )

CONFIG = TransferConfig(part_size=5 * MiB, concurrency=2, multipart_threshold=5 * MiB)


def _identity(path, bucket, key="k"):
    status = os.stat(path)
    return UploadIdentity(bucket=bucket, key=key, path=os.path.abspath(path), file_size=status.st_size,
                          mtime_ns=status.st_mtime_ns, part_size=5 * MiB, checksum_algorithm="crc32c")


def test_journal_round_trips_and_ignores_a_line_cut_short(tmp_path):
    journal = UploadJournal(tmp_path / "j.state.json")
    identity = UploadIdentity("b", "k", "/f", 10, 1, 5 * MiB, "crc32c")
    journal.start(identity, "upload-1")
    journal.record(1, '"e1"', "AAAAAQ==")
    journal.record(2, '"e2"', "AAAAAg==")
    journal.close()
    with open(journal.path, "a") as handle:
        handle.write('{"part": 3, "etag": "e')  # what kill -9 can leave
    state = UploadJournal(journal.path).load()
    assert state.identity == identity and state.upload_id == "upload-1"
    assert state.parts == {1: ('"e1"', "AAAAAQ=="), 2: ('"e2"', "AAAAAg==")}


def test_default_state_path_is_per_file_bucket_and_key(tmp_path):
    one = default_state_path("a.bin", "b", "k", cache_dir=tmp_path)
    assert one.parent == tmp_path and one.name.endswith(".state.json")
    assert one == default_state_path("a.bin", "b", "k", cache_dir=tmp_path)
    assert one != default_state_path("a.bin", "b", "k2", cache_dir=tmp_path)
    assert one != default_state_path("c.bin", "b", "k", cache_dir=tmp_path)


def _start_partial_upload(s3, bucket, path, key, journal_path):
    """What a killed run leaves: an open upload with part 1 sent and journalled."""
    upload_id = s3.create_multipart_upload(Bucket=bucket, Key=key, ChecksumAlgorithm="CRC32C")["UploadId"]
    with open(path, "rb") as handle:
        first = handle.read(5 * MiB)
    checksum = base64.b64encode(crc32c.crc32c(first).to_bytes(4, "big")).decode()
    etag = s3.upload_part(Bucket=bucket, Key=key, UploadId=upload_id, PartNumber=1, Body=first,
                          ChecksumCRC32C=checksum)["ETag"]
    journal = UploadJournal(journal_path)
    journal.start(_identity(path, bucket, key), upload_id)
    journal.record(1, etag, checksum)
    journal.close()
    return upload_id


def test_resume_continues_the_journalled_upload_without_resending_parts(
        tmp_path, proxy, proxied_client, s3_direct, bucket):
    path = random_file(tmp_path, 12 * MiB)
    journal_path = tmp_path / "resume.state.json"
    upload_id = _start_partial_upload(s3_direct, bucket, path, "k", journal_path)
    proxy.reset()
    result = upload_file(proxied_client, path, bucket, "k", config=CONFIG, state_path=journal_path)
    assert result.resumed_parts == 1
    assert sorted(r.part_number for r in proxy.requests("UploadPart")) == [2, 3]
    assert [r.query["uploadId"][0] for r in proxy.requests("CompleteMultipartUpload")] == [upload_id]
    assert s3_direct.get_object(Bucket=bucket, Key="k")["Body"].read() == path.read_bytes()
    assert not journal_path.exists()


def test_a_changed_file_is_not_resumed_its_old_upload_is_aborted(
        tmp_path, proxy, proxied_client, s3_direct, bucket):
    path = random_file(tmp_path, 12 * MiB)
    journal_path = tmp_path / "changed.state.json"
    old_upload = _start_partial_upload(s3_direct, bucket, path, "k", journal_path)
    path.write_bytes(os.urandom(12 * MiB))  # same size, new content and mtime
    os.utime(path, ns=(1, 1))
    proxy.reset()
    result = upload_file(proxied_client, path, bucket, "k", config=CONFIG, state_path=journal_path)
    assert result.resumed_parts == 0
    assert sorted(r.part_number for r in proxy.requests("UploadPart")) == [1, 2, 3]
    assert [r.query["uploadId"][0] for r in proxy.requests("AbortMultipartUpload")] == [old_upload]
    assert s3_direct.get_object(Bucket=bucket, Key="k")["Body"].read() == path.read_bytes()
    assert open_multipart_uploads(s3_direct, bucket) == []


def test_a_journal_whose_upload_is_gone_starts_a_new_upload(tmp_path, proxy, proxied_client,
                                                            s3_direct, bucket):
    path = random_file(tmp_path, 12 * MiB)
    journal_path = tmp_path / "gone.state.json"
    upload_id = _start_partial_upload(s3_direct, bucket, path, "k", journal_path)
    s3_direct.abort_multipart_upload(Bucket=bucket, Key="k", UploadId=upload_id)  # e.g. lifecycle rule
    proxy.reset()
    result = upload_file(proxied_client, path, bucket, "k", config=CONFIG, state_path=journal_path)
    assert result.resumed_parts == 0
    assert len(proxy.requests("CreateMultipartUpload")) == 1
    assert sorted(r.part_number for r in proxy.requests("UploadPart")) == [1, 2, 3]
    assert s3_direct.get_object(Bucket=bucket, Key="k")["Body"].read() == path.read_bytes()


def test_resume_keeps_the_part_size_the_upload_started_with(tmp_path, proxy, proxied_client,
                                                            s3_direct, bucket):
    path = random_file(tmp_path, 12 * MiB)
    journal_path = tmp_path / "size.state.json"
    _start_partial_upload(s3_direct, bucket, path, "k", journal_path)  # 5 MiB parts
    proxy.reset()
    result = upload_file(proxied_client, path, bucket, "k", state_path=journal_path,
                         config=TransferConfig(part_size=6 * MiB, concurrency=2))
    assert (result.resumed_parts, result.part_size, result.parts) == (1, 5 * MiB, 3)
    assert sorted(r.part_number for r in proxy.requests("UploadPart")) == [2, 3]
    assert s3_direct.get_object(Bucket=bucket, Key="k")["Body"].read() == path.read_bytes()
