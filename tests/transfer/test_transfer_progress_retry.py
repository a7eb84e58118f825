"""The progress callback is thread-safe and throttled; retries back off and stop when told."""

from __future__ import annotations

import threading

import pytest
from botocore.exceptions import (
    ClientError, ConnectionClosedError, EndpointConnectionError, IncompleteReadError,
)

from securestore.transfer.bar import progress_bar
from securestore.transfer.progress import ThrottledProgress
from securestore.transfer.retry import RetryPolicy, TransferCancelled, is_retryable


def test_progress_from_many_threads_adds_up_and_only_increases():
    reports = []
    progress = ThrottledProgress(8 * 1000 * 3, lambda done, total: reports.append(done),
                                 interval_seconds=0)
    threads = [threading.Thread(target=lambda: [progress.advance(3) for _ in range(1000)])
               for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    progress.finish()
    assert progress.done == 24000
    assert reports[-1] == 24000
    assert reports == sorted(reports)


def test_progress_is_throttled_but_always_reports_the_end():
    now = [0.0]
    reports = []
    progress = ThrottledProgress(1000, lambda done, total: reports.append((done, total)),
                                 interval_seconds=1.0, clock=lambda: now[0])
    for _ in range(100):  # 100 advances within 0.99 s: one report
        progress.advance(10)
        now[0] += 0.0099
    assert len(reports) == 1
    progress.finish()
    assert reports[-1] == (1000, 1000)
    assert len(reports) == 2


def test_progress_bar_only_on_a_terminal():
    """The command line's bar (transfer/bar.py) draws on a terminal only, and not when disabled."""
    class Stream:
        def __init__(self, tty):
            self.tty, self.text = tty, []

        def isatty(self):
            return self.tty

        def write(self, text):
            self.text.append(text)

        def flush(self):
            pass

    assert progress_bar("upload", 100, stream=Stream(False)) is None
    assert progress_bar("upload", 100, stream=Stream(True), enabled=False) is None
    terminal = Stream(True)
    bar = progress_bar("upload", 100, stream=terminal)
    assert bar is not None
    bar(100, 100)
    bar.close()
    assert "100%" in "".join(terminal.text)


def _client_error(status, code):
    return ClientError({"Error": {"Code": code, "Message": "m"},
                        "ResponseMetadata": {"HTTPStatusCode": status}}, "UploadPart")


@pytest.mark.parametrize("error, retry", [
    (_client_error(500, "InternalError"), True),
    (_client_error(503, "SlowDown"), True),
    (_client_error(400, "RequestTimeout"), True),
    (ConnectionClosedError(endpoint_url="http://x"), True),
    (EndpointConnectionError(endpoint_url="http://x"), True),
    (IncompleteReadError(actual_bytes=1, expected_bytes=2), True),
    (_client_error(403, "AccessDenied"), False),
    (_client_error(404, "NoSuchUpload"), False),
    (ValueError("bug"), False),
])
def test_what_is_retried(error, retry):
    assert is_retryable(error) is retry


def test_retry_succeeds_after_transient_errors_with_growing_capped_waits():
    calls, waits = [], []

    def flaky():
        calls.append(1)
        if len(calls) < 4:
            raise _client_error(500, "InternalError")
        return "ok"

    policy = RetryPolicy(max_attempts=5, base_seconds=1.0, max_seconds=3.0)
    assert policy.call(flaky, sleep=waits.append) == "ok"
    assert len(calls) == 4 and len(waits) == 3
    assert all(0 <= w <= cap for w, cap in zip(waits, (1.0, 2.0, 3.0)))


def test_retry_gives_up_after_max_attempts_and_not_at_all_on_client_errors():
    calls = []

    def always_500():
        calls.append(1)
        raise _client_error(500, "InternalError")

    with pytest.raises(ClientError):
        RetryPolicy(3, 0, 0).call(always_500, sleep=lambda s: None)
    assert len(calls) == 3
    calls.clear()

    def denied():
        calls.append(1)
        raise _client_error(403, "AccessDenied")

    with pytest.raises(ClientError):
        RetryPolicy(3, 0, 0).call(denied, sleep=lambda s: None)
    assert len(calls) == 1


def test_cancelled_retry_stops_waiting():
    cancelled = threading.Event()

    def fail_and_cancel():
        cancelled.set()
        raise _client_error(500, "InternalError")

    with pytest.raises(TransferCancelled):
        RetryPolicy(5, 60, 60).call(fail_and_cancel, cancelled=cancelled)
