"""STS: AssumeRole parameters (session tag, external id, MFA, duration) and credentials that
refresh themselves before expiry, checked with botocore's Stubber and a controlled clock."""

from __future__ import annotations

import datetime as dt

import boto3
import pytest
from botocore.stub import Stubber

from securestore.sts import (
    assume_role_params,
    assume_role_session,
    credentials_expiry,
    make_refreshable_credentials,
    refresh_windows,
)

ROLE = "arn:aws:iam::123456789012:role/securestore-tenant-access"
REGION = "eu-central-1"
T0 = dt.datetime(2026, 5, 4, 12, 0, tzinfo=dt.timezone.utc)


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: dt.datetime) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now


@pytest.fixture
def sts():
    client = boto3.client("sts", region_name=REGION, aws_access_key_id="AKIAEXAMPLEEXAMPLE01",
                          aws_secret_access_key="placeholder")
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


def credentials_response(n: int, expiration: dt.datetime) -> dict:
    return {"Credentials": {"AccessKeyId": f"ASIAEXAMPLE{n:09d}", "SecretAccessKey": f"secret-{n}",
                            "SessionToken": f"token-{n}", "Expiration": expiration}}


def test_tenant_session_tag_is_transitive_and_all_parameters_are_sent(sts):
    client, stubber = sts
    codes = iter(["123456"])
    stubber.add_response("assume_role", credentials_response(1, T0 + dt.timedelta(hours=2)), {
        "RoleArn": ROLE, "RoleSessionName": "backend-7", "DurationSeconds": 7200,
        "Tags": [{"Key": "tenant_id", "Value": "T001"}], "TransitiveTagKeys": ["tenant_id"],
        "ExternalId": "securestore-ext-1", "SerialNumber": "arn:aws:iam::123456789012:mfa/alice",
        "TokenCode": "123456",
    })
    session = assume_role_session(
        ROLE, tenant_id="T001", external_id="securestore-ext-1",
        mfa_serial="arn:aws:iam::123456789012:mfa/alice", mfa_token_provider=lambda: next(codes),
        duration_seconds=7200, region_name=REGION, sts_client=client, session_name="backend-7", clock=Clock(T0),
    )
    assert isinstance(session, boto3.Session)
    assert session.region_name == REGION
    frozen = session.get_credentials().get_frozen_credentials()
    assert (frozen.access_key, frozen.secret_key, frozen.token) == ("ASIAEXAMPLE000000001", "secret-1", "token-1")
    assert credentials_expiry(session) == T0 + dt.timedelta(hours=2)


def test_uploader_role_without_tenant_sends_no_tags(sts):
    client, stubber = sts
    stubber.add_response("assume_role", credentials_response(1, T0 + dt.timedelta(hours=1)), {
        "RoleArn": ROLE, "RoleSessionName": "securestore-uploader-20260504T120000Z", "DurationSeconds": 3600,
    })
    assume_role_session(ROLE, region_name=REGION, sts_client=client, clock=Clock(T0))


def test_credentials_refresh_before_expiry_and_not_before_the_window(sts):
    """1-hour session: nothing happens until 15 minutes before expiry; then the next use
    re-assumes the role (with a fresh MFA code) and the new credentials are used."""
    client, stubber = sts
    clock = Clock(T0)
    codes = iter(["111111", "222222"])
    common = {"RoleArn": ROLE, "RoleSessionName": "s1", "DurationSeconds": 3600,
              "Tags": [{"Key": "tenant_id", "Value": "T001"}], "TransitiveTagKeys": ["tenant_id"],
              "SerialNumber": "arn:aws:iam::123456789012:mfa/alice"}
    stubber.add_response("assume_role", credentials_response(1, T0 + dt.timedelta(hours=1)), {**common, "TokenCode": "111111"})
    creds = make_refreshable_credentials(
        ROLE, tenant_id="T001", mfa_serial="arn:aws:iam::123456789012:mfa/alice",
        mfa_token_provider=lambda: next(codes), region_name=REGION, sts_client=client, session_name="s1", clock=clock)
    clock.now = T0 + dt.timedelta(minutes=44)  # 16 minutes left: outside the refresh window
    assert creds.get_frozen_credentials().access_key == "ASIAEXAMPLE000000001"
    stubber.assert_no_pending_responses()

    stubber.add_response("assume_role", credentials_response(2, T0 + dt.timedelta(hours=1, minutes=46)),
                         {**common, "TokenCode": "222222"})
    clock.now = T0 + dt.timedelta(minutes=46)  # 14 minutes left: refresh now
    frozen = creds.get_frozen_credentials()
    assert (frozen.access_key, frozen.token) == ("ASIAEXAMPLE000000002", "token-2")
    assert credentials_expiry(creds) == T0 + dt.timedelta(hours=1, minutes=46)


def test_short_sessions_are_not_refreshed_on_every_use(sts):
    """botocore's default windows (15/10 min) would refresh a 15-minute session on every call."""
    client, stubber = sts
    assert refresh_windows(900) == (225, 150)
    assert refresh_windows(3600) == (900, 600)
    clock = Clock(T0)
    stubber.add_response("assume_role", credentials_response(1, T0 + dt.timedelta(minutes=15)))
    creds = make_refreshable_credentials(ROLE, duration_seconds=900, region_name=REGION, sts_client=client,
                                         session_name="s1", clock=clock)
    for minute in range(0, 11):  # 4+ minutes left throughout
        clock.now = T0 + dt.timedelta(minutes=minute)
        assert creds.get_frozen_credentials().access_key == "ASIAEXAMPLE000000001"
    stubber.add_response("assume_role", credentials_response(2, T0 + dt.timedelta(minutes=27)))
    clock.now = T0 + dt.timedelta(minutes=12)  # 3 minutes left: inside the 225 s advisory window
    assert creds.get_frozen_credentials().access_key == "ASIAEXAMPLE000000002"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"role_arn": "arn:aws:iam::123:role/x"}, "role_arn"),
        ({"role_arn": "arn:aws:s3:::bucket"}, "role_arn"),
        ({"tenant_id": "../T1"}, "tenant_id"),
        ({"tenant_id": "public"}, "tenant_id"),
        ({"duration_seconds": 899}, "duration_seconds"),
        ({"duration_seconds": 43201}, "duration_seconds"),
        ({"external_id": "x"}, "external_id"),
        ({"mfa_serial": "arn:aws:iam::123456789012:mfa/alice"}, "together"),
        ({"session_name": "has space"}, "session_name"),
        ({"region_name": ""}, "region_name"),
    ],
)
def test_bad_arguments_refused_before_calling_sts(sts, kwargs, message):
    client, _ = sts  # no response queued: any STS call would fail the test differently
    arguments = {"role_arn": ROLE, "region_name": REGION, "sts_client": client, **kwargs}
    with pytest.raises(ValueError, match=message):
        assume_role_session(arguments.pop("role_arn"), **arguments)


def test_mfa_code_must_be_six_digits():
    with pytest.raises(ValueError, match="6 digits"):
        assume_role_params(ROLE, mfa_serial="arn:aws:iam::123456789012:mfa/a", mfa_code="12345", session_name="s")


def test_long_term_keys_have_no_expiry():
    session = boto3.Session(aws_access_key_id="AKIAEXAMPLEEXAMPLE01", aws_secret_access_key="x", region_name=REGION)
    assert credentials_expiry(session) is None
