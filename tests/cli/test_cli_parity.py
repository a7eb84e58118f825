"""What `aws s3 cp`, s5cmd and rclone users reach for first, against a moto S3 server.

moto is the functional S3 here (it stores bytes, metadata and checksums); it is the witness of
no security property. The tenant scoping of ls/rm/download is checked on the client side (the
command refuses and never lists outside TENANT/); IAM's own enforcement of the same line is
the access matrix's job (tests/access/test_access_matrix.py).
"""

from __future__ import annotations

import io
import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from securestore import cli
from support.transfer_fixtures import moto_endpoint  # noqa: F401 (fixture)

REPO = Path(__file__).resolve().parents[2]
MiB = 1024 * 1024


@pytest.fixture
def s3(moto_endpoint, monkeypatch, tmp_path, request):  # noqa: F811
    import boto3

    host, port = moto_endpoint
    endpoint = f"http://{host}:{port}"
    for name in list(os.environ):
        if name.startswith(("AWS_", "SECURESTORE_")):
            monkeypatch.delenv(name)
    bucket = "parity-" + request.node.name.lower().replace("_", "-")[:40].rstrip("-")
    env = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_REGION": "us-east-1",
           "AWS_CONFIG_FILE": str(tmp_path / "none"), "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none"),
           "AWS_ENDPOINT_URL_S3": endpoint, "SECURESTORE_BUCKET": bucket}
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")
    client.create_bucket(Bucket=bucket)
    monkeypatch.chdir(tmp_path)
    client.bucket = bucket
    client.env = env
    return client


def run(argv, stdin: bytes = b""):
    """(status, stdout bytes, stderr text) of an in-process run."""
    out_bytes = io.BytesIO()
    out = io.TextIOWrapper(out_bytes, write_through=True)
    err = io.StringIO()
    saved = sys.stdin, sys.stdout, sys.stderr
    sys.stdin, sys.stdout, sys.stderr = io.TextIOWrapper(io.BytesIO(stdin)), out, err
    try:
        code = cli.main(argv)
    except SystemExit as exit_:
        code = exit_.code
    finally:
        sys.stdin, sys.stdout, sys.stderr = saved
    out.flush()
    return code, out_bytes.getvalue(), err.getvalue()


def keys(s3, prefix=""):
    return sorted(o["Key"] for o in s3.list_objects_v2(Bucket=s3.bucket, Prefix=prefix).get("Contents", []))


def make_tree(root: Path) -> Path:
    (root / "src" / "sub").mkdir(parents=True)
    (root / "src" / "a.pdf").write_bytes(b"%PDF-1.7 a")
    (root / "src" / "notes.txt").write_text("notes")
    (root / "src" / "sub" / "b.pdf").write_bytes(b"%PDF-1.7 b")
    (root / "src" / "sub" / "scratch.tmp").write_text("tmp")
    return root / "src"


def test_recursive_upload_with_filters_and_one_json_summary(s3, tmp_path):
    """A folder goes up in one command; --exclude/--include apply in order; one summary."""
    src = make_tree(tmp_path)
    code, out, err = run(["upload", str(src), "--recursive", "--key", "docs/", "--exclude", "*.t*",
                          "--include", "notes.txt", "--json"])
    assert code == 0, err
    assert keys(s3) == ["docs/a.pdf", "docs/notes.txt", "docs/sub/b.pdf"]
    summary = json.loads(out)
    assert summary["files"] == 3 and summary["failed"] == 0 and summary["bytes"] == 25


def test_recursive_download_and_round_trip_with_umask_mode(s3, tmp_path):
    """A prefix comes down as a tree, byte for byte, with the mode cp would give."""
    src = make_tree(tmp_path)
    assert run(["upload", str(src), "--recursive", "--key", "docs/"])[0] == 0
    old = os.umask(0o027)
    try:
        code, _, err = run(["download", "docs/", str(tmp_path / "back"), "--recursive", "--exclude", "*.tmp"])
    finally:
        os.umask(old)
    assert code == 0, err
    assert (tmp_path / "back" / "sub" / "b.pdf").read_bytes() == b"%PDF-1.7 b"
    assert not (tmp_path / "back" / "sub" / "scratch.tmp").exists()
    assert stat.S_IMODE(os.stat(tmp_path / "back" / "a.pdf").st_mode) == 0o640
    assert "downloaded 3 files" in err


