"""S3 rules: every bucket private, encrypted with our key, versioned, logged, TLS-only.

Resource rules check one resource at a time (a public access block's flags, an ACL, a
policy document). Stack rules join each bucket (``Bucket`` and the deprecated
``BucketV2``) to its separate settings resources through ``joins.StackIndex`` and also
read the deprecated inline bucket arguments, so a setting can be neither missing nor
hidden in an old-style argument.
"""

from __future__ import annotations

from typing import Any, Iterable, Mapping, Optional
from urllib.parse import urlsplit

from pulumi_policy import EnforcementLevel, ReportViolation, ResourceValidationArgs, Severity
from pulumi_policy import StackValidationArgs

from . import iam_engine as engine
from .common import (
    UNKNOWN,
    public_allow_statements,
    RuleInfo,
    as_list,
    check_document,
    config_value,
    dig,
    effect,
    exemptions_schema,
    first_present,
    grants_action,
    is_public_principal,
    is_unknown,
    load_document,
    plain,
    public_allow_problems,
    principal_values,
    resource_policy,
    resources,
    stack_policy,
    statement_label,
    statements,
    subject,
    truthy,
    UnparseablePolicy,
)
from . import effective
from .joins import (
    ACL,
    BUCKET_TYPES,
    CORS,
    ENCRYPTION,
    LIFECYCLE,
    LOGGING,
    OWNERSHIP_CONTROLS,
    POLICY,
    PUBLIC_ACCESS_BLOCK,
    VERSIONING,
    WEBSITE,
    Node,
    StackIndex,
)

ACCOUNT_PUBLIC_ACCESS_BLOCK = "aws:s3/accountPublicAccessBlock:AccountPublicAccessBlock"
PAB_FLAGS = ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")
PUBLIC_CANNED_ACLS = frozenset({"public-read", "public-read-write", "authenticated-read"})
PUBLIC_GRANTEE_URIS = (
    "http://acs.amazonaws.com/groups/global/AllUsers",
    "http://acs.amazonaws.com/groups/global/AuthenticatedUsers",
)
WRITE_METHODS = frozenset({"PUT", "POST", "DELETE"})
KMS_ALGORITHMS = frozenset({"aws:kms", "aws:kms:dsse"})
SSE_S3_ALGORITHM = "AES256"
AWS_MANAGED_S3_KEY_MARKERS = ("alias/aws/s3",)
DEFAULT_MAX_ABORT_DAYS = 7
DEFAULT_MIN_NONCURRENT_DAYS = 30
ACCESS_POINT = "aws:s3/accessPoint:AccessPoint"
POLICY_ADMIN_ACTIONS = (
    "s3:DeleteBucketPolicy",
    "s3:PutBucketAcl",
    "s3:PutBucketPolicy",
    "s3:PutEncryptionConfiguration",
    "s3:PutObjectAcl",
)
"""Actions FSBP S3.6 forbids a bucket policy to grant to other accounts."""


def _exempt_names(args: Any) -> set[str]:
    value = config_value(args, "exemptResources", [])
    return set(value) if isinstance(value, list) else set()


def _buckets(index: StackIndex, args: Any) -> list[Node]:
    exempt = _exempt_names(args)
    return [b for b in index.buckets if b.name not in exempt]


# ---------------------------------------------------------------------------------------
# s3-public-access-block-all-flags  (resource, remediable)
# ---------------------------------------------------------------------------------------

PAB_FLAGS_INFO = RuleInfo(
    name="s3-public-access-block-all-flags",
    summary="Every S3 public access block (bucket, account, or an access point's "
    "publicAccessBlockConfiguration) sets all four flags to true.",
    controls=("S3.1", "S3.8", "S3.2", "S3.3"),
    severity=Severity.CRITICAL,
    enforcement=EnforcementLevel.MANDATORY,
    remediation="Set block_public_acls, block_public_policy, ignore_public_acls and "
    "restrict_public_buckets to True on the BucketPublicAccessBlock (or run this rule with "
    "enforcementLevel 'remediate' to have Pulumi set them).",
)


