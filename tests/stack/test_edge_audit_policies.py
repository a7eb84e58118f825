"""The pure builders of edge and audit grants: each is scoped to one resource, and lints clean."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from access.evaluator import Caller, Check, authorize
from components import audit_policies, edge_policies
from support.policy_lint import lint
from support.stack_helpers import named, policy_of, statement

ROOT = Path(__file__).resolve().parents[2]

ACCOUNT = "111122223333"
BUCKET = "arn:aws:s3:::acme-files-data"
LOG_BUCKET = "arn:aws:s3:::acme-files-logs"
DISTRIBUTION = edge_policies.distribution_arn(ACCOUNT, "E2ABCDEF123456")
SOURCE = edge_policies.delivery_source_arn(ACCOUNT, "acme-edge-access-logs")
TOPIC = audit_policies.topic_arn("eu-west-1", ACCOUNT, "acme-audit-object-created")
TRAIL = audit_policies.trail_arn("eu-west-1", ACCOUNT, "acme-audit-data-events")
LOG_GROUP = audit_policies.log_group_arn("eu-west-1", ACCOUNT, "/aws/cloudtrail/acme-audit")


def _document(*statements):
    return {"Version": "2012-10-17", "Statement": list(statements)}


def test_cloudfront_read_is_get_object_only_for_this_distribution():
    """Bucket grant: s3:GetObject on objects, only with AWS:SourceArn = this distribution."""
    grant = edge_policies.cloudfront_read_statement(bucket_arn=BUCKET, distribution_arn=DISTRIBUTION)
    assert grant["Principal"] == {"Service": "cloudfront.amazonaws.com"}
    assert grant["Action"] == "s3:GetObject"
    assert grant["Resource"] == f"{BUCKET}/*"
    assert grant["Condition"] == {"StringEquals": {"AWS:SourceArn": DISTRIBUTION}}
    assert lint(_document(grant), "bucket") == []


def test_cloudfront_decrypt_is_decrypt_only_for_this_distribution():
    """Key grant: kms:Decrypt only, only with AWS:SourceArn = this distribution."""
    grant = edge_policies.cloudfront_decrypt_statement(distribution_arn=DISTRIBUTION)
    assert grant["Action"] == "kms:Decrypt"
    assert grant["Condition"] == {"StringEquals": {"AWS:SourceArn": DISTRIBUTION}}
    assert lint(_document(grant), "key") == []


def test_log_delivery_writes_only_cloudfront_prefix_for_our_source_and_account():
    """Log bucket grant: delivery.logs may PutObject under cloudfront/ for our source and account."""
    grant = edge_policies.log_delivery_statement(
        log_bucket_arn=LOG_BUCKET, account_id=ACCOUNT, delivery_source_arn=SOURCE
    )
    assert grant["Principal"] == {"Service": "delivery.logs.amazonaws.com"}
    assert grant["Action"] == "s3:PutObject"
    assert grant["Resource"] == f"{LOG_BUCKET}/cloudfront/*"
    assert grant["Condition"]["StringEquals"] == {"aws:SourceAccount": ACCOUNT}
    assert grant["Condition"]["ArnEquals"] == {"aws:SourceArn": SOURCE}
    assert SOURCE.startswith(f"arn:aws:logs:us-east-1:{ACCOUNT}:delivery-source:")
    assert lint(_document(grant), "bucket") == []


@pytest.mark.parametrize(
    "build",
    [
        lambda: edge_policies.cloudfront_read_statement(bucket_arn=BUCKET, distribution_arn=None),
        lambda: edge_policies.cloudfront_read_statement(
            bucket_arn=BUCKET, distribution_arn="arn:aws:cloudfront::111122223333:distribution/*"
        ),
        lambda: edge_policies.cloudfront_decrypt_statement(distribution_arn="None"),
        lambda: edge_policies.log_delivery_statement(
            log_bucket_arn=LOG_BUCKET, account_id="1234", delivery_source_arn=SOURCE
        ),
        lambda: audit_policies.topic_policy(topic_arn=TOPIC, bucket_arn="None", account_id=ACCOUNT),
        lambda: audit_policies.trail_bucket_policy(
            bucket_arn=BUCKET, trail_arn=f"arn:aws:cloudtrail:eu-west-1:{ACCOUNT}:trail/*", account_id=ACCOUNT
        ),
        lambda: audit_policies.audit_key_policy(account_id=ACCOUNT, region="eu-west-1", topic_arn=None),
    ],
)
def test_a_missing_or_wildcard_arn_is_refused(build):
    """A None/"None"/wildcard ARN would widen a grant; the builder raises naming the argument."""
    with pytest.raises(ValueError, match="must look like"):
        build()


def test_topic_policy_lets_only_the_data_bucket_publish_over_tls():
    """Topic: s3.amazonaws.com publishes only for the data bucket and account; plain HTTP denied."""
    document = audit_policies.topic_policy(topic_arn=TOPIC, bucket_arn=BUCKET, account_id=ACCOUNT)
    allow = statement(document, "AllowS3PublishFromTheDataBucketOnly")
    assert allow["Principal"] == {"Service": "s3.amazonaws.com"}
    assert allow["Action"] == "sns:Publish" and allow["Resource"] == TOPIC
    assert allow["Condition"] == {
        "ArnEquals": {"aws:SourceArn": BUCKET},
        "StringEquals": {"aws:SourceAccount": ACCOUNT},
    }
    deny = statement(document, "DenyInsecureTransport")
    assert deny["Effect"] == "Deny" and deny["Action"] == "sns:Publish"
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert [s for s in document["Statement"] if s["Effect"] == "Allow"] == [allow]
    assert lint(document, "topic") == []


def test_audit_key_lets_s3_encrypt_for_this_topic_only():
    """Audit key: S3 may GenerateDataKey/Decrypt only for this topic's context and our account."""
    document = audit_policies.audit_key_policy(account_id=ACCOUNT, region="eu-west-1", topic_arn=TOPIC)
    grant = statement(document, "AllowS3ToEncryptNotificationsForThisTopic")
    assert grant["Principal"] == {"Service": "s3.amazonaws.com"}
    assert sorted(grant["Action"]) == ["kms:Decrypt", "kms:GenerateDataKey*"]
    assert grant["Condition"] == {
        "StringEquals": {"aws:SourceAccount": ACCOUNT, "kms:EncryptionContext:aws:sns:topicArn": TOPIC}
    }
    sids = {s["Sid"] for s in document["Statement"]}
    assert not any("CloudTrail" in sid or "CloudWatch" in sid for sid in sids)
    assert all(s.get("Principal") != "*" for s in document["Statement"] if s["Effect"] == "Allow")
    assert lint(document, "key") == []


