"""``securestore assume``: temporary credentials for the uploader or tenant role, as shell
exports or (``--json``) in the AWS CLI ``credential_process`` format."""

from __future__ import annotations

import argparse
import sys

from . import options, settings
from .errors import UsageError


def _handle_assume(args: argparse.Namespace) -> int:
    from botocore.config import Config

    from securestore.sts import assume_role_session, credentials_expiry

    if bool(args.mfa_serial) != bool(args.mfa_code) and not (args.mfa_serial and sys.stdin.isatty()):
        raise UsageError("--mfa-serial and --mfa-code go together")
    code = settings.mfa_code(args.mfa_serial, args.mfa_code)
    base = settings.base_session(args.profile)
    region = settings.region(args.region, base)
    endpoint = settings.sts_endpoint(args.endpoint_url)
    sts_client = base.client("sts", region_name=region, endpoint_url=endpoint, config=Config(signature_version="v4"))
    session = assume_role_session(
        args.role_arn, tenant_id=args.tenant, external_id=args.external_id, mfa_serial=args.mfa_serial,
        mfa_token_provider=(lambda: code) if code else None,
        duration_seconds=args.duration_seconds, region_name=region, sts_client=sts_client,
        session_name=args.session_name,
    )
    frozen = session.get_credentials().get_frozen_credentials()
    expiry = credentials_expiry(session)
    payload = {  # the AWS CLI credential_process format, so `assume --json` can be one
        "Version": 1, "AccessKeyId": frozen.access_key, "SecretAccessKey": frozen.secret_key,
        "SessionToken": frozen.token, "Expiration": expiry.isoformat() if expiry else None,
    }
    lines = [f"export AWS_ACCESS_KEY_ID={frozen.access_key}", f"export AWS_SECRET_ACCESS_KEY={frozen.secret_key}",
             f"export AWS_SESSION_TOKEN={frozen.token}", f"# expires {payload['Expiration']}"]
    return options.emit(args, payload, lines)


def register(subparsers: argparse._SubParsersAction) -> None:
    assume = subparsers.add_parser("assume", help="assume the uploader or tenant role (temporary credentials)")
    assume.add_argument("role_arn", metavar="ROLE_ARN", help="role to assume, e.g. the stack output tenantRoleArn")
    options.TENANT.add(assume, help="session tag tenant_id (transitive)")
    options.EXTERNAL_ID.add(assume, help="sts:ExternalId the trust requires")
    options.MFA_SERIAL.add(assume, help="ARN of your MFA device")
    options.MFA_CODE.add(assume, help="current 6-digit MFA code (asked for on a terminal)")
    assume.add_argument("--duration-seconds", type=options.non_negative_int, default=3600,
                        help="session length, 900-43200 (default 3600)")
    assume.add_argument("--session-name", default=None, help="RoleSessionName (default: derived from the tenant)")
    options.REGION.add(assume)
    options.ENDPOINT_URL.add(assume, help="STS endpoint (default: $SECURESTORE_STS_ENDPOINT_URL, "
                             "$AWS_ENDPOINT_URL_STS, $AWS_ENDPOINT_URL)")
    options.PROFILE.add(assume, help="AWS profile whose credentials assume the role (default: $AWS_PROFILE)")
    options.JSON.add(assume, help="print one JSON object on stdout")
    assume.set_defaults(handler=_handle_assume)
