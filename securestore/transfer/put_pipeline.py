"""Many small PUTs (and a sync's HEADs) from one thread: keep-alive connections driven by an event loop.

Why: a tree of small files is a request per file, and with one worker thread per connection the
cost was the threads, not the bytes. ``bench/small_files.py`` on this 2-core machine: 8 workers
made ~95 ``futex`` calls a file (the GIL handed back and forth around every ``send``/``recv``),
~870 µs of CPU a file, and the client, not the server, was the limit (1,275 files/s, rclone
1,900). Here one thread drives ``connections`` non-blocking connections (``asyncio`` protocols,
so TLS is the standard library's): a request is written when a connection is free, its answer
parsed when it arrives, and nothing waits on a lock. The same 10,000 files cost ~110 µs a file.

What each request is, is decided elsewhere and is exactly what the threaded path sends:
``direct_objects.DirectObjects`` gives the endpoint, the credentials, the clock, the timeouts and
TLS trust; the caller gives the key, the headers (``DirectObjects.headers_for``, or
``DirectObjects.head_headers`` for a HEAD) and the body; every header is signed into the
target by ``DirectObjects.presigned_target``, the same code that signs the threaded path's.

What this path does not do, on purpose: retry. A request that fails is handed back to the
caller (``on_refused``) with the error botocore would have raised (``ClientError`` from S3's
answer, ``ConnectionError`` for the network), and the caller sends it again through the
threaded path, whose retry policy, clock-skew correction and outcome reporting apply. A
transient failure (the network, a timeout, 5xx, throttling, ``is_retryable``) also stops this
path: the requests in flight are handed back and the pipeline takes no more (``run`` returns
``False``), so an outage is waited out by one retry policy, not raced by eight connections.
One exception: a kept-alive connection that dies under a request (servers close idle
connections, and one can close as a request goes out) hands that request back and the pipeline
goes on; a fresh connection failing is an outage. A ``RequestTimeTooSkewed`` refusal teaches
``link`` the server's clock and later requests are signed with it.

Timeouts are those of the client: ``connect_timeout`` to connect, ``read_timeout`` without any
progress (bytes leaving our buffer or the answer arriving) on a request in flight.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import time
from dataclasses import dataclass
from typing import Any, Callable, Iterator, Mapping, Optional
from urllib.parse import urlsplit

from .direct import client_error
from .direct_objects import DirectObjects, head_object_result, put_object_result
from .retry import is_retryable

MAX_HEAD_BYTES = 64 * 1024
MAX_ERROR_BODY_BYTES = 1024 * 1024
WATCH_INTERVAL_SECONDS = 0.5


@dataclass
class PutRequest:
    """One PutObject: ``headers`` as ``DirectObjects.headers_for`` makes them (all are signed),
    ``body`` the whole object; ``context`` is the caller's, handed back with the outcome."""

    key: str
    headers: Mapping[str, str]
    body: bytes
    context: Any = None
    method: str = "PUT"
    """``PUT`` (a PutObject: ``on_stored`` gets its result) or ``HEAD`` (a HeadObject, no body:
    ``on_stored`` gets ``direct_objects.head_object_result``)."""
    skew: Optional[float] = None
    """The clock offset it was signed with (``link``'s, when it was encoded)."""
    sent: float = 0.0
    """``time.monotonic()`` when the pipeline wrote it (a result's ``seconds`` count from it)."""


def _check_header(name: str, value: str) -> None:
    """Refuse what would split the request (as ``http.client.putheader`` does)."""
    if not name.isascii() or not value.isascii() or any(c in name for c in ":\r\n ") or \
            "\r" in value or "\n" in value:
        raise ValueError(f"header {name!r} cannot be sent as is")