def test_key_ending_in_slash_appends_the_file_name(s3, tmp_path):
    """`--key some/prefix/` names the object prefix/<file name>, as aws s3 cp does (no object `prefix/`)."""
    (tmp_path / "po.pdf").write_bytes(b"%PDF")
    assert run(["upload", str(tmp_path / "po.pdf"), "--key", "in/box/"])[0] == 0
    assert keys(s3) == ["in/box/po.pdf"]


def test_content_type_guessed_and_object_attributes_stored(s3, tmp_path):
    """mimetypes picks the content type; metadata, cache-control, disposition, storage class are stored."""
    (tmp_path / "po.pdf").write_bytes(b"%PDF")
    code, _, err = run(["upload", str(tmp_path / "po.pdf"), "--key", "po.pdf", "--metadata", "origin=scanner",
                        "--metadata", "batch=7", "--cache-control", "max-age=60",
                        "--content-disposition", "attachment", "--storage-class", "STANDARD_IA"])
    assert code == 0, err
    head = s3.head_object(Bucket=s3.bucket, Key="po.pdf")
    assert head["ContentType"] == "application/pdf"
    assert head["Metadata"] == {"origin": "scanner", "batch": "7"}
    assert head["CacheControl"] == "max-age=60" and head["ContentDisposition"] == "attachment"
    assert head["StorageClass"] == "STANDARD_IA"


def test_dryrun_transfers_nothing(s3, tmp_path):
    src = make_tree(tmp_path)
    code, _, err = run(["upload", str(src), "--recursive", "--key", "docs/", "--dryrun"])
    assert code == 0 and keys(s3) == []
    assert err.count("(dryrun) upload:") == 4


def test_stdin_multipart_upload_and_stdout_download_round_trip(s3):
    """`-` streams: 11 MiB of stdin become a 3-part upload; `download KEY -` writes it back, verified."""
    data = os.urandom(11 * MiB)
    code, _, err = run(["upload", "-", "--key", "stream/blob", "--part-size", "5MiB", "--json"], stdin=data)
    assert code == 0, err
    code, out, err = run(["download", "stream/blob", "-"])
    assert code == 0, err
    assert out == data


def test_stdin_needs_a_full_key(s3):
    code, _, err = run(["upload", "-", "--key", "prefix/"], stdin=b"x")
    assert code == 2 and "needs --key" in err


def test_tenant_scoped_ls_and_rm_touch_nothing_outside_the_tenant(s3):
    """Class: a tenant id that is a prefix of another (T001 vs T0011) or a key outside it."""
    for key in ("T001/docs/2026/01/02/a.pdf", "T001/docs/2026/01/02/b.pdf", "T0011/docs/2026/01/02/a.pdf",
                "T002/docs/2026/01/02/a.pdf"):
        s3.put_object(Bucket=s3.bucket, Key=key, Body=b"x")
    code, out, _ = run(["ls", "--tenant", "T001", "--recursive", "--json"])
    assert code == 0
    assert [json.loads(line)["key"] for line in out.decode().splitlines()] == [
        "T001/docs/2026/01/02/a.pdf", "T001/docs/2026/01/02/b.pdf"]
    assert run(["rm", "T0011/", "--tenant", "T001", "--recursive"])[0] == 2
    code, _, err = run(["rm", "--tenant", "T001", "--recursive", "T001"])
    assert code == 0, err
    assert keys(s3) == ["T0011/docs/2026/01/02/a.pdf", "T002/docs/2026/01/02/a.pdf"]


def test_missing_bucket_and_missing_key_are_told_apart(s3, tmp_path):
    code, _, err = run(["download", "nope.pdf", str(tmp_path)])
    assert code == 1 and f"no object 'nope.pdf' in bucket '{s3.bucket}'" in err
    code, _, err = run(["download", "nope.pdf", str(tmp_path), "--bucket", "no-such-bucket-16"])
    assert code == 1 and "bucket 'no-such-bucket-16' does not exist" in err


def test_endpoint_from_aws_endpoint_url_s3_reaches_the_presigner(s3):
    """AWS_ENDPOINT_URL_S3 is honoured by every command, the presigner too; presign get needs no KMS key."""
    code, out, err = run(["presign", "get", "T001", "T001/docs/2026/01/02/a.pdf", "--json"])
    assert code == 0, err
    assert json.loads(out)["url"].startswith(s3.env["AWS_ENDPOINT_URL_S3"] + f"/{s3.bucket}/T001/")


