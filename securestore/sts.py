"""Temporary credentials from STS: assume the uploader or tenant role, refreshed before expiry.

Workloads never hold long-lived keys: they assume a role and get a ``boto3.Session`` whose
credentials are botocore ``RefreshableCredentials``. botocore refreshes them itself when they
come close to expiry (advisory window: refresh if we can; mandatory window: every caller waits
for fresh ones), so a long-running uploader never signs with credentials about to die.

The tenant role's permissions are ``bucket/${aws:PrincipalTag/tenant_id}/*``, so the session
carries the session tag ``tenant_id`` (made transitive, so that a role chained from this
session keeps the same tenant and cannot swap it).
"""

from __future__ import annotations

import datetime as _dt
import re
from typing import TYPE_CHECKING, Any, Callable, Optional

from securestore.keys import validate_tenant_id

if TYPE_CHECKING:  # pragma: no cover
    import boto3

#: STS limits on DurationSeconds for AssumeRole (the role's MaxSessionDuration may be lower).
MIN_DURATION_SECONDS = 15 * 60
MAX_DURATION_SECONDS = 12 * 60 * 60
DEFAULT_DURATION_SECONDS = 60 * 60
#: botocore's own refresh windows (15 and 10 minutes before expiry); shortened for short sessions
#: so that a 15-minute session is not refreshed on every single request.
ADVISORY_REFRESH_SECONDS = 15 * 60
MANDATORY_REFRESH_SECONDS = 10 * 60
#: The session tag the tenant role's policy reads through ``${aws:PrincipalTag/tenant_id}``.
TENANT_TAG_KEY = "tenant_id"
#: The ``method`` botocore records for where the credentials came from.
CREDENTIAL_METHOD = "securestore-assume-role"

_ROLE_ARN = re.compile(r"arn:aws[a-z-]*:iam::[0-9]{12}:role/[\w+=,.@/-]{1,512}")
_EXTERNAL_ID = re.compile(r"[\w+=,.@:/-]{2,1224}")
_SESSION_NAME = re.compile(r"[\w+=,.@-]{2,64}")
_SESSION_NAME_MAX = 64
_MFA_SERIAL = re.compile(r"(arn:aws[a-z-]*:iam::[0-9]{12}:mfa/[\w+=,.@/-]{1,256})|[\w+=/:,.@-]{9,256}")
_MFA_CODE = re.compile(r"[0-9]{6}")

Clock = Callable[[], _dt.datetime]


def _utc_now() -> _dt.datetime:
    return _dt.datetime.now(_dt.timezone.utc)


