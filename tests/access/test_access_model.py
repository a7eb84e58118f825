"""The declared access model (``components/access_model.py``) is well-formed, and the
documents the stack builds grant what it declares: the roles' S3/KMS action sets come from
it, so a grant added to a role without the model (or the other way round) fails here."""

from __future__ import annotations

import pytest

from components import access_model as model
from components import role_policies
from policies.rules import iam_engine

BUCKET = "arn:aws:s3:::data"
KEY = "arn:aws:kms:eu-west-1:123456789012:key/11111111-2222-3333-4444-555555555555"


def test_every_class_and_resource_of_the_model_is_declared():
    """A grant to an undeclared class or resource would never be checked by the matrix."""
    assert set(model.MODEL) == set(model.RESOURCES)
    for row in model.MODEL.values():
        assert set(row) <= set(model.PRINCIPALS)


def test_every_action_of_the_model_is_an_iam_action():
    """A misspelt action in the model would grant nothing and deny nothing."""
    unknown = [a for row in model.MODEL.values() for gs in row.values() for g in gs for a in g.actions
               if not iam_engine.expand_action(a) or not all(iam_engine.action_info(x) for x in iam_engine.expand_action(a))]
    assert unknown == []


def _granted(document: dict, resource_prefix: str) -> set[str]:
    return {a for s in document["Statement"] if s["Effect"] == "Allow"
            for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])
            if str(s["Resource"]).startswith(resource_prefix)}


@pytest.mark.parametrize("builder,klass", [
    (role_policies.tenant_policy, model.TENANT),
    (role_policies.uploader_policy, model.UPLOADER),
    (role_policies.lambda_policy, model.BACKEND),
])
def test_role_documents_grant_exactly_the_model(builder, klass):
    """The tenant, uploader and Lambda documents grant the model's S3 and KMS actions."""
    document = builder(bucket_arn=BUCKET, kms_key_arn=KEY, region="eu-west-1")
    assert _granted(document, BUCKET) == set(model.actions_of(model.DATA_BUCKET, klass))
    assert _granted(document, KEY) == set(model.actions_of(model.DATA_KEY, klass))


def test_ec2_read_only_grants_exactly_the_model():
    document = role_policies.ec2_policy(mode="read-only", bucket_arn=BUCKET, kms_key_arn=KEY, region="eu-west-1")
    assert _granted(document, BUCKET) == set(model.actions_of(model.DATA_BUCKET, model.BACKEND_READ_ONLY))
    assert _granted(document, KEY) == set(model.actions_of(model.DATA_KEY, model.BACKEND_READ_ONLY))


@pytest.mark.parametrize("key,tenant,expected", [
    ("acme/x", "acme", True), ("globex/x", "acme", False), ("acme-evil/x", "acme", False),
    ("acme/x", None, False), (None, "acme", False),
])
def test_own_prefix_scope_is_byte_exact(key, tenant, expected):
    assert model.allowed(model.DATA_BUCKET, model.TENANT, "s3:GetObject", key=key, tenant=tenant) is expected


def test_via_s3_grants_never_hold_for_direct_calls():
    """Tenant sessions use the data key only through S3: a direct kms:Decrypt is refused."""
    assert model.allowed(model.DATA_KEY, model.TENANT, "kms:Decrypt", via="s3")
    assert not model.allowed(model.DATA_KEY, model.TENANT, "kms:Decrypt")


def test_tagged_sessions_are_granted_nothing_beside_the_data_bucket_and_key():
    """The promise of issue 22 in one line of the model: logs, trail, topic, audit key,
    log group, distribution and the stack's roles grant tenant sessions nothing."""
    for resource in model.RESOURCES:
        if resource in (model.DATA_BUCKET, model.DATA_KEY):
            continue
        assert not any(model.grants(resource, klass) for klass in model.TAGGED_CLASSES), resource


def test_readme_isolation_table_is_the_model():
    """README's "Who may do what to which store" table is ``markdown_table()`` of the model:
    a grant changed in one place and not the other fails here."""
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    begin, end = "<!-- access-model:begin -->\n", "\n<!-- access-model:end -->"
    assert readme.count(begin) == 1 and readme.count(end) == 1
    assert readme.split(begin, 1)[1].split(end, 1)[0] == model.markdown_table(), \
        "README's table differs from the model: rewrite it with python -m tests.access.test_access_model"


def rewrite_readme_table() -> None:
    """Put ``markdown_table()`` between the README's markers (after a deliberate model change)."""
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / "README.md"
    text = path.read_text(encoding="utf-8")
    begin, end = "<!-- access-model:begin -->\n", "\n<!-- access-model:end -->"
    head, rest = text.split(begin, 1)
    path.write_text(head + begin + model.markdown_table() + end + rest.split(end, 1)[1], encoding="utf-8")


if __name__ == "__main__":
    rewrite_readme_table()
