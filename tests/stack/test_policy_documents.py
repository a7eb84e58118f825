"""Policy documents: pure builders, unique Sids, and parliament-clean as deployed."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from components.policy_common import document
from support.policy_lint import lint
from support.stack_helpers import policy_of

ROOT = Path(__file__).resolve().parents[2]
BUILDER_MODULES = ["components.policy_common", "components.bucket_policies", "components.key_policies"]


def test_bucket_policies_are_parliament_clean(graph):
    """Every bucket policy the stack deploys lints clean (documented false positives aside)."""
    policies = graph.of_type("aws:s3/bucketPolicy:BucketPolicy")
    assert policies
    for resource in policies:
        assert lint(policy_of(resource), "bucket") == [], resource.name


def test_key_policy_is_parliament_clean(graph):
    for resource in graph.of_type("aws:kms/keyPolicy:KeyPolicy"):
        assert lint(policy_of(resource), "key") == [], resource.name


def test_lint_still_reports_real_problems():
    """The false-positive filter is narrow: an allow-everything policy is still reported."""
    findings = lint(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]},
        "identity",
    )
    assert any(f.issue == "RESOURCE_STAR" for f in findings)
    findings = lint(
        {
            "Version": "2012-10-17",
            "Statement": [{
                "Sid": "BadTls", "Effect": "Deny", "Principal": "*", "Action": "s3:GetObject",
                "Resource": "arn:aws:s3:::b/*",
                "Condition": {"NumericLessThan": {"s3:TlsVersion": "one point two"}},
            }],
        },
        "bucket",
    )
    assert [f.issue for f in findings] == ["MISMATCHED_TYPE"]


def test_every_statement_has_a_sid(graph):
    """Each statement says its intent in a Sid."""
    for type_ in ("aws:s3/bucketPolicy:BucketPolicy", "aws:kms/keyPolicy:KeyPolicy"):
        for resource in graph.of_type(type_):
            for st in policy_of(resource)["Statement"]:
                assert st.get("Sid"), f"{resource.name}: statement without Sid: {st}"


def test_duplicate_sids_are_refused():
    with pytest.raises(ValueError, match="Sid"):
        document([{"Sid": "A", "Effect": "Deny"}, {"Sid": "A", "Effect": "Deny"}])


@pytest.mark.parametrize("module", BUILDER_MODULES)
def test_builders_import_no_pulumi(module):
    """Builders are pure: importing one does not load Pulumi, so they lint without an engine."""
    code = f"import sys, {module}; print('pulumi' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"
