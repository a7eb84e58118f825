"""Each S3 rule catches the insecure variant it exists for, in v7, V2 and inline forms.

Every case starts from ``SecureStack`` (clean under the whole pack), breaks one thing and
expects exactly the named rule(s) to fire: a rule that never fires, or fires on the wrong
thing, fails here.
"""

from __future__ import annotations


import pytest
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE

from test_policy_builders import ACCOUNT, SecureStack, data_denies, fired, policy_json, run, tls_deny

PAB = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"


def _edit(stack: SecureStack, name: str, **changes) -> None:
    resource = stack.get(name)
    stack.replace(name, inputs={**resource.inputs, **changes})


def _data_arn(stack: SecureStack) -> str:
    return stack.data_bucket.outputs["arn"]


def no_pab(s):
    s.remove("data-bucket-public-access-block")


def pab_names_other_bucket(s):
    _edit(s, "data-bucket-public-access-block", bucket="some-other-bucket")


def pab_flag_off(s):
    _edit(s, "data-bucket-public-access-block", restrictPublicBuckets=False)


def pab_flag_missing(s):
    inputs = dict(s.get("data-bucket-public-access-block").inputs)
    del inputs["ignorePublicAcls"]
    s.replace("data-bucket-public-access-block", inputs=inputs)


def account_pab_partial(s):
    s.add("aws:s3/accountPublicAccessBlock:AccountPublicAccessBlock", "account-block",
          {"blockPublicAcls": True, "blockPublicPolicy": False})


def inline_public_acl(s):
    _edit(s, "data-bucket", acl="public-read")


def bucket_acl_resource_public(s):
    s.setting("aws:s3/bucketAclV2:BucketAclV2", "data-bucket-acl", s.data_bucket, acl="public-read-write")


def bucket_acl_public_grant(s):
    s.setting("aws:s3/bucketAcl:BucketAcl", "data-bucket-acl", s.data_bucket, accessControlPolicy={
        "owner": {"id": "owner"},
        "grants": [{"permission": "READ", "grantee": {
            "type": "Group", "uri": "http://acs.amazonaws.com/groups/global/AllUsers"}}]})


def inline_public_grants(s):
    _edit(s, "data-bucket", grants=[{"type": "Group", "permissions": ["READ"],
                                     "uri": "http://acs.amazonaws.com/groups/global/AuthenticatedUsers"}])


def no_ownership_controls(s):
    s.remove("data-bucket-ownership")


def ownership_object_writer(s):
    _edit(s, "data-bucket-ownership", rule={"objectOwnership": "ObjectWriter"})


def private_acl_resource(s):
    s.setting("aws:s3/bucketAcl:BucketAcl", "data-bucket-acl", s.data_bucket, acl="private")


def no_encryption(s):
    s.remove("data-bucket-encryption")


def sse_s3_on_data_bucket(s):
    _edit(s, "data-bucket-encryption", rules=[{"applyServerSideEncryptionByDefault": {"sseAlgorithm": "AES256"}}])


def kms_without_customer_key(s):
    _edit(s, "data-bucket-encryption", rules=[{"applyServerSideEncryptionByDefault": {"sseAlgorithm": "aws:kms"}}])


def kms_with_aws_managed_alias(s):
    _edit(s, "data-bucket-encryption", rules=[{"applyServerSideEncryptionByDefault": {
        "sseAlgorithm": "aws:kms", "kmsMasterKeyId": "alias/aws/s3"}}])


def encryption_config_v2_sse_s3(s):
    s.remove("data-bucket-encryption")
    s.setting("aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2",
              "data-bucket-encryption-v2", s.data_bucket,
              rules=[{"applyServerSideEncryptionByDefault": {"sseAlgorithm": "AES256"}}])


def inline_encryption_sse_s3(s):
    s.remove("data-bucket-encryption")
    _edit(s, "data-bucket", serverSideEncryptionConfiguration={
        "rule": {"applyServerSideEncryptionByDefault": {"sseAlgorithm": "AES256"}}})


