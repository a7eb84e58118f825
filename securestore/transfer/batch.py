"""Many files in one command: plan (which file goes to which key), then transfer in parallel.

Planning is pure (no AWS call) so ``--dryrun`` prints exactly what would be done, and the
tests check key mapping and filters without a server.

* Filters behave like ``aws s3 cp``: every file is included, then each ``--exclude PATTERN`` /
  ``--include PATTERN`` is applied in the order given, the last match deciding. Patterns are
  ``fnmatch`` globs over the path relative to the source directory (``/``-separated; ``*``
  crosses ``/`` as in the AWS CLI).
* Parallelism stays within the single-file memory bound (concurrency × part size): files
  smaller than one part go up ``concurrency`` at a time, one buffer each; larger files go one
  at a time, each with all ``concurrency`` workers.
* A file that fails does not stop the others (as ``aws s3 cp --recursive``); the summary
  counts it and the command exits 1.
"""

from __future__ import annotations

import errno
import fnmatch
import os
import posixpath
import stat
import threading
import time
from dataclasses import dataclass, field, replace
from typing import Any, Callable, Iterable, Mapping, Optional, Sequence

Filter = tuple[str, str]  # ("include" | "exclude", pattern)


def selected(relative: str, filters: Sequence[Filter]) -> bool:
    keep = True
    for kind, pattern in filters:
        if fnmatch.fnmatchcase(relative, pattern):
            keep = kind == "include"
    return keep


@dataclass(frozen=True)
class Item:
    """One file to transfer: ``local`` path, ``key``, ``size`` in bytes."""

    local: str
    key: str
    size: int


def target_key(key_or_prefix: str, filename: str) -> str:
    """``--key some/prefix/`` appends the file name (as ``aws s3 cp`` does); any other key is used as given."""
    return key_or_prefix + filename if key_or_prefix.endswith("/") else key_or_prefix


class Skipped(str):
    """A problem that is a file left out on purpose (``aws s3 cp`` warns and exits 2), not a failure."""


def _unsendable(local: str) -> Optional[str]:
    """Why ``local`` (a directory entry) cannot be uploaded as a file, or ``None`` if it can."""
    try:
        info = os.stat(local)
    except OSError as error:
        if error.errno == errno.ELOOP:
            return "is a symbolic link loop"
        if os.path.islink(local):
            return "is a symbolic link to nothing (dangling)"
        return f"cannot be read ({error.strerror})"
    if stat.S_ISFIFO(info.st_mode):
        return "is a FIFO (named pipe)"
    if stat.S_ISSOCK(info.st_mode):
        return "is a socket"
    if stat.S_ISCHR(info.st_mode) or stat.S_ISBLK(info.st_mode):
        return "is a device"
    if not stat.S_ISREG(info.st_mode):
        return "is not a regular file"
    if not os.access(local, os.R_OK):
        return "is not readable (permission denied)"
    return None


def plan_directory_upload(directory: str, key_for: Callable[[str], str],
                          filters: Sequence[Filter]) -> tuple[list[Item], list[str]]:
    """([items], [problems]) for every regular file under ``directory`` the filters keep.

    ``key_for(relative_posix_path)`` names each object. Symlinked directories are not followed
    (a link loop cannot make the walk endless) and are reported as skipped; symlinked files are
    read like ``cp`` does. FIFOs, sockets, devices, dangling links, link loops and unreadable
    files are each a ``Skipped`` problem (the command warns and exits 2, as ``aws s3 cp``); two
    files mapping to one key are a problem, never a silent overwrite.
    """
    items: list[Item] = []
    problems: list[str] = []
    owners: dict[str, str] = {}
    for root, dirs, files in os.walk(directory, onerror=lambda e: problems.append(
            f"{e.filename}: cannot list it ({e.strerror})")):
        dirs.sort()
        for name in [d for d in dirs if os.path.islink(os.path.join(root, d))]:
            local = os.path.join(root, name)
            if selected(os.path.relpath(local, directory).replace(os.sep, "/"), filters):
                problems.append(Skipped(f"{local}: is a symbolic link to a directory, not followed"))
        for name in sorted(files):
            local = os.path.join(root, name)
            relative = os.path.relpath(local, directory).replace(os.sep, "/")
            if not selected(relative, filters):
                continue
            why = _unsendable(local)
            if why is not None:
                problems.append(Skipped(f"{local}: {why}"))
                continue
            try:
                size = os.path.getsize(local)
                key = key_for(relative)
            except OSError as exc:
                problems.append(f"{local}: {exc.strerror}")
                continue
            except ValueError as exc:
                problems.append(f"{local}: {exc}")
                continue
            if key in owners:
                problems.append(f"{local} and {owners[key]} would both be s3 key {key!r}")
                continue
            owners[key] = local
            items.append(Item(local, key, size))
    return items, problems


