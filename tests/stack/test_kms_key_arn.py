"""Clients accept the KMS key only as its ARN, and say which stack output to use.

Attack/failure class: a key named in a form the bucket policy does not compare. The data
bucket's ``DenyUploadsWithAnotherKmsKey`` uses ``ArnNotEquals`` on the key header, so a key
id, an alias or an alias ARN (all valid for KMS, and the stack exports ``kmsKeyId`` beside
``kmsKeyArn``) is denied by S3 after the body was sent. The evaluator shows the denial on
the stack's real policy; the clients refuse such values before any request.
"""

from __future__ import annotations

import pytest

from access import evaluator
from access.evaluator import Caller, Check
from access.stack_access import stack_access
from securestore.kms_key import require_key_arn
from securestore.s3presign import S3Presigner
from securestore.transfer.upload import upload_file

KEY_ARN = "arn:aws:kms:eu-central-1:123456789012:key/0b6f9a53-3a3e-4e8e-9d6a-4cbd1c1f5e21"
OTHER_FORMS = (
    "0b6f9a53-3a3e-4e8e-9d6a-4cbd1c1f5e21",
    "alias/securestore-prod",
    "arn:aws:kms:eu-central-1:123456789012:alias/securestore-prod",
    "ARN:AWS:KMS:eu-central-1:123456789012:key/0b6f9a53-3a3e-4e8e-9d6a-4cbd1c1f5e21",
    "arn:aws:kms:eu-central-1:123456789012:key/0B6F9A53-3A3E-4E8E-9D6A-4CBD1C1F5E21",
    "",
)
STATIC = {"aws_access_key_id": "AKIAIOSFODNN7EXAMPLE", "aws_secret_access_key": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"}


@pytest.mark.parametrize("form", ["key-id", "alias"])
def test_bucket_policy_denies_a_key_named_other_than_by_arn(graph, form):
    """Why the clients insist: the stack's policy denies the key id and alias forms."""
    access = stack_access(graph)
    key_id = access.kms_key_arn.rsplit("/", 1)[1]
    value = key_id if form == "key-id" else "alias/securestore"
    caller = Caller("lambda", access.account, access.roles["lambda"].arn, access.roles["lambda"].identity)
    context = {"aws:SecureTransport": "true", "s3:TlsVersion": "1.3",
               "s3:x-amz-server-side-encryption": "aws:kms", "s3:x-amz-server-side-encryption-aws-kms-key-id": value}
    check = Check("s3:PutObject", f"{access.bucket_arn}/acme/x", context, access.bucket_policy, access.account)
    assert evaluator.authorize(caller, check) is False
    right = {**context, "s3:x-amz-server-side-encryption-aws-kms-key-id": access.kms_key_arn}
    assert evaluator.authorize(caller, Check("s3:PutObject", check.resource, right, access.bucket_policy, access.account))


@pytest.mark.parametrize("value", OTHER_FORMS)
def test_presigner_refuses_anything_but_the_key_arn(value):
    """S3Presigner names ``kmsKeyArn`` when given a key id, alias, alias ARN or bad case."""
    with pytest.raises(ValueError, match="kmsKeyArn"):
        S3Presigner(bucket="securestore-prod-data", region_name="eu-central-1", kms_key_id=value, credentials=STATIC)


@pytest.mark.parametrize("value", OTHER_FORMS[:3])
def test_uploader_refuses_anything_but_the_key_arn(tmp_path, value):
    """upload_file refuses before touching S3 (the client is never called)."""
    path = tmp_path / "f.bin"
    path.write_bytes(b"x")
    with pytest.raises(ValueError, match="kmsKeyArn"):
        upload_file(object(), path, "securestore-prod-data", "acme/x", sse_kms_key_id=value)


def test_key_arn_and_multi_region_key_arn_are_accepted():
    assert require_key_arn(KEY_ARN) == KEY_ARN
    mrk = "arn:aws:kms:eu-west-1:123456789012:key/mrk-0123456789abcdef0123456789abcdef"
    assert require_key_arn(mrk) == mrk