def no_versioning(s):
    s.remove("data-bucket-versioning")


def versioning_suspended(s):
    _edit(s, "data-bucket-versioning", versioningConfiguration={"status": "Suspended"})


def versioning_v2_suspended(s):
    s.remove("data-bucket-versioning")
    s.setting("aws:s3/bucketVersioningV2:BucketVersioningV2", "data-bucket-versioning-v2", s.data_bucket,
              versioningConfiguration={"status": "Suspended"})


def inline_versioning_disabled(s):
    _edit(s, "data-bucket", versioning={"enabled": False})


def no_lifecycle(s):
    s.remove("data-bucket-lifecycle")


def lifecycle_without_abort(s):
    _edit(s, "data-bucket-lifecycle", rules=[{"id": "expire", "status": "Enabled",
                                              "expiration": {"days": 365}}])


def lifecycle_abort_disabled(s):
    _edit(s, "data-bucket-lifecycle", rules=[{"id": "abort", "status": "Disabled",
                                              "abortIncompleteMultipartUpload": {"daysAfterInitiation": 7}}])


def lifecycle_abort_only_for_a_prefix(s):
    _edit(s, "data-bucket-lifecycle", rules=[{"id": "abort", "status": "Enabled", "filter": {"prefix": "tmp/"},
                                              "abortIncompleteMultipartUpload": {"daysAfterInitiation": 7}}])


def lifecycle_abort_too_late(s):
    _edit(s, "data-bucket-lifecycle", rules=[{"id": "abort", "status": "Enabled", "filter": {},
                                              "abortIncompleteMultipartUpload": {"daysAfterInitiation": 90}}])


def no_bucket_policy(s):
    s.remove("data-bucket-policy")


def policy_without_tls_deny(s):
    _edit(s, "data-bucket-policy", policy=policy_json(*data_denies(s)[1:]))


def tls_deny_on_bucket_arn_only(s):
    statements = data_denies(s)
    statements[0]["Resource"] = _data_arn(s)
    _edit(s, "data-bucket-policy", policy=policy_json(*statements))


def public_read_policy(s):
    _edit(s, "data-bucket-policy", policy=policy_json(
        *data_denies(s),
        {"Sid": "PublicRead", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
         "Resource": f"{_data_arn(s)}/*"}))


def public_write_policy_as_dict(s):
    _edit(s, "data-bucket-policy", policy={"Version": "2012-10-17", "Statement": [
        *data_denies(s),
        {"Sid": "PublicWrite", "Effect": "Allow", "Principal": {"AWS": ["*"]}, "Action": ["s3:PutObject"],
         "Resource": f"{_data_arn(s)}/*"}]})


def cloudfront_without_source_arn(s):
    _edit(s, "data-bucket-policy", policy=policy_json(
        *data_denies(s),
        {"Sid": "AllowCloudFront", "Effect": "Allow", "Principal": {"Service": "cloudfront.amazonaws.com"},
         "Action": "s3:GetObject", "Resource": f"{_data_arn(s)}/*"}))


def not_principal_allow(s):
    _edit(s, "data-bucket-policy", policy=policy_json(
        *data_denies(s),
        {"Effect": "Allow", "NotPrincipal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
         "Action": "s3:GetObject", "Resource": f"{_data_arn(s)}/*"}))


def policy_admin_to_other_account(s):
    _edit(s, "data-bucket-policy", policy=policy_json(
        *data_denies(s),
        {"Sid": "LetPartnerRewritePolicy", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::999999999999:root"},
         "Action": "s3:PutBucketPolicy", "Resource": _data_arn(s)}))


def unparseable_policy(s):
    _edit(s, "data-bucket-policy", policy="{not json")


def inline_public_policy(s):
    _edit(s, "data-bucket", policy=policy_json(
        {"Effect": "Allow", "Principal": "*", "Action": "s3:*", "Resource": f"{_data_arn(s)}/*"}))


def website_configuration(s):
    s.setting("aws:s3/bucketWebsiteConfiguration:BucketWebsiteConfiguration", "data-bucket-website",
              s.data_bucket, indexDocument={"suffix": "index.html"})