def test_audit_key_lets_cloudtrail_and_logs_encrypt_for_this_trail_and_group_only():
    """With a trail: CloudTrail GenerateDataKey* scoped by SourceArn and context; logs by group ARN."""
    document = audit_policies.audit_key_policy(
        account_id=ACCOUNT, region="eu-west-1", topic_arn=TOPIC, trail_arn=TRAIL, log_group_arn=LOG_GROUP
    )
    encrypt = statement(document, "AllowCloudTrailToEncryptLogsForThisTrail")
    assert encrypt["Action"] == "kms:GenerateDataKey*"
    assert encrypt["Condition"]["StringEquals"] == {
        "aws:SourceArn": TRAIL,
        "kms:EncryptionContext:aws:cloudtrail:arn": TRAIL,
    }
    decrypt = statement(document, "AllowAccountPrincipalsToDecryptThisTrailsLogs")
    assert decrypt["Condition"]["StringEquals"]["kms:EncryptionContext:aws:cloudtrail:arn"] == TRAIL
    logs = statement(document, "AllowCloudWatchLogsForTheTrailLogGroupOnly")
    assert logs["Principal"] == {"Service": "logs.eu-west-1.amazonaws.com"}
    assert logs["Condition"] == {"StringEquals": {"kms:EncryptionContext:aws:logs:arn": LOG_GROUP}}
    assert lint(document, "key") == []


