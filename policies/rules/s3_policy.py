"""Bucket-policy rules judged by evaluation, not by shape.

Each rule takes the bucket's effective policy (``effective.effective_policy``) and asks
the IAM engine whether its Deny statements refuse the requests that must be refused, for
every S3 action that acts on a bucket or an object (from AWS's action list), for an
anonymous caller, a principal of this account and one of another account. A deny that
names only ``s3:GetObject``, only the objects, only this account's principals, or carries
an extra condition that some request does not meet, leaves a gap, and the violation names
it.
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any, Iterable, Mapping, Optional

from pulumi_policy import EnforcementLevel, ReportViolation, Severity, StackValidationArgs

from . import effective
from . import iam_engine as engine
from .common import UNKNOWN, RuleInfo, as_list, config_value, dig, exemptions_schema, stack_policy, subject
from .joins import ENCRYPTION, Node, StackIndex

PROBE_ROLE = "probe-role"
FOREIGN_ACCOUNT = "000000000000"
OBJECT_KEY = "tenant/2026/01/01/file.txt"
LISTING_ACTIONS = ("s3:ListBucket", "s3:ListBucketVersions", "s3:ListBucketMultipartUploads")
BUCKET_ACTIONS_TENANTS_MAY_USE = LISTING_ACTIONS + ("s3:GetBucketLocation",)


@lru_cache(maxsize=1)
def bucket_and_object_actions() -> tuple[tuple[str, bool, bool], ...]:
    """``(action, on bucket, on object)`` for every S3 action that acts on either."""
    found = []
    for name, (_, types) in engine.service_actions("s3").items():
        on_bucket, on_object = "bucket" in types, "object" in types
        if on_bucket or on_object:
            found.append((f"s3:{name}", on_bucket, on_object))
    return tuple(sorted(found))


def _callers(account: Optional[str], tags: Optional[Mapping[str, str]] = None) -> list[engine.Caller]:
    own = account or "111111111111"
    callers = [engine.Caller("a principal of this account", own, f"arn:aws:iam::{own}:role/{PROBE_ROLE}",
                             tags=dict(tags or {}))]
    if tags is None:
        callers += [
            engine.Caller("an anonymous caller", anonymous=True),
            engine.Caller("a principal of another account", FOREIGN_ACCOUNT,
                          f"arn:aws:iam::{FOREIGN_ACCOUNT}:role/{PROBE_ROLE}"),
        ]
    return callers


def _key(document: Any) -> str:
    return json.dumps(document, sort_keys=True, default=str)


@lru_cache(maxsize=256)
def _gaps_cached(document_json: str, arn: str, context_json: str, account: Optional[str]) -> tuple[str, ...]:
    document = json.loads(document_json)
    context = json.loads(context_json)
    gaps = []
    for caller in _callers(account):
        missing = []
        denies, merged = engine.applicable_denies(document, caller, context)
        for action, on_bucket, on_object in bucket_and_object_actions():
            targets = ([arn] if on_bucket else []) + ([f"{arn}/{OBJECT_KEY}"] if on_object else [])
            for resource in targets:
                if not engine.refuses(denies, action, resource, merged):
                    missing.append(action + ("" if resource == arn else " (objects)"))
        if missing:
            gaps.append(f"{caller.name}: {len(missing)} action(s) not denied, e.g. {', '.join(missing[:4])}")
    return tuple(gaps)


def deny_gaps(document: Any, arn: str, context: Mapping[str, Any], account: Optional[str]) -> list[str]:
    """Requests under ``context`` that no Deny of ``document`` refuses, per kind of caller."""
    return list(_gaps_cached(_key(document), arn, json.dumps(dict(context), sort_keys=True), account))


def _policy_for(index: StackIndex, bucket: Node) -> tuple[Any, str]:
    document, writer = effective.effective_policy(index, bucket)
    where = f"its bucket policy '{writer.name}'" if writer is not None else "its bucket policy"
    return document, where


def _exempt(args: Any) -> set[str]:
    value = config_value(args, "exemptResources", [])
    return set(value) if isinstance(value, list) else set()


def _account(args: Any, index: StackIndex) -> Optional[str]:
    configured = config_value(args, "accountId", "")
    return effective.own_account(index, configured if isinstance(configured, str) else None)


ACCOUNT_SCHEMA_ENTRY = {
    "accountId": {
        "type": "string",
        "default": "",
        "description": "This stack's AWS account id (default: the account of the stack's own ARNs).",
    },
}


def _coverage_rule(info: RuleInfo, context: Mapping[str, Any], what: str):
    def validate(args: StackValidationArgs, report: ReportViolation) -> None:
        index = StackIndex(args.resources)
        account = _account(args, index)
        exempt = _exempt(args)
        for bucket in index.buckets:
            if bucket.name in exempt:
                continue
            arn = effective.bucket_arn(bucket)
            document, where = _policy_for(index, bucket)
            if document is UNKNOWN or arn is None:
                continue
            label = subject(bucket.type, bucket.name)
            if document is None:
                report(info.message(label, f"no bucket policy, so {what} is allowed."), bucket.urn)
                continue
            if document is effective.UNPARSEABLE:
                report(info.message(label, f"{where} is not valid JSON, so whether it denies {what} cannot "
                                           "be verified."), bucket.urn)
                continue
            gaps = deny_gaps(document, arn, context, account)
            if gaps:
                report(info.message(label, f"{where} does not deny {what} for every S3 action on the "
                                           f"bucket and its objects; " + "; ".join(gaps) + "."), bucket.urn)
    return validate


TLS_ONLY_INFO = RuleInfo(
    name="s3-bucket-policy-denies-insecure-transport",
    summary="Every bucket's effective policy denies every S3 action on the bucket and on all its "
    "objects, to every caller, when aws:SecureTransport is false (coverage computed by the IAM "
    "engine over AWS's action list, not read from a Sid or a shape).",
    controls=("S3.5",),
    severity=Severity.HIGH,
    enforcement=EnforcementLevel.MANDATORY,
    remediation="Add {\"Sid\": \"DenyInsecureTransport\", \"Effect\": \"Deny\", \"Principal\": \"*\", "
    "\"Action\": \"s3:*\", \"Resource\": [bucket_arn, bucket_arn + \"/*\"], \"Condition\": {\"Bool\": "
    "{\"aws:SecureTransport\": \"false\"}}} with no other condition.",
)

OLD_TLS_INFO = RuleInfo(
    name="s3-bucket-policy-denies-old-tls",
    summary="Every bucket's effective policy denies every S3 action on the bucket and its objects "
    "to every caller over TLS older than 1.2 (s3:TlsVersion).",
    controls=(),
    severity=Severity.MEDIUM,
    enforcement=EnforcementLevel.MANDATORY,
    remediation="Add {\"Sid\": \"DenyTlsOlderThan12\", \"Effect\": \"Deny\", \"Principal\": \"*\", "
    "\"Action\": \"s3:*\", \"Resource\": [bucket_arn, bucket_arn + \"/*\"], \"Condition\": "
    "{\"NumericLessThan\": {\"s3:TlsVersion\": \"1.2\"}}}.",
)

COVERAGE_SCHEMA = exemptions_schema(ACCOUNT_SCHEMA_ENTRY)


# ---------------------------------------------------------------------------------------

SSE_INFO = RuleInfo(
    name="s3-bucket-policy-enforces-sse-kms",
    summary="The effective policy of every data bucket (one the stack's workloads write to) "
    "denies uploads that ask for another encryption algorithm (SSE-S3, SSE-C) or another KMS key "
    "than the bucket's default key.",
    controls=("S3.4",),
    severity=Severity.HIGH,
    enforcement=EnforcementLevel.MANDATORY,
    remediation="Deny s3:PutObject on bucket_arn/* when s3:x-amz-server-side-encryption is present "
    "and not the bucket's algorithm (StringNotEquals), when "
    "s3:x-amz-server-side-encryption-aws-kms-key-id is not the key ARN (ArnNotEquals, no "
    "wildcard), and when s3:x-amz-server-side-encryption-customer-algorithm is present (Null false).",
)


def default_encryption(index: StackIndex, bucket: Node) -> tuple[Optional[str], Optional[str]]:
    """``(algorithm, key ARN)`` of the bucket's default encryption, when known."""
    for setting in index.settings_of(bucket, ENCRYPTION):
        for rule in as_list(setting.props.get("rules") or setting.props.get("rule")):
            default = dig(rule, "applyServerSideEncryptionByDefault")
            if isinstance(default, list):
                default = default[0] if default else None
            if isinstance(default, Mapping):
                algorithm, key = default.get("sseAlgorithm"), default.get("kmsMasterKeyId")
                return (algorithm if isinstance(algorithm, str) else None, key if isinstance(key, str) else None)
    return None, None


