"""Components used directly (another program, or any language through the package) refuse
the values the program's settings would refuse, naming the Args field, before anything is
registered.

Attack class: a value ``settings`` guards in this program (a ``*`` CORS origin, a wildcard
trusted principal, a private key where the public key goes, a lifecycle that deletes data
early) reaching AWS through a consumer that never runs ``settings``. Failing before the
first registration means a half-built component never reaches the engine.
"""

from __future__ import annotations

from typing import Any, Callable

import pulumi
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from pulumi.runtime import settings as pulumi_settings
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await

from components.access import AccessRoles, AccessRolesArgs
from components.args_check import ComponentArgsError
from components.audit import AuditTrail, AuditTrailArgs
from components.edge import EdgeDelivery, EdgeDeliveryArgs
from components.encryption import EncryptionKey, EncryptionKeyArgs
from components.storage import SecureBucket, SecureBucketArgs
from securestore.offline.engine import RecordingMonitor
from securestore.offline.mocks import RealisticMocks

ACCOUNT = "123456789012"
BUCKET_ARN = "arn:aws:s3:::consumer-data"
KEY_ARN = f"arn:aws:kms:eu-west-1:{ACCOUNT}:key/11111111-2222-3333-4444-555555555555"
TAGS = {"owner": "platform"}
_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
PUBLIC_PEM = _KEY.public_key().public_bytes(
    serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
).decode()
PRIVATE_PEM = _KEY.private_bytes(
    serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
).decode()


def _key(**changes: Any) -> None:
    EncryptionKey("k", EncryptionKeyArgs(**{**dict(
        alias_name="alias/consumer", description="consumer key", deletion_window_in_days=30,
        admin_arns=[], account_id=ACCOUNT, region="eu-west-1", partition="aws", protect=False,
        tags=TAGS), **changes}))


def _bucket(**changes: Any) -> None:
    SecureBucket("b", SecureBucketArgs(**{**dict(
        kms_key_arn=KEY_ARN, sse_algorithm="aws:kms", cors_allowed_origins=["https://app.example.com"],
        transition_to_ia_days=30, expire_after_days=365, noncurrent_version_expire_days=90,
        abort_incomplete_multipart_days=7, account_id=ACCOUNT, log_retention_days=365,
        force_destroy=False, protect=False, tags=TAGS), **changes}))


def _roles(**changes: Any) -> None:
    AccessRoles("r", AccessRolesArgs(**{**dict(
        bucket_arn=BUCKET_ARN, kms_key_arn=KEY_ARN, account_id=ACCOUNT, region="eu-west-1",
        partition="aws", ec2_access_mode="read-only", uploader_trusted_arns=[],
        uploader_external_id="consumer-uploader", uploader_require_mfa=False,
        permissions_boundary_arn=None, max_session_duration_seconds=3600, tags=TAGS), **changes}))


def _edge(**changes: Any) -> None:
    EdgeDelivery("e", EdgeDeliveryArgs(**{**dict(
        bucket_arn=BUCKET_ARN, bucket_regional_domain_name="consumer-data.s3.eu-west-1.amazonaws.com",
        log_bucket_arn="arn:aws:s3:::consumer-logs", account_id=ACCOUNT, partition="aws",
        public_key_pem=PUBLIC_PEM, price_class="PriceClass_100", geo_restriction_type="none",
        geo_restriction_locations=[], custom_domain=None, acm_certificate_arn=None,
        waf_enabled=False, waf_rate_limit=2000, tags=TAGS), **changes}))


def _audit(**changes: Any) -> None:
    AuditTrail("a", AuditTrailArgs(**{**dict(
        bucket_id="consumer-data", bucket_arn=BUCKET_ARN, log_bucket_id="consumer-logs",
        log_bucket_arn="arn:aws:s3:::consumer-logs", account_id=ACCOUNT, region="eu-west-1",
        partition="aws", cloudtrail_enabled=False, cloudtrail_cloudwatch_logs=False,
        cloudtrail_log_retention_days=365, notification_email=None, admin_arns=[],
        key_deletion_window_days=30, force_destroy=False, protect=False, tags=TAGS), **changes}))


