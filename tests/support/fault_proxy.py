"""An HTTP proxy on loopback that breaks chosen S3 requests on purpose.

It sits between a client and a real (moto) S3 endpoint. For every request it asks a rule what to
do, and records what it saw, so a test can say "drop the connection in the middle of part 2's
body the first time", "answer 500 to every UploadPart", or "hold part 3 until I say so" and then
check what the client sent afterwards.

Actions:
  ``forward``             pass the request upstream and relay the answer
  ``drop_request_body``   read half the request body, then close the connection
  ``drop_response_body``  forward, relay the headers and half the body, then close
  ``error_500``           read the body, answer ``500 InternalError``
  ``error_503``           read the body, answer ``503 SlowDown`` (throttling)
  ``corrupt_request_body`` flip one byte in the middle of the request body, then forward
  ``corrupt_response_body`` forward, then flip one byte in the middle of the response body
  ``reset``               close the connection with a TCP reset before reading the body
  ``hang``                read the body, then wait until ``release()``; then close
  ``drop_response``       forward (the server acts on it), then close without answering: the
                          last answer lost
  ``forward_then_500``    forward (the server acts on it), then answer ``500 InternalError``
  ``hold_response``       forward, then hold the answer until ``release()``, then send it
  ``ignore_range``        forward without the ``Range`` header: a server that ignores ranges
                          (answers 200 with the whole object)
  ``error:<status>:<Code>`` read the body, answer that status and S3 error code, e.g.
                          ``error:403:SignatureDoesNotMatch``
  ``refuse_mid_body:<status>:<Code>`` read part of the body, answer with that error, close
                          (the sender's next write fails: a broken pipe or a reset)
  ``server_clock(seconds)`` (not a rule action) the proxy's clock runs ``seconds`` ahead:
                          requests signed more than 15 minutes away from it get S3's
                          ``403 RequestTimeTooSkewed`` with its ``ServerTime``

Network conditions, independent of the rule:
  ``outage(seconds, mode)`` for a while every connection is refused (``"refuse"``: the listening
                          socket is closed, so the kernel answers RST to a SYN, as for a host
                          whose service is down) or reset (``"reset"``: accepted, then RST, as
                          a middlebox does); open connections are cut at the start either way
  ``rate_limit``          request bodies are read at most this many bytes per second per
                          connection, with small socket buffers, so that the sender sees the
                          slow link (loopback buffers would otherwise swallow megabytes)
"""

from __future__ import annotations

import http.client
import socket
import struct
import threading
import time
from dataclasses import dataclass, field
from typing import Callable, Optional
from urllib.parse import parse_qs, urlsplit

MAX_HEADER_BYTES = 64 * 1024
HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "expect", "proxy-connection", "te",
              "upgrade", "content-length"}


@dataclass(frozen=True)
class SeenRequest:
    method: str
    path: str
    query: dict
    operation: str
    part_number: Optional[int]
    attempt: int  # 1 for the first request of this (operation, part, range) in this proxy
    range: Optional[str] = None
    headers: dict = field(default_factory=dict)  # lower-cased names


def classify(method: str, query: dict) -> str:
    """The S3 operation a request is, from its method and query string."""
    if method == "PUT" and "partNumber" in query:
        return "UploadPart"
    if method == "POST" and "uploads" in query:
        return "CreateMultipartUpload"
    if method == "POST" and "uploadId" in query:
        return "CompleteMultipartUpload"
    if method == "DELETE" and "uploadId" in query:
        return "AbortMultipartUpload"
    if method == "GET" and "uploadId" in query:
        return "ListParts"
    if method == "GET" and "uploads" in query:
        return "ListMultipartUploads"
    return {"PUT": "PutObject", "GET": "GetObject", "HEAD": "HeadObject",
            "DELETE": "DeleteObject"}.get(method, method)


Rule = Callable[[SeenRequest], str]

ERRORS = {"error_500": (500, b"InternalError"), "error_503": (503, b"SlowDown"),
          "error_403": (403, b"AccessDenied")}


def _reset(connection: socket.socket) -> None:
    """Close with RST (SO_LINGER 0), as a dropped route or a middlebox does."""
    try:
        connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        connection.close()
    except OSError:
        pass


