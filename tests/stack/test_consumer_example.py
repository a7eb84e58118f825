"""examples/consumer: another program composes the packaged components with its own settings.

Attack class: a reuse path that drops the hardening. A consumer that imports the components
must get the same guarded resources the securestore stacks get (encrypted, private,
TLS-only, policy-checked), and must not need the securestore project's folders to do it.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from securestore.offline.engine import evaluate_stack
from securestore.offline.graph import StackGraph
from securestore.offline.policy_runner import load_policies, run_policies

ROOT = Path(__file__).resolve().parents[2]
CONSUMER = ROOT / "examples" / "consumer"


@pytest.fixture(scope="module")
def consumer_graph() -> StackGraph:
    import importlib.util

    if importlib.util.find_spec("securestore.components") is None:
        pytest.fail(
            "securestore.components is not importable: re-run `.venv/bin/python -m pip install "
            "-e '.[infra,test]'` (pyproject.toml maps the components/ folder into the package)"
        )
    return evaluate_stack("dev", project_dir=CONSUMER)


def test_consumer_imports_the_components_from_the_installed_package(consumer_graph: StackGraph):
    """Promise: the components are importable as ``securestore.components`` from the
    installed distribution (the consumer's own project has no ``components`` folder)."""
    assert not (CONSUMER / "components").exists()
    module = sys.modules["securestore.components.storage"]
    assert Path(module.__file__).resolve() == ROOT / "components" / "storage.py"
    source = (CONSUMER / "__main__.py").read_text()
    assert "from components" not in source and "import components" not in source


def test_consumer_builds_a_key_and_a_bucket_with_its_own_settings(consumer_graph: StackGraph):
    """Promise: the consumer's config reaches the components (its CORS origin, its expiry)."""
    types = {r.type for r in consumer_graph.resources if not r.custom}
    assert types == {"securestore:encryption:EncryptionKey", "securestore:storage:SecureBucket"}
    cors = consumer_graph.one("aws:s3/bucketCorsConfiguration:BucketCorsConfiguration")
    assert cors.inputs["corsRules"][0]["allowedOrigins"] == ["https://portal.example.org"]
    lifecycle = [
        r for r in consumer_graph.of_type("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration")
        if r.name.endswith("-data-lifecycle")
    ][0]
    expiring = [rule for rule in lifecycle.inputs["rules"] if rule.get("expiration")]
    assert expiring[0]["expiration"]["days"] == 730
    assert consumer_graph.exports["bucketName"]


def test_consumer_passes_the_policy_pack(consumer_graph: StackGraph):
    """Promise: what the consumer deploys passes securestore's CrossGuard pack, every
    mandatory rule included (public access, encryption, TLS-only policies, key rotation)."""
    pack_name, policies = load_policies(ROOT)
    report = run_policies(consumer_graph, policies=policies, pack_name=pack_name, config={})
    assert report.mandatory == [], report.format_text()


def test_preview_command_checks_another_project_with_this_pack(capsys):
    """Promise: ``securestore preview --project-dir examples/consumer --policy-pack policies``
    evaluates the consumer and runs this pack over it, like `pulumi preview --policy-pack`."""
    from securestore.cli import main

    code = main(["preview", "--project-dir", str(CONSUMER), "--stack", "dev", "--policy-pack", str(ROOT / "policies")])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "securestore:storage:SecureBucket" in out and "Policy check passed." in out
