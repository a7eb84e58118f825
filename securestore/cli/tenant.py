"""``securestore tenant erase|export|usage``: offboard a tenant, give it its data, measure it.

The work is the library's (``securestore.tenant``); this module parses, checks and prints.

* ``erase TENANT --confirm TENANT``: every version, delete marker and open upload under
  ``TENANT/`` (``--dry-run`` counts only and needs no ``--confirm``). The report goes to stdout
  (``--json``: one JSON object); the manifest of what was removed goes to ``--manifest`` (default:
  beside the journal in ``$XDG_STATE_HOME/securestore/erasures``). Exit 0 when nothing is left,
  1 when something stays (Object Lock, refused keys: the report names each), 75 when throttling
  or the network outlasted the retries, 130 on Ctrl-C; after 75 or 130 the same command resumes.
* ``export TENANT DIR``: every current object, checksum-verified, into DIR mirroring the keys.
* ``usage [TENANT]``: objects and bytes per tenant, from ``--inventory s3://...`` (or
  ``$SECURESTORE_INVENTORY_URL``, which ``securestore env`` writes from the stack output
  ``inventoryDestination``) or, without one or with ``--listing``, by listing the bucket.

Run them as the offboarding role (``--role-arn "$SECURESTORE_OFFBOARDING_ROLE_ARN" --mfa-serial ...``);
a tenant id the key builder refuses is bad input (exit 2), before any request.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any, Optional

from . import options, settings
from .errors import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_TEMPFAIL, CommandFailed, UsageError

INVENTORY_ENV = ("SECURESTORE_INVENTORY_URL",)


def _tenant(value: str) -> str:
    from securestore.keys import validate_tenant_id

    try:
        return validate_tenant_id(value)
    except ValueError as exc:
        raise UsageError(f"TENANT: {exc}") from None


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "tenant", help="erase, export or measure one tenant's data (offboarding, right to erasure)",
        description="Tenant lifecycle: erase every version, delete marker and open upload of a tenant "
        "(with a report and manifest to keep), export its current objects, or report storage per tenant.")
    commands = parser.add_subparsers(dest="tenant_command", metavar="ACTION", required=True,
                                     parser_class=type(parser))

    erase = commands.add_parser(
        "erase", help="remove every version, delete marker and open upload under TENANT/",
        description="Remove everything stored under TENANT/ in the bucket: every object version, every "
        "delete marker, every unfinished multipart upload; look-alike tenants (acme vs acmecorp) are "
        "untouched. Object Lock is obeyed and reported, never bypassed. Prints a report (--json) with "
        "counts, bytes, UTC start/end and the SHA-256 of the manifest it writes.")
    options.TENANT_ARG.add(erase, help="the tenant to erase")
    erase.add_argument("--confirm", metavar="TENANT", help="the tenant id again: required to erase "
                       "(not for --dry-run)")
    erase.add_argument("--dry-run", action="store_true", help="count what would be removed; remove nothing")
    erase.add_argument("--manifest", metavar="FILE", help="write the manifest (sorted key<TAB>versionId "
                       "lines of everything removed) here (default: in the state directory)")
    erase.add_argument("--state-dir", metavar="DIR", help="where the resumable journal lives (default: "
                       "$XDG_STATE_HOME/securestore/erasures)")
    _common(erase, concurrency_help="DeleteObjects requests (1,000 versions each) in flight (default %(default)s)",
            default_concurrency=8)
    erase.set_defaults(handler=run_erase)

    export = commands.add_parser(
        "export", help="download every current object of TENANT into DIR, verified",
        description="Download every current object under TENANT/ into DIR, mirroring the keys after "
        "TENANT/, each checked against its stored checksum and renamed into place atomically.")
    options.TENANT_ARG.add(export, help="the tenant to export")
    export.add_argument("dest", metavar="DIR", help="destination directory (created if missing)")
    _common(export, concurrency_help="files in flight at once (default %(default)s)")
    export.set_defaults(handler=run_export)

    usage = commands.add_parser(
        "usage", help="objects and bytes per tenant: current, noncurrent, delete markers, open uploads",
        description="Storage per tenant, from the S3 Inventory report (--inventory, or "
        "$SECURESTORE_INVENTORY_URL from `securestore env`) or, without one, by listing every version.")
    usage.add_argument("tenant", metavar="TENANT", nargs="?", help="only this tenant (default: every tenant)")
    usage.add_argument("--inventory", metavar="S3_URL", help="s3://LOG_BUCKET/inventory/... (the stack output "
                       "inventoryDestination) or a manifest.json in it")
    usage.add_argument("--listing", action="store_true", help="list the bucket even when an inventory is known")
    _common(usage, concurrency=False)
    usage.set_defaults(handler=run_usage)


def _common(parser: argparse.ArgumentParser, *, concurrency: bool = True, concurrency_help: str = "",
            default_concurrency: Optional[int] = None) -> None:
    options.add(parser, options.BUCKET, options.JSON)
    if concurrency:
        overrides: dict[str, Any] = {"help": concurrency_help}
        if default_concurrency is not None:
            overrides["default"] = default_concurrency
        options.CONCURRENCY.add(parser, **overrides)
    options.add_aws(parser)


def _client(args: argparse.Namespace):
    return settings.s3_client(args, concurrency=getattr(args, "concurrency", None))


# ------------------------------------------------------------------ erase
def run_erase(args: argparse.Namespace) -> int:
    from securestore.tenant.erase import EraseFailed, erase_tenant
    from securestore.tenant.journal import JournalBusy

    tenant = _tenant(args.tenant)
    if not args.dry_run:
        if args.confirm is None:
            raise UsageError(f"erasing is final: add --confirm {tenant} (or --dry-run to count only)")
        if args.confirm != tenant:
            raise UsageError(f"--confirm {args.confirm!r} is not the tenant id {tenant!r}: nothing was erased")
    _check_paths(args)
    bucket = settings.bucket(args.bucket)
    client = _client(args)
    try:
        report = erase_tenant(client, bucket, tenant, dry_run=args.dry_run, state_dir=args.state_dir,
                              manifest_path=args.manifest, concurrency=args.concurrency)
    except JournalBusy as exc:
        raise CommandFailed(str(exc)) from None
    except OSError as exc:
        raise CommandFailed(f"cannot write the journal or the manifest: {exc}") from None
    except EraseFailed as exc:
        print(f"securestore tenant erase: {'temporary failure' if exc.temporary else 'failed'}: {exc}",
              file=sys.stderr)
        return EXIT_TEMPFAIL if exc.temporary else EXIT_FAILED
    except KeyboardInterrupt:
        print(f"securestore tenant erase: interrupted; run the same command again to resume "
              f"(the journal in {args.state_dir or '$XDG_STATE_HOME/securestore/erasures'} is kept)",
              file=sys.stderr)
        return EXIT_INTERRUPTED
    summary = report.summary()
    _print(args, summary, _erase_text)
    if args.dry_run:
        return 0
    return 0 if report.complete else EXIT_FAILED


def _check_paths(args: argparse.Namespace) -> None:
    """--state-dir must be (or become) a directory, --manifest a file in an existing directory:
    said before anything is erased, not after."""
    import os

    if args.state_dir is not None and os.path.exists(args.state_dir) and not os.path.isdir(args.state_dir):
        raise UsageError(f"--state-dir {args.state_dir!r} is not a directory")
    if args.manifest is not None:
        parent = os.path.dirname(os.path.abspath(args.manifest))
        if not args.manifest or os.path.isdir(args.manifest):
            raise UsageError(f"--manifest {args.manifest!r} must name a file, not a directory")
        if not os.path.isdir(parent) or not os.access(parent, os.W_OK):
            raise UsageError(f"--manifest {args.manifest!r}: directory {parent!r} does not exist or is not writable")


def _erase_text(s: dict) -> str:
    verb = "would remove" if s["dry_run"] else "removed"
    lines = [
        f"tenant {s['tenant']} in s3://{s['bucket']}/{s['prefix']}: {verb} {s['versions_removed']} versions "
        f"({s['bytes_removed']} bytes), {s['delete_markers_removed']} delete markers, "
        f"{s['uploads_aborted']} open uploads ({s['upload_bytes_removed']} bytes)",
        f"started {s['started_at']}, finished {s['finished_at']}"
        + (f"; resumed (run {s['runs']}, {s['replayed_batches']} batch(es) replayed)" if s["resumed"] else ""),
        f"manifest sha256 {s['manifest_sha256']} ({s['manifest_lines']} lines)"
        + (f": {s['manifest_path']}" if s.get("manifest_path") else ""),
    ]
    if s["irregular_keys"]:
        lines.append(f"{s['irregular_keys']} version(s) had keys the key builder would not make (erased too)")
    for locked in s["locked"]:
        lines.append(f"KEPT by Object Lock: {locked['key']} version {locked['version_id']} "
                     f"(mode {locked['retention_mode'] or '-'}, until {locked['retain_until'] or '-'}, "
                     f"legal hold {locked['legal_hold'] or '-'})")
    for error in s["errors"]:
        what = f"version {error['version_id']}" if "version_id" in error else f"upload {error['upload_id']}"
        lines.append(f"NOT removed: {error['key']} {what}: {error['code']} {error['message']}")
    for key in s["refused_foreign_keys"]:
        lines.append(f"REFUSED (not under {s['prefix']}): {key}")
    if not s["dry_run"]:
        lines.append("complete: nothing is left under the prefix" if s["complete"] else
                     f"NOT complete: {s['remaining_versions']} version(s) and {s['remaining_uploads']} "
                     "upload(s) remain")
    return "\n".join(lines)


# ------------------------------------------------------------------ export
def run_export(args: argparse.Namespace) -> int:
    from securestore.tenant.export import export_tenant
    from securestore.transfer.config import TransferConfig

    tenant = _tenant(args.tenant)
    bucket = settings.bucket(args.bucket)
    client = _client(args)
    try:
        report = export_tenant(client, bucket, tenant, args.dest, config=TransferConfig(concurrency=args.concurrency))
    except KeyboardInterrupt:
        print("securestore tenant export: interrupted; files already written are complete and verified",
              file=sys.stderr)
        return EXIT_INTERRUPTED
    _print(args, report.summary(), _export_text)
    return 0 if report.complete else EXIT_FAILED


def _export_text(s: dict) -> str:
    lines = [f"exported {s['files']} files ({s['bytes']} bytes) of tenant {s['tenant']} to {s['directory']}: "
             f"{s['verified']} verified against their stored checksum, {len(s['not_verified'])} without one"]
    lines += [f"FAILED: {failure['key']}: {failure['error']}" for failure in s["failed"]]
    lines += [f"SKIPPED: {skipped}" for skipped in s["skipped"]]
    return "\n".join(lines)


# ------------------------------------------------------------------ usage
def run_usage(args: argparse.Namespace) -> int:
    tenant = _tenant(args.tenant) if args.tenant is not None else None
    bucket = settings.bucket(args.bucket)
    inventory = None if args.listing else (args.inventory or settings.from_env(INVENTORY_ENV))
    client = _client(args)
    if inventory:
        from securestore.tenant.inventory import InventoryError, usage_from_inventory

        try:
            result = usage_from_inventory(client, inventory, tenant, data_bucket=bucket)
        except InventoryError as exc:
            raise CommandFailed(f"--inventory {inventory}: {exc}") from None
        summary = result.summary()
    else:
        from securestore.tenant.usage import usage_from_listing

        usages = usage_from_listing(client, bucket, tenant)
        summary = {"source": "listing", "bucket": bucket, "tenants": [u.summary() for u in usages.values()]}
    _print(args, summary, _usage_text)
    if not args.json:
        print(f"source: {summary['source']} ({summary.get('manifest') or f'listing s3://{bucket}'})", file=sys.stderr)
    return 0


def _usage_text(summary: dict) -> str:
    lines = [f"{'tenant':<24} {'objects':>10} {'bytes':>14} {'noncurrent':>10} {'nc bytes':>14} "
             f"{'markers':>8} {'uploads':>8}"]
    for row in summary["tenants"]:
        lines.append(f"{row['tenant'] or '(outside tenants)':<24} {row['current_objects']:>10} "
                     f"{row['current_bytes']:>14} {row['noncurrent_versions']:>10} {row['noncurrent_bytes']:>14} "
                     f"{row['delete_markers']:>8} {row['open_uploads']:>8}")
    return "\n".join(lines)


def _print(args: argparse.Namespace, summary: dict, text) -> None:
    """The report on stdout: one JSON object with --json, else ``text(summary)``."""
    print(json.dumps(summary, sort_keys=True) if args.json else text(summary))
