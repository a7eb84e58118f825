"""SNS and CloudTrail rules."""

from __future__ import annotations

import pytest

from test_policy_builders import SecureStack, fired, policy_json


def _edit(stack, name, **changes):
    stack.replace(name, inputs={**stack.get(name).inputs, **changes})


def _without(stack, name, key):
    inputs = dict(stack.get(name).inputs)
    del inputs[key]
    stack.replace(name, inputs=inputs)


def topic_unencrypted(s):
    _without(s, "uploads-topic", "kmsMasterKeyId")


def topic_policy_public(s):
    _edit(s, "uploads-topic-policy", policy=policy_json(
        {"Effect": "Allow", "Principal": "*", "Action": "sns:Subscribe", "Resource": "*"}))


def topic_policy_s3_without_source(s):
    _edit(s, "uploads-topic-policy", policy=policy_json(
        {"Effect": "Allow", "Principal": {"Service": "s3.amazonaws.com"}, "Action": "sns:Publish", "Resource": "*"}))


def topic_inline_policy_public(s):
    _edit(s, "uploads-topic", policy=policy_json(
        {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sns:Publish", "Resource": "*"}))


def trail_single_region(s):
    _edit(s, "audit-trail", isMultiRegionTrail=False)


def trail_without_kms(s):
    _without(s, "audit-trail", "kmsKeyId")


def trail_without_validation(s):
    _without(s, "audit-trail", "enableLogFileValidation")


CASES = {
    topic_unencrypted: {"sns-topic-encrypted"},
    topic_policy_public: {"sns-topic-policy-not-public"},
    topic_policy_s3_without_source: {"sns-topic-policy-not-public"},
    topic_inline_policy_public: {"one-resource-policy-per-target", "sns-topic-policy-not-public"},
    trail_single_region: {"cloudtrail-multi-region"},
    trail_without_kms: {"cloudtrail-kms-encryption"},
    trail_without_validation: {"cloudtrail-log-file-validation"},
}


@pytest.mark.parametrize("breakage", list(CASES), ids=[f.__name__ for f in CASES])
def test_rule_catches_insecure_variant(breakage):
    stack = SecureStack()
    breakage(stack)
    assert fired(stack) == CASES[breakage]