class _Answer:
    """An HTTP/1.1 response read from a byte stream: ``feed`` until ``done``."""

    __slots__ = ("status", "headers", "body", "done", "will_close", "_length", "_chunked", "_head_done",
                 "_until_close", "_chunk_left", "_trailers", "_to_head")

    def __init__(self, to_head: bool = False) -> None:
        self._to_head = to_head  # the answer to a HEAD: headers only, whatever its Content-Length
        self.status = 0
        self.headers: dict[str, str] = {}
        self.body = bytearray()
        self.done = False
        self.will_close = False
        self._head_done = False
        self._length = 0
        self._chunked = False
        self._until_close = False
        self._chunk_left = -1
        self._trailers = False

    def feed(self, buffer: bytearray) -> None:
        """Consume what ``buffer`` holds of this answer (leaves anything after it)."""
        while not self._head_done:
            end = buffer.find(b"\r\n\r\n")
            if end < 0:
                if len(buffer) > MAX_HEAD_BYTES:
                    raise ConnectionError("response head larger than 64 KiB")
                return
            lines = bytes(buffer[:end]).decode("latin-1").split("\r\n")
            del buffer[:end + 4]
            parts = lines[0].split(None, 2)
            if len(parts) < 2 or not parts[0].startswith("HTTP/1.") or not parts[1].isdigit():
                raise ConnectionError(f"not an HTTP/1.1 answer: {lines[0][:80]!r}")
            status = int(parts[1])
            if 100 <= status < 200:
                continue  # an interim answer (100 Continue): the real one follows
            headers = {}
            for line in lines[1:]:
                name, sep, value = line.partition(":")
                if sep:
                    headers[name.strip().lower()] = value.strip()
            self.status, self.headers, self._head_done = status, headers, True
            connection = headers.get("connection", "").lower()
            self.will_close = connection == "close" or (parts[0] == "HTTP/1.0" and connection != "keep-alive")
            if self._to_head:
                self.done = True
                return
            if "chunked" in headers.get("transfer-encoding", "").lower():
                self._chunked = True
            elif "content-length" in headers:
                try:
                    self._length = int(headers["content-length"])
                except ValueError:
                    raise ConnectionError(f"bad Content-Length {headers['content-length']!r}") from None
            elif status not in (204, 304):
                self._until_close = self.will_close = True
        if self._chunked:
            self._feed_chunked(buffer)
        elif self._until_close:
            self._take(buffer, len(buffer))
        else:
            self._take(buffer, min(len(buffer), self._length - len(self.body)))
            self.done = len(self.body) >= self._length

    def _take(self, buffer: bytearray, count: int) -> None:
        if len(self.body) + count > MAX_ERROR_BODY_BYTES:
            raise ConnectionError("response body larger than 1 MiB")
        self.body += buffer[:count]
        del buffer[:count]

    def _feed_chunked(self, buffer: bytearray) -> None:
        while not self.done:
            if self._trailers:
                end = buffer.find(b"\r\n")
                if end < 0:
                    return
                line = bytes(buffer[:end])
                del buffer[:end + 2]
                if not line:
                    self.done = True
                continue
            if self._chunk_left < 0:
                end = buffer.find(b"\r\n")
                if end < 0:
                    if len(buffer) > 1024:
                        raise ConnectionError("bad chunk size line")
                    return
                try:
                    self._chunk_left = int(bytes(buffer[:end]).split(b";")[0].strip(), 16)
                except ValueError:
                    raise ConnectionError("bad chunk size line") from None
                del buffer[:end + 2]
                if self._chunk_left == 0:
                    self._trailers = True
                    continue
            count = min(len(buffer), self._chunk_left)
            self._take(buffer, count)
            self._chunk_left -= count
            if self._chunk_left:
                return
            if len(buffer) < 2:
                self._chunk_left = 0  # wait for the CRLF after the chunk
                return
            del buffer[:2]
            self._chunk_left = -1

    def closed(self) -> bool:
        """The peer closed: an answer read until close is then complete."""
        if self._head_done and self._until_close:
            self.done = True
        return self.done


