"""The pack's IAM engine (``policies.rules.iam_engine``): the one reading of IAM policies in
the project. Each test names the IAM rule it checks and the class of attack a wrong reading
would let through (a policy that looks restrictive but is not)."""

from __future__ import annotations

import json
import os

import pytest

from policies.rules import iam_engine as engine
from policies.rules.iam_engine import Caller, Check, _condition_matches, authorize

ACCOUNT = "123456789012"
OTHER = "210987654321"
BUCKET = "arn:aws:s3:::data"


def _doc(*statements):
    return {"Version": "2012-10-17", "Statement": list(statements)}


def test_action_table_equals_parliaments_iam_definition():
    """The shipped action list is exactly what parliament's IAM definition derives to (so
    wildcard expansion follows AWS's list, not a hand list that misses new actions)."""
    import parliament

    path = os.path.join(os.path.dirname(parliament.__file__), "iam_definition.json")
    with open(path) as handle:
        derived = engine.derive_action_table(json.load(handle))
    assert engine.action_table() == derived
    assert engine.ACTION_TABLE_PATH.read_bytes() == engine.encode_action_table(derived)


@pytest.mark.parametrize("pattern,inside,outside", [
    ("s3:*Object*", {"s3:PutObjectAcl", "s3:DeleteObjectVersion", "s3:GetObject"}, {"s3:PutBucketPolicy"}),
    ("s3:Put*", {"s3:PutBucketPolicy", "s3:PutObject", "s3:PutObjectAcl"}, {"s3:GetObject"}),
    ("S3:GETOBJECT", {"s3:GetObject"}, {"s3:GetObjectAcl"}),
    ("kms:*", {"kms:Decrypt", "kms:PutKeyPolicy"}, {"s3:GetObject"}),
])
def test_action_wildcards_expand_against_the_real_action_list(pattern, inside, outside):
    """Wildcards beyond ``*`` and ``service:*`` (privilege escalation hidden in a pattern)."""
    expanded = engine.expand_action(pattern)
    assert inside <= expanded and not (outside & expanded)


def test_access_levels_come_from_the_definition():
    assert engine.access_level("s3:PutObjectAcl") == engine.ACCESS_PERMISSIONS
    assert engine.access_level("s3:putobject") == engine.ACCESS_WRITE
    assert engine.action_info("s3:ListBucket") == ("List", ("bucket",))


def test_not_action_covers_every_other_action():
    """Allow with NotAction: everything but the listed (a deny-list that grants the world)."""
    actions = engine.statement_action_set({"Effect": "Allow", "NotAction": "s3:*"})
    assert "iam:CreateUser" in actions and "s3:GetObject" not in actions


