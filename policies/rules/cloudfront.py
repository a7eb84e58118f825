"""CloudFront rules: HTTPS to viewers, OAC to S3, modern TLS, private by default, logging,
WAF where required."""

from __future__ import annotations

from typing import Any, Mapping, Optional

from pulumi_policy import EnforcementLevel, ReportViolation, ResourceValidationArgs, Severity
from pulumi_policy import StackValidationArgs

from .common import (
    RuleInfo,
    as_list,
    config_value,
    dig,
    exemptions_schema,
    is_unknown,
    plain,
    resource_policy,
    stack_policy,
    subject,
    truthy,
)
from .joins import CLOUDFRONT_DISTRIBUTION as DISTRIBUTION, StackIndex

ORIGIN_ACCESS_IDENTITY = "aws:cloudfront/originAccessIdentity:OriginAccessIdentity"
LOG_DELIVERY_SOURCE = "aws:cloudwatch/logDeliverySource:LogDeliverySource"
LOG_DELIVERY = "aws:cloudwatch/logDelivery:LogDelivery"
HTTPS_POLICIES = frozenset({"https-only", "redirect-to-https"})
TLS_POLICY_ORDER = (
    "SSLv3",
    "TLSv1",
    "TLSv1_2016",
    "TLSv1.1_2016",
    "TLSv1.2_2018",
    "TLSv1.2_2019",
    "TLSv1.2_2021",
    "TLSv1.2_2025",
    "TLSv1.3_2025",
)
DEFAULT_MINIMUM_TLS_POLICY = "TLSv1.2_2021"


def _behaviors(props: Mapping[str, Any]) -> list[tuple[str, Any]]:
    found = []
    default = props.get("defaultCacheBehavior")
    if isinstance(default, Mapping):
        found.append(("default cache behavior", default))
    for behavior in as_list(props.get("orderedCacheBehaviors")):
        if isinstance(behavior, Mapping):
            found.append((f"cache behavior '{behavior.get('pathPattern')}'", behavior))
    return found


# ---------------------------------------------------------------------------------------

HTTPS_INFO = RuleInfo(
    name="cloudfront-viewer-https-only",
    summary="Every CloudFront cache behavior requires HTTPS from viewers (https-only or "
    "redirect-to-https).",
    controls=("CloudFront.3",),
    severity=Severity.HIGH,
    enforcement=EnforcementLevel.MANDATORY,
    remediation="Set viewer_protocol_policy=\"redirect-to-https\" (or \"https-only\") on the "
    "default and every ordered cache behavior (enforcementLevel 'remediate' does it).",
)


def https_problems(props: Mapping[str, Any]) -> list[str]:
    problems = []
    for label, behavior in _behaviors(props):
        policy = behavior.get("viewerProtocolPolicy")
        if not is_unknown(policy) and policy not in HTTPS_POLICIES:
            problems.append(f"{label} has viewerProtocolPolicy {policy!r}, which serves plain HTTP.")
    return problems