def local_path_for(key: str, prefix: str, destination: str) -> str:
    """Where a listed object goes under ``destination``; refuses keys that would leave it.

    S3 keys are plain strings: ``a/../../etc/passwd`` is a valid key, and so is ``/x``. A key
    whose remainder after ``prefix`` has an empty, ``.`` or ``..`` segment, a backslash or a NUL
    is refused rather than written somewhere outside ``destination``.
    """
    relative = key[len(prefix):] if key.startswith(prefix) else key
    segments = relative.split("/")
    if not relative or any(s in ("", ".", "..") for s in segments) or "\\" in relative or "\x00" in relative:
        raise ValueError(f"key {key!r} has no safe local path under {destination!r} "
                         "(empty, '.' or '..' segment, backslash or NUL)")
    return os.path.join(destination, *segments)


def plan_directory_download(listing: Iterable[dict], prefix: str, destination: str,
                            filters: Sequence[Filter]) -> tuple[list[Item], list[str]]:
    items: list[Item] = []
    problems: list[str] = []
    for entry in listing:
        key = entry["Key"]
        if key.endswith("/") and entry.get("Size", 0) == 0:
            continue  # a "folder" placeholder object
        relative = key[len(prefix):] if key.startswith(prefix) else key
        if not selected(relative, filters):
            continue
        try:
            items.append(Item(local_path_for(key, prefix, destination), key, int(entry.get("Size", 0))))
        except ValueError as exc:
            problems.append(str(exc))
    return _without_collisions(items, problems)


def _without_collisions(items: list[Item], problems: list[str]) -> tuple[list[Item], list[str]]:
    """Keys that need one local path as both a file and a directory (``p/a`` and ``p/a/x``) are
    a problem each, never merged or dropped in silence: neither is downloaded."""
    files = {item.local: item for item in items}
    dropped: set[str] = set()
    for item in items:
        parent = os.path.dirname(item.local)
        while parent and parent != os.path.dirname(parent):
            if parent in files:
                problems.append(f"keys {files[parent].key!r} and {item.key!r} collide: {parent} would "
                                "have to be both a file and a directory; neither was downloaded")
                dropped |= {parent, item.local}
            parent = os.path.dirname(parent)
    return [item for item in items if item.local not in dropped], problems


@dataclass
class Outcome:
    done: list[dict] = field(default_factory=list)
    failed: list[dict] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def bytes(self) -> int:
        return sum(entry.get("bytes", 0) for entry in self.done)

    def summary(self, action: str, where: str) -> dict[str, Any]:
        return {"action": action, "target": where, "files": len(self.done), "bytes": self.bytes,
                "failed": len(self.failed), "seconds": round(self.seconds, 3),
                "transferred": self.done, "errors": self.failed}


