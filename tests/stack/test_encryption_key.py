"""EncryptionKey: a rotated CMK, its alias, and a separate least-privilege key policy."""

from __future__ import annotations

import pytest

from components.key_policies import ADMIN_ACTIONS, S3_USE_ACTIONS
from securestore.offline.engine import evaluate_stack
from support.stack_helpers import named, policy_of, statement

KEY = "aws:kms/key:Key"
ALIAS = "aws:kms/alias:Alias"
KEY_POLICY = "aws:kms/keyPolicy:KeyPolicy"


def data_key(graph):
    return named(graph, KEY, f"{graph.stack}-key-cmk")


def data_alias(graph):
    return named(graph, ALIAS, f"{graph.stack}-key-alias")


def data_key_policy(graph):
    return named(graph, KEY_POLICY, f"{graph.stack}-key-policy")


CRYPTO_ACTIONS = {"kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:ReEncryptFrom", "kms:ReEncryptTo"}


def test_key_is_symmetric_rotated_and_keeps_the_lockout_check(graph):
    """Rotation on, symmetric encrypt/decrypt key, lockout safety check not bypassed."""
    key = data_key(graph)
    assert key.inputs["enableKeyRotation"] is True
    assert key.inputs["customerMasterKeySpec"] == "SYMMETRIC_DEFAULT"
    assert key.inputs["keyUsage"] == "ENCRYPT_DECRYPT"
    assert key.inputs.get("bypassPolicyLockoutSafetyCheck") is False
    assert "policy" not in key.inputs, "the policy must live in its own KeyPolicy resource"


def test_deletion_window_comes_from_config(graphs):
    """dev can delete its key within a week; prod keeps the full 30-day window."""
    assert data_key(graphs["dev"]).inputs["deletionWindowInDays"] == 7
    assert data_key(graphs["prod"]).inputs["deletionWindowInDays"] == 30


def test_alias_names_the_stack_and_targets_the_key(graph):
    """alias/<prefix>-<stack> points at this key (its input came from the key)."""
    alias = data_alias(graph)
    key = data_key(graph)
    assert alias.inputs["name"] == f"alias/securestore-{graph.stack}"
    assert alias.inputs["targetKeyId"] == key.outputs["keyId"]
    assert key.urn in alias.property_dependencies["targetKeyId"]


def test_key_policy_is_its_own_resource_on_this_key(graph):
    """The key policy is an aws.kms.KeyPolicy whose keyId comes from the key."""
    policy = data_key_policy(graph)
    key = data_key(graph)
    assert policy.inputs["keyId"] == key.outputs["keyId"]
    assert key.urn in policy.property_dependencies["keyId"]
    assert policy.inputs.get("bypassPolicyLockoutSafetyCheck") is False


def test_account_root_administers_but_cannot_use_the_key_directly(graph):
    """Root gets management actions only; no crypto action outside the S3-only grant."""
    document = policy_of(data_key_policy(graph))
    admin = statement(document, "AllowAccountRootToAdministerTheKey")
    assert admin["Principal"] == {"AWS": "arn:aws:iam::123456789012:root"}
    assert set(admin["Action"]) == set(ADMIN_ACTIONS)
    assert not CRYPTO_ACTIONS & set(admin["Action"])
    assert "kms:PutKeyPolicy" in admin["Action"], "root must be able to repair the policy"


def test_key_use_only_through_s3_in_this_region(graph):
    """Account principals may use the key only via S3 in the stack's region, for the data
    bucket only (encryption context = the bucket's ARN, as S3 sends it with bucket keys);
    DescribeKey, which carries no context, through S3 as well."""
    document = policy_of(data_key_policy(graph))
    use = statement(document, "AllowAccountPrincipalsToUseTheKeyThroughS3Only")
    describe = statement(document, "AllowAccountPrincipalsToDescribeTheKeyThroughS3")
    assert set(use["Action"]) | {describe["Action"]} == set(S3_USE_ACTIONS)
    assert use["Condition"]["StringEquals"]["kms:ViaService"] == "s3.eu-west-1.amazonaws.com"
    assert use["Condition"]["StringEquals"]["kms:CallerAccount"] == "123456789012"
    bucket = graph.exports["bucketArn"]
    assert use["Condition"]["StringLike"]["kms:EncryptionContext:aws:s3:arn"] == [bucket, f"{bucket}/*"]
    for other in document["Statement"]:
        if other not in (use, describe) and other["Effect"] == "Allow" and other["Principal"].get("AWS"):
            assert not CRYPTO_ACTIONS & set(other["Action"]), other["Sid"]


def test_no_statement_allows_everyone(graph):
    """No Allow to Principal "*" (or AWS "*") in the key policy (its denies name everyone)."""
    for st in [s for s in policy_of(data_key_policy(graph))["Statement"] if s["Effect"] == "Allow"]:
        principal = st["Principal"]
        assert principal != "*"
        assert "*" not in ((principal.get("AWS") or ()) if isinstance(principal, dict) else ())


def test_configured_admins_manage_the_key():
    """kmsAdminArns become a management statement; without them there is none."""
    admin = "arn:aws:iam::123456789012:role/platform-kms-admin"
    graph = evaluate_stack("dev", config_overrides={"kmsAdminArns": [admin]})
    document = policy_of(data_key_policy(graph))
    managers = statement(document, "AllowConfiguredAdminsToManageTheKey")
    assert managers["Principal"] == {"AWS": [admin]}
    assert not CRYPTO_ACTIONS & set(managers["Action"])


def test_no_admin_statement_without_admins(dev_graph):
    sids = {s["Sid"] for s in policy_of(data_key_policy(dev_graph))["Statement"]}
    assert "AllowConfiguredAdminsToManageTheKey" not in sids


@pytest.mark.parametrize("stack,kept", [("dev", False), ("prod", True)])
def test_key_is_protected_and_retained_in_prod_only(graphs, stack, kept):
    """`pulumi destroy` cannot delete the prod key; dev stays destroyable."""
    key = data_key(graphs[stack])
    assert key.protect is kept
    assert key.retain_on_delete is kept


def test_key_is_a_child_of_the_component(graph):
    component = graph.one("securestore:encryption:EncryptionKey")
    for resource in (data_key(graph), data_alias(graph), data_key_policy(graph)):
        assert resource.parent == component.urn


def test_stack_region_reaches_the_policy():
    """A stack in another region scopes kms:ViaService to that region's S3."""
    graph = evaluate_stack("dev", config_overrides={"aws:region": "ap-southeast-1"})
    use = statement(policy_of(data_key_policy(graph)), "AllowAccountPrincipalsToUseTheKeyThroughS3Only")
    assert use["Condition"]["StringEquals"]["kms:ViaService"] == "s3.ap-southeast-1.amazonaws.com"
    assert data_key(graph).outputs["arn"].startswith("arn:aws:kms:ap-southeast-1:")