def test_trail_bucket_policy_admits_only_this_trail_over_tls():
    """Trail bucket: CloudTrail's ACL check and write need AWS:SourceArn = the trail; TLS enforced."""
    document = audit_policies.trail_bucket_policy(bucket_arn=BUCKET, trail_arn=TRAIL, account_id=ACCOUNT)
    check = statement(document, "AllowCloudTrailAclCheckForThisTrail")
    write = statement(document, "AllowCloudTrailWriteForThisTrail")
    assert check["Action"] == "s3:GetBucketAcl" and check["Resource"] == BUCKET
    assert check["Condition"] == {"StringEquals": {"aws:SourceArn": TRAIL}}
    assert write["Action"] == "s3:PutObject"
    assert write["Resource"] == f"{BUCKET}/AWSLogs/{ACCOUNT}/*"
    assert write["Condition"]["StringEquals"]["aws:SourceArn"] == TRAIL
    assert statement(document, "DenyInsecureTransport")["Effect"] == "Deny"
    assert statement(document, "DenyTlsOlderThan12")["Effect"] == "Deny"
    assert lint(document, "bucket") == []


def test_trail_logs_role_is_assumable_by_cloudtrail_and_writes_its_group_only():
    """Log role: trusted by CloudTrail without SourceArn/SourceAccount (AWS documents that
    CloudTrail sends neither when it assumes this role); permissions on the group's streams."""
    trust = audit_policies.trail_logs_role_trust()
    (assume,) = trust["Statement"]
    assert assume["Principal"] == {"Service": "cloudtrail.amazonaws.com"}
    assert "Condition" not in assume
    permissions = audit_policies.trail_logs_role_policy(log_group_arn=LOG_GROUP)
    (write,) = permissions["Statement"]
    assert sorted(write["Action"]) == ["logs:CreateLogStream", "logs:PutLogEvents"]
    assert write["Resource"] == f"{LOG_GROUP}:log-stream:*"
    assert lint(permissions, "identity") == []


def test_trail_access_logs_are_admitted_for_the_trail_bucket_only():
    """Log bucket grant for the trail bucket's server access logs, under their own prefix."""
    grant = audit_policies.trail_access_log_statement(
        log_bucket_arn=LOG_BUCKET, trail_bucket_arn=BUCKET, account_id=ACCOUNT
    )
    assert grant["Principal"] == {"Service": "logging.s3.amazonaws.com"}
    assert grant["Resource"] == f"{LOG_BUCKET}/s3-access-trail/*"
    assert grant["Condition"]["ArnEquals"] == {"aws:SourceArn": BUCKET}
    assert lint(_document(grant), "bucket") == []


# --- as deployed --------------------------------------------------------------------------


@pytest.mark.parametrize("module", ["components.edge_policies", "components.audit_policies"])
def test_builders_import_no_pulumi(module):
    """Pure builders: importing one does not load Pulumi, so they lint without an engine."""
    code = f"import sys, {module}; print('pulumi' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"


def test_audit_documents_as_deployed_lint_clean(graph):
    """Audit key, topic, trail bucket and log-role permission documents, exactly as deployed."""
    documents = [
        (named(graph, "aws:kms/key:Key", "-audit-key"), "policy", "key"),
        (graph.one("aws:sns/topicPolicy:TopicPolicy"), "policy", "topic"),
    ]
    documents += [(r, "policy", "bucket") for r in graph.of_type("aws:s3/bucketPolicy:BucketPolicy") if "-audit-" in r.name]
    documents += [(r, "policy", "identity") for r in graph.of_type("aws:iam/rolePolicy:RolePolicy") if "-audit-" in r.name]
    for resource, key, kind in documents:
        assert lint(policy_of(resource, key), kind) == [], resource.name


