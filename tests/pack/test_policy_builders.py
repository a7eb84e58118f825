"""Synthetic stack graphs for the policy tests, and tests of the joins they rely on.

``SecureStack`` builds the graph a correct stack records (a KMS-encrypted data bucket and
an SSE-S3 log bucket, each with every setting as its own pulumi-aws v7 resource joined by
``bucket`` value and property dependency); each test then breaks exactly one thing and
expects exactly the rule that guards it to fire.
"""

from __future__ import annotations

import json
from typing import Any, Optional

import pytest

from policies.rules import ALL_POLICIES, PACK_NAME
from securestore.offline.graph import RecordedResource, StackGraph
from securestore.offline.policy_runner import PolicyReport, run_policies

ACCOUNT = "123456789012"
REGION = "eu-west-1"
PROJECT = "securestore"


class GraphBuilder:
    """Records resources the way the offline engine does (camelCase inputs, URNs, deps)."""

    def __init__(self, stack: str = "test") -> None:
        self.stack = stack
        self.resources: list[RecordedResource] = []

    def urn(self, type_: str, name: str) -> str:
        return f"urn:pulumi:{self.stack}::{PROJECT}::{type_}::{name}"

    def add(self, type_: str, name: str, inputs: Optional[dict[str, Any]] = None,
            outputs: Optional[dict[str, Any]] = None,
            deps: Optional[dict[str, list[RecordedResource]]] = None) -> RecordedResource:
        inputs = inputs or {}
        property_dependencies = {k: tuple(r.urn for r in v) for k, v in (deps or {}).items()}
        all_deps = tuple(dict.fromkeys(u for urns in property_dependencies.values() for u in urns))
        resource = RecordedResource(
            type=type_, name=name, urn=self.urn(type_, name), custom=not type_.startswith("securestore:"),
            parent=None, dependencies=all_deps, property_dependencies=property_dependencies,
            inputs=inputs, outputs={**inputs, **(outputs or {})}, id=(outputs or {}).get("id", f"{name}-id"),
        )
        self.resources.append(resource)
        return resource

    def replace(self, name: str, **changes: Any) -> None:
        """Swap the named resource's inputs (and outputs) for a changed copy."""
        for i, r in enumerate(self.resources):
            if r.name == name:
                inputs = changes.get("inputs", r.inputs)
                outputs = {**r.outputs, **inputs} if "inputs" in changes else r.outputs
                self.resources[i] = RecordedResource(
                    r.type, r.name, r.urn, r.custom, r.parent, r.dependencies,
                    changes.get("property_dependencies", r.property_dependencies), inputs, outputs, r.id)
                return
        raise KeyError(name)

    def remove(self, name: str) -> None:
        before = len(self.resources)
        self.resources = [r for r in self.resources if r.name != name]
        if len(self.resources) == before:
            raise KeyError(name)

    def get(self, name: str) -> RecordedResource:
        return next(r for r in self.resources if r.name == name)

    def graph(self) -> StackGraph:
        return StackGraph(project=PROJECT, stack=self.stack, resources=list(self.resources),
                          exports={}, config={})

    # --- building blocks --------------------------------------------------------------

    def bucket(self, name: str, type_: str = "aws:s3/bucket:Bucket", **inputs: Any) -> RecordedResource:
        physical = f"{name}-a1b2c3d"
        return self.add(type_, name, inputs, outputs={
            "id": physical, "bucket": physical, "arn": f"arn:aws:s3:::{physical}",
            "bucketDomainName": f"{physical}.s3.amazonaws.com",
            "bucketRegionalDomainName": f"{physical}.s3.{REGION}.amazonaws.com",
        })

    def setting(self, type_: str, name: str, bucket: RecordedResource, **inputs: Any) -> RecordedResource:
        return self.add(type_, name, {"bucket": bucket.outputs["bucket"], **inputs}, deps={"bucket": [bucket]})


