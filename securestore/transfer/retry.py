"""Per-request retries with capped exponential backoff and full jitter.

A part that fails with a server error (5xx, throttling, request timeout) or a dropped
connection is sent again, up to ``max_attempts`` times in all; anything else (access denied,
no such upload, a bad request) fails at once, because repeating it cannot help. The transfer
owns retries so that a dropped part restarts from its own buffer; the clients this package
builds turn botocore's retries off so that the two do not multiply.
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
    """``max_attempts`` tries in all; the n-th wait is uniform in [0, min(cap, base × 2ⁿ)]."""

    max_attempts: int
    base_seconds: float
    max_seconds: float

    def delay(self, attempt: int, rng: Callable[[], float] = random.random) -> float:
        return rng() * min(self.max_seconds, self.base_seconds * (2 ** (attempt - 1)))

    def call(
        self,
        operation: Callable[[], T],
        *,
        cancelled: Optional[threading.Event] = None,
        on_retry: Optional[Callable[[int, BaseException], None]] = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> T:
        """Run ``operation`` until it succeeds, fails for good, or ``cancelled`` is set."""
        attempt = 1
        while True:
            if cancelled is not None and cancelled.is_set():
                raise TransferCancelled()
            try:
                return operation()
            except Exception as error:  # noqa: BLE001 - classified below
                if attempt >= self.max_attempts or not is_retryable(error):
                    raise
                if on_retry is not None:
                    on_retry(attempt, error)
                pause = self.delay(attempt)
                if cancelled is not None:
                    if cancelled.wait(pause):
                        raise TransferCancelled() from error
                else:
                    sleep(pause)
                attempt += 1