def sse_problems(document: Any, arn: str, algorithm: str, key: Optional[str], account: Optional[str]) -> list[str]:
    own = account or "111111111111"
    caller = engine.Caller("a principal of this account", own, f"arn:aws:iam::{own}:role/{PROBE_ROLE}")
    base = {"aws:SecureTransport": "true", "s3:TlsVersion": "1.3"}
    region = key.split(":")[3] if isinstance(key, str) and key.count(":") >= 5 else "us-east-1"
    other_key = f"arn:aws:kms:{region}:{own}:key/00000000-0000-0000-0000-000000000000"
    probes = [
        ("an upload asking for SSE-S3 (AES256)", {"s3:x-amz-server-side-encryption": "AES256"}),
        ("an upload with a customer-provided key (SSE-C)",
         {"s3:x-amz-server-side-encryption-customer-algorithm": "AES256"}),
    ]
    if algorithm.startswith("aws:kms"):
        probes.append((f"an upload naming another KMS key of this account ({other_key})",
                       {"s3:x-amz-server-side-encryption": algorithm,
                        "s3:x-amz-server-side-encryption-aws-kms-key-id": other_key}))
        if algorithm != "aws:kms:dsse":
            probes.append(("an upload asking for DSSE-KMS with another key",
                           {"s3:x-amz-server-side-encryption": "aws:kms:dsse",
                            "s3:x-amz-server-side-encryption-aws-kms-key-id": other_key}))
    problems = []
    for what, extra in probes:
        if engine.denied_by(document, caller, "s3:PutObject", f"{arn}/{OBJECT_KEY}", {**base, **extra}) is None:
            problems.append(f"it does not deny {what}")
    return problems


