"""The data bucket's browser-facing settings from an evaluated stack, in S3 API shape.

Whatever must match the stack outside Pulumi (a LocalStack bucket for the browser tests or the
example app, the CORS contract test) reads the program's recorded inputs through here, never
a copy: :func:`recorded_cors_rules` returns the ``BucketCorsConfiguration`` rules as
``put_bucket_cors`` takes them, :func:`recorded_default_encryption` the default encryption as
``put_bucket_encryption`` takes it.
"""

from __future__ import annotations

from typing import Any

from securestore.offline.graph import RecordedResource, StackGraph

CORS_TYPE = "aws:s3/bucketCorsConfiguration:BucketCorsConfiguration"
ENCRYPTION_TYPE = "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
BUCKET_TYPE = "aws:s3/bucket:Bucket"
#: Recorded (camelCase Pulumi) name -> S3 API name, for each field of a CORS rule.
_API_NAMES = {
    "id": "ID",
    "allowedHeaders": "AllowedHeaders",
    "allowedMethods": "AllowedMethods",
    "allowedOrigins": "AllowedOrigins",
    "exposeHeaders": "ExposeHeaders",
    "maxAgeSeconds": "MaxAgeSeconds",
}


class BucketSettingsError(LookupError):
    """The stack does not have the one data-bucket setting asked for."""


def _data_bucket_setting(graph: StackGraph, type_: str) -> RecordedResource:
    """The one resource of ``type_`` attached (by its ``bucket`` input) to the data bucket."""
    data_buckets = [b for b in graph.of_type(BUCKET_TYPE) if b.name.endswith("-data")]
    if len(data_buckets) != 1:
        raise BucketSettingsError(f"{graph.stack}: expected one data bucket (*-data), found "
                                  f"{[b.name for b in graph.of_type(BUCKET_TYPE)]}")
    found = [r for r in graph.of_type(type_) if data_buckets[0].urn in r.property_dependencies.get("bucket", ())]
    if len(found) != 1:
        raise BucketSettingsError(f"{graph.stack}: expected one {type_} on the data bucket, found "
                                  f"{[r.name for r in found]}")
    return found[0]


def data_bucket_cors(graph: StackGraph) -> RecordedResource:
    """The ``BucketCorsConfiguration`` of the data bucket, the only one in the stack."""
    if len(graph.of_type(CORS_TYPE)) != 1:
        raise BucketSettingsError(f"{graph.stack}: expected one CORS configuration (the data bucket's), found "
                                  f"{[r.name for r in graph.of_type(CORS_TYPE)]}")
    return _data_bucket_setting(graph, CORS_TYPE)


def recorded_default_encryption(graph: StackGraph, kms_key_arn: str) -> dict[str, Any]:
    """The data bucket's default encryption for ``put_bucket_encryption``, on ``kms_key_arn``.

    The key is the only substitution: the stack's key ARN is a mock's, the emulator has its own.
    ``blockedEncryptionTypes`` (SSE-C) is left out: the emulator does not implement it.
    """
    rules = []
    for recorded in _data_bucket_setting(graph, ENCRYPTION_TYPE).inputs["rules"]:
        default = recorded["applyServerSideEncryptionByDefault"]
        by_default = {"SSEAlgorithm": default["sseAlgorithm"]}
        if "kmsMasterKeyId" in default:
            by_default["KMSMasterKeyID"] = kms_key_arn
        rules.append({"ApplyServerSideEncryptionByDefault": by_default,
                      "BucketKeyEnabled": bool(recorded.get("bucketKeyEnabled", False))})
    return {"Rules": rules}


def recorded_cors_rules(graph: StackGraph) -> list[dict[str, Any]]:
    """The data bucket's CORS rules, S3 API shape (``AllowedHeaders``, ...), in recorded order."""
    rules = []
    for recorded in data_bucket_cors(graph).inputs["corsRules"]:
        unknown = set(recorded) - set(_API_NAMES)
        if unknown:
            raise BucketSettingsError(f"CORS rule fields this reader does not translate: {sorted(unknown)}")
        rule = {_API_NAMES[name]: value for name, value in recorded.items() if value is not None}
        if "MaxAgeSeconds" in rule:  # recorded through protobuf's Struct, which has only floats
            rule["MaxAgeSeconds"] = int(rule["MaxAgeSeconds"])
        rules.append(rule)
    return rules