class _Connection(asyncio.Protocol):
    """One keep-alive connection; one request at a time (no pipelining: S3 does not promise it)."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.transport: Optional[asyncio.Transport] = None
        self.buffer = bytearray()
        self.answer: Optional[_Answer] = None
        self.waiter: Optional[asyncio.Future] = None
        self.closed = False
        self.last_progress = loop.time()
        self.last_buffered = 0
        self.served = 0
        """Answers read on this connection: a kept-alive one the server closed as we sent on it
        (servers close idle connections) hands its request back without stopping the pipeline."""

    def connection_made(self, transport) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.last_progress = self.loop.time()
        if self.answer is None:
            self.closed = True
            self.transport.abort()  # bytes nobody asked for: this connection cannot be trusted
            return
        self.buffer += data
        try:
            self.answer.feed(self.buffer)
        except ConnectionError as error:
            self._fail(error)
            return
        if self.answer.done:
            self._finish()

    def connection_lost(self, exc: Optional[BaseException]) -> None:
        self.closed = True
        if self.answer is not None and self.answer.closed():
            self._finish()
            return
        self._fail(ConnectionError(f"connection lost: {exc!r}" if exc else "connection closed by the server"))

    def send(self, data: bytes, to_head: bool = False) -> "asyncio.Future[_Answer]":
        self.answer = _Answer(to_head)
        self.waiter = self.loop.create_future()
        self.last_progress = self.loop.time()
        self.transport.write(data)
        self.last_buffered = self.transport.get_write_buffer_size()
        return self.waiter

    def stalled(self, now: float, limit: float) -> bool:
        """No progress for ``limit`` seconds on the request in flight (bytes sent or received)."""
        if self.waiter is None or self.transport is None:
            return False
        buffered = self.transport.get_write_buffer_size()
        if buffered != self.last_buffered:
            self.last_buffered, self.last_progress = buffered, now
        return now - self.last_progress > limit

    def _finish(self) -> None:
        answer, waiter = self.answer, self.waiter
        self.answer, self.waiter = None, None
        if answer.will_close:
            self.closed = True
            self.transport.close()
        if waiter is not None and not waiter.done():
            waiter.set_result(answer)

    def _fail(self, error: BaseException) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.abort()
        waiter, self.waiter, self.answer = self.waiter, None, None
        if waiter is not None and not waiter.done():
            waiter.set_exception(error)


class PutPipeline:
    """Sends ``PutRequest``s over ``connections`` keep-alive connections from the calling thread."""

    def __init__(self, direct: DirectObjects, connections: int, link: Any = None) -> None:
        if connections < 1:
            raise ValueError("connections must be at least 1")
        self.direct = direct
        self.link = link
        """A ``retry.Link``: requests are signed with the clock skew it has learnt, and a
        ``RequestTimeTooSkewed`` refusal teaches it (that request goes back; the next ones are
        signed with the server's time)."""
        self.connections = connections
        endpoint = direct.endpoint
        where = urlsplit(f"//{endpoint.host}")
        self._host = where.hostname
        self._port = where.port or (443 if endpoint.scheme == "https" else 80)
        self._server_hostname = self._host if endpoint.scheme == "https" else None
        self._tls = direct.ssl_context if endpoint.scheme == "https" else None
        if endpoint.scheme == "https" and self._tls is None:
            self._tls = ssl.create_default_context()
        self.stopped = False

    # the request ---------------------------------------------------------------------------
    def encode(self, request: PutRequest) -> bytes:
        """The request's bytes: a pre-signed target (every header signed), Host, Content-Length."""
        headers = {name.lower(): value for name, value in request.headers.items()}
        for name, value in headers.items():
            _check_header(name, value)
        direct = self.direct
        if request.method not in ("PUT", "HEAD"):
            raise ValueError(f"method {request.method!r}: the pipeline sends PUT and HEAD")
        request.skew = self.link.skew.seconds if self.link is not None else None
        with self.link.skew.applied() if self.link is not None else contextlib.nullcontext():
            target = direct.presigned_target(request.method, request.key, headers)
        lines = [f"{request.method} {target} HTTP/1.1", f"Host: {direct.endpoint.host}"]
        if request.method != "HEAD":
            lines.append(f"Content-Length: {len(request.body)}")
        lines.extend(f"{name}: {value}" for name, value in headers.items())
        return ("\r\n".join(lines) + "\r\n\r\n").encode("ascii") + request.body

    # running -------------------------------------------------------------------------------
    def run(self, requests: Iterator[PutRequest], on_stored: Callable[[PutRequest, dict], None],
            on_refused: Callable[[PutRequest, BaseException], None]) -> bool:
        """Send what ``requests`` yields until it ends; ``True`` then. ``False`` when a transient
        failure stopped the pipeline first: the iterator is left where it was (the caller sends
        the rest its own way). ``on_stored(request, result)`` for a 2xx, ``on_refused(request,
        error)`` for every other outcome; both run on this thread. An exception from the
        iterator or a callback (a bug, ``KeyboardInterrupt``) closes every connection and is
        raised here."""
        loop = asyncio.new_event_loop()
        try:
            return loop.run_until_complete(self._run(loop, iter(requests), on_stored, on_refused))
        finally:
            try:  # after an interrupt: let every task run its clean-up (connections aborted)
                tasks = asyncio.all_tasks(loop)
                for task in tasks:
                    task.cancel()
                if tasks:
                    loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))
            finally:
                loop.close()

    async def _run(self, loop, requests, on_stored, on_refused) -> bool:
        exhausted = [False]
        connections: list[_Connection] = []
        self._watch_handle = loop.call_later(WATCH_INTERVAL_SECONDS, self._watch, loop, connections)
        try:
            workers = [loop.create_task(self._worker(loop, requests, exhausted, connections, on_stored,
                                                     on_refused)) for _ in range(self.connections)]
            try:
                await asyncio.gather(*workers)
            except BaseException:
                for worker in workers:
                    worker.cancel()
                raise
        finally:
            self._watch_handle.cancel()
            for connection in connections:
                if connection.transport is not None:
                    connection.transport.abort()
        return exhausted[0] and not self.stopped

    def _watch(self, loop, connections: list[_Connection]) -> None:
        now = loop.time()
        limit = self.direct.read_timeout
        for connection in connections:
            if connection.stalled(now, limit):
                connection._fail(TimeoutError(f"no progress for {limit:g}s"))
        self._watch_handle = loop.call_later(WATCH_INTERVAL_SECONDS, self._watch, loop, connections)

    async def _worker(self, loop, requests, exhausted, connections, on_stored, on_refused) -> None:
        connection: Optional[_Connection] = None
        while not self.stopped:
            try:
                request = next(requests)
            except StopIteration:
                exhausted[0] = True
                return
            try:
                data = self.encode(request)
            except ValueError as error:
                on_refused(request, error)  # the threaded path says it the way http.client does
                continue
            try:
                if connection is None or connection.closed:
                    connection = await self._connect(loop)
                    connections.append(connection)
                request.sent = time.monotonic()
                answer = await connection.send(data, to_head=request.method == "HEAD")
            except (OSError, ConnectionError, asyncio.TimeoutError, ssl.SSLError) as error:
                reused = connection is not None and connection.served > 0 and \
                    type(error) in (ConnectionError, ConnectionResetError, BrokenPipeError)
                if connection is not None and connection in connections:
                    connections.remove(connection)
                connection = None
                if reused:  # a kept-alive connection the server had closed: this request goes back
                    on_refused(request, error)
                    continue
                self.stopped = True
                if isinstance(error, ssl.SSLCertVerificationError):
                    failure: BaseException = error  # permanent: the threaded path says so
                elif isinstance(error, ConnectionError):
                    failure = error
                else:
                    failure = ConnectionError(f"{request.method} {request.key} on {self.direct.endpoint.host}: {error!r}")
                on_refused(request, failure)
                return
            connection.served += 1
            if connection.closed and connection in connections:
                connections.remove(connection)
            operation = "HeadObject" if request.method == "HEAD" else "PutObject"
            if 200 <= answer.status < 300:
                on_stored(request, head_object_result(answer.headers) if request.method == "HEAD"
                          else put_object_result(answer.headers))
                continue
            error = client_error(answer.status, answer.headers, bytes(answer.body), operation)
            if self.link is not None and self.link.skew.learn(error, request.skew) in ("learnt", "again"):
                pass  # a clock refusal: the next requests are signed with the server's time
            elif is_retryable(error):
                self.stopped = True
            on_refused(request, error)

    async def _connect(self, loop) -> _Connection:
        direct = self.direct
        transport, protocol = await asyncio.wait_for(
            loop.create_connection(lambda: _Connection(loop), self._host, self._port,
                                   ssl=self._tls, server_hostname=self._server_hostname),
            timeout=direct.connect_timeout)
        sock = transport.get_extra_info("socket")
        for level, option, value in direct.socket_options:
            try:
                sock.setsockopt(level, option, value)
            except OSError:
                pass
        return protocol
