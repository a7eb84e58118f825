"""Prod: whatever configures a retained bucket or key is retained with it.

Attack class: teardown that strips hardening. ``pulumi destroy --exclude-protected`` (or a
refactor that drops a child) deletes unprotected children first: the retained data bucket
would be left without its public access block and bucket policy and with versioning
suspended, and deleting an ``aws.kms.KeyPolicy`` makes AWS restore the default key policy
(account-wide ``kms:*``). So every resource whose ``bucket``/``keyId``/``targetKeyId``
input is a protected, retained bucket or key must be protected and retained too. The walk
is over the recorded graph, so a new child of any component is covered without a list.
"""

from __future__ import annotations

from securestore.offline.graph import StackGraph

RETAINED_TYPES = ("aws:s3/bucket:Bucket", "aws:kms/key:Key")
CONFIGURING_INPUTS = ("bucket", "keyId", "targetKeyId")
"""Inputs through which a resource configures a bucket or key (its policy, public access
block, ownership, encryption, versioning, lifecycle, CORS, logging, notification, alias)."""


def _retained(graph: StackGraph) -> dict[str, str]:
    return {
        r.urn: r.name
        for t in RETAINED_TYPES
        for r in graph.of_type(t)
        if r.protect and r.retain_on_delete
    }


def _configuring(graph: StackGraph) -> list[tuple[str, str, str]]:
    """(resource, input, retained target) for every input that points at a retained one."""
    retained = _retained(graph)
    found = []
    for resource in graph.resources:
        for name in CONFIGURING_INPUTS:
            for urn in resource.property_dependencies.get(name, []):
                if urn in retained:
                    found.append((resource.name, name, retained[urn]))
    return found


def test_prod_retains_every_resource_that_configures_a_retained_bucket_or_key(prod_graph):
    """Every child that configures a retained bucket or key is protected and retained."""
    by_name = {r.name: r for r in prod_graph.resources}
    configuring = _configuring(prod_graph)
    assert len(_retained(prod_graph)) >= 5  # data, log and trail buckets, data and audit keys
    kinds = {by_name[name].type for name, _, _ in configuring}
    for expected in ("bucketPolicy", "bucketPublicAccessBlock", "bucketVersioning", "keyPolicy", "alias",
                     "bucketLogging", "bucketNotification", "bucketLifecycleConfiguration"):
        assert any(expected in kind for kind in kinds), expected
    loose = [
        f"{name} ({by_name[name].type}) configures {target} via {field}"
        for name, field, target in configuring
        if not (by_name[name].protect and by_name[name].retain_on_delete)
    ]
    assert loose == []


def test_dev_retains_nothing(dev_graph):
    """dev stays destroyable: nothing is protected or retained."""
    assert [r.name for r in dev_graph.resources if r.protect or r.retain_on_delete] == []
