"""The malware-scan verdict of an object, as a client sees it.

Where the stack runs GuardDuty Malware Protection (``malwareScan``), each new object is
tagged ``GuardDutyMalwareScanStatus`` and the bucket policy refuses every read until the tag
is ``NO_THREATS_FOUND`` (README "Malware scanning"). For a client that shows up as a bare 403.
This module reads the tag, which readers and the uploader may do, to:

* wait for the verdict after an upload (``wait_for_scan``): return when clean, raise
  ``Quarantined`` naming the status when not, ``ScanWaitTimeout`` when no verdict came in time;
* say why a read was refused (``explain_refusal``): ``quarantined: THREATS_FOUND`` or
  ``not scanned yet`` instead of AccessDenied.

No Pulumi, no argparse: the CLI (``securestore upload --wait-for-scan``, ``download``) and
backends call the same functions. The client is injected; nothing is created at import.
"""

from __future__ import annotations

import time
from typing import Any, Callable, Optional

SCAN_TAG_KEY = "GuardDutyMalwareScanStatus"
CLEAN = "NO_THREATS_FOUND"
NOT_CLEAN = ("THREATS_FOUND", "UNSUPPORTED", "ACCESS_DENIED", "FAILED")
"""The values GuardDuty writes (the stack's ``components/scan_gate_policies.py`` has the same)."""
MEANING = {
    "THREATS_FOUND": "GuardDuty found malware",
    "UNSUPPORTED": "GuardDuty could not scan it (e.g. a protected or over-limit archive, or too large)",
    "ACCESS_DENIED": "the scanner could not read it",
    "FAILED": "the scan failed",
}
DEFAULT_WAIT_SECONDS = 300.0
"""``--wait-for-scan`` without a value: most scans of small files finish in seconds."""
FIRST_POLL_SECONDS = 1.0
MAX_POLL_SECONDS = 5.0
DENIED_CODES = frozenset({"AccessDenied", "403", "Forbidden"})


class ScanVerdictError(Exception):
    """An object that may not be read because of its scan status (or the lack of one)."""

    def __init__(self, bucket: str, key: str, status: Optional[str], message: str) -> None:
        self.bucket = bucket
        self.key = key
        self.status = status
        super().__init__(message)


class Quarantined(ScanVerdictError):
    """Scanned, not clean: ``status`` is THREATS_FOUND, UNSUPPORTED, ACCESS_DENIED or FAILED."""

    def __init__(self, bucket: str, key: str, status: str) -> None:
        reason = MEANING.get(status, "not a clean verdict")
        super().__init__(bucket, key, status,
                         f"quarantined: {status}: s3://{bucket}/{key} ({reason}); only a reviewer may read it")


class NotScannedYet(ScanVerdictError):
    """No verdict yet: the object is waiting for the scanner."""

    def __init__(self, bucket: str, key: str) -> None:
        super().__init__(bucket, key, None,
                         f"not scanned yet: s3://{bucket}/{key} can be read once GuardDuty tags it "
                         f"{CLEAN} (retry shortly, or upload with --wait-for-scan)")


class ScanWaitTimeout(NotScannedYet):
    """``wait_for_scan`` gave up: no verdict within ``waited`` seconds."""

    def __init__(self, bucket: str, key: str, waited: float) -> None:
        ScanVerdictError.__init__(self, bucket, key, None,
                                  f"not scanned yet: no verdict for s3://{bucket}/{key} after {waited:.0f}s; "
                                  "try again later")
        self.waited = waited


def _error_code(error: BaseException) -> str:
    response = getattr(error, "response", None)
    if isinstance(response, dict):
        code = str(response.get("Error", {}).get("Code", ""))
        status = response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        return code or (str(status) if status else "")
    return ""


def is_access_denied(error: BaseException) -> bool:
    """An S3 403 (also when a transfer error wraps it as its cause)."""
    for candidate in (error, error.__cause__):
        if candidate is not None and _error_code(candidate) in DENIED_CODES:
            return True
    return False


def scan_status(client: Any, bucket: str, key: str, version_id: Optional[str] = None) -> Optional[str]:
    """The object's ``GuardDutyMalwareScanStatus`` (None: no tag yet). Errors propagate."""
    params = {"Bucket": bucket, "Key": key}
    if version_id:
        params["VersionId"] = version_id
    tags = client.get_object_tagging(**params).get("TagSet", [])
    return next((tag["Value"] for tag in tags if tag.get("Key") == SCAN_TAG_KEY), None)


def verdict_error(bucket: str, key: str, status: Optional[str]) -> Optional[ScanVerdictError]:
    """The error a read of an object with ``status`` meets, or None when it is clean."""
    if status == CLEAN:
        return None
    return NotScannedYet(bucket, key) if status is None else Quarantined(bucket, key, status)


def explain_refusal(client: Any, bucket: str, key: str, version_id: Optional[str] = None) -> Optional[ScanVerdictError]:
    """After a 403 on a read: the scan verdict that explains it, or None when the tag does
    not (clean, or the tag cannot be read either: then the 403 is about something else)."""
    try:
        status = scan_status(client, bucket, key, version_id)
    except Exception:  # noqa: BLE001 - only an explanation; the original refusal stands
        return None
    return verdict_error(bucket, key, status)


def wait_for_scan(
    client: Any,
    bucket: str,
    key: str,
    *,
    timeout: float = DEFAULT_WAIT_SECONDS,
    version_id: Optional[str] = None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> str:
    """Poll the object's tag until GuardDuty's verdict arrives; return ``NO_THREATS_FOUND``.

    Raises ``Quarantined`` (with the status) when the verdict is not clean and
    ``ScanWaitTimeout`` when none came within ``timeout`` seconds. ``version_id`` pins the
    version just uploaded, so a later overwrite of the key cannot answer for it. Polls after
    1 s, then 1.5x longer each time, at most 5 s apart, and never past the deadline.
    """
    if timeout <= 0:
        raise ValueError(f"timeout must be positive seconds, got {timeout!r}")
    start = clock()
    deadline = start + timeout
    interval = FIRST_POLL_SECONDS
    while True:
        status = scan_status(client, bucket, key, version_id)
        if status is not None:
            error = verdict_error(bucket, key, status)
            if error is not None:
                raise error
            return status
        now = clock()
        if now >= deadline:
            raise ScanWaitTimeout(bucket, key, now - start)
        sleep(min(interval, deadline - now))
        interval = min(interval * 1.5, MAX_POLL_SECONDS)
