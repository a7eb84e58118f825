"""Generates weakenings and equivalent variants from what the stacks' graphs contain.

See ``graph_mutants`` for why these edit the recorded graph. Classes (each member is one
concrete change to one resource):

weakenings
  * ``allow-*``: every Allow statement of every document: Resource widened to ``*``, Action
    widened to its services' ``*``, Principal widened to ``*`` and to another account, each
    condition clause dropped (judged by ``changes_access``);
  * ``deny-*``: every Deny statement: dropped, narrowed to its first resource or action,
    limited to this account's principals (integrity: it exists to refuse something);
  * ``managed-*``: every role given each AWS-managed policy with data access (judged);
  * ``expose-*`` / ``export-*``: every store given each resource type that exposes or exports
    it (access point, function URL, replication, inventory, analytics, notification,
    subscription, subscription filter) (flow, or judged);
  * ``evidence-*`` / ``destroy-*``: every audit sink and production store given each switch
    that shortens, blinds or destroys it (evidence, integrity; prod only where the switch
    is a production concern);

equivalents (must pass): every ``encoding.equivalent_forms`` spelling of every document,
every Allow statement dropped and every Deny condition clause dropped (both stricter).
"""

from __future__ import annotations

import copy
import json
import re
from typing import Any, Callable, Iterator, Optional

from policies.rules import encoding, managed
from policies.rules import model as stack_model
from policies.rules.joins import StackIndex
from securestore.offline.graph import StackGraph

from .graph_mutants import (OTHER, GraphMutant, add_resource, baseline, copy_graph, documents, edit_document,
                            replace_props)

OWN = "123456789012"
FOREIGN_BUCKET = "arn:aws:s3:::somebody-elses-bucket"
DATA_WRITE_MANAGED = ("AmazonS3FullAccess", "AmazonS3ReadOnlyAccess", "AdministratorAccess", "PowerUserAccess",
                      "ReadOnlyAccess", "AmazonSNSFullAccess", "AWSKeyManagementServicePowerUser",
                      "CloudWatchLogsFullAccess", "AmazonSQSFullAccess", "AWSLambda_FullAccess",
                      "CloudWatchFullAccess", "AWSCloudTrail_FullAccess", "AmazonKinesisFirehoseFullAccess",
                      "AWSLambdaExecute", "AmazonS3ObjectLambdaExecutionRolePolicy")
"""AWS-managed policies with access to data or evidence (from the shipped set)."""


# --- the judge ------------------------------------------------------------------------------

class _Resource:
    """The graph's record as the stack policies' ``PolicyResource`` shows it."""

    def __init__(self, record) -> None:
        self.resource_type, self.name, self.urn = record.type, record.name, record.urn
        self.props = record.props
        self.property_dependencies = {k: list(v) for k, v in record.property_dependencies.items()}


def reach_map(graph: StackGraph) -> dict[tuple, frozenset[str]]:
    """``{(principal, path, tags, store): actions}`` of every principal and outsider."""
    index = StackIndex([_Resource(r) for r in graph.resources])
    model = stack_model.StackModel(index, stack_model.effective.own_account(index))
    found: dict[tuple, frozenset[str]] = {}
    for principal in model.principals + model.outsiders:
        for access in model.reach(principal):
            key = (principal.name, access.path, access.tags, access.store.name)
            found[key] = found.get(key, frozenset()) | access.actions
    return found


_BASE_REACH: dict[str, dict] = {}
_BASE_MODEL: dict[str, Any] = {}


def _model(graph: StackGraph) -> stack_model.StackModel:
    index = StackIndex([_Resource(r) for r in graph.resources])
    return stack_model.StackModel(index, stack_model.effective.own_account(index))


