"""PutObject past botocore, over connections kept open from one file to the next.

Why: a tree of small files is many PUTs of a few KiB, where the cost is per request, not per
byte. botocore's pipeline (validation, endpoint rules, hooks, serialisation, signing, urllib3)
costs about 1 ms of CPU a call here, more than the bytes; ``direct.py`` measured 0.9 ms against
0.2 ms for a part. The same path serves single PUTs: the request is pre-signed with
``securestore._sigv4`` (query auth, ``UNSIGNED-PAYLOAD``; every ``x-amz-*`` header we send is
signed, the checksum header included, so it binds the body) and sent with ``http.client`` on one
persistent connection per worker thread (``direct.PersistentConnections``). A body of at most
``COALESCE_BYTES`` goes out in the same ``send`` as the head (no Nagle/delayed-ACK stall, one
system call).

One ``DirectObjects`` per (client, bucket) is kept for the client's life (``for_client``), so
the endpoint is derived once, not per file. It is used under the same conditions as direct parts
(``direct.direct_settings``: no proxy, no request hooks such as ``Stubber`` or moto's mock, no
client certificate, ``verify`` not off, SigV4); and only for the PutObject arguments it can
express as headers (``headers_for``); anything else goes through botocore as before.
"""

from __future__ import annotations

import datetime as _dt
import email.utils
import http.client
import ssl
import threading
import weakref
from typing import Any, Mapping, Optional, Sequence


from .._sigv4 import S3Endpoint, SigV4Signer
from ..s3presign import CredentialSource
from . import clock as _clock
from .direct import (
    URL_EXPIRES_SECONDS, PersistentConnections, _has_request_hooks, client_error, direct_settings,
    settings_from_description,
)

COALESCE_BYTES = 64 * 1024
PROBE_KEY = "securestore-direct-probe"

_HEADER_OF = {
    "ContentType": "Content-Type", "CacheControl": "Cache-Control",
    "ContentDisposition": "Content-Disposition", "ContentEncoding": "Content-Encoding",
    "ContentLanguage": "Content-Language", "StorageClass": "x-amz-storage-class",
    "ServerSideEncryption": "x-amz-server-side-encryption",
    "SSEKMSKeyId": "x-amz-server-side-encryption-aws-kms-key-id",
    "ChecksumAlgorithm": "x-amz-sdk-checksum-algorithm",
}

_cache: "weakref.WeakKeyDictionary[Any, dict[str, Optional[DirectObjects]]]" = weakref.WeakKeyDictionary()
_cache_lock = threading.Lock()


