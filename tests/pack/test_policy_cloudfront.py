"""CloudFront rules: viewer HTTPS, OAC not OAI, TLS policy, WAF when required, logging."""

from __future__ import annotations

import copy

import pytest

from test_policy_builders import SecureStack, fired, run

DIST = "edge-distribution"


def _edit(stack, name, **changes):
    stack.replace(name, inputs={**copy.deepcopy(stack.get(name).inputs), **changes})


def _behavior(stack, **changes):
    behavior = {**stack.get(DIST).inputs["defaultCacheBehavior"], **changes}
    _edit(stack, DIST, defaultCacheBehavior=behavior)


def allow_all_default(s):
    _behavior(s, viewerProtocolPolicy="allow-all")


def allow_all_ordered(s):
    _edit(s, DIST, orderedCacheBehaviors=[{"pathPattern": "public/*", "targetOriginId": "data",
                                           "viewerProtocolPolicy": "allow-all", "functionAssociations": s.guarded}])


def origin_with_oai(s):
    origin = {"originId": "data", "domainName": s.data_bucket.outputs["bucketRegionalDomainName"],
              "s3OriginConfig": {"originAccessIdentity": "origin-access-identity/cloudfront/E2OAI"}}
    _edit(s, DIST, origins=[origin])


def s3_origin_without_oac(s):
    _edit(s, DIST, origins=[{"originId": "data", "domainName": s.data_bucket.outputs["bucketRegionalDomainName"]}])


def oai_resource(s):
    s.add("aws:cloudfront/originAccessIdentity:OriginAccessIdentity", "legacy-oai", {"comment": "old"})


def old_tls_policy(s):
    cert = {**s.get(DIST).inputs["viewerCertificate"], "minimumProtocolVersion": "TLSv1.2_2018"}
    _edit(s, DIST, viewerCertificate=cert)


def dedicated_ip_ssl(s):
    cert = {**s.get(DIST).inputs["viewerCertificate"], "sslSupportMethod": "vip"}
    _edit(s, DIST, viewerCertificate=cert)


def no_logging(s):
    s.remove("edge-log-source")


def log_source_without_delivery(s):
    s.remove("edge-log-delivery")


def log_source_for_other_resource(s):
    _edit(s, "edge-log-source", resourceArn="arn:aws:cloudfront::123456789012:distribution/EOTHER")


def default_unsigned(s):
    behavior = dict(s.get(DIST).inputs["defaultCacheBehavior"])
    behavior.pop("trustedKeyGroups")
    _edit(s, DIST, defaultCacheBehavior=behavior)


def legacy_trusted_signers(s):
    _behavior(s, trustedSigners=["self"])


def unsigned_private_path(s):
    _edit(s, DIST, orderedCacheBehaviors=[{"pathPattern": "acme/*", "targetOriginId": "data",
                                           "viewerProtocolPolicy": "https-only",
                                           "allowedMethods": ["GET", "HEAD"], "functionAssociations": s.guarded}])


def public_path_accepts_writes(s):
    _edit(s, DIST, orderedCacheBehaviors=[{"pathPattern": "public/*", "targetOriginId": "data",
                                           "viewerProtocolPolicy": "https-only",
                                           "allowedMethods": ["GET", "HEAD", "OPTIONS", "PUT", "POST",
                                                              "PATCH", "DELETE"],
                                           "functionAssociations": s.guarded}])


CASES = {
    default_unsigned: {"cloudfront-private-by-default"},
    legacy_trusted_signers: {"cloudfront-private-by-default"},
    unsigned_private_path: {"cloudfront-private-by-default"},
    public_path_accepts_writes: {"cloudfront-private-by-default"},
    allow_all_default: {"cloudfront-viewer-https-only"},
    allow_all_ordered: {"cloudfront-viewer-https-only"},
    origin_with_oai: {"cloudfront-s3-origin-access-control"},
    s3_origin_without_oac: {"cloudfront-s3-origin-access-control"},
    oai_resource: {"cloudfront-s3-origin-access-control"},
    old_tls_policy: {"cloudfront-tls-minimum-protocol"},
    dedicated_ip_ssl: {"cloudfront-tls-minimum-protocol"},
    no_logging: {"cloudfront-access-logging"},
    log_source_without_delivery: {"cloudfront-access-logging"},
    log_source_for_other_resource: {"cloudfront-access-logging"},
}


@pytest.mark.parametrize("breakage", list(CASES), ids=[f.__name__ for f in CASES])
def test_rule_catches_insecure_variant(breakage):
    """Breaking one property of the distribution fires exactly the rule guarding it."""
    stack = SecureStack()
    breakage(stack)
    assert fired(stack) == CASES[breakage]


