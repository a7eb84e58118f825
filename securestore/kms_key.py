"""The one form of KMS key the data bucket accepts from clients: the key ARN.

The bucket policy denies an upload whose ``x-amz-server-side-encryption-aws-kms-key-id``
is not our key's ARN (``ArnNotEquals``), and IAM compares the string as sent: a key id
(``0b6f9a53-...``), an alias (``alias/securestore-prod``) or an alias ARN names the same
key for KMS but not for the policy, so S3 answers AccessDenied after the whole body was
sent. The stack exports both ``kmsKeyId`` and ``kmsKeyArn``; only the ARN works, so the
clients refuse anything else up front, naming the output to use.
"""

from __future__ import annotations

import re

KEY_ARN = re.compile(
    r"arn:aws(?:-cn|-us-gov)?:kms:[a-z]{2}(?:-[a-z]+)+-[0-9]+:[0-9]{12}:key/"
    r"(?:mrk-[0-9a-f]{32}|[0-9a-f][0-9a-f-]{0,63})"
)
"""A key ARN: ``key/`` then the key id as KMS writes it (lower-case hex with hyphens, a UUID
for single-region keys, ``mrk-...`` for multi-Region keys). Not an alias, not a bare id."""


def require_key_arn(value: object, what: str = "kms_key_id") -> str:
    """``value`` if it is a KMS key ARN, else ``ValueError`` naming ``kmsKeyArn``."""
    if isinstance(value, str) and KEY_ARN.fullmatch(value):
        return value
    raise ValueError(
        f"{what} {value!r} is not a KMS key ARN (arn:aws:kms:<region>:<account>:key/<key id>): "
        "use the stack output kmsKeyArn; a key id, alias or alias ARN is refused because the "
        "bucket policy compares the full key ARN and would deny the upload"
    )