def _validate_sse(args: StackValidationArgs, report: ReportViolation) -> None:
    index = StackIndex(args.resources)
    account = _account(args, index)
    exempt = _exempt(args)
    for bucket in effective.data_buckets(index):
        if bucket.name in exempt:
            continue
        algorithm, key = default_encryption(index, bucket)
        arn = effective.bucket_arn(bucket)
        document, where = _policy_for(index, bucket)
        if document is UNKNOWN or document is effective.UNPARSEABLE or arn is None or algorithm is None:
            continue
        label = subject(bucket.type, bucket.name)
        if document is None:
            report(SSE_INFO.message(label, "no bucket policy, so uploads may choose any encryption."), bucket.urn)
            continue
        problems = sse_problems(document, arn, algorithm, key, account)
        if problems:
            report(SSE_INFO.message(label, f"{where}: " + "; ".join(problems) + "."), bucket.urn)


# ---------------------------------------------------------------------------------------

TENANT_INFO = RuleInfo(
    name="s3-bucket-policy-tenant-isolation",
    summary="Where identity policies confine sessions to ${aws:PrincipalTag/<key>}/ in a bucket, "
    "the bucket's effective policy also denies a tagged session every object outside its "
    "prefix, listing outside it, and (unless configured off) bucket-level actions other than "
    "listing and GetBucketLocation: defence in depth if an identity policy is too broad.",
    controls=(),
    severity=Severity.HIGH,
    enforcement=EnforcementLevel.MANDATORY,
    remediation="Deny s3:* with NotResource [bucket_arn/${aws:PrincipalTag/tenant_id}/*] (keep the "
    "'/'), deny s3:ListBucket* when s3:prefix is not like ${aws:PrincipalTag/tenant_id}/*, and deny "
    "bucket-level actions on bucket_arn, each only when Null aws:PrincipalTag/tenant_id is false.",
)

