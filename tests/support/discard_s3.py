"""A minimal S3-compatible server on loopback that accepts uploads and throws the bytes away.

Why it exists: to measure an uploader's own ceiling, the server must cost less than the client.
moto stores every byte in Python objects (~100 MB/s here); this server answers the handful of
calls an upload makes (CreateMultipartUpload, UploadPart, CompleteMultipartUpload, PutObject,
AbortMultipartUpload, ListMultipartUploads) and reads request bodies into one reused buffer
per connection, so it runs at memory-copy speed.

It does not check signatures and keeps no data. It does keep each part's checksum header, so
that CompleteMultipartUpload can answer with the composite checksum S3 would compute from them
(``base64(H(d1 || d2 || ...))-N``), which lets a client's end-of-upload verification run here.

It also keeps each stored object's metadata (size, a per-write ETag, LastModified, checksum),
never its bytes, and answers what tree tools ask of it: ListObjects (v1 and v2, prefix,
delimiter, pages), HeadObject, DeleteObject(s), HeadBucket and CreateBucket. So a directory
upload, ``aws s3 sync``, ``rclone copy`` and ``securestore sync`` run against it unchanged
(``bench/small_files.py``); a GET of a stored object's bytes is not possible.

For download benchmarks it can also serve objects read-only from local files
(``serve_file``): HEAD and (ranged) GET answer from the file with ``os.sendfile``, so the server
costs no copy. Such an object looks like one our uploader made in parts of ``part_size``: a
composite CRC32C (``-N``), a multipart ETag and the ``securestore-part-size`` metadata. As on
S3, a ranged GET carries no checksum header; a whole-object GET carries the composite.

Run as a script it prints ``PORT <n>`` on stdout and serves until stdin closes or SIGTERM;
``--serve BUCKET/KEY=PATH`` (repeatable) serves files, cut in ``--part-size`` bytes.
"""

from __future__ import annotations

import argparse
import base64
import bisect
import email.utils
import time
from xml.sax.saxutils import escape as _xml_escape
import hashlib
import itertools
import os
import re
import socket
import sys
import threading
from typing import Optional
from urllib.parse import parse_qs, unquote, urlsplit

KiB = 1024
MiB = 1024 * KiB
RECV_BUFFER_BYTES = 1 * MiB
SOCKET_BUFFER_BYTES = 4 * MiB
MAX_HEADER_BYTES = 64 * KiB

_CHECKSUM_HEADERS = ("x-amz-checksum-crc32c", "x-amz-checksum-crc32", "x-amz-checksum-sha256",
                     "x-amz-checksum-sha1", "x-amz-checksum-crc64nvme")
_PART_NUMBER = re.compile(rb"<PartNumber>(\d+)</PartNumber>")
_DELETE_KEY = re.compile(rb"<Key>([^<]*)</Key>")
LIST_PAGE = 1000
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")
SERVED_PART_SIZE = 8 * MiB
PART_SIZE_METADATA = "x-amz-meta-securestore-part-size"


class _ServedFile:
    """A local file served as an S3 object, with the headers a multipart upload of it has."""

    def __init__(self, path: str, part_size: int) -> None:
        import crc32c

        self.path = path
        self.size = os.path.getsize(path)
        self.part_size = part_size
        digests = []
        with open(path, "rb") as handle:
            while True:
                chunk = handle.read(part_size)
                if not chunk:
                    break
                digests.append(crc32c.crc32c(chunk).to_bytes(4, "big"))
        count = max(1, len(digests))
        composite = base64.b64encode(crc32c.crc32c(b"".join(digests)).to_bytes(4, "big")).decode()
        self.checksum = f"{composite}-{count}"
        self.etag = f'"{hashlib.md5(self.checksum.encode()).hexdigest()}-{count}"'


def _composite(algorithm_header: str, part_checksums: list[str]) -> Optional[str]:
    """S3's multipart checksum: the algorithm over the concatenated raw part digests, then -N."""
    raw = b"".join(base64.b64decode(value) for value in part_checksums)
    if algorithm_header.endswith("sha256"):
        digest = hashlib.sha256(raw).digest()
    elif algorithm_header.endswith("crc32c"):
        import crc32c

        digest = crc32c.crc32c(raw).to_bytes(4, "big")
    elif algorithm_header.endswith("crc32"):
        import zlib

        digest = zlib.crc32(raw).to_bytes(4, "big")
    else:
        return None
    return f"{base64.b64encode(digest).decode()}-{len(part_checksums)}"


