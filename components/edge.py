"""``EdgeDelivery``: CloudFront in front of the private data bucket.

* The bucket stays private: CloudFront signs its origin requests with Origin Access
  Control (SigV4, always), never the legacy Origin Access Identity, and the bucket policy
  and key policy grant read/decrypt only to *this* distribution's ARN (``data_statements``
  and ``key_statements``, attached last by ``__main__.py``: the distribution needs the
  bucket, the grants need the distribution).
* Everything is private by default: the default behaviour trusts only the key group built
  from the configured public key, so a download needs a CloudFront signed URL or signed
  cookie. Without a key (allowed in dev only) a viewer-request function answers 403, so a
  missing key can never make private files public.
* ``public/*`` is the one unsigned path, GET/HEAD only.
* Every behaviour runs the viewer-request guard (``edge_functions/viewer_request.js``):
  CloudFront picks the behaviour from the dot-normalized path but sends the raw URI to S3,
  so ``/acme/%2e%2e/public/x`` would match ``public/*`` and read the tenant's key
  ``acme/../public/x``; the guard refuses such URIs (the bucket policy refuses such keys).
* HTTPS everywhere, security headers on every response, WAF (managed rule groups and a
  per-IP rate limit) when enabled, access logs through CloudWatch log delivery (v2) into
  the log bucket, which keeps ACLs disabled.

CloudFront, its WAF web ACL and its log delivery source are global/us-east-1 resources,
so they use an explicit us-east-1 provider that is a child of this component.
"""

import json
from pathlib import Path
from typing import TYPE_CHECKING, NotRequired, Optional, Sequence, TypedDict

import pulumi
import pulumi_aws as aws

from . import args_check, lazy_args
from .edge_policies import (
    CLOUDFRONT_LOG_PREFIX,
    CLOUDFRONT_LOG_REGION,
    cloudfront_decrypt_statement,
    cloudfront_read_statement,
    delivery_source_arn,
    log_delivery_statement,
)
from .package import resource_type
from .settings import EdgeSettings

# No ``from __future__ import annotations`` here: the component provider infers the schema
# from the Args and output annotations at runtime and refuses string annotations. Methods
# that name ``aws.wafv2`` quote it, so that defining the class does not import that module.

TYPE_TOKEN = "securestore:edge:EdgeDelivery"

ORIGIN_ID = "data-bucket"
PUBLIC_PATH_PATTERN = "public/*"
READ_METHODS = ["GET", "HEAD"]
VIEWER_PROTOCOL_POLICY = "redirect-to-https"
MINIMUM_TLS_PROTOCOL = "TLSv1.2_2021"
"""Used with a custom domain; the default *.cloudfront.net certificate cannot be pinned."""
CACHE_POLICY_NAME = "Managed-CachingOptimized"
"""Query strings are not in the cache key; CloudFront checks the signature before the cache."""
ORIGIN_REQUEST_POLICY_NAME = "Managed-CORS-S3Origin"
"""Forwards Origin and the CORS request headers, so S3's CORS rules answer browsers."""
HSTS_MAX_AGE_SECONDS = 2 * 365 * 24 * 3600
REFERRER_POLICY = "no-referrer"
"""A signed URL's query string is a bearer credential; never leak it in a Referer header."""
FRAME_OPTION = "DENY"
LOG_OUTPUT_FORMAT = "json"

WAF_MANAGED_RULE_GROUPS = (
    "AWSManagedRulesAmazonIpReputationList",
    "AWSManagedRulesCommonRuleSet",
    "AWSManagedRulesKnownBadInputsRuleSet",
)
"""Evaluated after the rate limit, in this order."""
WAF_RATE_RULE_NAME = "rate-limit-per-ip"

VIEWER_REQUEST_JS = Path(__file__).resolve().parent / "edge_functions" / "viewer_request.js"
"""The viewer-request guard (CloudFront Functions JavaScript, tested unchanged in Node)."""
VIEWER_GUARD_MARKER = "// securestore:viewer-guard"
DENY_UNSIGNED_MARKER = "// securestore:deny-unsigned"
_DENY_UNSIGNED_OFF = "var DENY_UNSIGNED = false;"


VIEWER_RESPONSE_JS = Path(__file__).resolve().parent / "edge_functions" / "viewer_response.js"
"""The private paths' viewer-response function (sandbox CSP, downloads unless inline-safe)."""
INLINE_SAFE_MARKER = "// securestore:inline-safe"


