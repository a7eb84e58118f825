"""The small IAM evaluator on the rules AWS documents, each compared with principalmapper
where principalmapper models the rule the same way."""

from __future__ import annotations

import pytest

from access import pmapper
from access.evaluator import Caller, Check, _condition_matches, authorize

ACCOUNT = "123456789012"
OTHER = "210987654321"
BUCKET = "arn:aws:s3:::data"
KEY = f"arn:aws:kms:eu-west-1:{ACCOUNT}:key/0f6c1b5e-2a43-4c55-9f0e-3b1c4a2d5e6f"


def _doc(*statements):
    return {"Version": "2012-10-17", "Statement": list(statements)}


def _role(account=ACCOUNT, *statements, tags=None):
    return Caller("r", account, f"arn:aws:iam::{account}:role/r", (_doc(*statements),), tags or {})


ALLOW_GET = {"Effect": "Allow", "Action": "s3:GetObject", "Resource": f"{BUCKET}/*"}


@pytest.mark.parametrize(
    "condition,context,matches",
    [
        ({"StringNotEqualsIfExists": {"k": "v"}}, {}, True),   # IfExists: absent key -> true
        ({"StringEqualsIfExists": {"k": "v"}}, {}, True),
        ({"StringNotEquals": {"k": "v"}}, {}, True),           # negated, absent -> true
        ({"StringEquals": {"k": "v"}}, {}, False),             # positive, absent -> false
        ({"ArnNotEquals": {"k": KEY}}, {}, True),
        ({"Null": {"k": "false"}, "StringNotEquals": {"k": "v"}}, {}, False),
        ({"Null": {"k": "false"}, "StringNotEquals": {"k": "v"}}, {"k": "w"}, True),
        ({"ForAllValues:StringEquals": {"aws:TagKeys": ["a"]}}, {"aws:TagKeys": ["a", "b"]}, False),
        ({"ForAllValues:StringEquals": {"aws:TagKeys": ["a"]}}, {"aws:TagKeys": ["a"]}, True),
        ({"NumericLessThan": {"s3:TlsVersion": "1.2"}}, {"s3:TlsVersion": "1.1"}, True),
        ({"Bool": {"aws:SecureTransport": "false"}}, {"aws:SecureTransport": "true"}, False),
    ],
)
def test_condition_operators_follow_the_iam_reference(condition, context, matches):
    """Absent keys, IfExists, negation, Null, set qualifiers, numbers and booleans."""
    lowered = {k.lower(): v for k, v in context.items()}
    assert _condition_matches(condition, lowered) is matches


def test_resources_are_case_sensitive_actions_are_not():
    caller = _role(ACCOUNT, {**ALLOW_GET, "Action": "S3:getobject"})
    assert authorize(caller, Check("s3:GetObject", f"{BUCKET}/a", {}, None, ACCOUNT))
    assert not authorize(caller, Check("s3:GetObject", f"{BUCKET.upper()}/a", {}, None, ACCOUNT))


def test_a_variable_for_a_missing_tag_matches_nothing():
    statement = {**ALLOW_GET, "Resource": f"{BUCKET}/${{aws:PrincipalTag/tenant_id}}/*"}
    check = Check("s3:GetObject", f"{BUCKET}/acme/x", {}, None, ACCOUNT)
    assert authorize(_role(ACCOUNT, statement, tags={"tenant_id": "acme"}), check)
    assert not authorize(_role(ACCOUNT, statement), check)


def test_explicit_deny_in_the_resource_policy_wins():
    deny = _doc({"Effect": "Deny", "Principal": "*", "Action": "s3:GetObject", "Resource": f"{BUCKET}/*"})
    caller = _role(ACCOUNT, ALLOW_GET)
    check = Check("s3:GetObject", f"{BUCKET}/a", {}, deny, ACCOUNT)
    assert authorize(caller, check) is False is pmapper.pm_authorize(caller, check)


def test_cross_account_needs_both_identity_and_resource_policy():
    caller = _role(OTHER, ALLOW_GET)
    grant = _doc({"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{OTHER}:root"},
                  "Action": "s3:GetObject", "Resource": f"{BUCKET}/*"})
    for policy, allowed in ((_doc(), False), (grant, True)):
        check = Check("s3:GetObject", f"{BUCKET}/a", {}, policy, ACCOUNT)
        assert authorize(caller, check) is allowed is pmapper.pm_authorize(caller, check)


def test_kms_needs_the_key_policy_even_in_the_same_account():
    caller = _role(ACCOUNT, {"Effect": "Allow", "Action": "kms:Decrypt", "Resource": KEY})
    root = _doc({"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
                 "Action": "kms:Decrypt", "Resource": "*"})
    for policy, allowed in ((_doc(), False), (root, True)):
        check = Check("kms:Decrypt", KEY, {}, policy, ACCOUNT)
        assert authorize(caller, check) is allowed is pmapper.pm_authorize(caller, check)


def test_anonymous_only_through_a_public_allow():
    public = _doc({"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": f"{BUCKET}/public/*"})
    anonymous = Caller("anonymous", anonymous=True)
    for key, allowed in (("public/a", True), ("acme/a", False)):
        check = Check("s3:GetObject", f"{BUCKET}/{key}", {}, public, ACCOUNT)
        assert authorize(anonymous, check) is allowed is pmapper.pm_authorize(anonymous, check)


def test_unknown_policy_language_raises():
    """Operators and qualifiers outside the IAM reference are refused, never guessed."""
    with pytest.raises(ValueError, match="not an IAM operator"):
        _condition_matches({"StringSortOf": {"k": "v"}}, {"k": "v"})
    with pytest.raises(ValueError, match="not an IAM set operator"):
        _condition_matches({"ForSomeValues:StringEquals": {"k": "v"}}, {"k": "v"})
