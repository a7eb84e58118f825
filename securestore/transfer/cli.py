"""``securestore upload``, ``securestore download`` and ``securestore uploads list|abort``.

Registration only builds parsers; boto3, the key builder and STS are imported inside the
handlers. Exit status: 0 done; 1 the transfer failed for a permanent cause (the multipart
upload was aborted, or the message says why not); 2 bad input; 75 (``EX_TEMPFAIL``) retries
ran out on a transient cause: the upload and its journal are kept and the message prints the
command that continues it and the one that gives it up; 130 interrupted (the message says
whether the upload was aborted or kept).
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import signal
import sys
from typing import Any, Optional

from .config import (
    CHECKSUM_ALGORITHMS, DEFAULT_CHECKSUM_ALGORITHM, DEFAULT_CONCURRENCY, DEFAULT_MAX_ATTEMPTS,
    DEFAULT_PART_SIZE, DEFAULT_RETRY_FOR_SECONDS, format_size, parse_duration, parse_size,
)

EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_TEMPORARY = 75
EXIT_INTERRUPTED = 130


def register(subparsers: Any) -> None:
    upload = subparsers.add_parser(
        "upload", help="upload a file to S3 (parallel checksummed multipart, abort on failure, resume)",
        description="Upload FILE to s3://BUCKET/KEY. Small files go up in one PUT; larger ones in "
        "parallel parts, each with its checksum, the whole-object checksum verified at the end. "
        "Any failure or Ctrl-C aborts the multipart upload.")
    upload.add_argument("file", metavar="FILE", help="the local file to upload")
    target = upload.add_mutually_exclusive_group(required=True)
    target.add_argument("--key", help="the object key, used as given")
    target.add_argument("--tenant", help="tenant id: the key becomes tenant/module/yyyy/mm/dd/FILE's name")
    upload.add_argument("--module", help="module under the tenant (with --tenant)")
    _add_common(upload)
    upload.add_argument("--checksum", choices=CHECKSUM_ALGORITHMS, default=DEFAULT_CHECKSUM_ALGORITHM,
                        help="checksum algorithm for every part (default %(default)s)")
    upload.add_argument("--sse-kms-key-id", default=os.environ.get("SECURESTORE_KMS_KEY_ID"),
                        help="KMS key for SSE-KMS (default $SECURESTORE_KMS_KEY_ID; without one the "
                        "bucket's default encryption applies)")
    upload.add_argument("--content-type", help="Content-Type stored with the object")
    upload.add_argument("--resume", action="store_true",
                        help="continue the unfinished upload of this file to this key, if one is "
                        "journalled (every multipart upload is); without it such an upload is an error")
    upload.add_argument("--state-file", help="the upload's journal "
                        "(default: under $XDG_CACHE_HOME/securestore/uploads)")
    upload.set_defaults(handler=run_upload)
    _register_uploads(subparsers)

    download = subparsers.add_parser(
        "download", help="download an S3 object with parallel ranged GETs, checksum verified",
        description="Download s3://BUCKET/KEY to DEST (a file, or a directory to put it in). The "
        "bytes are written to a temporary file, verified against the stored checksum and renamed "
        "into place atomically.")
    download.add_argument("key", metavar="KEY", help="the object key")
    download.add_argument("dest", metavar="DEST", help="destination file or directory")
    _add_common(download)
    download.add_argument("--version-id", help="download this version of the object")
    download.add_argument("--no-verify", action="store_true",
                          help="do not check the stored checksum (reported as NOT checked)")
    download.add_argument("--require-checksum", action="store_true",
                          help="refuse an object that carries no checksum (by default it is "
                          "downloaded and reported as NOT checked)")
    download.set_defaults(handler=run_download)


def _add_common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--bucket", required=True, help="the bucket")
    parser.add_argument("--endpoint-url", help="S3 endpoint (e.g. a local S3-compatible server)")
    parser.add_argument("--region", default=os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION"),
                        help="AWS region (default $AWS_REGION or $AWS_DEFAULT_REGION)")
    parser.add_argument("--part-size", default=format_size(DEFAULT_PART_SIZE),
                        help="part size, at least 5MiB; grown automatically to stay within 10,000 "
                        "parts (default %(default)s)")
    parser.add_argument("--concurrency", type=int, default=DEFAULT_CONCURRENCY,
                        help="parts in flight at once; memory is about concurrency × part size "
                        "(default %(default)s)")
    parser.add_argument("--max-attempts", type=int, default=DEFAULT_MAX_ATTEMPTS,
                        help="at most this many tries per request on 5xx or dropped connections "
                        "(default: no count limit, --retry-for bounds retries)")
    parser.add_argument("--retry-for", default=f"{DEFAULT_RETRY_FOR_SECONDS:g}s", metavar="DURATION",
                        help="keep retrying a request that fails on a transient cause (network, 5xx, "
                        "throttling) for this long, e.g. 90s, 5m (default %(default)s); then stop, "
                        "keeping the upload resumable (exit 75)")
    parser.add_argument("--role-arn", help="assume this IAM role (temporary credentials) first")
    parser.add_argument("--external-id", help="external id for --role-arn")
    parser.add_argument("--json", action="store_true", help="print a JSON summary on stdout")


def _transfer_config(args: argparse.Namespace, checksum: str = DEFAULT_CHECKSUM_ALGORITHM):
    from .config import TransferConfig

    part_size = parse_size(args.part_size)
    try:
        retry_for = parse_duration(args.retry_for)
    except ValueError as error:
        raise ValueError(f"--retry-for: {error}") from None
    return TransferConfig(part_size=part_size, concurrency=args.concurrency,
                          checksum_algorithm=checksum, max_attempts=args.max_attempts,
                          retry_for_seconds=retry_for)


def _client(args: argparse.Namespace, tenant_id: Optional[str] = None):
    from .clients import make_s3_client

    if not args.region:
        raise ValueError("a region is required: pass --region or set AWS_REGION")
    if args.external_id and not args.role_arn:
        raise ValueError("--external-id needs --role-arn")
    session = None
    if args.role_arn:
        from securestore.sts import assume_role_session

        session = assume_role_session(args.role_arn, tenant_id=tenant_id, external_id=args.external_id,
                                      region_name=args.region)
    return make_s3_client(session, region_name=args.region, endpoint_url=args.endpoint_url,
                          concurrency=getattr(args, "concurrency", DEFAULT_CONCURRENCY))


def _object_key(args: argparse.Namespace) -> str:
    if args.key is not None:
        if args.module:
            raise ValueError("--module goes with --tenant, not --key")
        return args.key
    if not args.module:
        raise ValueError("--tenant needs --module")
    from securestore.keys import build_key

    return build_key(args.tenant, args.module, os.path.basename(args.file))


def _close(bar: Any) -> None:
    if bar is not None:
        bar.close()


class _TerminateAsInterrupt:
    """Turn SIGTERM into KeyboardInterrupt while a transfer runs, so it aborts cleanly too."""

    def __enter__(self):
        try:
            self._previous = signal.signal(signal.SIGTERM, self._raise)
        except ValueError:  # not the main thread
            self._previous = None
        return self

    @staticmethod
    def _raise(signum, frame):
        raise KeyboardInterrupt()

    def __exit__(self, *exc):
        if self._previous is not None:
            signal.signal(signal.SIGTERM, self._previous)


def _connection_flags(args: argparse.Namespace) -> list[str]:
    flags = ["--bucket", args.bucket]
    for flag, value in (("--endpoint-url", args.endpoint_url), ("--region", args.region),
                        ("--role-arn", args.role_arn), ("--external-id", args.external_id)):
        if value:
            flags += [flag, value]
    return flags


def _resume_command(args: argparse.Namespace, key: str) -> str:
    """The exact command that continues this upload (the resolved key: a --tenant key has a date)."""
    command = ["securestore", "upload", args.file, "--key", key, *_connection_flags(args)]
    if args.checksum != DEFAULT_CHECKSUM_ALGORITHM:
        command += ["--checksum", args.checksum]
    if args.state_file:
        command += ["--state-file", args.state_file]
    return shlex.join(command + ["--resume"])


def _give_up_command(args: argparse.Namespace, key: str, upload_id: Optional[str]) -> str:
    command = ["securestore", "uploads", "abort", *_connection_flags(args), "--key", key]
    if upload_id:
        command += ["--upload-id", upload_id]
    return shlex.join(command)


def _next_steps(args: argparse.Namespace, key: str, pending: Any) -> str:
    upload_id = getattr(pending, "upload_id", None)
    if not upload_id:
        return f"\n  run it again:  {_resume_command(args, key)}"
    return (f"\n  continue:  {_resume_command(args, key)}"
            f"\n  give up:   {_give_up_command(args, key, upload_id)}")


def run_upload(args: argparse.Namespace) -> int:
    from .errors import TemporaryTransferError, TransferError, UploadInterrupted, UploadPendingError
    from .progress import terminal_bar
    from .upload import upload_file

    if not os.path.isfile(args.file):
        raise ValueError(f"{args.file!r} is not a readable file")
    config = _transfer_config(args, args.checksum)
    key = _object_key(args)
    client = _client(args, tenant_id=args.tenant)
    bar = terminal_bar(f"upload {os.path.basename(args.file)}", os.path.getsize(args.file))
    try:
        with _TerminateAsInterrupt():
            result = upload_file(client, args.file, args.bucket, key, config=config,
                                 sse_kms_key_id=args.sse_kms_key_id, content_type=args.content_type,
                                 progress=bar, state_path=args.state_file, resume=args.resume)
    except UploadInterrupted as interrupted:
        _close(bar)
        steps = _next_steps(args, key, interrupted.pending) if interrupted.kept else ""
        print(f"securestore upload: {interrupted.message}{steps}", file=sys.stderr)
        return EXIT_INTERRUPTED
    except KeyboardInterrupt:
        _close(bar)
        print("securestore upload: interrupted; no multipart upload was left open", file=sys.stderr)
        return EXIT_INTERRUPTED
    except UploadPendingError as pending:
        _close(bar)
        print(f"securestore upload: error: {pending}{_next_steps(args, key, pending.pending)}",
              file=sys.stderr)
        return EXIT_USAGE
    except TemporaryTransferError as error:
        _close(bar)
        print(f"securestore upload: temporary failure: {error}{_next_steps(args, key, error.pending)}",
              file=sys.stderr)
        return EXIT_TEMPORARY
    except (TransferError, OSError) as error:
        _close(bar)
        print(f"securestore upload: failed: {error}", file=sys.stderr)
        return EXIT_FAILED
    _close(bar)
    if args.json:
        print(json.dumps(result.summary(), sort_keys=True))
    else:
        verified = "" if result.verified else "; whole-object checksum not re-read: another writer " \
            "replaced the key first (each part's checksum was checked by S3)"
        print(f"uploaded {result.size} bytes to s3://{result.bucket}/{result.key} in "
              f"{result.seconds:.2f}s ({result.checksum_algorithm} {result.checksum}{verified})",
              file=sys.stderr)
    return 0


def run_download(args: argparse.Namespace) -> int:
    from .download import download_file
    from .errors import TransferError
    from .progress import terminal_bar

    config = _transfer_config(args)
    client = _client(args)
    bar_holder: dict[str, Any] = {}

    def progress(done: int, total: int) -> None:
        if "bar" not in bar_holder:
            bar_holder["bar"] = terminal_bar(f"download {os.path.basename(args.key)}", total)
        if bar_holder["bar"] is not None:
            bar_holder["bar"](done, total)

    try:
        with _TerminateAsInterrupt():
            result = download_file(client, args.bucket, args.key, args.dest, config=config,
                                   version_id=args.version_id, progress=progress,
                                   verify=not args.no_verify, require_checksum=args.require_checksum)
    except KeyboardInterrupt:
        _close(bar_holder.get("bar"))
        print("securestore download: interrupted; nothing was written", file=sys.stderr)
        return EXIT_INTERRUPTED
    except (TransferError, OSError) as error:
        _close(bar_holder.get("bar"))
        print(f"securestore download: failed: {error}", file=sys.stderr)
        return EXIT_FAILED
    _close(bar_holder.get("bar"))
    if args.json:
        print(json.dumps(result.summary(), sort_keys=True))
    else:
        if result.verified:
            check = f"{result.checksum_algorithm} {result.checksum} verified"
        elif args.no_verify:
            check = "checksum NOT checked: --no-verify"
        else:
            check = "checksum NOT checked: the object has no stored checksum"
        print(f"downloaded {result.size} bytes to {result.path} in {result.seconds:.2f}s ({check})",
              file=sys.stderr)
    return 0


def _register_uploads(subparsers: Any) -> None:
    """``securestore uploads list|abort``: the unfinished multipart uploads nothing else shows."""
    uploads = subparsers.add_parser(
        "uploads", help="list or abort unfinished multipart uploads",
        description="Unfinished multipart uploads (left by kill -9, a lost network, or an interrupt "
        "whose abort was not confirmed) cost storage and show in no object listing.")
    actions = uploads.add_subparsers(dest="uploads_command", metavar="ACTION", required=True)
    listing = actions.add_parser("list", help="list open multipart uploads")
    abort = actions.add_parser("abort", help="abort open multipart uploads by key, upload id or prefix")
    for parser in (listing, abort):
        parser.add_argument("--bucket", required=True, help="the bucket")
        parser.add_argument("--endpoint-url", help="S3 endpoint (e.g. a local S3-compatible server)")
        parser.add_argument("--region", default=os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION"),
                            help="AWS region (default $AWS_REGION or $AWS_DEFAULT_REGION)")
        parser.add_argument("--role-arn", help="assume this IAM role (temporary credentials) first")
        parser.add_argument("--external-id", help="external id for --role-arn")
        parser.add_argument("--tenant", help="only this tenant's keys (tenant_id/...); anything else is refused")
        parser.add_argument("--prefix", help="only keys starting with this prefix")
        parser.add_argument("--key", help="only this key")
        parser.add_argument("--json", action="store_true", help="print JSON on stdout")
    abort.add_argument("--upload-id", help="only this upload")
    listing.set_defaults(handler=run_uploads_list)
    abort.set_defaults(handler=run_uploads_abort)


def _selected_uploads(args: argparse.Namespace, client: Any) -> list:
    from .pending import list_open_uploads

    scope = ""
    if args.tenant:
        from securestore.keys import tenant_prefix

        scope = tenant_prefix(args.tenant)
        for flag, value in (("--prefix", args.prefix), ("--key", args.key)):
            if value is not None and not value.startswith(scope):
                raise ValueError(f"{flag} {value!r} is outside tenant {args.tenant!r} (keys start with {scope!r})")
    prefix = args.key if args.key is not None else (args.prefix if args.prefix is not None else scope)
    found = list_open_uploads(client, args.bucket, prefix)
    if args.key is not None:
        found = [upload for upload in found if upload.key == args.key]
    if getattr(args, "upload_id", None):
        found = [upload for upload in found if upload.upload_id == args.upload_id]
    return found


def run_uploads_list(args: argparse.Namespace) -> int:
    from .errors import describe_error

    client = _client(args, tenant_id=args.tenant)
    try:
        found = _selected_uploads(args, client)
    except ValueError:
        raise
    except Exception as error:  # noqa: BLE001 - one line, not a traceback
        print(f"securestore uploads list: failed: {describe_error(error)}", file=sys.stderr)
        return EXIT_FAILED
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
    from .errors import describe_error
    from .pending import abort_open_upload

    if args.key is None and args.prefix is None and not args.upload_id and not args.tenant:
        raise ValueError("say which uploads to abort: --key, --upload-id, --prefix or --tenant")
    client = _client(args, tenant_id=args.tenant)
    try:
        found = _selected_uploads(args, client)
    except ValueError:
        raise
    except Exception as error:  # noqa: BLE001
        print(f"securestore uploads abort: failed: {describe_error(error)}", file=sys.stderr)
        return EXIT_FAILED
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