def refresh_windows(duration_seconds: int) -> tuple[int, int]:
    """(advisory, mandatory) seconds before expiry at which the credentials are refreshed."""
    advisory = min(ADVISORY_REFRESH_SECONDS, duration_seconds // 4)
    mandatory = min(MANDATORY_REFRESH_SECONDS, duration_seconds // 6)
    return advisory, mandatory


def default_session_name(tenant_id: Optional[str], now: _dt.datetime) -> str:
    """A CloudTrail-friendly session name: who (tenant or uploader) and when (UTC)."""
    who = f"tenant-{tenant_id}" if tenant_id else "uploader"
    return f"securestore-{who}-{now:%Y%m%dT%H%M%SZ}"[:_SESSION_NAME_MAX]


def _validate(role_arn: str, external_id: Optional[str], mfa_serial: Optional[str],
              mfa_token_provider: Optional[Callable[[], str]], duration_seconds: int,
              session_name: Optional[str], region_name: str) -> None:
    if not isinstance(role_arn, str) or not _ROLE_ARN.fullmatch(role_arn):
        raise ValueError(f"role_arn {role_arn!r} is not an IAM role ARN (arn:aws:iam::<account>:role/<name>)")
    if external_id is not None and not _EXTERNAL_ID.fullmatch(external_id):
        raise ValueError("external_id must be 2-1224 characters of letters, digits and +=,.@:/-_")
    if mfa_serial is not None and not _MFA_SERIAL.fullmatch(mfa_serial):
        raise ValueError(f"mfa_serial {mfa_serial!r} is not an MFA device ARN or serial number")
    if (mfa_serial is None) != (mfa_token_provider is None):
        raise ValueError("mfa_serial and mfa_token_provider must be given together")
    if isinstance(duration_seconds, bool) or not isinstance(duration_seconds, int) or not (
        MIN_DURATION_SECONDS <= duration_seconds <= MAX_DURATION_SECONDS
    ):
        raise ValueError(
            f"duration_seconds {duration_seconds!r} must be an integer from "
            f"{MIN_DURATION_SECONDS} to {MAX_DURATION_SECONDS}"
        )
    if session_name is not None and not _SESSION_NAME.fullmatch(session_name):
        raise ValueError("session_name must be 2-64 characters of letters, digits and +=,.@-_")
    if not region_name or not isinstance(region_name, str):
        raise ValueError("region_name is required (STS is called on its regional endpoint)")


def assume_role_params(
    role_arn: str,
    *,
    tenant_id: Optional[str] = None,
    external_id: Optional[str] = None,
    mfa_serial: Optional[str] = None,
    mfa_code: Optional[str] = None,
    duration_seconds: int = DEFAULT_DURATION_SECONDS,
    session_name: str,
) -> dict[str, Any]:
    """The ``AssumeRole`` request parameters (exposed so tests and the CLI can show them)."""
    params: dict[str, Any] = {
        "RoleArn": role_arn,
        "RoleSessionName": session_name,
        "DurationSeconds": duration_seconds,
    }
    if tenant_id is not None:
        params["Tags"] = [{"Key": TENANT_TAG_KEY, "Value": validate_tenant_id(tenant_id)}]
        params["TransitiveTagKeys"] = [TENANT_TAG_KEY]
    if external_id is not None:
        params["ExternalId"] = external_id
    if mfa_serial is not None:
        if mfa_code is None or not _MFA_CODE.fullmatch(mfa_code):
            raise ValueError("MFA token code must be exactly 6 digits")
        params["SerialNumber"] = mfa_serial
        params["TokenCode"] = mfa_code
    return params


def make_refreshable_credentials(
    role_arn: str,
    *,
    tenant_id: Optional[str] = None,
    external_id: Optional[str] = None,
    mfa_serial: Optional[str] = None,
    mfa_token_provider: Optional[Callable[[], str]] = None,
    duration_seconds: int = DEFAULT_DURATION_SECONDS,
    region_name: str,
    sts_client: Any = None,
    session_name: Optional[str] = None,
    clock: Optional[Clock] = None,
):
    """Assume the role now and return ``RefreshableCredentials`` that re-assume it before expiry.

    The MFA token provider is called on every (re)assumption, since a code is single-use.
    ``clock`` returns an aware UTC datetime; tests pass a controlled one.
    """
    from botocore.credentials import RefreshableCredentials

    if tenant_id is not None:
        validate_tenant_id(tenant_id)
    _validate(role_arn, external_id, mfa_serial, mfa_token_provider, duration_seconds,
              session_name, region_name)
    now = clock or _utc_now
    if sts_client is None:
        sts_client = _new_sts_client(region_name)

    def fetch() -> dict[str, Any]:
        name = session_name or default_session_name(tenant_id, now())
        mfa_code = mfa_token_provider() if mfa_token_provider is not None else None
        params = assume_role_params(
            role_arn, tenant_id=tenant_id, external_id=external_id, mfa_serial=mfa_serial,
            mfa_code=mfa_code, duration_seconds=duration_seconds, session_name=name,
        )
        creds = sts_client.assume_role(**params)["Credentials"]
        expiration = creds["Expiration"]
        if isinstance(expiration, _dt.datetime):
            expiration = expiration.astimezone(_dt.timezone.utc).isoformat()
        return {
            "access_key": creds["AccessKeyId"],
            "secret_key": creds["SecretAccessKey"],
            "token": creds["SessionToken"],
            "expiry_time": expiration,
        }

    advisory, mandatory = refresh_windows(duration_seconds)
    metadata = fetch()
    return RefreshableCredentials(
        access_key=metadata["access_key"],
        secret_key=metadata["secret_key"],
        token=metadata["token"],
        expiry_time=RefreshableCredentials._expiry_datetime(metadata["expiry_time"]),
        refresh_using=fetch,
        method=CREDENTIAL_METHOD,
        time_fetcher=now,
        advisory_timeout=advisory,
        mandatory_timeout=mandatory,
    )


def assume_role_session(
    role_arn: str,
    *,
    tenant_id: Optional[str] = None,
    external_id: Optional[str] = None,
    mfa_serial: Optional[str] = None,
    mfa_token_provider: Optional[Callable[[], str]] = None,
    duration_seconds: int = DEFAULT_DURATION_SECONDS,
    region_name: str,
    sts_client: Any = None,
    session_name: Optional[str] = None,
    clock: Optional[Clock] = None,
) -> "boto3.Session":
    """Assume ``role_arn`` and return a ``boto3.Session`` whose credentials refresh themselves.

    ``tenant_id`` becomes the transitive session tag ``tenant_id`` (the tenant role's policy
    confines the session to ``bucket/<tenant_id>/*``). ``external_id``, ``mfa_serial`` with
    ``mfa_token_provider`` (a callable returning the current 6-digit code) and
    ``duration_seconds`` (900-43200) are passed to ``AssumeRole``. ``sts_client`` is injected;
    when omitted one is created for ``region_name``.
    """
    import boto3
    import botocore.session

    credentials = make_refreshable_credentials(
        role_arn, tenant_id=tenant_id, external_id=external_id, mfa_serial=mfa_serial,
        mfa_token_provider=mfa_token_provider, duration_seconds=duration_seconds,
        region_name=region_name, sts_client=sts_client, session_name=session_name, clock=clock,
    )
    core = botocore.session.get_session()
    core._credentials = credentials  # the documented-in-practice way to hand a session refreshable creds
    core.set_config_variable("region", region_name)
    return boto3.Session(botocore_session=core, region_name=region_name)


def credentials_expiry(credentials: Any) -> Optional[_dt.datetime]:
    """When ``credentials`` (botocore credentials, a boto3 Session or a client) expire, or None.

    Long-term keys have no expiry. Used to clamp pre-signed URL lifetimes: a URL dies with the
    session that signed it.
    """
    if credentials is None:
        return None
    if hasattr(credentials, "get_credentials") and not hasattr(credentials, "_expiry_time"):
        credentials = credentials.get_credentials()
    elif hasattr(credentials, "_request_signer"):
        credentials = credentials._request_signer._credentials
    expiry = getattr(credentials, "_expiry_time", None)
    if expiry is None:
        return None
    if expiry.tzinfo is None:
        expiry = expiry.replace(tzinfo=_dt.timezone.utc)
    return expiry.astimezone(_dt.timezone.utc)


def _new_sts_client(region_name: str):
    import boto3
    from botocore.config import Config

    return boto3.client("sts", region_name=region_name, config=Config(signature_version="v4"))
