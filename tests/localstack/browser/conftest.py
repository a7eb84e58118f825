"""A real browser (headless Chromium) driving the reference upload page against LocalStack S3.

The witness chain, and what each link enforces:

* **Chromium** sends the CORS preflight (``OPTIONS`` with ``Access-Control-Request-Headers``)
  before any PUT, and withholds a response from a page whose origin the answer does not allow.
* **LocalStack S3** answers that preflight from the bucket's CORS rules (an origin or a request
  header outside them: 403), checks SigV4 signatures and POST policies (``content-length-range``
  included). It does NOT enforce the bucket policy or ``aws:SecureTransport``; those are proved
  by policy evaluation (tests/stack/test_browser_upload_contract.py, the access matrix).
* **The bucket** carries the CORS rules and default encryption that the dev stack's program
  records (read from the offline graph, never written here).
* **The page** is served by the example backend (``examples/browser-upload/app.py``) on a free
  port. Chromium reaches it as the dev stack's loopback origin (``http://localhost:3000`` in
  Pulumi.dev.yaml) through ``--host-resolver-rules``: the origin the browser sees is exactly the
  allowed one, while eight parallel runs on one machine never fight over port 3000. The same
  server at ``http://127.0.0.1:<port>`` is an origin outside the rules.

Chromium comes from Debian (``apt-get install -y chromium chromium-driver``; ``.ci/run`` does
it). Without it these tests FAIL saying how to install it; ``SECURESTORE_SKIP_BROWSER=1`` skips
them explicitly. Screenshots go to ``.artifacts/browser/`` (git-ignored).
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import tempfile
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import boto3
import pytest
from botocore.config import Config

from browser_app import Chromium, UploadPage, find_chromium, load_example, make_backend

CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--disable-dev-shm-usage", "--window-size=1000,700")
TIMINGS: dict[str, float] = {}


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.nodeid.startswith("tests/localstack/browser/"):
        TIMINGS["tests"] = TIMINGS.get("tests", 0.0) + report.duration


def pytest_terminal_summary(terminalreporter) -> None:
    if "startup" in TIMINGS:
        terminalreporter.write_line(
            "Browser: Chromium startup {startup:.1f}s, browser tests {tests:.1f}s in all "
            "(setup, LocalStack startup if first, and teardown included)".format(**TIMINGS))


@pytest.fixture(scope="session")
def app_module():
    return load_example("app")


@pytest.fixture(scope="session")
def chromium() -> Chromium:
    return find_chromium()


@dataclasses.dataclass(frozen=True)
class S3Env:
    s3: Any
    bucket: str
    kms_key_arn: str
    endpoint_url: str
    region: str
    cors_rules: list

    def body(self, key: str) -> bytes:
        return self.s3.get_object(Bucket=self.bucket, Key=key)["Body"].read()

    def exists(self, key: str) -> bool:
        try:
            self.s3.head_object(Bucket=self.bucket, Key=key)
        except self.s3.exceptions.ClientError:
            return False
        return True

    def keys(self, prefix: str = "") -> list[str]:
        listed = self.s3.list_objects_v2(Bucket=self.bucket, Prefix=prefix)
        return [item["Key"] for item in listed.get("Contents", [])]


@pytest.fixture(scope="session")
def s3env(localstack, graphs) -> S3Env:
    """A LocalStack bucket with the dev stack's recorded CORS rules and default encryption."""
    kwargs = dict(region_name=localstack.region, endpoint_url=localstack.endpoint_url,
                  aws_access_key_id="test", aws_secret_access_key="test")
    s3 = boto3.client("s3", config=Config(signature_version="s3v4", s3={"addressing_style": "path"}), **kwargs)
    bucket, kms_key_arn, rules = load_example("localstack_bucket").create_stack_bucket(
        s3, boto3.client("kms", **kwargs), graphs["dev"], localstack.region)
    return S3Env(s3, bucket, kms_key_arn, localstack.endpoint_url, localstack.region, rules)


@pytest.fixture(scope="session")
def app_server(app_module, s3env):
    """The example backend on a free loopback port, serving the real page and API."""
    server = app_module.make_server(make_backend(app_module, s3env), "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, name="browser-upload-app", daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="session")
def allowed_origin(s3env) -> str:
    """The loopback origin the dev stack's CORS rules allow (Pulumi.dev.yaml: http://localhost:3000)."""
    loopback = [origin for rule in s3env.cors_rules for origin in rule["AllowedOrigins"]
                if urlsplit(origin).hostname == "localhost"]
    assert loopback, f"the dev stack allows no localhost origin to upload: {s3env.cors_rules}"
    return loopback[0]


@pytest.fixture(scope="session")
def browser(chromium, app_server, allowed_origin):
    """One headless Chromium for the session; ``allowed_origin`` resolves to the app server."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    origin = urlsplit(allowed_origin)
    port = origin.port or 80
    options = webdriver.ChromeOptions()
    options.binary_location = chromium.binary
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    profile = tempfile.mkdtemp(prefix="securestore-chromium-")
    options.add_argument(f"--user-data-dir={profile}")
    options.add_argument(f"--host-resolver-rules=MAP {origin.hostname}:{port} 127.0.0.1:{app_server.server_address[1]}")
    started = time.monotonic()
    driver = webdriver.Chrome(options=options, service=Service(chromium.driver))
    TIMINGS["startup"] = time.monotonic() - started
    driver.set_script_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture
def page(browser, allowed_origin) -> UploadPage:
    return UploadPage(browser, allowed_origin)


@pytest.fixture
def files(tmp_path):
    """``files(name, size)``: a file of ``size`` random bytes named ``name``; returns (path, bytes)."""
    def make(name: str, size: int) -> tuple[Path, bytes]:
        content = os.urandom(size)
        path = tmp_path / name
        path.write_bytes(content)
        return path, content
    return make
