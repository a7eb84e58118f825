"""Reference backend for browser uploads straight to S3: it signs, the browser sends the bytes.

Copy this into your own backend. Everything security-relevant happens here, on the server:

* the tenant comes from the signed-in session, never from the request: a body naming a tenant
  (or any field the endpoint does not take) is refused with 400;
* keys are built by :mod:`securestore.keys` (``tenant/module/yyyy/mm/dd/filename``), so a
  filename like ``../T002/x`` is refused, and multipart completions must name a key of the
  signed-in tenant;
* the pre-signed PUT, the POST form (exact key, content type, ``content-length-range``) and
  the multipart part URLs (exact ``Content-Length`` per part) come from the client package,
  which signs SSE-KMS with the stack's key.

THE SIGN-IN IS A DEMO: ``POST /api/sign-in {"user": "alice"}`` signs anyone in as any demo user,
without a password. Replace :class:`DemoSignIn` with your real authentication; keep the rule
that the tenant is looked up from the session.

Only the standard library serves HTTP, so the example has no dependency beyond ``securestore``.
Run it (see README.md) with ``python examples/browser-upload/app.py``.
"""

from __future__ import annotations

import dataclasses
import http.cookies
import json
import os
import secrets
import sys
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Callable, Mapping, Optional
from urllib.parse import urlsplit

from securestore.keys import ensure_within_tenant
from securestore.s3multipart import BrowserMultipartUploads
from securestore.s3presign import S3Presigner
from securestore.scan import CLEAN, scan_status

STATIC = Path(__file__).resolve().parent / "static"
PAGES = {"/": ("index.html", "text/html; charset=utf-8"), "/upload.js": ("upload.js", "text/javascript; charset=utf-8")}
SESSION_COOKIE = "session"
MAX_JSON_BYTES = 1024 * 1024  # a completion of 10,000 parts is ~600 KB
DEFAULT_CONTENT_TYPE = "application/octet-stream"
MiB = 1024 * 1024
GiB = 1024 * MiB
#: The demo users and their tenants. A DEMO: anyone may sign in as anyone listed here.
DEMO_USERS = {"alice": "T001", "bob": "T002"}