TENANT_SCHEMA = exemptions_schema({
    **ACCOUNT_SCHEMA_ENTRY,
    "requireBucketLevelDeny": {
        "type": "boolean",
        "default": True,
        "description": "Also require the deny to cover bucket-level actions (all but listing and "
        "GetBucketLocation) for tagged sessions.",
    },
})

TENANT = "acme"
OUTSIDE_KEYS = ("acme2/x.pdf", "acmex", "other/x.pdf", "x.pdf", "ACME/x.pdf")
OUTSIDE_PREFIXES = ("acme2/", "acme", "", "other/", None)


def tenant_problems(document: Any, arn: str, tag: str, account: Optional[str], bucket_level: bool) -> list[str]:
    (caller,) = _callers(account, {tag: TENANT})
    base = {"aws:SecureTransport": "true", "s3:TlsVersion": "1.3"}
    problems = []
    denies, merged = engine.applicable_denies(document, caller, base)
    for action, on_bucket, on_object in bucket_and_object_actions():
        if on_object:
            leaks = [k for k in OUTSIDE_KEYS if not engine.refuses(denies, action, f"{arn}/{k}", merged)]
            if leaks:
                problems.append(f"{action} on {', '.join(leaks)} is not denied to a session tagged {tag}={TENANT}")
        if action in LISTING_ACTIONS:
            leaks = [repr(p) if p is not None else "no prefix" for p in OUTSIDE_PREFIXES
                     if engine.denied_by(document, caller, action, arn,
                                         base if p is None else {**base, "s3:prefix": p}) is None]
            if leaks:
                problems.append(f"{action} with prefix {', '.join(leaks)} is not denied to a session tagged "
                                f"{tag}={TENANT}")
        elif bucket_level and on_bucket and not on_object and action not in BUCKET_ACTIONS_TENANTS_MAY_USE:
            if not engine.refuses(denies, action, arn, merged):
                problems.append(f"bucket-level {action} is not denied to a tagged session")
    if len(problems) > 6:
        problems = problems[:6] + [f"and {len(problems) - 6} more"]
    return problems


def _validate_tenant(args: StackValidationArgs, report: ReportViolation) -> None:
    index = StackIndex(args.resources)
    account = _account(args, index)
    bucket_level = bool(config_value(args, "requireBucketLevelDeny", True))
    exempt = _exempt(args)
    for bucket in index.buckets:
        tags = effective.tenant_tag_keys(index, bucket)
        if not tags or bucket.name in exempt:
            continue
        arn = effective.bucket_arn(bucket)
        document, where = _policy_for(index, bucket)
        if document is UNKNOWN or document is effective.UNPARSEABLE or arn is None:
            continue
        label = subject(bucket.type, bucket.name)
        for tag in sorted(tags):
            if document is None:
                report(TENANT_INFO.message(label, f"identity policies confine sessions by {tag}, but the bucket "
                                                  "has no policy to back them up."), bucket.urn)
                continue
            problems = tenant_problems(document, arn, tag, account, bucket_level)
            if problems:
                report(TENANT_INFO.message(label, f"{where}: " + "; ".join(problems) + "."), bucket.urn)