def _request_keys(statement: dict) -> dict[str, Any]:
    """Values of the caller-set keys that make ``statement``'s condition hold: the requests
    this Deny was there to refuse (keys AWS sets come from the caller itself)."""
    context: dict[str, Any] = {}
    condition = statement.get("Condition") if isinstance(statement.get("Condition"), dict) else {}
    for raw, clauses in condition.items():
        qualifier, operator, _ = stack_model.engine.parse_operator(raw)
        for key, values in clauses.items():
            if not stack_model.caller_controls(key):
                continue
            values = values if isinstance(values, list) else [values]
            first = re.sub(r"\$\{[^}]*\}", "tenant-a", str(values[0])).replace("*", "x").replace("?", "x")
            if operator == "Null":
                if str(values[0]).lower() == "false":
                    context.setdefault(key, "zz-present")
                continue
            if operator in ("StringNotEquals", "StringNotEqualsIgnoreCase", "StringNotLike", "ArnNotEquals",
                            "ArnNotLike", "NumericNotEquals", "NotIpAddress"):
                value: Any = "arn:aws:kms:eu-west-1:999999999999:key/zz-other" if operator.startswith("Arn") \
                    else "zz-other-value"
            elif operator == "NumericLessThan":
                value = str(float(first) - 0.1)
            elif operator == "NumericGreaterThan":
                value = str(float(first) + 1)
            else:
                value = first
            context[key] = [value] if qualifier else value
    return context


def changes_refusals(mutant: GraphMutant, graph: StackGraph) -> bool:
    """A request the weakened Deny refused (its condition met, its action and resource) is
    now allowed, for some principal, role session or outsider: the Deny was not redundant."""
    if mutant.stack not in _BASE_MODEL:
        _BASE_MODEL[mutant.stack] = _model(baseline(mutant.stack))
    before, after = _BASE_MODEL[mutant.stack], _model(graph)
    statement = mutant.statement or {}
    keys = _request_keys(statement)
    after_principals = {p.name: p for p in after.principals + after.outsiders}
    after_stores = {s.name: s for s in after.stores}
    engine = stack_model.engine
    denied_actions = stack_model.engine.statement_action_set(statement)
    for origin in before.principals + before.outsiders:
        for session in before.sessions(origin):
            now = after_principals.get(session.role.name)
            if now is None:
                continue
            identity_changed = json.dumps(now.caller.identity, sort_keys=True) != \
                json.dumps(session.role.caller.identity, sort_keys=True)
            for store in before.stores:
                if store.own_tag and store.own_tag not in session.tags:
                    continue
                other = after_stores.get(store.name)
                if other is None:
                    continue
                if not identity_changed and json.dumps(other.policy, sort_keys=True) == \
                        json.dumps(store.policy, sort_keys=True):
                    continue
                resource = store.resource(session.tags)
                context = {**session.role.context, **keys}
                if session.role.caller.account:
                    context.setdefault("kms:CallerAccount", session.role.caller.account)
                old = session.role.caller
                old_caller = engine.Caller(old.name, old.account, old.arn, old.identity, dict(session.tags),
                                           old.boundary, old.service, old.anonymous)
                new_caller = engine.Caller(old.name, old.account, old.arn, now.caller.identity, dict(session.tags),
                                           now.caller.boundary, old.service, old.anonymous)
                for action in stack_model.store_actions(store.service, store.resource_type):
                    if action not in denied_actions:
                        continue
                    was = engine.authorize(old_caller, engine.Check(action, resource, context, store.policy
                                                                    if isinstance(store.policy, dict) else None,
                                                                    store.owner))
                    if was:
                        continue
                    if engine.authorize(new_caller, engine.Check(action, resource, context, other.policy
                                                                 if isinstance(other.policy, dict) else None,
                                                                 other.owner)):
                        return True
    return False


def changes_access(mutant: GraphMutant, graph: StackGraph) -> bool:
    """Some principal (or outsider) can do something after the change it could not before."""
    if mutant.stack not in _BASE_REACH:
        _BASE_REACH[mutant.stack] = reach_map(baseline(mutant.stack))
    before = _BASE_REACH[mutant.stack]
    return any(actions - before.get(key, frozenset()) for key, actions in reach_map(graph).items())


# --- documents --------------------------------------------------------------------------------

def _doc_mutant(stack: str, name: str, path: tuple, label: str, what: str, kind: str,
                change: Callable[[dict], None], statement: Optional[dict] = None) -> GraphMutant:
    return GraphMutant(f"{stack}:{name}:{label}", stack, what,
                       lambda graph: edit_document(graph, name, path, change), kind, copy.deepcopy(statement))


