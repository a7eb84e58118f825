"""UploadPart without botocore's request path: pre-signed per part, sent over our own connections.

Why: botocore's per-call pipeline (parameter validation, endpoint rules, event hooks,
serialisation, signing, urllib3) costs ~0.9 ms of CPU per part against ~0.2 ms here
(``bench/upload_breakdown.py``), plus urllib3's send path; on a fast link the upload is
CPU-bound and that pipeline is what kept ours at 1.0x boto3 (``bench/upload_ceiling.py``:
parts over raw connections reach 1.6x). Here each part is signed with ``securestore._sigv4``
(SigV4 query auth, ``UNSIGNED-PAYLOAD``, ~40 µs) and sent with ``http.client`` on one
persistent connection per worker thread.

What botocore's path gave, and how this keeps it:

* Addressing and endpoint rules: the scheme, host and path are those of a URL botocore itself
  pre-signs for the upload's first part (virtual-hosted or path style, FIPS, custom
  endpoints); only the signature is ours.
* Integrity: the part's checksum goes in ``x-amz-checksum-<algorithm>``; S3 rejects a part
  whose bytes do not match, and the echoed checksum is compared by the caller as before.
* ``Expect: 100-continue``: S3 can refuse a part (403, 404 NoSuchUpload) before the body is
  sent, and the refusal arrives as a clean HTTP error instead of a reset mid-body. Without an
  interim answer within one second the body is sent anyway, as botocore does.
* Timeouts: the client's ``connect_timeout`` for connecting and its ``read_timeout`` for every
  256 KiB block and for the response, so a slow link is measured by progress.
* Errors: an HTTP error becomes the ``ClientError`` botocore would raise (code and message
  parsed from S3's XML, status in ``ResponseMetadata``), a network failure a
  ``ConnectionError``; ``retry.is_retryable`` classifies both as before. A TLS certificate that
  does not verify is raised as is (permanent).
* TLS: the client's ``verify`` setting (CA bundle path or default trust store); socket
  options: the client's (``tcp_keepalive``, and any a caller added to its HTTP session).

Used only when nothing else must see the request; otherwise botocore sends the part:
``TransferConfig(direct_parts=False)``; a client with proxies (config or environment); a
client with handlers on its request path (``Stubber``, moto's in-process mock, any
``before-send`` hook); ``verify=False``; a client certificate; no credentials; a URL botocore
builds in a way we do not recognise.
"""

from __future__ import annotations

import http.client
import re
import select
import ssl
import threading
import urllib.request
from typing import Any, Optional
from urllib.parse import quote, urlsplit

from botocore.exceptions import ClientError

from .._sigv4 import S3Endpoint, SigV4Signer
from ..s3presign import CredentialSource
from . import clock as _clock

SEND_BLOCK_SIZE = 256 * 1024
CONTINUE_WAIT_SECONDS = 1.0
URL_EXPIRES_SECONDS = 900
MAX_HEAD_BYTES = 64 * 1024
_XML_CODE = re.compile(rb"<Code>([^<]{1,200})</Code>")
_XML_MESSAGE = re.compile(rb"<Message>([^<]{0,2000})</Message>")
_XML_SERVER_TIME = re.compile(rb"<ServerTime>([^<]{1,64})</ServerTime>")
REFUSAL_READ_SECONDS = 5.0
"""After a send failed mid-body: how long to look for the answer the server sent before closing."""


def _has_request_hooks(client: Any, operation: str = "UploadPart") -> bool:
    """Whether something besides botocore watches or answers this client's requests."""
    events = client.meta.events
    emitter = getattr(events, "_emitter", events)
    unique = getattr(emitter, "_unique_id_handlers", None)
    handlers = getattr(emitter, "_handlers", None)
    if unique is None or handlers is None:
        return True  # an emitter we do not know: let botocore send
    if any("stubber" in str(name) for name in unique):
        return True
    # A handler that says it is switched off (moto's, outside ``mock_aws``) answers nothing.
    return any(getattr(handler, "enabled", True)
               for handler in handlers.prefix_search(f"before-send.s3.{operation}"))


def _uses_proxy(client: Any, scheme: str, host: str) -> bool:
    if getattr(client.meta.config, "proxies", None):
        return True
    proxies = urllib.request.getproxies()
    return scheme in proxies and not urllib.request.proxy_bypass(host.split(":")[0])


