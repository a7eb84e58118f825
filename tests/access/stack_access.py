"""The policy documents ``pulumi up`` would create, read from a stack's offline graph.

Nothing here is a hand-written copy: roles, their inline and attached policies, the data
bucket's policy and the key policy all come from the recorded inputs of the program run
under mocks, so the matrix tests exactly what the program builds.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Optional

from securestore.offline.graph import RecordedResource, StackGraph

ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
ROLE_POLICY_ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
MANAGED_POLICY = "aws:iam/policy:Policy"
BUCKET_POLICY = "aws:s3/bucketPolicy:BucketPolicy"
KEY_POLICY = "aws:kms/keyPolicy:KeyPolicy"
ACCESS_COMPONENT = "securestore:access:AccessRoles"
MALWARE_PLAN = "aws:guardduty/malwareProtectionPlan:MalwareProtectionPlan"

AWS_MANAGED_POLICIES: dict[str, dict] = {
    "service-role/AWSLambdaBasicExecutionRole": {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
                "Resource": "*",
            }
        ],
    }
}
"""AWS managed policies our roles attach, as AWS publishes them (they grant no S3/KMS)."""


def _document(resource: RecordedResource, key: str) -> dict[str, Any]:
    value = resource.inputs[key]
    return json.loads(value) if isinstance(value, str) else value


@dataclass(frozen=True)
class RoleDocuments:
    name: str
    """Logical role suffix: lambda, ec2, uploader, tenant."""
    arn: str
    trust: dict
    identity: tuple[dict, ...]
    boundary_arn: Optional[str]
    tags: dict


@dataclass(frozen=True)
class StackAccess:
    account: str
    region: str
    bucket_arn: str
    kms_key_arn: str
    bucket_policy: dict
    key_policy: dict
    roles: dict[str, RoleDocuments]
    managed_policy: dict
    scanner: Optional[RoleDocuments] = None
    """The GuardDuty malware protection plan's role, when the stack has a plan (the gate)."""

    @property
    def sse_algorithm(self) -> str:
        """The algorithm the bucket policy requires of uploads that name one."""
        for statement in self.bucket_policy["Statement"]:
            if statement.get("Sid") == "DenyUploadsWithAnotherEncryptionAlgorithm":
                return statement["Condition"]["StringNotEquals"]["s3:x-amz-server-side-encryption"]
        raise LookupError("the data bucket policy has no DenyUploadsWithAnotherEncryptionAlgorithm")


def _managed_document(arn: str, graph: StackGraph) -> dict:
    for policy in graph.of_type(MANAGED_POLICY):
        if policy.outputs.get("arn") == arn:
            return _document(policy, "policy")
    marker = ":iam::aws:policy/"
    if marker in arn and arn.split(marker, 1)[1] in AWS_MANAGED_POLICIES:
        return AWS_MANAGED_POLICIES[arn.split(marker, 1)[1]]
    raise LookupError(f"attached policy {arn} is neither in the graph nor a known AWS managed policy")


def stack_access(graph: StackGraph) -> StackAccess:
    component = graph.one(ACCESS_COMPONENT)
    roles: dict[str, RoleDocuments] = {}
    for role in graph.of_type(ROLE):
        if role.parent != component.urn:
            continue
        physical = role.outputs["name"]
        identity = [_document(p, "policy") for p in graph.of_type(ROLE_POLICY) if p.inputs["role"] == physical]
        identity += [
            _managed_document(a.inputs["policyArn"], graph)
            for a in graph.of_type(ROLE_POLICY_ATTACHMENT)
            if a.inputs["role"] == physical
        ]
        suffix = role.name.removeprefix(component.name + "-")
        roles[suffix] = RoleDocuments(
            name=suffix,
            arn=role.outputs["arn"],
            trust=_document(role, "assumeRolePolicy"),
            identity=tuple(identity),
            boundary_arn=role.inputs.get("permissionsBoundary"),
            tags=dict(role.inputs.get("tags") or {}),
        )
    data_policy = next(p for p in graph.of_type(BUCKET_POLICY) if p.name.endswith("-data-policy"))
    bucket_policy = _document(data_policy, "policy")
    bucket_name = data_policy.inputs["bucket"]
    bucket = next(b for b in graph.of_type("aws:s3/bucket:Bucket") if b.outputs.get("bucket") == bucket_name)
    # The data key is the one the bucket policy insists on (the stack may hold other keys).
    key_arn = next(
        s["Condition"]["ArnNotEquals"]["s3:x-amz-server-side-encryption-aws-kms-key-id"]
        for s in bucket_policy["Statement"]
        if s.get("Sid") == "DenyUploadsWithAnotherKmsKey"
    )
    key = next(k for k in graph.of_type("aws:kms/key:Key") if k.outputs.get("arn") == key_arn)
    key_policy_resource = next(
        p for p in graph.of_type(KEY_POLICY) if p.inputs.get("keyId") == key.outputs["keyId"]
    )
    _, _, _, region, account, _ = key_arn.split(":", 5)
    managed = next(p for p in graph.of_type(MANAGED_POLICY)
                   if p.parent == component.urn and p.name.endswith("-least-privilege"))
    scanner = None
    for plan in graph.of_type(MALWARE_PLAN):
        role = next(r for r in graph.of_type(ROLE) if r.outputs.get("arn") == plan.outputs["role"])
        physical = role.outputs["name"]
        scanner = RoleDocuments(
            name="scanner",
            arn=role.outputs["arn"],
            trust=_document(role, "assumeRolePolicy"),
            identity=tuple(_document(p, "policy") for p in graph.of_type(ROLE_POLICY) if p.inputs["role"] == physical),
            boundary_arn=None,
            tags=dict(role.inputs.get("tags") or {}),
        )
    return StackAccess(
        account=account,
        region=region,
        bucket_arn=bucket.outputs["arn"],
        kms_key_arn=key_arn,
        bucket_policy=bucket_policy,
        key_policy=_document(key_policy_resource, "policy"),
        roles=roles,
        managed_policy=_document(managed, "policy"),
        scanner=scanner,
    )
