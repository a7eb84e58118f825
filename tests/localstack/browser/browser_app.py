"""The reference page as a user drives it, and the example backend wired to a LocalStack bucket.

Shared by the browser tests' conftest and test modules (import as ``browser_app``).
"""

from __future__ import annotations

import dataclasses
import importlib.util
import os
import shutil
import sys
from pathlib import Path
from typing import Any, Mapping, Optional

import pytest

from securestore._sigv4 import SigningCredentials
from securestore.s3multipart import BrowserMultipartUploads
from securestore.s3presign import S3Presigner

REPO = Path(__file__).resolve().parents[3]
EXAMPLE = REPO / "examples" / "browser-upload"
SCREENSHOTS = REPO / ".artifacts" / "browser"
ACCOUNT_KEYS = SigningCredentials("test", "test")  # LocalStack's default account
SKIP_ENV = "SECURESTORE_SKIP_BROWSER"
INSTALL_HINT = ("install Debian's Chromium and its driver as root: `apt-get install -y chromium chromium-driver` "
                "(.ci/run does this); or skip the browser tests explicitly with SECURESTORE_SKIP_BROWSER=1")
CHROMIUM_CANDIDATES = ("chromium", "chromium-browser")
KiB = 1024
MiB = 1024 * KiB
#: The reference backend's limits in these tests (small, so that files stay small).
MAX_POST_BYTES = 256 * KiB
PART_SIZE = 5 * MiB  # S3's minimum part size


@dataclasses.dataclass(frozen=True)
class Chromium:
    binary: str
    driver: str


def find_chromium(environ: Mapping[str, str] = os.environ) -> Chromium:
    """Paths of the system Chromium and chromedriver on ``environ['PATH']``.

    A missing one FAILS the test with how to install it; ``SECURESTORE_SKIP_BROWSER=1`` skips.
    """
    if environ.get(SKIP_ENV) == "1":
        pytest.skip(f"browser tests skipped on request ({SKIP_ENV}=1)")
    try:
        import selenium  # noqa: F401
    except ImportError:
        pytest.fail("selenium is missing: install the test extra (pip install -e '.[infra,test]')", pytrace=False)
    path = environ.get("PATH", os.defpath)
    binary = next((found for name in CHROMIUM_CANDIDATES if (found := shutil.which(name, path=path))), None)
    driver = shutil.which("chromedriver", path=path)
    if binary is None or driver is None:
        missing = " and ".join(name for name, found in (("chromium", binary), ("chromedriver", driver)) if found is None)
        pytest.fail(f"{missing} not found, so the browser upload tests cannot run: {INSTALL_HINT}", pytrace=False)
    return Chromium(binary, driver)


def load_example(name: str):
    """``examples/browser-upload/<name>.py`` as a module (the folder name is not importable)."""
    spec = importlib.util.spec_from_file_location(f"browser_upload_{name}", EXAMPLE / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is made
    spec.loader.exec_module(module)
    return module


def make_backend(app_module, s3env: Any, presigner_class=S3Presigner, **presigner_options):
    """The example backend over the test bucket (``s3env``: conftest.S3Env); presigner options as given."""
    common = dict(bucket=s3env.bucket, region_name=s3env.region, kms_key_id=s3env.kms_key_arn,
                  credentials=ACCOUNT_KEYS, endpoint_url=s3env.endpoint_url)
    return app_module.UploadBackend(
        presigner=presigner_class(**common, **presigner_options),
        multipart=BrowserMultipartUploads(s3_client=s3env.s3, part_size=PART_SIZE, **common),
        max_post_bytes=MAX_POST_BYTES,
    )



class UploadPage:
    """The reference page as a user drives it: sign in, pick a file and a method, click Upload."""

    def __init__(self, driver, origin: str) -> None:
        self.driver = driver
        self.origin = origin.rstrip("/")

    def open(self, user: Optional[str] = "alice") -> "UploadPage":
        from selenium.webdriver.support.ui import WebDriverWait

        self.driver.delete_all_cookies()
        self.driver.get_log("browser")  # drop what earlier pages logged
        self.driver.get(self.origin + "/")
        WebDriverWait(self.driver, 10).until(
            lambda d: d.execute_script("return !!window.securestoreUpload && document.readyState === 'complete'"))
        if user is not None:
            self.driver.find_element("css selector", f"#user option[value='{user}']").click()
            self.driver.find_element("id", "sign-in").click()
            WebDriverWait(self.driver, 10).until(
                lambda d: d.find_element("id", "who").get_attribute("data-tenant"))
        return self

    @property
    def tenant(self) -> str:
        return self.driver.find_element("id", "who").get_attribute("data-tenant")

    def upload(self, method: str, path: Path, timeout: float = 60) -> tuple[str, str, str]:
        """Upload ``path`` by ``method``; returns (state, key, text) once the page says
        done/refused/quarantined (while "scanning" it keeps waiting)."""
        from selenium.webdriver.support.ui import WebDriverWait

        self.driver.find_element("id", "file").send_keys(str(path))
        self.driver.find_element("css selector", f"input[name=method][value='{method}']").click()
        self.driver.find_element("id", "upload").click()
        result = self.driver.find_element("id", "result")
        WebDriverWait(self.driver, timeout).until(
            lambda _: result.get_attribute("data-state") in ("done", "refused", "quarantined"))
        return result.get_attribute("data-state"), result.get_attribute("data-key"), result.text

    def states(self) -> list[str]:
        """Every state the page showed since it was opened, in order."""
        return self.driver.execute_script("return window.securestoreUpload.states.slice()")

    def api(self, path: str, body: Any) -> dict:
        """Call the backend from the page (with the page's session cookie); returns {status, body}."""
        return self.driver.execute_async_script("""
            const [path, body, done] = arguments;
            fetch(path, {method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify(body)})
              .then(async (r) => done({status: r.status, body: await r.json()}))
              .catch((e) => done({status: 0, body: {error: String(e)}}));
        """, path, body)

    def console_says_cors_blocked(self) -> bool:
        """Did Chromium log a CORS refusal since the last call? (Tells CORS from CSP or network.)"""
        return any("blocked by CORS policy" in entry["message"] for entry in self.driver.get_log("browser"))

    def screenshot(self, name: str) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        target = SCREENSHOTS / f"{name}.png"
        self.driver.save_screenshot(str(target))
        return target
