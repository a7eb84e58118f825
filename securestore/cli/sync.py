"""``securestore sync SRC DST``: a directory and a key prefix made alike, copying only what differs.

Like ``aws s3 sync`` (one of SRC and DST is ``s3://BUCKET/PREFIX``, the other a local
directory), but a same-size file is judged by the object's stored checksum against the file's,
not by time (``securestore.transfer.sync``); ``--size-only`` and ``--exact-timestamps`` give the
aws rules back. This module only parses and prints; the work is the library's.

Output: on a terminal, one progress line for the whole tree (files checked, copied, skipped,
failed, the rate); otherwise one line per file copied or deleted (as aws prints them), and a
summary at the end either way. ``--json``: the summary as one JSON object on stdout. Exit
status as the other transfer commands: 0 done, 1 something failed (each failure printed), 2 bad
input, 75 every failure was transient (run it again), 130 interrupted.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import threading
import time
from typing import Any

from . import options, settings
from .errors import EXIT_FAILED, EXIT_TEMPFAIL, CommandFailed, TerminateAsInterrupt, UsageError

PROGRESS_INTERVAL_SECONDS = 0.1


def register(subparsers: Any) -> None:
    sync = subparsers.add_parser(
        "sync", help="copy only what differs between a directory and s3://BUCKET/PREFIX (by checksum)",
        description="Make DST like SRC: one is a local directory, the other s3://BUCKET/PREFIX. A file "
        "is copied when the other side lacks it, its size differs, or (same size) the object's stored "
        "checksum differs from the file's computed the same way (CRC32C/CRC64NVME/SHA-256..., whole or "
        "per part). Checksums are cached, so an unchanged tree is neither read nor HEADed again. "
        "Like `aws s3 sync`, which compares size and time only.")
    sync.add_argument("source", metavar="SRC", help="local directory or s3://BUCKET/PREFIX")
    sync.add_argument("destination", metavar="DST", help="s3://BUCKET/PREFIX or local directory")
    options.BUCKET.add(sync, help="the bucket when SRC/DST says s3:///PREFIX (default: $SECURESTORE_BUCKET)")
    options.TENANT.add(sync, help="tenant id: PREFIX must lie under TENANT/ (s3://BUCKET/ alone means "
                       "TENANT/); with --role-arn also the session tag tenant_id")
    sync.add_argument("--delete", action="store_true",
                      help="delete what DST has and SRC does not (within --include/--exclude)")
    options.INCLUDE.add(sync, help="include paths matching this glob (relative to SRC/DST; applied in "
                        "order with --exclude, the last match decides)")
    options.EXCLUDE.add(sync, help="exclude paths matching this glob, e.g. '*.tmp'")
    rule = sync.add_mutually_exclusive_group()
    rule.add_argument("--size-only", action="store_true",
                      help="same size means same file (aws s3 sync --size-only): nothing is read")
    rule.add_argument("--exact-timestamps", action="store_true",
                      help="judge same-size files by time as aws s3 sync does; downloading, skip "
                      "them only when the times are equal")
    options.CHECKSUM.add(sync, help="checksum algorithm of the objects sync uploads (default %(default)s); "
                         "objects already there are compared with whatever algorithm they carry")
    options.KMS_KEY_ID.add(sync, help="KMS key for SSE-KMS of uploaded objects (default "
                           "$SECURESTORE_KMS_KEY_ID; without one the bucket's default applies)")
    sync.add_argument("--checksum-cache", metavar="FILE",
                      help="the checksum cache (default: $XDG_CACHE_HOME/securestore/sync/checksums.sqlite3)")
    options.add_transfer_tuning(sync)
    options.DRYRUN.add(sync, help="print what would be copied and deleted; change nothing")
    options.add(sync, options.QUIET, options.NO_PROGRESS)
    options.JSON.add(sync, help="print the summary as JSON on stdout")
    options.add_aws(sync)
    sync.set_defaults(handler=run_sync)


def _s3_location(text: str, args: argparse.Namespace) -> tuple[str, str]:
    """``s3://BUCKET/PREFIX`` (or ``s3:///PREFIX`` for the configured bucket) -> (bucket, prefix)."""
    rest = text[len("s3://"):]
    bucket, _, prefix = rest.partition("/")
    if not bucket:
        bucket = settings.bucket(args.bucket)
    elif args.bucket and args.bucket != bucket:
        raise UsageError(f"--bucket {args.bucket!r} and {text!r} name different buckets")
    if prefix.startswith("/"):
        raise UsageError(f"{text!r}: the prefix must not start with /")
    if args.tenant is not None:
        prefix = settings.tenant_scope(args.tenant, prefix, "PREFIX")
    return bucket, prefix


