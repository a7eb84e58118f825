"""``securestore ls`` and ``securestore rm``: list and remove objects, scoped to one tenant.

With ``--tenant T`` a prefix or key must lie under ``T/`` (the tenant id resolves to its
prefix; nothing outside it is listed or touched); with ``--role-arn`` the session carries the
tag ``tenant_id=T``, so IAM enforces the same line. Output follows ``aws s3 ls``: ``PRE name/``
for common prefixes, ``date time size key`` for objects; ``--json`` prints one JSON object per
line (so ``| head -1`` works and is exit 0).
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any, Iterator

from . import options, settings
from .errors import UsageError, aws_failure

DELETE_BATCH = 1000  # DeleteObjects takes at most 1000 keys


def _pages(client, bucket: str, prefix: str, recursive: bool) -> Iterator[dict]:
    params: dict[str, Any] = {"Bucket": bucket, "Prefix": prefix}
    if not recursive:
        params["Delimiter"] = "/"
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        yield from client.get_paginator("list_objects_v2").paginate(**params)
    except (ClientError, BotoCoreError) as error:
        raise aws_failure(error, bucket, f"cannot list s3://{bucket}/{prefix}") from None


def _size_text(size: int, human: bool) -> str:
    if not human:
        return f"{size:>10}"
    from securestore.transfer.bar import format_bytes

    return f"{format_bytes(size):>10}"


def run_ls(args: argparse.Namespace) -> int:
    args.prefix = settings.s3_address(args, args.prefix, "PREFIX")
    bucket = settings.bucket(args.bucket)
    prefix = settings.tenant_scope(args.tenant, args.prefix, "PREFIX")
    client = settings.s3_client(args, tenant_id=args.tenant)
    count = total = 0
    for page in _pages(client, bucket, prefix, args.recursive):
        for common in page.get("CommonPrefixes", []):
            name = common["Prefix"]
            if args.json:
                print(json.dumps({"prefix": name}))
            else:
                print(f"{'PRE':>30} {name}")
        for entry in page.get("Contents", []):
            count += 1
            total += entry.get("Size", 0)
            modified = entry["LastModified"]
            if args.json:
                print(json.dumps({"key": entry["Key"], "size": entry.get("Size", 0),
                                  "last_modified": modified.isoformat(), "etag": entry.get("ETag"),
                                  "storage_class": entry.get("StorageClass")}))
            else:
                print(f"{modified:%Y-%m-%d %H:%M:%S} {_size_text(entry.get('Size', 0), args.human_readable)} "
                      f"{entry['Key']}")
    if args.summarize and not args.json:
        print(f"\nTotal Objects: {count}\n   Total Size: {_size_text(total, args.human_readable).strip()}")
    return 0


def _keys_to_remove(args, client, bucket: str) -> Iterator[str]:
    if not args.recursive:
        for key in args.keys:
            if not key:
                raise UsageError("KEY must not be empty")
            yield settings.tenant_scope(args.tenant, key, "KEY", single=True) if args.tenant else key
        return
    from securestore.transfer.batch import selected

    for given in args.keys:
        prefix = settings.tenant_scope(args.tenant, given, "PREFIX")
        if not prefix:
            raise UsageError("rm --recursive needs a non-empty PREFIX (or --tenant): it will not empty a whole bucket")
        for page in _pages(client, bucket, prefix, recursive=True):
            for entry in page.get("Contents", []):
                if selected(entry["Key"][len(prefix):], args.filters):
                    yield entry["Key"]


def run_rm(args: argparse.Namespace) -> int:
    from botocore.exceptions import BotoCoreError, ClientError

    if args.filters and not args.recursive:
        raise UsageError("--include/--exclude go with --recursive")
    args.keys = [settings.s3_address(args, key, "KEY") for key in args.keys]
    bucket = settings.bucket(args.bucket)
    for key in args.keys:  # check every argument before deleting anything
        settings.tenant_scope(args.tenant, key, "PREFIX" if args.recursive else "KEY", single=not args.recursive)
    client = None if (args.dryrun and not args.recursive) else settings.s3_client(args, tenant_id=args.tenant)
    removed: list[str] = []
    failed: list[dict] = []
    batch: list[str] = []

    def flush() -> None:
        if not batch:
            return
        try:
            response = client.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": k} for k in batch],
                                                                    "Quiet": True})
        except (ClientError, BotoCoreError) as error:
            raise aws_failure(error, bucket, "DeleteObjects failed") from None
        errors = {e["Key"]: f"{e.get('Code')}: {e.get('Message')}" for e in response.get("Errors", [])}
        for key in batch:
            if key in errors:
                failed.append({"key": key, "error": errors[key]})
                print(f"securestore rm: failed: s3://{bucket}/{key}: {errors[key]}", file=sys.stderr)
            else:
                removed.append(key)
                if not args.quiet and not args.json:
                    print(f"delete: s3://{bucket}/{key}", file=sys.stderr)
        batch.clear()

    for key in _keys_to_remove(args, client, bucket):
        if args.dryrun:
            removed.append(key)
            if not args.quiet:
                print(f"(dryrun) delete: s3://{bucket}/{key}", file=sys.stderr)
            continue
        batch.append(key)
        if len(batch) == DELETE_BATCH:
            flush()
    if not args.dryrun:
        flush()
    if args.json:
        print(json.dumps({"bucket": bucket, "deleted": len(removed), "failed": len(failed),
                          "dryrun": args.dryrun, "keys": removed, "errors": failed}, sort_keys=True))
    elif not args.quiet:
        verb = "would delete" if args.dryrun else "deleted"
        print(f"{verb} {len(removed)} objects from s3://{bucket}" + (f"; {len(failed)} failed" if failed else ""),
              file=sys.stderr)
    return 1 if failed else 0


def _add_options(parser: argparse.ArgumentParser) -> None:
    options.add(parser, options.BUCKET)
    options.TENANT.add(parser, help="tenant id: only keys under TENANT/ (default prefix TENANT/); with "
                       "--role-arn also the session tag tenant_id")
    options.RECURSIVE.add(parser, help="every key under the prefix, not one level")
    options.add(parser, options.JSON)
    options.add_aws(parser)


def register(subparsers: argparse._SubParsersAction) -> None:
    ls = subparsers.add_parser("ls", help="list objects (like aws s3 ls), scoped to a tenant with --tenant",
                               description="List s3://BUCKET/PREFIX: PRE lines for sub-prefixes, then "
                               "date, time, size and key per object. --json: one object per line.")
    ls.add_argument("prefix", metavar="PREFIX", nargs="?", default=None,
                    help="key prefix to list, or s3://BUCKET/PREFIX (default: the bucket root, or TENANT/ "
                    "with --tenant)")
    _add_options(ls)
    ls.add_argument("--human-readable", action="store_true", help="sizes in KiB/MiB/GiB")
    ls.add_argument("--summarize", action="store_true", help="print the object count and total size")
    ls.set_defaults(handler=run_ls)

    rm = subparsers.add_parser("rm", help="remove objects, scoped to a tenant with --tenant",
                               description="Delete KEYs (with --recursive: everything under each PREFIX). "
                               "On a versioned bucket this adds delete markers; older versions stay until "
                               "the lifecycle rule expires them.")
    rm.add_argument("keys", metavar="KEY", nargs="+", help="object key or s3://BUCKET/KEY (with --recursive: "
                    "a prefix)")
    _add_options(rm)
    options.INCLUDE.add(rm, help="with --recursive: include keys matching this glob (relative to the prefix)")
    options.EXCLUDE.add(rm, help="with --recursive: exclude keys matching this glob")
    options.DRYRUN.add(rm, help="print what would be deleted; delete nothing")
    options.QUIET.add(rm, help="print nothing but errors")
    rm.set_defaults(handler=run_rm)