def website_configuration_v2(s):
    s.setting("aws:s3/bucketWebsiteConfigurationV2:BucketWebsiteConfigurationV2", "data-bucket-website",
              s.data_bucket, indexDocument={"suffix": "index.html"})


def inline_website(s):
    _edit(s, "data-bucket", website={"indexDocument": "index.html"})


def cors_wildcard_put(s):
    _edit(s, "data-bucket-cors", corsRules=[{"allowedMethods": ["PUT"], "allowedOrigins": ["*"]}])


def cors_v2_wildcard_delete(s):
    s.remove("data-bucket-cors")
    s.setting("aws:s3/bucketCorsConfigurationV2:BucketCorsConfigurationV2", "data-bucket-cors-v2",
              s.data_bucket, corsRules=[{"allowedMethods": ["DELETE", "GET"], "allowedOrigins": ["*"]}])


def cors_plain_http_origin(s):
    _edit(s, "data-bucket-cors", corsRules=[{"allowedMethods": ["POST"], "allowedOrigins": ["http://app.example.com"]}])


def inline_cors_wildcard(s):
    _edit(s, "data-bucket", corsRules=[{"allowedMethods": ["POST"], "allowedOrigins": ["*"]}])


def no_access_logging(s):
    s.remove("data-bucket-logging")


def logs_to_itself(s):
    resource = s.get("data-bucket-logging")
    s.replace(resource.name, inputs={**resource.inputs, "targetBucket": s.data_bucket.outputs["bucket"]},
              property_dependencies={"bucket": (s.data_bucket.urn,), "targetBucket": (s.data_bucket.urn,)})


CASES = {
    no_pab: {"s3-bucket-has-public-access-block"},
    pab_names_other_bucket: {"s3-bucket-has-public-access-block"},
    pab_flag_off: {"s3-public-access-block-all-flags"},
    pab_flag_missing: {"s3-public-access-block-all-flags"},
    account_pab_partial: {"s3-public-access-block-all-flags"},
    inline_public_acl: {"s3-no-public-acl", "s3-bucket-acls-disabled"},
    bucket_acl_resource_public: {"s3-no-public-acl", "s3-bucket-acls-disabled"},
    bucket_acl_public_grant: {"s3-no-public-acl", "s3-bucket-acls-disabled"},
    inline_public_grants: {"s3-no-public-acl", "s3-bucket-acls-disabled"},
    no_ownership_controls: {"s3-bucket-acls-disabled"},
    ownership_object_writer: {"s3-bucket-acls-disabled"},
    private_acl_resource: {"s3-bucket-acls-disabled"},
    no_encryption: {"s3-bucket-default-encryption-kms"},
    sse_s3_on_data_bucket: {"s3-bucket-default-encryption-kms"},
    kms_without_customer_key: {"s3-bucket-default-encryption-kms"},
    kms_with_aws_managed_alias: {"s3-bucket-default-encryption-kms"},
    encryption_config_v2_sse_s3: {"s3-bucket-default-encryption-kms"},
    inline_encryption_sse_s3: {"s3-bucket-default-encryption-kms"},
    no_versioning: {"s3-bucket-versioning-enabled"},
    versioning_suspended: {"s3-bucket-versioning-enabled"},
    versioning_v2_suspended: {"s3-bucket-versioning-enabled"},
    inline_versioning_disabled: {"s3-bucket-versioning-enabled"},
    no_lifecycle: {"s3-bucket-lifecycle-abort-multipart"},
    lifecycle_without_abort: {"s3-bucket-lifecycle-abort-multipart"},
    lifecycle_abort_disabled: {"s3-bucket-lifecycle-abort-multipart"},
    lifecycle_abort_only_for_a_prefix: {"s3-bucket-lifecycle-abort-multipart"},
    lifecycle_abort_too_late: {"s3-bucket-lifecycle-abort-multipart"},
    no_bucket_policy: {"s3-bucket-policy-denies-insecure-transport", "s3-bucket-policy-denies-old-tls",
                       "s3-bucket-policy-enforces-sse-kms", "s3-bucket-policy-denies-dot-segment-keys"},
    policy_without_tls_deny: {"s3-bucket-policy-denies-insecure-transport"},
    tls_deny_on_bucket_arn_only: {"s3-bucket-policy-denies-insecure-transport"},
    public_read_policy: {"s3-bucket-policy-no-public-access"},
    public_write_policy_as_dict: {"s3-bucket-policy-no-public-access"},
    cloudfront_without_source_arn: {"s3-bucket-policy-no-public-access"},
    not_principal_allow: {"s3-bucket-policy-no-public-access"},
    policy_admin_to_other_account: {"s3-bucket-policy-no-public-access", "no-untrusted-cross-account-access"},
    unparseable_policy: {"s3-bucket-policy-no-public-access", "s3-bucket-policy-denies-insecure-transport",
                         "s3-bucket-policy-denies-old-tls"},
    inline_public_policy: {"s3-bucket-policy-no-public-access", "one-resource-policy-per-target"},
    website_configuration: {"s3-no-website-hosting"},
    website_configuration_v2: {"s3-no-website-hosting"},
    inline_website: {"s3-no-website-hosting"},
    cors_wildcard_put: {"s3-cors-no-wildcard-write"},
    cors_v2_wildcard_delete: {"s3-cors-no-wildcard-write"},
    cors_plain_http_origin: {"s3-cors-no-wildcard-write"},
    inline_cors_wildcard: {"s3-cors-no-wildcard-write"},
    no_access_logging: {"s3-bucket-access-logging"},
    logs_to_itself: {"s3-bucket-access-logging"},
}


