"""The attacker matrix generated from each stack's graph (``access.generated``), against the
declared access model (``components/access_model.py``).

Every resource of the graph x every IAM action AWS lists for its type x every profile
(tenant sessions as deployed and given ``s3:*``, ``kms:*``, ``sns:*``, ``logs:*``, ``iam:*``,
``sts:*``, ``*``; another tenant's session; a tagged user without the stack's boundary; the
workload roles given ``kms:*``; another account; anonymous; another distribution; the AWS
services the stack grants). The project's IAM engine is the witness: LocalStack community
enforces no IAM, bucket, key or topic policy, and moto evaluates conditions wrongly.
Each class test below filters the same cells for one class of attack.
"""

from __future__ import annotations

import pytest

from access import pmapper
from access.generated import Cell, generate, targets
from components import access_model as model
from securestore.offline.mocks import DEFAULT_ACCOUNT_ID

CONFIGURATION_TYPES = {
    "aws:s3/bucketPolicy:BucketPolicy", "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
    "aws:s3/bucketOwnershipControls:BucketOwnershipControls", "aws:s3/bucketVersioning:BucketVersioning",
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", "aws:s3/bucketLogging:BucketLogging",
    "aws:s3/bucketCorsConfiguration:BucketCorsConfiguration", "aws:s3/bucketNotification:BucketNotification",
    "aws:kms/keyPolicy:KeyPolicy", "aws:sns/topicPolicy:TopicPolicy", "aws:iam/rolePolicy:RolePolicy",
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment", "aws:cloudwatch/eventTarget:EventTarget",
    "aws:s3/inventory:Inventory",
}
"""Settings of a bucket, key, topic or role: IAM authorises them as actions on that resource
(``s3:PutBucketPolicy``, ``kms:PutKeyPolicy``, ``iam:PutRolePolicy``), which the matrix tries."""
NO_IAM_RESOURCE_TYPE = {
    "aws:cloudfront/publicKey:PublicKey", "aws:cloudfront/keyGroup:KeyGroup", "pulumi:providers:aws",
}
"""No per-resource IAM actions exist for these (CloudFront key groups and public keys are
authorised on ``*``); the provider is not an AWS resource."""


@pytest.fixture(scope="module")
def cells(graphs) -> dict[str, list[Cell]]:
    return {stack: generate(graph) for stack, graph in graphs.items()}


@pytest.fixture(params=["dev", "prod"])
def stack_cells(request, cells) -> list[Cell]:
    return cells[request.param]


def test_generated_matrix_has_no_unexpected_cell(stack_cells, capsys):
    """Every cell agrees with the access model: nobody is allowed what the model refuses,
    and the stack's own workloads are allowed what it grants."""
    unexpected = [str(c) for c in stack_cells if c.unexpected]
    with capsys.disabled():
        print(f"\ngenerated access matrix: {len(stack_cells)} cells, {len(unexpected)} unexpected")
    assert len(stack_cells) > 10_000
    assert unexpected == []


def test_matrix_covers_every_resource_of_the_graph(graph):
    """Every resource of the graph is in the matrix, configures one that is, or has no IAM
    resource type: a new resource cannot slip past."""
    covered = {t.urn_name for t in targets(graph, DEFAULT_ACCOUNT_ID)}
    missing = [f"{r.type} {r.name}" for r in graph.custom_resources()
               if r.name not in covered and r.type not in CONFIGURATION_TYPES | NO_IAM_RESOURCE_TYPE]
    assert missing == []
    stores = {t.resource for t in targets(graph, DEFAULT_ACCOUNT_ID)}
    expected = set(model.RESOURCES) - ({model.TRAIL_BUCKET, model.LOG_GROUP} if graph.stack == "dev" else set())
    assert stores == expected


def test_every_workload_is_allowed_its_purpose(stack_cells):
    """Not a deny-everything stack: each workload and service is allowed something."""
    allowed = {c.profile for c in stack_cells if c.allowed}
    assert {"tenant-acme", "uploader-acme", "lambda", "ec2", "cloudfront (this distribution)",
            "s3 logging (data bucket)", "s3 event notifications"} <= allowed


def _tagged_allowed(cells: list[Cell], *resources: str) -> list[str]:
    return [str(c) for c in cells if c.allowed and c.resource in resources
            and (c.profile.startswith(("tenant-", "uploader-", "tagged user")))]


def test_tenant_sessions_reach_no_store_beside_the_data_bucket(stack_cells):
    """Attack class: stores beside the data bucket. A tenant session given ``s3:*``,
    ``sns:*``, ``logs:*`` or ``*`` (with or without the stack's boundary) reads the access
    logs (every tenant's keys, replayable signed URLs), deletes trail log versions,
    subscribes to the upload topic or writes the trail's log group: all refused."""
    assert _tagged_allowed(stack_cells, model.LOG_BUCKET, model.TRAIL_BUCKET, model.TOPIC,
                           model.LOG_GROUP, model.DISTRIBUTION, model.AUDIT_KEY) == []


