"""Where can data go? Every edge along which objects, metadata, events or logs leave a
store ends in this program's resources, this account, or a destination the config names.

Edges (each found from the resource that makes it, whatever the source store):
replication rules, inventory and analytics exports, bucket notifications, topic
subscriptions, log subscription filters and log deliveries, server access logging, trail
deliveries, CloudFront logging and trusted signers of other accounts, Firehose streams,
EventBridge targets, and bucket policies that delegate to another account's access points.

A destination is resolved the way AWS acts on it: by value (an ARN, a bucket name, a
URL); an unknown value (preview) by the resource its input came from. An ARN whose
account field is this account's is this account's; an S3 bucket ARN carries no account,
so a bucket outside the program must be named in ``destinations``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any, Iterable, Iterator, Optional

from pulumi_policy import EnforcementLevel, ReportViolation, Severity, StackValidationArgs

from . import effective
from . import iam_engine as engine
from .common import RuleInfo, as_list, config_value, dig, exemptions_schema, is_unknown, stack_policy, statements, subject
from .joins import Node, StackIndex

INFO = RuleInfo(
    name="model-where-data-goes",
    summary="Every edge along which objects, metadata, events or logs leave a store (replication, inventory "
    "and analytics exports, notifications, subscriptions, log deliveries and subscriptions, trails, CDN "
    "logging and signers, Firehose, EventBridge, access-point delegation) ends in this program's resources, "
    "this account, or a destination declared in the pack config.",
    controls=("S3.6",),
    severity=Severity.CRITICAL,
    enforcement=EnforcementLevel.MANDATORY,
    remediation="Point the export, subscription or delivery at a resource of this program (or this account), "
    "or, after review, add the destination to destinations in policies/config/<stack>.json under "
    "model-where-data-goes.",
)

SCHEMA = exemptions_schema({
    "destinations": {
        "type": "array", "items": {"type": "string"}, "default": [],
        "description": "Globs of destinations (ARNs, bucket names, URLs, emails, account ids) data may leave to.",
    },
    "accountId": {"type": "string", "default": "",
                  "description": "This program's account id (default: the account its own ARNs carry)."},
})

_ARN_ACCOUNT = re.compile(r"^arn:[^:]+:[^:]+:[^:]*:(\d{12})?:")


@dataclass(frozen=True)
class Edge:
    """Data leaving through ``via`` towards ``destination`` (a value or an unknown)."""

    via: Node
    what: str
    key: str
    """The input of ``via`` holding the destination (for property dependencies)."""
    destination: Any


def _items(value: Any) -> list:
    return [v for v in as_list(value) if isinstance(v, dict)]


def edges(index: StackIndex) -> Iterator[Edge]:
    for node in index.of_type("aws:s3/bucketReplicationConfig:BucketReplicationConfig"):
        for rule in _items(node.props.get("rules")):
            destination = rule.get("destination") or {}
            yield Edge(node, "replication", "rules", destination.get("bucket"))
            if destination.get("account"):
                yield Edge(node, "replication to account", "rules", destination.get("account"))
    for node in index.of_type("aws:s3/inventory:Inventory"):
        bucket = dig(node.props, "destination", "bucket") or {}
        yield Edge(node, "inventory export", "destination", bucket.get("bucketArn"))
        if bucket.get("accountId"):
            yield Edge(node, "inventory export to account", "destination", bucket.get("accountId"))
    for node in index.of_type("aws:s3/analyticsConfiguration:AnalyticsConfiguration"):
        target = dig(node.props, "storageClassAnalysis", "dataExport", "destination", "s3BucketDestination") or {}
        if target:
            yield Edge(node, "analytics export", "storageClassAnalysis", target.get("bucketArn"))
            if target.get("bucketAccountId"):
                yield Edge(node, "analytics export to account", "storageClassAnalysis", target.get("bucketAccountId"))
    for node in index.of_type("aws:s3/bucketNotification:BucketNotification"):
        for field_name, arn_key in (("topics", "topicArn"), ("queues", "queueArn"),
                                    ("lambdaFunctions", "lambdaFunctionArn")):
            for item in _items(node.props.get(field_name)):
                yield Edge(node, f"notification ({field_name})", field_name, item.get(arn_key))
    for node in index.of_type("aws:s3/bucketLogging:BucketLogging", "aws:s3/bucketLoggingV2:BucketLoggingV2"):
        yield Edge(node, "server access logging", "targetBucket", node.props.get("targetBucket"))
    for node in index.of_type("aws:sns/topicSubscription:TopicSubscription"):
        yield Edge(node, f"subscription ({node.props.get('protocol')})", "endpoint", node.props.get("endpoint"))
    for node in index.of_type("aws:cloudwatch/logSubscriptionFilter:LogSubscriptionFilter"):
        yield Edge(node, "log subscription filter", "destinationArn", node.props.get("destinationArn"))
    for node in index.of_type("aws:cloudwatch/logDeliveryDestination:LogDeliveryDestination"):
        yield Edge(node, "log delivery", "deliveryDestinationConfiguration",
                   dig(node.props, "deliveryDestinationConfiguration", "destinationResourceArn"))
    for node in index.of_type("aws:cloudwatch/logDelivery:LogDelivery"):
        yield Edge(node, "log delivery", "deliveryDestinationArn", node.props.get("deliveryDestinationArn"))
    for node in index.of_type("aws:cloudtrail/trail:Trail"):
        yield Edge(node, "trail delivery", "s3BucketName", node.props.get("s3BucketName"))
        for key in ("cloudWatchLogsGroupArn", "snsTopicName"):
            if node.props.get(key):
                yield Edge(node, "trail delivery", key, node.props.get(key))
    for node in index.of_type("aws:cloudfront/distribution:Distribution"):
        logging = node.props.get("loggingConfig")
        if isinstance(logging, dict) and logging.get("bucket"):
            yield Edge(node, "CDN logging", "loggingConfig", logging.get("bucket"))
        behaviours = [node.props.get("defaultCacheBehavior")] + as_list(node.props.get("orderedCacheBehaviors"))
        for behaviour in _items(behaviours):
            for signer in as_list(behaviour.get("trustedSigners")):
                if signer != "self":
                    yield Edge(node, "CDN trusted signer", "defaultCacheBehavior", signer)
    for node in index.of_type("aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream"):
        for section in ("extendedS3Configuration", "redshiftConfiguration", "httpEndpointConfiguration",
                        "opensearchConfiguration", "splunkConfiguration"):
            config = node.props.get(section)
            if isinstance(config, dict):
                yield Edge(node, f"firehose ({section})", section,
                           config.get("bucketArn") or config.get("url") or config.get("domainArn")
                           or config.get("hecEndpoint") or config.get("clusterJdbcurl"))
    for node in index.of_type("aws:cloudwatch/eventTarget:EventTarget"):
        yield Edge(node, "EventBridge target", "arn", node.props.get("arn"))
    for target, kind, writers in effective.policy_writers(index):
        if not writers:
            continue
        document = effective.parse(writers[-1].props.get("policy"))
        for statement in statements(document):
            if statement.get("Effect") != "Allow":
                continue
            for key, values in engine.restricting_conditions(statement).items():
                if key in ("s3:dataaccesspointaccount", "s3:dataaccesspointarn"):
                    for value in values:
                        yield Edge(writers[-1], "access-point delegation", "policy", value)


def _identities(index: StackIndex) -> dict[str, set[str]]:
    """``{identity: URNs of the resources known by it}`` (an edge's own resource is not its
    destination: an EventTarget's ``arn`` input is where it sends)."""
    found: dict[str, set[str]] = {}
    for node in index.nodes:
        for key in ("arn", "id", "name", "bucket", "url", "queueUrl"):
            value = node.props.get(key)
            if isinstance(value, str) and value and not is_unknown(value):
                found.setdefault(value, set()).add(node.urn)
    return found


def _forms(value: str) -> set[str]:
    """A destination as the forms a graph resource may be known by."""
    forms = {value, value.rstrip("/")}
    if value.startswith("arn:aws:s3:::"):
        forms.add(value[len("arn:aws:s3:::"):].split("/", 1)[0])
    if ".s3." in value or value.endswith(".s3.amazonaws.com"):
        forms.add(value.split(".s3", 1)[0])
    if value.endswith(":*"):
        forms.add(value[:-2])
    return forms


def _destination_problem(index: StackIndex, edge: Edge, own: str, identities: dict[str, set[str]],
                         allowed: list[str]) -> Optional[str]:
    value = edge.destination
    if value is None or value == "":
        return None
    if is_unknown(value) or not isinstance(value, str):
        if any(u in index.by_urn for u in edge.via.property_dependencies.get(edge.key, [])):
            return None
        return f"{edge.what} goes to a destination that is not known at preview and does not come from this program"
    if any(identities.get(form, set()) - {edge.via.urn} for form in _forms(value)):
        return None
    if re.fullmatch(r"\d{12}", value) and value == own:
        return None
    match = _ARN_ACCOUNT.match(value)
    if match and match.group(1) == own:
        return None
    if any(fnmatchcase(value, glob) for glob in allowed):
        return None
    return f"{edge.what} sends data to {value!r}, which is neither this program's resource nor this account's"


def problems(index: StackIndex, own: str, allowed: list[str], exempt: Iterable[str] = ()) -> list[tuple[Node, str]]:
    identities = _identities(index)
    skip = set(exempt)
    found = []
    for edge in edges(index):
        if edge.via.name in skip:
            continue
        problem = _destination_problem(index, edge, own, identities, allowed)
        if problem:
            found.append((edge.via, problem))
    return found


def _validate(args: StackValidationArgs, report: ReportViolation) -> None:
    index = StackIndex(args.resources)
    configured = config_value(args, "accountId", "")
    own = effective.own_account(index, configured if isinstance(configured, str) and configured else None)
    if own is None:
        return
    allowed = [str(d) for d in config_value(args, "destinations", []) or []]
    for node, problem in problems(index, own, allowed, config_value(args, "exemptResources", []) or []):
        report(INFO.message(subject(node.type, node.name), problem + "."), node.urn)


POLICIES = [stack_policy(INFO, _validate, SCHEMA)]
