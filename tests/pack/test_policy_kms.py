"""KMS rules: rotation, public key policies, deletion window, lockout-safety bypass."""

from __future__ import annotations

import pytest

from test_policy_builders import ACCOUNT, SecureStack, fired, policy_json, run


def _edit(stack, name, **changes):
    stack.replace(name, inputs={**stack.get(name).inputs, **changes})


def rotation_off(s):
    _edit(s, "data-key", enableKeyRotation=False)


def rotation_unset(s):
    inputs = dict(s.get("data-key").inputs)
    del inputs["enableKeyRotation"]
    s.replace("data-key", inputs=inputs)


def public_key_policy(s):
    _edit(s, "data-key-policy", policy=policy_json(
        {"Sid": "Everyone", "Effect": "Allow", "Principal": "*", "Action": "kms:Decrypt", "Resource": "*"}))


def wildcard_account_principal(s):
    _edit(s, "data-key-policy", policy=policy_json(
        {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::*:root"}, "Action": "kms:*", "Resource": "*"}))


def inline_key_policy_public(s):
    _edit(s, "data-key", policy=policy_json(
        {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "kms:Decrypt", "Resource": "*"}))


def service_grant_without_source(s):
    _edit(s, "data-key-policy", policy=policy_json(
        {"Sid": "AllowCloudFront", "Effect": "Allow", "Principal": {"Service": "cloudfront.amazonaws.com"},
         "Action": "kms:Decrypt", "Resource": "*"}))


def short_deletion_window(s):
    _edit(s, "data-key", deletionWindowInDays=5)


def key_bypasses_lockout_check(s):
    _edit(s, "data-key", bypassPolicyLockoutSafetyCheck=True)


def key_policy_bypasses_lockout_check(s):
    _edit(s, "data-key-policy", bypassPolicyLockoutSafetyCheck=True)


CASES = {
    rotation_off: {"kms-key-rotation-enabled"},
    rotation_unset: {"kms-key-rotation-enabled"},
    public_key_policy: {"kms-key-policy-least-privilege", "kms-key-policy-not-public"},
    wildcard_account_principal: {"kms-key-policy-least-privilege", "kms-key-policy-not-public"},
    inline_key_policy_public: {"kms-key-policy-least-privilege", "one-resource-policy-per-target", "kms-key-policy-not-public"},
    service_grant_without_source: {"kms-key-policy-not-public"},
    short_deletion_window: {"kms-key-deletion-window"},
    key_bypasses_lockout_check: {"kms-no-lockout-safety-bypass"},
    key_policy_bypasses_lockout_check: {"kms-no-lockout-safety-bypass"},
}


@pytest.mark.parametrize("breakage", list(CASES), ids=[f.__name__ for f in CASES])
def test_rule_catches_insecure_variant(breakage):
    """Breaking one property of the key fires exactly the rule guarding it."""
    stack = SecureStack()
    breakage(stack)
    assert fired(stack) == CASES[breakage]


def test_restricted_principal_wildcard_is_not_public():
    """'*' narrowed by kms:CallerAccount + kms:ViaService (the S3-only grant) is not public."""
    stack = SecureStack()
    _edit(stack, "data-key-policy", policy=policy_json(
        {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
         "Resource": "*", "Condition": {"StringEquals": {"kms:CallerAccount": ACCOUNT,
                                                         "kms:ViaService": "s3.eu-west-1.amazonaws.com"}}}))
    assert fired(stack) == set()


def test_if_exists_condition_does_not_restrict():
    """StringEqualsIfExists passes requests that lack the key, so it restricts nothing."""
    stack = SecureStack()
    _edit(stack, "data-key-policy", policy=policy_json(
        {"Effect": "Allow", "Principal": "*", "Action": "kms:Decrypt", "Resource": "*",
         "Condition": {"StringEqualsIfExists": {"aws:SourceAccount": ACCOUNT}}}))
    assert fired(stack) == {"kms-key-policy-not-public", "kms-key-policy-least-privilege"}


def test_asymmetric_key_needs_no_rotation():
    """Rotation applies to symmetric keys only (AWS cannot rotate asymmetric ones)."""
    stack = SecureStack()
    _edit(stack, "data-key", enableKeyRotation=False, customerMasterKeySpec="RSA_2048", keyUsage="SIGN_VERIFY")
    assert fired(stack) == set()


def test_unset_deletion_window_is_aws_default_thirty_days():
    """No deletionWindowInDays means AWS's 30, which meets even a prod minimum of 30."""
    stack = SecureStack()
    inputs = dict(stack.get("data-key").inputs)
    del inputs["deletionWindowInDays"]
    stack.replace("data-key", inputs=inputs)
    assert fired(stack, {"kms-key-deletion-window": {"minimumDays": 30}}) == set()


def test_deletion_window_minimum_is_configurable():
    """A 7-day window passes the default minimum and fails a prod minimum of 30."""
    stack = SecureStack()
    _edit(stack, "data-key", deletionWindowInDays=7)
    assert fired(stack) == set()
    assert fired(stack, {"kms-key-deletion-window": {"minimumDays": 30}}) == {"kms-key-deletion-window"}


def test_remediation_turns_rotation_on():
    """enforcementLevel 'remediate' rewrites enableKeyRotation and the key then passes."""
    stack = SecureStack()
    _edit(stack, "data-key", enableKeyRotation=False)
    report = run(stack, {"kms-key-rotation-enabled": "remediate"})
    assert report.violations == []
    assert [(r.policy, r.changed) for r in report.remediations] == [("kms-key-rotation-enabled", ("enableKeyRotation",))]


def test_service_confined_by_encryption_context_arn_is_not_public():
    """CloudWatch Logs confined to our log group by kms:EncryptionContext:aws:logs:arn (AWS's
    documented key-policy pattern) is restricted; the same grant without it is not."""
    stack = SecureStack()
    group = f"arn:aws:logs:eu-west-1:{ACCOUNT}:log-group:/securestore/trail"
    statement = {"Sid": "Logs", "Effect": "Allow", "Principal": {"Service": "logs.eu-west-1.amazonaws.com"},
                 "Action": ["kms:Encrypt*", "kms:Decrypt*"], "Resource": "*",
                 "Condition": {"ArnEquals": {"kms:EncryptionContext:aws:logs:arn": group}}}
    _edit(stack, "data-key-policy", policy=policy_json(statement))
    assert fired(stack) == set()
    del statement["Condition"]
    _edit(stack, "data-key-policy", policy=policy_json(statement))
    assert fired(stack) == {"kms-key-policy-not-public"}