POLICIES = [
    stack_policy(TLS_ONLY_INFO, _coverage_rule(TLS_ONLY_INFO, {"aws:SecureTransport": "false"},
                                               "a request over plain HTTP"), COVERAGE_SCHEMA),
    stack_policy(OLD_TLS_INFO, _coverage_rule(OLD_TLS_INFO, {"aws:SecureTransport": "true", "s3:TlsVersion": "1.1"},
                                              "a request over TLS 1.1"), COVERAGE_SCHEMA),
    stack_policy(SSE_INFO, _validate_sse, COVERAGE_SCHEMA),
    stack_policy(TENANT_INFO, _validate_tenant, TENANT_SCHEMA),
]


# ---------------------------------------------------------------------------------------

DOT_SEGMENT_INFO = RuleInfo(
    name="s3-bucket-policy-denies-dot-segment-keys",
    summary="A data bucket served by a distribution that mixes unsigned and signed paths denies "
    "writing keys with '.', '..' or empty segments: CloudFront normalizes such a URI onto another "
    "behaviour (acme/../public/x through public/*) while S3 keys are literal.",
    controls=(),
    severity=Severity.HIGH,
    enforcement=EnforcementLevel.MANDATORY,
    remediation="Deny s3:PutObject on bucket_arn/../*, bucket_arn/*/../*, bucket_arn/*/.., "
    "bucket_arn/./*, bucket_arn/*/./*, bucket_arn//* and bucket_arn/*//* (and their end forms).",
)

DOT_SEGMENT_KEYS = ("acme/../public/x.html", "../public/x.html", "acme/./x", "./x", "acme//x", "/x",
                    "acme/..", "acme/.")


def dot_segment_problems(document: Any, arn: str, account: Optional[str]) -> list[str]:
    (caller,) = _callers(account, {})
    denies, merged = engine.applicable_denies(document, caller, {"aws:SecureTransport": "true",
                                                                 "s3:TlsVersion": "1.3"})
    leaks = [k for k in DOT_SEGMENT_KEYS if not engine.refuses(denies, "s3:PutObject", f"{arn}/{k}", merged)]
    return [f"s3:PutObject of {', '.join(leaks)} is not denied"] if leaks else []


def _mixed_distribution_origins(index: StackIndex) -> set[str]:
    """URNs of buckets that are S3 origins of a distribution with unsigned behaviours."""
    from .cloudfront import DISTRIBUTION, _behaviors, _signed

    found: set[str] = set()
    for distribution in index.of_type(DISTRIBUTION):
        if all(_signed(b) for _, b in _behaviors(distribution.props)):
            continue
        for origin in as_list(distribution.props.get("origins")):
            domain = origin.get("domainName") if isinstance(origin, Mapping) else None
            for bucket in index.buckets:
                if isinstance(domain, str) and domain in (bucket.props.get("bucketRegionalDomainName"),
                                                          bucket.props.get("bucketDomainName")):
                    found.add(bucket.urn)
    return found


def _validate_dot_segments(args: StackValidationArgs, report: ReportViolation) -> None:
    index = StackIndex(args.resources)
    account = _account(args, index)
    exempt = _exempt(args)
    served = _mixed_distribution_origins(index)
    for bucket in effective.data_buckets(index):
        if bucket.urn not in served or bucket.name in exempt:
            continue
        arn = effective.bucket_arn(bucket)
        document, where = _policy_for(index, bucket)
        if document is UNKNOWN or document is effective.UNPARSEABLE or arn is None:
            continue
        label = subject(bucket.type, bucket.name)
        problems = ["there is no bucket policy"] if document is None else dot_segment_problems(document, arn, account)
        if problems:
            report(DOT_SEGMENT_INFO.message(label, f"{where}: " + "; ".join(problems) + "."), bucket.urn)


POLICIES.append(stack_policy(DOT_SEGMENT_INFO, _validate_dot_segments, COVERAGE_SCHEMA))