def tls_deny(bucket_arn: str) -> dict[str, Any]:
    return {
        "Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
        "Resource": [bucket_arn, f"{bucket_arn}/*"],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }


def tls12_deny(bucket_arn: str) -> dict[str, Any]:
    return {
        "Sid": "DenyTlsOlderThan12", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
        "Resource": [bucket_arn, f"{bucket_arn}/*"],
        "Condition": {"NumericLessThan": {"s3:TlsVersion": "1.2"}},
    }


def dot_segment_deny(bucket_arn: str) -> dict[str, Any]:
    """Keys CloudFront would normalize onto another path may not be written."""
    patterns = ["../*", "*/../*", "*/..", "..", "./*", "*/./*", "*/.", ".", "/*", "*//*"]
    return {"Sid": "DenyWritingKeysWithDotOrEmptySegments", "Effect": "Deny", "Principal": "*",
            "Action": "s3:PutObject", "Resource": [f"{bucket_arn}/{p}" for p in patterns]}


def sse_denies(bucket_arn: str, key_arn: str) -> list[dict[str, Any]]:
    """The data bucket's upload-encryption denies: another algorithm, another key, SSE-C."""
    objects = f"{bucket_arn}/*"
    return [
        {"Sid": "DenyUploadsWithAnotherEncryptionAlgorithm", "Effect": "Deny", "Principal": "*",
         "Action": "s3:PutObject", "Resource": objects,
         "Condition": {"Null": {"s3:x-amz-server-side-encryption": "false"},
                       "StringNotEquals": {"s3:x-amz-server-side-encryption": "aws:kms"}}},
        {"Sid": "DenyUploadsWithAnotherKmsKey", "Effect": "Deny", "Principal": "*",
         "Action": "s3:PutObject", "Resource": objects,
         "Condition": {"Null": {"s3:x-amz-server-side-encryption": "false"},
                       "ArnNotEquals": {"s3:x-amz-server-side-encryption-aws-kms-key-id": key_arn}}},
        {"Sid": "DenyCustomerProvidedKeys", "Effect": "Deny", "Principal": "*", "Action": "s3:PutObject",
         "Resource": objects, "Condition": {"Null": {"s3:x-amz-server-side-encryption-customer-algorithm": "false"}}},
    ]


def data_denies(stack: "SecureStack") -> list[dict[str, Any]]:
    """Every deny the secure data bucket policy has (tests add one bad statement to these)."""
    arn = stack.data_bucket.outputs["arn"]
    return [tls_deny(arn), tls12_deny(arn), *sse_denies(arn, stack.key.outputs["arn"]), dot_segment_deny(arn)]


KEY_ADMIN_ACTIONS = [
    "kms:CancelKeyDeletion", "kms:CreateAlias", "kms:DeleteAlias", "kms:DescribeKey", "kms:DisableKey",
    "kms:EnableKey", "kms:EnableKeyRotation", "kms:GetKeyPolicy", "kms:PutKeyPolicy",
    "kms:ScheduleKeyDeletion", "kms:TagResource", "kms:UntagResource",
]