def test_edge_grants_join_the_other_components_statements(graph):
    """The data bucket policy keeps the tenant-isolation denies and adds CloudFront's read grant;
    the log bucket policy keeps S3's access-log grant and adds log delivery (combined, not replaced)."""
    data = [s["Sid"] for s in policy_of(named(graph, "aws:s3/bucketPolicy:BucketPolicy", "-storage-data-policy"))["Statement"]]
    assert "AllowCloudFrontReadForThisDistribution" in data
    assert "DenyTaggedPrincipalsOutsideTheirTenantPrefix" in data
    assert "DenyInsecureTransport" in data
    logs = [s["Sid"] for s in policy_of(named(graph, "aws:s3/bucketPolicy:BucketPolicy", "-storage-logs-policy"))["Statement"]]
    assert {"AllowServerAccessLogsFromTheDataBucketOnly", "AllowCloudFrontLogDeliveryForThisDistribution"} <= set(logs)


# --- evaluated as AWS would: service callers against the deployed documents -----------------

TLS = {"aws:SecureTransport": "true", "s3:TlsVersion": "1.3"}
OTHER_DISTRIBUTION = edge_policies.distribution_arn("999988887777", "E2OTHERDIST999")


def _service(name: str) -> Caller:
    return Caller(name=name, service=name)


def _allowed(graph, caller: Caller, action: str, resource: str, policy, **context) -> bool:
    return authorize(
        caller,
        Check(action=action, resource=resource, context=context, resource_policy=policy, resource_owner="123456789012"),
    )


def test_evaluated_only_this_distribution_reads_and_only_reads(graph):
    """CloudFront GetObject: allowed for this distribution over TLS; another one, a write, a list, HTTP: denied."""
    bucket = named(graph, "aws:s3/bucket:Bucket", "-storage-data").outputs["arn"]
    ours = graph.one("aws:cloudfront/distribution:Distribution").outputs["arn"]
    policy = policy_of(named(graph, "aws:s3/bucketPolicy:BucketPolicy", "-storage-data-policy"))
    cloudfront, obj = _service("cloudfront.amazonaws.com"), f"{bucket}/acme/orders/2026/05/04/po.pdf"
    clean = {**TLS, "s3:ExistingObjectTag/GuardDutyMalwareScanStatus": "NO_THREATS_FOUND"}  # prod gates on it
    assert _allowed(graph, cloudfront, "s3:GetObject", obj, policy, **clean, **{"AWS:SourceArn": ours})
    assert not _allowed(graph, cloudfront, "s3:GetObject", obj, policy, **TLS, **{"AWS:SourceArn": OTHER_DISTRIBUTION})
    assert not _allowed(graph, cloudfront, "s3:GetObject", obj, policy, **TLS)
    assert not _allowed(graph, cloudfront, "s3:PutObject", obj, policy, **TLS, **{"AWS:SourceArn": ours})
    assert not _allowed(graph, cloudfront, "s3:ListBucket", bucket, policy, **TLS, **{"AWS:SourceArn": ours})
    assert not _allowed(
        graph, cloudfront, "s3:GetObject", obj, policy, **{"aws:SecureTransport": "false", "AWS:SourceArn": ours}
    )


def test_evaluated_only_this_distribution_decrypts(graph):
    """Data key: CloudFront Decrypt for this distribution only; never Encrypt or GenerateDataKey."""
    ours = graph.one("aws:cloudfront/distribution:Distribution").outputs["arn"]
    policy = policy_of(graph.one("aws:kms/keyPolicy:KeyPolicy"))
    key = named(graph, "aws:kms/key:Key", "-key-cmk").outputs["arn"]
    cloudfront = _service("cloudfront.amazonaws.com")
    assert _allowed(graph, cloudfront, "kms:Decrypt", key, policy, **{"AWS:SourceArn": ours})
    assert not _allowed(graph, cloudfront, "kms:Decrypt", key, policy, **{"AWS:SourceArn": OTHER_DISTRIBUTION})
    for action in ("kms:Encrypt", "kms:GenerateDataKey", "kms:ReEncryptFrom"):
        assert not _allowed(graph, cloudfront, action, key, policy, **{"AWS:SourceArn": ours}), action


