"""Tenant erase: versions removed per second, ours (``securestore.tenant.erase_tenant``) vs a
plain boto3 loop, on the same data.

The reference is what a script written in a hurry does: page through ``ListObjectVersions``
under ``TENANT/``, then call ``delete_object(Key=..., VersionId=...)`` once per version and
delete marker, one request at a time. (Counted: versions and delete markers.) Ours lists the same pages and sends ``DeleteObjects`` with
1,000 versions a request, several requests in parallel on one client, journalling each batch.

Each side gets a fresh versioned bucket holding the same data: ``--versions`` small versions
(and a delete marker per key) under ``acme/``, plus a look-alike tenant ``acmecorp/`` that must
survive. The server is moto's (in this process's threads, the same for both sides) or, with
``--endpoint-url``, any S3 you point it at (e.g. LocalStack). ``--quick`` uses a small data set
and checks correctness: after each side nothing is left under ``acme/`` and ``acmecorp/`` is
unchanged; ours' report counts every version. The last line is the figure:
``tenant erase: N versions, ours X versions/s, boto3 loop Y versions/s, Z.Zx``.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from support.tenant_data import bulk_versions, listing  # noqa: E402

REGION = "us-east-1"


def _moto_endpoint():
    import logging

    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    return server, f"http://{host}:{port}"


def _clients(endpoint: str):
    import boto3

    from securestore.transfer import make_s3_client

    session = boto3.session.Session(aws_access_key_id="testing", aws_secret_access_key="testing", region_name=REGION)
    plain = session.client("s3", endpoint_url=endpoint, region_name=REGION)
    return plain, make_s3_client(session, region_name=REGION, endpoint_url=endpoint, concurrency=8)


def _prepare(client, versions: int) -> tuple[str, set, set]:
    """A fresh bucket: ``versions`` versions under acme/ (500 keys), a delete marker on each
    key, and 50 versions of acmecorp/; returns (bucket, acme refs, acmecorp listing)."""
    bucket = f"bench-erase-{uuid.uuid4().hex[:10]}"
    client.create_bucket(Bucket=bucket)
    client.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    refs = bulk_versions(client, bucket, "acme", versions)
    for key in sorted({k for k, _ in refs}):
        refs.add((key, client.delete_object(Bucket=bucket, Key=key)["VersionId"]))
    bulk_versions(client, bucket, "acmecorp", 50)
    return bucket, refs, listing(client, bucket, "acmecorp/")


def boto3_loop(client, bucket: str, tenant: str) -> int:
    """The reference: list every version and delete marker, then one delete_object each.

    It lists first and deletes after: deleting while paging lets moto 5 answer the next page
    empty (its marker version is gone), so a loop that deletes as it pages stops after the
    first 1,000 there (S3 itself continues)."""
    entries = []
    for page in client.get_paginator("list_object_versions").paginate(Bucket=bucket, Prefix=f"{tenant}/"):
        entries += page.get("Versions", []) + page.get("DeleteMarkers", [])
    for entry in entries:
        client.delete_object(Bucket=bucket, Key=entry["Key"], VersionId=entry["VersionId"])
    return len(entries)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--versions", type=int, default=5000, help="versions under acme/ (default %(default)s)")
    parser.add_argument("--endpoint-url", help="an S3 endpoint to use instead of an in-process moto server")
    parser.add_argument("--quick", action="store_true", help="150 versions, and check correctness")
    args = parser.parse_args()
    versions = 150 if args.quick else args.versions
    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}.items():
        os.environ.setdefault(name, value)
    server = None
    endpoint = args.endpoint_url
    if endpoint is None:
        server, endpoint = _moto_endpoint()
    try:
        plain, tuned = _clients(endpoint)
        from securestore.tenant.erase import erase_tenant

        bucket, refs, others = _prepare(plain, versions)
        with tempfile.TemporaryDirectory() as state:
            started = time.perf_counter()
            report = erase_tenant(tuned, bucket, "acme", state_dir=state)
            ours_seconds = time.perf_counter() - started
        ours_count = report.versions + report.delete_markers
        problems = []
        if ours_count != len(refs) or not report.complete:
            problems.append(f"ours removed {ours_count} of {len(refs)} (complete={report.complete})")
        if listing(plain, bucket, "acme/")[:2] != (set(), set()) or listing(plain, bucket, "acmecorp/") != others:
            problems.append("ours left acme/ versions or changed acmecorp/")

        bucket, refs, others = _prepare(plain, versions)
        started = time.perf_counter()
        loop_count = boto3_loop(plain, bucket, "acme")
        loop_seconds = time.perf_counter() - started
        if loop_count != len(refs) or listing(plain, bucket, "acme/")[:2] != (set(), set()):
            problems.append(f"the boto3 loop removed {loop_count} of {len(refs)}")
        if listing(plain, bucket, "acmecorp/") != others:
            problems.append("the boto3 loop changed acmecorp/")
    finally:
        if server is not None:
            server.stop()
    if problems:
        for problem in problems:
            print(f"tenant erase: FAILED: {problem}", file=sys.stderr)
        return 1
    ours_rate, loop_rate = ours_count / ours_seconds, loop_count / loop_seconds
    where = "moto server" if args.endpoint_url is None else args.endpoint_url
    print(f"ours: {ours_count} in {ours_seconds:.2f}s ({report.delete_requests} DeleteObjects requests); "
          f"boto3 loop: {loop_count} in {loop_seconds:.2f}s; server: {where}")
    if args.quick:
        print("quick check: both sides removed every version and marker of acme/, acmecorp/ unchanged")
    print(f"tenant erase: {len(refs)} versions, ours {ours_rate:.0f} versions/s, boto3 loop "
          f"{loop_rate:.0f} versions/s, {ours_rate / loop_rate:.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
