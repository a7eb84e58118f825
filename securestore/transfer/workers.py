"""Run one function over many items on a few daemon threads, stopping everything at the first error.

Why not ``ThreadPoolExecutor``: its threads are joined when the interpreter exits, so after a
Ctrl-C a request stuck on a dead connection would hold the process (and the user) for the whole
socket timeout. Here the workers are daemon threads, the caller waits for them only
``grace_seconds`` once something has gone wrong, and the main thread's wait wakes up regularly
so that a Ctrl-C is seen at once.
"""

from __future__ import annotations

import queue
import threading
import time
from typing import Callable, Iterable, Optional, TypeVar

from .retry import TransferCancelled

T = TypeVar("T")

_WORKER_DONE = object()
POLL_SECONDS = 0.2


def run_parallel(
    items: Iterable[T],
    function: Callable[[T], None],
    *,
    workers: int,
    cancelled: threading.Event,
    grace_seconds: float,
    interrupt_grace_seconds: Optional[float] = None,
    name: str = "securestore-worker",
) -> None:
    """Call ``function(item)`` for every item on ``workers`` threads.

    On the first exception ``cancelled`` is set, the items not started are dropped, running
    ones get up to ``grace_seconds`` to end, and the exception is raised. On a
    ``KeyboardInterrupt`` in the caller the wait is ``interrupt_grace_seconds`` (default
    ``grace_seconds``) and a second one stops it at once: the process must end promptly.
    """
    work: "queue.SimpleQueue[T]" = queue.SimpleQueue()
    count = 0
    for item in items:
        work.put(item)
        count += 1
    if count == 0:
        return
    events: "queue.SimpleQueue[object]" = queue.SimpleQueue()

    def loop() -> None:
        try:
            while not cancelled.is_set():
                try:
                    item = work.get_nowait()
                except queue.Empty:
                    return
                try:
                    function(item)
                except TransferCancelled:
                    return
                except BaseException as error:  # noqa: BLE001 - handed to the caller
                    events.put(error)
                    return
        finally:
            events.put(_WORKER_DONE)

    threads = [threading.Thread(target=loop, name=f"{name}-{i}", daemon=True)
               for i in range(min(workers, count))]
    for thread in threads:
        thread.start()
    running = len(threads)
    first_error: Optional[BaseException] = None
    deadline: Optional[float] = None
    try:
        while running:
            timeout = POLL_SECONDS
            if deadline is not None:
                timeout = deadline - time.monotonic()
                if timeout <= 0:
                    break  # stragglers stuck in a request: give up on them, they are daemons
            try:
                event = events.get(timeout=min(timeout, POLL_SECONDS))
            except queue.Empty:
                continue
            if event is _WORKER_DONE:
                running -= 1
            elif first_error is None:
                first_error = event  # type: ignore[assignment]
                cancelled.set()
                deadline = time.monotonic() + grace_seconds
    except BaseException:
        cancelled.set()
        _wait_briefly(threads, grace_seconds if interrupt_grace_seconds is None
                      else interrupt_grace_seconds)
        raise
    if first_error is not None:
        raise first_error


def _wait_briefly(threads: list[threading.Thread], grace_seconds: float) -> None:
    deadline = time.monotonic() + grace_seconds
    for thread in threads:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return
        try:
            thread.join(remaining)
        except KeyboardInterrupt:  # a second Ctrl-C: stop waiting, go straight to the abort
            return