class DiscardS3Server:
    """Thread-per-connection HTTP/1.1 server speaking just enough S3 for uploads."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, tls=None) -> None:
        self._listener = socket.create_server((host, port), backlog=128)
        self.host = host
        self.port = self._listener.getsockname()[1]
        self._tls = tls  # an ``ssl.SSLContext`` (server side): HTTPS, for uploads and listings only
        self.endpoint_url = f"{'https' if tls is not None else 'http'}://{host}:{self.port}"
        self._lock = threading.Lock()
        self._upload_ids = itertools.count(1)
        self._part_checksums: dict[str, dict[int, tuple[str, str]]] = {}
        self._served: dict[str, _ServedFile] = {}
        self._part_sizes: dict[str, dict[int, int]] = {}
        self._objects: dict[str, dict] = {}        # "bucket/key" -> metadata (no bytes)
        self._keys: dict[str, list[str]] = {}      # bucket -> sorted keys (``_sorted_keys``)
        self._new_keys: dict[str, list[str]] = {}  # bucket -> keys stored since the last sort
        self._writes = itertools.count(1)
        self.bytes_received = 0
        self.connections = 0
        self.requests: dict[str, int] = {}
        self._stopping = threading.Event()
        self._thread: Optional[threading.Thread] = None

    # lifecycle -------------------------------------------------------------------------------
    def start(self) -> "DiscardS3Server":
        self._thread = threading.Thread(target=self._accept_loop, name="discard-s3", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        try:
            self._listener.close()
        except OSError:
            pass

    def serve_file(self, bucket: str, key: str, path: str, part_size: int = SERVED_PART_SIZE) -> None:
        """Answer HEAD and GET of ``bucket/key`` from the local file ``path`` (read per request)."""
        self._served[f"{bucket}/{key}"] = _ServedFile(path, part_size)

    def __enter__(self) -> "DiscardS3Server":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def _accept_loop(self) -> None:
        while not self._stopping.is_set():
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with self._lock:
                self.connections += 1
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, SOCKET_BUFFER_BYTES)
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    # one connection ----------------------------------------------------------------------------
    def _serve(self, conn: socket.socket) -> None:
        if self._tls is not None:
            try:
                conn = self._tls.wrap_socket(conn, server_side=True)
            except OSError:  # a client that does not trust us hangs up mid-handshake
                conn.close()
                return
        buffer = bytearray(RECV_BUFFER_BYTES)
        view = memoryview(buffer)
        pending = b""
        try:
            while True:
                while b"\r\n\r\n" not in pending:
                    chunk = conn.recv(MAX_HEADER_BYTES)
                    if not chunk:
                        return
                    pending += chunk
                    if len(pending) > MAX_HEADER_BYTES:
                        return
                head, _, pending = pending.partition(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                method, target, _version = lines[0].split(" ", 2)
                headers = {}
                for line in lines[1:]:
                    name, _, value = line.partition(":")
                    headers[name.strip().lower()] = value.strip()
                if headers.get("expect", "").lower() == "100-continue":
                    conn.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
                length = int(headers.get("content-length", "0") or 0)
                keep = b""
                if method == "POST":  # small XML bodies we need to read
                    while len(pending) < length:
                        chunk = conn.recv(MAX_HEADER_BYTES)
                        if not chunk:
                            return
                        pending += chunk
                    keep, pending = pending[:length], pending[length:]
                else:
                    from_pending = min(length, len(pending))
                    pending = pending[from_pending:]
                    remaining = length - from_pending
                    while remaining:
                        received = conn.recv_into(view, min(remaining, RECV_BUFFER_BYTES))
                        if not received:
                            return
                        remaining -= received
                if method == "PUT":  # object bytes (parts or single PUT), not XML bodies
                    with self._lock:
                        self.bytes_received += length
                if method in ("GET", "HEAD") and self._served_object(target) is not None:
                    self._send_object(conn, method, target, headers)
                    continue
                if method == "HEAD":
                    conn.sendall(self._head(target))
                    continue
                status, extra_headers, body = self._respond(method, target, headers, keep)
                response = [f"HTTP/1.1 {status}", f"Content-Length: {len(body)}",
                            "x-amz-request-id: DISCARD", *extra_headers, "", ""]
                conn.sendall("\r\n".join(response).encode("latin-1") + body)
        except (ConnectionError, OSError):
            return
        finally:
            conn.close()

    # served objects ----------------------------------------------------------------------------
    def _served_object(self, target: str) -> Optional[_ServedFile]:
        parts = urlsplit(target)
        if parts.query and "partNumber" not in parts.query and "versionId" not in parts.query:
            return None  # ?uploads, ?attributes...: not a plain object read
        return self._served.get(unquote(parts.path).lstrip("/"))

    def _send_object(self, conn: socket.socket, method: str, target: str, headers: dict) -> None:
        served = self._served_object(target)
        assert served is not None
        start, end = 0, served.size  # end exclusive
        status = "200 OK"
        extra = [f"ETag: {served.etag}", f"{PART_SIZE_METADATA}: {served.part_size}",
                 "Accept-Ranges: bytes", "Last-Modified: Tue, 01 Dec 2026 00:00:00 GMT",
                 "Content-Type: binary/octet-stream"]
        requested = _RANGE.match(headers.get("range", "").strip())
        if requested and served.size:
            first, last = requested.groups()
            if first:
                start = int(first)
                end = min(served.size, int(last) + 1) if last else served.size
            else:
                start = max(0, served.size - int(last or 0))
            status = "206 Partial Content"
            extra.append(f"Content-Range: bytes {start}-{end - 1}/{served.size}")
        else:
            # S3 returns the object's checksum on a whole-object read, never on a range.
            extra += [f"x-amz-checksum-crc32c: {served.checksum}", "x-amz-checksum-type: COMPOSITE"]
        self._count("HeadObject" if method == "HEAD" else "GetObject")
        head = [f"HTTP/1.1 {status}", f"Content-Length: {end - start}",
                "x-amz-request-id: DISCARD", *extra, "", ""]
        conn.sendall("\r\n".join(head).encode("latin-1"))
        if method == "HEAD":
            return
        with open(served.path, "rb") as handle:
            offset = start
            while offset < end:
                sent = os.sendfile(conn.fileno(), handle.fileno(), offset, min(end - offset, 1 << 30))
                if not sent:
                    raise ConnectionError("served file ended early")
                offset += sent

    # the S3 calls ------------------------------------------------------------------------------
    def _count(self, operation: str) -> None:
        with self._lock:
            self.requests[operation] = self.requests.get(operation, 0) + 1

    # stored objects' metadata -----------------------------------------------------------------
    def _store(self, bucket: str, key: str, size: int, checksum: Optional[tuple], suffix: str = "") -> str:
        etag = f'"w{next(self._writes):031d}{suffix}"'  # unique per write, as S3's are per content
        meta = {"size": size, "etag": etag, "checksum": checksum,
                "modified": time.time()}
        with self._lock:
            name = f"{bucket}/{key}"
            if name not in self._objects:
                # sorted when next listed: an insort per new key costs O(keys) and, over a
                # bench that stores 100,000 keys, made this server slower than its clients
                self._new_keys.setdefault(bucket, []).append(key)
            self._objects[name] = meta
        return etag

    def _forget(self, bucket: str, key: str) -> None:
        """With ``self._lock`` held."""
        if self._objects.pop(f"{bucket}/{key}", None) is not None:
            keys = self._sorted_keys(bucket)
            del keys[bisect.bisect_left(keys, key)]

    def _sorted_keys(self, bucket: str) -> list[str]:
        """With ``self._lock`` held: the bucket's keys in order, new ones merged in."""
        keys = self._keys.setdefault(bucket, [])
        new = self._new_keys.pop(bucket, None)
        if new:
            keys.extend(new)
            keys.sort()  # Timsort: near-linear on runs already in order
        return keys

    def _head(self, target: str) -> Optional[bytes]:
        """The response head of a HeadObject on a stored object (or of HeadBucket), else None."""
        bucket, _, key = unquote(urlsplit(target).path).lstrip("/").partition("/")
        if not key:
            self._count("HeadBucket")
            return b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nx-amz-request-id: DISCARD\r\n\r\n"
        meta = self._objects.get(f"{bucket}/{key}")
        self._count("HeadObject")
        if meta is None:
            return b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nx-amz-request-id: DISCARD\r\n\r\n"
        lines = ["HTTP/1.1 200 OK", f"Content-Length: {meta['size']}", "x-amz-request-id: DISCARD",
                 f"ETag: {meta['etag']}", f"Last-Modified: {email.utils.formatdate(meta['modified'], usegmt=True)}",
                 "Content-Type: binary/octet-stream"]
        if meta["checksum"]:
            name, value, kind = meta["checksum"]
            lines += [f"{name}: {value}", f"x-amz-checksum-type: {kind}"]
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")

    def _list(self, bucket: str, query: dict):
        """ListObjects v1/v2: prefix, delimiter, max-keys, continuation (the last key returned)."""
        version2 = query.get("list-type", [""])[0] == "2"
        self._count("ListObjectsV2" if version2 else "ListObjects")
        prefix = query.get("prefix", [""])[0]
        delimiter = query.get("delimiter", [""])[0]
        limit = min(int(query.get("max-keys", [str(LIST_PAGE)])[0]), LIST_PAGE)
        after = (query.get("continuation-token") or query.get("start-after") or query.get("marker") or [""])[0]
        contents, prefixes, last = [], [], ""
        truncated = False
        with self._lock:
            keys = self._sorted_keys(bucket)
            index = bisect.bisect_right(keys, after) if after else bisect.bisect_left(keys, prefix)
            while index < len(keys):
                key = keys[index]
                if not key.startswith(prefix):
                    break
                if len(contents) + len(prefixes) >= limit:
                    truncated = True
                    break
                rest = key[len(prefix):]
                if delimiter and delimiter in rest:
                    common = prefix + rest.split(delimiter, 1)[0] + delimiter
                    prefixes.append(common)
                    last = common
                    # skip every key under this common prefix
                    index = bisect.bisect_left(keys, common[:-1] + chr(ord(delimiter[-1]) + 1))
                    continue
                meta = self._objects[f"{bucket}/{key}"]
                modified = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(meta["modified"]))
                contents.append(f"<Contents><Key>{_xml_escape(key)}</Key><LastModified>{modified}.000Z"
                                f"</LastModified><ETag>{_xml_escape(meta['etag'])}</ETag><Size>{meta['size']}"
                                "</Size><StorageClass>STANDARD</StorageClass></Contents>")
                last = key
                index += 1
        token = ""
        if truncated:
            token = (f"<NextContinuationToken>{_xml_escape(last)}</NextContinuationToken>" if version2
                     else f"<NextMarker>{_xml_escape(last)}</NextMarker>")
        payload = ('<?xml version="1.0" encoding="UTF-8"?><ListBucketResult>'
                   f"<Name>{bucket}</Name><Prefix>{_xml_escape(prefix)}</Prefix>"
                   f"<KeyCount>{len(contents) + len(prefixes)}</KeyCount><MaxKeys>{limit}</MaxKeys>"
                   f"<IsTruncated>{'true' if truncated else 'false'}</IsTruncated>{token}"
                   + "".join(contents)
                   + "".join(f"<CommonPrefixes><Prefix>{_xml_escape(p)}</Prefix></CommonPrefixes>" for p in prefixes)
                   + "</ListBucketResult>")
        return "200 OK", ["Content-Type: application/xml"], payload.encode("utf-8")

    def _respond(self, method: str, target: str, headers: dict, body: bytes):
        parts = urlsplit(target)
        query = parse_qs(parts.query, keep_blank_values=True)
        path = unquote(parts.path).lstrip("/")
        bucket, _, key = path.partition("/")
        xml = [("Content-Type", "application/xml")]
        xml_headers = [f"{k}: {v}" for k, v in xml]
        if method == "POST" and "uploads" in query:
            self._count("CreateMultipartUpload")
            upload_id = f"discard-{next(self._upload_ids)}"
            with self._lock:
                self._part_checksums[upload_id] = {}
            payload = (f'<?xml version="1.0" encoding="UTF-8"?><InitiateMultipartUploadResult>'
                       f"<Bucket>{bucket}</Bucket><Key>{key}</Key><UploadId>{upload_id}</UploadId>"
                       f"</InitiateMultipartUploadResult>")
            return "200 OK", xml_headers, payload.encode()
        if method == "PUT" and "partNumber" in query:
            self._count("UploadPart")
            upload_id = query["uploadId"][0]
            part_number = int(query["partNumber"][0])
            extra = [f'ETag: "etag-{part_number}"']
            with self._lock:
                self._part_sizes.setdefault(upload_id, {})[part_number] = int(headers.get("content-length", "0") or 0)
            for name in _CHECKSUM_HEADERS:
                if name in headers:
                    extra.append(f"{name}: {headers[name]}")
                    with self._lock:
                        self._part_checksums.setdefault(upload_id, {})[part_number] = (
                            name, headers[name])
            return "200 OK", extra, b""
        if method == "POST" and "uploadId" in query:
            self._count("CompleteMultipartUpload")
            upload_id = query["uploadId"][0]
            numbers = [int(n) for n in _PART_NUMBER.findall(body)]
            with self._lock:
                recorded = self._part_checksums.pop(upload_id, {})
                sizes = self._part_sizes.pop(upload_id, {})
            checksum_xml = ""
            stored_checksum = None
            if recorded and all(n in recorded for n in numbers):
                header = recorded[numbers[0]][0]
                value = _composite(header, [recorded[n][1] for n in numbers])
                if value:
                    tag = "Checksum" + header.rsplit("-", 1)[1].upper()
                    checksum_xml = f"<{tag}>{value}</{tag}><ChecksumType>COMPOSITE</ChecksumType>"
                    stored_checksum = (header, value, "COMPOSITE")
            etag = self._store(bucket, key, sum(sizes.get(n, 0) for n in numbers), stored_checksum,
                               suffix=f"-{len(numbers)}")
            payload = (f'<?xml version="1.0" encoding="UTF-8"?><CompleteMultipartUploadResult>'
                       f"<Location>/{bucket}/{key}</Location><Bucket>{bucket}</Bucket>"
                       f'<Key>{key}</Key><ETag>{etag}</ETag>{checksum_xml}'
                       f"</CompleteMultipartUploadResult>")
            return "200 OK", xml_headers, payload.encode()
        if method == "PUT" and not key:
            self._count("CreateBucket")
            return "200 OK", [], b""
        if method == "PUT":
            self._count("PutObject")
            sent = next(((n, headers[n]) for n in _CHECKSUM_HEADERS if n in headers), None)
            size = headers.get("x-amz-decoded-content-length") or headers.get("content-length") or "0"
            etag = self._store(bucket, key, int(size),
                               (sent[0], sent[1], "FULL_OBJECT") if sent else None)
            extra = [f"ETag: {etag}"]
            extra += [f"{n}: {headers[n]}" for n in _CHECKSUM_HEADERS if n in headers]
            return "200 OK", extra, b""
        if method == "GET" and not key and "uploads" not in query:
            return self._list(bucket, query)
        if method == "POST" and "delete" in query:
            self._count("DeleteObjects")
            with self._lock:
                for raw in _DELETE_KEY.findall(body):
                    self._forget(bucket, _xml_unescape(raw.decode("utf-8")))
            payload = '<?xml version="1.0" encoding="UTF-8"?><DeleteResult></DeleteResult>'
            return "200 OK", xml_headers, payload.encode()
        if method == "DELETE" and key and "uploadId" not in query:
            self._count("DeleteObject")
            with self._lock:
                self._forget(bucket, key)
            return "204 No Content", [], b""
        if method == "DELETE" and "uploadId" in query:
            self._count("AbortMultipartUpload")
            with self._lock:
                self._part_checksums.pop(query["uploadId"][0], None)
            return "204 No Content", [], b""
        if method == "GET" and "uploads" in query:
            self._count("ListMultipartUploads")
            payload = (f'<?xml version="1.0" encoding="UTF-8"?><ListMultipartUploadsResult>'
                       f"<Bucket>{bucket}</Bucket><IsTruncated>false</IsTruncated>"
                       f"</ListMultipartUploadsResult>")
            return "200 OK", xml_headers, payload.encode()
        self._count("Unsupported")
        payload = (f"<Error><Code>NotImplemented</Code><Message>discard server: {method} "
                   f"{target}</Message></Error>")
        return "501 Not Implemented", xml_headers, payload.encode()


def _xml_unescape(text: str) -> str:
    from xml.sax.saxutils import unescape

    return unescape(text, {"&quot;": '"', "&apos;": "'"})


def main() -> int:
    parser = argparse.ArgumentParser(description="Discard S3 server for benchmarks.")
    parser.add_argument("--serve", action="append", default=[], metavar="BUCKET/KEY=PATH",
                        help="serve PATH read-only as the object BUCKET/KEY (HEAD and ranged GET)")
    parser.add_argument("--part-size", type=int, default=SERVED_PART_SIZE,
                        help="part size the served objects' composite checksums are cut in")
    args = parser.parse_args()
    server = DiscardS3Server()
    for item in args.serve:
        name, _, path = item.partition("=")
        bucket, _, key = name.partition("/")
        if not (bucket and key and path):
            parser.error(f"--serve {item!r}: expected BUCKET/KEY=PATH")
        server.serve_file(bucket, key, path, args.part_size)
    server.start()
    print(f"PORT {server.port}", flush=True)
    try:
        sys.stdin.read()  # serve until the parent closes our stdin (or kills us)
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