def test_nobody_running_workload_code_administers_a_key(stack_cells):
    """Attack class: key administration. A tenant session or a workload role (Lambda, EC2)
    given ``kms:*`` disables, schedules deletion of, re-policies or grants on the data key
    or the audit key: every such action is refused."""
    workloads = ("tenant-", "uploader-", "tagged user", "lambda", "ec2")
    admin = [str(c) for c in stack_cells if c.allowed and c.resource in (model.DATA_KEY, model.AUDIT_KEY)
             and c.variant in ("", "direct") and c.profile.startswith(workloads)]
    assert admin == []


def test_the_data_key_serves_s3_for_the_data_bucket_only(stack_cells):
    """Attack class: the data key used through S3 for another bucket of the account (S3
    sends that bucket's or that object's ARN as encryption context): refused to every
    profile; this bucket's objects written with the bucket key off stay readable."""
    other = [str(c) for c in stack_cells if c.allowed and c.variant.startswith("via S3 for") and "another bucket" in c.variant]
    assert other == []
    assert any(c.allowed and c.variant.endswith("(bucket key off)") and c.profile == "tenant-acme" for c in stack_cells)
    assert any(c.allowed and c.variant == "via S3 for the data bucket" and c.profile == "tenant-acme" for c in stack_cells)


def test_tenant_sessions_reach_no_other_principal(stack_cells):
    """Attack class: escalation through other principals. A tenant session given ``*``,
    ``iam:*`` or ``sts:*`` passes the Lambda or EC2 role to new compute, assumes another
    stack role, or edits its own role and boundary: refused by the stack's boundary."""
    assert _tagged_allowed(stack_cells, model.STACK_ROLES, model.TENANT_ROLE, model.OTHER) == []


def test_tenant_and_uploader_roles_carry_the_stack_boundary(graph):
    """The boundary is created by the stack and always attached to the roles tenant sessions
    run as, equal to the model's tenant grants (a configured boundary applies elsewhere)."""
    boundary = next(p for p in graph.of_type("aws:iam/policy:Policy") if p.name.endswith("-tenant-boundary"))
    roles = {r.name.rsplit("-", 1)[1]: r for r in graph.of_type("aws:iam/role:Role")}
    assert roles["tenant"].inputs["permissionsBoundary"] == boundary.outputs["arn"]
    assert roles["uploader"].inputs["permissionsBoundary"] == boundary.outputs["arn"]


def test_another_tenants_session_reaches_nothing_of_acme(stack_cells):
    """Attack class: a broker's session for another tenant (globex) aims at acme's keys."""
    assert [str(c) for c in stack_cells if c.allowed and c.profile.startswith("tenant-globex")
            and c.target.endswith("-storage-data") and c.variant.startswith("acme")] == []


@pytest.mark.parametrize("outsider", ["another account given *", "anonymous", "another distribution",
                                      "s3 logging (another bucket)"])
def test_outsiders_are_refused_everything(stack_cells, outsider):
    """Another account, anonymous callers, another CloudFront distribution and another
    bucket's log delivery: no cell of the stack allows them anything."""
    rows = [c for c in stack_cells if c.profile == outsider]
    assert rows and [str(c) for c in rows if c.allowed] == []


def _pm_gap(cell: Cell) -> str | None:
    """Why principalmapper may differ on a cell, or None where it must agree.

    * cross-account: a request from another account to a resource with no resource policy
      (IAM role, log group, distribution, ...) needs a resource policy that grants it, which
      such a resource cannot have; principalmapper judges it by the caller's own policy;
    * missing key: IAM's ``StringNotLike`` matches a missing ``s3:prefix`` (a listing without
      prefix by a tagged session is refused); principalmapper's does not (gap 3 of
      ``tests/access/test_access_matrix.py``).
    """
    if cell.caller.account not in (None, cell.check.resource_owner) and cell.check.resource_policy is None:
        return "cross-account without resource policy"
    if cell.check.action.startswith("s3:ListBucket") and "s3:prefix" not in cell.check.context:
        return "StringNotLike on a missing key"
    return None


def test_principalmapper_agrees_on_every_cell_outside_its_gaps(stack_cells):
    """The second evaluator judges the same requests: it agrees everywhere except its two
    documented gaps, and each gap is seen at least once (so the list is not stale)."""
    differ = [(c, _pm_gap(c)) for c in stack_cells if pmapper.pm_authorize(c.caller, c.check) != c.allowed]
    assert [str(c) for c, gap in differ if gap is None] == []
    assert {gap for _, gap in differ} == {"cross-account without resource policy", "StringNotLike on a missing key"}
