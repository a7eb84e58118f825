"""How long does evidence live, and who can touch it?

Audit sinks are found from what writes to them, not from their names: a trail's bucket
and log group, server access log targets, CloudFront log buckets and delivery
destinations, every log group. Each must

* keep records at least ``minimumRetentionDays`` (log group retention; lifecycle
  expiration of current objects of a sink bucket),
* be encrypted (``requireEncryption``: a log group's KMS key, a trail's KMS key, a sink
  bucket's default encryption),
* record reads and writes of the data (``requireDataEvents``: a logging trail's selectors
  cover both read and write S3 data events of every data bucket), and
* not be modifiable by the principals it records: no role or user of the program (nor
  anything reaching through a role, see ``model``) may delete, overwrite, re-key,
  shorten or stop it (``tamper_actions``; appending log events is not tampering).
"""

from __future__ import annotations

from fnmatch import fnmatchcase
from typing import Any, Mapping, Optional

from pulumi_policy import EnforcementLevel, ReportViolation, Severity, StackValidationArgs

from . import cloudtrail, effective
from . import model as stack_model
from .common import (RuleInfo, as_list, config_value, dig, exemptions_schema, is_unknown, stack_policy, subject,
                     truthy)
from .joins import ENCRYPTION, LIFECYCLE, Node, StackIndex

INFO = RuleInfo(
    name="model-evidence-retained",
    summary="Every audit sink (trail, its bucket and log group, access-log buckets, CDN log destinations, log "
    "groups) keeps records at least the configured days, is encrypted, records reads and writes of the data, "
    "and cannot be deleted, overwritten, re-keyed or stopped by the principals it records.",
    controls=("CloudTrail.2", "CloudTrail.5", "S3.9", "S3.22", "S3.23", "CloudWatch.16"),
    severity=Severity.HIGH,
    enforcement=EnforcementLevel.MANDATORY,
    remediation="Keep retention >= minimumRetentionDays, encrypt the sink, select read and write data events "
    "for every data bucket, and remove delete/overwrite/policy/retention/stop rights on audit sinks from "
    "workload roles (or list a reviewed administrator in evidenceAdmins).",
)

SCHEMA = exemptions_schema({
    "minimumRetentionDays": {"type": "integer", "default": 0,
                             "description": "Days every audit sink keeps records (0: not checked)."},
    "requireEncryption": {"type": "boolean", "default": False,
                          "description": "Audit sinks must be encrypted (log groups with a KMS key)."},
    "requireDataEvents": {"type": "boolean", "default": False,
                          "description": "A logging trail must record read and write data events of every data bucket."},
    "evidenceAdmins": {"type": "array", "items": {"type": "string"}, "default": [],
                       "description": "Principal logical-name globs allowed to manage audit sinks."},
    "accountId": {"type": "string", "default": "",
                  "description": "This program's account id (default: the account its own ARNs carry)."},
})

LOG_GROUP = stack_model.LOG_GROUP
TRAIL = cloudtrail.TRAIL

TAMPER = {
    "s3": ("s3:DeleteObject", "s3:DeleteObjectVersion", "s3:PutObject", "s3:PutBucketPolicy",
           "s3:DeleteBucketPolicy", "s3:PutLifecycleConfiguration", "s3:PutBucketVersioning", "s3:DeleteBucket",
           "s3:PutBucketObjectLockConfiguration", "s3:PutObjectRetention", "s3:BypassGovernanceRetention",
           "s3:PutEncryptionConfiguration", "s3:PutBucketAcl", "s3:PutObjectAcl", "s3:PutBucketOwnershipControls",
           "s3:PutReplicationConfiguration", "s3:PutBucketPublicAccessBlock", "s3:PutObjectLegalHold"),
    "logs": ("logs:DeleteLogGroup", "logs:DeleteLogStream", "logs:PutRetentionPolicy", "logs:DeleteRetentionPolicy",
             "logs:DisassociateKmsKey", "logs:AssociateKmsKey", "logs:DeleteDataProtectionPolicy",
             "logs:PutDataProtectionPolicy", "logs:PutSubscriptionFilter", "logs:DeleteSubscriptionFilter"),
    "kms": ("kms:ScheduleKeyDeletion", "kms:DisableKey", "kms:PutKeyPolicy", "kms:CreateGrant"),
    "cloudtrail": ("cloudtrail:StopLogging", "cloudtrail:DeleteTrail", "cloudtrail:UpdateTrail",
                   "cloudtrail:PutEventSelectors", "cloudtrail:PutInsightSelectors"),
}
"""What changes or removes recorded evidence, per service (``s3:PutObject`` overwrites the
current version readers see; ``logs:PutLogEvents`` only appends and is not here)."""


