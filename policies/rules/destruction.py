"""What can destroy data? In a stack marked production, no switch makes loss easy or silent.

Asked of every store the graph has, whatever its shape: buckets that ``pulumi destroy``
would empty (``forceDestroy``) or that keep no versions (an overwrite or delete is final), lifecycle rules that expire current data (or replaced
versions) before the configured days, object-lock configurations without a default
retention, tables and databases without deletion protection or final snapshot, log
groups destroyed with the stack, and protections that are present but do not act: a web
ACL whose rules only count (or that no distribution uses), a KMS key whose deletion
window is under the configured days (``kms-key-deletion-window`` keeps its own finding for
every stack; here it is judged for production).
"""

from __future__ import annotations

from typing import Any, Optional

from pulumi_policy import EnforcementLevel, ReportViolation, Severity, StackValidationArgs

from . import effective
from .common import RuleInfo, as_list, config_value, dig, exemptions_schema, stack_policy, subject, truthy
from .joins import LIFECYCLE, VERSIONING, Node, StackIndex

INFO = RuleInfo(
    name="model-destruction-guarded",
    summary="In a production stack nothing makes data loss easy or silent: no force-destroy bucket, no early "
    "expiry of current or replaced data, no object lock without retention, deletion protection on tables and "
    "databases, KMS deletion windows of at least the configured days, and WAF rules that block rather than count.",
    controls=("S3.14", "KMS.3", "DynamoDB.6", "RDS.8", "WAF.1"),
    severity=Severity.HIGH,
    enforcement=EnforcementLevel.MANDATORY,
    remediation="Turn the switch back (force_destroy=False, longer expiry, default retention, deletion "
    "protection, block actions), or mark the stack non-production in policies/config/<stack>.json.",
)

SCHEMA = exemptions_schema({
    "production": {"type": "boolean", "default": False, "description": "The stack holds production data."},
    "minimumCurrentDays": {"type": "integer", "default": 365,
                           "description": "Earliest day a lifecycle rule may expire current objects."},
    "minimumNoncurrentDays": {"type": "integer", "default": 30,
                              "description": "Earliest day a lifecycle rule may expire replaced versions."},
    "minimumKeyDeletionDays": {"type": "integer", "default": 30,
                               "description": "Shortest KMS key deletion window."},
    "countingRulesAllowed": {"type": "array", "items": {"type": "string"}, "default": [],
                             "description": "WAF rule names that may count instead of block (under evaluation)."},
})

BUCKET_LOCK = "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration"
WEB_ACL = "aws:wafv2/webAcl:WebAcl"
DISTRIBUTION = "aws:cloudfront/distribution:Distribution"


def _number(value: Any) -> Optional[float]:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _lifecycle(index: StackIndex, current: int, noncurrent: int, skip: set[str]) -> list[tuple[Node, str]]:
    found = []
    for bucket in index.buckets:
        if bucket.urn in skip:
            continue
        for lifecycle in index.settings_of(bucket, LIFECYCLE):
            for rule in as_list(lifecycle.props.get("rules")):
                if not isinstance(rule, dict) or str(rule.get("status", "Enabled")) != "Enabled":
                    continue
                expiration = rule.get("expiration") if isinstance(rule.get("expiration"), dict) else {}
                days = _number(expiration.get("days"))
                if expiration.get("date"):
                    found.append((lifecycle, f"rule {rule.get('id')!r} deletes current objects of '{bucket.name}' "
                                             f"on {expiration['date']}"))
                elif days is not None and days < current:
                    found.append((lifecycle, f"rule {rule.get('id')!r} deletes current objects of '{bucket.name}' "
                                             f"after {days:g} days (production keeps them at least {current})"))
                versions = rule.get("noncurrentVersionExpiration")
                days = _number(versions.get("noncurrentDays")) if isinstance(versions, dict) else None
                if days is not None and days < noncurrent:
                    found.append((lifecycle, f"rule {rule.get('id')!r} deletes replaced or deleted versions of "
                                             f"'{bucket.name}' after {days:g} days (at least {noncurrent})"))
    return found


