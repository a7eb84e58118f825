"""The real dev and prod stacks pass the whole pack, and ``securestore preview`` reports it.

The graphs come from the shared session fixture (the program run under mocks once per
stack); each stack is checked with the policy config the README passes to
``pulumi preview --policy-pack-config`` (``policies/config/<stack>.json`` when present).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from policies.rules import ALL_POLICIES
from securestore.cli import main
from securestore.offline.policy_runner import check_stack_policies

REPO = Path(__file__).resolve().parents[2]


def test_stack_has_no_policy_violations(graph):
    """Neither mandatory nor advisory: the stacks are the pack's secure reference."""
    report = check_stack_policies(graph, REPO)
    assert report.violations == [], report.format_text()
    assert report.policies_run == len(ALL_POLICIES)


def test_pack_sees_every_bucket_with_its_settings(graph):
    """Guard against a vacuous pass: the stacks do have buckets, keys and roles to judge."""
    types = {r.type for r in graph.resources}
    assert {"aws:s3/bucket:Bucket", "aws:kms/key:Key", "aws:iam/role:Role"} <= types


def test_preview_prints_the_policy_report_and_exits_zero(capsys):
    assert main(["preview", "--stack", "dev", "--project-dir", str(REPO)]) == 0
    out = capsys.readouterr().out
    assert "Policy pack securestore-storage" in out and "Policy check passed." in out


def test_preview_exits_one_on_a_mandatory_violation(tmp_path, capsys):
    """A stricter policy config (prod's 30-day key deletion window) fails dev's 7 days:
    the report names the rule, the key and the fix, and the exit status is 1."""
    config = tmp_path / "strict.json"
    config.write_text(json.dumps({"kms-key-deletion-window": {"minimumDays": 30}}))
    code = main(["preview", "-s", "dev", "--project-dir", str(REPO), "--policy-pack-config", str(config)])
    out = capsys.readouterr().out
    assert code == 1
    assert "[mandatory] kms-key-deletion-window" in out
    assert "resource:    aws:kms/key:Key" in out and "remediation: Set deletion_window_in_days" in out
    assert out.rstrip().endswith("Policy check FAILED: fix the mandatory violations above.")


def test_preview_json_includes_violations(tmp_path, capsys):
    config = tmp_path / "strict.json"
    config.write_text(json.dumps({"kms-key-deletion-window": {"minimumDays": 30}}))
    code = main(["preview", "-s", "dev", "--project-dir", str(REPO), "--json",
                 "--policy-pack-config", str(config)])
    document = json.loads(capsys.readouterr().out)
    assert code == 1
    violations = document["policy"]["violations"]
    assert document["policy"]["mandatoryViolations"] == len(violations) >= 1
    assert {(v["policy"], v["resource_type"]) for v in violations} == {("kms-key-deletion-window", "aws:kms/key:Key")}


def test_bad_policy_config_is_a_usage_error(tmp_path, capsys):
    """An unknown property in the policy config names the policy and the allowed keys."""
    config = tmp_path / "bad.json"
    config.write_text(json.dumps({"kms-key-deletion-window": {"minimumDayz": 30}}))
    assert main(["preview", "-s", "dev", "--project-dir", str(REPO), "--policy-pack-config", str(config)]) == 2
    err = capsys.readouterr().err
    assert "minimumDayz" in err and "kms-key-deletion-window" in err


REMOVED_SETTING_FIRES = {
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": "s3-bucket-has-public-access-block",
    "aws:s3/bucketOwnershipControls:BucketOwnershipControls": "s3-bucket-acls-disabled",
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration":
        "s3-bucket-default-encryption-kms",
    "aws:s3/bucketVersioning:BucketVersioning": "s3-bucket-versioning-enabled",
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration": "s3-bucket-lifecycle-abort-multipart",
    "aws:s3/bucketPolicy:BucketPolicy": "s3-bucket-policy-denies-insecure-transport",
}


@pytest.mark.parametrize("setting_type", list(REMOVED_SETTING_FIRES))
def test_real_buckets_are_joined_to_their_settings(graph, setting_type):
    """The clean pass is not vacuous: drop one kind of setting from the real graph and the
    rule that needs it reports every bucket of the stack."""
    from dataclasses import replace

    broken = replace(graph, resources=[r for r in graph.resources if r.type != setting_type])
    report = check_stack_policies(broken, REPO)
    rule = REMOVED_SETTING_FIRES[setting_type]
    buckets = {r.name for r in graph.of_type("aws:s3/bucket:Bucket")}
    assert {v.resource_name for v in report.violations if v.policy == rule} == buckets


def test_project_without_a_pack_is_a_clear_error(tmp_path):
    """A project directory with no policies/ fails naming what is missing, not with an ImportError."""
    from securestore.offline.policy_runner import load_policies

    with pytest.raises(ValueError, match="no policy pack in .*policies"):
        load_policies(tmp_path)


def test_readme_rule_table_lists_every_rule_with_controls_level_and_knobs():
    """README's rule table is the pack: every rule, its FSBP controls, level, severity, kind
    and config knobs, and no rule the pack does not have."""
    from pulumi_policy import StackValidationPolicy

    readme = (REPO / "README.md").read_text()
    rows = {}
    for line in readme.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 6 and cells[0].startswith("`") and cells[0].endswith("`") and "-" in cells[0]:
            rows[cells[0].strip("`")] = cells[1:]
    expected = {}
    for p in ALL_POLICIES:
        knobs = ", ".join(f"`{k}`" for k in (p.config_schema.properties or {}) if k != "exemptResources")
        expected[p.name] = [p.framework.reference or "-", p.enforcement_level.value, p.severity.value,
                            "stack" if isinstance(p, StackValidationPolicy) else "resource", knobs]
    assert rows == expected
