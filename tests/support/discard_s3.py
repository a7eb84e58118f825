"""A minimal S3-compatible server on loopback that accepts uploads and throws the bytes away.

Why it exists: to measure an uploader's own ceiling, the server must cost less than the client.
moto stores every byte in Python objects (~100 MB/s here); this server answers the handful of
calls an upload makes (CreateMultipartUpload, UploadPart, CompleteMultipartUpload, PutObject,
AbortMultipartUpload, ListMultipartUploads) and reads request bodies into one reused buffer
per connection, so it runs at memory-copy speed.

It does not check signatures and keeps no data. It does keep each part's checksum header, so
that CompleteMultipartUpload can answer with the composite checksum S3 would compute from them
(``base64(H(d1 || d2 || ...))-N``), which lets a client's end-of-upload verification run here.

Run as a script it prints ``PORT <n>`` on stdout and serves until stdin closes or SIGTERM.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
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

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self._listener = socket.create_server((host, port), backlog=128)
        self.host = host
        self.port = self._listener.getsockname()[1]
        self.endpoint_url = f"http://{host}:{self.port}"
        self._lock = threading.Lock()
        self._upload_ids = itertools.count(1)
        self._part_checksums: dict[str, dict[int, tuple[str, str]]] = {}
        self.bytes_received = 0
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
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, SOCKET_BUFFER_BYTES)
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    # one connection ----------------------------------------------------------------------------
    def _serve(self, conn: socket.socket) -> None:
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
                status, extra_headers, body = self._respond(method, target, headers, keep)
                response = [f"HTTP/1.1 {status}", f"Content-Length: {len(body)}",
                            "x-amz-request-id: DISCARD", *extra_headers, "", ""]
                conn.sendall("\r\n".join(response).encode("latin-1") + body)
        except (ConnectionError, OSError):
            return
        finally:
            conn.close()

    # the S3 calls ------------------------------------------------------------------------------
    def _count(self, operation: str) -> None:
        with self._lock:
            self.requests[operation] = self.requests.get(operation, 0) + 1

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
            checksum_xml = ""
            if recorded and all(n in recorded for n in numbers):
                header = recorded[numbers[0]][0]
                value = _composite(header, [recorded[n][1] for n in numbers])
                if value:
                    tag = "Checksum" + header.rsplit("-", 1)[1].upper()
                    checksum_xml = f"<{tag}>{value}</{tag}><ChecksumType>COMPOSITE</ChecksumType>"
            payload = (f'<?xml version="1.0" encoding="UTF-8"?><CompleteMultipartUploadResult>'
                       f"<Location>/{bucket}/{key}</Location><Bucket>{bucket}</Bucket>"
                       f'<Key>{key}</Key><ETag>"etag-mpu-{len(numbers)}"</ETag>{checksum_xml}'
                       f"</CompleteMultipartUploadResult>")
            return "200 OK", xml_headers, payload.encode()
        if method == "PUT":
            self._count("PutObject")
            extra = ['ETag: "etag-put"']
            extra += [f"{n}: {headers[n]}" for n in _CHECKSUM_HEADERS if n in headers]
            return "200 OK", extra, b""
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


def main() -> int:
    server = DiscardS3Server().start()
    print(f"PORT {server.port}", flush=True)
    try:
        sys.stdin.read()  # serve until the parent closes our stdin (or kills us)
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