def _validate_https(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type != DISTRIBUTION:
        return
    for problem in https_problems(plain(args.props)):
        report(HTTPS_INFO.message(subject(args.resource_type, args.name), problem), None)


def _remediate_https(args: ResourceValidationArgs) -> Optional[Mapping[str, Any]]:
    if args.resource_type != DISTRIBUTION:
        return None
    props = plain(args.props)
    if not https_problems(props):
        return None

    def fixed(behavior: Any) -> Any:
        if isinstance(behavior, dict) and behavior.get("viewerProtocolPolicy") not in HTTPS_POLICIES \
                and not is_unknown(behavior.get("viewerProtocolPolicy")):
            return {**behavior, "viewerProtocolPolicy": "redirect-to-https"}
        return behavior

    new_props = dict(props)
    if "defaultCacheBehavior" in new_props:
        new_props["defaultCacheBehavior"] = fixed(new_props["defaultCacheBehavior"])
    if isinstance(new_props.get("orderedCacheBehaviors"), list):
        new_props["orderedCacheBehaviors"] = [fixed(b) for b in new_props["orderedCacheBehaviors"]]
    return new_props


# ---------------------------------------------------------------------------------------

OAC_INFO = RuleInfo(
    name="cloudfront-s3-origin-access-control",
    summary="Every S3 origin uses Origin Access Control; the legacy Origin Access Identity is "
    "never used.",
    controls=("CloudFront.13",),
    severity=Severity.MEDIUM,
    enforcement=EnforcementLevel.MANDATORY,
    remediation="Create aws.cloudfront.OriginAccessControl (origin_access_control_origin_type="
    "\"s3\", signing_behavior=\"always\", signing_protocol=\"sigv4\"), set "
    "origin_access_control_id on the origin, drop s3_origin_config/OriginAccessIdentity, and "
    "allow cloudfront.amazonaws.com in the bucket policy with aws:SourceArn = the distribution.",
)


def _is_s3_origin(origin: Mapping[str, Any]) -> bool:
    if origin.get("customOriginConfig"):
        domain = origin.get("domainName")
        return isinstance(domain, str) and ".s3." in domain and ".s3-website" not in domain
    if origin.get("s3OriginConfig") or origin.get("originAccessControlId"):
        return True
    domain = origin.get("domainName")
    if is_unknown(domain):
        return not origin.get("vpcOriginConfig")
    return isinstance(domain, str) and (".s3." in domain or domain.endswith(".s3.amazonaws.com"))


def oac_problems(props: Mapping[str, Any]) -> list[str]:
    problems = []
    for origin in as_list(props.get("origins")):
        if not isinstance(origin, Mapping) or not _is_s3_origin(origin):
            continue
        label = f"origin {origin.get('originId')!r}"
        oai = dig(origin, "s3OriginConfig", "originAccessIdentity")
        if oai and not is_unknown(oai):
            problems.append(f"{label} uses the legacy Origin Access Identity {oai!r}.")
        if origin.get("customOriginConfig"):
            problems.append(f"{label} reaches S3 as a custom (website/HTTP) origin, bypassing OAC.")
        elif not origin.get("originAccessControlId"):
            problems.append(f"{label} is an S3 origin without originAccessControlId, so the bucket "
                            "would have to be readable by others.")
    return problems


def _validate_oac(args: ResourceValidationArgs, report: ReportViolation) -> None:
    label = subject(args.resource_type, args.name)
    if args.resource_type == ORIGIN_ACCESS_IDENTITY:
        report(OAC_INFO.message(label, "legacy Origin Access Identity resource."), None)
    elif args.resource_type == DISTRIBUTION:
        for problem in oac_problems(plain(args.props)):
            report(OAC_INFO.message(label, problem), None)


# ---------------------------------------------------------------------------------------

TLS_INFO = RuleInfo(
    name="cloudfront-tls-minimum-protocol",
    summary="A distribution with a custom certificate uses SNI and at least the configured "
    "security policy (default TLSv1.2_2021).",
    controls=("CloudFront.15", "CloudFront.7", "CloudFront.8"),
    severity=Severity.MEDIUM,
    enforcement=EnforcementLevel.MANDATORY,
    remediation="Set viewer_certificate minimum_protocol_version=\"TLSv1.2_2021\" (or newer) "
    "and ssl_support_method=\"sni-only\".",
)

TLS_SCHEMA = exemptions_schema({
    "minimumProtocolVersion": {
        "type": "string",
        "enum": list(TLS_POLICY_ORDER),
        "default": DEFAULT_MINIMUM_TLS_POLICY,
        "description": "Oldest CloudFront security policy allowed with a custom certificate.",
    },
})


def tls_problems(props: Mapping[str, Any], minimum: str) -> list[str]:
    certificate = props.get("viewerCertificate")
    if not isinstance(certificate, Mapping):
        return []
    custom = certificate.get("acmCertificateArn") or certificate.get("iamCertificateId")
    if not custom or truthy(certificate.get("cloudfrontDefaultCertificate")):
        return []
    problems = []
    version = certificate.get("minimumProtocolVersion")
    if not is_unknown(version):
        if version not in TLS_POLICY_ORDER:
            problems.append(f"minimumProtocolVersion {version!r} is not a known security policy.")
        elif TLS_POLICY_ORDER.index(version) < TLS_POLICY_ORDER.index(minimum):
            problems.append(f"minimumProtocolVersion {version!r} is older than {minimum!r}.")
    method = certificate.get("sslSupportMethod")
    if not is_unknown(method) and method not in (None, "sni-only"):
        problems.append(f"sslSupportMethod {method!r}: use 'sni-only' (dedicated IPs allow "
                        "clients without SNI and cost extra).")
    return problems


def _validate_tls(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type != DISTRIBUTION:
        return
    minimum = config_value(args, "minimumProtocolVersion", DEFAULT_MINIMUM_TLS_POLICY)
    if minimum not in TLS_POLICY_ORDER:
        minimum = DEFAULT_MINIMUM_TLS_POLICY
    for problem in tls_problems(plain(args.props), minimum):
        report(TLS_INFO.message(subject(args.resource_type, args.name), problem), None)


# ---------------------------------------------------------------------------------------

PRIVATE_INFO = RuleInfo(
    name="cloudfront-private-by-default",
    summary="A distribution serves nothing unsigned except the configured public paths: every "
    "other behavior requires signed URLs/cookies (a trusted key group) or runs a viewer-request "
    "function that refuses every request (the deny-unsigned guard); public paths are read-only.",
    controls=(),
    severity=Severity.HIGH,
    enforcement=EnforcementLevel.MANDATORY,
    remediation="Set trusted_key_groups=[key_group.id] on the default cache behavior (private "
    "files are then served only with CloudFront signed URLs or cookies); serve unsigned only "
    "paths listed in publicPathPatterns (default public/*), with allowed_methods GET/HEAD; "
    "never use trusted_signers (root-account key pairs).",
)

DEFAULT_PUBLIC_PATHS = ["public/*"]
READ_ONLY_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

PRIVATE_SCHEMA = exemptions_schema({
    "publicPathPatterns": {
        "type": "array",
        "items": {"type": "string"},
        "default": DEFAULT_PUBLIC_PATHS,
        "description": "Path patterns that may be served without a signature.",
    },
})


FUNCTION = "aws:cloudfront/function:Function"
RESPONSE_HEADERS_POLICY = "aws:cloudfront/responseHeadersPolicy:ResponseHeadersPolicy"
VIEWER_GUARD_MARKER = "// securestore:viewer-guard"
DENY_UNSIGNED_MARKER = "// securestore:deny-unsigned"
DENY_UNSIGNED_SWITCH = "var DENY_UNSIGNED = true;"


def _signed(behavior: Mapping[str, Any]) -> Optional[bool]:
    """True if the behavior requires a signature, None if that is not known yet."""
    groups = behavior.get("trustedKeyGroups")
    if is_unknown(groups):
        return None
    return bool(as_list(groups))


def _viewer_request_functions(behavior: Mapping[str, Any]) -> list[Any]:
    return [association.get("functionArn") for association in as_list(behavior.get("functionAssociations"))
            if isinstance(association, Mapping) and association.get("eventType") == "viewer-request"]


def function_codes(index: StackIndex) -> dict[str, str]:
    """Function ARN (and name) -> its JavaScript, for the stack's CloudFront Functions."""
    codes: dict[str, str] = {}
    for function in index.of_type(FUNCTION):
        code = function.props.get("code")
        if not isinstance(code, str):
            continue
        for key in ("arn", "name", "id"):
            value = function.props.get(key)
            if isinstance(value, str) and not is_unknown(value):
                codes[value] = code
    return codes


def refuses_every_request(code: Optional[str]) -> bool:
    """The deny-unsigned copy of the viewer guard (its switch on, marked): it answers 403 to
    every request that reaches its behaviour. Any other function (or one whose code this
    stack does not hold) is not a guard for private files."""
    return isinstance(code, str) and DENY_UNSIGNED_MARKER in code and DENY_UNSIGNED_SWITCH in code


def private_problems(props: Mapping[str, Any], public_paths: list[str],
                     codes: Optional[Mapping[str, str]] = None) -> list[str]:
    codes = codes or {}
    problems = []
    for label, behavior in _behaviors(props):
        if as_list(behavior.get("trustedSigners")):
            problems.append(f"{label} uses trustedSigners (root-account CloudFront key pairs); "
                            "use trustedKeyGroups.")
        signed = _signed(behavior)
        if signed is None or signed:
            continue
        pattern = behavior.get("pathPattern")
        if is_unknown(pattern):
            continue
        if pattern is not None and pattern in public_paths:
            methods = behavior.get("allowedMethods")
            if not is_unknown(methods) and methods is not None:
                writes = sorted(set(as_list(methods)) - READ_ONLY_METHODS)
                if writes:
                    problems.append(f"{label} is unsigned and allows {', '.join(writes)}; public "
                                    "paths are read-only (GET, HEAD).")
            continue
        functions = _viewer_request_functions(behavior)
        if any(is_unknown(f) for f in functions):
            continue
        if any(refuses_every_request(codes.get(f)) for f in functions if isinstance(f, str)):
            continue
        where = "every path not matched elsewhere" if pattern is None else repr(pattern)
        why = (f"its viewer-request function(s) {', '.join(map(str, functions))} do not refuse every request"
               if functions else "no trustedKeyGroups")
        problems.append(f"{label} serves {where} without a signature ({why}); only "
                        f"{', '.join(public_paths) or 'no paths'} may be public.")
    return problems


def _validate_private(args: StackValidationArgs, report: ReportViolation) -> None:
    index = StackIndex(args.resources)
    public_paths = config_value(args, "publicPathPatterns", DEFAULT_PUBLIC_PATHS)
    if not isinstance(public_paths, list):
        public_paths = DEFAULT_PUBLIC_PATHS
    exempt = set(config_value(args, "exemptResources", []) or [])
    codes = function_codes(index)
    for distribution in index.of_type(DISTRIBUTION):
        if distribution.name in exempt:
            continue
        for problem in private_problems(distribution.props, public_paths, codes):
            report(PRIVATE_INFO.message(subject(distribution.type, distribution.name), problem), distribution.urn)


# ---------------------------------------------------------------------------------------

GUARD_INFO = RuleInfo(
    name="cloudfront-viewer-guard-everywhere",
    summary="A distribution that mixes unsigned (public) and signed or refused behaviours runs the "
    "path-normalization guard (a viewer-request CloudFront Function whose code carries "
    "'// securestore:viewer-guard') on every behaviour, so a URI with dot or encoded segments "
    "cannot be routed through an unsigned behaviour to a private key.",
    controls=(),
    severity=Severity.HIGH,
    enforcement=EnforcementLevel.MANDATORY,
    remediation="Associate the viewer-guard function (components/edge_functions/viewer_request.js) "
    "with event_type=\"viewer-request\" on the default and every ordered cache behaviour.",
)

GUARD_SCHEMA = exemptions_schema({
    "required": {
        "type": "boolean",
        "default": True,
        "description": "Require the viewer guard on every behaviour.",
    },
})


def _validate_guard(args: StackValidationArgs, report: ReportViolation) -> None:
    if not truthy(config_value(args, "required", True)):
        return
    index = StackIndex(args.resources)
    codes = function_codes(index)
    exempt = set(config_value(args, "exemptResources", []) or [])
    for distribution in index.of_type(DISTRIBUTION):
        if distribution.name in exempt:
            continue
        behaviors = _behaviors(distribution.props)
        signed = [_signed(b) or any(refuses_every_request(codes.get(f)) for f in _viewer_request_functions(b)
                                    if isinstance(f, str)) for _, b in behaviors]
        if not (any(signed) and not all(signed)):
            continue  # all public or all private: no unsigned route to a private key
        for label, behavior in behaviors:
            functions = _viewer_request_functions(behavior)
            if any(is_unknown(f) for f in functions):
                continue
            if not any(VIEWER_GUARD_MARKER in codes.get(f, "") for f in functions if isinstance(f, str)):
                report(GUARD_INFO.message(subject(distribution.type, distribution.name),
                                          f"{label} has no viewer-request function carrying the path guard "
                                          f"({', '.join(map(str, functions)) or 'no function'})."), distribution.urn)


# ---------------------------------------------------------------------------------------

REFERRER_INFO = RuleInfo(
    name="cloudfront-referrer-policy",
    summary="Response headers policies set Referrer-Policy to no-referrer, same-origin or "
    "strict-origin(-when-cross-origin), so a signed URL (with its signature) never leaks to "
    "another site in a Referer header.",
    controls=(),
    severity=Severity.MEDIUM,
    enforcement=EnforcementLevel.MANDATORY,
    remediation="Set security_headers_config.referrer_policy referrer_policy=\"no-referrer\" "
    "(override=True) on the ResponseHeadersPolicy.",
)
SAFE_REFERRER_POLICIES = frozenset({"no-referrer", "same-origin", "strict-origin",
                                    "strict-origin-when-cross-origin"})


def _validate_referrer(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type != RESPONSE_HEADERS_POLICY:
        return
    value = dig(plain(args.props), "securityHeadersConfig", "referrerPolicy", "referrerPolicy")
    if value is None or is_unknown(value):
        return
    if value not in SAFE_REFERRER_POLICIES:
        report(REFERRER_INFO.message(subject(args.resource_type, args.name),
                                     f"Referrer-Policy {value!r} sends the full URL (signature included) "
                                     "to other sites."), None)


# ---------------------------------------------------------------------------------------

ORIGIN_HTTPS_INFO = RuleInfo(
    name="cloudfront-custom-origin-https-only",
    summary="Every custom origin is reached over HTTPS only (originProtocolPolicy https-only, "
    "TLSv1.2 origin SSL protocols).",
    controls=("CloudFront.9", "CloudFront.10"),
    severity=Severity.MEDIUM,
    enforcement=EnforcementLevel.MANDATORY,
    remediation="Set custom_origin_config origin_protocol_policy=\"https-only\" and "
    "origin_ssl_protocols=[\"TLSv1.2\"].",
)


def origin_https_problems(props: Mapping[str, Any]) -> list[str]:
    problems = []
    for origin in as_list(props.get("origins")):
        if not isinstance(origin, Mapping) or not isinstance(origin.get("customOriginConfig"), Mapping):
            continue
        config = origin["customOriginConfig"]
        label = f"origin {origin.get('originId')!r}"
        policy = config.get("originProtocolPolicy")
        if not is_unknown(policy) and policy != "https-only":
            problems.append(f"{label} has originProtocolPolicy {policy!r}; requests to it can travel as "
                            "plain HTTP.")
        protocols = config.get("originSslProtocols")
        old = [p for p in as_list(protocols) if isinstance(p, str) and p in ("SSLv3", "TLSv1", "TLSv1.1")]
        if old:
            problems.append(f"{label} accepts {', '.join(old)} to the origin.")
    return problems


def _validate_origin_https(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type != DISTRIBUTION:
        return
    for problem in origin_https_problems(plain(args.props)):
        report(ORIGIN_HTTPS_INFO.message(subject(args.resource_type, args.name), problem), None)


# ---------------------------------------------------------------------------------------

WAF_INFO = RuleInfo(
    name="cloudfront-waf-enabled",
    summary="When the pack config sets required=true, every distribution is associated with "
    "an AWS WAF web ACL.",
    controls=("CloudFront.6",),
    severity=Severity.MEDIUM,
    enforcement=EnforcementLevel.MANDATORY,
    remediation="Create an aws.wafv2.WebAcl with scope \"CLOUDFRONT\" (in us-east-1) and set "
    "web_acl_id on the distribution (config key securestore:wafEnabled=true).",
)

WAF_SCHEMA = exemptions_schema({
    "required": {
        "type": "boolean",
        "default": False,
        "description": "Require a WAF web ACL on every distribution (set for prod).",
    },
})


def _validate_waf(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type != DISTRIBUTION or not truthy(config_value(args, "required", False)):
        return
    web_acl = plain(args.props).get("webAclId")
    if not web_acl and not is_unknown(web_acl):
        report(WAF_INFO.message(subject(args.resource_type, args.name), "no webAclId."), None)


# ---------------------------------------------------------------------------------------

LOGGING_INFO = RuleInfo(
    name="cloudfront-access-logging",
    summary="Every distribution logs viewer requests: standard logging (loggingConfig) or a "
    "CloudWatch log delivery source of type ACCESS_LOGS with a delivery.",
    controls=("CloudFront.5",),
    severity=Severity.MEDIUM,
    enforcement=EnforcementLevel.ADVISORY,
    remediation="Add aws.cloudwatch.LogDeliverySource(log_type=\"ACCESS_LOGS\", resource_arn="
    "distribution.arn), a LogDeliveryDestination (S3 log bucket) and a LogDelivery joining "
    "them (or logging_config with the log bucket).",
)


def _refers_to(node: Any, key: str, target: Any) -> bool:
    value = node.props.get(key)
    if isinstance(value, str) and value and not is_unknown(value):
        return value in (target.props.get("arn"), target.props.get("name"), target.props.get("id"))
    return target.urn in node.property_dependencies.get(key, [])


def _validate_cf_logging(args: StackValidationArgs, report: ReportViolation) -> None:
    index = StackIndex(args.resources)
    exempt = config_value(args, "exemptResources", [])
    sources = index.of_type(LOG_DELIVERY_SOURCE)
    deliveries = index.of_type(LOG_DELIVERY)
    for distribution in index.of_type(DISTRIBUTION):
        if isinstance(exempt, list) and distribution.name in exempt:
            continue
        if dig(distribution.props, "loggingConfig", "bucket"):
            continue
        own_sources = [s for s in sources if _refers_to(s, "resourceArn", distribution)
                       and s.props.get("logType") in (None, "ACCESS_LOGS")]
        delivered = [s for s in own_sources
                     if any(_refers_to(d, "deliverySourceName", s) for d in deliveries)]
        if not delivered:
            problem = ("its log delivery source has no LogDelivery." if own_sources
                       else "no loggingConfig and no ACCESS_LOGS delivery source.")
            report(LOGGING_INFO.message(subject(distribution.type, distribution.name), problem),
                   distribution.urn)


POLICIES = [
    resource_policy(HTTPS_INFO, _validate_https, remediate=_remediate_https),
    resource_policy(OAC_INFO, _validate_oac),
    resource_policy(TLS_INFO, _validate_tls, config_schema=TLS_SCHEMA),
    stack_policy(PRIVATE_INFO, _validate_private, PRIVATE_SCHEMA),
    stack_policy(GUARD_INFO, _validate_guard, GUARD_SCHEMA),
    resource_policy(REFERRER_INFO, _validate_referrer),
    resource_policy(ORIGIN_HTTPS_INFO, _validate_origin_https),
    resource_policy(WAF_INFO, _validate_waf, config_schema=WAF_SCHEMA),
    stack_policy(LOGGING_INFO, _validate_cf_logging),
]
