"""IAM rules over managed, role-inline and inline policies and trust policies."""

from __future__ import annotations

import pytest

from test_policy_builders import ACCOUNT, SecureStack, fired, policy_json

KEY_ARN_PLACEHOLDER = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"


def _edit(stack, name, **changes):
    stack.replace(name, inputs={**stack.get(name).inputs, **changes})


def _allow(action, resource="*", **extra):
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def managed_policy_star(s):
    s.add("aws:iam/policy:Policy", "admin-policy", {"policy": policy_json(_allow("*"))})


def role_policy_service_star(s):
    _edit(s, "lambda-role-kms", policy=policy_json(_allow("s3:*", f"{s.data_bucket.outputs['arn']}/*")))


def role_inline_service_star(s):
    _edit(s, "lambda-role", inlinePolicies=[{"name": "all-s3", "policy": policy_json(_allow(["s3:GetObject", "s3:*"]))}])


def not_action_allow(s):
    s.add("aws:iam/userPolicy:UserPolicy", "user-inline", {"user": "u", "policy": policy_json(
        {"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"})})


def trust_everyone(s):
    _edit(s, "lambda-role", assumeRolePolicy=policy_json(
        {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}))


def trust_everyone_with_only_external_id(s):
    _edit(s, "lambda-role", assumeRolePolicy=policy_json(
        {"Effect": "Allow", "Principal": "*", "Action": "sts:AssumeRole",
         "Condition": {"StringEquals": {"sts:ExternalId": "secret"}}}))


def kms_decrypt_on_all_keys(s):
    _edit(s, "lambda-role-kms", policy=policy_json(_allow(["kms:Decrypt", "kms:GenerateDataKey"], "*")))


def kms_wildcard_action_on_all_keys_in_managed_policy(s):
    s.add("aws:iam/policy:Policy", "kms-policy", {"policy": policy_json(
        _allow("kms:Re*", "arn:aws:kms:eu-west-1:123456789012:key/*"))})


def kms_decrypt_on_all_keys_in_group_policy_dict(s):
    s.add("aws:iam/groupPolicy:GroupPolicy", "group-inline", {"group": "g", "policy": {
        "Version": "2012-10-17", "Statement": [_allow("kms:Decrypt", "*")]}})


CASES = {
    managed_policy_star: {"iam-no-broad-write", "iam-no-wildcard-actions", "iam-no-kms-decrypt-on-all-keys"},
    role_policy_service_star: {"iam-no-broad-write", "iam-no-wildcard-actions"},
    role_inline_service_star: {"iam-no-broad-write", "iam-no-wildcard-actions"},
    not_action_allow: {"iam-no-wildcard-actions", "iam-no-kms-decrypt-on-all-keys"},
    trust_everyone: {"iam-no-wildcard-trust"},
    trust_everyone_with_only_external_id: {"iam-no-wildcard-trust"},
    kms_decrypt_on_all_keys: {"iam-no-broad-write", "iam-no-kms-decrypt-on-all-keys"},
    kms_wildcard_action_on_all_keys_in_managed_policy: {"iam-no-broad-write", "iam-no-kms-decrypt-on-all-keys"},
    kms_decrypt_on_all_keys_in_group_policy_dict: {"iam-no-broad-write", "iam-no-kms-decrypt-on-all-keys"},
}


@pytest.mark.parametrize("breakage", list(CASES), ids=[f.__name__ for f in CASES])
def test_rule_catches_insecure_variant(breakage):
    """Each over-broad policy fires exactly the rule guarding it."""
    stack = SecureStack()
    breakage(stack)
    assert fired(stack) == CASES[breakage]


def test_trust_to_org_with_condition_is_allowed():
    """'*' narrowed to our organisation by aws:PrincipalOrgID is not a wildcard trust."""
    stack = SecureStack()
    _edit(stack, "lambda-role", assumeRolePolicy=policy_json(
        {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole",
         "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-abc123"}}}))
    assert fired(stack) == set()


def test_trust_to_named_account_role_with_external_id_is_allowed():
    stack = SecureStack()
    _edit(stack, "lambda-role", assumeRolePolicy=policy_json(
        {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:role/uploader"},
         "Action": ["sts:AssumeRole", "sts:TagSession"],
         "Condition": {"StringEquals": {"sts:ExternalId": "x"}}}))
    assert fired(stack) == set()


def test_deny_statements_may_use_wildcards():
    """A Deny with '*' narrows access; only Allow statements are judged."""
    stack = SecureStack()
    _edit(stack, "lambda-role-kms", policy=policy_json(
        {"Effect": "Deny", "Action": "*", "Resource": "*", "Condition": {"Bool": {"aws:SecureTransport": "false"}}},
        _allow("kms:Decrypt", KEY_ARN_PLACEHOLDER)))
    assert fired(stack) == set()


def test_exempt_resource_is_skipped_by_that_rule_only():
    """exemptResources silences one rule for one resource; the other rule still reports it."""
    stack = SecureStack()
    managed_policy_star(stack)
    config = {"iam-no-wildcard-actions": {"exemptResources": ["admin-policy"]}}
    assert fired(stack, config) == {"iam-no-kms-decrypt-on-all-keys", "iam-no-broad-write"}
