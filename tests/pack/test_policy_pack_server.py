"""The pack as the Pulumi CLI runs it: ``python -m pulumi.policy <engine> policies``.

No Pulumi CLI exists here, so this plays the CLI's side of the analyzer gRPC protocol
against the real ``PolicyPack`` server started from ``policies/__main__.py``: the pack
must load from its own directory (``rules`` on ``sys.path``), describe every policy with
its enforcement level, severity and config schema, and return violations for insecure
resources through ``Analyze`` and ``AnalyzeStack``.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

grpc = pytest.importorskip("grpc")
from google.protobuf import empty_pb2, struct_pb2  # noqa: E402
from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc  # noqa: E402

from policies.rules import ALL_POLICIES, PACK_NAME  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
STARTUP_TIMEOUT_SECONDS = 60
STACK_URN = "urn:pulumi:t::p::pulumi:pulumi:Stack::p-t"


def _urn(type_: str, name: str) -> str:
    return f"urn:pulumi:t::p::{type_}::{name}"


def _struct(props: dict) -> struct_pb2.Struct:
    message = struct_pb2.Struct()
    message.update(props)
    return message


@pytest.fixture(scope="module")
def analyzer():
    process = subprocess.Popen(
        [sys.executable, "-u", "-m", "pulumi.policy", "127.0.0.1:1", str(REPO / "policies")],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        port_line = process.stdout.readline().strip()
        if not port_line.isdigit():
            process.kill()
            pytest.fail(f"pack did not start: {port_line!r} {process.stderr.read()[-2000:]}")
        channel = grpc.insecure_channel(f"127.0.0.1:{port_line}")
        grpc.channel_ready_future(channel).result(timeout=STARTUP_TIMEOUT_SECONDS)
        yield analyzer_pb2_grpc.AnalyzerStub(channel)
        channel.close()
    finally:
        process.kill()
        process.wait(timeout=10)


def test_analyzer_info_lists_every_policy_with_metadata(analyzer):
    """GetAnalyzerInfo: the pack name, all rules, their levels, severities and schemas."""
    info = analyzer.GetAnalyzerInfo(empty_pb2.Empty())
    assert info.name == PACK_NAME
    served = {p.name: p for p in info.policies}
    assert set(served) == {p.name for p in ALL_POLICIES}
    levels = {name: analyzer_pb2.EnforcementLevel.Name(p.enforcementLevel) for name, p in served.items()}
    assert levels["s3-bucket-has-public-access-block"] == "MANDATORY"
    assert levels["s3-bucket-access-logging"] == "ADVISORY"
    assert served["s3-bucket-has-public-access-block"].severity == analyzer_pb2.POLICY_SEVERITY_CRITICAL
    assert served["s3-bucket-has-public-access-block"].policy_type == analyzer_pb2.POLICY_TYPE_STACK
    assert "S3.8" in served["s3-bucket-has-public-access-block"].description
    assert "minimumProtocolVersion" in served["cloudfront-tls-minimum-protocol"].configSchema.properties
    assert all(p.remediation_steps for p in served.values())


def test_analyze_reports_a_public_access_block_with_a_flag_off(analyzer):
    """Analyze (per resource, inputs): the flags rule reports, naming the missing flag."""
    request = analyzer_pb2.AnalyzeRequest(
        type="aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", name="pab",
        urn=_urn("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "pab"),
        properties=_struct({"bucket": "b", "blockPublicAcls": True, "blockPublicPolicy": True,
                            "ignorePublicAcls": True, "restrictPublicBuckets": False}))
    diagnostics = analyzer.Analyze(request).diagnostics
    assert [d.policyName for d in diagnostics] == ["s3-public-access-block-all-flags"]
    assert "restrictPublicBuckets" in diagnostics[0].message
    assert diagnostics[0].enforcementLevel == analyzer_pb2.MANDATORY


def test_analyze_stack_joins_bucket_to_block_by_property_dependency(analyzer):
    """AnalyzeStack: a bucket with no block is reported at its URN; one whose block depends
    on it (value unknown, as in a preview) is not."""
    bucket_type = "aws:s3/bucket:Bucket"
    pab_type = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
    unknown = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
    covered, naked = _urn(bucket_type, "covered"), _urn(bucket_type, "naked")
    resources = [
        analyzer_pb2.AnalyzerResource(type=bucket_type, name="covered", urn=covered,
                                      properties=_struct({"bucket": unknown}), parent=STACK_URN),
        analyzer_pb2.AnalyzerResource(type=bucket_type, name="naked", urn=naked,
                                      properties=_struct({"bucket": "naked-123"}), parent=STACK_URN),
        analyzer_pb2.AnalyzerResource(
            type=pab_type, name="covered-pab", urn=_urn(pab_type, "covered-pab"),
            properties=_struct({"bucket": unknown, "blockPublicAcls": True, "blockPublicPolicy": True,
                                "ignorePublicAcls": True, "restrictPublicBuckets": True}),
            dependencies=[covered],
            propertyDependencies={"bucket": analyzer_pb2.AnalyzerPropertyDependencies(urns=[covered])}),
    ]
    response = analyzer.AnalyzeStack(analyzer_pb2.AnalyzeStackRequest(resources=resources))
    pab = [d for d in response.diagnostics if d.policyName == "s3-bucket-has-public-access-block"]
    assert [d.urn for d in pab] == [naked]