@pytest.mark.parametrize("breakage", list(CASES), ids=[f.__name__ for f in CASES])
def test_rule_catches_insecure_variant(breakage):
    """Breaking one property of a clean stack fires exactly the rule(s) guarding it."""
    stack = SecureStack()
    breakage(stack)
    assert fired(stack) == CASES[breakage]


def test_deprecated_bucket_v2_is_joined_like_bucket():
    """A BucketV2 without a public access block or encryption is caught like a Bucket."""
    stack = SecureStack(bucket_type="aws:s3/bucketV2:BucketV2")
    stack.remove("data-bucket-public-access-block")
    stack.remove("data-bucket-encryption")
    assert fired(stack) == {"s3-bucket-has-public-access-block", "s3-bucket-default-encryption-kms"}


def test_bucket_v2_inline_list_shapes_count_as_settings():
    """BucketV2's list-shaped inline arguments (versionings, serverSideEncryptionConfigurations,
    loggings) are read, so a V2 bucket configured only inline is judged on them."""
    stack = SecureStack(bucket_type="aws:s3/bucketV2:BucketV2")
    for setting in ("versioning", "encryption", "logging"):
        stack.remove(f"data-bucket-{setting}")
    key_arn = stack.key.outputs["arn"]
    _edit(stack, "data-bucket",
          versionings=[{"enabled": True}],
          serverSideEncryptionConfigurations=[{"rules": [{"applyServerSideEncryptionByDefaults": [
              {"sseAlgorithm": "aws:kms", "kmsMasterKeyId": key_arn}]}]}],
          loggings=[{"targetBucket": stack.log_bucket.outputs["bucket"]}])
    assert fired(stack) == set()
    _edit(stack, "data-bucket", versionings=[{"enabled": False}])
    assert fired(stack) == {"s3-bucket-versioning-enabled"}


def test_sse_s3_is_accepted_only_on_a_bucket_that_receives_logs():
    """log-bucket (AES256) passes while logs are delivered to it; once nothing delivers
    logs there it is a data bucket and must use our KMS key, unless named in logBuckets."""
    stack = SecureStack()
    assert "s3-bucket-default-encryption-kms" not in fired(stack)
    stack.remove("data-bucket-logging")
    stack.remove("edge-log-dest")
    violations = [v for v in run(stack).violations if v.policy == "s3-bucket-default-encryption-kms"]
    assert [v.resource_name for v in violations] == ["log-bucket"]
    config = {"s3-bucket-default-encryption-kms": {"logBuckets": ["log-bucket"]}}
    assert "s3-bucket-default-encryption-kms" not in fired(stack, config)