def _label(statement: dict, index: int) -> str:
    return str(statement.get("Sid") or f"#{index}")


def _services(statement: dict) -> list[str]:
    actions = statement.get("Action")
    values = actions if isinstance(actions, list) else [actions]
    return sorted({a.split(":", 1)[0] for a in values if isinstance(a, str) and ":" in a})


def _at(index: int) -> Callable[[dict], dict]:
    return lambda document: document["Statement"][index]


def _set_field(index: int, field: str, value: Any) -> Callable[[dict], None]:
    def change(document: dict) -> None:
        document["Statement"][index][field] = copy.deepcopy(value)
    return change


def _drop_statement(index: int) -> Callable[[dict], None]:
    return lambda document: document["Statement"].pop(index)


def _drop_clause(index: int, operator: str, key: str) -> Callable[[dict], None]:
    def change(document: dict) -> None:
        condition = document["Statement"][index]["Condition"]
        del condition[operator][key]
        if not condition[operator]:
            del condition[operator]
        if not condition:
            del document["Statement"][index]["Condition"]
    return change


def document_mutants(stack: str) -> Iterator[GraphMutant]:
    for resource, path, document in documents(baseline(stack)):
        tag = path[0] if len(path) == 1 else f"inline{path[1]}"
        for index, statement in enumerate(document["Statement"]):
            label = f"{tag}:{_label(statement, index)}"
            effect = statement.get("Effect")
            condition = statement.get("Condition") if isinstance(statement.get("Condition"), dict) else {}
            if effect == "Allow":
                if "Resource" in statement and statement["Resource"] not in ("*", ["*"]):
                    yield _doc_mutant(stack, resource.name, path, f"{label}:allow-resource-star",
                                      f"{label} Resource widened to *", "access", _set_field(index, "Resource", "*"))
                services = _services(statement)
                widened = [f"{s}:*" for s in services]
                if services and statement.get("Action") not in (widened, widened[0] if len(widened) == 1 else None):
                    yield _doc_mutant(stack, resource.name, path, f"{label}:allow-action-star",
                                      f"{label} Action widened to {widened}", "access",
                                      _set_field(index, "Action", widened))
                if "Principal" in statement:
                    if statement["Principal"] != "*":
                        yield _doc_mutant(stack, resource.name, path, f"{label}:allow-principal-star",
                                          f"{label} Principal widened to *", "access",
                                          _set_field(index, "Principal", "*"))
                    yield _doc_mutant(stack, resource.name, path, f"{label}:allow-principal-other-account",
                                      f"{label} Principal is another account", "access",
                                      _set_field(index, "Principal", {"AWS": f"arn:aws:iam::{OTHER}:root"}))
                for operator, clauses in condition.items():
                    for key in clauses:
                        yield _doc_mutant(stack, resource.name, path, f"{label}:allow-drop-{operator}-{key}",
                                          f"{label} loses its {operator} {key} condition", "access",
                                          _drop_clause(index, operator, key))
            elif effect == "Deny":
                yield _doc_mutant(stack, resource.name, path, f"{label}:deny-drop",
                                  f"{label} removed", "refusal", _drop_statement(index), statement)
                resources = statement.get("Resource")
                if isinstance(resources, list) and len(resources) > 1:
                    yield _doc_mutant(stack, resource.name, path, f"{label}:deny-first-resource",
                                      f"{label} covers only {resources[0]}", "refusal",
                                      _set_field(index, "Resource", resources[:1]), statement)
                actions = statement.get("Action")
                if actions in ("s3:*", ["s3:*"], "*"):
                    yield _doc_mutant(stack, resource.name, path, f"{label}:deny-only-getput",
                                      f"{label} covers only GetObject/PutObject", "refusal",
                                      _set_field(index, "Action", ["s3:GetObject", "s3:PutObject"]), statement)
                elif isinstance(actions, list) and len(actions) > 1:
                    yield _doc_mutant(stack, resource.name, path, f"{label}:deny-first-action",
                                      f"{label} covers only {actions[0]}", "refusal",
                                      _set_field(index, "Action", actions[:1]), statement)
                if statement.get("Principal") == "*":
                    yield _doc_mutant(stack, resource.name, path, f"{label}:deny-own-account-only",
                                      f"{label} applies only to this account's principals", "refusal",
                                      _set_field(index, "Principal", {"AWS": f"arn:aws:iam::{OWN}:root"}), statement)


