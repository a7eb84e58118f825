"""A request whose answer must not be lost when the user interrupts: it runs on a helper thread.

S3 acts on CreateMultipartUpload, CompleteMultipartUpload and PutObject whether or not the
client is still listening. If Ctrl-C (or SIGTERM) abandoned such a call, the transfer could
not tell what S3 did: an upload left open that nobody knows about, or an object stored that
the message calls aborted. So the call runs on a daemon thread; the main thread waits (and
stays interruptible); after an interrupt it waits a bounded time more for the answer, and
the caller reports what S3 said, or checks (ListParts, HeadObject) when no answer came.
"""

from __future__ import annotations

import threading
from typing import Any, Callable, Optional

POLL_SECONDS = 0.2


class InFlight:
    """``function()`` running on its own daemon thread; its value or exception once it ends."""

    def __init__(self, name: str, function: Callable[[], Any]) -> None:
        self.name = name
        self.value: Any = None
        self.error: Optional[BaseException] = None
        self._function = function
        self._began = threading.Event()
        self._done = threading.Event()

    def start(self) -> "InFlight":
        """Start the call. Separate from construction so that the caller can hold the object
        before an interrupt can arrive, and ask ``began`` after one."""
        def run() -> None:
            self._began.set()
            try:
                self.value = self._function()
            except BaseException as error:  # noqa: BLE001 - handed to whoever waits
                self.error = error
            finally:
                self._done.set()

        threading.Thread(target=run, name=f"securestore-{self.name}", daemon=True).start()
        return self

    @property
    def began(self) -> bool:
        """Whether the call started (an interrupt may come before the thread ran)."""
        return self._began.is_set()

    @property
    def answered(self) -> bool:
        return self._done.is_set()

    def wait(self, timeout: Optional[float] = None) -> bool:
        """Wait for the end (at most ``timeout`` s); a ``KeyboardInterrupt`` goes through."""
        if timeout is not None:
            return self._done.wait(timeout)
        while not self._done.wait(POLL_SECONDS):
            pass
        return True

    def wait_quietly(self, timeout: float) -> bool:
        """Wait at most ``timeout`` s; a (second) Ctrl-C stops the wait instead of raising."""
        try:
            return self._done.wait(timeout)
        except KeyboardInterrupt:
            return self._done.is_set()

    def result(self) -> Any:
        if self.error is not None:
            raise self.error
        return self.value


def bounded(name: str, function: Callable[[], Any], seconds: float) -> tuple[bool, Any, Optional[BaseException]]:
    """Run ``function`` for at most ``seconds`` (a Ctrl-C stops waiting): (finished, value, error)."""
    call = InFlight(name, function).start()
    finished = call.wait_quietly(seconds)
    return finished, call.value, call.error