def run_batch(items: Sequence[Item], transfer: Callable[[Item, Any, Callable[[int, int], None]], dict],
              *, config: Any, small_below: int, on_done: Callable[[Item, Optional[dict], Optional[str]], None],
              advance: Optional[Callable[[int], None]] = None,
              small_puts: Optional[tuple[Any, Callable[[Item], Optional[Mapping[str, Any]]]]] = None) -> Outcome:
    """Transfer every item; ``transfer(item, config, progress)`` returns the item's summary.

    Small items run ``config.concurrency`` at a time with one worker each; the others one at a
    time with the whole config. ``on_done(item, summary, error)`` is called as each ends.
    Errors are collected (``TransferError``, ``OSError``, ``ValueError`` and AWS errors);
    ``KeyboardInterrupt`` stops everything at once. Once a file gives up on a transient cause
    after the whole retry budget, the files not yet started are not attempted (each failed as
    temporary): the budget is the command's, so a dead endpoint costs one, not one per file.

    ``small_puts``: ``(small_puts.SmallPuts, extra_args_for(item))`` for an upload: small items
    go first through its pipeline from this thread (``extra_args_for`` gives the item's
    PutObject arguments, ``None`` for "not this one"); what the pipeline hands back, or does not
    reach before a transient failure stops it, runs as above.
    """
    from .retry import TransferCancelled
    from .workers import run_parallel

    outcome = Outcome()
    lock = threading.Lock()
    started = time.monotonic()
    single = replace(config, concurrency=1)

    outage: list[str] = []  # a file gave up after the whole retry budget: the rest are not attempted

    def failed(item: Item, text: str, temporary: bool) -> None:
        with lock:
            outcome.failed.append({"file": item.local, "key": item.key, "error": text, "temporary": temporary})
        on_done(item, None, text)

    def succeeded(item: Item, summary: dict, size: int) -> None:
        with lock:
            outcome.done.append(summary)
            if advance is not None and size:
                advance(size)
        on_done(item, summary, None)

    def one(item: Item, item_config: Any) -> None:
        from .errors import EndpointUnreachableError, TemporaryTransferError

        if outage:
            failed(item, f"not attempted: an earlier file ran out of retries ({outage[0]}); run the same "
                   "command again", True)
            return
        seen = [0]

        def progress(done: int, total: int) -> None:
            if advance is not None:
                with lock:
                    advance(done - seen[0])
                    seen[0] = done

        try:
            summary = transfer(item, item_config, progress)
        except (KeyboardInterrupt, TransferCancelled):
            raise
        except Exception as error:  # noqa: BLE001 - reported per file, the batch goes on
            from .errors import describe_error

            text = str(error) if isinstance(error, (OSError, ValueError)) or type(error).__module__.startswith(
                "securestore") else describe_error(error)
            with lock:
                if isinstance(error, (TemporaryTransferError, EndpointUnreachableError)) and not outage:
                    outage.append(text)
            failed(item, text, isinstance(error, TemporaryTransferError))
            return
        succeeded(item, summary, 0)  # its bytes went to ``advance`` as they were sent

    small = [item for item in items if item.size < small_below]
    large = [item for item in items if item.size >= small_below]
    if small and small_puts is not None and small_puts[0].available:
        small = _through_pipeline(small, small_puts, failed, succeeded)
    if small:
        run_parallel(small, lambda item: one(item, single), workers=min(config.concurrency, len(small)),
                     cancelled=threading.Event(), grace_seconds=config.grace_seconds, name="securestore-file")
    for item in large:
        one(item, config)
    outcome.seconds = time.monotonic() - started
    return outcome


def _through_pipeline(items: list[Item], small_puts: tuple, failed: Callable[[Item, str, bool], None],
                      succeeded: Callable[[Item, dict, int], None]) -> list[Item]:
    """Send what the pipeline can of ``items``; return the items left for the workers."""
    from .small_puts import read_ahead

    puts, extra_args_for = small_puts
    left: list[Item] = []
    rest = iter(items)
    ahead = read_ahead(rest, lambda item: item.local)

    def requests():
        for item in ahead:
            extra = extra_args_for(item)
            request = puts.request(item.local, item.key, item.size, extra, item) if extra is not None else None
            if request is None:
                left.append(item)
                continue
            yield request

    def stored(request, response) -> None:
        item, _ = request.context
        try:
            result = puts.stored(request, response, seconds=time.monotonic() - request.sent)
        except Exception as error:  # noqa: BLE001 - S3 echoed another checksum: this file failed
            failed(item, str(error), False)
            return
        succeeded(item, result.summary(), item.size)

    puts.pipeline().run(requests(), on_stored=stored, on_refused=lambda request, error: left.append(request.context[0]))
    return left + ahead.left() + list(rest)


