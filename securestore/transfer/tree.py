"""Directory trees and key prefixes as streams in one order, so that two of them can be joined.

``sync`` compares a local tree with a key prefix without holding either in memory: both are
read as generators in the order S3 lists keys (UTF-8 byte order, which is Python's code-point
order of ``str``), and joined like two sorted files (``pair``). Memory then depends on the
widest directory (its names are sorted), never on the number of files in the tree.

Local order: inside a directory, entries are sorted by name, a directory's name taken as
``name + "/"``. That is S3's order of the full paths: ``a-b`` (``-`` is 0x2D) lists before
``a/x`` (``/`` is 0x2F), so the file ``a-b`` must come before the directory ``a``.

A listing out of order would join wrongly (a file present on both sides seen as missing on one),
so ``pair`` checks that both streams strictly increase and raises ``ListingOrderError`` at the
first step back; ``sync`` defers every delete until the whole join has passed that check.
"""

from __future__ import annotations

import os
import stat as _stat
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable, Iterable, Iterator, Optional, Sequence

from .batch import Filter, selected


LIST_PAGE_SIZE = 1000
READ_AHEAD_PAGES = 1
"""Keys per ListObjectsV2 page (S3's maximum). The largest thing a sync holds is about two parsed
pages (~3.5 MiB at 1,000)."""


class ListingOrderError(RuntimeError):
    """A listing stepped back in key order: joining it would pair the wrong entries."""


@dataclass(frozen=True)
class LocalFile:
    """One regular file under the root: ``relative`` is ``/``-separated, as in a key."""

    relative: str
    path: str
    size: int
    mtime_ns: int
    inode: int
    device: int
    ctime_ns: int = 0


@dataclass(frozen=True)
class RemoteObject:
    """One listed object: ``relative`` is the key without the prefix."""

    relative: str
    key: str
    size: int
    etag: str
    last_modified: datetime


def walk_local(root: str, filters: Sequence[Filter] = (),
               on_problem: Callable[[str], None] = lambda text: None) -> Iterator[LocalFile]:
    """Every regular file under ``root`` that the filters keep, in S3 key order of the relative paths.

    Symlinked directories are not followed (a link loop cannot make the walk endless); a symlink
    to a file is read like ``cp`` does. Names that are not valid UTF-8 cannot be S3 keys: they are
    reported to ``on_problem`` and skipped, as are entries that cannot be read.
    """
    # A stack of sorted directory listings, each opened when reached: a directory's entries all
    # come before its next sibling, with no recursion limit on depth.
    pending: list[Iterator[tuple[str, str, bool]]] = [_sorted_entries(root, "", on_problem)]
    while pending:
        try:
            path, relative, is_dir = next(pending[-1])
        except StopIteration:
            pending.pop()
            continue
        if is_dir:
            pending.append(_sorted_entries(path, relative + "/", on_problem))
            continue
        if not selected(relative, filters):
            continue
        try:
            status = os.stat(path)
        except OSError as error:
            on_problem(f"{path}: {error.strerror}")
            continue
        if not _stat.S_ISREG(status.st_mode):
            continue  # sockets, fifos, devices, dangling links
        yield LocalFile(relative, path, status.st_size, status.st_mtime_ns, status.st_ino, status.st_dev,
                        status.st_ctime_ns)


def _sorted_entries(directory: str, prefix: str,
                    on_problem: Callable[[str], None]) -> Iterator[tuple[str, str, bool]]:
    try:
        with os.scandir(directory) as scan:
            entries = []
            for entry in scan:
                try:
                    is_dir = entry.is_dir(follow_symlinks=False)
                except OSError:
                    is_dir = False
                entries.append((entry.name + "/" if is_dir else entry.name, is_dir))
    except OSError as error:
        on_problem(f"{directory}: cannot list it ({error.strerror})")
        return
    entries.sort()
    for sort_name, is_dir in entries:
        name = sort_name[:-1] if is_dir else sort_name
        try:
            name.encode("utf-8")
        except UnicodeEncodeError:
            on_problem(f"{os.path.join(directory, name)!r}: the name is not valid UTF-8, so it cannot be an S3 key")
            continue
        yield os.path.join(directory, name), prefix + name, is_dir


def directory_prefix(prefix: str) -> str:
    """A key prefix names a folder: ``docs`` means ``docs/`` (as ``aws s3 sync`` reads it); ``""`` is the bucket."""
    return prefix if not prefix or prefix.endswith("/") else prefix + "/"