class RequestError(Exception):
    """A request the backend refuses: HTTP status and one message naming what was wrong."""

    def __init__(self, status: int, message: str, code: Optional[str] = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code


class DemoSignIn:
    """DEMO ONLY: a user name is enough to sign in. Sessions live in memory, keyed by a random token."""

    def __init__(self, users: Mapping[str, str] = DEMO_USERS) -> None:
        self.users = dict(users)
        self._sessions: dict[str, str] = {}
        self._lock = threading.Lock()

    def sign_in(self, user: str) -> str:
        if user not in self.users:
            raise RequestError(HTTPStatus.FORBIDDEN, f"user {user!r} is not one of the demo users {sorted(self.users)}")
        token = secrets.token_urlsafe(32)
        with self._lock:
            self._sessions[token] = user
        return token

    def sign_out(self, token: Optional[str]) -> None:
        with self._lock:
            self._sessions.pop(token or "", None)

    def user(self, token: Optional[str]) -> str:
        with self._lock:
            user = self._sessions.get(token or "")
        if user is None:
            raise RequestError(HTTPStatus.UNAUTHORIZED, "sign in first")
        return user

    def tenant(self, user: str) -> str:
        return self.users[user]


@dataclasses.dataclass
class UploadBackend:
    """The endpoints' logic, free of HTTP: each method takes the signed-in tenant and a JSON body."""

    presigner: S3Presigner
    multipart: BrowserMultipartUploads
    sign_in: DemoSignIn = dataclasses.field(default_factory=DemoSignIn)
    module: str = "uploads"
    max_post_bytes: int = 100 * MiB
    malware_scan: bool = False
    """The stack scans uploads (GuardDuty, ``malwareScan``): a file is readable only once it is
    tagged NO_THREATS_FOUND, so the page shows "scanning" until then."""
    s3_client: Any = None
    """Reads the scan tag (the backend's credentials; readers may read tags)."""

    @property
    def s3_origin(self) -> str:
        """Where the browser sends bytes (for the page's Content-Security-Policy)."""
        return f"{self.presigner.endpoint.scheme}://{self.presigner.endpoint.host}"

    def put(self, tenant: str, body: Mapping[str, Any]) -> dict[str, Any]:
        fields = _fields(body, required=("filename", "size"), optional=("content_type",))
        return self.presigner.presign_put(tenant, self.module, fields["filename"], content_type=_content_type(fields),
                                          content_length=fields["size"]).as_dict()

    def post(self, tenant: str, body: Mapping[str, Any]) -> dict[str, Any]:
        fields = _fields(body, required=("filename",), optional=("content_type",))
        return self.presigner.presign_post(tenant, self.module, fields["filename"], content_type=_content_type(fields),
                                           max_bytes=self.max_post_bytes).as_dict()

    def multipart_start(self, tenant: str, body: Mapping[str, Any]) -> dict[str, Any]:
        fields = _fields(body, required=("filename", "size"), optional=("content_type",))
        return self.multipart.start(tenant, self.module, fields["filename"], content_type=_content_type(fields),
                                    size=fields["size"]).as_dict()

    def multipart_complete(self, tenant: str, body: Mapping[str, Any]) -> dict[str, Any]:
        fields = _fields(body, required=("key", "upload_id", "parts"))
        return self.multipart.complete(tenant, fields["key"], fields["upload_id"], fields["parts"])

    def scan(self, tenant: str, body: Mapping[str, Any]) -> dict[str, Any]:
        """Where the file stands: ``ready`` (readable), ``scanning`` (no verdict yet) or
        ``quarantined`` (with the status). Only a key of the signed-in tenant."""
        key = _fields(body, required=("key",))["key"]
        ensure_within_tenant(key, tenant)
        if not self.malware_scan:
            return {"key": key, "state": "ready", "scan_status": None}
        status = scan_status(self.s3_client, self.presigner.bucket, key)
        state = "scanning" if status is None else "ready" if status == CLEAN else "quarantined"
        return {"key": key, "state": state, "scan_status": status}

    def multipart_abort(self, tenant: str, body: Mapping[str, Any]) -> dict[str, Any]:
        fields = _fields(body, required=("key", "upload_id"))
        self.multipart.abort(tenant, fields["key"], fields["upload_id"])
        return {"aborted": fields["key"]}


def _fields(body: Any, *, required: tuple[str, ...], optional: tuple[str, ...] = ()) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise RequestError(HTTPStatus.BAD_REQUEST, "the request body must be a JSON object")
    unexpected = sorted(set(body) - set(required) - set(optional))
    if unexpected:
        hint = " (the tenant comes from your sign-in)" if any("tenant" in name.lower() for name in unexpected) else ""
        raise RequestError(HTTPStatus.BAD_REQUEST, f"unexpected field {unexpected[0]!r}{hint}; "
                                                   f"this endpoint takes {', '.join(required + optional)}")
    missing = [name for name in required if name not in body]
    if missing:
        raise RequestError(HTTPStatus.BAD_REQUEST, f"missing field {missing[0]!r}")
    return body


def _content_type(fields: Mapping[str, Any]) -> str:
    return fields.get("content_type") or DEFAULT_CONTENT_TYPE


ROUTES: dict[str, Callable[[UploadBackend, str, Mapping[str, Any]], dict[str, Any]]] = {
    "/api/uploads/put": UploadBackend.put,
    "/api/uploads/post": UploadBackend.post,
    "/api/uploads/multipart": UploadBackend.multipart_start,
    "/api/uploads/multipart/complete": UploadBackend.multipart_complete,
    "/api/uploads/multipart/abort": UploadBackend.multipart_abort,
    "/api/uploads/scan": UploadBackend.scan,
}


class Handler(BaseHTTPRequestHandler):
    """Static page + JSON API. ``self.server.backend`` is the :class:`UploadBackend`."""

    server_version = "securestore-browser-upload"

    @property
    def backend(self) -> UploadBackend:
        return self.server.backend  # type: ignore[attr-defined]

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (stdlib signature)
        if os.environ.get("BROWSER_UPLOAD_LOG") == "1":
            super().log_message(format, *args)

    def do_GET(self) -> None:  # noqa: N802 (stdlib name)
        path = urlsplit(self.path).path
        if path == "/api/me":
            return self._api(lambda: self._me())
        if path not in PAGES:
            return self._send_json(HTTPStatus.NOT_FOUND, {"error": f"no page {path}"})
        name, content_type = PAGES[path]
        self._send(HTTPStatus.OK, (STATIC / name).read_bytes(), content_type, {
            # The page may talk to this backend and to S3, and to nothing else.
            "Content-Security-Policy": f"default-src 'self'; connect-src 'self' {self.backend.s3_origin}; "
                                       "img-src 'self' data:; frame-ancestors 'none'; form-action 'none'",
        })

    def do_POST(self) -> None:  # noqa: N802
        path = urlsplit(self.path).path
        if path == "/api/sign-in":
            return self._api(self._sign_in)
        if path == "/api/sign-out":
            return self._api(self._sign_out)
        route = ROUTES.get(path)
        if route is None:
            return self._send_json(HTTPStatus.NOT_FOUND, {"error": f"no endpoint {path}"})
        self._api(lambda: route(self.backend, self._tenant(), self._json()))

    # -- helpers ---------------------------------------------------------------------------
    def _api(self, action: Callable[[], Any]) -> None:
        try:
            result = action()
        except RequestError as error:
            return self._send_json(error.status, {"error": str(error), **({"code": error.code} if error.code else {})})
        except ValueError as error:  # the key builder and the presigners name the bad value
            return self._send_json(HTTPStatus.BAD_REQUEST, {"error": str(error)})
        except Exception as error:  # noqa: BLE001 - S3's refusal (botocore ClientError) goes back verbatim
            response = getattr(error, "response", None)
            if not isinstance(response, dict):
                raise
            details = response.get("Error", {})
            status = response.get("ResponseMetadata", {}).get("HTTPStatusCode", HTTPStatus.BAD_GATEWAY)
            return self._send_json(status, {"error": f"S3 refused: {details.get('Message', '')}",
                                            "code": details.get("Code")})
        if isinstance(result, tuple):
            payload, headers = result
            return self._send_json(HTTPStatus.OK, payload, headers)
        self._send_json(HTTPStatus.OK, result)

    def _json(self) -> Any:
        if self.headers.get_content_type() != "application/json":
            # Also a CSRF guard: a cross-site form cannot send JSON without a preflight we never grant.
            raise RequestError(HTTPStatus.UNSUPPORTED_MEDIA_TYPE, "send the request body as application/json")
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_JSON_BYTES:
            raise RequestError(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, f"request body over {MAX_JSON_BYTES} bytes")
        try:
            return json.loads(self.rfile.read(length) or b"null")
        except ValueError:
            raise RequestError(HTTPStatus.BAD_REQUEST, "the request body is not valid JSON") from None

    def _token(self) -> Optional[str]:
        cookies = http.cookies.SimpleCookie(self.headers.get("Cookie") or "")
        return cookies[SESSION_COOKIE].value if SESSION_COOKIE in cookies else None

    def _tenant(self) -> str:
        sign_in = self.backend.sign_in
        return sign_in.tenant(sign_in.user(self._token()))

    def _me(self) -> dict[str, Any]:
        sign_in = self.backend.sign_in
        user = sign_in.user(self._token())
        return {"user": user, "tenant": sign_in.tenant(user)}

    def _sign_in(self) -> tuple[dict[str, Any], dict[str, str]]:
        fields = _fields(self._json(), required=("user",))
        sign_in = self.backend.sign_in
        token = sign_in.sign_in(fields["user"])
        cookie = f"{SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict"
        return {"user": fields["user"], "tenant": sign_in.tenant(fields["user"])}, {"Set-Cookie": cookie}

    def _sign_out(self) -> tuple[dict[str, Any], dict[str, str]]:
        self.backend.sign_in.sign_out(self._token())
        return {"signed_out": True}, {"Set-Cookie": f"{SESSION_COOKIE}=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict"}

    def _send_json(self, status: int, payload: Any, headers: Optional[Mapping[str, str]] = None) -> None:
        self._send(status, json.dumps(payload).encode(), "application/json", headers or {})

    def _send(self, status: int, body: bytes, content_type: str, headers: Mapping[str, str]) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)