def relative_key(prefix: str, relative: str) -> str:
    """``prefix`` joined with a relative path; an empty prefix keeps the path as is."""
    if not prefix:
        return relative
    return posixpath.join(prefix if prefix.endswith("/") else prefix + "/", relative)


_END = object()
QUEUE_DEPTH_PER_WORKER = 2


def run_streamed(items: Iterable[Any], function: Callable[[Any], None], *, workers: int,
                 cancelled: threading.Event, name: str = "securestore-file") -> None:
    """Call ``function(item)`` on ``workers`` threads, taking items from the iterable as they come.

    Unlike ``run_batch`` (which plans a list first), nothing is materialised: the queue holds at
    most ``QUEUE_DEPTH_PER_WORKER × workers`` items, so a generator over a million files costs
    the memory of a few. The threads are made once for the whole stream (no thread per file).
    ``function`` reports per-item failures itself; an exception escaping it (a bug) stops the
    stream and is raised here, as is a ``KeyboardInterrupt`` in the caller (``cancelled`` is set
    and the daemon workers are abandoned).
    """
    pool = WorkerPool(function, workers=workers, cancelled=cancelled, name=name)
    try:
        for item in items:
            if not pool.submit(item):
                break
        pool.close()
    except BaseException:
        cancelled.set()
        raise


class WorkerPool:
    """``run_streamed``'s workers, fed one item at a time (``submit``) and ended with ``close``.

    The threads start with the first item, so a stream that hands them nothing (every file sent
    by ``put_pipeline``) makes none. ``submit`` blocks while the bounded queue is full and
    returns ``False`` once the stream is cancelled (an escaped exception, Ctrl-C)."""

    def __init__(self, function: Callable[[Any], None], *, workers: int, cancelled: threading.Event,
                 name: str = "securestore-file") -> None:
        import queue

        self._function = function
        self._workers = workers
        self._cancelled = cancelled
        self._name = name
        self._queue: "queue.Queue[Any]" = queue.Queue(maxsize=QUEUE_DEPTH_PER_WORKER * workers)
        self._threads: list[threading.Thread] = []
        self.errors: list[BaseException] = []

    def _loop(self) -> None:
        import queue

        while True:
            try:
                item = self._queue.get(timeout=0.2)
            except queue.Empty:
                if self._cancelled.is_set():
                    return  # the producer stopped (an error, Ctrl-C): no end marker will come
                continue
            if item is _END:
                return
            if self._cancelled.is_set():
                continue  # drain what was queued, doing nothing
            try:
                self._function(item)
            except BaseException as error:  # noqa: BLE001 - handed to the caller
                self.errors.append(error)
                self._cancelled.set()

    def _put(self, item: Any) -> bool:
        import queue

        while True:
            try:
                self._queue.put(item, timeout=0.2)
                return True
            except queue.Full:
                if self._cancelled.is_set() and item is not _END:
                    return False

    def submit(self, item: Any) -> bool:
        if self._cancelled.is_set():
            return False
        if not self._threads:
            self._threads = [threading.Thread(target=self._loop, name=f"{self._name}-{i}", daemon=True)
                             for i in range(self._workers)]
            for thread in self._threads:
                thread.start()
        return self._put(item)

    def close(self) -> None:
        """Wait for every item submitted; raise the first exception a worker let escape."""
        for _ in self._threads:
            self._put(_END)
        for thread in self._threads:
            while thread.is_alive():
                thread.join(0.2)  # wakes up so that a Ctrl-C is seen at once
        if self.errors:
            raise self.errors[0]


class MemoryBudget:
    """``slots`` part buffers shared by the workers of a stream: a small file takes one, a large
    file all ``concurrency`` of its own config, so the stream holds at most ``slots × part size``
    whatever the mix. A taker waits until all it asks for are free at once (never holds some
    while waiting for more, so two large files cannot deadlock each other)."""

    def __init__(self, slots: int) -> None:
        self._free = slots
        self._slots = slots
        self._condition = threading.Condition()

    def take(self, count: int) -> int:
        count = min(count, self._slots)
        with self._condition:
            while self._free < count:
                self._condition.wait(0.2)
            self._free -= count
        return count

    def give_back(self, count: int) -> None:
        with self._condition:
            self._free += count
            self._condition.notify_all()
