"""The offline engine: realistic mocks, a deterministic graph, loud failures."""

from __future__ import annotations

import re

import pytest

from securestore.offline.engine import ProgramError, evaluate_stack
from securestore.offline.mocks import RealisticMocks
from securestore.offline.project import ProjectError
from support.stack_helpers import named

import pulumi


def test_mocks_compute_realistic_fields(graph):
    """ARNs, bucket names, regional domain names and key ids look like AWS's."""
    for bucket in graph.of_type("aws:s3/bucket:Bucket"):
        name = bucket.outputs["bucket"]
        assert re.fullmatch(r"[a-z0-9][a-z0-9-]{2,62}", name)
        assert bucket.outputs["arn"] == f"arn:aws:s3:::{name}"
        assert bucket.outputs["bucketRegionalDomainName"] == f"{name}.s3.eu-west-1.amazonaws.com"
        assert bucket.id == name
    for key in graph.of_type("aws:kms/key:Key"):
        assert re.fullmatch(r"[0-9a-f]{8}-([0-9a-f]{4}-){3}[0-9a-f]{12}", key.outputs["keyId"])
        assert key.outputs["arn"] == f"arn:aws:kms:eu-west-1:123456789012:key/{key.outputs['keyId']}"


def test_no_policy_reads_an_unresolved_value(graph):
    """No input anywhere contains 'None' where an ARN or name should be."""
    for resource in graph.custom_resources():
        text = repr(resource.inputs)
        assert "None/" not in text and ":None" not in text, resource.name


def test_evaluation_is_deterministic():
    """Two runs give the same URNs, ids and inputs (stable for diffs and snapshots)."""
    first, second = evaluate_stack("dev"), evaluate_stack("dev")
    view = lambda g: sorted((r.urn, r.id, repr(r.inputs)) for r in g.resources)  # noqa: E731
    assert view(first) == view(second)


def test_urns_nest_children_under_their_component(graph):
    """URNs carry the parent type chain, as the real engine writes them."""
    bucket = named(graph, "aws:s3/bucket:Bucket", f"{graph.stack}-storage-data")
    assert bucket.urn.startswith(f"urn:pulumi:{graph.stack}::securestore::")
    assert "securestore:storage:SecureBucket$aws:s3/bucket:Bucket::" in bucket.urn


def test_exports_resolve_to_values(graph):
    exports = graph.exports
    assert exports["environment"] == graph.stack
    assert exports["bucketArn"] == f"arn:aws:s3:::{exports['bucketName']}"
    assert exports["kmsAliasName"] == f"alias/securestore-{graph.stack}"


def test_unknown_stack_is_a_clear_error():
    with pytest.raises(ProjectError, match="stack 'staging' has no Pulumi.staging.yaml"):
        evaluate_stack("staging")


def test_unknown_invoke_fails_loudly():
    """An invoke the mocks do not know is an error, never an empty answer (the data sources
    answered for public programs, securestore/offline/data_sources.py, are known; this one is not)."""
    from securestore.offline.data_sources import answer

    token = "aws:rds/getCluster:getCluster"
    assert answer(token, {}, "123456789012", "eu-west-1") is None, "pick a token nobody answers"
    mocks = RealisticMocks()
    with pytest.raises(NotImplementedError, match=token):
        mocks.call(pulumi.runtime.MockCallArgs(token, {}, ""))


def test_program_error_keeps_the_partial_graph():
    with pytest.raises(ProgramError) as caught:
        evaluate_stack("prod", config_overrides={"protect": False})
    assert "securestore:protect" in str(caught.value)
    assert caught.value.graph.stack == "prod"