def test_exemption_by_resource_name_silences_only_that_bucket():
    """exemptResources lists logical names; other buckets are still checked."""
    stack = SecureStack()
    stack.remove("data-bucket-versioning")
    stack.remove("log-bucket-versioning")
    report = run(stack, {"s3-bucket-versioning-enabled": {"exemptResources": ["log-bucket"]}})
    assert [v.resource_name for v in report.violations] == ["data-bucket"]


def test_cors_allowed_origins_knob():
    """With allowedOrigins configured, a write rule naming another HTTPS origin is caught."""
    stack = SecureStack()
    config = {"s3-cors-no-wildcard-write": {"allowedOrigins": ["https://other.example.com"]}}
    assert "s3-cors-no-wildcard-write" in fired(stack, config)
    config = {"s3-cors-no-wildcard-write": {"allowedOrigins": ["https://app.example.com"]}}
    assert "s3-cors-no-wildcard-write" not in fired(stack, config)


def test_loopback_http_origin_is_allowed_for_local_development():
    """http://localhost:3000 (dev front end) is not a network origin; http://host is."""
    stack = SecureStack()
    _edit(stack, "data-bucket-cors", corsRules=[{"allowedMethods": ["PUT"],
                                                 "allowedOrigins": ["http://localhost:3000"]}])
    assert fired(stack) == set()


def test_unknown_values_never_crash_and_are_not_guessed():
    """Unknown flags (preview) neither crash a rule nor count as a violation."""
    stack = SecureStack()
    _edit(stack, "data-bucket-public-access-block", blockPublicAcls=UNKNOWN_STRING_VALUE)
    _edit(stack, "data-bucket-policy", policy=UNKNOWN_STRING_VALUE)
    _edit(stack, "data-bucket-encryption", rules=UNKNOWN_STRING_VALUE)
    report = run(stack)
    assert {v.policy for v in report.violations} <= {"s3-bucket-default-encryption-kms"}


def test_remediation_turns_on_all_four_flags():
    """With enforcementLevel 'remediate', the block is rewritten and then passes."""
    stack = SecureStack()
    _edit(stack, "data-bucket-public-access-block", blockPublicPolicy=False, ignorePublicAcls=False)
    report = run(stack, {"s3-public-access-block-all-flags": "remediate"})
    assert [v.policy for v in report.violations] == []
    [remediation] = report.remediations
    assert remediation.changed == ("blockPublicPolicy", "ignorePublicAcls")


def test_violation_names_resource_and_remediation():
    """The report line a user reads names the rule, the bucket and how to fix it."""
    stack = SecureStack()
    stack.remove("data-bucket-public-access-block")
    [violation] = run(stack).violations
    assert violation.policy == "s3-bucket-has-public-access-block"
    assert violation.enforcement == "mandatory" and violation.severity == "critical"
    assert violation.resource_type == "aws:s3/bucket:Bucket" and violation.resource_name == "data-bucket"
    assert "S3.8" in violation.controls
    assert "BucketPublicAccessBlock" in violation.remediation and "restrict_public_buckets" in violation.remediation


def test_v2_lifecycle_and_logging_resources_are_joined():
    """BucketLifecycleConfigurationV2 and BucketLoggingV2 satisfy (and can break) the same rules."""
    stack = SecureStack()
    lifecycle, logging = stack.get("data-bucket-lifecycle"), stack.get("data-bucket-logging")
    stack.remove(lifecycle.name)
    stack.remove(logging.name)
    stack.add("aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2", "lifecycle-v2",
              lifecycle.inputs, deps={"bucket": [stack.data_bucket]})
    stack.add("aws:s3/bucketLoggingV2:BucketLoggingV2", "logging-v2", logging.inputs,
              deps={"bucket": [stack.data_bucket], "targetBucket": [stack.log_bucket]})
    assert fired(stack) == set()
    _edit(stack, "lifecycle-v2", rules=[{"id": "x", "status": "Enabled", "expiration": {"days": 30}}])
    assert fired(stack) == {"s3-bucket-lifecycle-abort-multipart"}


