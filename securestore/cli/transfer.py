"""``securestore upload`` and ``securestore download``: one file, a directory (``--recursive``),
or a stream (``-``), with the flags ``aws s3 cp`` users reach for first.

Registration only builds parsers; boto3, the key builder and STS are imported inside the
handlers. Settings (bucket, region, endpoint, profile, role) resolve as for every command
(``securestore.cli.settings``). Exit status: 0 done, 1 the transfer failed (the message
says what state S3 is left in), 2 bad input (one line naming the flag), 75 (``EX_TEMPFAIL``)
retries ran out on a transient cause: the upload and its journal are kept and the message prints
the command that continues it and the one that gives it up; 130 interrupted (the message says
whether the upload was aborted or kept). ``securestore uploads list|abort`` shows and ends
unfinished multipart uploads. Text goes to stderr; stdout carries only ``--json`` and
the bytes of ``download KEY -``.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import sys
from typing import Any, Optional

from securestore.transfer.config import DEFAULT_CHECKSUM_ALGORITHM

from . import options, settings
from .errors import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_TEMPFAIL, EXIT_USAGE, UsageError, aws_failure
from .errors import TerminateAsInterrupt as _TerminateAsInterrupt
from .settings import transfer_config as _transfer_config

STORAGE_CLASSES = ("STANDARD", "STANDARD_IA", "ONEZONE_IA", "INTELLIGENT_TIERING", "GLACIER_IR",
                   "GLACIER", "DEEP_ARCHIVE", "REDUCED_REDUNDANCY")


# ------------------------------------------------------------------ parsers
def register(subparsers: Any) -> None:
    upload = subparsers.add_parser(
        "upload", help="upload a file, a directory (--recursive) or stdin (-) to S3",
        description="Upload SOURCE to s3://BUCKET/KEY. SOURCE is a file, a directory with "
        "--recursive, or - for stdin. Small files go up in one PUT; larger ones in parallel parts, "
        "each with its checksum, the whole-object checksum verified at the end. Any failure or "
        "Ctrl-C aborts the multipart upload. Like `aws s3 cp`: a --key ending in / gets the file "
        "name appended; the content type is guessed from the file name.")
    upload.add_argument("file", metavar="SOURCE", help="local file, directory (with --recursive) or - (stdin)")
    upload.add_argument("destination", metavar="S3_ADDRESS", nargs="?",
                        help="where to: s3://BUCKET/KEY as aws s3 cp takes it (ending in / a prefix), "
                        "instead of --key/--bucket")
    target = upload.add_mutually_exclusive_group()
    target.add_argument("--key", help="object key; ending in / it is a prefix the file name (or, with "
                        "--recursive, the relative path) is appended to")
    options.TENANT.add(target, help="tenant id: the key becomes TENANT/MODULE/yyyy/mm/dd/<file name>; "
                       "with --role-arn also the session tag tenant_id")
    upload.add_argument("--module", help="module under the tenant (with --tenant)")
    _add_common(upload)
    options.CHECKSUM.add(upload)
    options.KMS_KEY_ID.add(upload, help="KMS key for SSE-KMS (default $SECURESTORE_KMS_KEY_ID; "
                           "without one the bucket's default encryption applies)")
    options.CONTENT_TYPE.add(upload, help="Content-Type stored with the object (default: guessed "
                             "from the file name with mimetypes, as aws s3 cp does)")
    options.METADATA.add(upload)
    upload.add_argument("--cache-control", help="Cache-Control stored with the object")
    upload.add_argument("--content-disposition", help="Content-Disposition stored with the object")
    upload.add_argument("--storage-class", choices=STORAGE_CLASSES, help="S3 storage class (default: STANDARD)")
    upload.add_argument("--expected-size", type=options.size, metavar="SIZE",
                        help="with SOURCE -: about how long stdin is, so the part size grows to fit "
                        "10,000 parts (e.g. 200GiB)")
    upload.add_argument("--resume", action="store_true",
                        help="continue the unfinished upload of this file to this key, if one is "
                        "journalled (every multipart upload is); without it such an upload is an error")
    upload.add_argument("--state-file", help="the upload's journal (default: under "
                        "$XDG_STATE_HOME/securestore/uploads, ~/.local/state/... when unset, else a "
                        "private directory under the temporary directory); one upload per file")
    upload.add_argument("--parts-via-botocore", action="store_true",
                        help="send each part through botocore's upload_part instead of the "
                        "transfer's own pre-signed connections (slower; for a middlebox or a "
                        "debugging hook that must see every request)")
    upload.add_argument("--wait-for-scan", nargs="?", const=DEFAULT_SCAN_WAIT_SECONDS, type=_wait_seconds,
                        metavar="SECONDS",
                        help="where the bucket is malware-scanned (GuardDuty): wait up to SECONDS "
                        f"(default {DEFAULT_SCAN_WAIT_SECONDS:.0f}) for the verdict; exit 1 naming the status "
                        "when it is not NO_THREATS_FOUND, 75 when no verdict came in time")
    upload.set_defaults(handler=run_upload)

    download = subparsers.add_parser(
        "download", help="download an object, a prefix (--recursive) or to stdout (-), checksum verified",
        description="Download s3://BUCKET/KEY to DEST (a file, a directory to put it in, or - for "
        "stdout). With --recursive, KEY is a prefix and DEST a directory. The bytes are written to "
        "a temporary file, verified against the stored checksum and renamed into place atomically; "
        "the file gets the mode your umask gives, like cp.")
    download.add_argument("key", metavar="KEY", help="the object key or s3://BUCKET/KEY (with --recursive: "
                          "a prefix; with --tenant it may be omitted to mean the whole tenant)")
    download.add_argument("dest", metavar="DEST", help="destination file, or a directory (existing, or "
                          "ending in /) to put DEST/<file name> in, or - for stdout")
    options.TENANT.add(download, help="tenant id: KEY must lie under TENANT/; with --role-arn also "
                       "the session tag tenant_id")
    _add_common(download)
    download.add_argument("--version-id", help="download this version of the object")
    download.add_argument("--no-verify", action="store_true",
                          help="do not check the stored checksum (reported as NOT checked)")
    download.add_argument("--require-checksum", action="store_true",
                          help="refuse an object that carries no checksum (by default it is "
                          "downloaded and reported as NOT checked)")
    download.set_defaults(handler=run_download)


DEFAULT_SCAN_WAIT_SECONDS = 300.0
"""Same as ``securestore.scan.DEFAULT_WAIT_SECONDS`` (a test checks); not imported here so that
building the parser stays free of library imports."""


def _wait_seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a number of seconds (put --wait-for-scan after SOURCE and S3_ADDRESS, "
            "or give it a value)") from None
    if not 0 < value <= 86400:
        raise argparse.ArgumentTypeError(f"{text!r}: give 1 to 86400 seconds")
    return value


def _await_scan(args: argparse.Namespace, client, key: str, version_id: Optional[str]) -> Optional[int]:
    """With --wait-for-scan: wait for GuardDuty's verdict; the exit status when it is not clean."""
    if args.wait_for_scan is None:
        return None
    from securestore.scan import Quarantined, ScanWaitTimeout, wait_for_scan

    try:
        status = wait_for_scan(client, args.bucket, key, timeout=args.wait_for_scan, version_id=version_id)
    except Quarantined as quarantined:
        print(f"securestore upload: {quarantined}", file=sys.stderr)
        return EXIT_FAILED
    except ScanWaitTimeout as timeout:
        print(f"securestore upload: {timeout}", file=sys.stderr)
        return EXIT_TEMPFAIL
    except Exception as error:  # noqa: BLE001 - AWS refused reading the tag: one line
        from securestore.transfer.errors import describe_error

        print(f"securestore upload: uploaded, but the scan verdict cannot be read: {describe_error(error)}",
              file=sys.stderr)
        return EXIT_FAILED
    _say(args, f"scan verdict: {status}")
    return None