def viewer_response_code(inline_content_types: Sequence[str]) -> str:
    """The viewer-response function with the stack's inline-safe media types in place of the
    default list (the one line carrying ``INLINE_SAFE_MARKER``)."""
    code = VIEWER_RESPONSE_JS.read_text(encoding="utf-8")
    lines = [line for line in code.splitlines() if line.endswith(INLINE_SAFE_MARKER)]
    if len(lines) != 1 or not lines[0].startswith("var INLINE_SAFE = "):
        raise RuntimeError(f"{VIEWER_RESPONSE_JS} lost its INLINE_SAFE line")
    types = json.dumps(sorted({t.lower() for t in inline_content_types}))
    return code.replace(lines[0], f"var INLINE_SAFE = {types}; {INLINE_SAFE_MARKER}", 1)


def viewer_guard_code() -> str:
    """The guard as deployed on every behaviour that needs nothing else."""
    code = VIEWER_REQUEST_JS.read_text(encoding="utf-8")
    if VIEWER_GUARD_MARKER not in code or _DENY_UNSIGNED_OFF not in code:
        raise RuntimeError(f"{VIEWER_REQUEST_JS} lost its marker or its DENY_UNSIGNED switch")
    return code


def deny_unsigned_code() -> str:
    """The same guard, then 403 for every request: the default behaviour without a signer
    key (dev). One function per behaviour, so the guard and the deny are one code."""
    return viewer_guard_code().replace(
        _DENY_UNSIGNED_OFF, f"var DENY_UNSIGNED = true; {DENY_UNSIGNED_MARKER}", 1
    )


class EdgeDeliveryArgs(TypedDict):
    bucket_arn: pulumi.Input[str]
    """The data bucket; CloudFront may read its objects, for this distribution only."""
    bucket_regional_domain_name: pulumi.Input[str]
    """Regional endpoint of the data bucket (the OAC origin)."""
    log_bucket_arn: pulumi.Input[str]
    """Where access logs are delivered, under ``cloudfront/``."""
    account_id: pulumi.Input[str]
    """This account: the log bucket grants delivery only from its log delivery source."""
    partition: pulumi.Input[str]
    """ARN partition (``aws``, ``aws-cn``, ``aws-us-gov``)."""
    public_key_pem: Optional[str]
    """PEM of the RSA-2048 public key that verifies signed URLs and cookies (never the private key); absent: private paths answer 403."""
    price_class: str
    """``PriceClass_100``, ``PriceClass_200`` or ``PriceClass_All``."""
    geo_restriction_type: str
    """``none``, ``whitelist`` (only geo_restriction_locations) or ``blacklist`` (all but them)."""
    geo_restriction_locations: Sequence[str]
    """ISO 3166-1 alpha-2 country codes; empty when geo_restriction_type is none."""
    custom_domain: Optional[str]
    """Alternate domain name (e.g. files.example.com); absent: the *.cloudfront.net name."""
    acm_certificate_arn: Optional[str]
    """ACM certificate in us-east-1 covering custom_domain; set exactly when custom_domain is."""
    waf_enabled: bool
    """Attach a WAFv2 web ACL (AWS managed rule groups and a per-IP rate limit)."""
    waf_rate_limit: int
    """Requests one IP may send in 5 minutes before WAF blocks it (10-2000000000)."""
    ipv6_enabled: NotRequired[bool]
    """Serve IPv6 viewers (default true); IP-restricted signed URLs need it off."""
    inline_content_types: NotRequired[Sequence[str]]
    """Media types private paths serve inline (default PDF, PNG, JPEG, GIF, WebP, plain text); every other type is a download. Never HTML, SVG, XML, JavaScript or CSS."""
    tags: pulumi.Input[dict[str, str]]
    """Tags of the distribution, the web ACL and the log delivery resources."""


