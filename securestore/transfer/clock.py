"""Signing with the server's time when this machine's clock is off: learnt once, from S3's answer.

S3 refuses a request signed more than 15 minutes away from its own clock
(``RequestTimeTooSkewed``, with its ``ServerTime`` in the error, and a ``Date`` header). A laptop
back from sleep, a VM restored from a snapshot or a container without NTP is that far off, and
retrying the same request can never succeed: the AWS SDKs for Java and JavaScript therefore keep
a clock offset learnt from the refusal and sign every later request with it. botocore signs
with the local clock only, so a transfer does it here: ``ClockSkew.learn`` takes the offset from
the first refusal (once: a server that still refuses after that is refused for good, with its
code and message), and ``ClockSkew.applied()`` makes both signers use it:

* our own (``direct.py`` pre-signs each part): it asks ``now()``;
* botocore's: its SigV4 signers read ``botocore.auth.get_current_datetime`` (and the CRT one
  ``botocore.crt.auth``'s); once a skew has been learnt, those names are replaced by a function
  that adds the offset of the *current context* (a ``ContextVar`` set by ``applied()``), so
  other clients, threads and transfers in the same process keep the local clock.
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime as _dt
import email.utils
import threading
from typing import Any, Iterator, Optional

MAX_SKEW_SECONDS = 15 * 60
_offset: contextvars.ContextVar[Optional[float]] = contextvars.ContextVar("securestore_clock_offset",
                                                                           default=None)
_install_lock = threading.Lock()
_installed = False


def now() -> _dt.datetime:
    """UTC now, plus the offset of the current context (if a skew was learnt and applied)."""
    moment = _dt.datetime.now(_dt.timezone.utc)
    offset = _offset.get()
    return moment if offset is None else moment + _dt.timedelta(seconds=offset)


def server_time(error: BaseException) -> Optional[_dt.datetime]:
    """The server's clock from a ``RequestTimeTooSkewed`` answer: ``ServerTime``, else ``Date``."""
    response = getattr(error, "response", None)
    if not isinstance(response, dict):
        return None
    if response.get("Error", {}).get("Code") != "RequestTimeTooSkewed":
        # A HEAD's refusal has no body, so no code: a 403 whose Date is further from our clock
        # than S3 allows is the same refusal (as the AWS SDKs read it).
        if response.get("ResponseMetadata", {}).get("HTTPStatusCode") != 403:
            return None
        date = _date_header(response)
        if date is None or abs((date - _dt.datetime.now(_dt.timezone.utc)).total_seconds()) <= MAX_SKEW_SECONDS:
            return None
        return date
    text = response.get("Error", {}).get("ServerTime")
    if text:
        try:
            return _dt.datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=_dt.timezone.utc)
        except ValueError:
            pass
    return _date_header(response)


def _date_header(response: dict) -> Optional[_dt.datetime]:
    date = response.get("ResponseMetadata", {}).get("HTTPHeaders", {}).get("date")
    if date:
        try:
            return email.utils.parsedate_to_datetime(date).astimezone(_dt.timezone.utc)
        except (TypeError, ValueError):
            return None
    return None


class ClockSkew:
    """One transfer's offset from the server's clock; learnt at most once."""

    def __init__(self) -> None:
        self.seconds: Optional[float] = None
        self._lock = threading.Lock()

    def learn(self, error: BaseException, used: Optional[float] = None) -> Optional[str]:
        """What to do about a ``RequestTimeTooSkewed`` refusal of a request signed with offset
        ``used``: ``"learnt"`` (the first one teaches the offset: send again), ``"again"`` (signed
        before another request learnt it: send again), ``None`` (not a skew refusal, or one signed
        with the offset already: refused for good)."""
        server = server_time(error)
        if server is None:
            return None
        with self._lock:
            if self.seconds is not None:
                return "again" if used != self.seconds else None
            self.seconds = (server - _dt.datetime.now(_dt.timezone.utc)).total_seconds()
        _install()
        return "learnt"

    @contextlib.contextmanager
    def applied(self) -> Iterator[None]:
        if self.seconds is None:
            yield
            return
        token = _offset.set(self.seconds)
        try:
            yield
        finally:
            _offset.reset(token)


def _install() -> None:
    """Make botocore's signers read ``now()`` (once per process; inert outside ``applied()``)."""
    global _installed
    with _install_lock:
        if _installed:
            return
        import botocore.auth

        modules: list[Any] = [botocore.auth]
        try:
            import botocore.crt.auth

            modules.append(botocore.crt.auth)
        except ImportError:  # no awscrt: botocore's own signer only
            pass
        for module in modules:
            original = module.get_current_datetime

            def skewed(remove_tzinfo: bool = True, _original=original):
                moment = _original(remove_tzinfo=remove_tzinfo)
                offset = _offset.get()
                return moment if offset is None else moment + _dt.timedelta(seconds=offset)

            module.get_current_datetime = skewed
        _installed = True