def _add_common(parser: argparse.ArgumentParser) -> None:
    options.add(parser, options.BUCKET)
    options.RECURSIVE.add(parser, help="transfer a whole directory / key prefix (files in parallel, one summary)")
    options.add(parser, options.INCLUDE, options.EXCLUDE)
    options.add_transfer_tuning(parser)
    options.DRYRUN.add(parser, help="print what would be transferred; transfer nothing")
    options.add(parser, options.QUIET, options.NO_PROGRESS)
    options.JSON.add(parser, help="print a JSON summary on stdout")
    options.add_aws(parser)


# ------------------------------------------------------------------ shared plumbing
def _client(args: argparse.Namespace, tenant_id: Optional[str] = None, bucket: Optional[str] = None):
    return settings.s3_client(args, tenant_id=tenant_id, concurrency=args.concurrency, bucket=bucket)


def _check_filters(args: argparse.Namespace) -> None:
    if args.filters and not args.recursive:
        raise UsageError("--include/--exclude go with --recursive")


def _say(args: argparse.Namespace, line: str) -> None:
    if not args.quiet:
        print(line, file=sys.stderr)


def _notifier(args: argparse.Namespace, command: str, bar: Any = None):
    """What the engine says while it runs (retries, journal repairs, an interrupt's wait), one
    line each on stderr, above the progress bar when there is one; nothing with --quiet."""
    def notify(line: str) -> None:
        if args.quiet:
            return
        text = f"securestore {command}: {line}"
        target = bar() if callable(bar) and not hasattr(bar, "note") else bar
        if target is not None and hasattr(target, "note"):
            target.note(text)
        else:
            print(text, file=sys.stderr)
    return notify


