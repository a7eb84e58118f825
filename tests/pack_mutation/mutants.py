"""The mutants: each a realistic one-detail weakening of a resource the stack really has,
the kind a reviewer could miss in a diff. Each states what it changes; ``harness.run``
proves the change is in the recorded graph before the pack's verdict counts."""

from __future__ import annotations

from typing import Any, Callable

from .harness import Mutant, edit_policy, get, put, sid, update

BUCKET_POLICY = "aws:s3/bucketPolicy:BucketPolicy"
KEY = "aws:kms/key:Key"
KEY_POLICY = "aws:kms/keyPolicy:KeyPolicy"
TOPIC = "aws:sns/topic:Topic"
TOPIC_POLICY = "aws:sns/topicPolicy:TopicPolicy"
ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
MANAGED_POLICY = "aws:iam/policy:Policy"
DISTRIBUTION = "aws:cloudfront/distribution:Distribution"
HEADERS = "aws:cloudfront/responseHeadersPolicy:ResponseHeadersPolicy"
CORS = "aws:s3/bucketCorsConfiguration:BucketCorsConfiguration"
LIFECYCLE = "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration"
ENCRYPTION = "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
PAB = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
TRAIL = "aws:cloudtrail/trail:Trail"

ACCOUNT = "123456789012"
OTHER = "999999999999"
DATA = "arn:aws:s3:::securestore-prod-storage-data-75c9e12"


def doc_mutant(id: str, type_: str, suffix: str, what: str, edit: Callable[[dict], Any],
               shows: Callable[[dict], bool], *, stack: str = "prod", key: str = "policy") -> Mutant:
    """A change inside a policy document (``policy`` or ``assumeRolePolicy``)."""
    return Mutant(id, stack, type_, suffix, what,
                  lambda props: edit_policy(props, _python_key(key), edit),
                  lambda inputs: shows(inputs[key]))


def _python_key(key: str) -> str:
    return {"assumeRolePolicy": "assume_role_policy"}.get(key, key)


def _in(doc: dict, name: str) -> dict:
    return next(s for s in doc["Statement"] if s.get("Sid") == name)


def _set(statement_sid: str, field: str, value: Any) -> Callable[[dict], None]:
    def edit(doc: dict) -> None:
        sid(doc, statement_sid)[field] = value
    return edit


def _cond(statement_sid: str, condition: dict) -> Callable[[dict], None]:
    return _set(statement_sid, "Condition", condition)


def _drop_cond_key(statement_sid: str, operator: str, key: str) -> Callable[[dict], None]:
    def edit(doc: dict) -> None:
        condition = sid(doc, statement_sid)["Condition"]
        del condition[operator][key]
        if not condition[operator]:
            del condition[operator]
    return edit


def _rename_operator(statement_sid: str, old: str, new: str, value: Any = None) -> Callable[[dict], None]:
    def edit(doc: dict) -> None:
        condition = sid(doc, statement_sid)["Condition"]
        clause = condition.pop(old)
        if value is not None:
            clause = {k: value for k in clause}
        condition[new] = clause
    return edit


def _tenant_var(text: str) -> str:
    return text.replace("${aws:PrincipalTag/tenant_id}/*", "${aws:PrincipalTag/tenant_id}*")