def list_remote(client: Any, bucket: str, prefix: str, filters: Sequence[Filter] = (),
                policy: Any = None) -> Iterator[RemoteObject]:
    """Every object under ``prefix`` the filters keep, page by page (ListObjectsV2).

    Pages come over the transfer's own connections (``direct_objects.DirectObjects.list_page``)
    when the client allows it, else through botocore's paginator; ``policy`` (a
    ``retry.RetryPolicy``) retries a page that fails on a transient cause. Zero-byte "folder"
    placeholders (keys ending in ``/``) are skipped, as ``aws s3 sync`` does.
    """
    for key, size, etag, modified in _listed(client, bucket, prefix, policy):
        if key.endswith("/") and size == 0:
            continue
        relative = key[len(prefix):]
        if selected(relative, filters):
            yield RemoteObject(relative, key, size, etag, modified)


def _listed(client: Any, bucket: str, prefix: str, policy: Any) -> Iterator[tuple[str, int, str, datetime]]:
    from .direct_objects import DirectObjects

    call = policy.call if policy is not None else (lambda operation: operation())
    direct = DirectObjects.for_client(client, bucket, "ListObjectsV2")
    if direct is not None:
        def pages() -> Iterator[list]:
            token: Optional[str] = None
            while True:
                entries, token = call(lambda: direct.list_page(prefix, token, LIST_PAGE_SIZE))
                yield entries
                if token is None:
                    return

        for entries in _read_ahead(pages()):
            yield from entries
        return
    paginator = client.get_paginator("list_objects_v2")
    for page in paginator.paginate(Bucket=bucket, Prefix=prefix, PaginationConfig={"PageSize": LIST_PAGE_SIZE}):
        for entry in page.get("Contents", ()):
            yield entry["Key"], int(entry.get("Size", 0)), entry.get("ETag", ""), entry["LastModified"]


def _read_ahead(pages: Iterator[list], depth: int = READ_AHEAD_PAGES) -> Iterator[list]:
    """``pages`` fetched on a thread of their own, at most ``depth`` ahead of the consumer: the
    server's time to answer a page overlaps the walk of the local tree instead of adding to it.
    An error while fetching is raised here, in the consumer; closing this generator stops the
    fetcher at its next page."""
    import queue
    import threading

    handoff: "queue.Queue[tuple[str, Any]]" = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def fetch() -> None:
        try:
            for page in pages:
                while not stop.is_set():
                    try:
                        handoff.put(("page", page), timeout=0.2)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            while not stop.is_set():
                try:
                    handoff.put(("end", None), timeout=0.2)
                    return
                except queue.Full:
                    continue
        except BaseException as error:  # noqa: BLE001 - handed to the consumer
            while not stop.is_set():
                try:
                    handoff.put(("error", error), timeout=0.2)
                    return
                except queue.Full:
                    continue

    threading.Thread(target=fetch, name="securestore-list", daemon=True).start()
    try:
        while True:
            kind, value = handoff.get()
            if kind == "page":
                yield value
            elif kind == "end":
                return
            else:
                raise value
    finally:
        stop.set()


def pair(local: Iterable[LocalFile], remote: Iterable[RemoteObject]
         ) -> Iterator[tuple[str, Optional[LocalFile], Optional[RemoteObject]]]:
    """Join two key-ordered streams: ``(relative, local or None, remote or None)`` per path."""
    local_iter, remote_iter = iter(local), iter(remote)
    left = _checked(local_iter, "local tree")
    right = _checked(remote_iter, "bucket listing")
    a, b = next(left, None), next(right, None)
    while a is not None or b is not None:
        if b is None or (a is not None and a.relative < b.relative):
            yield a.relative, a, None
            a = next(left, None)
        elif a is None or b.relative < a.relative:
            yield b.relative, None, b
            b = next(right, None)
        else:
            yield a.relative, a, b
            a, b = next(left, None), next(right, None)


def _checked(entries: Iterator, what: str) -> Iterator:
    previous: Optional[str] = None
    for entry in entries:
        if previous is not None and not previous < entry.relative:
            raise ListingOrderError(
                f"the {what} is not in key order ({previous!r} before {entry.relative!r}); nothing "
                "was deleted. S3 general-purpose buckets list in UTF-8 order; this server does not")
        previous = entry.relative
        yield entry