def _bar(args: argparse.Namespace, label: str, total: int):
    from securestore.transfer.bar import progress_bar

    return progress_bar(label, total, enabled=not (args.quiet or args.no_progress or args.dryrun))


def _close(bar: Any) -> None:
    if bar is not None:
        bar.close()


class _LazyBar:
    """A progress callback whose bar opens at the first report, once the total size is known."""

    def __init__(self, args: argparse.Namespace, label: str) -> None:
        self._args, self._label = args, label
        self._bar: Any = None
        self._opened = False

    def current(self) -> Any:
        return self._bar

    def __call__(self, done: int, total: int) -> None:
        if not self._opened:
            self._bar, self._opened = _bar(self._args, self._label, total), True
        if self._bar is not None:
            self._bar(done, total)

    def close(self) -> None:
        _close(self._bar)


def _umask_mode() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


def _rate(size: int, seconds: float) -> str:
    from securestore.transfer.bar import format_bytes, format_rate

    return f"{format_bytes(size)} in {seconds:.2f}s ({format_rate(size / seconds if seconds > 0 else 0)})"


# ------------------------------------------------------------------ upload
def _object_args(args: argparse.Namespace) -> dict[str, str]:
    extra = {}
    for flag, name in (("cache_control", "CacheControl"), ("content_disposition", "ContentDisposition"),
                       ("storage_class", "StorageClass")):
        if getattr(args, flag, None):
            extra[name] = getattr(args, flag)
    return extra


def _metadata(args: argparse.Namespace) -> dict[str, str]:
    from securestore.transfer.upload import PART_SIZE_METADATA_KEY

    metadata: dict[str, str] = {}
    for name, value in args.metadata or []:
        if name in metadata and metadata[name] != value:
            raise UsageError(f"--metadata {name} is given twice ({metadata[name]!r} and {value!r})")
        metadata[name] = value
    if PART_SIZE_METADATA_KEY in metadata:
        raise UsageError(f"--metadata {PART_SIZE_METADATA_KEY} is reserved (downloads verify with it)")
    return metadata


def _content_type(args: argparse.Namespace, name: str) -> Optional[str]:
    if args.content_type:
        return args.content_type
    import mimetypes

    return mimetypes.guess_type(name, strict=False)[0]


