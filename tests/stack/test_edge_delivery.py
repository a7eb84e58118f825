"""EdgeDelivery: every promise of issue 5 about CloudFront, checked on the recorded graphs.

Most tests run on both stacks (``graph``); the ones about options run the program again
with config overrides: a custom domain, geo restriction, WAF in dev and a signer key
generated at run time (``custom_graph``), and no signer key at all (``keyless_graph``).
"""

from __future__ import annotations

import json

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from components.settings import SettingsError, parse
from securestore.offline.engine import ProgramError, evaluate_stack
from securestore.offline.graph import RecordedResource, StackGraph
from securestore.offline.mocks import MANAGED_CACHE_POLICIES
from support.stack_helpers import named, policy_of, statement

COMPONENT = "securestore:edge:EdgeDelivery"
DISTRIBUTION = "aws:cloudfront/distribution:Distribution"
OAC = "aws:cloudfront/originAccessControl:OriginAccessControl"
OAI = "aws:cloudfront/originAccessIdentity:OriginAccessIdentity"
PUBLIC_KEY = "aws:cloudfront/publicKey:PublicKey"
KEY_GROUP = "aws:cloudfront/keyGroup:KeyGroup"
HEADERS = "aws:cloudfront/responseHeadersPolicy:ResponseHeadersPolicy"
FUNCTION = "aws:cloudfront/function:Function"
WEB_ACL = "aws:wafv2/webAcl:WebAcl"
PROVIDER = "pulumi:providers:aws"
LOG_SOURCE = "aws:cloudwatch/logDeliverySource:LogDeliverySource"
LOG_DESTINATION = "aws:cloudwatch/logDeliveryDestination:LogDeliveryDestination"
LOG_DELIVERY = "aws:cloudwatch/logDelivery:LogDelivery"
BUCKET = "aws:s3/bucket:Bucket"
BUCKET_POLICY = "aws:s3/bucketPolicy:BucketPolicy"
OWNERSHIP = "aws:s3/bucketOwnershipControls:BucketOwnershipControls"
ENCRYPTION = "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
KMS_KEY = "aws:kms/key:Key"
KEY_POLICY = "aws:kms/keyPolicy:KeyPolicy"

CERTIFICATE = "arn:aws:acm:us-east-1:123456789012:certificate/0a1b2c3d-4e5f-6789-abcd-ef0123456789"