COMPUTE_SERVICES = ("lambda.amazonaws.com", "ec2.amazonaws.com", "ecs-tasks.amazonaws.com", "states.amazonaws.com")
EXCEPTION_KEYS = ("aws:principalarn", "aws:principalservicename", "aws:sourcearn", "aws:sourceaccount")


def _control_roles(graph: StackGraph) -> set[str]:
    """Names of roles an AWS feature assumes to run a control (a scanner, a log delivery):
    trusted by a service that is not a compute service. Taking their permissions away is not
    "stricter", it switches the control off, which the pack rightly reports."""
    found = set()
    for role in graph.of_type("aws:iam/role:Role"):
        trust = role.inputs.get("assumeRolePolicy")
        trust = json.loads(trust) if isinstance(trust, str) else trust or {}
        services = {v for s in trust.get("Statement", []) for k, vs in (s.get("Principal") or {}).items()
                    if k == "Service" for v in (vs if isinstance(vs, list) else [vs])} \
            if isinstance(trust, dict) else set()
        if services and not services & set(COMPUTE_SERVICES):
            found.update(str(v) for v in (role.outputs.get("name"), role.outputs.get("arn"), role.name) if v)
    return found


def equivalent_mutants(stack: str) -> Iterator[GraphMutant]:
    control_roles = _control_roles(baseline(stack))
    for resource, path, document in documents(baseline(stack)):
        serves_control = resource.inputs.get("role") in control_roles
        tag = path[0] if len(path) == 1 else f"inline{path[1]}"
        for name, form in encoding.equivalent_forms(document, OWN):
            yield GraphMutant(f"{stack}:{resource.name}:{tag}:{name}", stack, f"{tag} {name}",
                              (lambda f, n, p: lambda graph: edit_document(graph, n, p, lambda d: (
                                  d.clear(), d.update(copy.deepcopy(f)))))(form, resource.name, path),
                              "equivalent")
        for index, statement in enumerate(document["Statement"]):
            label = f"{tag}:{_label(statement, index)}"
            condition = statement.get("Condition") if isinstance(statement.get("Condition"), dict) else {}
            if statement.get("Effect") == "Allow" and len(document["Statement"]) > 1 and not serves_control:
                yield _doc_mutant(stack, resource.name, path, f"{label}:stricter-drop-allow",
                                  f"stricter: {label} removed", "equivalent", _drop_statement(index))
            if statement.get("Effect") == "Deny":
                for operator, clauses in condition.items():
                    for key in clauses:
                        # A clause naming who is spared (a scanner, this distribution) is an
                        # exception for a control, not a narrowing: dropping it stops the control.
                        if sum(len(c) for c in condition.values()) > 1 and str(key).lower() not in EXCEPTION_KEYS:
                            yield _doc_mutant(stack, resource.name, path, f"{label}:stricter-deny-drop-{key}",
                                              f"stricter: {label} applies without its {key} clause", "equivalent",
                                              _drop_clause(index, operator, key))


# --- roles and stores --------------------------------------------------------------------------

def managed_mutants(stack: str) -> Iterator[GraphMutant]:
    for role in baseline(stack).of_type("aws:iam/role:Role"):
        for policy in DATA_WRITE_MANAGED:
            def edit(graph, role=role, policy=policy):
                add_resource(graph, "aws:iam/rolePolicyAttachment:RolePolicyAttachment", f"{role.name}-{policy}",
                             {"role": role.outputs.get("name") or role.name, "policyArn": managed.managed_arn(policy)})
            yield GraphMutant(f"{stack}:{role.name}:managed-{policy}", stack, f"attach {policy}", edit, "access")