def _key_namer(args: argparse.Namespace):
    """key_for(relative path) for this command's --key / --tenant --module."""
    if args.key is not None:
        if args.module:
            raise UsageError("--module goes with --tenant, not --key")
        if args.key == "" or args.key.startswith("/"):
            raise UsageError(f"--key {args.key!r}: give a key or a prefix ending in / (not starting with /)")
        if args.recursive:
            from securestore.transfer.batch import relative_key

            prefix = args.key
            return lambda relative: relative_key(prefix, relative)
        return lambda relative: _target_key(args.key, relative)
    if not args.module:
        raise UsageError("--tenant needs --module (the key is TENANT/MODULE/yyyy/mm/dd/<file name>)")
    from securestore.keys import build_key, validate_module, validate_tenant_id

    try:
        validate_tenant_id(args.tenant)
        validate_module(args.module)
    except ValueError as exc:
        raise UsageError(f"--tenant/--module: {exc}") from None
    return lambda relative: build_key(args.tenant, args.module, relative.rsplit("/", 1)[-1])


def _target_key(key: str, relative: str) -> str:
    from securestore.transfer.batch import target_key

    return target_key(key, relative.rsplit("/", 1)[-1])


def _object_key(args: argparse.Namespace) -> str:
    name = "" if args.file == "-" else os.path.basename(args.file)
    if args.file == "-" and (args.key is None or args.key.endswith("/")):
        raise UsageError("upload - (stdin) needs --key with the full object key (there is no file name to use)")
    try:
        return _key_namer(args)(name)
    except ValueError as exc:
        if type(exc).__name__ == "UsageError":
            raise
        raise UsageError(f"--tenant/--module: {exc}") from None


def _upload_target(args: argparse.Namespace) -> None:
    """One destination: S3_ADDRESS, --key or --tenant/--module; an s3:// address sets the bucket."""
    if args.destination is not None:
        if args.key is not None or args.tenant is not None:
            raise UsageError("give the destination once: S3_ADDRESS, --key or --tenant")
        args.key = args.destination
    if args.key is None and args.tenant is None:
        raise UsageError("say where to upload: s3://BUCKET/KEY, --key KEY or --tenant T --module M")
    args.key = settings.s3_address(args, args.key, "S3_ADDRESS" if args.destination is not None else "--key")


def run_upload(args: argparse.Namespace) -> int:
    _check_filters(args)
    _upload_target(args)
    args.bucket = settings.bucket(args.bucket)
    args.kms_key_id = settings.kms_key_id(args.kms_key_id)
    config = _transfer_config(args, args.checksum)
    metadata, object_args = _metadata(args), _object_args(args)
    if args.file == "-":
        return _upload_stdin(args, config, metadata, object_args)
    if os.path.isdir(args.file):
        if not args.recursive:
            raise UsageError(f"{args.file!r} is a directory: add --recursive to upload all of it")
        return _upload_directory(args, config, metadata, object_args)
    if args.recursive:
        raise UsageError(f"--recursive needs a directory; {args.file!r} is not one")
    if args.expected_size is not None:
        raise UsageError("--expected-size goes with SOURCE - (stdin)")
    if not os.path.isfile(args.file):
        raise UsageError(f"SOURCE {args.file!r} does not exist (or is not a regular file)")
    if not os.access(args.file, os.R_OK):
        raise UsageError(f"SOURCE {args.file!r} is not readable (permission denied)")
    return _upload_one(args, config, metadata, object_args)


def _upload_one(args, config, metadata, object_args) -> int:
    from securestore.transfer.upload import upload_file

    key = _object_key(args)
    content_type = _content_type(args, args.file)
    if args.dryrun:
        _say(args, f"(dryrun) upload: {args.file} to s3://{args.bucket}/{key}")
        return 0
    client = _client(args, tenant_id=args.tenant)
    bar = _bar(args, f"upload {os.path.basename(args.file)}", os.path.getsize(args.file))
    return _run_upload(args, client, key, bar, lambda: upload_file(
        client, args.file, args.bucket, key, config=config, sse_kms_key_id=args.kms_key_id,
        content_type=content_type, metadata=metadata, object_args=object_args, progress=bar,
        state_path=args.state_file, resume=args.resume, notify=_notifier(args, "upload", bar)))