def pab_flag_problems(props: Mapping[str, Any]) -> list[str]:
    off = [flag for flag in PAB_FLAGS if not is_unknown(props.get(flag)) and not truthy(props.get(flag))]
    if not off:
        return []
    unset = [f for f in off if props.get(f) is None]
    found = ", ".join(f"{f}={'unset (false)' if f in unset else props.get(f)!r}" for f in off)
    return [f"{found}: each must be true, or a public ACL or bucket policy can expose objects."]


def _validate_pab_flags(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type == ACCESS_POINT:
        block = plain(args.props).get("publicAccessBlockConfiguration")
        if isinstance(block, Mapping):
            for problem in pab_flag_problems({k: block.get(k, True) for k in PAB_FLAGS}):
                report(PAB_FLAGS_INFO.message(subject(args.resource_type, args.name),
                                              f"publicAccessBlockConfiguration: {problem}"), None)
        return
    if args.resource_type not in PUBLIC_ACCESS_BLOCK + (ACCOUNT_PUBLIC_ACCESS_BLOCK,):
        return
    props = plain(args.props)
    if args.resource_type in PUBLIC_ACCESS_BLOCK and args.name in (config_value(args, "publicReadResources", []) or []):
        props = {**props, "blockPublicPolicy": True, "restrictPublicBuckets": True}  # declared public-read
    for problem in pab_flag_problems(props):
        report(PAB_FLAGS_INFO.message(subject(args.resource_type, args.name), problem), None)


def _remediate_pab_flags(args: ResourceValidationArgs) -> Optional[Mapping[str, Any]]:
    if args.resource_type not in PUBLIC_ACCESS_BLOCK + (ACCOUNT_PUBLIC_ACCESS_BLOCK,):
        return None
    props = plain(args.props)
    if not pab_flag_problems(props):
        return None
    return {**props, **{flag: True for flag in PAB_FLAGS}}


# ---------------------------------------------------------------------------------------
# s3-no-public-acl  (resource)
# ---------------------------------------------------------------------------------------

NO_PUBLIC_ACL_INFO = RuleInfo(
    name="s3-no-public-acl",
    summary="No bucket or bucket ACL grants access to AllUsers or AuthenticatedUsers "
    "(canned public-read, public-read-write, authenticated-read or explicit grants).",
    controls=("S3.2", "S3.3", "S3.12"),
    severity=Severity.CRITICAL,
    enforcement=EnforcementLevel.MANDATORY,
    remediation="Remove the acl/grants (ACLs stay disabled by BucketOwnershipControls "
    "BucketOwnerEnforced) and grant access with IAM or a scoped bucket policy instead.",
)


def _public_grants(grants: Iterable[Any]) -> list[str]:
    found = []
    for grant in grants:
        if not isinstance(grant, Mapping):
            continue
        grantee = grant.get("grantee") if isinstance(grant.get("grantee"), Mapping) else grant
        uri = grantee.get("uri") if isinstance(grantee, Mapping) else None
        if isinstance(uri, str) and uri in PUBLIC_GRANTEE_URIS:
            permissions = as_list(grant.get("permissions")) or as_list(grant.get("permission"))
            found.append(f"grant of {'/'.join(str(p) for p in permissions) or 'access'} to {uri.rsplit('/', 1)[-1]}")
    return found


def public_acl_problems(props: Mapping[str, Any]) -> list[str]:
    problems = []
    acl = props.get("acl")
    if isinstance(acl, str) and acl in PUBLIC_CANNED_ACLS:
        problems.append(f"canned ACL '{acl}' makes objects readable by others.")
    grants: list[Any] = list(as_list(props.get("grants")))
    grants += as_list(dig(props, "accessControlPolicy", "grants"))
    problems += [f"{g}." for g in _public_grants(grants)]
    return problems


def _validate_no_public_acl(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type not in BUCKET_TYPES + ACL:
        return
    for problem in public_acl_problems(plain(args.props)):
        report(NO_PUBLIC_ACL_INFO.message(subject(args.resource_type, args.name), problem), None)


# ---------------------------------------------------------------------------------------
# s3-bucket-policy-no-public-access  (resource)
# ---------------------------------------------------------------------------------------

POLICY_NOT_PUBLIC_INFO = RuleInfo(
    name="s3-bucket-policy-no-public-access",
    summary="Bucket policies grant nothing to '*' (read or write) or to a service without "
    "aws:SourceArn/aws:SourceAccount, and no policy-administration actions to anyone.",
    controls=("S3.2", "S3.3", "S3.6"),
    severity=Severity.CRITICAL,
    enforcement=EnforcementLevel.MANDATORY,
    remediation="Scope the Allow to named principals, or add a condition on aws:SourceArn "
    "(e.g. the CloudFront distribution ARN) / aws:SourceAccount; never grant "
    "s3:PutBucketPolicy, s3:PutBucketAcl, s3:PutObjectAcl, s3:DeleteBucketPolicy or "
    "s3:PutEncryptionConfiguration in a bucket policy.",
)


PUBLIC_READ_SCHEMA_ENTRY = {
    "publicReadResources": {
        "type": "array",
        "items": {"type": "string"},
        "default": [],
        "description": "Logical names of resources of a deliberately public bucket (its BucketPolicy, "
        "BucketPublicAccessBlock, BucketWebsiteConfiguration): anonymous object reads are accepted "
        "there, nothing else (no writes, no listing, no ACLs).",
    },
}
PUBLIC_READ_SCHEMA = exemptions_schema(PUBLIC_READ_SCHEMA_ENTRY)


def public_read_only(statement: Mapping[str, Any]) -> bool:
    """An Allow that only reads objects: every action it expands to is a Read-level action on
    objects (s3:GetObject, s3:GetObjectVersion, ...), on object ARNs only, no NotAction."""
    if "NotAction" in statement or "NotResource" in statement:
        return False
    actions = engine.statement_action_set(statement)
    if not actions:
        return False
    for action in actions:
        info = engine.action_info(action)
        if info is None or info[0] != engine.ACCESS_READ or info[1] != ("object",):
            return False
    return all("/" in r.split(":::", 1)[-1] for r in resources(statement))


def bucket_policy_problems(document: Any, public_read: bool = False) -> list[str]:
    problems = []
    for index, statement, why in public_allow_statements(document):
        if public_read and "NotPrincipal" not in statement and public_read_only(statement):
            continue
        extra = (" (the bucket is declared public-read, but this statement grants more than object "
                 "reads)" if public_read else "")
        problems.append(f"{statement_label(index, statement)}: {why}{extra}.")
    for index, statement in enumerate(statements(document)):
        if effect(statement) != "Allow":
            continue
        admin = [a for a in POLICY_ADMIN_ACTIONS if grants_action(statement, a)]
        if admin and any(kind != "Service" for kind, _ in principal_values(statement)):
            problems.append(f"{statement_label(index, statement)}: grants {', '.join(admin)}, "
                            "which lets the grantee rewrite the bucket's access controls.")
    return problems


def _validate_policy_not_public(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type not in POLICY + BUCKET_TYPES:
        return
    props = plain(args.props)
    declared = args.name in (config_value(args, "publicReadResources", []) or [])
    check_document(POLICY_NOT_PUBLIC_INFO, report, subject(args.resource_type, args.name),
                   props.get("policy"), lambda d: bucket_policy_problems(d, declared))


# ---------------------------------------------------------------------------------------
# s3-no-website-hosting  (resource)
# ---------------------------------------------------------------------------------------

NO_WEBSITE_INFO = RuleInfo(
    name="s3-no-website-hosting",
    summary="No bucket is configured for static website hosting (an unauthenticated HTTP "
    "endpoint); content is served through CloudFront with Origin Access Control.",
    controls=("S3.2",),
    severity=Severity.HIGH,
    enforcement=EnforcementLevel.MANDATORY,
    remediation="Delete the BucketWebsiteConfiguration (or the inline website argument) and "
    "serve the content through the CloudFront distribution (EdgeDelivery).",
)


def _validate_no_website(args: ResourceValidationArgs, report: ReportViolation) -> None:
    label = subject(args.resource_type, args.name)
    if args.name in (config_value(args, "publicReadResources", []) or []):
        return
    if args.resource_type in WEBSITE:
        report(NO_WEBSITE_INFO.message(label, "website hosting is enabled."), None)
    elif args.resource_type in BUCKET_TYPES:
        props = plain(args.props)
        website = first_present(props, "website", "websites")
        if as_list(website):
            report(NO_WEBSITE_INFO.message(label, "the inline website argument enables website hosting."), None)


# ---------------------------------------------------------------------------------------
# s3-cors-no-wildcard-write  (resource, config: allowedOrigins)
# ---------------------------------------------------------------------------------------

CORS_INFO = RuleInfo(
    name="s3-cors-no-wildcard-write",
    summary="No CORS rule allows '*' request headers, the 'null' origin, a wildcard origin ('*' or "
    "https://*.example.com), or a plain-HTTP origin (loopback only where the dev allowance "
    "allowLoopbackHttp is on), and write methods only from the configured allowedOrigins.",
    controls=(),
    severity=Severity.HIGH,
    enforcement=EnforcementLevel.MANDATORY,
    remediation="List the application's exact HTTPS origins in allowed_origins (config key "
    "corsAllowedOrigins in Pulumi.<stack>.yaml) and the exact headers the browser sends in "
    "allowed_headers (prefixes such as x-amz-meta-* are fine).",
)

CORS_SCHEMA = exemptions_schema({
    "allowedOrigins": {
        "type": "array",
        "items": {"type": "string"},
        "default": [],
        "description": "If not empty, the only origins a CORS rule with write methods may name.",
    },
    "allowLoopbackHttp": {
        "type": "boolean",
        "default": True,
        "description": "Dev allowance: http://localhost / 127.0.0.1 origins (a developer's own browser).",
    },
})


LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "::1")


def _is_loopback_origin(origin: str) -> bool:
    """``http://localhost:3000`` and friends: a developer's own browser, not the network."""
    try:
        host = urlsplit(origin).hostname
    except ValueError:
        return False
    return host in LOOPBACK_HOSTS


def cors_problems(rules: Iterable[Any], allowed_origins: list[str], allow_loopback_http: bool = True) -> list[str]:
    problems = []
    for index, rule in enumerate(rules):
        if not isinstance(rule, Mapping):
            continue
        methods = {str(m).upper() for m in as_list(rule.get("allowedMethods")) if isinstance(m, str)}
        writes = sorted(methods & WRITE_METHODS)
        origins = [o for o in as_list(rule.get("allowedOrigins")) if isinstance(o, str)]
        headers = [h for h in as_list(rule.get("allowedHeaders")) if isinstance(h, str)]
        label = f"CORS rule {rule.get('id')!r}" if rule.get("id") else f"CORS rule #{index}"
        verbs = "/".join(sorted(methods)) or "requests"
        if "*" in headers:
            problems.append(f"{label} allows any request header ('*' in allowedHeaders), so a page may "
                            "send headers such as x-amz-server-side-encryption or x-amz-acl; list them.")
        if "null" in (o.lower() for o in origins):
            problems.append(f"{label} allows {verbs} from the 'null' origin, which any sandboxed iframe "
                            "or file:// page has.")
        wild = [o for o in origins if "*" in o]
        if wild:
            problems.append(f"{label} allows {verbs} from wildcard origin(s) {', '.join(wild)}; any "
                            "matching site (or subdomain takeover) may use it.")
        plain_http = [o for o in origins if o.lower().startswith("http://")
                      and not (allow_loopback_http and _is_loopback_origin(o))]
        if plain_http:
            problems.append(f"{label} allows {verbs} from plain-HTTP origin(s) {', '.join(plain_http)}, "
                            "which a network attacker can impersonate.")
        if writes and allowed_origins:
            outside = [o for o in origins if o not in allowed_origins and o not in wild and o.lower() != "null"]
            if outside:
                problems.append(f"{label} allows {'/'.join(writes)} from {', '.join(outside)}, not in "
                                f"allowedOrigins {allowed_origins}.")
    return problems


def _validate_cors(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type not in CORS + BUCKET_TYPES:
        return
    props = plain(args.props)
    allowed = config_value(args, "allowedOrigins", [])
    loopback = truthy(config_value(args, "allowLoopbackHttp", True))
    for problem in cors_problems(as_list(props.get("corsRules")), allowed if isinstance(allowed, list) else [],
                                 loopback):
        report(CORS_INFO.message(subject(args.resource_type, args.name), problem), None)


# ---------------------------------------------------------------------------------------
# Stack rules: a bucket joined to its settings
# ---------------------------------------------------------------------------------------

HAS_PAB_INFO = RuleInfo(
    name="s3-bucket-has-public-access-block",
    summary="Every bucket has its own BucketPublicAccessBlock (joined by the block's bucket "
    "value, or its property dependency when the value is unknown).",
    controls=("S3.8", "S3.2", "S3.3"),
    severity=Severity.CRITICAL,
    enforcement=EnforcementLevel.MANDATORY,
    remediation="Create aws.s3.BucketPublicAccessBlock(f\"{name}-public-access-block\", "
    "bucket=bucket.id, block_public_acls=True, block_public_policy=True, "
    "ignore_public_acls=True, restrict_public_buckets=True) for this bucket.",
)


def _validate_has_pab(args: StackValidationArgs, report: ReportViolation) -> None:
    index = StackIndex(args.resources)
    for bucket in _buckets(index, args):
        if not index.settings_of(bucket, PUBLIC_ACCESS_BLOCK):
            report(HAS_PAB_INFO.message(subject(bucket.type, bucket.name),
                                        "no public access block names this bucket: S3 has blocked public "
                                        "access on new buckets since April 2023, but without this resource nothing "
                                        "keeps an imported bucket or a later change from allowing it."), bucket.urn)


ACLS_DISABLED_INFO = RuleInfo(
    name="s3-bucket-acls-disabled",
    summary="Every bucket disables ACLs with BucketOwnershipControls 'BucketOwnerEnforced' "
    "and sets no ACL or grants of its own.",
    controls=("S3.12",),
    severity=Severity.MEDIUM,
    enforcement=EnforcementLevel.MANDATORY,
    remediation="Create aws.s3.BucketOwnershipControls with rule object_ownership="
    "\"BucketOwnerEnforced\" for this bucket and remove any acl/grants/BucketAcl.",
)


def _validate_acls_disabled(args: StackValidationArgs, report: ReportViolation) -> None:
    index = StackIndex(args.resources)
    for bucket in _buckets(index, args):
        label = subject(bucket.type, bucket.name)
        controls = index.settings_of(bucket, OWNERSHIP_CONTROLS)
        ownership = [dig(c.props, "rule", "objectOwnership") for c in controls]
        if not controls:
            report(ACLS_DISABLED_INFO.message(label, "no BucketOwnershipControls: S3 has disabled ACLs on new buckets "
                                                   "(BucketOwnerEnforced) since April 2023, but without this resource "
                                                   "nothing keeps an imported bucket or a later change from enabling "
                                                   "them."), bucket.urn)
        for value in ownership:
            if not is_unknown(value) and value != "BucketOwnerEnforced":
                report(ACLS_DISABLED_INFO.message(label, f"object ownership is {value!r}, so ACLs are enabled."),
                       bucket.urn)
        acl = bucket.props.get("acl")
        if isinstance(acl, str) and acl not in ("", "private"):
            report(ACLS_DISABLED_INFO.message(label, f"inline acl {acl!r} is set."), bucket.urn)
        if as_list(bucket.props.get("grants")):
            report(ACLS_DISABLED_INFO.message(label, "inline grants are set."), bucket.urn)
        for acl_resource in index.settings_of(bucket, ACL):
            report(ACLS_DISABLED_INFO.message(label, f"BucketAcl '{acl_resource.name}' manages an ACL on it."),
                   bucket.urn)


ENCRYPTION_INFO = RuleInfo(
    name="s3-bucket-default-encryption-kms",
    summary="Every bucket has default encryption: SSE-KMS with a customer-managed key for "
    "data buckets; SSE-S3 (AES256) only for buckets that receive logs, where AWS requires it.",
    controls=("S3.17", "S3.4"),
    severity=Severity.HIGH,
    enforcement=EnforcementLevel.MANDATORY,
    remediation="Create aws.s3.BucketServerSideEncryptionConfiguration for this bucket with "
    "sse_algorithm=\"aws:kms\", kms_master_key_id=<EncryptionKey ARN> and "
    "bucket_key_enabled=True (log-delivery buckets: sse_algorithm=\"AES256\").",
)

ENCRYPTION_SCHEMA = exemptions_schema({
    "logBuckets": {
        "type": "array",
        "items": {"type": "string"},
        "default": [],
        "description": "Logical names of extra log buckets allowed SSE-S3 (log targets found "
        "in the stack are recognised without this).",
    },
})
"""The key must also belong to this stack's account (``effective.own_account``)."""


def _sse_defaults(holder: Mapping[str, Any], *, inline: bool) -> list[Any]:
    """Every applyServerSideEncryptionByDefault block, in v7, V2 and inline shapes."""
    confs = [holder]
    if inline:
        confs = as_list(first_present(holder, "serverSideEncryptionConfiguration",
                                      "serverSideEncryptionConfigurations"))
    found: list[Any] = []
    for conf in confs:
        if not isinstance(conf, Mapping):
            continue
        for rule in as_list(first_present(conf, "rules", "rule")):
            if isinstance(rule, Mapping):
                found += as_list(first_present(rule, "applyServerSideEncryptionByDefault",
                                               "applyServerSideEncryptionByDefaults"))
    return found


def encryption_problems(defaults: list[Any], *, log_bucket: bool, account: Optional[str] = None) -> list[str]:
    if not defaults:
        return ["no default encryption rule (applyServerSideEncryptionByDefault)."]
    problems = []
    for default in defaults:
        if not isinstance(default, Mapping):
            continue
        algorithm = default.get("sseAlgorithm")
        key = default.get("kmsMasterKeyId")
        if is_unknown(algorithm):
            continue
        if algorithm in KMS_ALGORITHMS:
            if key is None or key == "":
                problems.append(f"{algorithm} without kmsMasterKeyId uses the AWS-managed key "
                                "(aws/s3), whose policy cannot be scoped.")
            elif isinstance(key, str) and any(m in key for m in AWS_MANAGED_S3_KEY_MARKERS):
                problems.append(f"kmsMasterKeyId {key!r} is the AWS-managed key, not ours.")
            elif isinstance(key, str) and account and key.startswith("arn:") and key.split(":")[4:5] != [account]:
                problems.append(f"kmsMasterKeyId {key!r} is a key of account {key.split(':')[4] or '?'}, not "
                                f"this stack's account {account}: its owner controls (and can revoke) "
                                "access to every object.")
        elif algorithm == SSE_S3_ALGORITHM:
            if not log_bucket:
                problems.append("SSE-S3 (AES256) on a data bucket; only log-delivery buckets may "
                                "use it.")
        else:
            problems.append(f"sseAlgorithm {algorithm!r} is not aws:kms, aws:kms:dsse or AES256."
                            if algorithm is not None else "applyServerSideEncryptionByDefault sets no sseAlgorithm.")
    return problems


def _validate_encryption(args: StackValidationArgs, report: ReportViolation) -> None:
    index = StackIndex(args.resources)
    log_names = config_value(args, "logBuckets", [])
    log_urns = index.log_target_buckets()
    account = effective.own_account(index)
    for bucket in _buckets(index, args):
        is_log = bucket.urn in log_urns or (isinstance(log_names, list) and bucket.name in log_names)
        defaults: list[Any] = _sse_defaults(bucket.props, inline=True)
        for setting in index.settings_of(bucket, ENCRYPTION):
            defaults += _sse_defaults(setting.props, inline=False)
        for problem in encryption_problems(defaults, log_bucket=is_log, account=account):
            report(ENCRYPTION_INFO.message(subject(bucket.type, bucket.name), problem), bucket.urn)


VERSIONING_INFO = RuleInfo(
    name="s3-bucket-versioning-enabled",
    summary="Every bucket has versioning Enabled (never Suspended), so overwrites and deletes "
    "can be undone.",
    controls=("S3.14",),
    severity=Severity.LOW,
    enforcement=EnforcementLevel.ADVISORY,
    remediation="Create aws.s3.BucketVersioning for this bucket with versioning_configuration "
    "status=\"Enabled\".",
)


def versioning_states(bucket: Node, settings: list[Node]) -> list[Any]:
    states: list[Any] = []
    for versioning in as_list(first_present(bucket.props, "versioning", "versionings")):
        if isinstance(versioning, Mapping) and "enabled" in versioning:
            enabled = versioning.get("enabled")
            states.append(UNKNOWN if is_unknown(enabled) else ("Enabled" if truthy(enabled) else "Suspended"))
    for setting in settings:
        states.append(dig(setting.props, "versioningConfiguration", "status"))
    return states


def _validate_versioning(args: StackValidationArgs, report: ReportViolation) -> None:
    index = StackIndex(args.resources)
    for bucket in _buckets(index, args):
        label = subject(bucket.type, bucket.name)
        states = versioning_states(bucket, index.settings_of(bucket, VERSIONING))
        if not states:
            report(VERSIONING_INFO.message(label, "versioning is not configured."), bucket.urn)
        for state in states:
            if not is_unknown(state) and state != "Enabled":
                report(VERSIONING_INFO.message(label, f"versioning status is {state!r}."), bucket.urn)


LIFECYCLE_INFO = RuleInfo(
    name="s3-bucket-lifecycle-abort-multipart",
    summary="Every bucket has an enabled lifecycle rule covering the whole bucket that aborts "
    "incomplete multipart uploads, and a data bucket keeps replaced (noncurrent) versions at "
    "least minNoncurrentDays, so an overwrite or delete can be undone.",
    controls=("S3.13",),
    severity=Severity.MEDIUM,
    enforcement=EnforcementLevel.MANDATORY,
    remediation="Add a BucketLifecycleConfiguration rule with status=\"Enabled\", an empty "
    "filter and abort_incomplete_multipart_upload days_after_initiation <= the configured "
    "maximum (default 7); keep noncurrent_version_expiration noncurrent_days >= "
    "minNoncurrentDays (config noncurrentVersionExpireDays).",
)

LIFECYCLE_SCHEMA = exemptions_schema({
    "maxDaysAfterInitiation": {
        "type": "integer",
        "minimum": 1,
        "default": DEFAULT_MAX_ABORT_DAYS,
        "description": "Longest time an incomplete multipart upload may keep its parts.",
    },
    "minNoncurrentDays": {
        "type": "integer",
        "minimum": 1,
        "default": DEFAULT_MIN_NONCURRENT_DAYS,
        "description": "Shortest time a data bucket keeps a replaced or deleted version.",
    },
})


def noncurrent_days(settings: list[Node]) -> list[Any]:
    """Days after which enabled rules expire noncurrent versions (any filter: a rule that
    expires part of the bucket early still loses those versions)."""
    days = []
    for setting in settings:
        for rule in as_list(setting.props.get("rules")):
            if isinstance(rule, Mapping) and rule.get("status") == "Enabled":
                value = dig(rule, "noncurrentVersionExpiration", "noncurrentDays")
                if isinstance(value, (int, float)):
                    days.append(value)
    return days


def _whole_bucket(filter_: Any, prefix: Any) -> bool:
    if isinstance(prefix, str) and prefix:
        return False
    if isinstance(filter_, list):
        filter_ = filter_[0] if filter_ else None
    if not isinstance(filter_, Mapping):
        return True
    return not any(filter_.get(k) for k in ("prefix", "tag", "and", "objectSizeGreaterThan",
                                             "objectSizeLessThan"))


def abort_days(bucket: Node, settings: list[Node]) -> tuple[bool, list[Any]]:
    """(has any lifecycle, days of each enabled whole-bucket abort rule)."""
    has_lifecycle = False
    days: list[Any] = []
    for rule in as_list(bucket.props.get("lifecycleRules")):
        has_lifecycle = True
        if isinstance(rule, Mapping) and truthy(rule.get("enabled")) and _whole_bucket(None, rule.get("prefix")):
            value = rule.get("abortIncompleteMultipartUploadDays")
            if value not in (None, 0):
                days.append(value)
    for setting in settings:
        has_lifecycle = True
        for rule in as_list(setting.props.get("rules")):
            if not isinstance(rule, Mapping) or rule.get("status") != "Enabled":
                continue
            if not _whole_bucket(rule.get("filter"), rule.get("prefix")):
                continue
            value = dig(rule, "abortIncompleteMultipartUpload", "daysAfterInitiation")
            if value not in (None, 0):
                days.append(value)
    return has_lifecycle, days


def _validate_lifecycle(args: StackValidationArgs, report: ReportViolation) -> None:
    index = StackIndex(args.resources)
    max_days = config_value(args, "maxDaysAfterInitiation", DEFAULT_MAX_ABORT_DAYS)
    min_noncurrent = config_value(args, "minNoncurrentDays", DEFAULT_MIN_NONCURRENT_DAYS)
    data_urns = {b.urn for b in effective.data_buckets(index)}
    for bucket in _buckets(index, args):
        label = subject(bucket.type, bucket.name)
        has_lifecycle, days = abort_days(bucket, index.settings_of(bucket, LIFECYCLE))
        if not has_lifecycle:
            report(LIFECYCLE_INFO.message(label, "no lifecycle configuration."), bucket.urn)
        elif not days:
            report(LIFECYCLE_INFO.message(label, "no enabled whole-bucket rule aborts incomplete "
                                                 "multipart uploads, so their parts are billed forever."),
                   bucket.urn)
        elif all(isinstance(d, (int, float)) and d > max_days for d in days):
            report(LIFECYCLE_INFO.message(label, f"incomplete uploads are kept {min(days):g} days "
                                                 f"(maximum {max_days})."), bucket.urn)
        if bucket.urn in data_urns:
            short = [d for d in noncurrent_days(index.settings_of(bucket, LIFECYCLE)) if d < min_noncurrent]
            if short:
                report(LIFECYCLE_INFO.message(label, f"replaced versions expire after {min(short):g} days "
                                                     f"(minimum {min_noncurrent}), so an overwrite by a "
                                                     "compromised writer cannot be undone in time."), bucket.urn)


ACCESS_LOGGING_INFO = RuleInfo(
    name="s3-bucket-access-logging",
    summary="Every bucket that is not itself a log destination sends server access logs to "
    "another bucket.",
    controls=("S3.9",),
    severity=Severity.MEDIUM,
    enforcement=EnforcementLevel.ADVISORY,
    remediation="Create aws.s3.BucketLogging for this bucket with target_bucket=<the log "
    "bucket> and a target_prefix (the log bucket uses SSE-S3 and must not log to itself).",
)


def _validate_access_logging(args: StackValidationArgs, report: ReportViolation) -> None:
    index = StackIndex(args.resources)
    log_targets = index.log_target_buckets()
    for bucket in _buckets(index, args):
        if bucket.urn in log_targets:
            continue
        label = subject(bucket.type, bucket.name)
        targets: list[Any] = []
        for setting in index.settings_of(bucket, LOGGING):
            target = index.bucket_for(setting, "targetBucket")
            value = setting.props.get("targetBucket")
            targets.append(target.urn if target is not None else value)
        for logging in as_list(first_present(bucket.props, "logging", "loggings")):
            if isinstance(logging, Mapping) and logging.get("targetBucket"):
                targets.append(logging.get("targetBucket"))
        if not targets:
            report(ACCESS_LOGGING_INFO.message(label, "server access logging is not enabled."), bucket.urn)
        elif all(t == bucket.urn for t in targets):
            report(ACCESS_LOGGING_INFO.message(label, "it logs to itself, which loops."), bucket.urn)


POLICIES = [
    resource_policy(PAB_FLAGS_INFO, _validate_pab_flags, config_schema=PUBLIC_READ_SCHEMA,
                    remediate=_remediate_pab_flags),
    resource_policy(NO_PUBLIC_ACL_INFO, _validate_no_public_acl),
    resource_policy(POLICY_NOT_PUBLIC_INFO, _validate_policy_not_public, config_schema=PUBLIC_READ_SCHEMA),
    resource_policy(NO_WEBSITE_INFO, _validate_no_website, config_schema=PUBLIC_READ_SCHEMA),
    resource_policy(CORS_INFO, _validate_cors, config_schema=CORS_SCHEMA),
    stack_policy(HAS_PAB_INFO, _validate_has_pab),
    stack_policy(ACLS_DISABLED_INFO, _validate_acls_disabled),
    stack_policy(ENCRYPTION_INFO, _validate_encryption, config_schema=ENCRYPTION_SCHEMA),
    stack_policy(VERSIONING_INFO, _validate_versioning),
    stack_policy(LIFECYCLE_INFO, _validate_lifecycle, config_schema=LIFECYCLE_SCHEMA),
    stack_policy(ACCESS_LOGGING_INFO, _validate_access_logging),
]