def _public_pem(private_key) -> str:
    return (
        private_key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


@pytest.fixture(scope="module")
def signer_public_pem() -> str:
    """A signer generated for this run; only its public half goes into config."""
    return _public_pem(rsa.generate_private_key(public_exponent=65537, key_size=2048))


@pytest.fixture(scope="module")
def custom_graph(signer_public_pem: str) -> StackGraph:
    return evaluate_stack(
        "dev",
        config_overrides={
            "cloudfrontPublicKeyPem": signer_public_pem,
            "customDomain": "files.example.com",
            "acmCertificateArn": CERTIFICATE,
            "geoRestrictionType": "whitelist",
            "geoRestrictionLocations": ["DE", "FR"],
            "cloudfrontPriceClass": "PriceClass_All",
            "wafEnabled": True,
            "wafRateLimit": 500,
        },
    )


@pytest.fixture(scope="module")
def keyless_graph() -> StackGraph:
    return evaluate_stack("dev", config_overrides={"cloudfrontPublicKeyPem": ""})


def _distribution(graph: StackGraph) -> RecordedResource:
    return graph.one(DISTRIBUTION)


def _behaviours(graph: StackGraph) -> list[dict]:
    inputs = _distribution(graph).inputs
    return [inputs["defaultCacheBehavior"], *inputs.get("orderedCacheBehaviors", [])]


def _public_behaviour(graph: StackGraph) -> dict:
    (public,) = [b for b in _distribution(graph).inputs["orderedCacheBehaviors"] if b["pathPattern"] == "public/*"]
    return public


def _data_bucket(graph: StackGraph) -> RecordedResource:
    return named(graph, BUCKET, "-storage-data")


def _provider_region(graph: StackGraph, resource: RecordedResource) -> str:
    assert resource.provider, f"{resource.urn} uses the default provider"
    provider_urn = resource.provider.rsplit("::", 1)[0]
    return graph.by_urn()[provider_urn].inputs["region"]


# --- origin access ---------------------------------------------------------------------


def test_origin_access_control_signs_always_with_sigv4_for_s3(graph):
    """OAC: type s3, signing always, sigv4."""
    oac = graph.one(OAC).inputs
    assert oac["originAccessControlOriginType"] == "s3"
    assert oac["signingBehavior"] == "always"
    assert oac["signingProtocol"] == "sigv4"


def test_no_legacy_origin_access_identity(graph):
    """Never the legacy OAI: no OAI resource, no s3OriginConfig on the origin."""
    assert graph.of_type(OAI) == []
    for origin in _distribution(graph).inputs["origins"]:
        assert "s3OriginConfig" not in origin


def test_the_only_origin_is_the_data_bucket_through_oac(graph):
    """The distribution's S3 origin is the data bucket's regional endpoint, signed by our OAC."""
    distribution = _distribution(graph)
    (origin,) = distribution.inputs["origins"]
    assert origin["domainName"] == _data_bucket(graph).outputs["bucketRegionalDomainName"]
    assert origin["originAccessControlId"] == graph.one(OAC).id
    assert graph.one(OAC).urn in distribution.property_dependencies["origins"]


# --- behaviours ------------------------------------------------------------------------


def test_default_behaviour_requires_the_configured_key_group(graph):
    """Private by default: the default behaviour trusts exactly our key group, built from our key."""
    default = _distribution(graph).inputs["defaultCacheBehavior"]
    key_group, public_key = graph.one(KEY_GROUP), graph.one(PUBLIC_KEY)
    assert default["trustedKeyGroups"] == [key_group.id]
    assert key_group.inputs["items"] == [public_key.id]
    assert "trustedSigners" not in default
    configured = graph.config["cloudfrontPublicKeyPem"]
    assert public_key.inputs["encodedKey"].strip() == configured.strip()


def test_public_key_comes_from_config_and_is_never_private(custom_graph, signer_public_pem):
    """The key group holds the public key from config (generated here), no private key anywhere."""
    encoded = custom_graph.one(PUBLIC_KEY).inputs["encodedKey"]
    assert encoded.strip() == signer_public_pem.strip()
    assert "PRIVATE" not in json.dumps([r.inputs for r in custom_graph.resources])


def test_public_prefix_is_unsigned_and_read_only(graph):
    """public/*: no trusted key groups or signers, GET/HEAD only."""
    public = _public_behaviour(graph)
    assert "trustedKeyGroups" not in public and "trustedSigners" not in public
    assert public["allowedMethods"] == ["GET", "HEAD"]
    assert public["cachedMethods"] == ["GET", "HEAD"]
    assert len(_distribution(graph).inputs["orderedCacheBehaviors"]) == 1


def test_every_behaviour_redirects_to_https(graph):
    """Viewer protocol redirect-to-https on the default and every ordered behaviour."""
    assert {b["viewerProtocolPolicy"] for b in _behaviours(graph)} == {"redirect-to-https"}


def test_every_behaviour_uses_a_managed_cache_policy(graph):
    """The managed CachingOptimized policy, not legacy forwarded values."""
    for behaviour in _behaviours(graph):
        assert behaviour["cachePolicyId"] == MANAGED_CACHE_POLICIES["Managed-CachingOptimized"]
        assert "forwardedValues" not in behaviour


def test_security_headers_on_every_behaviour(graph):
    """HSTS, nosniff, frame options and referrer policy, on every behaviour."""
    policy = graph.one(HEADERS)
    headers = policy.inputs["securityHeadersConfig"]
    hsts = headers["strictTransportSecurity"]
    assert hsts["accessControlMaxAgeSec"] >= 31536000 and hsts["override"] is True
    assert hsts["includeSubdomains"] is True
    assert headers["contentTypeOptions"]["override"] is True
    assert headers["frameOptions"]["frameOption"] == "DENY"
    assert headers["referrerPolicy"]["referrerPolicy"] == "no-referrer"
    assert {b["responseHeadersPolicyId"] for b in _behaviours(graph)} == {policy.id}


# --- certificate, reach -------------------------------------------------------------------


def test_default_certificate_without_custom_domain(dev_graph):
    """No custom domain in the dev stack file: the *.cloudfront.net certificate, no aliases."""
    inputs = _distribution(dev_graph).inputs
    assert inputs["viewerCertificate"] == {"cloudfrontDefaultCertificate": True}
    assert not inputs.get("aliases")


def test_prod_serves_its_custom_domain_with_modern_tls(prod_graph):
    """Prod refuses the default certificate (unless opted out): the stack file names a
    domain and its ACM certificate, served with SNI and TLSv1.2_2021."""
    inputs = _distribution(prod_graph).inputs
    assert inputs["aliases"] == [prod_graph.config["customDomain"]]
    assert inputs["viewerCertificate"]["minimumProtocolVersion"] == "TLSv1.2_2021"


def test_custom_domain_uses_sni_and_modern_tls(custom_graph):
    """With a custom domain: its ACM certificate, sni-only and TLSv1.2_2021."""
    inputs = _distribution(custom_graph).inputs
    assert inputs["aliases"] == ["files.example.com"]
    assert inputs["viewerCertificate"] == {
        "acmCertificateArn": CERTIFICATE,
        "sslSupportMethod": "sni-only",
        "minimumProtocolVersion": "TLSv1.2_2021",
    }


def test_price_class_and_geo_restriction_come_from_config(graph, custom_graph):
    """Stack files: PriceClass_100, no geo restriction; overrides are passed through."""
    assert _distribution(graph).inputs["priceClass"] == graph.config["cloudfrontPriceClass"]
    assert _distribution(graph).inputs["restrictions"]["geoRestriction"] == {
        "restrictionType": "none",
        "locations": [],
    }
    custom = _distribution(custom_graph).inputs
    assert custom["priceClass"] == "PriceClass_All"
    assert custom["restrictions"]["geoRestriction"] == {
        "restrictionType": "whitelist",
        "locations": ["DE", "FR"],
    }


# --- WAF ---------------------------------------------------------------------------------


def test_waf_is_on_in_prod_and_off_in_dev(graphs):
    """prod: one CLOUDFRONT web ACL attached; dev (wafEnabled false): none and no webAclId."""
    prod_acl = graphs["prod"].one(WEB_ACL)
    assert _distribution(graphs["prod"]).inputs["webAclId"] == prod_acl.outputs["arn"]
    assert graphs["dev"].of_type(WEB_ACL) == []
    assert "webAclId" not in _distribution(graphs["dev"]).inputs


def test_waf_can_be_switched_on_in_dev(custom_graph):
    """dev with wafEnabled true gets the web ACL, with the configured rate limit."""
    acl = custom_graph.one(WEB_ACL)
    assert _distribution(custom_graph).inputs["webAclId"] == acl.outputs["arn"]
    (rate,) = [r for r in acl.inputs["rules"] if "rateBasedStatement" in r["statement"]]
    assert rate["statement"]["rateBasedStatement"]["limit"] == 500


def test_web_acl_is_cloudfront_scoped_in_us_east_1_with_managed_groups_and_rate_limit(prod_graph):
    """Scope CLOUDFRONT on the us-east-1 provider; AWS managed groups; a blocking per-IP rate rule."""
    acl = prod_graph.one(WEB_ACL)
    assert acl.inputs["scope"] == "CLOUDFRONT"
    assert _provider_region(prod_graph, acl) == "us-east-1"
    assert acl.inputs["defaultAction"] == {"allow": {}}
    groups = {
        r["statement"]["managedRuleGroupStatement"]["name"]
        for r in acl.inputs["rules"]
        if "managedRuleGroupStatement" in r["statement"]
    }
    assert groups == {
        "AWSManagedRulesCommonRuleSet",
        "AWSManagedRulesKnownBadInputsRuleSet",
        "AWSManagedRulesAmazonIpReputationList",
    }
    (rate,) = [r for r in acl.inputs["rules"] if "rateBasedStatement" in r["statement"]]
    assert rate["action"] == {"block": {}}
    assert rate["statement"]["rateBasedStatement"]["aggregateKeyType"] == "IP"
    assert rate["statement"]["rateBasedStatement"]["limit"] == int(prod_graph.config["wafRateLimit"])
    priorities = [r["priority"] for r in acl.inputs["rules"]]
    assert len(set(priorities)) == len(priorities)


# --- logging -----------------------------------------------------------------------------


def test_access_logs_go_through_log_delivery_from_us_east_1(graph):
    """Standard logging v2: a CloudFront ACCESS_LOGS source in us-east-1 for this distribution."""
    source = graph.one(LOG_SOURCE)
    assert source.inputs["logType"] == "ACCESS_LOGS"
    assert source.inputs["resourceArn"] == _distribution(graph).outputs["arn"]
    for type_ in (LOG_SOURCE, LOG_DESTINATION, LOG_DELIVERY):
        assert _provider_region(graph, graph.one(type_)) == "us-east-1"
    assert "loggingConfig" not in _distribution(graph).inputs


def test_access_logs_land_in_the_log_bucket_without_acls(graph):
    """Destination is the log bucket (cloudfront/); the bucket keeps BucketOwnerEnforced."""
    destination = graph.one(LOG_DESTINATION)
    log_bucket = named(graph, BUCKET, "-storage-logs")
    config = destination.inputs["deliveryDestinationConfiguration"]
    assert config["destinationResourceArn"] == f"{log_bucket.outputs['arn']}/cloudfront"
    delivery = graph.one(LOG_DELIVERY)
    assert delivery.inputs["deliveryDestinationArn"] == destination.outputs["arn"]
    assert delivery.inputs["deliverySourceName"] == graph.one(LOG_SOURCE).outputs["name"]
    ownership = named(graph, OWNERSHIP, "-storage-logs-ownership")
    assert ownership.inputs["rule"]["objectOwnership"] == "BucketOwnerEnforced"


def test_log_bucket_policy_admits_this_delivery_source_only(graph):
    """delivery.logs may write cloudfront/* only for our account and this delivery source."""
    policy = named(graph, BUCKET_POLICY, "-storage-logs-policy")
    grant = statement(policy_of(policy), "AllowCloudFrontLogDeliveryForThisDistribution")
    source = graph.one(LOG_SOURCE)
    log_bucket = named(graph, BUCKET, "-storage-logs")
    assert grant["Resource"] == f"{log_bucket.outputs['arn']}/cloudfront/*"
    assert grant["Condition"]["ArnEquals"] == {"aws:SourceArn": source.outputs["arn"]}
    assert grant["Condition"]["StringEquals"] == {"aws:SourceAccount": "123456789012"}


def test_log_delivery_waits_for_the_log_bucket_policy(graph):
    """The delivery is created after the log bucket policy that admits it."""
    policy = named(graph, BUCKET_POLICY, "-storage-logs-policy")
    assert policy.urn in graph.one(LOG_DELIVERY).dependencies


# --- bucket and key grants ---------------------------------------------------------------


def test_bucket_policy_lets_only_this_distribution_get_objects(graph):
    """Data bucket: CloudFront may s3:GetObject only, only with AWS:SourceArn = this distribution."""
    document = policy_of(named(graph, BUCKET_POLICY, "-storage-data-policy"))
    grant = statement(document, "AllowCloudFrontReadForThisDistribution")
    assert grant["Action"] == "s3:GetObject"
    assert grant["Resource"] == f"{_data_bucket(graph).outputs['arn']}/*"
    assert grant["Condition"] == {"StringEquals": {"AWS:SourceArn": _distribution(graph).outputs["arn"]}}
    cloudfront = [
        s for s in document["Statement"] if s.get("Principal") == {"Service": "cloudfront.amazonaws.com"}
    ]
    assert cloudfront == [grant]


def test_key_policy_lets_only_this_distribution_decrypt(graph):
    """Data key: cloudfront.amazonaws.com may kms:Decrypt only with this distribution's ARN."""
    key_policy = graph.one(KEY_POLICY)
    grant = statement(policy_of(key_policy), "AllowCloudFrontDecryptForThisDistribution")
    assert grant["Action"] == "kms:Decrypt"
    assert grant["Condition"] == {"StringEquals": {"AWS:SourceArn": _distribution(graph).outputs["arn"]}}
    data_key = named(graph, KMS_KEY, "-key-cmk")
    assert "policy" not in data_key.inputs, "the grant must live in the separate KeyPolicy"


def _closure(graph: StackGraph, urn: str) -> set[str]:
    """Every URN ``urn`` depends on, directly or through other resources."""
    by_urn, seen, todo = graph.by_urn(), set(), [urn]
    while todo:
        for dependency in by_urn[todo.pop()].dependencies:
            if dependency not in seen:
                seen.add(dependency)
                todo.append(dependency)
    return seen


def test_dependency_order_is_key_bucket_distribution_key_policy(graph):
    """key -> bucket (encryption) -> distribution -> key policy, and nothing points back."""
    key = named(graph, KMS_KEY, "-key-cmk")
    bucket = _data_bucket(graph)
    encryption = named(graph, ENCRYPTION, "-storage-data-encryption")
    distribution = _distribution(graph)
    key_policy = graph.one(KEY_POLICY)
    assert key.urn in encryption.property_dependencies["rules"]
    assert bucket.urn in encryption.property_dependencies["bucket"]
    assert bucket.urn in distribution.property_dependencies["origins"]
    assert distribution.urn in key_policy.property_dependencies["policy"]
    assert key.urn in key_policy.property_dependencies["keyId"]
    for earlier in (key, bucket, encryption):
        assert distribution.urn not in _closure(graph, earlier.urn), earlier.name
    assert key_policy.urn not in _closure(graph, distribution.urn)


# --- no signer key (dev only) ------------------------------------------------------------


def _function_behind(graph: StackGraph, behaviour: dict) -> RecordedResource:
    """The viewer-request function (the private paths also run a viewer-response one:
    tests/stack/test_edge_active_content.py)."""
    (association,) = [a for a in behaviour["functionAssociations"] if a["eventType"] == "viewer-request"]
    (function,) = [f for f in graph.of_type(FUNCTION) if f.outputs["arn"] == association["functionArn"]]
    return function


def test_without_a_key_private_paths_answer_403(keyless_graph):
    """No key configured (dev): no key group; the default behaviour runs the guard with the
    deny-unsigned switch on (one viewer-request function per behaviour)."""
    assert keyless_graph.of_type(PUBLIC_KEY) == [] and keyless_graph.of_type(KEY_GROUP) == []
    default = _function_behind(keyless_graph, _distribution(keyless_graph).inputs["defaultCacheBehavior"])
    assert default.name.endswith("-edge-deny-unsigned")
    assert "var DENY_UNSIGNED = true; // securestore:deny-unsigned" in default.inputs["code"]
    assert default.inputs["publish"] is True
    public = _function_behind(keyless_graph, _public_behaviour(keyless_graph))
    assert public.name.endswith("-edge-viewer-guard") and "securestore:deny-unsigned" not in public.inputs["code"]
    assert keyless_graph.exports["cloudfrontKeyGroupId"] is None


def test_with_a_key_no_deny_function_exists(graph):
    """The deny-unsigned function is only the keyless fallback; with a key every behaviour
    runs the plain guard."""
    (function,) = [f for f in graph.of_type(FUNCTION) if not f.name.endswith("-viewer-response")]
    assert function.name.endswith(f"-{graph.stack}-edge-viewer-guard")
    for behaviour in _behaviours(graph):
        assert "securestore:deny-unsigned" not in _function_behind(graph, behaviour).inputs["code"]


# --- settings ----------------------------------------------------------------------------


def _prod(**overrides):
    return {"environment": "prod", "protect": True, "forceDestroy": False, **overrides}


@pytest.mark.parametrize(
    "raw,key,words",
    [
        (_prod(), "cloudfrontPublicKeyPem", "required when environment is prod"),
        (_prod(cloudfrontPublicKeyPem="x"), "cloudfrontPublicKeyPem", "RSA 2048"),
        ({"cloudfrontPublicKeyPem": "not a key"}, "cloudfrontPublicKeyPem", "RSA 2048"),
        ({"customDomain": "files.example.com"}, "acmCertificateArn", "together"),
        ({"acmCertificateArn": CERTIFICATE}, "customDomain", "together"),
        (
            {"customDomain": "files.example.com", "acmCertificateArn": CERTIFICATE.replace("us-east-1", "eu-west-1")},
            "acmCertificateArn",
            "us-east-1",
        ),
        ({"customDomain": "https://files.example.com"}, "customDomain", "host name"),
        ({"geoRestrictionType": "whitelist"}, "geoRestrictionLocations", "at least one"),
        ({"geoRestrictionLocations": ["DE"]}, "geoRestrictionLocations", "empty when"),
        ({"geoRestrictionType": "blacklist", "geoRestrictionLocations": ["Germany"]}, "geoRestrictionLocations", "alpha-2"),
        ({"cloudfrontPriceClass": "PriceClass_50"}, "cloudfrontPriceClass", "PriceClass_100"),
        ({"wafRateLimit": 5}, "wafRateLimit", "between 10"),
    ],
)
def test_bad_edge_setting_names_the_key(raw, key, words):
    """A bad edge setting fails in settings, naming the key and what is allowed."""
    with pytest.raises(SettingsError) as caught:
        parse(raw, project="securestore", stack="s")
    assert caught.value.key == f"securestore:{key}"
    assert words in str(caught.value)


def test_prod_refuses_waf_off(signer_public_pem):
    """WAF is optional in dev only."""
    with pytest.raises(SettingsError, match="securestore:wafEnabled"):
        parse(_prod(wafEnabled=False, cloudfrontPublicKeyPem=signer_public_pem), project="securestore", stack="prod")


def test_a_private_key_is_refused_and_not_echoed():
    """Pasting the private key into config fails without printing it."""
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    with pytest.raises(SettingsError) as caught:
        parse({"cloudfrontPublicKeyPem": pem}, project="securestore", stack="dev")
    assert "PUBLIC key only" in str(caught.value)
    assert pem.splitlines()[1] not in str(caught.value)


@pytest.mark.parametrize(
    "make",
    [
        lambda: rsa.generate_private_key(public_exponent=65537, key_size=3072),
        lambda: ec.generate_private_key(ec.SECP256R1()),
    ],
)
def test_only_rsa_2048_public_keys_are_accepted(make):
    """CloudFront key groups take RSA 2048-bit keys; others fail in settings, not at deploy."""
    with pytest.raises(SettingsError, match="RSA 2048"):
        parse({"cloudfrontPublicKeyPem": _public_pem(make())}, project="securestore", stack="dev")


def test_bad_edge_config_stops_the_program_before_any_resource():
    """A custom domain without a certificate registers nothing."""
    with pytest.raises(ProgramError) as caught:
        evaluate_stack("dev", config_overrides={"customDomain": "files.example.com"})
    assert isinstance(caught.value.__cause__, SettingsError)
    assert caught.value.graph.resources == []


# --- component shape and outputs -----------------------------------------------------------


def test_edge_resources_are_children_of_the_component(graph):
    """Everything CloudFront-related, the us-east-1 provider included, is parented to EdgeDelivery."""
    component = graph.one(COMPONENT)
    for type_ in (OAC, PUBLIC_KEY, KEY_GROUP, HEADERS, DISTRIBUTION, LOG_SOURCE, LOG_DESTINATION, LOG_DELIVERY):
        assert graph.one(type_).parent == component.urn, type_
    (provider,) = [p for p in graph.of_type(PROVIDER) if p.parent == component.urn]
    assert provider.inputs["region"] == "us-east-1"


def test_outputs_name_the_distribution_and_signer(graph):
    """Exports: distribution id and domain, key group id, public key id."""
    distribution = _distribution(graph)
    assert graph.exports["distributionId"] == distribution.id
    assert graph.exports["distributionDomainName"] == distribution.outputs["domainName"]
    assert graph.exports["distributionDomainName"].endswith(".cloudfront.net")
    assert graph.exports["cloudfrontKeyGroupId"] == graph.one(KEY_GROUP).id
    assert graph.exports["cloudfrontPublicKeyId"] == graph.one(PUBLIC_KEY).id


def test_edge_variants_pass_the_policy_pack(custom_graph, keyless_graph):
    """Custom domain + WAF in dev, and the keyless dev fallback, raise no violation at all."""
    from securestore.offline.policy_runner import check_stack_policies

    for variant in (custom_graph, keyless_graph):
        report = check_stack_policies(variant)
        assert report.violations == [], report.format_text()
