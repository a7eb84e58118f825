"""No rule crashes on missing keys, unknown values or oddly shaped properties.

The engine may send a resource without provider defaults, with values unknown during
preview, or with policy documents as JSON text, dicts, garbage or lists. Every policy in
the pack is run over generated property bags for every type it reads; a crash would abort
the user's preview, so the only acceptable outcomes are "violation" or "no violation".
"""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support.hypothesis_profiles import examples
from pulumi_policy.proxy import UNKNOWN_BOOLEAN_VALUE, UNKNOWN_NUMBER_VALUE, UNKNOWN_STRING_VALUE

from policies.rules import ALL_POLICIES
from securestore.offline.graph import RecordedResource, StackGraph
from securestore.offline.policy_runner import run_policies

TYPES = (
    "aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2",
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
    "aws:s3/accountPublicAccessBlock:AccountPublicAccessBlock",
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    "aws:s3/bucketVersioningV2:BucketVersioningV2", "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
    "aws:s3/bucketCorsConfiguration:BucketCorsConfiguration", "aws:s3/bucketLogging:BucketLogging",
    "aws:s3/bucketAcl:BucketAcl", "aws:s3/bucketPolicy:BucketPolicy",
    "aws:s3/bucketOwnershipControls:BucketOwnershipControls",
    "aws:s3/bucketWebsiteConfiguration:BucketWebsiteConfiguration",
    "aws:kms/key:Key", "aws:kms/keyPolicy:KeyPolicy", "aws:cloudfront/distribution:Distribution",
    "aws:cloudfront/originAccessIdentity:OriginAccessIdentity", "aws:iam/role:Role", "aws:iam/policy:Policy",
    "aws:iam/rolePolicy:RolePolicy", "aws:sns/topic:Topic", "aws:sns/topicPolicy:TopicPolicy",
    "aws:cloudtrail/trail:Trail", "aws:cloudwatch/logDeliverySource:LogDeliverySource",
    "aws:cloudwatch/logDeliveryDestination:LogDeliveryDestination", "aws:cloudwatch/logDelivery:LogDelivery",
)
KEYS = (
    "bucket", "policy", "acl", "grants", "rules", "rule", "corsRules", "versioning", "versionings",
    "versioningConfiguration", "serverSideEncryptionConfiguration", "lifecycleRules", "logging", "loggings",
    "website", "targetBucket", "blockPublicAcls", "restrictPublicBuckets", "enableKeyRotation",
    "deletionWindowInDays", "bypassPolicyLockoutSafetyCheck", "origins", "defaultCacheBehavior",
    "orderedCacheBehaviors", "viewerCertificate", "loggingConfig", "webAclId", "assumeRolePolicy",
    "inlinePolicies", "kmsMasterKeyId", "kmsKeyId", "isMultiRegionTrail", "resourceArn", "accessControlPolicy",
    "Statement", "Effect", "Principal", "Action", "Condition", "Resource", "status", "sseAlgorithm",
)
UNKNOWNS = st.sampled_from([UNKNOWN_STRING_VALUE, UNKNOWN_BOOLEAN_VALUE, UNKNOWN_NUMBER_VALUE])
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-5, 40), st.sampled_from(
    ["", "*", "Allow", "Deny", "Enabled", "Suspended", "public-read", "aws:kms", "AES256", "allow-all",
     "TLSv1", "{not json", "[]", "null", "arn:aws:s3:::b", "b-a1b2c3d"]), UNKNOWNS)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=3),
                            st.dictionaries(st.sampled_from(KEYS), inner, max_size=4)),
    max_leaves=12,
)
DOCUMENT_TEXT = VALUES.map(lambda v: json.dumps(v) if not isinstance(v, str) else v)
PROPS = st.dictionaries(st.sampled_from(KEYS), st.one_of(VALUES, DOCUMENT_TEXT), max_size=6)


@settings(max_examples=examples(60), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(resources=st.lists(st.tuples(st.sampled_from(TYPES), PROPS), min_size=1, max_size=5))
def test_every_policy_survives_arbitrary_properties(resources):
    records = []
    for index, (type_, props) in enumerate(resources):
        urn = f"urn:pulumi:t::p::{type_}::r{index}"
        deps = {"bucket": (records[0].urn,)} if records and "bucket" in props else {}
        records.append(RecordedResource(type=type_, name=f"r{index}", urn=urn, custom=True, parent=None,
                                        dependencies=tuple(u for us in deps.values() for u in us),
                                        property_dependencies=deps, inputs=props, outputs=props))
    graph = StackGraph(project="p", stack="t", resources=records, exports={}, config={})
    report = run_policies(graph, policies=ALL_POLICIES)
    for violation in report.violations:
        assert violation.problem and violation.remediation