def store_mutants(stack: str) -> Iterator[GraphMutant]:
    graph = baseline(stack)
    for bucket in graph.of_type("aws:s3/bucket:Bucket"):
        name, arn = bucket.outputs["bucket"], bucket.outputs["arn"]
        yield GraphMutant(f"{stack}:{bucket.name}:expose-access-point", stack, "public access point", (
            lambda g, name=name: add_resource(g, "aws:s3/accessPoint:AccessPoint", f"{name}-ap", {
                "bucket": name, "name": "shared",
                "policy": json.dumps({"Version": "2012-10-17", "Statement": [{
                    "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
                    "Resource": f"arn:aws:s3:eu-west-1:{OWN}:accesspoint/shared/object/*"}]})},
                outputs={"arn": f"arn:aws:s3:eu-west-1:{OWN}:accesspoint/shared"})), "access")
        for kind, type_, inputs in (
            ("replication", "aws:s3/bucketReplicationConfig:BucketReplicationConfig",
             {"bucket": name, "role": f"arn:aws:iam::{OWN}:role/replication",
              "rules": [{"id": "all", "status": "Enabled", "destination": {"bucket": FOREIGN_BUCKET}}]}),
            ("inventory", "aws:s3/inventory:Inventory",
             {"bucket": name, "name": "all", "includedObjectVersions": "All",
              "destination": {"bucket": {"bucketArn": FOREIGN_BUCKET, "format": "CSV"}}}),
            ("analytics", "aws:s3/analyticsConfiguration:AnalyticsConfiguration",
             {"bucket": name, "name": "all", "storageClassAnalysis": {"dataExport": {"destination": {
                 "s3BucketDestination": {"bucketArn": FOREIGN_BUCKET}}}}}),
            ("notification", "aws:s3/bucketNotification:BucketNotification",
             {"bucket": name, "queues": [{"queueArn": f"arn:aws:sqs:eu-west-1:{OTHER}:collector",
                                          "events": ["s3:ObjectCreated:*"]}]}),
            ("access-logging", "aws:s3/bucketLogging:BucketLogging",
             {"bucket": name, "targetBucket": "somebody-elses-bucket", "targetPrefix": "x/"}),
        ):
            yield GraphMutant(f"{stack}:{bucket.name}:export-{kind}", stack, f"{kind} to another account",
                              (lambda g, t=type_, i=inputs, k=kind, n=name: add_resource(g, t, f"{n}-{k}", i)), "flow")
        if stack == "prod":
            yield GraphMutant(f"{stack}:{bucket.name}:destroy-force", stack, "forceDestroy", (
                lambda g, b=bucket.name: replace_props(g, b, lambda p: p.update(forceDestroy=True))), "integrity")
    for topic in graph.of_type("aws:sns/topic:Topic"):
        for protocol, endpoint in (("https", "https://hooks.example.net/x"), ("email", "someone@example.net"),
                                   ("sqs", f"arn:aws:sqs:eu-west-1:{OTHER}:collector")):
            yield GraphMutant(f"{stack}:{topic.name}:export-subscription-{protocol}", stack,
                              f"{protocol} subscription outside", (
                                  lambda g, a=topic.outputs["arn"], p=protocol, e=endpoint: add_resource(
                                      g, "aws:sns/topicSubscription:TopicSubscription", f"sub-{p}",
                                      {"topic": a, "protocol": p, "endpoint": e})), "flow")
    for group in graph.of_type("aws:cloudwatch/logGroup:LogGroup"):
        yield GraphMutant(f"{stack}:{group.name}:export-subscription-filter", stack, "log subscription filter", (
            lambda g, n=group.outputs.get("name"): add_resource(
                g, "aws:cloudwatch/logSubscriptionFilter:LogSubscriptionFilter", "ship",
                {"logGroup": n, "filterPattern": "", "destinationArn":
                 f"arn:aws:logs:eu-west-1:{OTHER}:destination:collector"})), "flow")
        if stack == "prod":
            yield GraphMutant(f"{stack}:{group.name}:evidence-retention", stack, "retention 7 days", (
                lambda g, n=group.name: replace_props(g, n, lambda p: p.update(retentionInDays=7))), "evidence")
            yield GraphMutant(f"{stack}:{group.name}:evidence-unencrypted", stack, "no KMS key", (
                lambda g, n=group.name: replace_props(g, n, lambda p: p.pop("kmsKeyId", None))), "evidence")
    for trail in graph.of_type("aws:cloudtrail/trail:Trail"):
        yield GraphMutant(f"{stack}:{trail.name}:export-trail-bucket", stack, "trail delivers elsewhere", (
            lambda g, n=trail.name: replace_props(g, n, lambda p: p.update(s3BucketName="somebody-elses-bucket"))),
            "flow")
        if stack == "prod":
            for selector_index, selector in enumerate(trail.inputs.get("advancedEventSelectors") or []):
                fields = [f.get("field") for f in selector.get("fieldSelectors", [])]
                if "resources.type" in fields:
                    for value in ("true", "false"):
                        yield GraphMutant(f"{stack}:{trail.name}:evidence-readonly-{value}", stack,
                                          f"data events readOnly={value} only", (
                                              lambda g, n=trail.name, i=selector_index, v=value: replace_props(
                                                  g, n, lambda p: p["advancedEventSelectors"][i]["fieldSelectors"]
                                                  .append({"field": "readOnly", "equals": [v]}))), "evidence")
            yield GraphMutant(f"{stack}:{trail.name}:evidence-unencrypted", stack, "trail without KMS", (
                lambda g, n=trail.name: replace_props(g, n, lambda p: p.pop("kmsKeyId", None))), "evidence")
    if stack == "prod":
        for lifecycle in graph.of_type("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration"):
            yield GraphMutant(f"{stack}:{lifecycle.name}:destroy-expire-current", stack, "expire current after 7 days", (
                lambda g, n=lifecycle.name: replace_props(g, n, lambda p: p["rules"].append(
                    {"id": "early", "status": "Enabled", "filter": {"prefix": ""}, "expiration": {"days": 7}}))),
                "integrity")
        for versioning in graph.of_type("aws:s3/bucketVersioning:BucketVersioning"):
            yield GraphMutant(f"{stack}:{versioning.name}:destroy-versioning-suspended", stack, "versioning suspended", (
                lambda g, n=versioning.name: replace_props(
                    g, n, lambda p: p["versioningConfiguration"].update(status="Suspended"))), "integrity")
        for key in graph.of_type("aws:kms/key:Key"):
            yield GraphMutant(f"{stack}:{key.name}:destroy-deletion-window", stack, "deletion window 7 days", (
                lambda g, n=key.name: replace_props(g, n, lambda p: p.update(deletionWindowInDays=7))), "integrity")
        for acl in graph.of_type("aws:wafv2/webAcl:WebAcl"):
            for position, rule in enumerate(acl.inputs.get("rules") or []):
                field = "overrideAction" if "overrideAction" in rule else "action"
                yield GraphMutant(f"{stack}:{acl.name}:destroy-waf-count-{rule.get('name')}", stack,
                                  f"WAF rule {rule.get('name')} counts", (
                                      lambda g, n=acl.name, i=position, f=field: replace_props(
                                          g, n, lambda p: p["rules"][i].update({f: {"count": {}}}))), "integrity")


