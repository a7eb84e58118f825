"""Where every client command gets its settings: one reading of flags, environment and profile.

Every command (``upload``, ``download``, ``ls``, ``rm``, ``presign``, ``assume``) resolves a
setting the same way, flag first, then the environment, then the AWS profile:

=================  ===================================================================
bucket             ``--bucket``, ``SECURESTORE_BUCKET``
KMS key            ``--kms-key-id``/``--sse-kms-key-id``, ``SECURESTORE_KMS_KEY_ID``
region             ``--region``, ``AWS_REGION``, ``AWS_DEFAULT_REGION``, the profile's ``region``
S3 endpoint        ``--endpoint-url``, ``SECURESTORE_S3_ENDPOINT_URL``, ``AWS_ENDPOINT_URL_S3``,
                   ``AWS_ENDPOINT_URL`` (the presigner signs for the same host the client uses)
STS endpoint       ``SECURESTORE_STS_ENDPOINT_URL``, ``AWS_ENDPOINT_URL_STS``, ``AWS_ENDPOINT_URL``
profile            ``--profile``, ``AWS_PROFILE``
role               ``--role-arn``, ``SECURESTORE_ROLE_ARN`` (with ``--tenant`` as the session tag,
                   ``--external-id``, ``--mfa-serial``/``--mfa-code``)
=================  ===================================================================

``securestore env`` writes these variables from the stack outputs. Bad values raise
``UsageError`` naming the flag; an STS refusal raises ``CommandFailed`` with one line.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from typing import Any, Optional
from urllib.parse import urlsplit

from .errors import CommandFailed, UsageError

BUCKET_ENV = ("SECURESTORE_BUCKET",)
KMS_KEY_ENV = ("SECURESTORE_KMS_KEY_ID",)
REGION_ENV = ("AWS_REGION", "AWS_DEFAULT_REGION")
S3_ENDPOINT_ENV = ("SECURESTORE_S3_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL")
STS_ENDPOINT_ENV = ("SECURESTORE_STS_ENDPOINT_URL", "AWS_ENDPOINT_URL_STS", "AWS_ENDPOINT_URL")
ROLE_ENV = ("SECURESTORE_ROLE_ARN",)

_REGION = re.compile(r"^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d{1,2}$")
_MFA_CODE = re.compile(r"^\d{6}$")


def from_env(names: tuple[str, ...]) -> Optional[str]:
    for name in names:
        value = os.environ.get(name)
        if value:
            return value
    return None


def bucket(flag: Optional[str]) -> str:
    value = flag or from_env(BUCKET_ENV)
    if not value:
        raise UsageError("--bucket is required (or set SECURESTORE_BUCKET; `securestore env` writes it "
                     "from the stack output bucketName)")
    return value


def kms_key_id(flag: Optional[str]) -> Optional[str]:
    return flag or from_env(KMS_KEY_ENV)


def s3_endpoint(flag: Optional[str]) -> Optional[str]:
    return _endpoint(flag, S3_ENDPOINT_ENV, "--endpoint-url")


def sts_endpoint(flag: Optional[str] = None) -> Optional[str]:
    return _endpoint(flag, STS_ENDPOINT_ENV, "--endpoint-url" if flag else STS_ENDPOINT_ENV[0])


def _endpoint(flag: Optional[str], names: tuple[str, ...], what: str) -> Optional[str]:
    value = flag or from_env(names)
    if value is None:
        return None
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        source = what if flag else next(n for n in names if os.environ.get(n))
        raise UsageError(f"{source} {value!r} is not an http(s) URL like http://127.0.0.1:4566")
    return value


def base_session(profile: Optional[str]):
    """A boto3 session for ``profile`` (or AWS_PROFILE, or the default chain)."""
    import boto3
    from botocore.exceptions import ProfileNotFound

    try:
        return boto3.Session(profile_name=profile or None)
    except ProfileNotFound:
        name = profile or os.environ.get("AWS_PROFILE")
        source = "--profile" if profile else "AWS_PROFILE"
        try:
            import botocore.session

            known = ", ".join(botocore.session.Session(profile=None).available_profiles) or "none"
        except Exception:  # the config file itself may be what is broken
            known = "unknown"
        raise UsageError(f"{source} {name!r}: no such profile in the AWS config files (profiles: {known})") from None


def region(flag: Optional[str], session: Any = None) -> str:
    """``--region``, AWS_REGION, AWS_DEFAULT_REGION, else the profile's region."""
    value = flag or from_env(REGION_ENV) or (session.region_name if session is not None else None)
    if not value:
        raise UsageError("a region is required: pass --region, set AWS_REGION, or set region in the AWS profile")
    if not _REGION.match(value):
        source = "--region" if flag else "the region"
        raise UsageError(f"{source} {value!r} is not an AWS region name like eu-central-1")
    return value


