"""The components as a package other programs reuse: a stable graph, a stable schema.

Attack class: a silent change of the public interface. A refactor that renames a child,
re-parents it or changes an input replaces live resources (a new URN is a delete plus a
create: a new, empty bucket); a changed Args field breaks every program that consumes the
package. Both are pinned by golden files under ``tests/golden/`` (see ``tests/support/goldens.py``).
"""

from __future__ import annotations

import pytest

from support.goldens import check_golden, stack_graph_record
from securestore.offline.graph import StackGraph


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_stack_graph_is_unchanged_urns_parents_and_inputs(graphs: dict[str, StackGraph], stack: str):
    """Promise: reshaping the components into a package replaces nothing in an existing stack.
    Every resource keeps its URN (type and name), parent, provider, protect/retain flags and
    inputs, compared with the golden recorded before the change."""
    check_golden(f"stack-graph.{stack}.json", stack_graph_record(graphs[stack]))


COMPONENT_NAMES = ("EncryptionKey", "SecureBucket", "AccessRoles", "EdgeDelivery", "AuditTrail", "StorePolicies")
REINSTALL = (
    "re-run `.venv/bin/python -m pip install -e '.[infra,test]'`: pyproject.toml maps the "
    "components/ folder into the installed package as securestore.components"
)


@pytest.fixture(scope="module")
def schema() -> dict:
    """The schema as the component provider host infers it (``ComponentProvider(...)``)."""
    try:
        from securestore import provider
    except ImportError as exc:  # pragma: no cover - a stale editable install
        pytest.fail(f"{exc}; {REINSTALL}")
    return provider.schema()


def test_schema_matches_its_golden_copy(schema: dict):
    """Promise: the package's public interface changes only on purpose. Any added, removed,
    renamed or retyped input or output (or a changed description) fails here until the
    golden schema is regenerated and its diff reviewed."""
    check_golden("schema.json", {k: v for k, v in schema.items() if k != "version"})


def test_schema_lists_the_five_components_with_typed_described_fields(schema: dict):
    """Promise: every component is in the package and every input and output a consumer
    sees in its generated SDK has a type and a description (its docstring)."""
    resources = schema["resources"]
    assert sorted(resources) == sorted(f"securestore:index:{name}" for name in COMPONENT_NAMES)
    undocumented = []
    for token, resource in resources.items():
        assert resource["isComponent"] is True and resource["description"], token
        assert resource["inputProperties"] and resource["properties"], token
        for kind in ("inputProperties", "properties"):
            for field, declaration in resource[kind].items():
                assert "type" in declaration or "$ref" in declaration, f"{token}.{field}"
                if not declaration.get("description"):
                    undocumented.append(f"{token} {kind}.{field}")
    assert not undocumented, f"fields without a docstring: {undocumented}"


def test_schema_version_is_the_package_version(schema: dict):
    """Promise: the provider (and so every generated SDK) reports the installed version."""
    from securestore.version import version

    assert schema["version"] == version() != "0+unknown"


