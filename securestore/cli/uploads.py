"""``securestore uploads list|abort``: the unfinished multipart uploads nothing else shows.

Unfinished multipart uploads (left by kill -9, a lost network, or an interrupt whose abort was
not confirmed) cost storage and appear in no object listing. ``list`` shows them with the local
journal that can resume each; ``abort`` ends them by key, upload id, prefix or tenant.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from . import options, settings
from .errors import EXIT_FAILED, CommandFailed, UsageError


def register(subparsers: Any) -> None:
    uploads = subparsers.add_parser(
        "uploads", help="list or abort unfinished multipart uploads",
        description="Unfinished multipart uploads (left by kill -9, a lost network, or an interrupt "
        "whose abort was not confirmed) cost storage and show in no object listing.")
    actions = uploads.add_subparsers(dest="uploads_command", metavar="ACTION", required=True)
    listing = actions.add_parser("list", help="list open multipart uploads")
    abort = actions.add_parser("abort", help="abort open multipart uploads by key, upload id or prefix")
    for parser in (listing, abort):
        options.add(parser, options.BUCKET)
        options.add_aws(parser)
        options.TENANT.add(parser, help="only this tenant's keys (tenant_id/...); anything else is refused")
        parser.add_argument("--prefix", help="only keys starting with this prefix")
        parser.add_argument("--key", help="only this key")
        options.add(parser, options.JSON)
    abort.add_argument("--upload-id", help="only this upload")
    listing.set_defaults(handler=run_uploads_list)
    abort.set_defaults(handler=run_uploads_abort)


def _selected_uploads(args: argparse.Namespace, client: Any) -> list:
    from securestore.transfer.pending import list_open_uploads

    scope = settings.tenant_scope(args.tenant, None, "--tenant")
    for flag, value in (("--prefix", args.prefix), ("--key", args.key)):
        if value is not None:
            settings.tenant_scope(args.tenant, value, flag)
    prefix = args.key if args.key is not None else (args.prefix if args.prefix is not None else scope)
    found = list_open_uploads(client, args.bucket, prefix)
    if args.key is not None:
        found = [upload for upload in found if upload.key == args.key]
    if getattr(args, "upload_id", None):
        found = [upload for upload in found if upload.upload_id == args.upload_id]
    return found


def _client_and_uploads(args: argparse.Namespace) -> tuple[Any, list]:
    """The S3 client and the open uploads ``args`` select; an AWS refusal as one line (exit 1)."""
    args.key = settings.s3_address(args, args.key, "--key")
    args.prefix = settings.s3_address(args, args.prefix, "--prefix")
    args.bucket = settings.bucket(args.bucket)
    client = settings.s3_client(args, tenant_id=args.tenant)
    try:
        return client, _selected_uploads(args, client)
    except UsageError:
        raise
    except Exception as error:  # noqa: BLE001 - one line, not a traceback
        from securestore.transfer.errors import describe_error

        raise CommandFailed(describe_error(error)) from None


def run_uploads_list(args: argparse.Namespace) -> int:
    _, found = _client_and_uploads(args)
    if args.json:
        print(json.dumps([upload.summary() for upload in found], sort_keys=True))
    else:
        for upload in found:
            print(f"{upload.key}\t{upload.upload_id}\t{upload.initiated or '-'}\t"
                  f"{'resumable: ' + upload.journal if upload.journal else 'no local journal'}")
        print(f"{len(found)} open multipart upload(s) in s3://{args.bucket}/{args.prefix or args.key or ''}",
              file=sys.stderr)
    return 0


def run_uploads_abort(args: argparse.Namespace) -> int:
    from securestore.transfer.errors import describe_error
    from securestore.transfer.pending import abort_open_upload

    if args.key is None and args.prefix is None and not args.upload_id and not args.tenant:
        raise UsageError("say which uploads to abort: --key, --upload-id, --prefix or --tenant")
    client, found = _client_and_uploads(args)
    results, failed = [], 0
    for upload in found:
        try:
            outcome = abort_open_upload(client, upload)
        except Exception as error:  # noqa: BLE001 - report each, go on with the others
            outcome = f"failed: {describe_error(error)}"
            failed += 1
        results.append({**upload.summary(), "outcome": outcome})
        if not args.json:
            print(f"{upload.key}\t{upload.upload_id}\t{outcome}")
    if args.json:
        print(json.dumps(results, sort_keys=True))
    if not found:
        print("securestore uploads abort: no open multipart upload matched", file=sys.stderr)
    return EXIT_FAILED if failed else 0
