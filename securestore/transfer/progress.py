"""Progress reporting that many worker threads can feed without flooding the receiver.

Workers call ``ThrottledProgress.advance(n)`` concurrently; the running total is kept under a
lock and the user's callback ``(bytes_done, bytes_total)`` runs at most once per interval
(and always once at the end, so a bar reaches 100 %). Callbacks run while the lock is held, so
they are never re-entered and always see totals in increasing order.
"""

from __future__ import annotations

import threading
import time
from typing import Callable, Optional

ProgressCallback = Callable[[int, int], None]


class ThrottledProgress:
    def __init__(
        self,
        total: int,
        callback: Optional[ProgressCallback],
        *,
        interval_seconds: float = 0.1,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.total = total
        self._callback = callback
        self._interval = interval_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._done = 0
        self._last_report = float("-inf")
        self._last_reported_value = -1

    @property
    def done(self) -> int:
        with self._lock:
            return self._done

    def advance(self, amount: int) -> None:
        with self._lock:
            self._done += amount
            now = self._clock()
            if self._callback is not None and now - self._last_report >= self._interval:
                self._last_report = now
                self._report()

    def finish(self) -> None:
        """Report the final total once, whatever the throttle says."""
        with self._lock:
            if self._callback is not None and self._last_reported_value != self._done:
                self._report()

    def _report(self) -> None:
        self._last_reported_value = self._done
        self._callback(self._done, self.total)
