"""The reference page shows "scanning" until an uploaded file is readable (malware scanning on).

LocalStack has no GuardDuty and does not enforce the bucket policy: the test tags the object
in the scanner's place a moment after it lands, and the backend reads that tag as it would
read GuardDuty's. What this proves is the page's and the backend's flow (scanning, then
done or quarantined, and only for the signed-in tenant's keys); that AWS refuses to serve the
file until then is the IAM engine's proof (tests/access/test_access_scan_matrix.py).
"""

from __future__ import annotations

import threading
import time
import uuid

import pytest

from securestore.scan import SCAN_TAG_KEY

pytestmark = pytest.mark.localstack


@pytest.fixture
def scanning(app_server, s3env, monkeypatch):
    monkeypatch.setattr(app_server.backend, "malware_scan", True)
    monkeypatch.setattr(app_server.backend, "s3_client", s3env.s3)
    return app_server.backend


def _scanner(s3env, name: str, status: str, after: float = 2.5) -> threading.Thread:
    """In GuardDuty's place: find the new object by its unique name, wait, tag the verdict."""
    def run():
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            found = [k for k in s3env.keys("T001/") if k.endswith("/" + name)]
            if found:
                time.sleep(after)
                s3env.s3.put_object_tagging(Bucket=s3env.bucket, Key=found[0],
                                            Tagging={"TagSet": [{"Key": SCAN_TAG_KEY, "Value": status}]})
                return
            time.sleep(0.2)
    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


@pytest.mark.parametrize("status,final", [("NO_THREATS_FOUND", "done"), ("THREATS_FOUND", "quarantined")])
def test_page_shows_scanning_until_the_verdict(page, s3env, files, scanning, status, final):
    """Promise: after the upload the page says "scanning" until the file is readable, then
    "Stored as" for a clean file, "Quarantined (THREATS_FOUND)" for an infected one."""
    name = f"scan-{uuid.uuid4().hex[:8]}.pdf"
    path, _ = files(name, 4096)
    scanner = _scanner(s3env, name, status)
    state, key, text = page.open("alice").upload("put", path, timeout=60)
    scanner.join(5)
    assert state == final, text
    states = page.states()
    assert states.index("scanning") < len(states) - 1 and states[-1] == final, states
    if final == "quarantined":
        assert "THREATS_FOUND" in text and key.endswith(name)


def test_scan_status_of_another_tenants_key_is_refused(page, scanning):
    """Attack class: probing another tenant's files through the status endpoint."""
    answer = page.open("alice").api("/api/uploads/scan", {"key": "T002/uploads/2026/01/31/x.pdf"})
    assert answer["status"] == 400, answer
    assert "not to tenant 'T001'" in answer["body"]["error"]