_REASONS = {400: b"Bad Request", 403: b"Forbidden", 404: b"Not Found", 500: b"Internal Server Error",
            503: b"Slow Down"}


def _error_response(status: int, code: bytes, payload: Optional[bytes] = None,
                    clock_offset: Optional[float] = None) -> bytes:
    """An S3 error answer: status line, XML body with ``code`` (or ``payload`` as the body),
    ``Date`` by a clock ``clock_offset`` seconds ahead of this machine's."""
    import email.utils

    if payload is None:
        payload = (b"<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>" + code
                   + b"</Code><Message>injected by the fault proxy</Message></Error>")
    return (b"HTTP/1.1 " + str(status).encode() + b" " + _REASONS.get(status, b"Error")
            + b"\r\nContent-Type: application/xml\r\nDate: " + email.utils.formatdate(
                time.time() + (clock_offset or 0), usegmt=True).encode()
            + b"\r\nContent-Length: " + str(len(payload)).encode() + b"\r\n\r\n" + payload)


def failing(operation: str, action: str = "error_503") -> Rule:
    """A rule that answers every ``operation`` request with ``action`` and forwards the rest."""
    def rule(request: SeenRequest) -> str:
        return action if request.operation == operation else "forward"
    return rule


def forward_all(request: SeenRequest) -> str:
    return "forward"