class DirectObjects(PersistentConnections):
    """PutObject to one bucket; thread-safe, one connection per thread."""

    def __init__(self, *, endpoint: S3Endpoint, region_name: str, credentials: CredentialSource,
                 connect_timeout: float, read_timeout: float, ssl_context: Optional[ssl.SSLContext],
                 socket_options: tuple = ()) -> None:
        self._endpoint = endpoint
        self._signer = SigV4Signer(region_name)
        self._credentials = credentials
        self._connect_timeout = connect_timeout
        self._read_timeout = read_timeout
        self._ssl_context = ssl_context
        self._socket_options = tuple(socket_options)
        self.clock = _clock.now  # the server's time once a skew was learnt (``clock.py``)
        self._init_connections()

    # what another sender of the same requests needs (``put_pipeline``) ------------------------
    @property
    def endpoint(self) -> S3Endpoint:
        return self._endpoint

    @property
    def connect_timeout(self) -> float:
        return self._connect_timeout

    @property
    def read_timeout(self) -> float:
        return self._read_timeout

    @property
    def ssl_context(self) -> Optional[ssl.SSLContext]:
        return self._ssl_context

    @property
    def socket_options(self) -> tuple:
        return self._socket_options

    def presigned_target(self, method: str, key: str, headers: Mapping[str, str],
                         query: Sequence[tuple[str, str]] = ()) -> str:
        """The request target (path and query) of ``method`` on ``key``, pre-signed now with every
        header in ``headers`` signed (the sender must send them unchanged)."""
        url = self._signer.presign_url(self._credentials.current(), method, self._endpoint, key,
                                       expires_in=URL_EXPIRES_SECONDS, now=self.clock(), headers=headers,
                                       query=query)
        return url[len(f"{self._endpoint.scheme}://{self._endpoint.host}"):]

    @classmethod
    def for_client(cls, client: Any, bucket: str, operation: str = "PutObject") -> Optional["DirectObjects"]:
        """The client's sender for ``bucket`` (made once), or ``None`` when botocore must send.

        Request hooks on ``operation`` are checked on every call: a ``Stubber`` activated after
        the first upload must still see every request."""
        try:
            from .lazy_client import LazyS3Client

            # what botocore decided last time (``endpoint_cache``), while no botocore client exists
            described = client.direct_description(bucket) if isinstance(client, LazyS3Client) else None
            if described is None and _has_request_hooks(client, operation):
                return None
            with _cache_lock:
                per_bucket = _cache.setdefault(client, {})
                if bucket not in per_bucket:
                    settings = settings_from_description(described, CredentialSource(client.credentials)) \
                        if described is not None else \
                        direct_settings(client, "put_object", {"Bucket": bucket, "Key": PROBE_KEY})
                    per_bucket[bucket] = cls(**settings) if settings is not None else None
                return per_bucket[bucket]
        except TypeError:  # a client that cannot be weakly referenced: botocore sends
            return None

    @staticmethod
    def headers_for(params: Mapping[str, Any]) -> Optional[dict[str, str]]:
        """PutObject parameters (besides Bucket, Key, Body) as request headers; ``None`` if one
        of them is not expressible here (botocore then sends the request)."""
        headers: dict[str, str] = {}
        for name, value in params.items():
            if name in ("Bucket", "Key"):
                continue
            if name.startswith("Checksum") and name != "ChecksumAlgorithm":
                headers["x-amz-checksum-" + name[len("Checksum"):].lower()] = str(value)
            elif name == "Metadata":
                for meta_name, meta_value in (value or {}).items():
                    if not (str(meta_name).isascii() and str(meta_value).isascii()):
                        return None
                    headers["x-amz-meta-" + str(meta_name).lower()] = str(meta_value)
            elif name == "Expires":
                headers["Expires"] = (email.utils.format_datetime(value, usegmt=True)
                                      if isinstance(value, _dt.datetime) else str(value))
            elif name in _HEADER_OF and value is not None:
                if not str(value).isascii():
                    return None
                headers[_HEADER_OF[name]] = str(value)
            else:
                return None
        return headers

    def put_object(self, key: str, body, headers: Mapping[str, str]) -> dict[str, Any]:
        """PUT ``body`` at ``key`` with ``headers`` (from ``headers_for``); returns the parts of
        botocore's answer the uploader reads (``ETag``, ``VersionId``, ``Checksum<ALG>``), or
        raises ``ClientError`` / ``ConnectionError`` as botocore would."""
        answer, _ = self._request("PUT", key, {name.lower(): value for name, value in headers.items()},
                                  memoryview(body), "PutObject")
        return put_object_result(answer)

    def head_object(self, key: str, if_match: Optional[str] = None) -> dict[str, Any]:
        """HeadObject with ``ChecksumMode=ENABLED`` (and ``If-Match``): the members of botocore's
        answer a sync reads (``ContentLength``, ``ETag``, ``VersionId``, ``Checksum<ALG>``,
        ``ChecksumType``, ``Metadata``), or ``ClientError`` (``404``, ``412``...) as botocore
        raises for a HEAD. Why: ~1.5 ms of botocore per HEAD is what a first sync against
        objects others wrote spends its time on."""
        answer, _ = self._request("HEAD", key, self.head_headers(if_match), memoryview(b""), "HeadObject")
        return head_object_result(answer)

    @staticmethod
    def head_headers(if_match: Optional[str] = None) -> dict[str, str]:
        """A sync's HeadObject request headers: checksums asked for, pinned to the listed ETag."""
        headers = {"x-amz-checksum-mode": "ENABLED"}
        if if_match:
            headers["if-match"] = if_match
        return headers

    def list_page(self, prefix: str, token: Optional[str], page_size: int
                  ) -> tuple[list[tuple[str, int, str, _dt.datetime]], Optional[str]]:
        """One ListObjectsV2 page: ``([(key, size, etag, last_modified)], next token or None)``.

        Why not botocore's: its XML parsing (a dict per element, dateutil per timestamp) costs
        ~120 µs an object here, most of an unchanged sync; ElementTree and ``fromisoformat``
        cost a few. Keys come ``encoding-type=url`` (XML 1.0 cannot carry every key) and are
        decoded, as botocore does."""
        query = [("list-type", "2"), ("encoding-type", "url"), ("max-keys", str(page_size)),
                 ("prefix", prefix)]
        if token:
            query.append(("continuation-token", token))
        _, data = self._request("GET", "", {}, memoryview(b""), "ListObjectsV2", query)
        return _parse_listing(data)

    def _request(self, method: str, key: str, headers: Mapping[str, str], body: memoryview,
                 operation: str, query: Sequence[tuple[str, str]] = ()) -> tuple[dict[str, str], bytes]:
        """Sign (every header in ``headers`` is signed), send on this thread's connection, and
        return ``(lower-cased response headers, body)`` of a 2xx; raise as botocore would."""
        target = self.presigned_target(method, key, headers, query)
        connection = self._connection()
        try:
            status, answer, data = self._exchange(connection, target, headers, body, method)
        except ssl.SSLCertVerificationError:
            self._drop(connection)
            raise
        except (OSError, http.client.HTTPException) as error:
            self._drop(connection)
            raise ConnectionError(f"{operation} on {self._endpoint.host}: {error!r}") from error
        if not 200 <= status < 300:
            raise client_error(status, answer, data, operation)
        return answer, data

    def _exchange(self, connection: http.client.HTTPConnection, target: str, headers: Mapping[str, str],
                  body: memoryview, method: str) -> tuple[int, dict[str, str], bytes]:
        if connection.sock is None:
            connection.connect()
            for level, option, value in self._socket_options:
                connection.sock.setsockopt(level, option, value)
            connection.sock.settimeout(self._read_timeout)
        connection.putrequest(method, target, skip_host=True, skip_accept_encoding=True)
        connection.putheader("Host", self._endpoint.host)
        if method not in ("GET", "HEAD"):
            connection.putheader("Content-Length", str(len(body)))
        for name, value in headers.items():
            connection.putheader(name, value)
        if method in ("GET", "HEAD"):
            connection.endheaders()
        elif len(body) <= COALESCE_BYTES:
            connection.endheaders(bytes(body))  # head and body in one send
        else:
            connection.endheaders()
            return self._send_body_and_answer(connection, body)
        return self._answer(connection)


