"""The reference page as a user drives it, and the example backend wired to a LocalStack bucket.

Shared by the browser tests' conftest and test modules (import as ``browser_app``).
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import Any, Optional

from securestore._sigv4 import SigningCredentials
from securestore.s3multipart import BrowserMultipartUploads
from securestore.s3presign import S3Presigner

REPO = Path(__file__).resolve().parents[3]
EXAMPLE = REPO / "examples" / "browser-upload"
SCREENSHOTS = REPO / ".artifacts" / "browser"
ACCOUNT_KEYS = SigningCredentials("test", "test")  # LocalStack's default account
KiB = 1024
MiB = 1024 * KiB
#: The reference backend's limits in these tests (small, so that files stay small).
MAX_POST_BYTES = 256 * KiB
PART_SIZE = 5 * MiB  # S3's minimum part size


def load_example(name: str):
    """``examples/browser-upload/<name>.py`` as a module (the folder name is not importable)."""
    spec = importlib.util.spec_from_file_location(f"browser_upload_{name}", EXAMPLE / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is made
    spec.loader.exec_module(module)
    return module


def make_backend(app_module, s3env: S3Env, presigner_class=S3Presigner, **presigner_options):
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
        """Upload ``path`` by ``method``; returns (state, key, text) once the page says done/refused."""
        from selenium.webdriver.support.ui import WebDriverWait

        self.driver.find_element("id", "file").send_keys(str(path))
        self.driver.find_element("css selector", f"input[name=method][value='{method}']").click()
        self.driver.find_element("id", "upload").click()
        result = self.driver.find_element("id", "result")
        WebDriverWait(self.driver, timeout).until(lambda _: result.get_attribute("data-state") in ("done", "refused"))
        return result.get_attribute("data-state"), result.get_attribute("data-key"), result.text

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