def mfa_code(serial: Optional[str], code: Optional[str]) -> Optional[str]:
    """The MFA code for ``serial``: ``--mfa-code``, else asked for on the terminal."""
    if code and not serial:
        raise UsageError("--mfa-code needs --mfa-serial (the ARN of the MFA device)")
    if not serial:
        return None
    if not code:
        if not (sys.stdin.isatty() and sys.stderr.isatty()):
            raise UsageError("--mfa-serial needs --mfa-code when there is no terminal to ask on")
        import getpass

        code = getpass.getpass(f"MFA code for {serial}: ").strip()
    if not _MFA_CODE.match(code):
        raise UsageError(f"--mfa-code {code!r} is not a 6-digit code")
    return code


def aws_session(args: argparse.Namespace, *, tenant_id: Optional[str] = None):
    """(boto3 session, region) for a command: the profile, then the role if one is given.

    With ``--role-arn`` the role is assumed at once (``tenant_id`` becomes the session tag), so
    an STS refusal is reported before any transfer starts, as one line.
    """
    session = base_session(getattr(args, "profile", None))
    where = region(getattr(args, "region", None), session)
    role_arn = getattr(args, "role_arn", None) or from_env(ROLE_ENV)
    external_id = getattr(args, "external_id", None)
    serial = getattr(args, "mfa_serial", None)
    if not role_arn:
        for flag, value in (("--external-id", external_id), ("--mfa-serial", serial),
                            ("--mfa-code", getattr(args, "mfa_code", None))):
            if value:
                raise UsageError(f"{flag} goes with --role-arn (or SECURESTORE_ROLE_ARN)")
        return session, where
    code = mfa_code(serial, getattr(args, "mfa_code", None))
    from botocore.config import Config
    from botocore.exceptions import BotoCoreError, ClientError

    from securestore.sts import assume_role_session

    if session.get_credentials() is None:
        raise UsageError("no AWS credentials to assume --role-arn with: set AWS_ACCESS_KEY_ID/"
                     "AWS_SECRET_ACCESS_KEY, AWS_PROFILE or --profile")
    sts = session.client("sts", region_name=where, endpoint_url=sts_endpoint(),
                         config=Config(signature_version="v4", retries={"max_attempts": 2}))
    try:
        assumed = assume_role_session(role_arn, tenant_id=tenant_id, external_id=external_id,
                                      mfa_serial=serial, mfa_token_provider=(lambda: code) if code else None,
                                      region_name=where, sts_client=sts)
        assumed.get_credentials().get_frozen_credentials()
    except ClientError as exc:
        error = exc.response.get("Error", {})
        raise CommandFailed(f"cannot assume {role_arn}: {error.get('Code', 'error')}: "
                            f"{error.get('Message', exc)}") from None
    except BotoCoreError as exc:
        raise CommandFailed(f"cannot assume {role_arn}: {exc}") from None
    except ValueError as exc:
        raise UsageError(flag_names(str(exc))) from None
    return assumed, where