def put_object_result(headers: Mapping[str, str]) -> dict[str, Any]:
    """The members of botocore's PutObject answer an uploader reads (``ETag``, ``VersionId``,
    ``Checksum<ALG>``), from the answer's lower-cased headers."""
    result: dict[str, Any] = {"ETag": headers.get("etag")}
    if headers.get("x-amz-version-id"):
        result["VersionId"] = headers["x-amz-version-id"]
    for name, value in headers.items():
        if name.startswith("x-amz-checksum-") and name != "x-amz-checksum-type":
            result["Checksum" + name[len("x-amz-checksum-"):].upper()] = value
    return result


def head_object_result(headers: Mapping[str, str]) -> dict[str, Any]:
    """The members of botocore's HeadObject answer a sync reads (``ContentLength``, ``ETag``,
    ``VersionId``, ``Checksum<ALG>``, ``ChecksumType``, ``Metadata``), from lower-cased headers."""
    head: dict[str, Any] = {"ContentLength": int(headers.get("content-length", "0")),
                            "ETag": headers.get("etag"), "Metadata": {}}
    for name, value in headers.items():
        if name == "x-amz-version-id":
            head["VersionId"] = value
        elif name == "x-amz-checksum-type":
            head["ChecksumType"] = value
        elif name.startswith("x-amz-checksum-"):
            head["Checksum" + name[len("x-amz-checksum-"):].upper()] = value
        elif name.startswith("x-amz-meta-"):
            head["Metadata"][name[len("x-amz-meta-"):]] = value
    return head


def _parse_listing(data: bytes) -> tuple[list[tuple[str, int, str, _dt.datetime]], Optional[str]]:
    from urllib.parse import unquote
    from xml.etree import ElementTree

    root = ElementTree.fromstring(data)
    namespace = root.tag[:root.tag.index("}") + 1] if root.tag.startswith("{") else ""
    entries = []
    for item in root.iter(namespace + "Contents"):
        modified = item.findtext(namespace + "LastModified") or ""
        entries.append((unquote(item.findtext(namespace + "Key") or ""),
                        int(item.findtext(namespace + "Size") or 0),
                        item.findtext(namespace + "ETag") or "",
                        _dt.datetime.fromisoformat(modified.replace("Z", "+00:00"))))
    truncated = (root.findtext(namespace + "IsTruncated") or "").lower() == "true"
    token = root.findtext(namespace + "NextContinuationToken") if truncated else None
    if truncated and not token:
        raise ConnectionError("ListObjectsV2 said IsTruncated but gave no NextContinuationToken")
    return entries, token
