"""``securestore upload`` and ``securestore download``.

Registration only builds parsers; boto3, the key builder and STS are imported inside the
handlers. Exit status: 0 done, 1 the transfer failed (the message says what state S3 is left
in), 2 bad input, 130 interrupted (the multipart upload is aborted first).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
from typing import Any, Optional

from .config import (
    CHECKSUM_ALGORITHMS, DEFAULT_CHECKSUM_ALGORITHM, DEFAULT_CONCURRENCY, DEFAULT_MAX_ATTEMPTS,
    DEFAULT_PART_SIZE, format_size, parse_size,
)

EXIT_FAILED = 1
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
                        help="journal finished parts in a state file and continue an upload that was "
                        "killed before it could finish or abort")
    upload.add_argument("--state-file", help="where --resume keeps its journal "
                        "(default: under $XDG_CACHE_HOME/securestore/uploads)")
    upload.set_defaults(handler=run_upload)

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
                          help="allow objects that carry no checksum (not verified)")
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
                        help="tries per request on 5xx or dropped connections (default %(default)s)")
    parser.add_argument("--role-arn", help="assume this IAM role (temporary credentials) first")
    parser.add_argument("--external-id", help="external id for --role-arn")
    parser.add_argument("--json", action="store_true", help="print a JSON summary on stdout")


def _transfer_config(args: argparse.Namespace, checksum: str = DEFAULT_CHECKSUM_ALGORITHM):
    from .config import TransferConfig

    part_size = parse_size(args.part_size)
    return TransferConfig(part_size=part_size, concurrency=args.concurrency,
                          checksum_algorithm=checksum, max_attempts=args.max_attempts)


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
                          concurrency=args.concurrency)


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


def run_upload(args: argparse.Namespace) -> int:
    from .errors import TransferError
    from .progress import terminal_bar
    from .resume import default_state_path
    from .upload import upload_file

    if not os.path.isfile(args.file):
        raise ValueError(f"{args.file!r} is not a readable file")
    config = _transfer_config(args, args.checksum)
    key = _object_key(args)
    client = _client(args, tenant_id=args.tenant)
    state_path = None
    if args.resume:
        state_path = args.state_file or default_state_path(args.file, args.bucket, key)
    elif args.state_file:
        raise ValueError("--state-file goes with --resume")
    bar = terminal_bar(f"upload {os.path.basename(args.file)}", os.path.getsize(args.file))
    try:
        with _TerminateAsInterrupt():
            result = upload_file(client, args.file, args.bucket, key, config=config,
                                 sse_kms_key_id=args.sse_kms_key_id, content_type=args.content_type,
                                 progress=bar, state_path=state_path)
    except KeyboardInterrupt:
        _close(bar)
        print("securestore upload: interrupted; the multipart upload (if any) was aborted",
              file=sys.stderr)
        return EXIT_INTERRUPTED
    except (TransferError, OSError) as error:
        _close(bar)
        print(f"securestore upload: failed: {error}", file=sys.stderr)
        return EXIT_FAILED
    _close(bar)
    if args.json:
        print(json.dumps(result.summary(), sort_keys=True))
    else:
        print(f"uploaded {result.size} bytes to s3://{result.bucket}/{result.key} in "
              f"{result.seconds:.2f}s ({result.checksum_algorithm} {result.checksum})", file=sys.stderr)
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
                                   verify=not args.no_verify)
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
        print(f"downloaded {result.size} bytes to {result.path} in {result.seconds:.2f}s "
              f"({result.checksum_algorithm} {result.checksum} verified)", file=sys.stderr)
    return 0
