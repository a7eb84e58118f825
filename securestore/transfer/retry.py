"""Per-request retries bounded by time, with capped exponential backoff and full jitter.

A part that fails with a server error (5xx, throttling, request timeout) or a dropped
connection is sent again until it has been failing for ``retry_for_seconds`` (and, when set,
until ``max_attempts`` tries); anything else (access denied, no such upload, a bad request)
fails at once, because repeating it cannot help. Time, not a count, is the bound because
outages are measured in time: 5 quick attempts end after ~4 s of backoff, which a 20-second
Wi-Fi drop outlasts; the default budget rides out minutes. Each wait is capped, and the last
one is cut to the budget, so the final attempt lands right at its end and a network that comes
back within the budget is always caught.

The transfer owns retries so that a dropped part restarts from its own buffer; the clients
this package builds turn botocore's retries off so that the two do not multiply. When retries
run out the *original* error is raised: ``is_retryable(error)`` then tells the caller that the
cause was transient (keep the upload, exit 75) rather than permanent (abort).
"""

from __future__ import annotations

import random
import threading
import time
from dataclasses import dataclass
from typing import Callable, Optional, TypeVar

from botocore.exceptions import (
    ClientError, ConnectionError as BotoConnectionError, HTTPClientError, IncompleteReadError,
)
from urllib3.exceptions import HTTPError as Urllib3Error

T = TypeVar("T")

RETRYABLE_ERROR_CODES = frozenset({
    "InternalError", "ServiceUnavailable", "SlowDown", "RequestTimeout", "RequestTimeTooSkewed",
    "Throttling", "ThrottlingException", "RequestLimitExceeded", "BadDigest",
})


class TransferCancelled(Exception):
    """Raised inside a worker when another part has failed or the user interrupted."""


def is_retryable(error: BaseException) -> bool:
    """Whether sending the same request again may succeed."""
    if isinstance(error, (HTTPClientError, BotoConnectionError, IncompleteReadError, Urllib3Error,
                          ConnectionError, TimeoutError)):
        return True  # dropped or cut-off connections, including a response body cut short
    if isinstance(error, ClientError):
        status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0
        code = error.response.get("Error", {}).get("Code", "")
        return status >= 500 or code in RETRYABLE_ERROR_CODES
    return False


@dataclass(frozen=True)
class RetryPolicy:
    """Retry while failing for less than ``retry_for_seconds`` (and fewer than ``max_attempts``
    tries, unless that is ``None``); the n-th wait is uniform in [0, min(cap, base × 2ⁿ⁻¹)]."""

    max_attempts: Optional[int]
    base_seconds: float
    max_seconds: float
    retry_for_seconds: float = float("inf")

    def delay(self, attempt: int, rng: Callable[[], float] = random.random) -> float:
        return rng() * min(self.max_seconds, self.base_seconds * (2 ** (attempt - 1)))

    def call(
        self,
        operation: Callable[[], T],
        *,
        cancelled: Optional[threading.Event] = None,
        on_retry: Optional[Callable[[int, BaseException], None]] = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> T:
        """Run ``operation`` until it succeeds, fails for good, or ``cancelled`` is set."""
        attempt = 1
        first_failure: Optional[float] = None
        while True:
            if cancelled is not None and cancelled.is_set():
                raise TransferCancelled()
            try:
                return operation()
            except Exception as error:  # noqa: BLE001 - classified below
                if not is_retryable(error):
                    raise
                now = clock()
                if first_failure is None:
                    first_failure = now
                remaining = self.retry_for_seconds - (now - first_failure)
                if remaining <= 0 or (self.max_attempts is not None and attempt >= self.max_attempts):
                    raise
                if on_retry is not None:
                    on_retry(attempt, error)
                pause = min(self.delay(attempt), remaining)
                if cancelled is not None:
                    if cancelled.wait(pause):
                        raise TransferCancelled() from error
                else:
                    sleep(pause)
                attempt += 1