def _sink_buckets(index: StackIndex) -> dict[str, str]:
    """``{bucket urn: why it is a sink}``."""
    sinks: dict[str, str] = {urn: "access-log target" for urn in index.log_target_buckets()}
    for trail in index.of_type(TRAIL):
        probe = Node("inline", trail.name, trail.urn, {"bucket": trail.props.get("s3BucketName")},
                     {"bucket": trail.property_dependencies.get("s3BucketName", [])})
        bucket = index.bucket_for(probe)
        if bucket is not None:
            sinks[bucket.urn] = f"trail '{trail.name}' bucket"
    return sinks


def _trail_log_groups(index: StackIndex) -> set[str]:
    urns = set()
    for trail in index.of_type(TRAIL):
        value = trail.props.get("cloudWatchLogsGroupArn")
        for group in index.of_type(LOG_GROUP):
            arn = group.props.get("arn")
            if (isinstance(value, str) and isinstance(arn, str) and value.rstrip(":*") == arn.rstrip(":*")) or \
                    group.urn in trail.property_dependencies.get("cloudWatchLogsGroupArn", []):
                urns.add(group.urn)
    return urns


def _number(value: Any) -> Optional[float]:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def retention_problems(index: StackIndex, minimum: int, sinks: Mapping[str, str]) -> list[tuple[Node, str]]:
    found = []
    if minimum <= 0:
        return found
    for group in index.of_type(LOG_GROUP):
        days = _number(group.props.get("retentionInDays"))
        if days and days < minimum:
            found.append((group, f"log group keeps events {days:g} days, less than {minimum}"))
    for bucket in index.buckets:
        if bucket.urn not in sinks:
            continue
        for lifecycle in index.settings_of(bucket, LIFECYCLE):
            for rule in as_list(lifecycle.props.get("rules")):
                if not isinstance(rule, dict) or str(rule.get("status", "Enabled")) != "Enabled":
                    continue
                expiration = rule.get("expiration") or {}
                days = _number(expiration.get("days")) if isinstance(expiration, dict) else None
                if isinstance(expiration, dict) and expiration.get("date"):
                    found.append((lifecycle, f"{sinks[bucket.urn]} '{bucket.name}' expires its records on a date "
                                             f"({expiration['date']}), not after {minimum} days"))
                elif days is not None and days < minimum:
                    found.append((lifecycle, f"{sinks[bucket.urn]} '{bucket.name}' expires records after {days:g} "
                                             f"days, less than {minimum}"))
    return found


def encryption_problems(index: StackIndex, sinks: Mapping[str, str]) -> list[tuple[Node, str]]:
    found = []
    for group in index.of_type(LOG_GROUP):
        if not group.props.get("kmsKeyId"):
            found.append((group, "log group is not encrypted with a KMS key (kmsKeyId)"))
    for trail in index.of_type(TRAIL):
        if not trail.props.get("kmsKeyId"):
            found.append((trail, "trail log files are not encrypted with a KMS key (kmsKeyId)"))
    for bucket in index.buckets:
        if bucket.urn in sinks and not index.settings_of(bucket, ENCRYPTION) and \
                not bucket.props.get("serverSideEncryptionConfiguration"):
            found.append((bucket, f"{sinks[bucket.urn]} has no default encryption"))
    return found