def test_inline_lifecycle_rules_and_logging_on_bucket():
    """The deprecated inline lifecycleRules/logging arguments of Bucket are judged too."""
    stack = SecureStack()
    stack.remove("data-bucket-lifecycle")
    stack.remove("data-bucket-logging")
    _edit(stack, "data-bucket", lifecycleRules=[{"enabled": True, "abortIncompleteMultipartUploadDays": 3}],
          logging={"targetBucket": stack.log_bucket.outputs["bucket"], "targetPrefix": "s3/"})
    assert fired(stack) == set()
    _edit(stack, "data-bucket", lifecycleRules=[{"enabled": True, "prefix": "tmp/",
                                                 "abortIncompleteMultipartUploadDays": 3}])
    assert fired(stack) == {"s3-bucket-lifecycle-abort-multipart"}


def test_unparseable_bucket_policy_is_reported_as_unverifiable():
    """Garbage policy text is reported as such, not mistaken for a missing policy."""
    stack = SecureStack()
    _edit(stack, "data-bucket-policy", policy="{not json")
    problems = {v.policy: v.problem for v in run(stack).violations}
    assert "not valid JSON" in problems["s3-bucket-policy-no-public-access"]
    assert "not valid JSON" in problems["s3-bucket-policy-denies-insecure-transport"]


PUBLIC_READ = {name: {"publicReadResources": ["data-bucket-policy", "data-bucket-public-access-block"]}
               for name in ("s3-bucket-policy-no-public-access", "s3-public-access-block-all-flags")}


def _public(s, action):
    _edit(s, "data-bucket-policy", policy=policy_json(
        *data_denies(s), {"Sid": "PublicWebsite", "Effect": "Allow", "Principal": "*", "Action": action,
                          "Resource": f"{_data_arn(s)}/*"}))
    _edit(s, "data-bucket-public-access-block", blockPublicPolicy=False, restrictPublicBuckets=False)


def test_a_declared_public_read_bucket_passes_without_turning_the_rule_off():
    """A deliberately public website bucket is declared per resource (publicReadResources):
    anonymous object reads pass, and the rules still run on it."""
    stack = SecureStack()
    _public(stack, "s3:GetObject")
    assert {"s3-bucket-policy-no-public-access", "s3-public-access-block-all-flags"} <= fired(stack)
    assert not {"s3-bucket-policy-no-public-access", "s3-public-access-block-all-flags"} & fired(stack, PUBLIC_READ)


@pytest.mark.parametrize("action", ["s3:PutObject", "s3:Get*", "s3:ListBucket", "s3:*"])
def test_a_declared_public_read_bucket_still_refuses_more_than_object_reads(action):
    """Attack class: a 'public website' declaration used to open writes, listing or ACL reads."""
    stack = SecureStack()
    _public(stack, action)
    assert "s3-bucket-policy-no-public-access" in fired(stack, PUBLIC_READ)


def test_a_declared_public_read_bucket_keeps_acls_blocked():
    stack = SecureStack()
    _public(stack, "s3:GetObject")
    _edit(stack, "data-bucket-public-access-block", blockPublicAcls=False)
    assert "s3-public-access-block-all-flags" in fired(stack, PUBLIC_READ)


def test_messages_name_values_not_none():
    """Messages say what was found: an unset flag reads 'unset (false)', never None."""
    stack = SecureStack()
    inputs = dict(stack.get("data-bucket-public-access-block").inputs)
    del inputs["ignorePublicAcls"]
    stack.replace("data-bucket-public-access-block", inputs=inputs)
    problems = [v.problem for v in run(stack).violations]
    assert problems and all("None" not in p for p in problems)
    assert any("ignorePublicAcls='unset (false)'" in p for p in problems)
