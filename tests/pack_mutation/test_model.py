"""The pack's security model: shipped AWS-managed policies, reach through the one engine.

Attack class: a grant that opens a path to a store (an attached AWS-managed policy, a
public or cross-account statement, a role an outsider can assume) in a form no rule
pattern describes. moto and LocalStack are not witnesses here (they do not enforce IAM);
the pack's IAM engine is.
"""

from __future__ import annotations

import json

import pytest

from policies.rules import managed

from .graph_mutants import OTHER, GraphMutant, add_resource, edit_document, report, resource


def test_shipped_managed_policies_equal_motos_snapshot():
    """The data file is derived, not hand-kept: it equals moto's AWS-managed policy data."""
    moto_data = pytest.importorskip("moto.iam.aws_managed_policies")
    table = managed.derive_managed_table(json.loads(moto_data.aws_managed_policies_data))
    assert managed.encode_managed_table(table) == managed.MANAGED_POLICIES_PATH.read_bytes()
    s3_full = managed.managed_policy("arn:aws:iam::aws:policy/AmazonS3FullAccess")
    assert s3_full is not None and s3_full.version and s3_full.updated


def _attach(stack: str, role_suffix: str, policy: str) -> GraphMutant:
    def edit(graph):
        role = next(r for r in graph.resources if r.type == "aws:iam/role:Role" and r.name.endswith(role_suffix))
        add_resource(graph, "aws:iam/rolePolicyAttachment:RolePolicyAttachment", f"{role.name}-extra",
                     {"role": role.outputs.get("name") or role.name, "policyArn": managed.managed_arn(policy)})
    return GraphMutant(f"{stack}-{role_suffix}-{policy}", stack, f"attach {policy}", edit)


@pytest.mark.parametrize("policy", ["AmazonS3FullAccess", "AmazonS3ReadOnlyAccess", "PowerUserAccess"])
def test_attaching_an_aws_managed_policy_with_data_access_is_reached(policy):
    """The read-only EC2 role given an AWS-managed policy reaches beyond the access model."""
    outcome = report(_attach("prod", "access-ec2", policy))
    assert any(v.policy == "model-who-can-reach" and v.mandatory for v in outcome.violations), \
        outcome.format_text()


def test_key_administration_attached_to_a_workload_role_reaches_nothing():
    """AWSKeyManagementServicePowerUser on the EC2 role: the data and audit key policies deny
    the workload roles every action but their S3 use (issue 22), so nothing is reached."""
    outcome = report(_attach("prod", "access-ec2", "AWSKeyManagementServicePowerUser"))
    assert not any(v.policy == "model-who-can-reach" for v in outcome.violations), outcome.format_text()


def test_an_outsider_that_can_assume_a_role_reaches_what_the_role_reaches():
    """Trust chain: the uploader's trust names another account; that account's principals
    reach the data bucket through it (the message names the path)."""
    def edit(graph):
        role = next(r for r in graph.resources if r.name.endswith("access-uploader"))
        edit_document(graph, role.name, ("assumeRolePolicy",), lambda d: [
            s.update(Principal={"AWS": f"arn:aws:iam::{OTHER}:root"}) for s in d["Statement"]])
    outcome = report(GraphMutant("uploader-trusts-other", "prod", "trust another account", edit))
    found = [v for v in outcome.violations if v.policy == "model-who-can-reach"]
    assert any(OTHER in v.problem and "assumes role" in v.problem for v in found), outcome.format_text()


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_pack_access_model_is_derived_from_the_declared_one(stack):
    """policies/config/<stack>.json carries components/access_model.py, not a hand copy."""
    from .access_config import REPO, RULE, expected_config

    config = json.loads((REPO / "policies" / "config" / f"{stack}.json").read_text())
    assert config[RULE] == expected_config(stack)


def test_a_public_function_url_lends_its_role_to_anyone():
    """Compute exposure: a function running as the Lambda role, behind a function URL with
    auth NONE, lets anonymous callers act with the role's access to the data bucket."""
    def edit(graph):
        role = next(r for r in graph.resources if r.type == "aws:iam/role:Role" and r.name.endswith("access-lambda"))
        arn = "arn:aws:lambda:eu-west-1:123456789012:function:exposed"
        add_resource(graph, "aws:lambda/function:Function", "exposed",
                     {"role": role.outputs["arn"], "runtime": "python3.12", "handler": "h.main"},
                     outputs={"arn": arn, "name": "exposed"})
        add_resource(graph, "aws:lambda/functionUrl:FunctionUrl", "exposed-url",
                     {"functionName": "exposed", "authorizationType": "NONE"})
    outcome = report(GraphMutant("function-url", "prod", "public function URL", edit))
    found = [v for v in outcome.violations if v.policy == "model-who-can-reach" and "anonymous" in v.problem]
    assert any("invokes function" in v.problem and "storage-data" in v.problem for v in found), \
        outcome.format_text()


def test_a_kms_grant_to_another_account_is_reach():
    """KMS grants are access like key-policy statements: a grant to another account's role."""
    def edit(graph):
        key = next(r for r in graph.resources if r.type == "aws:kms/key:Key" and r.name.endswith("key-cmk"))
        add_resource(graph, "aws:kms/grant:Grant", "partner-grant",
                     {"keyId": key.outputs["arn"], "granteePrincipal": f"arn:aws:iam::{OTHER}:role/partner",
                      "operations": ["Decrypt"]})
    outcome = report(GraphMutant("kms-grant", "prod", "grant", edit))
    assert any(v.policy == "model-who-can-reach" and "kms:Decrypt" in v.problem for v in outcome.violations), \
        outcome.format_text()


def test_a_service_of_the_program_may_do_only_what_its_class_may():
    """CloudFront, for this program's own distribution, is a principal too: letting it write
    to the data bucket (s3:PutObject added to its read grant) is a reach the access model
    (cloudfront: s3:GetObject) does not grant."""
    def edit(graph):
        policy = next(r for r in graph.resources if r.name.endswith("storage-data-policy"))
        edit_document(graph, policy.name, ("policy",), lambda d: [
            s.update(Action=["s3:GetObject", "s3:PutObject"]) for s in d["Statement"]
            if s.get("Sid") == "AllowCloudFrontReadForThisDistribution"])
    outcome = report(GraphMutant("cloudfront-put", "prod", "CloudFront may write", edit))
    assert any(v.policy == "model-who-can-reach" and "svc:cloudfront.amazonaws.com" in v.problem
               and "s3:PutObject" in v.problem for v in outcome.violations), outcome.format_text()