def direct_settings(client: Any, operation: str, params: dict) -> Optional[dict[str, Any]]:
    """How to send ``operation`` on ``params["Key"]`` past botocore, or ``None`` when botocore must.

    The endpoint (scheme, host, path prefix) is read from a URL botocore pre-signs for the same
    call, so its addressing and endpoint rules hold; the rest (credentials, region, timeouts,
    TLS trust, socket options) from the client. ``None`` for anything the module doc lists.
    Returns the keyword arguments ``DirectParts`` and ``direct_objects.DirectObjects`` take.
    """
    described = direct_description(client, operation, params)
    if described is None:
        return None
    return settings_from_description(described, CredentialSource(client._request_signer._credentials))


def direct_description(client: Any, operation: str, params: dict) -> Optional[dict[str, Any]]:
    """``direct_settings`` without the credentials, as plain JSON values (``endpoint_cache``
    remembers it): ``scheme``, ``host``, ``path``, ``region``, ``connect_timeout``,
    ``read_timeout``, ``verify`` (a CA bundle path, or ``None`` for the default trust store),
    ``socket_options`` (``[level, option, value]`` integers)."""
    key = params["Key"]
    try:
        if client.meta.service_model.service_name != "s3" or \
                _has_request_hooks(client, client.meta.method_to_api_mapping[operation]):
            return None
        signer = getattr(client, "_request_signer", None)
        credentials = getattr(signer, "_credentials", None)
        region = client.meta.region_name
        if credentials is None or not region or \
                getattr(client.meta.config, "signature_version", "s3v4") not in ("s3v4", None):
            return None
        url = client.generate_presigned_url(operation, Params=params, ExpiresIn=URL_EXPIRES_SECONDS)
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc or \
                "X-Amz-Credential=" not in parts.query or f"%2F{region}%2Fs3%2F" not in parts.query:
            return None
        quoted_key = "/" + quote(key, safe="/~")
        if not parts.path.endswith(quoted_key):
            return None
        if _uses_proxy(client, parts.scheme, parts.netloc) or \
                getattr(client.meta.config, "client_cert", None):
            return None  # proxies and client certificates: botocore's connection handles them
        verify = None
        if parts.scheme == "https":
            verify = client._endpoint.http_session._verify
            if verify is False:
                return None
            verify = verify if isinstance(verify, str) else None
        config = client.meta.config
        options = [list(option) for option in (getattr(client._endpoint.http_session, "_socket_options", ()) or ())]
        if not all(len(option) == 3 and all(isinstance(value, int) for value in option) for option in options):
            return None
        return dict(scheme=parts.scheme, host=parts.netloc, path=parts.path[:-len(quoted_key)], region=region,
                    connect_timeout=float(config.connect_timeout), read_timeout=float(config.read_timeout),
                    verify=verify, socket_options=options)
    except (AttributeError, TypeError, ValueError):
        return None  # anything unexpected about the client: botocore sends


def settings_from_description(described: dict[str, Any], credentials: CredentialSource) -> dict[str, Any]:
    """``direct_description``'s values and the credentials as ``DirectObjects``' arguments."""
    context = None
    if described["scheme"] == "https":
        context = ssl.create_default_context(cafile=described["verify"])
    return dict(endpoint=S3Endpoint(described["scheme"], described["host"], described["path"]),
                region_name=described["region"], credentials=credentials,
                connect_timeout=described["connect_timeout"], read_timeout=described["read_timeout"],
                ssl_context=context, socket_options=tuple(tuple(option) for option in described["socket_options"]))


class PersistentConnections:
    """One keep-alive HTTP(S) connection per thread to ``self._endpoint``, reused request after
    request (and, in ``direct_objects``, file after file); ``close()`` ends them all. Subclasses
    set ``_endpoint``, ``_connect_timeout``, ``_ssl_context`` and call ``_init_connections()``."""

    def _init_connections(self) -> None:
        self._local = threading.local()
        self._lock = threading.Lock()
        self._connections: list[http.client.HTTPConnection] = []

    def _connection(self) -> http.client.HTTPConnection:
        connection = getattr(self._local, "connection", None)
        if connection is None:
            host = self._endpoint.host
            if self._endpoint.scheme == "https":
                connection = http.client.HTTPSConnection(host, timeout=self._connect_timeout,
                                                         context=self._ssl_context)
            else:
                connection = http.client.HTTPConnection(host, timeout=self._connect_timeout)
            self._local.connection = connection
            with self._lock:
                self._connections.append(connection)
        return connection

    def _drop(self, connection: http.client.HTTPConnection) -> None:
        connection.close()  # the next request on this thread connects afresh

    def _answer(self, connection: http.client.HTTPConnection) -> tuple[int, dict[str, str], bytes]:
        """The response to the request just sent (status, lower-cased headers, body); the
        connection is dropped when the server will close it."""
        response = connection.getresponse()
        data = response.read()
        headers = {name.lower(): value for name, value in response.getheaders()}
        if response.will_close:
            self._drop(connection)
        return response.status, headers, data

    def _send_body_and_answer(self, connection: http.client.HTTPConnection,
                              body: memoryview) -> tuple[int, dict[str, str], bytes]:
        """Send ``body`` after the head, then the answer, or a mid-body refusal's (``send_body``)."""
        refusal = send_body(connection, body, self._drop)
        return refusal if refusal is not None else self._answer(connection)

    def close(self) -> None:
        with self._lock:
            connections, self._connections = self._connections, []
        for connection in connections:
            connection.close()