MUTANTS: list[Mutant] = [
    # --- the data bucket's policy ------------------------------------------------------------
    doc_mutant("data-tls-deny-only-get-put", BUCKET_POLICY, "storage-data-policy",
               "DenyInsecureTransport covers only s3:GetObject and s3:PutObject",
               _set("DenyInsecureTransport", "Action", ["s3:GetObject", "s3:PutObject"]),
               lambda d: _in(d, "DenyInsecureTransport")["Action"] == ["s3:GetObject", "s3:PutObject"]),
    doc_mutant("data-tls-deny-objects-only", BUCKET_POLICY, "storage-data-policy",
               "DenyInsecureTransport names only the objects, not the bucket",
               _set("DenyInsecureTransport", "Resource", [f"{DATA}/*"]),
               lambda d: _in(d, "DenyInsecureTransport")["Resource"] == [f"{DATA}/*"]),
    doc_mutant("data-tls-deny-own-account-only", BUCKET_POLICY, "storage-data-policy",
               "DenyInsecureTransport applies only to this account's principals",
               _set("DenyInsecureTransport", "Principal", {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}),
               lambda d: _in(d, "DenyInsecureTransport")["Principal"] != "*"),
    doc_mutant("data-tls-deny-extra-condition", BUCKET_POLICY, "storage-data-policy",
               "DenyInsecureTransport also requires aws:PrincipalAccount = this account",
               lambda d: sid(d, "DenyInsecureTransport")["Condition"].update(
                   {"StringEquals": {"aws:PrincipalAccount": ACCOUNT}}),
               lambda d: "StringEquals" in _in(d, "DenyInsecureTransport")["Condition"]),
    doc_mutant("data-tls12-threshold-lowered", BUCKET_POLICY, "storage-data-policy",
               "DenyTlsOlderThan12 denies only below TLS 1.0",
               _cond("DenyTlsOlderThan12", {"NumericLessThan": {"s3:TlsVersion": "1.0"}}),
               lambda d: _in(d, "DenyTlsOlderThan12")["Condition"]["NumericLessThan"]["s3:TlsVersion"] == "1.0"),
    doc_mutant("data-tls12-only-uploads", BUCKET_POLICY, "storage-data-policy",
               "DenyTlsOlderThan12 covers only s3:PutObject",
               _set("DenyTlsOlderThan12", "Action", "s3:PutObject"),
               lambda d: _in(d, "DenyTlsOlderThan12")["Action"] == "s3:PutObject"),
    doc_mutant("data-sse-c-deny-narrowed", BUCKET_POLICY, "storage-data-policy",
               "DenyCustomerProvidedKeys covers only uploads/ (SSE-C elsewhere allowed by the policy)",
               _set("DenyCustomerProvidedKeys", "Resource", [f"{DATA}/uploads/*"]),
               lambda d: _in(d, "DenyCustomerProvidedKeys")["Resource"] == [f"{DATA}/uploads/*"]),
    doc_mutant("data-sse-any-key-of-account", BUCKET_POLICY, "storage-data-policy",
               "uploads may name any KMS key of the account",
               _rename_operator("DenyUploadsWithAnotherKmsKey", "ArnNotEquals", "ArnNotLike",
                                f"arn:aws:kms:eu-west-1:{ACCOUNT}:key/*"),
               lambda d: "ArnNotLike" in _in(d, "DenyUploadsWithAnotherKmsKey")["Condition"]),
    doc_mutant("data-tenant-deny-drops-slash", BUCKET_POLICY, "storage-data-policy",
               "tenant deny spares ${tenant}* (so acme reaches acme2/)",
               lambda d: sid(d, "DenyTaggedPrincipalsOutsideTheirTenantPrefix").update(
                   NotResource=[_tenant_var(r) for r in
                                sid(d, "DenyTaggedPrincipalsOutsideTheirTenantPrefix")["NotResource"]]),
               lambda d: any(r.endswith("tenant_id}*") for r in
                             _in(d, "DenyTaggedPrincipalsOutsideTheirTenantPrefix")["NotResource"])),
    doc_mutant("data-tenant-deny-untagged-only", BUCKET_POLICY, "storage-data-policy",
               "tenant deny applies to sessions without the tag (Null true)",
               _cond("DenyTaggedPrincipalsOutsideTheirTenantPrefix", {"Null": {"aws:PrincipalTag/tenant_id": "true"}}),
               lambda d: _in(d, "DenyTaggedPrincipalsOutsideTheirTenantPrefix")["Condition"]["Null"]
               ["aws:PrincipalTag/tenant_id"] == "true"),
    doc_mutant("data-tenant-list-drops-slash", BUCKET_POLICY, "storage-data-policy",
               "tenant listing deny spares prefixes ${tenant}*",
               lambda d: sid(d, "DenyTaggedPrincipalsListingOutsideTheirTenantPrefix")["Condition"]["StringNotLike"]
               .update({"s3:prefix": "${aws:PrincipalTag/tenant_id}*"}),
               lambda d: _in(d, "DenyTaggedPrincipalsListingOutsideTheirTenantPrefix")["Condition"]
               ["StringNotLike"]["s3:prefix"].endswith("}*")),
    doc_mutant("data-cloudfront-any-distribution", BUCKET_POLICY, "storage-data-policy",
               "CloudFront read allowed for any distribution of the account (StringLike .../*)",
               _cond("AllowCloudFrontReadForThisDistribution", {"StringLike": {
                   "AWS:SourceArn": f"arn:aws:cloudfront::{ACCOUNT}:distribution/*"}}),
               lambda d: "StringLike" in _in(d, "AllowCloudFrontReadForThisDistribution")["Condition"]),
    doc_mutant("data-cloudfront-ifexists", BUCKET_POLICY, "storage-data-policy",
               "CloudFront read condition becomes StringEqualsIfExists",
               _rename_operator("AllowCloudFrontReadForThisDistribution", "StringEquals", "StringEqualsIfExists"),
               lambda d: "StringEqualsIfExists" in _in(d, "AllowCloudFrontReadForThisDistribution")["Condition"]),
    doc_mutant("data-bucket-level-deny-spares-cors", BUCKET_POLICY, "storage-data-policy",
               "tagged sessions may also change the bucket's CORS (s3:PutBucketCors added to the NotAction "
               "of both bucket-level denies: the listing exception and the access model's ceiling)",
               lambda d: [sid(d, name)["NotAction"].append("s3:PutBucketCors") for name in (
                   "DenyTaggedPrincipalsEveryBucketActionButListing",
                   "DenyTaggedPrincipalsEveryActionTheAccessModelDoesNotGrant")],
               lambda d: "s3:PutBucketCors" in _in(d, "DenyTaggedPrincipalsEveryBucketActionButListing")["NotAction"]),
    doc_mutant("data-dot-segment-deny-misses-nested", BUCKET_POLICY, "storage-data-policy",
               "dot-segment deny no longer covers acme/../public/x (the */../* pattern dropped)",
               lambda d: sid(d, "DenyWritingKeysWithDotOrEmptySegments")["Resource"].remove(f"{DATA}/*/../*"),
               lambda d: f"{DATA}/*/../*" not in _in(d, "DenyWritingKeysWithDotOrEmptySegments")["Resource"]),
    # --- the log and trail buckets' policies -------------------------------------------------
    doc_mutant("logs-access-logs-from-any-bucket", BUCKET_POLICY, "storage-logs-policy",
               "server access logs accepted from any bucket (aws:SourceArn arn:aws:s3:::*)",
               lambda d: sid(d, "AllowServerAccessLogsFromTheDataBucketOnly")["Condition"].update(
                   {"ArnLike": {"aws:SourceArn": "arn:aws:s3:::*"}}),
               lambda d: _in(d, "AllowServerAccessLogsFromTheDataBucketOnly")["Condition"]["ArnLike"]
               ["aws:SourceArn"] == "arn:aws:s3:::*"),
    doc_mutant("logs-delivery-for-another-account", BUCKET_POLICY, "storage-logs-policy",
               "CloudFront log delivery pinned to another account",
               _cond("AllowCloudFrontLogDeliveryForThisDistribution", {
                   "StringEquals": {"aws:SourceAccount": OTHER},
                   "ArnEquals": {"aws:SourceArn": f"arn:aws:logs:us-east-1:{OTHER}:delivery-source:x"}}),
               lambda d: OTHER in str(_in(d, "AllowCloudFrontLogDeliveryForThisDistribution")["Condition"])),
    doc_mutant("logs-tls-deny-objects-only", BUCKET_POLICY, "storage-logs-policy",
               "log bucket's DenyInsecureTransport names only objects",
               lambda d: sid(d, "DenyInsecureTransport").update(
                   Resource=[r for r in sid(d, "DenyInsecureTransport")["Resource"] if r.endswith("/*")]),
               lambda d: all(r.endswith("/*") for r in _in(d, "DenyInsecureTransport")["Resource"])),
    doc_mutant("trail-bucket-any-trail", BUCKET_POLICY, "audit-trail-bucket-policy",
               "CloudTrail may write for any trail (StringLike aws:SourceArn trail/*)",
               _cond("AllowCloudTrailWriteForThisTrail", {
                   "StringLike": {"aws:SourceArn": "arn:aws:cloudtrail:*:*:trail/*"},
                   "StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control"}}),
               lambda d: "StringLike" in _in(d, "AllowCloudTrailWriteForThisTrail")["Condition"]),
    # --- KMS ------------------------------------------------------------------------------
    doc_mutant("key-usage-without-viaservice", KEY_POLICY, "key-policy",
               "account principals may use the data key directly (kms:ViaService and the bucket's "
               "encryption context dropped)",
               lambda d: [_drop_cond_key("AllowAccountPrincipalsToUseTheKeyThroughS3Only", op, k)(d)
                          for op, k in (("StringEquals", "kms:ViaService"),
                                        ("StringLike", "kms:EncryptionContext:aws:s3:arn"))],
               lambda d: "kms:ViaService" not in str(_in(d, "AllowAccountPrincipalsToUseTheKeyThroughS3Only"))),
    doc_mutant("key-viaservice-any-service", KEY_POLICY, "key-policy",
               "kms:ViaService matches any service in the region",
               _cond("AllowAccountPrincipalsToUseTheKeyThroughS3Only", {
                   "StringLike": {"kms:ViaService": "*.eu-west-1.amazonaws.com"},
                   "StringEquals": {"kms:CallerAccount": ACCOUNT}}),
               lambda d: "StringLike" in _in(d, "AllowAccountPrincipalsToUseTheKeyThroughS3Only")["Condition"]),
    doc_mutant("key-cloudfront-any-distribution", KEY_POLICY, "key-policy",
               "CloudFront may decrypt for any distribution",
               _cond("AllowCloudFrontDecryptForThisDistribution", {"ArnLike": {
                   "aws:SourceArn": f"arn:aws:cloudfront::{ACCOUNT}:distribution/*"}}),
               lambda d: "ArnLike" in _in(d, "AllowCloudFrontDecryptForThisDistribution")["Condition"]),
    doc_mutant("key-admin-also-decrypts", KEY_POLICY, "key-policy",
               "the administration statement also grants kms:Decrypt",
               lambda d: sid(d, "AllowAccountRootToAdministerTheKey")["Action"].append("kms:Decrypt"),
               lambda d: "kms:Decrypt" in _in(d, "AllowAccountRootToAdministerTheKey")["Action"]),
    doc_mutant("key-admin-to-workload-role", KEY_POLICY, "key-policy",
               "the Lambda workload role becomes a key administrator",
               _set("AllowAccountRootToAdministerTheKey", "Principal", {"AWS": [
                   f"arn:aws:iam::{ACCOUNT}:root", f"arn:aws:iam::{ACCOUNT}:role/securestore-prod-access-lambda-1c26383"]}),
               lambda d: "role/" in str(_in(d, "AllowAccountRootToAdministerTheKey")["Principal"])),
    doc_mutant("key-usage-other-account", KEY_POLICY, "key-policy",
               "another account may use the key through S3",
               _set("AllowAccountPrincipalsToUseTheKeyThroughS3Only", "Principal", {"AWS": f"arn:aws:iam::{OTHER}:root"}),
               lambda d: OTHER in str(_in(d, "AllowAccountPrincipalsToUseTheKeyThroughS3Only")["Principal"])),
    doc_mutant("audit-key-logs-any-log-group", KEY, "audit-key",
               "CloudWatch Logs may use the audit key for any log group",
               _cond("AllowCloudWatchLogsForTheTrailLogGroupOnly", {"StringLike": {
                   "kms:EncryptionContext:aws:logs:arn": f"arn:aws:logs:eu-west-1:{ACCOUNT}:log-group:*"}}),
               lambda d: "StringLike" in _in(d, "AllowCloudWatchLogsForTheTrailLogGroupOnly")["Condition"]),
    doc_mutant("audit-key-s3-any-topic", KEY, "audit-key",
               "S3 may use the audit key for any topic, any account",
               _cond("AllowS3ToEncryptNotificationsForThisTopic", {"StringLike": {
                   "kms:EncryptionContext:aws:sns:topicArn": "arn:aws:sns:*"}}),
               lambda d: "StringLike" in _in(d, "AllowS3ToEncryptNotificationsForThisTopic")["Condition"]),
    Mutant("key-rotation-every-two-years", "prod", KEY, "key-cmk", "rotation period 730 days",
           lambda p: p.update(rotation_period_in_days=730),
           lambda i: i.get("rotationPeriodInDays") == 730),
    Mutant("key-deletion-window-10-days", "prod", KEY, "key-cmk", "deletion window 10 days",
           lambda p: p.update(deletion_window_in_days=10),
           lambda i: i.get("deletionWindowInDays") == 10),
    # --- SNS --------------------------------------------------------------------------------
    doc_mutant("topic-publish-from-any-bucket", TOPIC_POLICY, "object-created-policy",
               "S3 may publish from any bucket of any account",
               _cond("AllowS3PublishFromTheDataBucketOnly", {"ArnLike": {"aws:SourceArn": "arn:aws:s3:::*"}}),
               lambda d: _in(d, "AllowS3PublishFromTheDataBucketOnly")["Condition"] ==
               {"ArnLike": {"aws:SourceArn": "arn:aws:s3:::*"}}),
    Mutant("topic-aws-managed-key", "prod", TOPIC, "audit-object-created", "topic uses alias/aws/sns",
           lambda p: p.update(kms_master_key_id="alias/aws/sns"),
           lambda i: i.get("kmsMasterKeyId") == "alias/aws/sns"),
    # --- IAM roles and sessions -------------------------------------------------------------------
    doc_mutant("lambda-trust-unpinned", ROLE, "access-lambda", "Lambda trust without aws:SourceAccount",
               lambda d: sid(d, "AllowServiceToAssumeRole").pop("Condition"),
               lambda d: "Condition" not in _in(d, "AllowServiceToAssumeRole"), key="assumeRolePolicy"),
    doc_mutant("uploader-mfa-dropped", ROLE, "access-uploader", "uploader trust no longer requires MFA",
               lambda d: sid(d, "AllowTaggedCallersTheirOwnTenantOnly")["Condition"].pop("Bool"),
               lambda d: "Bool" not in _in(d, "AllowTaggedCallersTheirOwnTenantOnly")["Condition"],
               key="assumeRolePolicy"),
    doc_mutant("uploader-mfa-ifexists", ROLE, "access-uploader", "uploader MFA check becomes BoolIfExists",
               _rename_operator("AllowTaggedCallersTheirOwnTenantOnly", "Bool", "BoolIfExists"),
               lambda d: "BoolIfExists" in _in(d, "AllowTaggedCallersTheirOwnTenantOnly")["Condition"],
               key="assumeRolePolicy"),
    Mutant("uploader-session-12-hours", "prod", ROLE, "access-uploader", "uploader sessions last 12 hours",
           lambda p: p.update(max_session_duration=43200),
           lambda i: i.get("maxSessionDuration") == 43200),
    doc_mutant("uploader-trusts-other-account", ROLE, "access-uploader",
               "another account's principals may assume the uploader role",
               lambda d: [s.update(Principal={"AWS": [f"arn:aws:iam::{OTHER}:root"]}) for s in d["Statement"]],
               lambda d: OTHER in str(d), key="assumeRolePolicy"),
    doc_mutant("tenant-resource-drops-slash", ROLE_POLICY, "access-tenant-prefix-access",
               "tenant objects ${tenant}* instead of ${tenant}/*",
               lambda d: sid(d, "AllowObjectAccessUnderOwnTenantPrefix").update(
                   Resource=_tenant_var(sid(d, "AllowObjectAccessUnderOwnTenantPrefix")["Resource"])),
               lambda d: _in(d, "AllowObjectAccessUnderOwnTenantPrefix")["Resource"].endswith("}*")),
    doc_mutant("tenant-list-without-prefix", ROLE_POLICY, "access-tenant-prefix-access",
               "tenant may list the whole bucket (no s3:prefix condition)",
               lambda d: sid(d, "AllowListingOwnTenantPrefixOnly").pop("Condition"),
               lambda d: "Condition" not in _in(d, "AllowListingOwnTenantPrefixOnly")),
    doc_mutant("tenant-object-star-pattern", ROLE_POLICY, "access-tenant-prefix-access",
               "tenant object actions become s3:*Object*",
               _set("AllowObjectAccessUnderOwnTenantPrefix", "Action", "s3:*Object*"),
               lambda d: _in(d, "AllowObjectAccessUnderOwnTenantPrefix")["Action"] == "s3:*Object*"),
    doc_mutant("lambda-objects-of-every-bucket", ROLE_POLICY, "access-lambda-data-access",
               "Lambda object access on securestore-prod-storage-* (covers the log bucket)",
               _set("AllowObjectReadWriteDeleteInTheDataBucket", "Resource",
                    "arn:aws:s3:::securestore-prod-storage-*/*"),
               lambda d: "storage-*/*" in _in(d, "AllowObjectReadWriteDeleteInTheDataBucket")["Resource"]),
    doc_mutant("lambda-put-star", ROLE_POLICY, "access-lambda-data-access",
               "Lambda object actions become s3:Put* and s3:GetObject",
               _set("AllowObjectReadWriteDeleteInTheDataBucket", "Action", ["s3:GetObject", "s3:Put*"]),
               lambda d: "s3:Put*" in _in(d, "AllowObjectReadWriteDeleteInTheDataBucket")["Action"]),
    doc_mutant("lambda-assume-any-role", ROLE_POLICY, "access-lambda-data-access",
               "Lambda may assume any role (sts:AssumeRole on *)",
               _set("AllowAssumingTheTenantRoleWithATenantTag", "Resource", "*"),
               lambda d: _in(d, "AllowAssumingTheTenantRoleWithATenantTag")["Resource"] == "*"),
    doc_mutant("least-privilege-write-everywhere", MANAGED_POLICY, "access-least-privilege",
               "managed policy's object read/write on Resource *",
               _set("AllowObjectReadWriteDeleteInTheDataBucket", "Resource", "*"),
               lambda d: _in(d, "AllowObjectReadWriteDeleteInTheDataBucket")["Resource"] == "*"),
    doc_mutant("ec2-decrypt-any-key", ROLE_POLICY, "access-ec2-data-access", "EC2 decrypt on every key",
               _set("AllowDecryptThroughS3Only", "Resource", "*"),
               lambda d: _in(d, "AllowDecryptThroughS3Only")["Resource"] == "*"),
    # --- CloudFront -------------------------------------------------------------------------
    Mutant("cf-default-unsigned-behind-any-function", "prod", DISTRIBUTION, "edge-distribution",
           "default behaviour drops trusted key groups and runs an unknown viewer-request function",
           lambda p: (put(p["default_cache_behavior"], "trusted_key_groups", None),
                      put(p["default_cache_behavior"], "function_associations", [{
                          "event_type": "viewer-request",
                          "function_arn": f"arn:aws:cloudfront::{ACCOUNT}:function/rewrite-index"}])),
           lambda i: not i["defaultCacheBehavior"].get("trustedKeyGroups")
           and i["defaultCacheBehavior"].get("functionAssociations")),
    Mutant("cf-public-path-without-guard", "prod", DISTRIBUTION, "edge-distribution",
           "public/* loses the path-normalization guard",
           lambda p: put(get(p["ordered_cache_behaviors"], 0), "function_associations", None),
           lambda i: not i["orderedCacheBehaviors"][0].get("functionAssociations")),
    Mutant("cf-public-path-writable", "prod", DISTRIBUTION, "edge-distribution",
           "public/* accepts PUT and POST",
           lambda p: put(get(p["ordered_cache_behaviors"], 0), "allowed_methods",
                         ["GET", "HEAD", "OPTIONS", "PUT", "POST", "PATCH", "DELETE"]),
           lambda i: "PUT" in i["orderedCacheBehaviors"][0]["allowedMethods"]),
    Mutant("cf-waf-removed", "prod", DISTRIBUTION, "edge-distribution", "no web ACL in prod",
           lambda p: p.update(web_acl_id=None), lambda i: not i.get("webAclId")),
    Mutant("cf-referrer-leaks-urls", "prod", HEADERS, "edge-security-headers", "Referrer-Policy unsafe-url",
           lambda p: put(get(p["security_headers_config"], "referrer_policy"), "referrer_policy", "unsafe-url"),
           lambda i: i["securityHeadersConfig"]["referrerPolicy"]["referrerPolicy"] == "unsafe-url"),
    # --- S3 settings --------------------------------------------------------------------------
    Mutant("cors-any-header", "prod", CORS, "storage-data-cors", "CORS allows any request header",
           lambda p: put(get(p["cors_rules"], 0), "allowed_headers", ["*"]),
           lambda i: i["corsRules"][0]["allowedHeaders"] == ["*"]),
    Mutant("cors-null-origin", "prod", CORS, "storage-data-cors", "CORS allows the null origin",
           lambda p: put(get(p["cors_rules"], 0), "allowed_origins", ["https://app.example.com", "null"]),
           lambda i: "null" in i["corsRules"][0]["allowedOrigins"]),
    Mutant("cors-wildcard-subdomain", "prod", CORS, "storage-data-cors", "CORS allows https://*.example.com",
           lambda p: put(get(p["cors_rules"], 0), "allowed_origins", ["https://*.example.com"]),
           lambda i: i["corsRules"][0]["allowedOrigins"] == ["https://*.example.com"]),
    Mutant("dev-cors-plain-http-host", "dev", CORS, "storage-data-cors",
           "dev CORS allows http://dev.app.example.com",
           lambda p: put(get(p["cors_rules"], 0), "allowed_origins",
                         ["http://localhost:3000", "http://dev.app.example.com"]),
           lambda i: "http://dev.app.example.com" in i["corsRules"][0]["allowedOrigins"]),
    Mutant("lifecycle-noncurrent-one-day", "prod", LIFECYCLE, "storage-data-lifecycle",
           "replaced versions kept 1 day",
           lambda p: update(p, "rules.1.noncurrent_version_expiration.noncurrent_days", lambda _: 1),
           lambda i: i["rules"][1]["noncurrentVersionExpiration"]["noncurrentDays"] == 1),
    Mutant("lifecycle-no-abort-multipart", "prod", LIFECYCLE, "storage-data-lifecycle",
           "abort-incomplete-multipart rule removed",
           lambda p: p.update(rules=list(p["rules"])[:2]),
           lambda i: len(i["rules"]) == 2),
    Mutant("sse-key-of-another-account", "prod", ENCRYPTION, "storage-data-encryption",
           "default encryption with another account's key",
           lambda p: put(get(get(p["rules"], 0), "apply_server_side_encryption_by_default"), "kms_master_key_id",
                         f"arn:aws:kms:eu-west-1:{OTHER}:key/0f6c1b5e-2a43-4c55-9f0e-3b1c4a2d5e6f"),
           lambda i: OTHER in i["rules"][0]["applyServerSideEncryptionByDefault"]["kmsMasterKeyId"]),
    Mutant("pab-restrict-off", "prod", PAB, "storage-data-public-access", "restrictPublicBuckets false",
           lambda p: p.update(restrict_public_buckets=False), lambda i: i["restrictPublicBuckets"] is False),
    # --- CloudTrail -----------------------------------------------------------------------------
    Mutant("trail-logging-off", "prod", TRAIL, "audit-trail", "trail logging stopped",
           lambda p: p.update(enable_logging=False), lambda i: i["enableLogging"] is False),
    Mutant("trail-single-region", "prod", TRAIL, "audit-trail", "trail in one region only",
           lambda p: p.update(is_multi_region_trail=False), lambda i: i["isMultiRegionTrail"] is False),
    Mutant("trail-no-log-validation", "prod", TRAIL, "audit-trail", "log file validation off",
           lambda p: p.update(enable_log_file_validation=False), lambda i: i["enableLogFileValidation"] is False),
    Mutant("trail-data-events-other-bucket", "prod", TRAIL, "audit-trail",
           "data events selector names another bucket",
           lambda p: update(p, "advanced_event_selectors.1.field_selectors.2.starts_withs",
                            lambda _: ["arn:aws:s3:::some-other-bucket/"]),
           lambda i: i["advancedEventSelectors"][1]["fieldSelectors"][2]["startsWiths"] ==
           ["arn:aws:s3:::some-other-bucket/"]),
]