def _records(trail: Node, object_arn: str, read: bool) -> bool:
    """Does a logging trail record read (or write) data events of ``object_arn``?"""
    if trail.props.get("enableLogging") is False:
        return False
    for selector in as_list(trail.props.get("advancedEventSelectors")):
        if not isinstance(selector, dict) or not cloudtrail._selector_covers(selector, object_arn):
            continue
        fields = {str(f.get("field")): f for f in as_list(selector.get("fieldSelectors")) if isinstance(f, dict)}
        read_only = fields.get("readOnly")
        if read_only is None:
            return True
        values = [str(v).lower() for v in as_list(read_only.get("equals"))]
        negated = [str(v).lower() for v in as_list(read_only.get("notEquals"))]
        wanted = "true" if read else "false"
        if (values and wanted in values) or (negated and wanted not in negated):
            return True
    for selector in as_list(trail.props.get("eventSelectors")):
        if isinstance(selector, dict) and cloudtrail._classic_covers(selector, object_arn):
            kind = str(selector.get("readWriteType") or "All")
            if kind == "All" or kind == ("ReadOnly" if read else "WriteOnly"):
                return True
    return False


def data_event_problems(index: StackIndex, sinks: Mapping[str, str]) -> list[tuple[Node, str]]:
    found = []
    trails = index.of_type(TRAIL)
    for bucket in effective.data_buckets(index):
        if bucket.urn in sinks:
            continue
        arn = effective.bucket_arn(bucket)
        if not arn:
            continue
        probe = f"{arn}/{stack_model.ANY_KEY}"
        for read, what in ((True, "reads"), (False, "writes")):
            if not any(_records(t, probe, read) for t in trails):
                found.append((bucket, f"no logging trail records data {what} of its objects"))
    return found


def tamper_problems(model: stack_model.StackModel, sinks: Mapping[str, str], trail_groups: set[str],
                    admins: list[str]) -> list[tuple[Node, str]]:
    """Principals of the program that can change or remove the evidence that records them."""
    sink_urns = set(sinks) | trail_groups | {g.urn for g in model.index.of_type(LOG_GROUP)}
    sink_urns |= {t.urn for t in model.index.of_type(TRAIL)}
    keys = set()
    for node in [n for n in model.index.nodes if n.urn in sink_urns]:
        key = node.props.get("kmsKeyId")
        if isinstance(key, str):
            keys.add(key)
    found = []
    for principal in model.principals:
        for access in model.reach(principal):
            acting = access.path[-1] if access.path else principal.name
            if any(fnmatchcase(acting, glob) for glob in admins):
                continue
            store = access.store
            is_sink = store.node.urn in sink_urns or (store.service == "kms" and (
                store.node.props.get("arn") in keys or store.node.props.get("keyId") in keys
                or store.node.props.get("id") in keys))
            if not is_sink:
                continue
            bad = sorted(access.actions & set(TAMPER.get(store.service, ())))
            if bad:
                found.append((store.node, f"{access.how()} can {', '.join(bad[:6])} on audit store "
                                          f"'{store.name}', evidence of its own actions"))
    return found


def _validate(args: StackValidationArgs, report: ReportViolation) -> None:
    index = StackIndex(args.resources)
    exempt = set(config_value(args, "exemptResources", []) or [])
    sinks = _sink_buckets(index)
    found = retention_problems(index, int(config_value(args, "minimumRetentionDays", 0) or 0), sinks)
    if truthy(config_value(args, "requireEncryption", False)):
        found += encryption_problems(index, sinks)
    if truthy(config_value(args, "requireDataEvents", False)):
        found += data_event_problems(index, sinks)
    configured = config_value(args, "accountId", "")
    model = stack_model.stack_model(index, configured if isinstance(configured, str) and configured else None)
    if model is not None:
        found += tamper_problems(model, sinks, _trail_log_groups(index),
                                 [str(a) for a in config_value(args, "evidenceAdmins", []) or []])
    for node, problem in found:
        if node.name not in exempt:
            report(INFO.message(subject(node.type, node.name), problem + "."), node.urn)


POLICIES = [stack_policy(INFO, _validate, SCHEMA)]