def policy_json(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


class SecureStack(GraphBuilder):
    """A stack every rule passes: key, data + log bucket, CloudFront, roles, topic, trail."""

    def __init__(self, stack: str = "test", bucket_type: str = "aws:s3/bucket:Bucket") -> None:
        super().__init__(stack)
        root = f"arn:aws:iam::{ACCOUNT}:root"
        self.key = self.add("aws:kms/key:Key", "data-key", {
            "enableKeyRotation": True, "deletionWindowInDays": 30, "description": "data key",
        }, outputs={"arn": f"arn:aws:kms:{REGION}:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab",
                    "keyId": "1234abcd-12ab-34cd-56ef-1234567890ab"})
        self.add("aws:kms/keyPolicy:KeyPolicy", "data-key-policy", {
            "keyId": self.key.outputs["keyId"],
            "policy": policy_json(
                {"Sid": "AllowAccountRootToAdministerTheKey", "Effect": "Allow",
                 "Principal": {"AWS": root}, "Action": KEY_ADMIN_ACTIONS, "Resource": "*"},
                {"Sid": "AllowAccountPrincipalsToUseTheKeyThroughS3Only", "Effect": "Allow",
                 "Principal": {"AWS": root}, "Action": ["kms:Decrypt", "kms:GenerateDataKey"], "Resource": "*",
                 "Condition": {"StringEquals": {"kms:ViaService": f"s3.{REGION}.amazonaws.com",
                                                "kms:CallerAccount": ACCOUNT}}}),
        }, deps={"keyId": [self.key]})
        self.log_bucket = self.secure_bucket("log-bucket", bucket_type, sse="AES256", log_to=None)
        self.data_bucket = self.secure_bucket("data-bucket", bucket_type, sse="aws:kms", log_to=self.log_bucket)
        self.distribution_and_logging()
        self.roles()
        self.topic_and_trail()

    def secure_bucket(self, name: str, bucket_type: str, *, sse: str,
                      log_to: Optional[RecordedResource]) -> RecordedResource:
        bucket = self.bucket(name, bucket_type)
        arn = bucket.outputs["arn"]
        self.setting("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", f"{name}-public-access-block",
                     bucket, blockPublicAcls=True, blockPublicPolicy=True, ignorePublicAcls=True,
                     restrictPublicBuckets=True)
        self.setting("aws:s3/bucketOwnershipControls:BucketOwnershipControls", f"{name}-ownership", bucket,
                     rule={"objectOwnership": "BucketOwnerEnforced"})
        default = {"sseAlgorithm": sse}
        if sse == "aws:kms":
            default["kmsMasterKeyId"] = self.key.outputs["arn"]
        self.setting("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
                     f"{name}-encryption", bucket,
                     rules=[{"applyServerSideEncryptionByDefault": default, "bucketKeyEnabled": True}])
        self.setting("aws:s3/bucketVersioning:BucketVersioning", f"{name}-versioning", bucket,
                     versioningConfiguration={"status": "Enabled"})
        self.setting("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", f"{name}-lifecycle",
                     bucket, rules=[{"id": "abort-multipart", "status": "Enabled", "filter": {},
                                     "abortIncompleteMultipartUpload": {"daysAfterInitiation": 7}}])
        denies = [tls_deny(arn), tls12_deny(arn)]
        if sse == "aws:kms":
            denies += [*sse_denies(arn, self.key.outputs["arn"]), dot_segment_deny(arn)]
        self.setting("aws:s3/bucketPolicy:BucketPolicy", f"{name}-policy", bucket, policy=policy_json(*denies))
        if log_to is not None:
            self.add("aws:s3/bucketLogging:BucketLogging", f"{name}-logging",
                     {"bucket": bucket.outputs["bucket"], "targetBucket": log_to.outputs["bucket"],
                      "targetPrefix": "s3-access/"}, deps={"bucket": [bucket], "targetBucket": [log_to]})
            self.setting("aws:s3/bucketCorsConfiguration:BucketCorsConfiguration", f"{name}-cors", bucket,
                         corsRules=[{"allowedMethods": ["PUT", "POST"], "allowedOrigins": ["https://app.example.com"],
                                     "allowedHeaders": ["content-type", "x-amz-meta-*"], "maxAgeSeconds": 3000}])
        return bucket

    def distribution_and_logging(self) -> None:
        oac = self.add("aws:cloudfront/originAccessControl:OriginAccessControl", "edge-oac", {
            "originAccessControlOriginType": "s3", "signingBehavior": "always", "signingProtocol": "sigv4",
        }, outputs={"id": "E2OACEXAMPLE"})
        guard = self.add("aws:cloudfront/function:Function", "edge-viewer-guard", {
            "name": "edge-viewer-guard", "runtime": "cloudfront-js-2.0", "publish": True,
            "code": "// securestore:viewer-guard\nfunction handler(event) { return event.request; }\n",
        }, outputs={"arn": f"arn:aws:cloudfront::{ACCOUNT}:function/edge-viewer-guard"})
        guarded = [{"eventType": "viewer-request", "functionArn": guard.outputs["arn"]}]
        self.guarded = guarded
        self.distribution = self.add("aws:cloudfront/distribution:Distribution", "edge-distribution", {
            "enabled": True,
            "origins": [{"originId": "data", "domainName": self.data_bucket.outputs["bucketRegionalDomainName"],
                         "originAccessControlId": oac.outputs["id"]}],
            "defaultCacheBehavior": {"targetOriginId": "data", "viewerProtocolPolicy": "redirect-to-https",
                                     "allowedMethods": ["GET", "HEAD"], "cachedMethods": ["GET", "HEAD"],
                                     "trustedKeyGroups": ["kg-1"], "functionAssociations": guarded},
            "orderedCacheBehaviors": [{"pathPattern": "public/*", "targetOriginId": "data",
                                       "viewerProtocolPolicy": "https-only",
                                       "allowedMethods": ["GET", "HEAD"], "functionAssociations": guarded}],
            "viewerCertificate": {"acmCertificateArn": f"arn:aws:acm:us-east-1:{ACCOUNT}:certificate/abc",
                                  "minimumProtocolVersion": "TLSv1.2_2021", "sslSupportMethod": "sni-only"},
            "webAclId": f"arn:aws:wafv2:us-east-1:{ACCOUNT}:global/webacl/edge/1",
        }, outputs={"arn": f"arn:aws:cloudfront::{ACCOUNT}:distribution/E1EXAMPLE", "id": "E1EXAMPLE",
                    "domainName": "d111111abcdef8.cloudfront.net"},
            deps={"origins": [self.data_bucket, oac]})
        source = self.add("aws:cloudwatch/logDeliverySource:LogDeliverySource", "edge-log-source", {
            "name": "edge-access-logs", "logType": "ACCESS_LOGS", "resourceArn": self.distribution.outputs["arn"],
        }, deps={"resourceArn": [self.distribution]})
        destination = self.add("aws:cloudwatch/logDeliveryDestination:LogDeliveryDestination", "edge-log-dest", {
            "name": "edge-logs-s3",
            "deliveryDestinationConfiguration": {"destinationResourceArn": self.log_bucket.outputs["arn"]},
        }, outputs={"arn": f"arn:aws:logs:us-east-1:{ACCOUNT}:delivery-destination:edge-logs-s3"},
            deps={"deliveryDestinationConfiguration": [self.log_bucket]})
        self.add("aws:cloudwatch/logDelivery:LogDelivery", "edge-log-delivery", {
            "deliverySourceName": "edge-access-logs", "deliveryDestinationArn": destination.outputs["arn"],
        }, deps={"deliverySourceName": [source], "deliveryDestinationArn": [destination]})

    def roles(self) -> None:
        bucket_arn = self.data_bucket.outputs["arn"]
        self.role = self.add("aws:iam/role:Role", "lambda-role", {
            "assumeRolePolicy": policy_json({"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
                                             "Action": "sts:AssumeRole",
                                             "Condition": {"StringEquals": {"aws:SourceAccount": ACCOUNT}}}),
            "inlinePolicies": [{"name": "objects", "policy": policy_json(
                {"Sid": "ReadWriteObjects", "Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject"],
                 "Resource": f"{bucket_arn}/*"})}],
        }, outputs={"arn": f"arn:aws:iam::{ACCOUNT}:role/lambda-role"})
        self.add("aws:iam/rolePolicy:RolePolicy", "lambda-role-kms", {
            "role": "lambda-role",
            "policy": policy_json({"Sid": "UseTheDataKeyThroughS3", "Effect": "Allow",
                                   "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
                                   "Resource": self.key.outputs["arn"],
                                   "Condition": {"StringEquals": {"kms:ViaService": f"s3.{REGION}.amazonaws.com"}}}),
        }, deps={"role": [self.role]})

    def topic_and_trail(self) -> None:
        topic = self.add("aws:sns/topic:Topic", "uploads-topic", {"kmsMasterKeyId": self.key.outputs["arn"]},
                         outputs={"arn": f"arn:aws:sns:{REGION}:{ACCOUNT}:uploads-topic"})
        self.add("aws:sns/topicPolicy:TopicPolicy", "uploads-topic-policy", {
            "arn": topic.outputs["arn"],
            "policy": policy_json({"Sid": "AllowThisBucketToPublish", "Effect": "Allow",
                                   "Principal": {"Service": "s3.amazonaws.com"}, "Action": "sns:Publish",
                                   "Resource": topic.outputs["arn"],
                                   "Condition": {"ArnLike": {"aws:SourceArn": self.data_bucket.outputs["arn"]},
                                                 "StringEquals": {"aws:SourceAccount": ACCOUNT}}}),
        }, deps={"arn": [topic]})
        self.add("aws:cloudtrail/trail:Trail", "audit-trail", {
            "s3BucketName": self.log_bucket.outputs["bucket"], "isMultiRegionTrail": True,
            "enableLogFileValidation": True, "kmsKeyId": self.key.outputs["arn"],
            "includeGlobalServiceEvents": True,
            "advancedEventSelectors": [{"name": "data events", "fieldSelectors": [
                {"field": "eventCategory", "equals": ["Data"]},
                {"field": "resources.type", "equals": ["AWS::S3::Object"]},
                {"field": "resources.ARN", "startsWiths": [f"{self.data_bucket.outputs['arn']}/"]}]}],
        })