def _waf(index: StackIndex, allowed: set[str]) -> list[tuple[Node, str]]:
    found = []
    used = set()
    for distribution in index.of_type(DISTRIBUTION):
        value = distribution.props.get("webAclId")
        used.update(distribution.property_dependencies.get("webAclId", []))
        for acl in index.of_type(WEB_ACL):
            if isinstance(value, str) and value in {acl.props.get("arn"), acl.props.get("id")}:
                used.add(acl.urn)
    for acl in index.of_type(WEB_ACL):
        if acl.urn not in used and index.of_type(DISTRIBUTION):
            found.append((acl, "web ACL exists but no distribution uses it (webAclId)"))
        counting = []
        for rule in as_list(acl.props.get("rules")):
            if not isinstance(rule, dict) or rule.get("name") in allowed:
                continue
            action = rule.get("action") if isinstance(rule.get("action"), dict) else {}
            override = rule.get("overrideAction") if isinstance(rule.get("overrideAction"), dict) else {}
            if action.get("count") is not None or override.get("count") is not None:
                counting.append(str(rule.get("name")))
            group = (rule.get("statement") or {}).get("managedRuleGroupStatement") \
                if isinstance(rule.get("statement"), dict) else None
            if isinstance(group, dict):
                for override_rule in as_list(group.get("ruleActionOverrides")):
                    if isinstance(override_rule, dict) and isinstance(override_rule.get("actionToUse"), dict) \
                            and override_rule["actionToUse"].get("count") is not None:
                        counting.append(f"{rule.get('name')}/{override_rule.get('name')}")
        if counting:
            found.append((acl, f"WAF rule(s) {', '.join(counting)} only count, so the protection is present "
                               "but does not block"))
    return found


def problems(index: StackIndex, args: Any) -> list[tuple[Node, str]]:
    found: list[tuple[Node, str]] = []
    for bucket in index.buckets:
        if truthy(bucket.props.get("forceDestroy")):
            found.append((bucket, "forceDestroy lets a destroy delete every object and version"))
        statuses = [dig(v.props, "versioningConfiguration", "status") for v in index.settings_of(bucket, VERSIONING)]
        inline = bucket.props.get("versioning")
        if isinstance(inline, dict) and "enabled" in inline:
            statuses.append("Enabled" if truthy(inline.get("enabled")) else "Suspended")
        if not statuses or statuses[-1] != "Enabled":
            found.append((bucket, "versioning is not enabled, so an overwrite or delete loses the data for good"))
    # Audit sinks' retention is model-evidence-retained's question (minimumRetentionDays).
    found += _lifecycle(index, int(config_value(args, "minimumCurrentDays", 365)),
                        int(config_value(args, "minimumNoncurrentDays", 30)), index.log_target_buckets())
    minimum_key = int(config_value(args, "minimumKeyDeletionDays", 30))
    for key in index.of_type(effective.KEY):
        days = _number(key.props.get("deletionWindowInDays"))
        if days is not None and days < minimum_key:
            found.append((key, f"deletion window {days:g} days (production: at least {minimum_key})"))
    for lock in index.of_type(BUCKET_LOCK):
        rule = lock.props.get("rule")
        if not isinstance(rule, dict) or not isinstance(rule.get("defaultRetention"), dict):
            found.append((lock, "object lock has no default retention, so new objects are not protected"))
    for table in index.of_type("aws:dynamodb/table:Table"):
        if not truthy(table.props.get("deletionProtectionEnabled")):
            found.append((table, "table has no deletion protection"))
    for db in index.of_type("aws:rds/instance:Instance", "aws:rds/cluster:Cluster"):
        if truthy(db.props.get("skipFinalSnapshot")) or not truthy(db.props.get("deletionProtection")):
            found.append((db, "database can be deleted without protection or a final snapshot"))
    found += _waf(index, set(config_value(args, "countingRulesAllowed", []) or []))
    return found


def _validate(args: StackValidationArgs, report: ReportViolation) -> None:
    if not truthy(config_value(args, "production", False)):
        return
    index = StackIndex(args.resources)
    exempt = set(config_value(args, "exemptResources", []) or [])
    for node, problem in problems(index, args):
        if node.name not in exempt:
            report(INFO.message(subject(node.type, node.name), problem + "."), node.urn)


POLICIES = [stack_policy(INFO, _validate, SCHEMA)]