def make_server(backend: UploadBackend, host: str = "127.0.0.1", port: int = 3000) -> ThreadingHTTPServer:
    """An HTTP server for ``backend`` (``port=0``: any free port); call ``serve_forever()``."""
    server = ThreadingHTTPServer((host, port), Handler)
    server.daemon_threads = True
    server.backend = backend  # type: ignore[attr-defined]
    return server


def backend_from_env(env: Mapping[str, str] = os.environ) -> UploadBackend:
    """Build the backend from the stack's outputs, passed as environment variables (README)."""
    import boto3
    from botocore.config import Config

    def need(name: str) -> str:
        value = env.get(name)
        if not value:
            raise SystemExit(f"set {name} (see examples/browser-upload/README.md)")
        return value

    bucket, kms_key_id, region = need("SECURESTORE_BUCKET"), need("SECURESTORE_KMS_KEY_ID"), need("AWS_REGION")
    endpoint_url = env.get("SECURESTORE_S3_ENDPOINT_URL") or None
    session = boto3.Session(region_name=region)
    s3 = session.client("s3", endpoint_url=endpoint_url,
                        config=Config(signature_version="s3v4", s3={"addressing_style": "path" if endpoint_url else "virtual"}))
    common = dict(bucket=bucket, region_name=region, kms_key_id=kms_key_id, credentials=session, endpoint_url=endpoint_url)
    return UploadBackend(
        presigner=S3Presigner(**common),
        multipart=BrowserMultipartUploads(s3_client=s3, **common),
        max_post_bytes=int(env.get("UPLOAD_MAX_POST_BYTES", 100 * MiB)),
        malware_scan=env.get("SECURESTORE_MALWARE_SCAN") == "1",
        s3_client=s3,
    )


def main(argv: Optional[list[str]] = None) -> None:
    backend = backend_from_env()
    port = int(os.environ.get("PORT", "3000"))
    server = make_server(backend, os.environ.get("HOST", "127.0.0.1"), port)
    print(f"serving http://localhost:{port}/ (uploads go to {backend.s3_origin})", file=sys.stderr)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
