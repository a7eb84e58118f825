"""Integrity in transit for every store with a resource policy, not only buckets: the
policy itself refuses plain-HTTP requests for every action of the store, from anyone.

Buckets have their own, finer rules (``s3-bucket-policy-denies-insecure-transport`` and the
TLS-version rule); this one asks the same question of the other stores the model finds
(topics, queues, secrets, ...), for the services listed in ``services``, with the IAM
engine: an anonymous caller, a principal of this account and one of another account each
send every content-carrying action of the store (``actions``) with ``aws:SecureTransport`` false, and each must meet a Deny.
"""

from __future__ import annotations

from pulumi_policy import EnforcementLevel, ReportViolation, Severity, StackValidationArgs

from . import iam_engine as engine
from . import model as stack_model
from .common import RuleInfo, config_value, exemptions_schema, stack_policy, subject
from .joins import StackIndex

INFO = RuleInfo(
    name="model-transport-enforced",
    summary="Every store of the listed services (topics, queues, ...) refuses plain-HTTP requests in its own "
    "resource policy, for every action and every caller.",
    controls=("SNS.3", "SQS.3"),
    severity=Severity.MEDIUM,
    enforcement=EnforcementLevel.MANDATORY,
    remediation="Add {\"Effect\": \"Deny\", \"Principal\": \"*\", \"Action\": \"<service>:*\", \"Resource\": <store ARN>, "
    "\"Condition\": {\"Bool\": {\"aws:SecureTransport\": \"false\"}}} to the store's policy.",
)

DATA_ACTIONS = {"sns": ["sns:Publish"], "sqs": ["sqs:SendMessage", "sqs:ReceiveMessage"],
                "secretsmanager": ["secretsmanager:GetSecretValue", "secretsmanager:PutSecretValue"]}
"""The actions that carry a store's content, per service (the default of ``actions``)."""

SCHEMA = exemptions_schema({
    "services": {"type": "array", "items": {"type": "string"}, "default": [],
                 "description": "Service prefixes whose stores must deny plain HTTP (e.g. sns, sqs)."},
    "actions": {"type": "object", "default": DATA_ACTIONS,
                "description": "Service prefix -> actions that must be refused over plain HTTP (default: the "
                "actions that carry content)."},
    "accountId": {"type": "string", "default": "",
                  "description": "This program's account id (default: the account its own ARNs carry)."},
})


def gaps(store: stack_model.Store, own: str, actions: list[str]) -> list[str]:
    callers = [engine.Caller("an anonymous caller", anonymous=True),
               engine.Caller("a principal of this account", own, f"arn:aws:iam::{own}:role/probe"),
               engine.Caller("a principal of another account", stack_model.OTHER_ACCOUNT,
                             f"arn:aws:iam::{stack_model.OTHER_ACCOUNT}:role/probe")]
    found = []
    document = store.policy if isinstance(store.policy, dict) else None
    for caller in callers:
        denies, merged = engine.applicable_denies(document, caller, {"aws:SecureTransport": "false"})
        missing = [a for a in actions if not engine.refuses(denies, a, store.sample, merged)]
        if missing:
            found.append(f"{caller.name}: {len(missing)} action(s) over plain HTTP not denied, e.g. "
                         f"{', '.join(missing[:3])}")
    return found


def _validate(args: StackValidationArgs, report: ReportViolation) -> None:
    services = {str(s) for s in config_value(args, "services", []) or []}
    if not services:
        return
    index = StackIndex(args.resources)
    configured = config_value(args, "accountId", "")
    model = stack_model.stack_model(index, configured if isinstance(configured, str) and configured else None)
    if model is None:
        return
    exempt = set(config_value(args, "exemptResources", []) or [])
    per_service = config_value(args, "actions", DATA_ACTIONS)
    for store in model.stores:
        if store.service in services and store.node.name not in exempt:
            found = gaps(store, model.own, list(per_service.get(store.service, DATA_ACTIONS.get(store.service, []))))
            if found:
                report(INFO.message(subject(store.node.type, store.node.name),
                                    "its policy does not refuse plain HTTP: " + "; ".join(found) + "."),
                       store.node.urn)


POLICIES = [stack_policy(INFO, _validate, SCHEMA)]