class EdgeDelivery(pulumi.ComponentResource):
    """A CloudFront distribution that serves private files signed and ``public/*`` unsigned."""

    if TYPE_CHECKING:  # child resources and policy grants, for Python callers; not outputs
        us_east_1: aws.Provider
        origin_access_control: aws.cloudfront.OriginAccessControl
        public_key: Optional[aws.cloudfront.PublicKey]
        key_group: Optional[aws.cloudfront.KeyGroup]
        deny_unsigned: Optional[aws.cloudfront.Function]
        viewer_guard: aws.cloudfront.Function
        viewer_response: aws.cloudfront.Function
        """Refuses dot-segment, empty-segment, encoded-slash and control-character URIs."""
        response_headers_policy: aws.cloudfront.ResponseHeadersPolicy
        web_acl: Optional[pulumi.CustomResource]
        """The ``aws.wafv2.WebAcl`` when WAF is on. Typed loosely on purpose: naming
        ``aws.wafv2`` would import that module (about 1 s) even in stacks without WAF."""
        distribution: aws.cloudfront.Distribution
        log_delivery: Optional[aws.cloudwatch.LogDelivery]
        data_statements: pulumi.Output[list]
        """Grants for the data bucket's policy."""
        key_statements: pulumi.Output[list]
        """Grants for the data key's policy."""
        log_statements: pulumi.Output[list]
        """Grants for the log bucket's policy."""
    distribution_id: pulumi.Output[str]
    """Id of the CloudFront distribution."""
    distribution_arn: pulumi.Output[str]
    """ARN of the distribution: the bucket and key policies grant read/decrypt to it only."""
    domain_name: pulumi.Output[str]
    """The distribution's *.cloudfront.net domain name."""
    key_group_id: pulumi.Output[Optional[str]]
    """Key group whose key signs URLs and cookies; absent without a public key."""
    public_key_id: pulumi.Output[Optional[str]]
    """CloudFront id of the signer's public key (the Key-Pair-Id of signed URLs)."""
    data_bucket_statements: pulumi.Output[str]
    """JSON array: the data bucket's grant to this distribution (for StorePolicies)."""
    log_bucket_statements: pulumi.Output[str]
    """JSON array: the log bucket's grant to this distribution's log delivery (for StorePolicies)."""
    key_policy_statements: pulumi.Output[str]
    """JSON array: the key's decrypt grant to this distribution (for StorePolicies)."""

    def __init__(
        self, name: str, args: EdgeDeliveryArgs, opts: Optional[pulumi.ResourceOptions] = None
    ) -> None:
        edge = self._check(name, args)
        super().__init__(resource_type(TYPE_TOKEN), name, None, opts)
        self._name = name
        self._args = args
        child = pulumi.ResourceOptions(parent=self)

        self.us_east_1 = aws.Provider(
            f"{name}-us-east-1", aws.ProviderArgs(region=CLOUDFRONT_LOG_REGION), child
        )
        self.origin_access_control = aws.cloudfront.OriginAccessControl(
            f"{name}-oac",
            aws.cloudfront.OriginAccessControlArgs(
                name=f"{name}-oac",
                description="Signs every origin request to the private data bucket (SigV4)",
                origin_access_control_origin_type="s3",
                signing_behavior="always",
                signing_protocol="sigv4",
            ),
            child,
        )
        self._signers(edge)
        self.viewer_guard = aws.cloudfront.Function(
            f"{name}-viewer-guard",
            aws.cloudfront.FunctionArgs(
                name=f"{name}-viewer-guard",
                runtime="cloudfront-js-2.0",
                comment="Refuses URIs CloudFront would normalize onto another path (dot segments, //, %2f)",
                code=viewer_guard_code(),
                publish=True,
            ),
            child,
        )
        default_function = self.deny_unsigned or self.viewer_guard
        self.viewer_response = aws.cloudfront.Function(
            f"{name}-viewer-response",
            aws.cloudfront.FunctionArgs(
                name=f"{name}-viewer-response",
                runtime="cloudfront-js-2.0",
                comment="Private files: sandbox CSP; a download unless the type is inline-safe",
                code=viewer_response_code(edge.inline_content_types),
                publish=True,
            ),
            child,
        )
        self.response_headers_policy = self._security_headers()
        self.web_acl = self._web_acl(edge) if edge.waf_enabled else None

        cache_policy = aws.cloudfront.get_cache_policy_output(
            name=CACHE_POLICY_NAME, opts=pulumi.InvokeOutputOptions(parent=self)
        )
        origin_request_policy = aws.cloudfront.get_origin_request_policy_output(
            name=ORIGIN_REQUEST_POLICY_NAME, opts=pulumi.InvokeOutputOptions(parent=self)
        )
        self.distribution = aws.cloudfront.Distribution(
            f"{name}-distribution",
            aws.cloudfront.DistributionArgs(
                enabled=True,
                comment=f"{name}: private files signed, public/* unsigned",
                # IP-restricted signed URLs do not hold for IPv6 viewers (the client refuses
                # them unless the stack turns IPv6 off: cloudfrontIpv6Enabled).
                is_ipv6_enabled=edge.ipv6_enabled,
                http_version="http2and3",
                price_class=edge.price_class,
                aliases=[edge.custom_domain] if edge.custom_domain else None,
                origins=[
                    aws.cloudfront.DistributionOriginArgs(
                        origin_id=ORIGIN_ID,
                        domain_name=args["bucket_regional_domain_name"],
                        origin_access_control_id=self.origin_access_control.id,
                    )
                ],
                default_cache_behavior=aws.cloudfront.DistributionDefaultCacheBehaviorArgs(
                    target_origin_id=ORIGIN_ID,
                    viewer_protocol_policy=VIEWER_PROTOCOL_POLICY,
                    allowed_methods=READ_METHODS,
                    cached_methods=READ_METHODS,
                    compress=True,
                    cache_policy_id=cache_policy.id,
                    origin_request_policy_id=origin_request_policy.id,
                    response_headers_policy_id=self.response_headers_policy.id,
                    trusted_key_groups=[self.key_group.id] if self.key_group else None,
                    function_associations=[
                        aws.cloudfront.DistributionDefaultCacheBehaviorFunctionAssociationArgs(
                            event_type="viewer-request", function_arn=default_function.arn
                        ),
                        aws.cloudfront.DistributionDefaultCacheBehaviorFunctionAssociationArgs(
                            event_type="viewer-response", function_arn=self.viewer_response.arn
                        ),
                    ],
                ),
                ordered_cache_behaviors=[
                    aws.cloudfront.DistributionOrderedCacheBehaviorArgs(
                        path_pattern=PUBLIC_PATH_PATTERN,
                        target_origin_id=ORIGIN_ID,
                        viewer_protocol_policy=VIEWER_PROTOCOL_POLICY,
                        allowed_methods=READ_METHODS,
                        cached_methods=READ_METHODS,
                        compress=True,
                        cache_policy_id=cache_policy.id,
                        origin_request_policy_id=origin_request_policy.id,
                        response_headers_policy_id=self.response_headers_policy.id,
                        function_associations=[
                            aws.cloudfront.DistributionOrderedCacheBehaviorFunctionAssociationArgs(
                                event_type="viewer-request", function_arn=self.viewer_guard.arn
                            )
                        ],
                    )
                ],
                restrictions=aws.cloudfront.DistributionRestrictionsArgs(
                    geo_restriction=aws.cloudfront.DistributionRestrictionsGeoRestrictionArgs(
                        restriction_type=edge.geo_restriction_type,
                        locations=list(edge.geo_restriction_locations),
                    )
                ),
                viewer_certificate=self._viewer_certificate(edge),
                web_acl_id=self.web_acl.arn if self.web_acl else None,
                tags=args["tags"],
            ),
            child,
        )
        self.log_delivery = None
        self._delivery_source_name = f"{name}-access-logs"

        self.distribution_id = self.distribution.id
        self.distribution_arn = self.distribution.arn
        self.domain_name = self.distribution.domain_name
        self.key_group_id = self.key_group.id if self.key_group else pulumi.Output.from_input(None)
        self.public_key_id = (
            self.public_key.id if self.public_key else pulumi.Output.from_input(None)
        )
        self.data_statements = pulumi.Output.all(args["bucket_arn"], self.distribution.arn).apply(
            lambda a: [cloudfront_read_statement(bucket_arn=a[0], distribution_arn=a[1])]
        )
        self.key_statements = self.distribution.arn.apply(
            lambda arn: [cloudfront_decrypt_statement(distribution_arn=arn)]
        )
        self.log_statements = pulumi.Output.all(
            args["log_bucket_arn"], args["account_id"], args["partition"]
        ).apply(
            lambda a: [
                log_delivery_statement(
                    log_bucket_arn=a[0],
                    account_id=a[1],
                    delivery_source_arn=delivery_source_arn(a[1], self._delivery_source_name, a[2]),
                )
            ]
        )
        # the same grants as JSON, outputs for a program in another language (StorePolicies)
        self.data_bucket_statements = self.data_statements.apply(json.dumps)
        self.log_bucket_statements = self.log_statements.apply(json.dumps)
        self.key_policy_statements = self.key_statements.apply(json.dumps)
        self.register_outputs(
            {
                "distribution_id": self.distribution_id,
                "distribution_arn": self.distribution_arn,
                "domain_name": self.domain_name,
                "key_group_id": self.key_group_id,
                "public_key_id": self.public_key_id,
                "data_bucket_statements": self.data_bucket_statements,
                "log_bucket_statements": self.log_bucket_statements,
                "key_policy_statements": self.key_policy_statements,
            }
        )

    @staticmethod
    def _check(name: str, args: EdgeDeliveryArgs) -> EdgeSettings:
        """The edge rules of ``settings``, before anything is registered; the plain fields
        come back as the (normalized) settings the private methods read."""
        component = "EdgeDelivery"
        args_check.require(component, name, args, EdgeDeliveryArgs)
        return args_check.check(
            component,
            name,
            args,
            {
                "public_key_pem": "cloudfrontPublicKeyPem",
                "price_class": "cloudfrontPriceClass",
                "geo_restriction_type": "geoRestrictionType",
                "geo_restriction_locations": "geoRestrictionLocations",
                "custom_domain": "customDomain",
                "acm_certificate_arn": "acmCertificateArn",
                "waf_enabled": "wafEnabled",
                "waf_rate_limit": "wafRateLimit",
                "ipv6_enabled": "cloudfrontIpv6Enabled",
                "inline_content_types": "inlineContentTypes",
            },
            args_check.edge_rules,
        )

    def _signers(self, edge: EdgeSettings) -> None:
        """The key group that signed URLs/cookies must match, or the 403 function without one."""
        child = pulumi.ResourceOptions(parent=self)
        self.public_key = None
        self.key_group = None
        self.deny_unsigned = None
        if edge.public_key_pem is None:
            self.deny_unsigned = aws.cloudfront.Function(
                f"{self._name}-deny-unsigned",
                aws.cloudfront.FunctionArgs(
                    name=f"{self._name}-deny-unsigned",
                    runtime="cloudfront-js-2.0",
                    comment="No signer public key configured: private paths answer 403 (after the viewer guard)",
                    code=deny_unsigned_code(),
                    publish=True,
                ),
                child,
            )
            return
        self.public_key = aws.cloudfront.PublicKey(
            f"{self._name}-signer-key",
            aws.cloudfront.PublicKeyArgs(
                encoded_key=edge.public_key_pem,
                comment="Verifies signed URLs and cookies for private files",
            ),
            child,
        )
        self.key_group = aws.cloudfront.KeyGroup(
            f"{self._name}-signers",
            aws.cloudfront.KeyGroupArgs(
                name=f"{self._name}-signers",
                items=[self.public_key.id],
                comment="Signers trusted for private (non-public/) paths",
            ),
            child,
        )

    def _security_headers(self) -> aws.cloudfront.ResponseHeadersPolicy:
        """HSTS, nosniff, frame denial and no Referer on every response, overriding the origin."""
        headers = aws.cloudfront
        return headers.ResponseHeadersPolicy(
            f"{self._name}-security-headers",
            headers.ResponseHeadersPolicyArgs(
                name=f"{self._name}-security-headers",
                comment="Security headers for private and public files",
                security_headers_config=headers.ResponseHeadersPolicySecurityHeadersConfigArgs(
                    strict_transport_security=headers.ResponseHeadersPolicySecurityHeadersConfigStrictTransportSecurityArgs(
                        access_control_max_age_sec=HSTS_MAX_AGE_SECONDS,
                        include_subdomains=True,
                        preload=False,
                        override=True,
                    ),
                    content_type_options=headers.ResponseHeadersPolicySecurityHeadersConfigContentTypeOptionsArgs(
                        override=True
                    ),
                    frame_options=headers.ResponseHeadersPolicySecurityHeadersConfigFrameOptionsArgs(
                        frame_option=FRAME_OPTION, override=True
                    ),
                    referrer_policy=headers.ResponseHeadersPolicySecurityHeadersConfigReferrerPolicyArgs(
                        referrer_policy=REFERRER_POLICY, override=True
                    ),
                ),
            ),
            pulumi.ResourceOptions(parent=self),
        )

    @staticmethod
    def _viewer_certificate(edge: EdgeSettings) -> aws.cloudfront.DistributionViewerCertificateArgs:
        if edge.custom_domain and edge.acm_certificate_arn:
            return aws.cloudfront.DistributionViewerCertificateArgs(
                acm_certificate_arn=edge.acm_certificate_arn,
                ssl_support_method="sni-only",
                minimum_protocol_version=MINIMUM_TLS_PROTOCOL,
            )
        return aws.cloudfront.DistributionViewerCertificateArgs(cloudfront_default_certificate=True)

    def _web_acl(self, edge: EdgeSettings) -> "aws.wafv2.WebAcl":
        """AWS managed rule groups and a per-IP rate limit; WAF for CloudFront lives in us-east-1.

        ``waf`` is ``aws.wafv2`` or, when nothing has imported it, its recorded stand-in
        (``lazy_args``: same registration, ~1 s less import; the tests prove both equal).
        """
        waf = lazy_args.module("pulumi_aws.wafv2")
        metric = self._name.replace("_", "-")
        rules = [
            waf.WebAclRuleArgs(
                name=WAF_RATE_RULE_NAME,
                priority=0,
                action=waf.WebAclRuleActionArgs(block=waf.WebAclRuleActionBlockArgs()),
                statement=waf.WebAclRuleStatementArgs(
                    rate_based_statement=waf.WebAclRuleStatementRateBasedStatementArgs(
                        limit=edge.waf_rate_limit, aggregate_key_type="IP"
                    )
                ),
                visibility_config=self._rule_visibility(waf, f"{metric}-{WAF_RATE_RULE_NAME}"),
            )
        ]
        for priority, group in enumerate(WAF_MANAGED_RULE_GROUPS, start=1):
            rules.append(
                waf.WebAclRuleArgs(
                    name=group,
                    priority=priority,
                    override_action=waf.WebAclRuleOverrideActionArgs(
                        none=waf.WebAclRuleOverrideActionNoneArgs()
                    ),
                    statement=waf.WebAclRuleStatementArgs(
                        managed_rule_group_statement=waf.WebAclRuleStatementManagedRuleGroupStatementArgs(
                            vendor_name="AWS", name=group
                        )
                    ),
                    visibility_config=self._rule_visibility(waf, f"{metric}-{group}"),
                )
            )
        return waf.WebAcl(
            f"{self._name}-waf",
            waf.WebAclArgs(
                scope="CLOUDFRONT",
                description="Managed protections and a per-IP rate limit for the file CDN",
                default_action=waf.WebAclDefaultActionArgs(allow=waf.WebAclDefaultActionAllowArgs()),
                rules=rules,
                visibility_config=waf.WebAclVisibilityConfigArgs(
                    cloudwatch_metrics_enabled=True,
                    metric_name=f"{metric}-waf",
                    sampled_requests_enabled=True,
                ),
                tags=self._args["tags"],
            ),
            pulumi.ResourceOptions(parent=self, provider=self.us_east_1),
        )

    @staticmethod
    def _rule_visibility(waf, metric_name: str) -> "aws.wafv2.WebAclRuleVisibilityConfigArgs":
        return waf.WebAclRuleVisibilityConfigArgs(
            cloudwatch_metrics_enabled=True, metric_name=metric_name, sampled_requests_enabled=True
        )

    def deliver_access_logs(self, after: Sequence[pulumi.Resource]) -> aws.cloudwatch.LogDelivery:
        """Standard logging v2 into the log bucket, created once the log bucket policy exists.

        ``after`` holds the log bucket's policy: without our statement in place first,
        CloudWatch Logs would try to add its own to the bucket policy (drift) or fail.
        """
        if self.log_delivery is not None:
            raise RuntimeError(f"{self._name}: access log delivery already exists")
        global_child = pulumi.ResourceOptions(parent=self, provider=self.us_east_1)
        source = aws.cloudwatch.LogDeliverySource(
            f"{self._name}-log-source",
            aws.cloudwatch.LogDeliverySourceArgs(
                name=self._delivery_source_name,
                log_type="ACCESS_LOGS",
                resource_arn=self.distribution.arn,
                tags=self._args["tags"],
            ),
            global_child,
        )
        destination = aws.cloudwatch.LogDeliveryDestination(
            f"{self._name}-log-destination",
            aws.cloudwatch.LogDeliveryDestinationArgs(
                name=f"{self._name}-log-bucket",
                output_format=LOG_OUTPUT_FORMAT,
                delivery_destination_configuration=aws.cloudwatch.LogDeliveryDestinationDeliveryDestinationConfigurationArgs(
                    destination_resource_arn=pulumi.Output.from_input(
                        self._args["log_bucket_arn"]
                    ).apply(lambda arn: f"{arn}/{CLOUDFRONT_LOG_PREFIX.rstrip('/')}")
                ),
                tags=self._args["tags"],
            ),
            global_child,
        )
        self.log_delivery = aws.cloudwatch.LogDelivery(
            f"{self._name}-log-delivery",
            aws.cloudwatch.LogDeliveryArgs(
                delivery_source_name=source.name,
                delivery_destination_arn=destination.arn,
                tags=self._args["tags"],
            ),
            pulumi.ResourceOptions(parent=self, provider=self.us_east_1, depends_on=list(after)),
        )
        return self.log_delivery