def _register(build: Callable[[], None]) -> tuple[list, BaseException | None]:
    """Run ``build`` as a program under the recording monitor; what it registered, its error."""
    monitor = RecordingMonitor(RealisticMocks(account_id=ACCOUNT, region="eu-west-1"))
    pulumi_settings.ROOT.set(None)
    pulumi.runtime.set_mocks(monitor.mocks, project="consumer", stack="test", preview=False, monitor=monitor)
    raised: list[BaseException] = []

    def program() -> None:
        try:
            build()
        except ComponentArgsError as exc:
            raised.append(exc)

    _sync_await(run_pulumi_func(program))
    return list(monitor.records), (raised[0] if raised else None)


@pytest.mark.parametrize("build", [_key, _bucket, _roles, _edge, _audit], ids=lambda b: b.__name__)
def test_valid_args_build_the_component(build):
    """The baseline each refusal below changes one field of: it builds without an error."""
    records, error = _register(build)
    assert error is None
    assert any(not r.custom for r in records) and any(r.custom for r in records)


REFUSED = [
    (_key, {"deletion_window_in_days": 3}, "deletion_window_in_days"),
    (_key, {"admin_arns": ["arn:aws:iam::*:root"]}, "admin_arns"),
    (_bucket, {"cors_allowed_origins": ["*"]}, "cors_allowed_origins"),
    (_bucket, {"sse_algorithm": "AES256"}, "sse_algorithm"),
    (_bucket, {"expire_after_days": 10}, "expire_after_days"),
    (_bucket, {"log_retention_days": 0}, "log_retention_days"),
    (_roles, {"uploader_trusted_arns": ["arn:aws:iam::*:root"]}, "uploader_trusted_arns"),
    (_roles, {"uploader_external_id": ""}, "uploader_external_id"),
    (_roles, {"ec2_access_mode": "admin"}, "ec2_access_mode"),
    (_roles, {"max_session_duration_seconds": 60}, "max_session_duration_seconds"),
    (_roles, {"tenant_broker_arns": [f"arn:aws:iam::{ACCOUNT}:root"]}, "tenant_broker_arns"),
    (_edge, {"public_key_pem": PRIVATE_PEM}, "public_key_pem"),
    (_edge, {"price_class": "PriceClass_Cheap"}, "price_class"),
    (_edge, {"custom_domain": "files.example.com"}, "acm_certificate_arn"),
    (_audit, {"cloudtrail_log_retention_days": 42}, "cloudtrail_log_retention_days"),
    (_audit, {"notification_email": "not-an-address"}, "notification_email"),
]


@pytest.mark.parametrize(
    ("build", "changes", "field"), REFUSED, ids=[f"{b.__name__}-{f}" for b, _, f in REFUSED]
)
def test_bad_value_fails_naming_the_field_before_any_registration(build, changes, field):
    """Promise: a component given a value settings would refuse fails with the Args field's
    name (Python and schema spelling), and registers nothing, not even itself."""
    records, error = _register(lambda: build(**changes))
    assert isinstance(error, ComponentArgsError), f"accepted {changes}"
    assert error.field == field
    assert f"args.{field} (" in str(error)
    assert records == []


def test_missing_required_field_is_named_before_any_registration():
    """Promise: a TypedDict does not enforce its keys in Python; the component does, instead
    of failing with a KeyError half-way through its children."""

    def without_key_arn() -> None:
        args = dict(
            sse_algorithm="aws:kms", cors_allowed_origins=[], transition_to_ia_days=30,
            expire_after_days=365, noncurrent_version_expire_days=90,
            abort_incomplete_multipart_days=7, account_id=ACCOUNT, log_retention_days=365,
            force_destroy=False, protect=False, tags=TAGS,
        )
        SecureBucket("b", args)  # type: ignore[arg-type]

    records, error = _register(without_key_arn)
    assert isinstance(error, ComponentArgsError) and error.field == "kms_key_arn"
    assert "kmsKeyArn" in str(error)
    assert records == []