def test_region_comes_from_the_profile(s3, tmp_path, monkeypatch):
    config = tmp_path / "config"
    config.write_text("[profile team]\nregion = eu-west-3\naws_access_key_id = AKIAEXAMPLE\n"
                      "aws_secret_access_key = secret\n")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    monkeypatch.delenv("AWS_REGION")
    monkeypatch.delenv("AWS_ENDPOINT_URL_S3")
    code, out, err = run(["presign", "get", "T001", "T001/docs/2026/01/02/a.pdf", "--profile", "team", "--json"])
    assert code == 0, err
    assert ".s3.eu-west-3.amazonaws.com/" in json.loads(out)["url"]


def test_sts_failure_is_one_line(s3, tmp_path, monkeypatch):
    """--role-arn against an STS that cannot be reached: exit 1, one line naming the role."""
    monkeypatch.setenv("SECURESTORE_STS_ENDPOINT_URL", "http://127.0.0.1:1")
    (tmp_path / "a.pdf").write_bytes(b"x")
    code, _, err = run(["upload", str(tmp_path / "a.pdf"), "--tenant", "T001", "--module", "docs",
                        "--role-arn", "arn:aws:iam::123456789012:role/uploader", "--external-id", "uploader-x"])
    assert code == 1, err
    assert err.count("\n") == 1 and "cannot assume arn:aws:iam::123456789012:role/uploader" in err


