"""Every grant to a service principal carries the AWS page that documents its conditions.

Both stacks' rendered policies (bucket, key, topic and role trust policies) are searched
for statements whose principal is a ``Service``; each (principal, policy kind, condition
keys) must be listed in ``components/service_grants.py``, so a new grant, or a new
condition key on an old one, cannot arrive without a documentation reference.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Iterator

from components import service_grants
from securestore.offline.graph import StackGraph

ROOT = Path(__file__).resolve().parents[2]

POLICY_KINDS = {
    ("aws:s3/bucketPolicy:BucketPolicy", "policy"): "bucket",
    ("aws:kms/key:Key", "policy"): "key",
    ("aws:kms/keyPolicy:KeyPolicy", "policy"): "key",
    ("aws:sns/topicPolicy:TopicPolicy", "policy"): "topic",
    ("aws:sns/topic:Topic", "policy"): "topic",
    ("aws:iam/role:Role", "assumeRolePolicy"): "trust",
}


def _documents(graph: StackGraph) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for resource in graph.resources:
        for key in ("policy", "assumeRolePolicy"):
            value = resource.inputs.get(key)
            if value is None:
                continue
            document = json.loads(value) if isinstance(value, str) else value
            yield resource.name, POLICY_KINDS.get((resource.type, key), f"{resource.type}:{key}"), document


def rendered_service_grants(graph: StackGraph) -> list[tuple[str, str, str, frozenset[str]]]:
    """(resource name, policy kind, principal, condition keys) of every service statement."""
    found = []
    for name, kind, document in _documents(graph):
        statements = document.get("Statement", [])
        for statement in [statements] if isinstance(statements, dict) else statements:
            principal = statement.get("Principal")
            if not isinstance(principal, dict) or "Service" not in principal:
                continue
            services = principal["Service"]
            keys = frozenset(
                key for operator in (statement.get("Condition") or {}).values() for key in operator
            )
            for service in [services] if isinstance(services, str) else services:
                found.append((name, kind, service, keys))
    return found


def test_every_service_grant_is_listed_with_its_documentation(graph):
    rendered = rendered_service_grants(graph)
    assert rendered, "expected service grants in the stack"
    missing = [
        f"{name}: {service} in a {kind} policy with {sorted(keys)}"
        for name, kind, service, keys in rendered
        if service_grants.find(service, kind, keys) is None
    ]
    assert not missing, (
        "service grants without a documentation reference in components/service_grants.py "
        "(find the AWS page that shows this principal with these condition keys, or drop the "
        "key):\n" + "\n".join(missing)
    )


def test_every_listed_grant_is_rendered_by_some_stack(graphs):
    """No stale entries: each listed grant appears in dev or prod."""
    rendered = {
        service_grants.grant_key(service, kind, keys)
        for graph in graphs.values()
        for _, kind, service, keys in rendered_service_grants(graph)
    }
    stale = [
        g for g in service_grants.SERVICE_GRANTS
        if service_grants.grant_key(g.principal, g.policy, g.condition_keys) not in rendered
    ]
    assert not stale, stale


def test_the_list_needs_a_reference_and_a_first_deploy_check_when_not_documented():
    for grant in service_grants.SERVICE_GRANTS:
        assert re.search(r"https://docs\.aws\.amazon\.com/\S+", grant.reference), grant
        assert grant.documented in ("yes", "partly", "no"), grant
        assert (grant.documented == "yes") == (grant.first_deploy is None), grant


def test_readme_table_lists_every_grant():
    readme = (ROOT / "README.md").read_text()
    heading = "### Service grants and the AWS documentation behind them"
    assert heading in readme
    section = readme.split(heading, 1)[1].split("\n## ", 1)[0]
    for grant in service_grants.SERVICE_GRANTS:
        url = re.search(r"https://docs\.aws\.amazon\.com/\S+", grant.reference).group(0).rstrip(";")
        rows = [
            line for line in section.splitlines()
            if line.startswith("|") and f"`{grant.principal}`" in line and url in line
        ]
        assert rows, f"README table lacks {grant.principal} ({grant.policy}) with {url}"
        for key in grant.condition_keys:
            assert any(f"`{key}`" in row for row in rows), (grant.principal, key)


def test_regional_principals_are_normalized():
    assert service_grants.normalize_principal("logs.eu-west-1.amazonaws.com") == "logs.<region>.amazonaws.com"
    assert service_grants.normalize_principal("logging.s3.amazonaws.com") == "logging.s3.amazonaws.com"
    assert service_grants.normalize_principal("delivery.logs.amazonaws.com") == "delivery.logs.amazonaws.com"
