"""Secure variants: equivalent or stricter encodings of the stack's own resources. The pack
must judge meaning, so none of these may produce a violation (a false positive teaches
users to turn rules off)."""

from __future__ import annotations

from .harness import Mutant, edit_policy, get, put, sid, update
from .mutants import (ACCOUNT, BUCKET_POLICY, MANAGED_POLICY, DATA, KEY, KEY_POLICY, LIFECYCLE, ROLE, ROLE_POLICY,
                      TOPIC_POLICY, _in, _rename_operator, doc_mutant)


VARIANTS: list[Mutant] = [
    doc_mutant("data-policy-statements-reversed", BUCKET_POLICY, "storage-data-policy",
               "statements in reverse order", lambda d: d["Statement"].reverse(),
               lambda d: d["Statement"][-1]["Sid"] == "DenyInsecureTransport"),  # the first one, now last
    doc_mutant("data-tls-deny-principal-aws-star", BUCKET_POLICY, "storage-data-policy",
               "DenyInsecureTransport with Principal {\"AWS\": \"*\"} and Action [\"s3:*\"] (same meaning)",
               lambda d: sid(d, "DenyInsecureTransport").update(Principal={"AWS": "*"}, Action=["s3:*"]),
               lambda d: _in(d, "DenyInsecureTransport")["Principal"] == {"AWS": "*"}),
    doc_mutant("data-tls-deny-every-action", BUCKET_POLICY, "storage-data-policy",
               "DenyInsecureTransport with Action * and resources reordered",
               lambda d: sid(d, "DenyInsecureTransport").update(
                   Action="*", Resource=[f"{DATA}/*", DATA]),
               lambda d: _in(d, "DenyInsecureTransport")["Action"] == "*"),
    doc_mutant("data-cloudfront-arn-equals", BUCKET_POLICY, "storage-data-policy",
               "CloudFront SourceArn compared with ArnEquals (same meaning as StringEquals)",
               _rename_operator("AllowCloudFrontReadForThisDistribution", "StringEquals", "ArnEquals"),
               lambda d: "ArnEquals" in _in(d, "AllowCloudFrontReadForThisDistribution")["Condition"]),
    doc_mutant("data-tls12-as-single-values", BUCKET_POLICY, "storage-data-policy",
               "DenyTlsOlderThan12 with a one-element Action list and NumericLessThan 1.2 as a number",
               lambda d: sid(d, "DenyTlsOlderThan12").update(
                   Action=["s3:*"], Condition={"NumericLessThan": {"s3:TlsVersion": 1.2}}),
               lambda d: _in(d, "DenyTlsOlderThan12")["Action"] == ["s3:*"]),
    doc_mutant("lambda-without-delete", ROLE_POLICY, "access-lambda-data-access",
               "stricter: the Lambda role loses s3:DeleteObject",
               lambda d: sid(d, "AllowObjectReadWriteDeleteInTheDataBucket")["Action"].remove("s3:DeleteObject"),
               lambda d: "s3:DeleteObject" not in _in(d, "AllowObjectReadWriteDeleteInTheDataBucket")["Action"]),
    doc_mutant("key-policy-reordered-ignorecase", KEY_POLICY, "key-policy",
               "admin actions reversed; kms:ViaService compared ignoring case",
               lambda d: (sid(d, "AllowAccountRootToAdministerTheKey")["Action"].reverse(),
                          _rename_operator("AllowAccountPrincipalsToUseTheKeyThroughS3Only", "StringEquals",
                                           "StringEqualsIgnoreCase")(d)),
               lambda d: "StringEqualsIgnoreCase" in _in(d, "AllowAccountPrincipalsToUseTheKeyThroughS3Only")["Condition"]),
    doc_mutant("tenant-resource-as-list", ROLE_POLICY, "access-tenant-prefix-access",
               "tenant object resource as a one-element list",
               lambda d: sid(d, "AllowObjectAccessUnderOwnTenantPrefix").update(
                   Resource=[sid(d, "AllowObjectAccessUnderOwnTenantPrefix")["Resource"]]),
               lambda d: isinstance(_in(d, "AllowObjectAccessUnderOwnTenantPrefix")["Resource"], list)),
    doc_mutant("topic-arn-like-exact", TOPIC_POLICY, "object-created-policy",
               "S3 publish pinned with ArnLike on the exact bucket ARN (no wildcard)",
               _rename_operator("AllowS3PublishFromTheDataBucketOnly", "ArnEquals", "ArnLike"),
               lambda d: "ArnLike" in _in(d, "AllowS3PublishFromTheDataBucketOnly")["Condition"]),
    doc_mutant("data-sse-algorithm-list-widened", BUCKET_POLICY, "storage-data-policy",
               "equivalent by evaluation: the algorithm deny also tolerates AES256, but the key deny "
               "(ArnNotEquals on an absent key id matches) still refuses every SSE-S3 upload",
               lambda d: sid(d, "DenyUploadsWithAnotherEncryptionAlgorithm")["Condition"]["StringNotEquals"].update(
                   {"s3:x-amz-server-side-encryption": ["aws:kms", "AES256"]}),
               lambda d: "AES256" in _in(d, "DenyUploadsWithAnotherEncryptionAlgorithm")["Condition"]
               ["StringNotEquals"]["s3:x-amz-server-side-encryption"]),
    Mutant("uploader-shorter-sessions", "prod", ROLE, "access-uploader", "stricter: 30-minute sessions",
           lambda p: p.update(max_session_duration=1800), lambda i: i["maxSessionDuration"] == 1800),
    Mutant("lifecycle-longer-retention", "prod", LIFECYCLE, "storage-data-lifecycle",
           "stricter: replaced versions kept 120 days",
           lambda p: update(p, "rules.1.noncurrent_version_expiration.noncurrent_days", lambda _: 120),
           lambda i: i["rules"][1]["noncurrentVersionExpiration"]["noncurrentDays"] == 120),
    Mutant("key-rotation-every-90-days", "prod", KEY, "key-cmk", "stricter: rotation every 90 days",
           lambda p: p.update(rotation_period_in_days=90), lambda i: i.get("rotationPeriodInDays") == 90),
]