_PARAMETER_FLAGS = (("role_arn", "--role-arn"), ("external_id", "--external-id"), ("mfa_serial", "--mfa-serial"),
                    ("tenant_id", "--tenant"), ("session_name", "--session-name"),
                    ("duration_seconds", "--duration-seconds"))


def flag_names(message: str) -> str:
    """A library message naming Python parameters, re-worded with the flags the user typed."""
    for parameter, flag in _PARAMETER_FLAGS:
        message = re.sub(rf"\b{parameter}\b", flag, message)
    return message


def s3_client(args: argparse.Namespace, *, tenant_id: Optional[str] = None, concurrency: Optional[int] = None,
              bucket: Optional[str] = None):
    """The tuned S3 client a command talks through: session and region as ``aws_session``
    resolves them (a role assumed with ``tenant_id`` as its session tag), the endpoint from
    ``--endpoint-url`` or the environment, a connection pool sized for ``concurrency``.

    ``bucket``: the one bucket the command works in. When the credentials come from the
    environment and botocore's answer for this bucket is remembered under the same inputs
    (``transfer.endpoint_cache``), the client is a ``transfer.lazy_client.LazyS3Client``: made
    only if something needs botocore (an unchanged ``sync`` never does)."""
    from securestore.transfer.clients import make_s3_client

    endpoint_url = s3_endpoint(getattr(args, "endpoint_url", None))
    extra = {} if concurrency is None else {"concurrency": concurrency}

    def make():
        session, where = aws_session(args, tenant_id=tenant_id)
        return make_s3_client(session, region_name=where, endpoint_url=endpoint_url, **extra)

    credentials = _environment_credentials(args) if bucket else None
    if credentials is None:
        return make()
    from securestore.transfer import endpoint_cache
    from securestore.transfer.lazy_client import LazyS3Client

    where = region(getattr(args, "region", None))
    key = endpoint_cache.fingerprint({"endpoint_url": endpoint_url, "region": where, "bucket": bucket})
    remembered = endpoint_cache.load(key)
    if remembered is not None and remembered.get("credential_method") == "env":
        return LazyS3Client(make, endpoint_url=remembered["endpoint_url"], credentials=credentials,
                            described={bucket: remembered["description"]})
    client = make()
    _remember_endpoint(key, client, bucket)
    return client


def _environment_credentials(args: argparse.Namespace):
    """The credentials botocore will use when they can only be the environment's static keys
    (``AWS_ACCESS_KEY_ID``/``AWS_SECRET_ACCESS_KEY``, no ``--profile``, no role, a region given
    by flag or environment, no expiry to refresh); else ``None``."""
    if any(getattr(args, name, None) for name in ("profile", "role_arn", "external_id", "mfa_serial", "mfa_code")) \
            or from_env(ROLE_ENV) or \
            os.environ.get("AWS_CREDENTIAL_EXPIRATION") or not (getattr(args, "region", None) or from_env(REGION_ENV)):
        return None
    access, secret = os.environ.get("AWS_ACCESS_KEY_ID"), os.environ.get("AWS_SECRET_ACCESS_KEY")
    if not access or not secret:
        return None
    from securestore._sigv4 import SigningCredentials

    token = os.environ.get("AWS_SESSION_TOKEN") or os.environ.get("AWS_SECURITY_TOKEN") or None
    return SigningCredentials(access, secret, token)


def _remember_endpoint(key: str, client: Any, bucket: str) -> None:
    """Record what botocore decided for ``bucket`` (and that it signs with the environment's
    keys), for the next command with the same inputs."""
    from securestore.transfer import endpoint_cache
    from securestore.transfer.direct import direct_description
    from securestore.transfer.direct_objects import PROBE_KEY

    try:
        method = client._request_signer._credentials.method
    except AttributeError:
        return
    described = direct_description(client, "put_object", {"Bucket": bucket, "Key": PROBE_KEY})
    if method != "env" or described is None:
        return
    endpoint_cache.store(key, {"credential_method": method, "endpoint_url": client.meta.endpoint_url,
                               "description": described})


