"""Each analysis of the pack's model kills a weakening of its own class, on the prod graph.

Attack classes: data leaving to a destination outside the program (flow), evidence made
short-lived, unencrypted, blind to reads or writes, or erasable by the principals it records
(evidence), and switches that make loss easy in production (destruction). LocalStack and moto
neither replicate nor enforce these; the pack's reading of the graph is the witness.
"""

from __future__ import annotations

import pytest

from policies.rules import managed

from .graph_mutants import OTHER, GraphMutant, add_resource, replace_props, report, resource

FOREIGN_BUCKET = "arn:aws:s3:::somebody-elses-bucket"


def _named(graph, suffix, type_=None):
    return next(r for r in graph.resources if r.name.endswith(suffix) and (type_ is None or r.type == type_))


def _data(graph):
    return _named(graph, "storage-data", "aws:s3/bucket:Bucket")


CASES = {
    "model-where-data-goes": [
        ("replication to a foreign bucket", lambda g: add_resource(
            g, "aws:s3/bucketReplicationConfig:BucketReplicationConfig", "replicate",
            {"bucket": _data(g).outputs["bucket"], "role": "arn:aws:iam::123456789012:role/x",
             "rules": [{"id": "all", "status": "Enabled", "destination": {"bucket": FOREIGN_BUCKET}}]})),
        ("inventory export to a foreign bucket", lambda g: add_resource(
            g, "aws:s3/inventory:Inventory", "inventory",
            {"bucket": _data(g).outputs["bucket"], "name": "all", "includedObjectVersions": "All",
             "destination": {"bucket": {"bucketArn": FOREIGN_BUCKET, "format": "CSV"}}})),
        ("topic subscription to an outside URL", lambda g: add_resource(
            g, "aws:sns/topicSubscription:TopicSubscription", "hook",
            {"topic": _named(g, "object-created", "aws:sns/topic:Topic").outputs["arn"], "protocol": "https",
             "endpoint": "https://hooks.example.net/x"})),
        ("log subscription filter to another account", lambda g: add_resource(
            g, "aws:cloudwatch/logSubscriptionFilter:LogSubscriptionFilter", "ship",
            {"logGroup": "/aws/cloudtrail/x", "filterPattern": "",
             "destinationArn": f"arn:aws:logs:eu-west-1:{OTHER}:destination:collector"})),
        ("EventBridge target on another account's bus", lambda g: add_resource(
            g, "aws:cloudwatch/eventTarget:EventTarget", "forward",
            {"rule": "object-created", "arn": f"arn:aws:events:eu-west-1:{OTHER}:event-bus/default"})),
    ],
    "model-evidence-retained": [
        ("trail log group kept 7 days", lambda g: replace_props(
            g, _named(g, "trail-logs").name, lambda p: p.update(retentionInDays=7))),
        ("trail log group unencrypted", lambda g: replace_props(
            g, _named(g, "trail-logs").name, lambda p: p.pop("kmsKeyId", None))),
        ("trail records reads only", lambda g: replace_props(
            g, _named(g, "audit-trail", "aws:cloudtrail/trail:Trail").name,
            lambda p: p["advancedEventSelectors"][1]["fieldSelectors"].append(
                {"field": "readOnly", "equals": ["true"]}))),
        ("a workload role may delete the trail's log group", lambda g: add_resource(
            g, "aws:iam/rolePolicyAttachment:RolePolicyAttachment", "logs-admin",
            {"role": _named(g, "access-lambda", "aws:iam/role:Role").outputs["name"],
             "policyArn": managed.managed_arn("CloudWatchLogsFullAccess")})),
    ],
    "model-destruction-guarded": [
        ("force destroy on the data bucket", lambda g: replace_props(
            g, _data(g).name, lambda p: p.update(forceDestroy=True))),
        ("current objects expire after 30 days", lambda g: replace_props(
            g, _named(g, "storage-data-lifecycle").name,
            lambda p: p["rules"][0].update(expiration={"days": 30}))),
        ("versioning suspended on the trail bucket", lambda g: replace_props(
            g, _named(g, "trail-bucket-versioning").name,
            lambda p: p["versioningConfiguration"].update(status="Suspended"))),
        ("a WAF rule only counts", lambda g: replace_props(
            g, _named(g, "edge-waf").name, lambda p: p["rules"][1].update(overrideAction={"count": {}}))),
    ],
}


@pytest.mark.parametrize("rule,what,edit", [(r, w, e) for r, cases in CASES.items() for w, e in cases],
                         ids=[f"{r}:{w}" for r, cases in CASES.items() for w, _ in cases])
def test_analysis_kills_its_class(rule, what, edit):
    outcome = report(GraphMutant(what, "prod", what, edit))
    assert any(v.policy == rule and v.mandatory for v in outcome.violations), outcome.format_text()
