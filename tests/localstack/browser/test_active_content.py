"""Stored HTML and SVG are inert in a real browser when served with the stack's headers.

Attack class: active content on the shared file host. A tenant stores a page or an SVG whose
script reads another path of the same host (another tenant's file, opened by the victim's
signed cookies: cookie paths do not isolate, RFC 6265 section 8.5) and sends it away. The
headers are the ones the dev stack records: the response headers policy's security headers
and what the private paths' viewer-response function (the deployed code, run in Node) adds
for that content type. A local HTTP server plays the file host (no CloudFront here: the
headers are its whole contribution, and LocalStack has no CloudFront Functions); headless
Chromium, the same one the upload tests drive, loads the files.

Three ways of serving each file: ``bare`` (no headers: the control, its script must run,
or the test proves nothing), ``stack`` (everything the stack sends) and ``csp-only`` (the
sandbox CSP without the download disposition: each defence holds alone).
"""

from __future__ import annotations

import http.server
import shutil
import tempfile
import threading
import time

import pytest

from support.cloudfront_function import run_viewer_response

SECRET = "globex-secret-7f3a"
SCRIPT = ("fetch('/globex/secret.txt', {credentials: 'include'}).then(function (r) { return r.text(); })"
          ".then(function (t) { new Image().src = '/exfil?d=' + encodeURIComponent(t); });")
FILES = {
    "evil.html": ("text/html", f"<!doctype html><html><body><p>invoice</p><script>{SCRIPT}</script></body></html>"),
    "evil.svg": ("image/svg+xml", '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
                                  f"<script>{SCRIPT}</script><rect width='10' height='10'/></svg>"),
}
MODES = ("bare", "stack", "csp-only")
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage")
NEGATIVE_WAIT_SECONDS = 2.0
"""How long a page that must stay inert is watched (the control's script reports in far less)."""


def _stack_headers(graph, content_type: str) -> dict[str, str]:
    """The response headers the dev stack sends on a private path for ``content_type``."""
    (function,) = [f for f in graph.of_type("aws:cloudfront/function:Function") if f.name.endswith("-viewer-response")]
    (added,) = run_viewer_response(function.inputs["code"], [content_type])
    policy = graph.one("aws:cloudfront/responseHeadersPolicy:ResponseHeadersPolicy").inputs["securityHeadersConfig"]
    headers = {
        "X-Content-Type-Options": "nosniff" if policy.get("contentTypeOptions") else None,
        "X-Frame-Options": policy.get("frameOptions", {}).get("frameOption"),
        "Referrer-Policy": policy.get("referrerPolicy", {}).get("referrerPolicy"),
        **added,
    }
    return {k: v for k, v in headers.items() if v}


class _FileHost(http.server.ThreadingHTTPServer):
    def __init__(self, headers_for):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.headers_for = headers_for
        self.hits: list[str] = []


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        self.server.hits.append(self.path)
        parts = self.path.split("/")
        if self.path == "/globex/secret.txt":
            self._send(200, {"Content-Type": "text/plain"}, SECRET)
        elif len(parts) == 4 and parts[1] in MODES and parts[3] in FILES:
            content_type, body = FILES[parts[3]]
            headers = {"Content-Type": content_type, "Set-Cookie": "CloudFront-Signature=victim; Path=/"}
            if parts[1] == "stack":
                headers.update(self.server.headers_for(content_type))
            elif parts[1] == "csp-only":
                headers["Content-Security-Policy"] = self.server.headers_for(content_type)["content-security-policy"]
            self._send(200, headers, body)
        else:
            self._send(404, {"Content-Type": "text/plain"}, "")

    def _send(self, status: int, headers: dict, body: str) -> None:
        data = body.encode()
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture(scope="module")
def host(graphs):
    server = _FileHost(lambda content_type: _stack_headers(graphs["dev"], content_type))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()


@pytest.fixture(scope="module")
def driver(chromium):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    downloads = tempfile.mkdtemp(prefix="securestore-downloads-")
    profile = tempfile.mkdtemp(prefix="securestore-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium.binary
    for flag in FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile}")
    options.add_experimental_option("prefs", {"download.default_directory": downloads,
                                              "download.prompt_for_download": False})
    browser = webdriver.Chrome(options=options, service=Service(chromium.driver))
    try:
        yield browser
    finally:
        browser.quit()
        shutil.rmtree(profile, ignore_errors=True)
        shutil.rmtree(downloads, ignore_errors=True)


def _exfiltrated(host, driver, mode: str, name: str, wait: float) -> bool:
    host.hits.clear()
    driver.get(f"http://127.0.0.1:{host.server_address[1]}/{mode}/acme/{name}")
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        if any(hit.startswith("/exfil") for hit in host.hits):
            return True
        time.sleep(0.05)
    return False


@pytest.mark.parametrize("name", sorted(FILES))
def test_control_served_bare_the_script_runs_and_reads_another_path(host, driver, name):
    """Without the stack's headers the stored file's script reads /globex/secret.txt and sends
    it out: the attack works, so the tests below can see it fail."""
    assert _exfiltrated(host, driver, "bare", name, wait=30)
    assert f"/exfil?d={SECRET}" in host.hits


@pytest.mark.parametrize("mode", ["stack", "csp-only"])
@pytest.mark.parametrize("name", sorted(FILES))
def test_with_the_stacks_headers_stored_html_and_svg_are_inert(host, driver, mode, name):
    """Served as the stack serves private paths (and with the sandbox CSP alone), the page's
    script never reads another path nor sends anything."""
    assert not _exfiltrated(host, driver, mode, name, wait=NEGATIVE_WAIT_SECONDS)
    assert "/globex/secret.txt" not in host.hits
    if mode == "stack":
        assert _stack_headers_summary(host, name)


def _stack_headers_summary(host, name: str) -> bool:
    """The stack's headers for the file: a download with a sandbox CSP."""
    headers = host.headers_for(FILES[name][0])
    return headers.get("content-disposition") == "attachment" and headers["content-security-policy"].startswith("sandbox")