@pytest.mark.parametrize("condition,context,matches", [
    ({"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}, {"aws:SourceIp": "10.1.2.3"}, True),
    ({"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}, {"aws:SourceIp": "11.1.2.3"}, False),
    ({"NotIpAddress": {"aws:SourceIp": "10.0.0.0/8"}}, {"aws:SourceIp": "11.1.2.3"}, True),
    ({"IpAddress": {"aws:SourceIp": "2001:db8::/32"}}, {"aws:SourceIp": "2001:db8::1"}, True),
    ({"DateLessThan": {"aws:CurrentTime": "2030-01-01T00:00:00Z"}}, {"aws:CurrentTime": "2029-06-01T00:00:00Z"}, True),
    ({"DateGreaterThan": {"aws:CurrentTime": "2030-01-01T00:00:00Z"}}, {"aws:CurrentTime": "2029-06-01T00:00:00Z"}, False),
    ({"ArnLike": {"aws:SourceArn": "arn:aws:cloudfront::123456789012:distribution/*"}},
     {"aws:SourceArn": "arn:aws:cloudfront::123456789012:distribution/E1"}, True),
    ({"ArnEquals": {"aws:SourceArn": "arn:aws:s3:::a"}}, {"aws:SourceArn": "arn:aws:s3:::b"}, False),
    ({"ForAnyValue:StringEquals": {"aws:TagKeys": ["a"]}}, {"aws:TagKeys": ["b", "a"]}, True),
    ({"ForAnyValue:StringEquals": {"aws:TagKeys": ["a"]}}, {}, False),
    ({"ForAllValues:StringEquals": {"aws:TagKeys": ["a"]}}, {}, True),
    ({"BoolIfExists": {"aws:MultiFactorAuthPresent": "true"}}, {}, True),
    ({"Bool": {"aws:MultiFactorAuthPresent": "true"}}, {}, False),
    ({"NumericLessThanIfExists": {"s3:TlsVersion": "1.2"}}, {}, True),
    ({"Null": {"k": "true"}}, {}, True),
    ({"StringEquals": {"s3:prefix": "${aws:PrincipalTag/t}/"}}, {"s3:prefix": "acme/", "aws:PrincipalTag/t": "acme"}, True),
    ({"StringLike": {"k": "${aws:PrincipalTag/t}/*"}}, {"k": "acme*/x", "aws:PrincipalTag/t": "acme*"}, True),
    ({"StringLike": {"k": "${aws:PrincipalTag/t}/*"}}, {"k": "acmex/x", "aws:PrincipalTag/t": "acme*"}, False),
])
def test_condition_operators_follow_the_iam_reference(condition, context, matches):
    """IP, date and ARN operators, set qualifiers on empty sets, IfExists on absent keys,
    variables in condition values (a literal ``*`` in a tag stays literal)."""
    lowered = {k.lower(): v for k, v in context.items()}
    assert _condition_matches(condition, lowered) is matches


def test_not_principal_allow_grants_everyone_it_does_not_name():
    """Allow with NotPrincipal: public to everyone but the named (a classic misread)."""
    policy = _doc({"Effect": "Allow", "NotPrincipal": {"AWS": f"arn:aws:iam::{ACCOUNT}:role/x"},
                   "Action": "s3:GetObject", "Resource": f"{BUCKET}/*"})
    anonymous = Caller("anonymous", anonymous=True)
    named = Caller("x", ACCOUNT, f"arn:aws:iam::{ACCOUNT}:role/x")
    assert authorize(anonymous, Check("s3:GetObject", f"{BUCKET}/a", {}, policy, ACCOUNT))
    assert not authorize(named, Check("s3:GetObject", f"{BUCKET}/a", {}, policy, ACCOUNT))
    assert engine.public_reason(policy["Statement"][0])


def test_not_principal_deny_spares_only_the_named():
    policy = _doc({"Effect": "Deny", "NotPrincipal": {"AWS": f"arn:aws:iam::{ACCOUNT}:role/admin"},
                   "Action": "s3:*", "Resource": f"{BUCKET}/*"})
    allow = _doc({"Effect": "Allow", "Action": "s3:GetObject", "Resource": f"{BUCKET}/*"})
    admin = Caller("admin", ACCOUNT, f"arn:aws:iam::{ACCOUNT}:role/admin", (allow,))
    other = Caller("other", ACCOUNT, f"arn:aws:iam::{ACCOUNT}:role/other", (allow,))
    assert authorize(admin, Check("s3:GetObject", f"{BUCKET}/a", {}, policy, ACCOUNT))
    assert not authorize(other, Check("s3:GetObject", f"{BUCKET}/a", {}, policy, ACCOUNT))


@pytest.mark.parametrize("condition,public", [
    ({}, True),
    ({"StringEquals": {"aws:SourceArn": "arn:aws:cloudfront::123456789012:distribution/E1"}}, False),
    ({"StringLike": {"aws:SourceArn": "arn:aws:cloudfront::123456789012:distribution/*"}}, True),
    ({"StringEquals": {"aws:SourceAccount": "123456789012"}}, False),
    ({"StringEqualsIfExists": {"aws:SourceAccount": "123456789012"}}, True),
    ({"StringNotEquals": {"aws:SourceAccount": "999999999999"}}, True),
    ({"StringLike": {"aws:Referer": "https://app.example.com/*"}}, True),
    ({"StringEquals": {"aws:UserAgent": "securestore"}}, True),
    ({"IpAddress": {"aws:SourceIp": "0.0.0.0/0"}}, True),
    ({"IpAddress": {"aws:SourceIp": "::/0"}}, True),
    ({"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}}, False),
    ({"StringEquals": {"aws:PrincipalOrgID": "o-abc123"}}, False),
    ({"StringEquals": {"aws:PrincipalAccount": "${aws:SourceAccount}"}}, True),
])
def test_public_means_what_s3_block_public_access_says(condition, public):
    """"The meaning of public": only fixed values of the listed keys make ``*`` non-public;
    a wildcard, a variable, IfExists, a negation, Referer/UserAgent or a /0 range do not."""
    statement = {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": f"{BUCKET}/*"}
    if condition:
        statement["Condition"] = condition
    assert (engine.public_reason(statement) is not None) is public


def test_granted_accounts_reads_principals_and_account_pins():
    assert engine.granted_accounts({"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{OTHER}:root"}}) == {OTHER}
    assert engine.granted_accounts({"Effect": "Allow", "Principal": "*", "Condition": {
        "StringEquals": {"aws:PrincipalAccount": OTHER}}}) == {OTHER}
    assert engine.granted_accounts({"Effect": "Allow", "Principal": {"Service": "s3.amazonaws.com"}, "Condition": {
        "ArnEquals": {"aws:SourceArn": f"arn:aws:sns:eu-west-1:{OTHER}:t"}}}) == {OTHER}


def test_tests_import_the_pack_engine():
    """One reading of IAM: ``access.evaluator`` is the pack's engine, not a copy."""
    from access import evaluator

    assert evaluator.authorize is engine.authorize and evaluator.Caller is engine.Caller