def run(builder: GraphBuilder, config: Optional[dict[str, Any]] = None) -> PolicyReport:
    return run_policies(builder.graph(), policies=ALL_POLICIES, pack_name=PACK_NAME, config=config)


def fired(builder: GraphBuilder, config: Optional[dict[str, Any]] = None, include_model: bool = False) -> set[str]:
    """Names of the policies that reported at least one violation.

    The model's analyses (``model-*`` rules) answer other questions about the same breakage
    (a public bucket policy is also a reach by anonymous callers); ``tests/pack_mutation``
    checks them, so by default the names here are the per-resource rules only."""
    return {v.policy for v in run(builder, config).violations
            if include_model or not v.policy.startswith("model-")}


# --- tests of the builder and the joins themselves ----------------------------------------

@pytest.mark.parametrize("bucket_type", ["aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2"])
def test_secure_stack_passes_every_rule(bucket_type):
    """The baseline every other test breaks one thing of is clean under the whole pack."""
    report = run(SecureStack(bucket_type=bucket_type))
    assert report.violations == [], report.format_text()
    assert report.policies_run == len(ALL_POLICIES)


def test_setting_joined_by_dependency_when_value_unknown():
    """A block whose bucket value is unknown (preview) still joins through property_dependencies."""
    from pulumi_policy.proxy import UNKNOWN_STRING_VALUE

    stack = SecureStack()
    block = stack.get("data-bucket-public-access-block")
    stack.replace(block.name, inputs={**block.inputs, "bucket": UNKNOWN_STRING_VALUE})
    assert "s3-bucket-has-public-access-block" not in fired(stack)


def test_setting_naming_another_bucket_does_not_count():
    """A block whose resolved value names another bucket does not protect this one, even if
    its input depended on this bucket's URN."""
    stack = SecureStack()
    block = stack.get("data-bucket-public-access-block")
    stack.replace(block.name, inputs={**block.inputs, "bucket": "someone-elses-bucket"})
    violations = [v for v in run(stack).violations if v.policy == "s3-bucket-has-public-access-block"]
    assert [v.resource_name for v in violations] == ["data-bucket"]