@dataclass
class FaultProxy:
    upstream_host: str
    upstream_port: int
    rule: Rule = forward_all
    seen: list = field(default_factory=list)
    rate_limit: Optional[int] = None
    """Bytes per second per connection for request bodies (``None``: unlimited)."""

    RATE_LIMIT_BUFFER = 32 * 1024

    def __post_init__(self) -> None:
        self._listener = self._listen(0)
        self.port = self._listener.getsockname()[1]
        self.endpoint_url = f"http://127.0.0.1:{self.port}"
        self._lock = threading.Lock()
        self._attempts: dict[tuple, int] = {}
        self._released = threading.Event()
        self.hanging = threading.Event()  # set when a request is being held by ``hang``
        self._stopping = threading.Event()
        self._connections: list[socket.socket] = []
        self._outage_until = 0.0
        self._outage_mode = ""
        self.outage_refused = 0  # connections reset during a "reset" outage
        self.clock_offset: Optional[float] = None  # ``server_clock``: seconds ahead of ours

    def _listen(self, port: int) -> socket.socket:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if self.rate_limit:
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, self.RATE_LIMIT_BUFFER)
        listener.bind(("127.0.0.1", port))
        listener.listen(128)
        return listener

    # network conditions ----------------------------------------------------------------------
    def outage(self, seconds: float, mode: str = "refuse") -> None:
        """From now on, for ``seconds``, refuse or reset every connection (see the module doc)."""
        if mode not in ("refuse", "reset"):
            raise ValueError(f"outage mode must be 'refuse' or 'reset', got {mode!r}")
        with self._lock:
            self._outage_until = time.monotonic() + seconds
            self._outage_mode = mode
            connections, self._connections = self._connections, []
        for connection in connections:
            _reset(connection)
        if mode == "refuse":
            self._listener.close()
            threading.Timer(seconds, self._reopen).start()

    def _reopen(self) -> None:
        if self._stopping.is_set():
            return
        for _ in range(100):
            try:
                self._listener = self._listen(self.port)
                break
            except OSError:
                time.sleep(0.05)
        threading.Thread(target=self._accept_loop, daemon=True, name="fault-proxy").start()

    def slow_link(self, bytes_per_second: int) -> None:
        """Read request bodies at ``bytes_per_second`` per connection from now on."""
        self.rate_limit = bytes_per_second
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, self.RATE_LIMIT_BUFFER)

    def server_clock(self, seconds_ahead: Optional[float]) -> None:
        """Judge every request's signing time by a clock ``seconds_ahead`` of this machine's."""
        self.clock_offset = seconds_ahead

    def _skewed(self, lookup: dict, query: dict) -> Optional[bytes]:
        """S3's answer to a request signed more than 15 minutes from the proxy's clock."""
        if self.clock_offset is None:
            return None
        import datetime as _dt

        stamp = lookup.get("x-amz-date") or (query.get("X-Amz-Date") or [""])[0]
        if not stamp:
            return None
        signed = _dt.datetime.strptime(stamp, "%Y%m%dT%H%M%SZ").replace(tzinfo=_dt.timezone.utc)
        server = _dt.datetime.now(_dt.timezone.utc) + _dt.timedelta(seconds=self.clock_offset)
        if abs((server - signed).total_seconds()) <= 15 * 60:
            return None
        return (b"<Error><Code>RequestTimeTooSkewed</Code><Message>The difference between the "
                b"request time and the current time is too large.</Message><RequestTime>"
                + stamp.encode() + b"</RequestTime><ServerTime>"
                + server.strftime("%Y-%m-%dT%H:%M:%SZ").encode() + b"</ServerTime>"
                b"<MaxAllowedSkewMilliseconds>900000</MaxAllowedSkewMilliseconds></Error>")

    def in_outage(self) -> bool:
        return time.monotonic() < self._outage_until

    # lifecycle -------------------------------------------------------------------------------
    def start(self) -> "FaultProxy":
        threading.Thread(target=self._accept_loop, daemon=True, name="fault-proxy").start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        self._released.set()
        self._listener.close()
        with self._lock:
            for connection in self._connections:
                try:
                    connection.close()
                except OSError:
                    pass

    def release(self) -> None:
        """Let requests held by ``hang`` end (their connection is closed)."""
        self._released.set()

    def reset(self, rule: Rule = forward_all) -> None:
        """A new rule and a clean log (attempt counts start again)."""
        with self._lock:
            self.rule = rule
            self.seen = []
            self._attempts = {}
            self._released = threading.Event()
            self.hanging = threading.Event()

    def requests(self, operation: str) -> list[SeenRequest]:
        with self._lock:
            return [r for r in self.seen if r.operation == operation]

    # serving ---------------------------------------------------------------------------------
    def _accept_loop(self) -> None:
        listener = self._listener
        while not self._stopping.is_set():
            try:
                connection, _ = listener.accept()
            except OSError:
                return
            if self.in_outage():
                self.outage_refused += 1
                _reset(connection)
                continue
            with self._lock:
                self._connections.append(connection)
            threading.Thread(target=self._serve, args=(connection,), daemon=True).start()

    def _serve(self, connection: socket.socket) -> None:
        pending = b""
        try:
            while True:
                while b"\r\n\r\n" not in pending:
                    chunk = connection.recv(MAX_HEADER_BYTES)
                    if not chunk:
                        return
                    pending += chunk
                head, _, pending = pending.partition(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                method, target, _ = lines[0].split(" ", 2)
                headers: list[tuple[str, str]] = []
                for line in lines[1:]:
                    name, _, value = line.partition(":")
                    headers.append((name.strip(), value.strip()))
                lookup = {name.lower(): value for name, value in headers}
                length = int(lookup.get("content-length", "0") or 0)
                if self.in_outage():
                    _reset(connection)
                    return
                request = self._record(method, target, lookup.get("range"), lookup)
                with self._lock:
                    action = self.rule(request)
                if action == "reset":
                    _reset(connection)
                    return
                skewed = self._skewed(lookup, request.query)
                if skewed is not None:
                    action = "error:403:RequestTimeTooSkewed"
                if action.startswith("refuse_mid_body:"):
                    _, status, code = action.split(":")
                    if lookup.get("expect", "").lower() == "100-continue":
                        connection.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
                    _, pending = self._read_body(connection, pending, min(length // 4, 256 * 1024))
                    connection.sendall(_error_response(int(status), code.encode()))
                    _reset(connection)  # unread body in our buffer: the kernel sends RST
                    return
                if lookup.get("expect", "").lower() == "100-continue":
                    connection.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
                if action == "drop_request_body":
                    body, pending = self._read_body(connection, pending, length // 2)
                    return  # closes the connection half-way through the body
                body, pending = self._read_body(connection, pending, length)
                if action.startswith("error:"):
                    _, status, code = action.split(":")
                    answer = _error_response(int(status), code.encode(), skewed, self.clock_offset)
                    if method == "HEAD":  # S3 answers a HEAD with headers only
                        answer = answer.split(b"\r\n\r\n", 1)[0].replace(
                            b"Content-Length: ", b"X-Length: ") + b"\r\nContent-Length: 0\r\n\r\n"
                    connection.sendall(answer)
                    continue
                if action == "corrupt_request_body" and body:
                    middle = len(body) // 2
                    body = body[:middle] + bytes([body[middle] ^ 0xFF]) + body[middle + 1:]
                if action in ERRORS:
                    connection.sendall(_error_response(*ERRORS[action]))
                    continue
                if action == "hang":
                    self.hanging.set()
                    self._released.wait()
                    return
                if action == "ignore_range":
                    headers = [(n, v) for n, v in headers if n.lower() != "range"]
                status, reason, response_headers, response_body = self._forward(
                    method, target, headers, body)
                if action == "drop_response":
                    return
                if action == "forward_then_500":
                    connection.sendall(_error_response(500, b"InternalError"))
                    continue
                if action == "hold_response":
                    self.hanging.set()
                    self._released.wait()
                out = [f"HTTP/1.1 {status} {reason}"]
                out += [f"{n}: {v}" for n, v in response_headers if n.lower() not in HOP_BY_HOP]
                if method == "HEAD":  # no body, but the length of the object it describes
                    out += [f"Content-Length: {v}" for n, v in response_headers
                            if n.lower() == "content-length"]
                else:
                    out.append(f"Content-Length: {len(response_body)}")
                head_bytes = ("\r\n".join(out) + "\r\n\r\n").encode("latin-1")
                if action == "corrupt_response_body" and response_body:
                    middle = len(response_body) // 2
                    response_body = (response_body[:middle] + bytes([response_body[middle] ^ 0xFF])
                                     + response_body[middle + 1:])
                if action == "drop_response_body" and method != "HEAD":
                    connection.sendall(head_bytes + response_body[: len(response_body) // 2])
                    return
                connection.sendall(head_bytes + (b"" if method == "HEAD" else response_body))
        except OSError:
            return
        finally:
            try:
                connection.close()
            except OSError:
                pass

    def _record(self, method: str, target: str, byte_range: Optional[str],
                headers: Optional[dict] = None) -> SeenRequest:
        parts = urlsplit(target)
        query = parse_qs(parts.query, keep_blank_values=True)
        operation = classify(method, query)
        part_number = int(query["partNumber"][0]) if "partNumber" in query else None
        with self._lock:
            identity = (operation, part_number, byte_range)
            attempt = self._attempts.get(identity, 0) + 1
            self._attempts[identity] = attempt
            request = SeenRequest(method, parts.path, query, operation, part_number, attempt, byte_range,
                                  dict(headers or {}))
            self.seen.append(request)
        return request

    def _read_body(self, connection: socket.socket, pending: bytes, length: int) -> tuple[bytes, bytes]:
        chunks = [pending[:length]]
        have = len(chunks[0])
        rest = pending[length:]
        rate = self.rate_limit
        started = time.monotonic()
        while have < length:
            if rate:  # never ahead of rate × elapsed: the client's sends block on our window
                ahead = have / rate - (time.monotonic() - started)
                if ahead > 0:
                    time.sleep(ahead)
            chunk = connection.recv(min(self.RATE_LIMIT_BUFFER // 4 if rate else 1 << 20, length - have))
            if not chunk:
                raise ConnectionError("client closed mid-body")
            chunks.append(chunk)
            have += len(chunk)
        return b"".join(chunks), rest

    def _forward(self, method, target, headers, body):
        upstream = http.client.HTTPConnection(self.upstream_host, self.upstream_port, timeout=60)
        try:
            forwarded = {n: v for n, v in headers if n.lower() not in HOP_BY_HOP}
            if body or method in ("PUT", "POST"):
                forwarded["Content-Length"] = str(len(body))
            upstream.request(method, target, body=body if body else None, headers=forwarded)
            response = upstream.getresponse()
            data = response.read()
            return response.status, response.reason, response.getheaders(), data
        finally:
            upstream.close()