def _upload_stdin(args, config, metadata, object_args) -> int:
    from securestore.transfer.stream_upload import upload_stream

    if args.recursive or args.resume:
        raise UsageError("upload - (stdin) cannot be --recursive or --resume")
    key = _object_key(args)
    if args.dryrun:
        _say(args, f"(dryrun) upload: - to s3://{args.bucket}/{key}")
        return 0
    client = _client(args, tenant_id=args.tenant)
    extra = dict(object_args)
    if args.kms_key_id:
        extra.update(ServerSideEncryption="aws:kms", SSEKMSKeyId=args.kms_key_id)
    if args.content_type:
        extra["ContentType"] = args.content_type
    bar = _bar(args, "upload -", args.expected_size or 0)
    return _run_upload(args, client, key, bar, lambda: upload_stream(
        client, sys.stdin.buffer, args.bucket, key, config=config, expected_size=args.expected_size,
        extra_args=extra, metadata=metadata, progress=bar, notify=_notifier(args, "upload", bar)))


def _run_upload(args, client, key: str, bar, start) -> int:
    """Run one upload (``start()``) and say how it ended: the outcome in brackets on every line,
    and the one mapping of its errors to exit statuses (0/1/2/75/130)."""
    from securestore.transfer.errors import TemporaryTransferError, TransferError, UploadInterrupted, UploadPendingError

    resumable = args.file != "-"  # a stream cannot be continued: no resume command to print
    try:
        with _TerminateAsInterrupt():
            result = start()
    except UploadInterrupted as interrupted:
        _close(bar)
        steps = _next_steps(args, key, interrupted.pending) if resumable and interrupted.kept and \
            getattr(interrupted.pending, "upload_id", None) else ""
        print(f"securestore upload: {interrupted.message} [{interrupted.outcome}]{steps}", file=sys.stderr)
        if args.json and interrupted.result is not None:
            print(json.dumps(interrupted.result.summary(), sort_keys=True))
        return EXIT_INTERRUPTED
    except KeyboardInterrupt:
        _close(bar)
        print("securestore upload: interrupted; no multipart upload was left open [not-stored-and-cleaned]",
              file=sys.stderr)
        return EXIT_INTERRUPTED
    except UploadPendingError as pending:
        _close(bar)
        print(f"securestore upload: error: {pending}{_next_steps(args, key, pending.pending)}",
              file=sys.stderr)
        return EXIT_USAGE
    except TemporaryTransferError as error:
        _close(bar)
        steps = _next_steps(args, key, error.pending) if resumable else ""
        print(f"securestore upload: temporary failure: {error} [{error.outcome}]{steps}", file=sys.stderr)
        return EXIT_TEMPFAIL
    except (TransferError, OSError) as error:
        _close(bar)
        outcome = getattr(error, "outcome", "not-stored-and-cleaned")
        print(f"securestore upload: failed: {error} [{outcome}]", file=sys.stderr)
        return EXIT_FAILED
    _close(bar)
    refused = _await_scan(args, client, key, result.version_id)
    if refused is not None:
        return refused
    if args.json:
        print(json.dumps(result.summary(), sort_keys=True))
        return 0
    verified = "" if result.verified else "; whole-object checksum not re-read: another writer " \
        "replaced the key first (each part's checksum was checked by S3)"
    source = "stdin" if args.file == "-" else args.file
    _say(args, f"uploaded {result.size} bytes from {source} to s3://{result.bucket}/{result.key} in "
         f"{result.seconds:.2f}s ({result.checksum_algorithm} {result.checksum}{verified}) [{result.outcome}]")
    return 0


def _upload_directory(args, config, metadata, object_args) -> int:
    from securestore.transfer.batch import plan_directory_upload
    from securestore.transfer.upload import upload_file

    if args.expected_size is not None:
        raise UsageError("--expected-size goes with SOURCE - (stdin)")
    if args.state_file:
        raise UsageError("--state-file goes with a single file (each file of --recursive has its own journal)")
    if args.wait_for_scan is not None:
        raise UsageError("--wait-for-scan waits for one object: upload a single file or stdin")
    items, problems = plan_directory_upload(args.file, _key_namer(args), args.filters)
    where = f"s3://{args.bucket}/{args.key if args.key is not None else args.tenant + '/' + args.module + '/'}"
    if _planned(args, "upload", where, items, problems):
        return _problems_status(problems)
    client = _client(args, tenant_id=args.tenant, bucket=args.bucket)

    def transfer(item, item_config, progress):
        return upload_file(client, item.local, args.bucket, item.key, config=item_config,
                           sse_kms_key_id=args.kms_key_id, content_type=_content_type(args, item.local),
                           metadata=metadata, object_args=object_args, progress=progress,
                           resume=args.resume).summary()

    return _run_many(args, "upload", where, items, transfer, config, problems,
                     small_puts=_small_puts(args, client, config, metadata, object_args))


