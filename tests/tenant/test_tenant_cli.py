"""``securestore tenant erase|export|usage`` end to end against moto's server, in-process.

The command line's own promises: refusal without ``--confirm`` equal to the tenant id, and of
ids the key builder refuses (exit 2, one line, nothing listed or removed); the report on
stdout (``--json``), the manifest file, exit statuses; export into a directory; usage rows.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import sys

import pytest

from securestore import cli
from support.tenant_data import LOOK_ALIKES, listing, seed
from support.transfer_fixtures import moto_endpoint  # noqa: F401 (fixture)

BUCKET = "tenant-cli"


@pytest.fixture(scope="module")
def s3_server(moto_endpoint):  # noqa: F811
    import boto3

    host, port = moto_endpoint
    endpoint = f"http://{host}:{port}"
    return endpoint, boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                                  aws_access_key_id="testing", aws_secret_access_key="testing")


@pytest.fixture
def world(s3_server, monkeypatch, tmp_path):
    endpoint, client = s3_server
    for name in list(os.environ):
        if name.startswith(("AWS_", "SECURESTORE_")):
            monkeypatch.delenv(name)
    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_REGION": "us-east-1",
                        "AWS_CONFIG_FILE": str(tmp_path / "none"), "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none"),
                        "AWS_ENDPOINT_URL": endpoint, "SECURESTORE_BUCKET": BUCKET}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    try:
        for page in client.get_paginator("list_object_versions").paginate(Bucket=BUCKET):
            objects = [{"Key": v["Key"], "VersionId": v["VersionId"]}
                       for v in page.get("Versions", []) + page.get("DeleteMarkers", [])]
            if objects:
                client.delete_objects(Bucket=BUCKET, Delete={"Objects": objects})
        for upload in client.list_multipart_uploads(Bucket=BUCKET).get("Uploads", []):
            client.abort_multipart_upload(Bucket=BUCKET, Key=upload["Key"], UploadId=upload["UploadId"])
    except client.exceptions.NoSuchBucket:
        client.create_bucket(Bucket=BUCKET)
        client.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    stored = seed(client, BUCKET)
    return client, stored, tmp_path


def run(*argv):
    out, err = io.StringIO(), io.StringIO()
    saved = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = out, err
    try:
        code = cli.main(list(argv))
    except SystemExit as exit_:
        code = exit_.code
    finally:
        sys.stdout, sys.stderr = saved
    return code, out.getvalue(), err.getvalue()


def _all(client):
    return {tenant: listing(client, BUCKET, tenant + "/") for tenant in LOOK_ALIKES}


@pytest.mark.parametrize("argv,fragment", [
    (["tenant", "erase", "acme"], "--confirm acme"),
    (["tenant", "erase", "acme", "--confirm", "acmecorp"], "is not the tenant id"),
    (["tenant", "erase", "acme", "--confirm", "ACME"], "is not the tenant id"),
    (["tenant", "erase", "public", "--confirm", "public"], "reserved"),
    (["tenant", "erase", "../acme", "--confirm", "../acme"], "invalid"),
    (["tenant", "erase", "acme/", "--confirm", "acme/"], "invalid"),
    (["tenant", "export", "public", "out"], "reserved"),
    (["tenant", "usage", "a b"], "invalid"),
    (["tenant", "erase", "acme", "--confirm", "acme", "--manifest", "."], "--manifest"),
])
def test_refusals_are_one_line_exit_2_and_nothing_is_touched(world, argv, fragment):
    """Class: a slip of the keyboard on a destructive command. Without ``--confirm`` equal to
    the id, or with an id the key builder refuses, nothing is listed or removed."""
    client, _, _ = world
    before = _all(client)
    code, out, err = run(*argv)
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and fragment in err and "Traceback" not in err
    assert _all(client) == before


def test_erase_json_report_and_manifest(world):
    """The JSON report on stdout counts what was removed; the manifest file's SHA-256 is the
    report's; look-alike tenants are untouched; exit 0 (complete)."""
    client, stored, tmp_path = world
    before = _all(client)
    manifest = tmp_path / "acme.tsv"
    code, out, err = run("tenant", "erase", "acme", "--confirm", "acme", "--json", "--manifest", str(manifest))
    assert code == 0, err
    report = json.loads(out)
    assert report["complete"] and report["versions_removed"] == len(stored["acme"].versions)
    assert report["delete_markers_removed"] == len(stored["acme"].markers)
    assert report["uploads_aborted"] == len(stored["acme"].uploads)
    assert report["manifest_sha256"] == hashlib.sha256(manifest.read_bytes()).hexdigest()
    after = _all(client)
    assert after["acme"] == (set(), set(), set())
    assert {t: after[t] for t in LOOK_ALIKES[1:]} == {t: before[t] for t in LOOK_ALIKES[1:]}