def tenant_scope(tenant: Optional[str], given: Optional[str], what: str, *, single: bool = False) -> str:
    """The key or prefix a command acts on: ``given`` checked against ``--tenant`` by the library's
    one rule (``securestore.keys.scope_to_tenant``), errors worded with the argument ``what``
    (``KEY``, ``PREFIX``, ``--key``). ``single``: the command takes one object, so an argument
    that only names the tenant (``T001``) is refused rather than read as its whole prefix."""
    if tenant is None:
        return given or ""
    from securestore.keys import scope_to_tenant, tenant_prefix

    try:
        prefix = tenant_prefix(tenant)
    except ValueError as exc:
        raise UsageError(f"--tenant: {exc}") from None
    try:
        scoped = scope_to_tenant(tenant, given)
    except ValueError as exc:
        raise UsageError(f"{what} {exc}") from None
    if single and scoped == prefix and given != prefix:
        raise UsageError(f"{what} {given!r} names the tenant prefix; use --recursive to act on everything under it")
    return scoped


S3_SCHEME = "s3://"


def s3_address(args: argparse.Namespace, value: Optional[str], what: str) -> Optional[str]:
    """The key (or prefix) in ``value``, which may be written the aws way, ``s3://BUCKET/KEY``.

    The bucket of an ``s3://`` address becomes ``args.bucket``; a different ``--bucket`` (or a
    second address naming another bucket) is refused rather than one of them silently winning.
    A plain key is returned unchanged.
    """
    if value is None or not value.startswith(S3_SCHEME):
        return value
    named, _, key = value[len(S3_SCHEME):].partition("/")
    if not named:
        raise UsageError(f"{what} {value!r}: an s3:// address needs a bucket (s3://BUCKET/KEY)")
    if args.bucket and args.bucket != named:
        raise UsageError(f"{what} {value!r} names bucket {named!r} but --bucket (or another address) "
                         f"says {args.bucket!r}")
    args.bucket = named
    return key


def transfer_config(args: argparse.Namespace, checksum: Optional[str] = None):
    """The ``TransferConfig`` of a transfer command's tuning flags (``options.add_transfer_tuning``),
    a bad value reported with the flag's name."""
    from securestore.transfer.config import (
        DEFAULT_CHECKSUM_ALGORITHM, DEFAULT_FIRST_ANSWER_SECONDS, TransferConfig, parse_duration,
    )

    checksum = checksum or DEFAULT_CHECKSUM_ALGORITHM

    try:
        retry_for = parse_duration(args.retry_for)
    except ValueError as error:
        raise UsageError(f"--retry-for: {error}") from None
    first_answer = getattr(args, "first_answer_timeout", None)
    try:
        first_answer = DEFAULT_FIRST_ANSWER_SECONDS if first_answer is None else parse_duration(first_answer)
    except ValueError as error:
        raise UsageError(f"--first-answer-timeout: {error}") from None
    try:
        return TransferConfig(part_size=args.part_size, concurrency=args.concurrency,
                              checksum_algorithm=checksum, max_attempts=args.max_attempts,
                              retry_for_seconds=retry_for, first_answer_seconds=first_answer,
                              direct_parts=not getattr(args, "parts_via_botocore", False))
    except ValueError as exc:  # name the flag, not the field
        text = str(exc)
        for field, flag in (("part_size", "--part-size"), ("concurrency", "--concurrency"),
                            ("max_attempts", "--max-attempts"), ("multipart_threshold", "--part-size"),
                            ("retry_for_seconds", "--retry-for"),
                            ("first_answer_seconds", "--first-answer-timeout")):
            text = text.replace(field, flag)
        raise UsageError(text) from None