def run_sync(args: argparse.Namespace) -> int:
    from securestore.transfer.sync import SyncOptions
    from securestore.transfer.sync_state import ChecksumState


    up = args.destination.startswith("s3://")
    down = args.source.startswith("s3://")
    if up == down:
        raise UsageError("one of SRC and DST must be s3://BUCKET/PREFIX and the other a local directory")
    local = args.source if up else args.destination
    bucket, prefix = _s3_location(args.destination if up else args.source, args)
    if up:
        if not os.path.isdir(local):
            raise UsageError(f"SRC {local!r} is not a directory")
    else:
        if os.path.exists(local) and not os.path.isdir(local):
            raise UsageError(f"DST {local!r} exists and is not a directory")
    config = settings.transfer_config(args, args.checksum)
    report = _Report(args)
    sync_options = SyncOptions(delete=args.delete, filters=tuple(args.filters), dryrun=args.dryrun,
                               size_only=args.size_only, exact_timestamps=args.exact_timestamps,
                               report_skips=report.line)
    client = settings.s3_client(args, tenant_id=args.tenant, concurrency=args.concurrency, bucket=bucket)
    try:
        state = ChecksumState(args.checksum_cache)
    except OSError as error:
        raise UsageError(f"--checksum-cache: {error}") from None
    from securestore.transfer.tree import ListingOrderError

    try:
        with TerminateAsInterrupt():
            if up:
                from securestore.transfer.sync import sync_up

                kms = settings.kms_key_id(args.kms_key_id)
                summary = sync_up(client, local, bucket, prefix, options=sync_options, config=config,
                                  state=state, on_event=report.event, on_problem=report.problem,
                                  upload_args={"sse_kms_key_id": kms} if kms else {})
            else:
                from securestore.transfer.sync import sync_down

                summary = sync_down(client, bucket, prefix, local, options=sync_options, config=config,
                                    state=state, on_event=report.event, on_problem=report.problem)
    except ListingOrderError as error:
        report.close()
        raise CommandFailed(str(error)) from None
    except BaseException:
        report.close()
        raise
    finally:
        state.close()
    report.close()
    report.summary(summary)
    if summary.failed:
        return EXIT_TEMPFAIL if summary.temporary_failures == summary.failed else EXIT_FAILED
    return 0


class _Report:
    """Per-file lines (not a terminal) or one progress line for the tree (a terminal)."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.stream = sys.stderr
        self.line = (not (args.quiet or args.no_progress or args.json) and hasattr(self.stream, "isatty")
                     and self.stream.isatty())
        self.lock = threading.Lock()
        self.counts = {"checked": 0, "copied": 0, "skip": 0, "delete": 0, "fail": 0}
        self.bytes = 0
        self.started = time.monotonic()
        self.drawn = 0.0

    def event(self, event: Any) -> None:
        with self.lock:
            if event.action in ("upload", "download", "skip"):
                self.counts["checked"] += 1
            if event.action in ("upload", "download"):
                self.counts["copied"] += 1
                self.bytes += event.size
            elif event.action in ("skip", "delete", "fail"):
                self.counts[event.action] += 1
            if event.action == "fail":
                self._clear()
                print(f"securestore sync: failed: {event.source or event.relative} -> {event.target}: "
                      f"{event.error}", file=self.stream)
            elif event.action != "skip" and not self.line and not self.args.quiet and not self.args.json:
                dry = "(dryrun) " if event.dryrun else ""
                arrow = f"{event.source} to {event.target}" if event.action != "delete" else event.target
                print(f"{dry}{event.action}: {arrow}", file=self.stream)
            if self.line:
                self._draw()

    def problem(self, text: str) -> None:
        with self.lock:
            self._clear()
            print(f"securestore sync: skipped: {text}", file=self.stream)

    def _draw(self, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self.drawn < PROGRESS_INTERVAL_SECONDS:
            return
        self.drawn = now
        from securestore.transfer.bar import format_bytes

        seconds = max(now - self.started, 1e-9)
        c = self.counts
        text = (f"sync: {c['checked']} checked, {c['copied']} copied ({format_bytes(self.bytes)}), "
                f"{c['skip']} same, {c['delete']} deleted, {c['fail']} failed, {c['checked'] / seconds:.0f} files/s")
        self.stream.write("\r\x1b[K" + text[:max(shutil.get_terminal_size((80, 24)).columns - 1, 1)])
        self.stream.flush()

    def _clear(self) -> None:
        if self.line and self.drawn:
            self.stream.write("\r\x1b[K")

    def close(self) -> None:
        with self.lock:
            if self.line and self.drawn:
                self._draw(force=True)
                self.stream.write("\n")
                self.stream.flush()
                self.line = False

    def summary(self, summary: Any) -> None:
        if self.args.json:
            print(json.dumps(summary.as_dict(), sort_keys=True))
            return
        if self.args.quiet:
            return
        from securestore.transfer.bar import format_bytes

        rate = summary.checked / summary.seconds if summary.seconds > 0 else 0.0
        verb = "would copy" if summary.dryrun else "copied"
        removed = "would delete" if summary.dryrun else "deleted"
        print(f"sync {summary.source} -> {summary.destination}: {verb} {summary.copied} "
              f"({format_bytes(summary.bytes_copied)}), skipped {summary.skipped} (same), {removed} "
              f"{summary.deleted}, failed {summary.failed}; {summary.checked} checked in {summary.seconds:.2f}s "
              f"({rate:.0f} files/s)", file=sys.stderr)