def _small_puts(args, client, config, metadata, object_args):
    """Small files from one thread (``transfer/small_puts.py``), with the PutObject arguments
    ``upload_file`` would send; an argument it refuses leaves the file to it (it says why)."""
    from securestore.transfer.small_puts import SmallPuts
    from securestore.transfer.upload import object_extra_args

    def extra_args_for(item):
        try:
            extra = object_extra_args(args.kms_key_id, _content_type(args, item.local), object_args)
        except ValueError:
            return None
        return {**extra, "Metadata": dict(metadata or {})}

    return SmallPuts(client, args.bucket, config), extra_args_for


def _arrow(args, action: str, item) -> str:
    remote = f"s3://{args.bucket}/{item.key}"
    return f"{item.local} to {remote}" if action == "upload" else f"{remote} to {item.local}"


def _planned(args, action: str, where: str, items, problems) -> bool:
    """Report the files a --recursive plan skipped; with --dryrun print the plan and say so
    (True: nothing more to do)."""
    for problem in problems:
        warning = "warning: " if type(problem).__name__ == "Skipped" else ""
        print(f"securestore {action}: {warning}skipped: {problem}", file=sys.stderr)
    if not args.dryrun:
        return False
    for item in items:
        _say(args, f"(dryrun) {action}: {_arrow(args, action, item)}")
    _emit_summary(args, action, where, _empty_outcome(), dry=len(items))
    return True


def _empty_outcome():
    from securestore.transfer.batch import Outcome

    return Outcome()


def _run_many(args, action: str, where: str, items, transfer, config, problems, small_puts=None) -> int:
    from securestore.transfer.batch import run_batch

    bar = _bar(args, f"{action} {len(items)} files", sum(item.size for item in items))

    def on_done(item, summary, error):
        if error is not None:
            print(f"securestore {action}: failed: {item.local} <-> s3://{args.bucket}/{item.key}: {error}",
                  file=sys.stderr)
        elif bar is None:
            _say(args, f"{action}: {_arrow(args, action, item)}")

    try:
        with _TerminateAsInterrupt():
            outcome = run_batch(items, transfer, config=config, small_below=config.multipart_threshold,
                                on_done=on_done, advance=bar.advance if bar is not None else None,
                                small_puts=small_puts)
    except KeyboardInterrupt:
        _close(bar)
        print(f"securestore {action}: interrupted; unfinished multipart uploads were aborted", file=sys.stderr)
        return EXIT_INTERRUPTED
    _close(bar)
    _emit_summary(args, action, where, outcome)
    if outcome.failed and not problems and all(f.get("temporary") for f in outcome.failed):
        return EXIT_TEMPFAIL  # every failure was transient: running the same command again may finish
    return EXIT_FAILED if outcome.failed else _problems_status(problems)


def _problems_status(problems) -> int:
    """1 when something could not be planned (a key clash), 2 when files were only skipped
    (FIFOs, dangling links, link loops, unreadable files: ``aws s3 cp`` warns and exits 2), else 0."""
    if any(type(problem).__name__ != "Skipped" for problem in problems):
        return EXIT_FAILED
    return EXIT_USAGE if problems else 0


def _emit_summary(args, action: str, where: str, outcome, dry: Optional[int] = None) -> None:
    if args.json:
        summary = outcome.summary(action, where)
        if dry is not None:
            summary.update(dryrun=True, files=dry)
        print(json.dumps(summary, sort_keys=True))
        return
    if dry is not None:
        _say(args, f"(dryrun) would {action} {dry} files")
        return
    verb = "uploaded" if action == "upload" else "downloaded"
    failed = f"; {len(outcome.failed)} failed" if outcome.failed else ""
    direction = "to" if action == "upload" else "from"
    _say(args, f"{verb} {len(outcome.done)} files, {_rate(outcome.bytes, outcome.seconds)} {direction} {where}{failed}")