def test_cli_reports_the_same_version():
    """Promise: ``securestore --version`` and the provider read one version."""
    import subprocess
    import sys

    from securestore.version import version

    result = subprocess.run(
        [sys.executable, "-m", "securestore.cli", "--version"], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["securestore", version()]


def test_args_take_no_python_only_objects(schema: dict):
    """Promise: no settings dataclass (or any other Python-only object) in an Args: every
    input is a string, number, boolean, list or map of those, so every language can pass it."""
    for token, resource in schema["resources"].items():
        for field, declaration in resource["inputProperties"].items():
            assert declaration.get("type") in ("string", "integer", "number", "boolean", "array", "object"), (
                f"{token}.{field}: {declaration}"
            )
            inner = declaration.get("items") or declaration.get("additionalProperties") or {}
            assert "$ref" not in inner and "$ref" not in declaration, f"{token}.{field}"
    assert schema["types"] == {}


def _construct(component: str, inputs: dict):
    """What the engine does for another language's program: ``Construct`` on the provider
    with the schema's (camelCase) inputs, numbers as floats as they cross the wire."""
    import pulumi
    from pulumi.runtime import settings as pulumi_settings
    from pulumi.runtime.stack import run_pulumi_func
    from pulumi.runtime.sync_await import _sync_await

    import securestore.components.package as package
    from securestore import provider
    from securestore.offline.engine import RecordingMonitor
    from securestore.offline.mocks import RealisticMocks

    monitor = RecordingMonitor(RealisticMocks())
    pulumi_settings.ROOT.set(None)
    pulumi.runtime.set_mocks(monitor.mocks, project="ts-consumer", stack="dev", preview=False, monitor=monitor)
    hosted = provider.component_provider()
    outcome: dict = {}

    def program() -> None:
        package.host_as_package()
        try:
            outcome["result"] = hosted.construct("docs", f"securestore:index:{component}", inputs, pulumi.ResourceOptions())
        except Exception as exc:  # noqa: BLE001 - the provider wraps the component's error
            outcome["error"] = exc
        finally:
            package._hosted = False

    _sync_await(run_pulumi_func(program))
    return monitor.records, outcome


BUCKET_INPUTS = {
    "kmsKeyArn": "arn:aws:kms:eu-west-1:123456789012:key/11111111-2222-3333-4444-555555555555",
    "sseAlgorithm": "aws:kms", "corsAllowedOrigins": ["https://portal.example.org"],
    "transitionToIaDays": 60.0, "expireAfterDays": 730.0, "noncurrentVersionExpireDays": 30.0,
    "abortIncompleteMultipartDays": 2.0, "accountId": "123456789012", "logRetentionDays": 90.0,
    "forceDestroy": False, "protect": False, "tags": {"team": "documents"},
}


def test_provider_constructs_a_component_for_another_language():
    """Promise: the hosted path works end to end: Construct maps the schema inputs, the
    component registers under the token the generated SDK asked for, attaches its own
    bucket policies (no methods exist outside Python) and returns every declared output.
    Failed before: integer inputs arrive as floats and were refused."""
    records, outcome = _construct("SecureBucket", BUCKET_INPUTS)
    assert "error" not in outcome, outcome.get("error")
    assert sorted(outcome["result"].state) == [
        "bucketArn", "bucketName", "bucketRegionalDomainName", "inventoryDestination", "logBucketArn",
        "logBucketName",
    ]
    (component,) = [r for r in records if not r.custom]
    assert component.urn.endswith("securestore:index:SecureBucket::docs")
    policies = [r for r in records if r.type == "aws:s3/bucketPolicy:BucketPolicy"]
    assert len(policies) == 2 and all(r.parent == component.urn for r in policies)


def test_provider_refuses_a_bad_input_naming_the_schema_field():
    """Promise: a TypeScript program passing a wildcard origin is refused with the field's
    name before anything is registered."""
    records, outcome = _construct("SecureBucket", {**BUCKET_INPUTS, "corsAllowedOrigins": ["*"]})
    assert "corsAllowedOrigins" in str(outcome.get("error"))
    assert records == []


def test_plugin_entry_point_serves_the_schema_over_grpc():
    """Promise: ``PulumiPlugin.yaml``'s ``main`` (not the program's ``__main__.py``) starts a
    provider that answers ``GetSchema`` the way the engine asks during ``pulumi package add``:
    started as ``python -u <main> <engine address>``, it prints its port and serves the
    same schema the golden pins (the engine address is only used for logging)."""
    import json
    import subprocess
    import sys

    import grpc
    import yaml
    from pulumi.runtime.proto import provider_pb2, provider_pb2_grpc

    from support.goldens import GOLDEN_DIR

    root = GOLDEN_DIR.parents[1]
    plugin = yaml.safe_load((root / "PulumiPlugin.yaml").read_text())
    assert plugin["runtime"]["name"] == "python"
    main = root / plugin["main"]
    assert (main / "__main__.py").is_file() and main.resolve() != root
    process = subprocess.Popen(
        [sys.executable, "-u", str(main), "127.0.0.1:1"],
        cwd=root, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        port = process.stdout.readline().strip()
        assert port.isdigit(), process.stderr.read() if process.poll() is not None else port
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            stub = provider_pb2_grpc.ResourceProviderStub(channel)
            served = json.loads(stub.GetSchema(provider_pb2.GetSchemaRequest(version=0), timeout=60).schema)
    finally:
        process.terminate()
        process.wait(timeout=10)
    golden = json.loads((GOLDEN_DIR / "schema.json").read_text())
    assert {k: v for k, v in served.items() if k != "version"} == golden


@pytest.mark.parametrize("component", COMPONENT_NAMES)
def test_declared_outputs_are_the_registered_outputs(schema: dict, component: str):
    """Promise: what the schema declares (class annotations) is what the component registers
    with ``register_outputs``: a declared output never missing from the engine's state, and
    no registered value left out of the generated SDKs."""
    import ast
    import inspect

    from securestore import provider

    cls = next(c for c in provider.components() if c.__name__ == component)
    tree = ast.parse(inspect.getsource(cls))
    registered: set[str] = set()
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "register_outputs"
        ):
            (argument,) = node.args
            registered |= {key.value for key in argument.keys}
    declared = set(schema["resources"][f"securestore:index:{component}"]["properties"])
    assert {camel for camel in map(_camel, registered)} == declared


def _camel(field: str) -> str:
    head, *rest = field.split("_")
    return head + "".join(part.title() for part in rest)


KEY_INPUTS = {"aliasName": "alias/docs", "description": "docs", "deletionWindowInDays": 30.0, "adminArns": [],
              "accountId": "123456789012", "region": "eu-west-1", "partition": "aws", "protect": False, "tags": {}}


def _hosted_program(build) -> list:
    """Run ``build(construct)`` as another language's program: every component through the
    provider's ``Construct`` with schema (camelCase) inputs, outputs passed on as Outputs."""
    import pulumi
    from pulumi.runtime import settings as pulumi_settings
    from pulumi.runtime.stack import run_pulumi_func
    from pulumi.runtime.sync_await import _sync_await

    import securestore.components.package as package
    from securestore import provider
    from securestore.offline.engine import RecordingMonitor
    from securestore.offline.mocks import RealisticMocks

    monitor = RecordingMonitor(RealisticMocks())
    pulumi_settings.ROOT.set(None)
    pulumi.runtime.set_mocks(monitor.mocks, project="ts-consumer", stack="dev", preview=False, monitor=monitor)
    hosted = provider.component_provider()

    def construct(name: str, component: str, inputs: dict) -> dict:
        return hosted.construct(name, f"securestore:index:{component}", inputs, pulumi.ResourceOptions()).state

    def program() -> None:
        package.host_as_package()
        try:
            build(construct)
        finally:
            package._hosted = False

    _sync_await(run_pulumi_func(program))
    return monitor.records


def _pack_report(records: list):
    from securestore.offline.graph import StackGraph
    from securestore.offline.policy_runner import load_policies, run_policies

    from support.goldens import GOLDEN_DIR

    pack_name, policies = load_policies(GOLDEN_DIR.parents[1])
    graph = StackGraph(project="ts-consumer", stack="dev", resources=list(records), exports={}, config={})
    return graph, run_policies(graph, policies=policies, pack_name=pack_name)


def _wired_store(construct, *, wire: bool) -> None:
    """What a TypeScript program writes: key and bucket with deferPolicies, the roles and the
    edge built on their outputs, then (``wire``) StorePolicies from everyone's outputs."""
    key = construct("docs", "EncryptionKey", {**KEY_INPUTS, "deferPolicies": True})
    bucket = construct("docs", "SecureBucket", {**BUCKET_INPUTS, "kmsKeyArn": key["keyArn"], "deferPolicies": True})
    roles = construct("docs", "AccessRoles", {
        "bucketArn": bucket["bucketArn"], "kmsKeyArn": key["keyArn"], "accountId": "123456789012",
        "region": "eu-west-1", "partition": "aws", "ec2AccessMode": "read-only", "uploaderTrustedArns": [],
        "uploaderExternalId": "docs-uploads-2026", "uploaderRequireMfa": False, "maxSessionDurationSeconds": 3600.0,
        "tags": {}})
    edge = construct("docs", "EdgeDelivery", {
        "bucketArn": bucket["bucketArn"], "bucketRegionalDomainName": bucket["bucketRegionalDomainName"],
        "logBucketArn": bucket["logBucketArn"], "accountId": "123456789012", "partition": "aws",
        "priceClass": "PriceClass_100", "geoRestrictionType": "none", "geoRestrictionLocations": [],
        "wafEnabled": False, "wafRateLimit": 2000.0, "tags": {}})
    if wire:
        construct("docs", "StorePolicies", {
            "bucketName": bucket["bucketName"], "bucketArn": bucket["bucketArn"],
            "logBucketName": bucket["logBucketName"], "logBucketArn": bucket["logBucketArn"],
            "kmsKeyArn": key["keyArn"], "kmsKeyId": key["keyId"], "sseAlgorithm": "aws:kms",
            "accountId": "123456789012", "region": "eu-west-1", "partition": "aws", "keyAdminArns": [],
            "protect": False,
            "dataBucketStatements": [roles["dataBucketStatements"], edge["dataBucketStatements"]],
            "logBucketStatements": [edge["logBucketStatements"]],
            "keyStatements": [edge["keyPolicyStatements"], roles["keyPolicyStatements"]]})


def test_a_program_in_another_language_wires_the_store_and_passes_the_pack():
    """Issue 21: the wiring this program does last in Python (policies attached with the
    CloudFront and tenant grants) is expressible in the schema: a consumer that sets only
    schema inputs, passing Outputs from one component to the next and to StorePolicies, gets
    the same policies (CloudFront read and decrypt for its distribution only, the tenant
    denies) and passes the policy pack."""
    import json

    records = _hosted_program(lambda construct: _wired_store(construct, wire=True))
    graph, report = _pack_report(records)
    assert report.passed, report.format_text()
    by_type = {}
    for record in records:
        by_type.setdefault(record.type, []).append(record)
    data_policy = next(r for r in by_type["aws:s3/bucketPolicy:BucketPolicy"] if r.name.endswith("-data-policy"))
    sids = {s.get("Sid") for s in json.loads(data_policy.inputs["policy"])["Statement"]}
    assert {"AllowCloudFrontReadForThisDistribution", "DenyInsecureTransport"} <= sids, sids
    assert any(s.startswith("DenyTaggedPrincipals") for s in sids if s), sids
    (key_policy,) = by_type["aws:kms/keyPolicy:KeyPolicy"]
    assert "cloudfront.amazonaws.com" in key_policy.inputs["policy"]
    assert "DenyTenantSessionsEverythingButDataKeyUseThroughS3" in key_policy.inputs["policy"]
    assert "kms:EncryptionContext:aws:s3:arn" in key_policy.inputs["policy"]
    assert data_policy.parent.endswith("securestore:index:StorePolicies::docs")


def test_a_store_deferred_and_never_wired_fails_the_pack():
    """The other half of the promise: `deferPolicies` without StorePolicies leaves the buckets
    with no bucket policy (and the key with AWS's default); the pack refuses that stack with
    mandatory violations, so it cannot be deployed unnoticed."""
    records = _hosted_program(lambda construct: _wired_store(construct, wire=False))
    assert not [r for r in records if r.type in ("aws:s3/bucketPolicy:BucketPolicy", "aws:kms/keyPolicy:KeyPolicy")]
    _, report = _pack_report(records)
    assert not report.passed
    assert any("no bucket policy" in v.problem for v in report.mandatory), report.format_text()


@pytest.mark.parametrize("field, value, accepted", [
    ("tags", {"team": "documents"}, True),          # passed through to AWS: any Output will do
    ("kmsKeyArn", "arn:aws:kms:eu-west-1:123456789012:key/1", True),
    ("corsAllowedOrigins", ["https://portal.example.org"], False),  # checked before anything is created
    ("sseAlgorithm", "aws:kms", False),
    ("protect", False, False),                       # a resource option: never an Output
])
def test_an_output_where_a_plain_value_is_needed_is_named(field, value, accepted):
    """Inputs that only pass values on to AWS take Outputs (another resource's tags, ARNs);
    inputs the component checks before creating anything, or that set resource options, need
    the value itself. Such an Output was a TypeError deep in the SDK ('Output' object cannot be
    interpreted as an integer); now one line naming the schema field, nothing registered.
    Not covered: integer fields (transitionToIaDays...), which pulumi's experimental provider
    converts with int() before the component runs; its TypeError names no field."""
    import pulumi

    def build(construct):
        construct("docs", "SecureBucket", {**BUCKET_INPUTS, field: pulumi.Output.from_input(value)})

    if accepted:
        assert _hosted_program(build)
        return
    with pytest.raises(Exception) as failure:
        _hosted_program(build)
    assert f"({field})" in str(failure.value) and "plain value" in str(failure.value), failure.value
