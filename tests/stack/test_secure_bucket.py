"""SecureBucket: both buckets private, encrypted, versioned; the data bucket's extras."""

from __future__ import annotations

import pytest

from components.bucket_policies import ACCESS_LOG_PREFIX
from securestore.offline.graph import RecordedResource, StackGraph
from support.stack_helpers import named, policy_of, statement

BUCKET = "aws:s3/bucket:Bucket"
OWNERSHIP = "aws:s3/bucketOwnershipControls:BucketOwnershipControls"
PUBLIC_ACCESS = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
ENCRYPTION = "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
VERSIONING = "aws:s3/bucketVersioning:BucketVersioning"
LIFECYCLE = "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration"
CORS = "aws:s3/bucketCorsConfiguration:BucketCorsConfiguration"
LOGGING = "aws:s3/bucketLogging:BucketLogging"
POLICY = "aws:s3/bucketPolicy:BucketPolicy"
DEPRECATED_INLINE = ("acl", "grants", "website", "versioning", "serverSideEncryptionConfiguration",
                     "policy", "lifecycleRules", "corsRules", "logging", "replicationConfiguration")


def settings_of(graph: StackGraph, bucket: RecordedResource, type_: str) -> list[RecordedResource]:
    """Resources of ``type_`` whose ``bucket`` input came from ``bucket`` and names it."""
    return [
        r for r in graph.of_type(type_)
        if bucket.urn in r.property_dependencies.get("bucket", ())
        and r.inputs.get("bucket") == bucket.outputs["bucket"]
    ]


def one_setting(graph, bucket, type_):
    found = settings_of(graph, bucket, type_)
    assert len(found) == 1, f"{bucket.name}: expected one {type_}, found {len(found)}"
    return found[0]


def data_bucket(graph):
    return named(graph, BUCKET, "-storage-data")


def log_bucket(graph):
    return named(graph, BUCKET, "-storage-logs")


@pytest.fixture(params=["data", "logs"])
def each_bucket(request, graph):
    return graph, named(graph, BUCKET, f"-storage-{request.param}")


def test_every_bucket_disables_acls(each_bucket):
    """Ownership BucketOwnerEnforced: ACLs are ignored and cannot grant access (S3.12)."""
    graph, bucket = each_bucket
    rule = one_setting(graph, bucket, OWNERSHIP).inputs["rule"]
    assert rule["objectOwnership"] == "BucketOwnerEnforced"


def test_every_bucket_blocks_all_public_access(each_bucket):
    """All four public access block flags on, joined to the bucket by its URN and name."""
    graph, bucket = each_bucket
    block = one_setting(graph, bucket, PUBLIC_ACCESS).inputs
    for flag in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"):
        assert block[flag] is True, flag


def test_every_bucket_is_versioned(each_bucket):
    graph, bucket = each_bucket
    assert one_setting(graph, bucket, VERSIONING).inputs["versioningConfiguration"]["status"] == "Enabled"


def test_every_bucket_blocks_sse_c(each_bucket):
    """Uploads with customer-provided keys are refused by the bucket itself."""
    graph, bucket = each_bucket
    rule = one_setting(graph, bucket, ENCRYPTION).inputs["rules"][0]
    assert rule["blockedEncryptionTypes"] == ["SSE-C"]


def test_every_bucket_has_a_policy_that_waits_for_its_public_access_block(each_bucket):
    """The policy depends on the public access block: applied together, AWS races them."""
    graph, bucket = each_bucket
    policy = one_setting(graph, bucket, POLICY)
    block = one_setting(graph, bucket, PUBLIC_ACCESS)
    assert block.urn in policy.dependencies