class DirectParts(PersistentConnections):
    """Sends the parts of one multipart upload; thread-safe, one connection per thread."""

    def __init__(self, *, endpoint: S3Endpoint, key: str, upload_id: str, region_name: str,
                 credentials: CredentialSource, checksum_parameter: str, connect_timeout: float,
                 read_timeout: float, ssl_context: Optional[ssl.SSLContext],
                 socket_options: tuple = ()) -> None:
        self._endpoint = endpoint
        self._key = key
        self._upload_id = upload_id
        self._signer = SigV4Signer(region_name)
        self._credentials = credentials
        self._checksum_parameter = checksum_parameter  # "ChecksumCRC32C"
        self._checksum_header = "x-amz-checksum-" + checksum_parameter[len("Checksum"):].lower()
        self._connect_timeout = connect_timeout
        self._read_timeout = read_timeout
        self._ssl_context = ssl_context
        self._socket_options = tuple(socket_options)
        self.clock = _clock.now  # the server's time once a skew was learnt (``clock.py``)
        self._init_connections()

    @classmethod
    def for_upload(cls, client: Any, bucket: str, key: str, upload_id: str,
                   checksum_parameter: str) -> Optional["DirectParts"]:
        """A sender for this upload, or ``None`` when botocore must send (see the module doc)."""
        settings = direct_settings(client, "upload_part", {"Bucket": bucket, "Key": key,
                                                           "UploadId": upload_id, "PartNumber": 1})
        if settings is None:
            return None
        return cls(key=key, upload_id=upload_id, checksum_parameter=checksum_parameter, **settings)

    # one part ---------------------------------------------------------------------------------
    def part_url(self, number: int, checksum: Optional[str] = None) -> str:
        """Part ``number``'s UploadPart URL, pre-signed now (valid ``URL_EXPIRES_SECONDS``).

        The checksum header is signed: S3 refuses a query-signed request carrying an unsigned
        ``x-amz-*`` header (LocalStack too: "headers present in the request which were not
        signed"), and signing it binds the part's checksum to the signature."""
        return self._signer.presign_url(
            self._credentials.current(), "PUT", self._endpoint, self._key,
            expires_in=URL_EXPIRES_SECONDS, now=self.clock(),
            headers={self._checksum_header: checksum} if checksum is not None else None,
            query=(("partNumber", str(number)), ("uploadId", self._upload_id)))

    def upload_part(self, number: int, body: memoryview, checksum: str) -> dict[str, Any]:
        """PUT one part; returns ``{"ETag": ..., "Checksum<ALG>": ...}`` like botocore's
        ``upload_part``, or raises ``ClientError`` / ``ConnectionError``."""
        url = self.part_url(number, checksum)
        target = url[len(f"{self._endpoint.scheme}://{self._endpoint.host}"):]
        connection = self._connection()
        try:
            status, headers, data = self._exchange(connection, target, body, checksum)
        except ssl.SSLCertVerificationError:
            self._drop(connection)
            raise
        except (OSError, http.client.HTTPException) as error:
            self._drop(connection)
            raise ConnectionError(f"UploadPart {number} to {self._endpoint.host}: {error!r}") from error
        if 200 <= status < 300:
            result = {"ETag": headers.get("etag")}
            echoed = headers.get(self._checksum_header)
            if echoed is not None:
                result[self._checksum_parameter] = echoed
            return result
        raise client_error(status, headers, data, "UploadPart")

    def _exchange(self, connection: http.client.HTTPConnection, target: str, body: memoryview,
                  checksum: str) -> tuple[int, dict[str, str], bytes]:
        if connection.sock is None:
            connection.connect()
            for level, option, value in self._socket_options:  # botocore's: keepalive, buffers
                connection.sock.setsockopt(level, option, value)
            connection.sock.settimeout(self._read_timeout)
        connection.putrequest("PUT", target, skip_host=True, skip_accept_encoding=True)
        connection.putheader("Host", self._endpoint.host)
        connection.putheader("Content-Length", str(len(body)))
        connection.putheader(self._checksum_header, checksum)
        connection.putheader("Expect", "100-continue")
        connection.endheaders()
        sock = connection.sock
        pending = getattr(sock, "pending", lambda: 0)()
        if pending or select.select([sock], [], [], CONTINUE_WAIT_SECONDS)[0]:
            status, headers = _read_head(sock)
            if status != 100:  # refused before the body: read the answer, never reuse this socket
                data = _read_body(sock, headers)
                self._drop(connection)
                return status, headers, data
        return self._send_body_and_answer(connection, body)