# ------------------------------------------------------------------ download
def _download_key(args: argparse.Namespace) -> str:
    if args.tenant is None:
        return args.key
    return settings.tenant_scope(args.tenant, args.key, "KEY", single=not args.recursive)


def run_download(args: argparse.Namespace) -> int:
    _check_filters(args)
    args.key = settings.s3_address(args, args.key, "KEY")
    args.bucket = settings.bucket(args.bucket)
    config = _transfer_config(args)
    key = _download_key(args)
    if args.recursive:
        return _download_prefix(args, config, key)
    if not key:
        raise UsageError("KEY must not be empty")
    if args.dest == "-":
        return _download_stdout(args, key)
    # DEST ending in / (or an existing directory) receives DEST/<the key's file name>, as with
    # aws s3 cp; a missing directory named so is made, once its parent exists.
    into_directory = args.dest.endswith(("/", os.sep)) or os.path.isdir(args.dest)
    parent = args.dest if into_directory else os.path.dirname(os.path.abspath(args.dest))
    must_exist = os.path.dirname(os.path.abspath(parent)) if into_directory and not os.path.isdir(parent) else parent
    if not os.path.isdir(must_exist):
        raise UsageError(f"DEST {args.dest!r}: directory {must_exist!r} does not exist")
    if not os.access(must_exist, os.W_OK):
        raise UsageError(f"DEST {args.dest!r}: directory {must_exist!r} is not writable")
    if args.dryrun:
        _say(args, f"(dryrun) download: s3://{args.bucket}/{key} to {args.dest}")
        return 0
    if into_directory:
        os.makedirs(parent, exist_ok=True)
    return _download_one(args, config, key)


def _explain_missing(client, bucket: str, key: str) -> Optional[str]:
    """Tell a missing bucket from a missing key (HEAD's 404 says neither)."""
    from botocore.exceptions import ClientError

    try:
        client.head_bucket(Bucket=bucket)
    except ClientError as exc:
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        if status == 404:
            return f"bucket {bucket!r} does not exist (check --bucket / SECURESTORE_BUCKET)"
        return None
    except Exception:  # noqa: BLE001 - only an explanation; the original error stands
        return None
    return f"no object {key!r} in bucket {bucket!r}"


def _explain_refusal(client, bucket: str, key: str, version_id: Optional[str], error: BaseException) -> Optional[str]:
    """A 403 on a malware-scanned bucket: name the scan status (quarantined: THREATS_FOUND, not
    scanned yet) instead of a bare AccessDenied; None when the tag does not explain it."""
    from securestore.scan import explain_refusal, is_access_denied

    if not is_access_denied(error):
        return None
    verdict = explain_refusal(client, bucket, key, version_id)
    return str(verdict) if verdict is not None else None


def _is_not_found(error: BaseException) -> bool:
    cause = error.__cause__ or error
    response = getattr(cause, "response", None) or {}
    return response.get("ResponseMetadata", {}).get("HTTPStatusCode") == 404 or \
        response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NoSuchBucket", "NotFound")


def _download_one(args, config, key: str) -> int:
    from securestore.transfer.download import download_file
    from securestore.transfer.errors import TransferError

    client = _client(args, tenant_id=args.tenant)
    progress = _LazyBar(args, f"download {os.path.basename(key)}")

    try:
        with _TerminateAsInterrupt():
            result = download_file(client, args.bucket, key, args.dest, config=config,
                                   version_id=args.version_id, progress=progress,
                                   verify=not args.no_verify, require_checksum=args.require_checksum,
                                   notify=_notifier(args, "download", progress.current))
        os.chmod(result.path, _umask_mode())
    except KeyboardInterrupt:
        progress.close()
        print("securestore download: interrupted; nothing was written", file=sys.stderr)
        return EXIT_INTERRUPTED
    except (TransferError, OSError) as error:
        progress.close()
        reason = _explain_missing(client, args.bucket, key) if _is_not_found(error) else \
            _explain_refusal(client, args.bucket, key, args.version_id, error)
        print(f"securestore download: failed: {reason or error}; {args.dest} was not written "
              "[not-stored-and-cleaned]", file=sys.stderr)
        return EXIT_FAILED
    progress.close()
    if args.json:
        print(json.dumps(result.summary(), sort_keys=True))
        return 0
    if result.verified:
        check = f"{result.checksum_algorithm} {result.checksum} verified"
    elif args.no_verify:
        check = "checksum NOT checked: --no-verify"
    else:
        check = "checksum NOT checked: the object has no stored checksum"
    _say(args, f"downloaded {result.size} bytes to {result.path} in {result.seconds:.2f}s ({check}) "
         f"[{result.outcome}]")
    return 0