def weakenings(stack: str) -> list[GraphMutant]:
    return list(document_mutants(stack)) + list(managed_mutants(stack)) + list(store_mutants(stack))


def equivalents(stack: str) -> list[GraphMutant]:
    return list(equivalent_mutants(stack))


def all_generated(stacks: tuple[str, ...] = ("prod", "dev")) -> tuple[list[GraphMutant], list[GraphMutant]]:
    return ([m for s in stacks for m in weakenings(s)], [m for s in stacks for m in equivalents(s)])


def sample(items: list, every: int) -> list:
    """A deterministic spread of a class list (every ``every``-th, by stable id order)."""
    ordered = sorted(items, key=lambda m: m.id)
    return ordered[::every]


__all__ = ["all_generated", "changes_access", "copy_graph", "sample", "re"]


def must_be_killed(mutant: GraphMutant, graph: StackGraph) -> bool:
    """Does the mutant change access, a refusal, a flow, evidence or integrity? Flow,
    evidence and integrity mutants do by construction; access and refusal mutants when the
    IAM engine shows a request that goes through after and did not before."""
    if mutant.kind == "access":
        return changes_access(mutant, graph)
    if mutant.kind == "refusal":
        return changes_refusals(mutant, graph)
    return mutant.kind != "equivalent"
