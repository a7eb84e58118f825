"""``securestore.scan``: waiting for GuardDuty's verdict and explaining a refused read.

botocore Stubber tests with the expected parameters (no server): the poll asks for the
version just uploaded, stops at the first verdict, raises naming a status that is not
clean, gives up at the deadline without sleeping past it; a 403 is explained by the tag
(``quarantined: THREATS_FOUND``, ``not scanned yet``) and left alone when the tag does not
explain it. The gate itself is the IAM engine's to prove (tests/access/test_access_scan_matrix.py).
"""

from __future__ import annotations

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from botocore.stub import Stubber

from securestore import scan
from securestore.transfer.errors import TransferError

BUCKET, KEY, VERSION = "data-bucket", "acme/cv/2026/01/31/cv.pdf", "v-123"


@pytest.fixture
def s3():
    client = boto3.client("s3", region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="y",
                          config=Config(signature_version="s3v4"))
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


def _tags(stubber, status, version=VERSION):
    tags = [{"Key": "project", "Value": "x"}] + ([{"Key": scan.SCAN_TAG_KEY, "Value": status}] if status else [])
    expected = {"Bucket": BUCKET, "Key": KEY, **({"VersionId": version} if version else {})}
    stubber.add_response("get_object_tagging", {"TagSet": tags}, expected)


class FakeTime:
    def __init__(self):
        self.now = 100.0
        self.sleeps: list[float] = []

    def clock(self):
        return self.now

    def sleep(self, seconds):
        assert seconds > 0
        self.sleeps.append(seconds)
        self.now += seconds


def test_wait_returns_at_the_first_clean_verdict_for_the_uploaded_version(s3):
    client, stubber = s3
    for status in (None, None, None, scan.CLEAN):
        _tags(stubber, status)
    fake = FakeTime()
    assert scan.wait_for_scan(client, BUCKET, KEY, timeout=60, version_id=VERSION,
                              clock=fake.clock, sleep=fake.sleep) == scan.CLEAN
    assert fake.sleeps == [1.0, 1.5, 2.25]


@pytest.mark.parametrize("status", scan.NOT_CLEAN)
def test_wait_raises_naming_every_status_that_is_not_clean(s3, status):
    """Class: any verdict but NO_THREATS_FOUND is quarantine, UNSUPPORTED included."""
    client, stubber = s3
    _tags(stubber, None)
    _tags(stubber, status)
    fake = FakeTime()
    with pytest.raises(scan.Quarantined) as raised:
        scan.wait_for_scan(client, BUCKET, KEY, timeout=60, version_id=VERSION, clock=fake.clock, sleep=fake.sleep)
    assert raised.value.status == status
    assert str(raised.value).startswith(f"quarantined: {status}: s3://{BUCKET}/{KEY}")


def test_wait_gives_up_at_the_deadline_without_sleeping_past_it(s3):
    client, stubber = s3
    fake = FakeTime()
    for _ in range(8):
        _tags(stubber, None, version=None)
    with pytest.raises(scan.ScanWaitTimeout) as raised:
        scan.wait_for_scan(client, BUCKET, KEY, timeout=20, clock=fake.clock, sleep=fake.sleep)
    assert fake.now == pytest.approx(120.0)
    assert max(fake.sleeps) <= scan.MAX_POLL_SECONDS
    assert str(raised.value).startswith("not scanned yet: no verdict") and isinstance(raised.value, scan.NotScannedYet)


def test_wait_refuses_a_non_positive_timeout(s3):
    client, _ = s3
    with pytest.raises(ValueError):
        scan.wait_for_scan(client, BUCKET, KEY, timeout=0)


def _denied(operation="GetObject"):
    return ClientError({"Error": {"Code": "AccessDenied", "Message": "Access Denied"},
                        "ResponseMetadata": {"HTTPStatusCode": 403}}, operation)


@pytest.mark.parametrize("status,expected", [
    ("THREATS_FOUND", "quarantined: THREATS_FOUND"),
    ("UNSUPPORTED", "quarantined: UNSUPPORTED"),
    (None, "not scanned yet"),
])
def test_a_refused_read_is_explained_by_its_scan_status(s3, status, expected):
    client, stubber = s3
    _tags(stubber, status, version=None)
    error = TransferError("cannot read")
    error.__cause__ = _denied()
    assert scan.is_access_denied(error)
    verdict = scan.explain_refusal(client, BUCKET, KEY)
    assert verdict is not None and str(verdict).startswith(expected)


def test_a_refusal_the_tag_does_not_explain_stays_a_refusal(s3):
    """Clean tag (the 403 is about something else), or the tag cannot be read either: None."""
    client, stubber = s3
    _tags(stubber, scan.CLEAN, version=None)
    assert scan.explain_refusal(client, BUCKET, KEY) is None
    stubber.add_client_error("get_object_tagging", "AccessDenied", http_status_code=403)
    assert scan.explain_refusal(client, BUCKET, KEY) is None


def test_other_errors_are_not_taken_for_a_refusal():
    missing = ClientError({"Error": {"Code": "NoSuchKey"}, "ResponseMetadata": {"HTTPStatusCode": 404}}, "GetObject")
    assert not scan.is_access_denied(missing)
    assert not scan.is_access_denied(ValueError("x"))


def test_the_client_and_the_stack_name_the_same_tag_and_statuses():
    from components import scan_gate_policies as gate
    from securestore.cli import transfer as cli

    assert (scan.SCAN_TAG_KEY, scan.CLEAN, scan.NOT_CLEAN) == (gate.SCAN_TAG_KEY, gate.CLEAN, gate.NOT_CLEAN)
    assert cli.DEFAULT_SCAN_WAIT_SECONDS == scan.DEFAULT_WAIT_SECONDS