def _download_stdout(args, key: str) -> int:
    from securestore.transfer.errors import TransferError
    from securestore.transfer.stream import download_stream

    if args.dryrun:
        _say(args, f"(dryrun) download: s3://{args.bucket}/{key} to -")
        return 0
    if args.json:
        raise UsageError("--json cannot share stdout with the object's bytes (DEST -)")
    client = _client(args, tenant_id=args.tenant)
    progress = _LazyBar(args, f"download {os.path.basename(key)}")

    try:
        with _TerminateAsInterrupt():
            summary = download_stream(client, args.bucket, key, sys.stdout.buffer, version_id=args.version_id,
                                      verify=not args.no_verify, require_checksum=args.require_checksum,
                                      progress=progress)
    except KeyboardInterrupt:
        progress.close()
        print("securestore download: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        raise
    except Exception as error:  # noqa: BLE001 - AWS errors and checksum mismatches alike: one line
        from botocore.exceptions import BotoCoreError, ClientError

        if not isinstance(error, (TransferError, OSError, ClientError, BotoCoreError)):
            raise
        progress.close()
        reason = _explain_missing(client, args.bucket, key) if _is_not_found(error) else \
            _explain_refusal(client, args.bucket, key, args.version_id, error)
        from securestore.transfer.errors import describe_error

        print(f"securestore download: failed: {reason or (str(error) if isinstance(error, TransferError) else describe_error(error))}",
              file=sys.stderr)
        return EXIT_FAILED
    progress.close()
    if not summary["verified"]:
        reason = "--no-verify" if args.no_verify else "the object has no checksum verifiable while streaming"
        _say(args, f"securestore download: checksum NOT checked: {reason}")
    return 0


def _download_prefix(args, config, prefix: str) -> int:
    from securestore.transfer.batch import plan_directory_download
    from securestore.transfer.download import download_file

    if args.dest == "-":
        raise UsageError("--recursive needs a directory as DEST, not -")
    if args.version_id:
        raise UsageError("--version-id goes with a single object, not --recursive")
    if os.path.exists(args.dest) and not os.path.isdir(args.dest):
        raise UsageError(f"DEST {args.dest!r} is a file; --recursive needs a directory")
    client = _client(args, tenant_id=args.tenant)
    listing = _list_objects(client, args.bucket, prefix)
    items, problems = plan_directory_download(listing, prefix, args.dest, args.filters)
    where = f"s3://{args.bucket}/{prefix}"
    if _planned(args, "download", where, items, problems):
        return EXIT_FAILED if problems else 0
    mode = _umask_mode()

    def transfer(item, item_config, progress):
        os.makedirs(os.path.dirname(item.local) or ".", exist_ok=True)
        result = download_file(client, args.bucket, item.key, item.local, config=item_config,
                               progress=progress, verify=not args.no_verify,
                               require_checksum=args.require_checksum)
        os.chmod(result.path, mode)
        return result.summary()

    return _run_many(args, "download", where, items, transfer, config, problems)


def _list_objects(client, bucket: str, prefix: str):
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            yield from page.get("Contents", [])
    except (ClientError, BotoCoreError) as error:
        raise aws_failure(error, bucket, f"cannot list s3://{bucket}/{prefix}") from None


def _connection_flags(args: argparse.Namespace) -> list[str]:
    flags = ["--bucket", args.bucket]
    for flag, value in (("--endpoint-url", args.endpoint_url), ("--region", args.region),
                        ("--profile", getattr(args, "profile", None)),
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