def test_dry_run_needs_no_confirm_and_removes_nothing(world):
    client, stored, _ = world
    before = _all(client)
    code, out, _ = run("tenant", "erase", "acme", "--dry-run")
    assert code == 0 and "would remove" in out and f"{len(stored['acme'].versions)} versions" in out
    assert _all(client) == before


def test_text_report_names_start_end_and_digest(world):
    code, out, _ = run("tenant", "erase", "acmecorp", "--confirm", "acmecorp")
    assert code == 0
    assert "started " in out and "manifest sha256 " in out and "complete: nothing is left" in out


def test_export_command_writes_the_tenant_tree(world):
    client, stored, tmp_path = world
    code, out, err = run("tenant", "export", "acme-eu", str(tmp_path / "export"), "--json")
    assert code == 0, err
    report = json.loads(out)
    assert report["files"] == len(stored["acme-eu"].current) and report["complete"]
    for key, body in stored["acme-eu"].current.items():
        assert (tmp_path / "export" / key[len("acme-eu/"):]).read_bytes() == body


def test_usage_command_lists_every_tenant_and_one(world):
    client, stored, _ = world
    code, out, _ = run("tenant", "usage", "--json")
    assert code == 0
    rows = {row["tenant"]: row for row in json.loads(out)["tenants"]}
    assert set(rows) == set(LOOK_ALIKES)
    assert rows["acme"]["current_objects"] == len(stored["acme"].current)
    code, out, _ = run("tenant", "usage", "acme", "--json")
    assert [row["tenant"] for row in json.loads(out)["tenants"]] == ["acme"]
    code, out, _ = run("tenant", "usage")
    assert code == 0 and "acmecorp" in out


def test_usage_with_a_missing_inventory_is_one_line_exit_1(world):
    code, _, err = run("tenant", "usage", "--inventory", f"s3://{BUCKET}/inventory/")
    assert code == 1 and "no inventory manifest" in err and len(err.strip().splitlines()) == 1


def test_usage_reads_the_inventory_the_stack_outputs_name(world, monkeypatch):
    """``securestore env`` writes SECURESTORE_INVENTORY_URL from the stack output
    ``inventoryDestination``; ``tenant usage`` then reads the report instead of listing, and
    gives the same figures; ``--listing`` forces the listing."""
    from support.tenant_data import write_inventory

    client, _, _ = world
    try:
        client.create_bucket(Bucket="tenant-cli-logs")
    except client.exceptions.BucketAlreadyOwnedByYou:
        pass
    url = write_inventory(client, BUCKET, "tenant-cli-logs")
    code, listed, _ = run("tenant", "usage", "--json", "--listing")
    monkeypatch.setenv("SECURESTORE_INVENTORY_URL", url)
    code, out, err = run("tenant", "usage", "--json")
    assert code == 0, err
    report = json.loads(out)
    assert report["source"] == "inventory" and report["manifest"].startswith(url)
    assert report["tenants"] == json.loads(listed)["tenants"]


@pytest.mark.parametrize("raised,status,words", [
    ("temporary", 75, "temporary failure"), ("permanent", 1, "failed"), ("interrupt", 130, "resume"),
])
def test_erase_failures_map_to_exit_statuses_and_say_how_to_continue(world, monkeypatch, raised, status, words):
    """Retries ran out on throttling (75), a permanent refusal (1), Ctrl-C (130): one line on
    stderr that says the journal is kept and the same command continues."""
    import securestore.tenant.erase as erase

    def fail(*args, **kwargs):
        if raised == "interrupt":
            raise KeyboardInterrupt()
        raise erase.EraseFailed("erasure of acme/ stopped: SlowDown: slow down; run it again to continue",
                                temporary=raised == "temporary", journal="/state/acme.erase.jsonl")

    monkeypatch.setattr(erase, "erase_tenant", fail)
    code, out, err = run("tenant", "erase", "acme", "--confirm", "acme")
    assert code == status and out == ""
    assert words in err and ("again" in err) and len(err.strip().splitlines()) == 1