def test_reader_closing_stdout_early_is_success():
    """`securestore ... | head -1`: the reader goes away; exit 0 and no BrokenPipeError traceback."""
    process = subprocess.Popen([sys.executable, "-m", "securestore.cli", "key", "T001", "docs", "a.pdf", "--json"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=REPO)
    process.stdout.close()
    err = process.stderr.read().decode()
    assert process.wait(timeout=60) == 0, err
    assert "Traceback" not in err and "BrokenPipe" not in err


def test_filters_apply_in_order_last_match_wins():
    from securestore.transfer.batch import selected

    assert selected("a.pdf", [("exclude", "*"), ("include", "*.pdf")])
    assert not selected("a.pdf", [("include", "*.pdf"), ("exclude", "*")])
    assert selected("x/y.txt", [])


@pytest.mark.parametrize("key", ["docs/../../etc/passwd", "docs//x", "docs/./x", "docs/a\\b", "docs/"])
def test_download_refuses_keys_that_would_leave_the_destination(key, tmp_path):
    """Class: path traversal through S3 keys (keys are plain strings; `..` is a valid key segment)."""
    from securestore.transfer.batch import local_path_for

    with pytest.raises(ValueError):
        local_path_for(key, "docs/", str(tmp_path))


@pytest.mark.parametrize("width", [1, 10, 40, 80, 200])
def test_progress_line_fits_any_width_and_labels_binary_rates(width):
    from securestore.transfer.bar import render

    line = render("upload big-file-name.bin", 3 * MiB, 10 * MiB, 1.0, width)
    assert len(line) <= max(width - 1, 1)
    if width >= 80:
        assert "3.0 MiB/10.0 MiB 3.0 MiB/s" in line


def test_prod_uploader_path_sends_tenant_tag_external_id_and_mfa(s3, tmp_path, monkeypatch):
    """`upload --role-arn … --tenant T --external-id X --mfa-serial S --mfa-code C`: every flag
    reaches AssumeRole (the tag is what confines the session to T/ by IAM)."""
    import securestore.sts

    seen = {}

    def fake_assume(role_arn, **kwargs):
        seen.update(kwargs, role_arn=role_arn, code=kwargs["mfa_token_provider"]())
        import boto3

        return boto3.Session(aws_access_key_id="testing", aws_secret_access_key="testing",
                             aws_session_token="token", region_name=kwargs["region_name"])

    monkeypatch.setattr(securestore.sts, "assume_role_session", fake_assume)
    (tmp_path / "po.pdf").write_bytes(b"%PDF")
    code, _, err = run(["upload", str(tmp_path / "po.pdf"), "--tenant", "T001", "--module", "docs",
                        "--role-arn", "arn:aws:iam::123456789012:role/uploader", "--external-id", "ext-16",
                        "--mfa-serial", "arn:aws:iam::123456789012:mfa/me", "--mfa-code", "123456"])
    assert code == 0, err
    assert seen["role_arn"] == "arn:aws:iam::123456789012:role/uploader"
    assert (seen["tenant_id"], seen["external_id"], seen["mfa_serial"], seen["code"]) == (
        "T001", "ext-16", "arn:aws:iam::123456789012:mfa/me", "123456")
    assert keys(s3)[0].startswith("T001/docs/")


# ------------------------------------------------------------------ aws-style addressing (issue 21)
def test_s3_addresses_name_bucket_and_key_for_every_command(s3, tmp_path, monkeypatch):
    """`s3://BUCKET/KEY` works wherever a bucket and a key are taken (upload, download, ls, rm),
    with no --bucket and no SECURESTORE_BUCKET."""
    monkeypatch.delenv("SECURESTORE_BUCKET")
    (tmp_path / "po.pdf").write_bytes(b"%PDF addressed")
    address = f"s3://{s3.bucket}/in/po.pdf"
    assert run(["upload", str(tmp_path / "po.pdf"), address])[0] == 0
    assert run(["upload", str(tmp_path / "po.pdf"), "--key", f"s3://{s3.bucket}/in/copy/"])[0] == 0
    assert keys(s3) == ["in/copy/po.pdf", "in/po.pdf"]
    code, out, _ = run(["ls", f"s3://{s3.bucket}/in/", "--recursive", "--json"])
    assert code == 0 and [json.loads(line)["key"] for line in out.decode().splitlines()] == keys(s3)
    code, _, err = run(["download", address, str(tmp_path / "back.pdf")])
    assert code == 0, err
    assert (tmp_path / "back.pdf").read_bytes() == b"%PDF addressed"
    assert run(["rm", address, f"s3://{s3.bucket}/in/copy/po.pdf"])[0] == 0
    assert keys(s3) == []


@pytest.mark.parametrize("argv", [
    ["ls", "s3://other-bucket/x", "--bucket", "{bucket}"],
    ["rm", "s3://{bucket}/a", "s3://other-bucket/b"],
    ["download", "s3:///key", "out"],
    ["upload", "{file}", "s3://{bucket}/k", "--key", "k"],
])
def test_conflicting_or_empty_bucket_addresses_are_refused(s3, tmp_path, argv):
    """Two buckets named for one command, or an address without one: exit 2, nothing touched."""
    (tmp_path / "f").write_bytes(b"x")
    s3.put_object(Bucket=s3.bucket, Key="a", Body=b"a")
    code, _, err = run([word.format(bucket=s3.bucket, file=tmp_path / "f") for word in argv])
    assert code == 2, err
    assert len(err.strip().splitlines()) == 1
    assert keys(s3) == ["a"]


@pytest.mark.parametrize("flags, stored", [
    (["--metadata", "a=1,b=2"], {"a": "1", "b": "2"}),
    (["--metadata", "a=1", "--metadata", "B=2"], {"a": "1", "b": "2"}),
    (["--metadata", "tags=x,y,b=2"], {"tags": "x,y", "b": "2"}),
])
def test_metadata_in_aws_form_is_stored_as_separate_keys(s3, tmp_path, flags, stored):
    """`--metadata a=1,b=2` (aws-cli's form) is two keys, not one key `a` = `1,b=2`; the flag
    may also be repeated; a comma not followed by KEY= stays inside the value."""
    (tmp_path / "m.txt").write_text("m")
    code, _, err = run(["upload", str(tmp_path / "m.txt"), "--key", "m.txt", *flags])
    assert code == 0, err
    assert s3.head_object(Bucket=s3.bucket, Key="m.txt")["Metadata"] == stored


def test_metadata_key_given_twice_with_two_values_is_refused(s3, tmp_path):
    (tmp_path / "m.txt").write_text("m")
    code, _, err = run(["upload", str(tmp_path / "m.txt"), "--key", "m.txt", "--metadata", "a=1,a=2"])
    assert code == 2 and "given twice" in err
    assert keys(s3) == []


@pytest.mark.parametrize("dest", ["newdir/", "existing", "existing/"])
def test_download_into_a_directory_writes_its_file_name_there(s3, tmp_path, dest):
    """`download KEY newdir/` makes newdir/<file name> (not a file called newdir); an existing
    directory, with or without the slash, receives the same."""
    (tmp_path / "existing").mkdir()
    s3.put_object(Bucket=s3.bucket, Key="in/po.pdf", Body=b"%PDF dir")
    code, _, err = run(["download", "in/po.pdf", dest])
    assert code == 0, err
    folder = tmp_path / dest.rstrip("/")
    assert folder.is_dir() and (folder / "po.pdf").read_bytes() == b"%PDF dir"
    assert sorted(p.name for p in folder.iterdir()) == ["po.pdf"]


def test_download_into_a_directory_whose_parent_is_missing_is_refused(s3, tmp_path):
    s3.put_object(Bucket=s3.bucket, Key="in/po.pdf", Body=b"x")
    code, _, err = run(["download", "in/po.pdf", "no/such/dir/"])
    assert code == 2 and "does not exist" in err
    assert not (tmp_path / "no").exists()