def test_evaluated_log_delivery_writes_only_our_cloudfront_logs(graph):
    """Log bucket: delivery.logs writes cloudfront/ for our source; not another source, not elsewhere."""
    log_bucket = named(graph, "aws:s3/bucket:Bucket", "-storage-logs").outputs["arn"]
    source = graph.one("aws:cloudwatch/logDeliverySource:LogDeliverySource").outputs["arn"]
    policy = policy_of(named(graph, "aws:s3/bucketPolicy:BucketPolicy", "-storage-logs-policy"))
    delivery = _service("delivery.logs.amazonaws.com")
    ours = {**TLS, "aws:SourceArn": source, "aws:SourceAccount": "123456789012"}
    assert _allowed(graph, delivery, "s3:PutObject", f"{log_bucket}/cloudfront/AWSLogs/x.gz", policy, **ours)
    assert not _allowed(graph, delivery, "s3:PutObject", f"{log_bucket}/s3-access/x", policy, **ours)
    other = {**ours, "aws:SourceArn": source.replace("123456789012", "999988887777"), "aws:SourceAccount": "999988887777"}
    assert not _allowed(graph, delivery, "s3:PutObject", f"{log_bucket}/cloudfront/AWSLogs/x.gz", policy, **other)


def test_evaluated_only_the_data_bucket_publishes_to_the_topic(graph):
    """Topic: S3 publishes for our data bucket and account over TLS; another bucket or HTTP: denied."""
    topic = graph.one("aws:sns/topic:Topic").outputs["arn"]
    bucket = named(graph, "aws:s3/bucket:Bucket", "-storage-data").outputs["arn"]
    policy = policy_of(graph.one("aws:sns/topicPolicy:TopicPolicy"))
    s3 = _service("s3.amazonaws.com")
    ours = {"aws:SecureTransport": "true", "aws:SourceArn": bucket, "aws:SourceAccount": "123456789012"}
    assert _allowed(graph, s3, "sns:Publish", topic, policy, **ours)
    assert not _allowed(graph, s3, "sns:Publish", topic, policy, **{**ours, "aws:SourceArn": "arn:aws:s3:::someone-elses"})
    assert not _allowed(graph, s3, "sns:Publish", topic, policy, **{**ours, "aws:SecureTransport": "false"})


def test_evaluated_s3_uses_the_audit_key_for_this_topic_only(graph):
    """Audit key: S3 may GenerateDataKey under this topic's context only."""
    key = named(graph, "aws:kms/key:Key", "-audit-key")
    topic = graph.one("aws:sns/topic:Topic").outputs["arn"]
    s3, policy = _service("s3.amazonaws.com"), policy_of(key)
    ours = {"aws:SourceAccount": "123456789012", "kms:EncryptionContext:aws:sns:topicArn": topic}
    assert _allowed(graph, s3, "kms:GenerateDataKey", key.outputs["arn"], policy, **ours)
    other_topic = {**ours, "kms:EncryptionContext:aws:sns:topicArn": f"{topic}-other"}
    assert not _allowed(graph, s3, "kms:GenerateDataKey", key.outputs["arn"], policy, **other_topic)


def test_evaluated_only_this_trail_writes_the_trail_bucket(prod_graph):
    """Trail bucket: CloudTrail writes AWSLogs/<account>/ for this trail; another trail: denied."""
    trail = prod_graph.one("aws:cloudtrail/trail:Trail").outputs["arn"]
    bucket = named(prod_graph, "aws:s3/bucket:Bucket", "-audit-trail-bucket")
    (policy_resource,) = [
        r for r in prod_graph.of_type("aws:s3/bucketPolicy:BucketPolicy") if r.inputs["bucket"] == bucket.id
    ]
    policy, cloudtrail = policy_of(policy_resource), _service("cloudtrail.amazonaws.com")
    target = f"{bucket.outputs['arn']}/AWSLogs/123456789012/CloudTrail/eu-west-1/x.json.gz"
    ours = {**TLS, "aws:SourceArn": trail, "s3:x-amz-acl": "bucket-owner-full-control"}
    assert _allowed(prod_graph, cloudtrail, "s3:PutObject", target, policy, **ours)
    assert not _allowed(prod_graph, cloudtrail, "s3:PutObject", target, policy, **{**ours, "aws:SourceArn": f"{trail}-other"})
    assert not _allowed(prod_graph, cloudtrail, "s3:DeleteObject", target, policy, **ours)
