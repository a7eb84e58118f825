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

What one transfer learns about its endpoint is shared by its requests (``Link``):

* whether it has ever answered. An endpoint that never answered (a typo in ``--endpoint-url``,
  a wrong region, no route) is given ``first_answer_seconds`` (default 10 s), then the
  transfer fails with ``EndpointUnreachableError`` naming it, as ``aws s3 cp`` fails in
  seconds; after a first answer (any HTTP status), an outage keeps the long budget.
* the server's clock (``clock.ClockSkew``): a ``RequestTimeTooSkewed`` refusal is corrected
  once and the request sent again at once; refused again, it is permanent.
* every wait is said: ``notify`` gets "retrying (n s of 180 s): cause" (at most once a second).
"""

from __future__ import annotations

import random
import threading
import time
from dataclasses import dataclass, field
from typing import Callable, Optional, TypeVar

from botocore.exceptions import (
    ClientError, ConnectionError as BotoConnectionError, HTTPClientError, IncompleteReadError,
)
from urllib3.exceptions import HTTPError as Urllib3Error

from .clock import ClockSkew
from .errors import EndpointUnreachableError, describe_error

T = TypeVar("T")

RETRYABLE_ERROR_CODES = frozenset({
    "InternalError", "ServiceUnavailable", "SlowDown", "RequestTimeout",
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


def server_answered(error: BaseException) -> bool:
    """Whether ``error`` is an HTTP answer from the server (any status), not a network failure."""
    response = getattr(error, "response", None)
    return isinstance(response, dict) and bool(response.get("ResponseMetadata", {}).get("HTTPStatusCode"))


NOTICE_INTERVAL_SECONDS = 1.0


class Link:
    """What one transfer learnt about its endpoint, shared by all its requests and threads."""

    def __init__(self, endpoint: str = "the endpoint", notify: Optional[Callable[[str], None]] = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.endpoint = endpoint
        self.answered = threading.Event()
        self.skew = ClockSkew()
        self._notify = notify
        self._clock = clock
        self._last_notice = float("-inf")
        self._lock = threading.Lock()

    def notify(self, line: str) -> None:
        if self._notify is not None:
            self._notify(line)

    def retrying(self, seconds: float, budget: float, error: BaseException) -> None:
        """Say that a request is being retried (throttled: workers retry at once in an outage)."""
        with self._lock:
            now = self._clock()
            if now - self._last_notice < NOTICE_INTERVAL_SECONDS:
                return
            self._last_notice = now
        self.notify(f"retrying ({seconds:.0f} s of {budget:g} s): {describe_error(error)}")

    @classmethod
    def for_client(cls, client, notify: Optional[Callable[[str], None]] = None) -> "Link":
        endpoint = getattr(getattr(client, "meta", None), "endpoint_url", None)
        return cls(endpoint or "the endpoint", notify)


@dataclass(frozen=True)
class RetryPolicy:
    """Retry while failing for less than ``retry_for_seconds`` (and fewer than ``max_attempts``
    tries, unless that is ``None``); the n-th wait is uniform in [0, min(cap, base × 2ⁿ⁻¹)]."""

    max_attempts: Optional[int]
    base_seconds: float
    max_seconds: float
    retry_for_seconds: float = float("inf")
    first_answer_seconds: float = float("inf")
    """How long to retry an endpoint that has never answered (needs ``link``)."""
    link: Optional[Link] = field(default=None, compare=False)

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
        link = self.link
        while True:
            if cancelled is not None and cancelled.is_set():
                raise TransferCancelled()
            used = link.skew.seconds if link is not None else None
            try:
                if link is None:
                    return operation()
                with link.skew.applied():
                    value = operation()
                link.answered.set()
                return value
            except Exception as error:  # noqa: BLE001 - classified below
                if link is not None and server_answered(error):
                    link.answered.set()
                skew = link.skew.learn(error, used) if link is not None else None
                if skew == "again":
                    continue  # signed before another request learnt the offset
                if skew == "learnt":
                    offset = link.skew.seconds
                    link.notify(f"this machine's clock is {abs(offset) / 60:.0f} min "
                                f"{'behind' if offset > 0 else 'ahead of'} the server's "
                                "(RequestTimeTooSkewed): signing with the server's time from now on")
                    continue
                if not is_retryable(error):
                    raise
                now = clock()
                if first_failure is None:
                    first_failure = now
                if link is not None and not link.answered.is_set() and \
                        now - first_failure >= self.first_answer_seconds:
                    raise EndpointUnreachableError(
                        f"{link.endpoint} has not answered in {now - first_failure:.0f} s "
                        f"({describe_error(error)}): check --endpoint-url, --region and the network "
                        f"(an endpoint that answered once is retried for {self.retry_for_seconds:g} s)"
                    ) from error
                remaining = self.retry_for_seconds - (now - first_failure)
                if remaining <= 0 or (self.max_attempts is not None and attempt >= self.max_attempts):
                    raise
                if on_retry is not None:
                    on_retry(attempt, error)
                if link is not None:
                    link.retrying(now - first_failure, self.retry_for_seconds, error)
                pause = min(self.delay(attempt), remaining)
                if cancelled is not None:
                    if cancelled.wait(pause):
                        raise TransferCancelled() from error
                else:
                    sleep(pause)
                attempt += 1
