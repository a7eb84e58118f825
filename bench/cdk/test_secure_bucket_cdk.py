"""The promises of ``tests/test_secure_bucket.py``, checked on the CDK app with ``Template.from_stack``.

The reference side of ``bench/graph_tests.py``: the same 45 checks (same parametrization:
each bucket x each stack, each stack, two extra configurations), written as the
aws-cdk-examples tests are: one fixture builds each stack once, one test per invariant.
CloudFormation keeps a bucket's settings inside ``AWS::S3::Bucket``, so where ours looks
for a separate pulumi-aws resource joined by URN, this looks at the bucket's properties.
Run with the CDK virtualenv: ``.venv-cdk/bin/python -m pytest -q bench/cdk/test_secure_bucket_cdk.py``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from aws_cdk.assertions import Template  # noqa: E402

from app import build  # noqa: E402
from components.bucket_policies import ACCESS_LOG_PREFIX  # noqa: E402

STACKS = ("dev", "prod")
ACCOUNT_ID = "123456789012"


class Synth:
    """One synthesized stack: its template and the logical ids of our resources."""

    def __init__(self, stack: str, overrides: dict | None = None) -> None:
        _, self.stack = build(stack, overrides=overrides)
        self.template = Template.from_stack(self.stack)
        self.resources = self.template.to_json()["Resources"]

    def logical_id(self, *path: str) -> str:
        node = self.stack
        for part in path:
            node = node.node.find_child(part)
        return self.stack.get_logical_id(node.node.default_child)

    def bucket_id(self, which: str) -> str:
        return self.logical_id("storage", which)

    def bucket(self, which: str) -> dict:
        return self.resources[self.bucket_id(which)]["Properties"]

    def policy_of(self, which: str) -> dict:
        bucket = self.bucket_id(which)
        found = [
            r["Properties"]["PolicyDocument"]
            for r in self.template.find_resources("AWS::S3::BucketPolicy").values()
            if r["Properties"]["Bucket"] == {"Ref": bucket}
        ]
        assert len(found) == 1, f"{which}: expected one bucket policy, found {len(found)}"
        return found[0]


def arn_of(logical_id: str) -> dict:
    return {"Fn::GetAtt": [logical_id, "Arn"]}


def objects_of(logical_id: str) -> dict:
    return {"Fn::Join": ["", [arn_of(logical_id), "/*"]]}


def statement(document: dict, sid: str) -> dict:
    found = [s for s in document["Statement"] if s.get("Sid") == sid]
    assert len(found) == 1, f"expected one statement {sid!r}, found {len(found)}"
    return found[0]


@pytest.fixture(scope="session")
def synths() -> dict[str, Synth]:
    return {stack: Synth(stack) for stack in STACKS}


@pytest.fixture(params=STACKS)
def synth(request, synths) -> Synth:
    return synths[request.param]


@pytest.fixture(params=["data", "logs"])
def each_bucket(request, synth):
    return synth, request.param


def test_every_bucket_disables_acls(each_bucket):
    """Ownership BucketOwnerEnforced: ACLs are ignored and cannot grant access (S3.12)."""
    synth, which = each_bucket
    rules = synth.bucket(which)["OwnershipControls"]["Rules"]
    assert rules == [{"ObjectOwnership": "BucketOwnerEnforced"}]


def test_every_bucket_blocks_all_public_access(each_bucket):
    """All four public access block flags on."""
    synth, which = each_bucket
    block = synth.bucket(which)["PublicAccessBlockConfiguration"]
    for flag in ("BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets"):
        assert block[flag] is True, flag


def test_every_bucket_is_versioned(each_bucket):
    synth, which = each_bucket
    assert synth.bucket(which)["VersioningConfiguration"]["Status"] == "Enabled"


def test_every_bucket_blocks_sse_c(each_bucket):
    """Uploads with customer-provided keys are refused by the bucket itself."""
    synth, which = each_bucket
    rule = synth.bucket(which)["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]
    assert rule["BlockedEncryptionTypes"] == {"EncryptionType": ["SSE-C"]}


def test_every_bucket_has_a_policy_that_waits_for_its_public_access_block(each_bucket):
    """The policy references the bucket, whose public access block is part of it."""
    synth, which = each_bucket
    assert synth.policy_of(which)  # one policy, joined by Ref
    assert "PublicAccessBlockConfiguration" in synth.bucket(which)


def test_every_bucket_denies_plain_http_and_old_tls(each_bucket):
    """DenyInsecureTransport and DenyTlsOlderThan12 cover the bucket and its objects (S3.5)."""
    synth, which = each_bucket
    document = synth.policy_of(which)
    bucket = synth.bucket_id(which)
    insecure = statement(document, "DenyInsecureTransport")
    assert insecure["Effect"] == "Deny" and insecure["Action"] == "s3:*"
    assert insecure["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert insecure["Resource"] == [arn_of(bucket), objects_of(bucket)]
    old_tls = statement(document, "DenyTlsOlderThan12")
    assert old_tls["Condition"] == {"NumericLessThan": {"s3:TlsVersion": "1.2"}}
    assert old_tls["Resource"] == [arn_of(bucket), objects_of(bucket)]


def test_data_bucket_encrypts_with_the_cmk_and_a_bucket_key(synth):
    """SSE-KMS with our customer-managed key (by ARN, wired from the key), bucket key on."""
    rule = synth.bucket("data")["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]
    default = rule["ServerSideEncryptionByDefault"]
    assert default["SSEAlgorithm"] == "aws:kms"
    assert default["KMSMasterKeyID"] == arn_of(synth.logical_id("key", "key"))
    assert rule["BucketKeyEnabled"] is True


def test_log_bucket_uses_sse_s3(synth):
    """S3 cannot deliver server access logs into an SSE-KMS bucket: the log bucket is AES256."""
    rule = synth.bucket("logs")["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]
    assert rule["ServerSideEncryptionByDefault"] == {"SSEAlgorithm": "AES256"}


def test_data_bucket_policy_denies_other_encryption_and_sse_c(synth):
    """Wrong SSE header, another KMS key and SSE-C are denied on every object."""
    bucket = synth.bucket_id("data")
    document = synth.policy_of("data")
    algorithm = statement(document, "DenyUploadsWithAnotherEncryptionAlgorithm")
    assert algorithm["Resource"] == objects_of(bucket) and algorithm["Action"] == "s3:PutObject"
    assert algorithm["Condition"] == {
        "Null": {"s3:x-amz-server-side-encryption": "false"},
        "StringNotEquals": {"s3:x-amz-server-side-encryption": "aws:kms"},
    }
    other_key = statement(document, "DenyUploadsWithAnotherKmsKey")
    assert other_key["Condition"] == {
        "Null": {"s3:x-amz-server-side-encryption": "false"},
        "ArnNotEquals": {
            "s3:x-amz-server-side-encryption-aws-kms-key-id": arn_of(synth.logical_id("key", "key"))
        },
    }
    sse_c = statement(document, "DenyCustomerProvidedKeys")
    assert sse_c["Condition"] == {
        "Null": {"s3:x-amz-server-side-encryption-customer-algorithm": "false"}
    }


def test_lifecycle_tiers_expires_and_cleans_up(synths):
    """STANDARD_IA after 30 days, expiry after 365, noncurrent versions and stale uploads go."""
    for stack, noncurrent in (("dev", 30), ("prod", 90)):
        rules = {r["Id"]: r for r in synths[stack].bucket("data")["LifecycleConfiguration"]["Rules"]}
        assert all(r["Status"] == "Enabled" for r in rules.values())
        tier = rules["tier-and-expire-objects"]
        assert tier["Transitions"] == [{"StorageClass": "STANDARD_IA", "TransitionInDays": 30}]
        assert tier["ExpirationInDays"] == 365
        assert rules["expire-noncurrent-versions"]["NoncurrentVersionExpiration"]["NoncurrentDays"] == noncurrent
        assert rules["abort-incomplete-multipart-uploads"]["AbortIncompleteMultipartUpload"] == {
            "DaysAfterInitiation": 7
        }


def test_expiry_can_be_turned_off():
    """expireAfterDays=0 keeps current objects forever (and still tiers them)."""
    rules = Synth("dev", {"expireAfterDays": 0}).bucket("data")["LifecycleConfiguration"]["Rules"]
    tier = {r["Id"]: r for r in rules}["tier-and-expire-objects"]
    assert "ExpirationInDays" not in tier
    assert tier["Transitions"][0]["TransitionInDays"] == 30


def test_log_bucket_expires_logs(synths):
    for stack, days in (("dev", 30), ("prod", 365)):
        rule = synths[stack].bucket("logs")["LifecycleConfiguration"]["Rules"][0]
        assert rule["ExpirationInDays"] == days
        assert rule["AbortIncompleteMultipartUpload"]["DaysAfterInitiation"] == 1


def test_cors_allows_browser_presigned_transfers_from_configured_origins(synths):
    """PUT/POST/GET/HEAD from exactly the configured origins; ETag exposed; no wildcard."""
    expected = {
        "dev": ["http://localhost:3000", "https://dev.app.example.com"],
        "prod": ["https://app.example.com"],
    }
    for stack, origins in expected.items():
        rules = synths[stack].bucket("data")["CorsConfiguration"]["CorsRules"]
        assert len(rules) == 1
        rule = rules[0]
        assert rule["AllowedOrigins"] == origins
        assert sorted(rule["AllowedMethods"]) == ["GET", "HEAD", "POST", "PUT"]
        assert "ETag" in rule["ExposedHeaders"]
        assert "*" not in rule["AllowedHeaders"]
        assert "content-type" in rule["AllowedHeaders"]
        assert "x-amz-server-side-encryption-aws-kms-key-id" in rule["AllowedHeaders"]


def test_no_cors_rule_without_origins():
    assert "CorsConfiguration" not in Synth("dev", {"corsAllowedOrigins": []}).bucket("data")


def test_access_logs_go_to_the_log_bucket_date_partitioned(synth):
    """Server access logging of the data bucket lands in the log bucket, partitioned by date."""
    logging = synth.bucket("data")["LoggingConfiguration"]
    assert logging["DestinationBucketName"] == {"Ref": synth.bucket_id("logs")}
    assert logging["LogFilePrefix"] == ACCESS_LOG_PREFIX
    assert logging["TargetObjectKeyFormat"] == {"PartitionedPrefix": {"PartitionDateSource": "EventTime"}}


def test_log_bucket_accepts_logs_only_from_our_data_bucket(synth):
    """logging.s3.amazonaws.com may write under the log prefix only for our bucket and account."""
    document = synth.policy_of("logs")
    grant = statement(document, "AllowServerAccessLogsFromTheDataBucketOnly")
    assert grant["Principal"] == {"Service": "logging.s3.amazonaws.com"}
    assert grant["Action"] == "s3:PutObject"
    assert grant["Resource"] == {
        "Fn::Join": ["", [arn_of(synth.bucket_id("logs")), f"/{ACCESS_LOG_PREFIX}*"]]
    }
    assert grant["Condition"] == {
        "ArnLike": {"aws:SourceArn": arn_of(synth.bucket_id("data"))},
        "StringEquals": {"aws:SourceAccount": ACCOUNT_ID},
    }
    # dev's autoDeleteObjects adds CDK's own unconditioned grant to its emptying function's
    # role (ours empties buckets with the deployer's credentials): not counted.
    allows = [s for s in document["Statement"] if s["Effect"] == "Allow"
              and "CustomS3AutoDeleteObjects" not in str(s["Principal"])]
    assert all(s["Principal"] != "*" and "Condition" in s for s in allows)


@pytest.mark.parametrize("stack,kept", [("dev", False), ("prod", True)])
def test_buckets_protected_in_prod_and_force_destroyed_in_dev(synths, stack, kept):
    """prod: retained on delete and replace, never emptied; dev: destroyable with contents."""
    buckets = synths[stack].template.find_resources("AWS::S3::Bucket")
    auto_delete = synths[stack].template.find_resources("Custom::S3AutoDeleteObjects")
    emptied = {r["Properties"]["BucketName"]["Ref"] for r in auto_delete.values()}
    for logical_id, bucket in buckets.items():
        policy = "Retain" if kept else "Delete"
        assert bucket["DeletionPolicy"] == policy and bucket["UpdateReplacePolicy"] == policy
        assert (logical_id in emptied) is (not kept), logical_id


def test_buckets_use_split_resources_not_deprecated_inline_arguments(synth):
    """No ACL, website or legacy inline settings on any bucket (CloudFormation's equivalent)."""
    for logical_id, bucket in synth.template.find_resources("AWS::S3::Bucket").items():
        present = [p for p in ("AccessControl", "WebsiteConfiguration", "ReplicationConfiguration")
                   if p in bucket.get("Properties", {})]
        assert present == [], f"{logical_id} uses {present}"


def test_every_aws_resource_is_a_child_of_a_component(synth):
    """Every bucket and bucket policy we declare sits in a construct of its concern."""
    stack = synth.stack
    ours = [c for c in stack.node.find_all() if c.node.default_child is None
            and getattr(c, "cfn_resource_type", "").startswith("AWS::S3::")]
    assert ours
    for resource in ours:
        scopes = [s.node.id for s in resource.node.scopes]
        assert scopes[2] in ("storage", "audit"), resource.node.path