DENY_UNSIGNED_CODE = ("// securestore:viewer-guard\nvar DENY_UNSIGNED = true; // securestore:deny-unsigned\n"
                      "function handler(event) { return {statusCode: 403}; }\n")


def _function(stack, name, code):
    return stack.add("aws:cloudfront/function:Function", name, {"name": name, "code": code},
                     outputs={"arn": f"arn:aws:cloudfront::123456789012:function/{name}"})


def test_deny_unsigned_function_keeps_the_default_behavior_private():
    """With no signer key yet, the guard copy that refuses every request is accepted."""
    stack = SecureStack()
    default_unsigned(stack)
    deny = _function(stack, "edge-deny-unsigned", DENY_UNSIGNED_CODE)
    _behavior(stack, functionAssociations=[{"eventType": "viewer-request", "functionArn": deny.outputs["arn"]}])
    assert fired(stack) == set()


@pytest.mark.parametrize("code", [
    "function handler(event) { if (event.request.uri.endsWith('/')) event.request.uri += 'index.html'; "
    "return event.request; }",
    DENY_UNSIGNED_CODE.replace("var DENY_UNSIGNED = true;", "var DENY_UNSIGNED = false;"),
    None,
])
def test_any_other_function_is_not_a_guard_for_private_files(code):
    """Attack class: an unsigned private behaviour that looks guarded. A viewer-request
    function that does not refuse every request (an index rewrite, the guard with its
    deny switch off, or a function this stack does not hold) leaves private files public.
    (Before: any viewer-request association passed.)"""
    stack = SecureStack()
    default_unsigned(stack)
    arn = "arn:aws:cloudfront::123456789012:function/elsewhere"
    if code is not None:
        arn = _function(stack, "edge-rewrite", code).outputs["arn"]
    _behavior(stack, functionAssociations=[{"eventType": "viewer-request", "functionArn": arn}])
    assert "cloudfront-private-by-default" in fired(stack)


def test_public_paths_are_configurable():
    """An unsigned path is allowed once the pack config lists it, and only then."""
    stack = SecureStack()
    unsigned_private_path(stack)
    config = {"cloudfront-private-by-default": {"publicPathPatterns": ["public/*", "acme/*"]}}
    assert fired(stack, config) == set()
    assert fired(stack) == {"cloudfront-private-by-default"}


def test_waf_required_only_when_configured():
    """Without a web ACL the distribution passes by default and fails with required=true."""
    stack = SecureStack()
    inputs = copy.deepcopy(stack.get(DIST).inputs)
    del inputs["webAclId"]
    stack.replace(DIST, inputs=inputs)
    assert fired(stack) == set()
    assert fired(stack, {"cloudfront-waf-enabled": {"required": True}}) == {"cloudfront-waf-enabled"}


def test_waf_present_passes_when_required():
    stack = SecureStack()
    assert fired(stack, {"cloudfront-waf-enabled": {"required": True}}) == set()


def test_minimum_tls_policy_is_configurable():
    """TLSv1.2_2021 passes the default and fails a stricter TLSv1.2_2025 minimum."""
    stack = SecureStack()
    config = {"cloudfront-tls-minimum-protocol": {"minimumProtocolVersion": "TLSv1.2_2025"}}
    assert fired(stack, config) == {"cloudfront-tls-minimum-protocol"}


def test_default_certificate_is_not_judged_on_tls_policy():
    """With the *.cloudfront.net certificate CloudFront fixes the policy; CloudFront.15 is
    about custom certificates only."""
    stack = SecureStack()
    _edit(stack, DIST, viewerCertificate={"cloudfrontDefaultCertificate": True})
    assert fired(stack) == set()


def test_standard_logging_config_counts_as_logging():
    stack = SecureStack()
    stack.remove("edge-log-source")
    _edit(stack, DIST, loggingConfig={"bucket": stack.log_bucket.outputs["bucketDomainName"], "prefix": "cf/"})
    assert fired(stack) == set()


def test_remediation_redirects_http_to_https():
    """enforcementLevel 'remediate' rewrites allow-all to redirect-to-https in every behavior."""
    stack = SecureStack()
    allow_all_default(stack)
    allow_all_ordered(stack)
    report = run(stack, {"cloudfront-viewer-https-only": "remediate"})
    assert report.violations == []
    [remediation] = report.remediations
    assert remediation.changed == ("defaultCacheBehavior", "orderedCacheBehaviors")