def test_every_bucket_denies_plain_http_and_old_tls(each_bucket):
    """DenyInsecureTransport and DenyTlsOlderThan12 cover the bucket and its objects (S3.5)."""
    graph, bucket = each_bucket
    document = policy_of(one_setting(graph, bucket, POLICY))
    arn = bucket.outputs["arn"]
    insecure = statement(document, "DenyInsecureTransport")
    assert insecure["Effect"] == "Deny" and insecure["Action"] == "s3:*"
    assert insecure["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert set(insecure["Resource"]) == {arn, f"{arn}/*"}
    old_tls = statement(document, "DenyTlsOlderThan12")
    assert old_tls["Condition"] == {"NumericLessThan": {"s3:TlsVersion": "1.2"}}
    assert set(old_tls["Resource"]) == {arn, f"{arn}/*"}


def test_data_bucket_encrypts_with_the_cmk_and_a_bucket_key(graph):
    """SSE-KMS with our customer-managed key (by ARN, wired from the key), bucket key on."""
    bucket = data_bucket(graph)
    key = named(graph, "aws:kms/key:Key", "-key-cmk")
    encryption = one_setting(graph, bucket, ENCRYPTION)
    rule = encryption.inputs["rules"][0]
    default = rule["applyServerSideEncryptionByDefault"]
    assert default["sseAlgorithm"] == "aws:kms"
    assert default["kmsMasterKeyId"] == key.outputs["arn"]
    assert key.urn in encryption.property_dependencies["rules"]
    assert rule["bucketKeyEnabled"] is True


def test_log_bucket_uses_sse_s3(graph):
    """S3 cannot deliver server access logs into an SSE-KMS bucket: the log bucket is AES256."""
    rule = one_setting(graph, log_bucket(graph), ENCRYPTION).inputs["rules"][0]
    assert rule["applyServerSideEncryptionByDefault"] == {"sseAlgorithm": "AES256"}


def test_data_bucket_policy_denies_other_encryption_and_sse_c(graph):
    """Wrong SSE header, another KMS key and SSE-C are denied on every object."""
    bucket = data_bucket(graph)
    key_arn = named(graph, "aws:kms/key:Key", "-key-cmk").outputs["arn"]
    document = policy_of(one_setting(graph, bucket, POLICY))
    objects = [f"{bucket.outputs['arn']}/*"]
    algorithm = statement(document, "DenyUploadsWithAnotherEncryptionAlgorithm")
    assert algorithm["Resource"] == objects and algorithm["Action"] == "s3:PutObject"
    assert algorithm["Condition"] == {
        "Null": {"s3:x-amz-server-side-encryption": "false"},
        "StringNotEquals": {"s3:x-amz-server-side-encryption": "aws:kms"},
    }
    other_key = statement(document, "DenyUploadsWithAnotherKmsKey")
    assert other_key["Condition"] == {
        "Null": {"s3:x-amz-server-side-encryption": "false"},
        "ArnNotEquals": {"s3:x-amz-server-side-encryption-aws-kms-key-id": key_arn},
    }
    sse_c = statement(document, "DenyCustomerProvidedKeys")
    assert sse_c["Condition"] == {
        "Null": {"s3:x-amz-server-side-encryption-customer-algorithm": "false"}
    }


def test_lifecycle_tiers_expires_and_cleans_up(graphs):
    """STANDARD_IA after 30 days, expiry after 365, noncurrent versions and stale uploads go."""
    for stack, noncurrent in (("dev", 30), ("prod", 90)):
        graph = graphs[stack]
        rules = {r["id"]: r for r in one_setting(graph, data_bucket(graph), LIFECYCLE).inputs["rules"]}
        assert all(r["status"] == "Enabled" for r in rules.values())
        tier = rules["tier-and-expire-objects"]
        assert tier["transitions"] == [{"days": 30, "storageClass": "STANDARD_IA"}]
        assert tier["expiration"]["days"] == 365
        assert rules["expire-noncurrent-versions"]["noncurrentVersionExpiration"]["noncurrentDays"] == noncurrent
        assert rules["abort-incomplete-multipart-uploads"]["abortIncompleteMultipartUpload"] == {
            "daysAfterInitiation": 7
        }


def test_expiry_can_be_turned_off():
    """expireAfterDays=0 keeps current objects forever (and still tiers them)."""
    from securestore.offline.engine import evaluate_stack

    graph = evaluate_stack("dev", config_overrides={"expireAfterDays": 0})
    rules = {r["id"]: r for r in one_setting(graph, data_bucket(graph), LIFECYCLE).inputs["rules"]}
    assert "expiration" not in rules["tier-and-expire-objects"]
    assert rules["tier-and-expire-objects"]["transitions"][0]["days"] == 30


def test_log_bucket_expires_logs(graphs):
    for stack, days in (("dev", 30), ("prod", 365)):
        graph = graphs[stack]
        rule = one_setting(graph, log_bucket(graph), LIFECYCLE).inputs["rules"][0]
        assert rule["expiration"]["days"] == days
        assert rule["abortIncompleteMultipartUpload"]["daysAfterInitiation"] == 1


def test_a_deleted_or_overwritten_log_lives_as_long_as_a_current_one(graphs):
    """Class: evidence destroyed by deleting it early. Logs are versioned; the old version of a
    deleted or overwritten log expires no sooner than a current log would."""
    for stack in ("dev", "prod"):
        graph = graphs[stack]
        rule = one_setting(graph, log_bucket(graph), LIFECYCLE).inputs["rules"][0]
        assert rule["noncurrentVersionExpiration"]["noncurrentDays"] >= rule["expiration"]["days"], stack


def test_cors_allows_browser_presigned_transfers_from_configured_origins(graphs):
    """PUT/POST/GET/HEAD from exactly the configured origins; ETag exposed; no wildcard."""
    expected = {
        "dev": ["http://localhost:3000", "https://dev.app.example.com"],
        "prod": ["https://app.example.com"],
    }
    for stack, origins in expected.items():
        graph = graphs[stack]
        rules = one_setting(graph, data_bucket(graph), CORS).inputs["corsRules"]
        assert len(rules) == 1
        rule = rules[0]
        assert rule["allowedOrigins"] == origins
        assert sorted(rule["allowedMethods"]) == ["GET", "HEAD", "POST", "PUT"]
        assert "ETag" in rule["exposeHeaders"]
        assert "*" not in rule["allowedHeaders"]
        assert "content-type" in rule["allowedHeaders"]
        assert "x-amz-server-side-encryption-aws-kms-key-id" in rule["allowedHeaders"]


def test_no_cors_rule_without_origins():
    from securestore.offline.engine import evaluate_stack

    graph = evaluate_stack("dev", config_overrides={"corsAllowedOrigins": []})
    assert graph.of_type(CORS) == []


def test_access_logs_go_to_the_log_bucket_date_partitioned(graph):
    """Server access logging of the data bucket lands in the log bucket, partitioned by date."""
    logging = one_setting(graph, data_bucket(graph), LOGGING)
    logs = log_bucket(graph)
    assert logging.inputs["targetBucket"] == logs.outputs["bucket"]
    assert logs.urn in logging.property_dependencies["targetBucket"]
    assert logging.inputs["targetPrefix"] == ACCESS_LOG_PREFIX
    assert logging.inputs["targetObjectKeyFormat"] == {
        "partitionedPrefix": {"partitionDateSource": "EventTime"}
    }


def test_log_bucket_accepts_logs_only_from_our_data_bucket(graph):
    """logging.s3.amazonaws.com may write under the log prefix only for our bucket and account."""
    document = policy_of(one_setting(graph, log_bucket(graph), POLICY))
    grant = statement(document, "AllowServerAccessLogsFromTheDataBucketOnly")
    assert grant["Principal"] == {"Service": "logging.s3.amazonaws.com"}
    assert grant["Action"] == "s3:PutObject"
    assert grant["Resource"] == f"{log_bucket(graph).outputs['arn']}/{ACCESS_LOG_PREFIX}*"
    assert grant["Condition"] == {
        "ArnLike": {"aws:SourceArn": data_bucket(graph).outputs["arn"]},
        "StringEquals": {"aws:SourceAccount": "123456789012"},
    }
    allows = [s for s in document["Statement"] if s["Effect"] == "Allow"]
    assert all(s["Principal"] != "*" and "Condition" in s for s in allows)


@pytest.mark.parametrize("stack,kept", [("dev", False), ("prod", True)])
def test_buckets_protected_in_prod_and_force_destroyed_in_dev(graphs, stack, kept):
    """prod: protected, retained, never force-destroyed; dev: destroyable with contents."""
    for bucket in graphs[stack].of_type(BUCKET):
        assert bucket.protect is kept, bucket.name
        assert bucket.retain_on_delete is kept, bucket.name
        assert bucket.inputs["forceDestroy"] is (not kept), bucket.name


def test_buckets_use_split_resources_not_deprecated_inline_arguments(graph):
    """pulumi-aws v7: no ...V2 types, no inline acl/website/versioning/encryption/policy."""
    assert not [r.type for r in graph.resources if r.type.split(":")[-1].endswith("V2")]
    for bucket in graph.of_type(BUCKET):
        present = [arg for arg in DEPRECATED_INLINE if bucket.inputs.get(arg)]
        assert present == [], f"{bucket.name} uses deprecated inline arguments {present}"


def test_every_aws_resource_is_a_child_of_a_component(graph):
    """No AWS resource hangs off the stack directly; every parent is one of our components."""
    components = {r.urn for r in graph.resources if not r.custom}
    orphans = [r.name for r in graph.custom_resources() if r.parent not in components]
    assert orphans == []
    assert all(r.type.startswith("securestore:") for r in graph.resources if not r.custom)