def client_error(status: int, headers: dict, data: bytes, operation: str) -> ClientError:
    """S3's error answer as the ``ClientError`` botocore would raise: code, message, status, and
    the ``ServerTime`` of a ``RequestTimeTooSkewed`` (``clock.py`` corrects with it)."""
    code = _XML_CODE.search(data)
    message = _XML_MESSAGE.search(data)
    error = {"Code": code.group(1).decode() if code else str(status),
             "Message": message.group(1).decode(errors="replace") if message else ""}
    server_time = _XML_SERVER_TIME.search(data)
    if server_time:
        error["ServerTime"] = server_time.group(1).decode()
    return ClientError({"Error": error, "ResponseMetadata": {"HTTPStatusCode": status,
                                                             "HTTPHeaders": dict(headers)}}, operation)


def send_body(connection: http.client.HTTPConnection, body: memoryview,
              drop) -> Optional[tuple[int, dict[str, str], bytes]]:
    """Send ``body`` in blocks after the head; ``None`` when all went out, or the answer of a
    server that refused mid-body (it answers, then closes: our next write fails with a broken
    pipe or a reset, and its answer may be waiting to be read). Re-raises when there is none."""
    try:
        for start in range(0, len(body), SEND_BLOCK_SIZE):
            connection.sock.sendall(body[start:start + SEND_BLOCK_SIZE])
    except OSError:
        refusal = _answer_after_failed_send(connection)
        drop(connection)
        if refusal is None:
            raise
        return refusal
    return None


def _answer_after_failed_send(connection: http.client.HTTPConnection) -> Optional[tuple[int, dict[str, str], bytes]]:
    """The answer the server sent before our body write failed, or ``None`` if none can be read."""
    try:
        connection.sock.settimeout(REFUSAL_READ_SECONDS)
        response = connection.getresponse()
        data = response.read()
    except (OSError, http.client.HTTPException, AttributeError):
        return None
    if response.status < 300:
        return None  # not a refusal: the body did not arrive whole, whatever the status says
    return response.status, {name.lower(): value for name, value in response.getheaders()}, data


def _read_head(sock) -> tuple[int, dict[str, str]]:
    """Read one response head (status line and headers) byte by byte, so that nothing of what
    follows is consumed; returns (status, lower-cased headers)."""
    head = bytearray()
    while not head.endswith(b"\r\n\r\n"):
        byte = sock.recv(1)
        if not byte:
            raise http.client.RemoteDisconnected("connection closed before a response")
        head += byte
        if len(head) > MAX_HEAD_BYTES:
            raise http.client.LineTooLong("response head")
    lines = bytes(head).decode("latin-1").split("\r\n")
    try:
        status = int(lines[0].split()[1])
    except (IndexError, ValueError):
        raise http.client.BadStatusLine(lines[0]) from None
    headers = {}
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if sep:
            headers[name.strip().lower()] = value.strip()
    return status, headers


def _read_body(sock, headers: dict[str, str]) -> bytes:
    """The body of an early answer when it has a length (S3's errors do); else nothing."""
    try:
        length = int(headers.get("content-length", "0"))
    except ValueError:
        return b""
    data = bytearray()
    while len(data) < min(length, MAX_HEAD_BYTES):
        chunk = sock.recv(min(length, MAX_HEAD_BYTES) - len(data))
        if not chunk:
            break
        data += chunk
    return bytes(data)
