"""AuditTrail: encrypted upload notifications and the CloudTrail data-event trail.

Both stacks from the stack files, plus one dev run with the trail switched on (without
CloudWatch Logs) and an e-mail subscription (``trail_dev_graph``).
"""

from __future__ import annotations

import pytest

from components.settings import SettingsError, parse
from securestore.offline.graph import RecordedResource, StackGraph
from securestore.offline.engine import ProgramError, evaluate_stack
from support.stack_helpers import named, policy_of, statement

COMPONENT = "securestore:audit:AuditTrail"
KMS_KEY = "aws:kms/key:Key"
ALIAS = "aws:kms/alias:Alias"
TOPIC = "aws:sns/topic:Topic"
TOPIC_POLICY = "aws:sns/topicPolicy:TopicPolicy"
SUBSCRIPTION = "aws:sns/topicSubscription:TopicSubscription"
NOTIFICATION = "aws:s3/bucketNotification:BucketNotification"
TRAIL = "aws:cloudtrail/trail:Trail"
BUCKET = "aws:s3/bucket:Bucket"
BUCKET_POLICY = "aws:s3/bucketPolicy:BucketPolicy"
PUBLIC_ACCESS = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
OWNERSHIP = "aws:s3/bucketOwnershipControls:BucketOwnershipControls"
ENCRYPTION = "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
VERSIONING = "aws:s3/bucketVersioning:BucketVersioning"
LOGGING = "aws:s3/bucketLogging:BucketLogging"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
ACCOUNT = "123456789012"
EMAIL = "security@example.com"


@pytest.fixture(scope="module")
def trail_dev_graph() -> StackGraph:
    return evaluate_stack(
        "dev",
        config_overrides={
            "cloudTrailEnabled": True,
            "cloudTrailCloudWatchLogs": False,
            "notificationEmail": EMAIL,
        },
    )


def _audit_key(graph: StackGraph) -> RecordedResource:
    return named(graph, KMS_KEY, "-audit-key")


def _data_bucket(graph: StackGraph) -> RecordedResource:
    return named(graph, BUCKET, "-storage-data")


def _trail_bucket(graph: StackGraph) -> RecordedResource:
    return named(graph, BUCKET, "-audit-trail-bucket")


def _of_trail_bucket(graph: StackGraph, type_: str) -> RecordedResource:
    (found,) = [r for r in graph.of_type(type_) if r.inputs.get("bucket") == _trail_bucket(graph).id]
    return found


# --- topic and notification ---------------------------------------------------------------


def test_topic_is_encrypted_with_a_dedicated_rotated_key(graph):
    """The topic uses the audit CMK (rotation on), not the data key and not alias/aws/sns."""
    key = _audit_key(graph)
    topic = graph.one(TOPIC)
    assert topic.inputs["kmsMasterKeyId"] == key.outputs["arn"]
    assert key.inputs["enableKeyRotation"] is True
    assert key.outputs["arn"] != named(graph, KMS_KEY, "-key-cmk").outputs["arn"]
    assert named(graph, ALIAS, "-audit-alias").inputs["targetKeyId"] == key.outputs["keyId"]


def test_audit_key_lets_s3_encrypt_for_this_topic(graph):
    """The key policy's S3 grant is bound to the topic that exists, and to our account."""
    grant = statement(policy_of(_audit_key(graph)), "AllowS3ToEncryptNotificationsForThisTopic")
    assert grant["Condition"] == {
        "StringEquals": {
            "aws:SourceAccount": ACCOUNT,
            "kms:EncryptionContext:aws:sns:topicArn": graph.one(TOPIC).outputs["arn"],
        }
    }


def test_topic_policy_admits_only_the_data_bucket_and_denies_plain_http(graph):
    """s3.amazonaws.com may publish only with SourceArn = data bucket, SourceAccount = us; TLS only."""
    policy = graph.one(TOPIC_POLICY)
    topic = graph.one(TOPIC)
    assert policy.inputs["arn"] == topic.outputs["arn"]
    document = policy_of(policy)
    allow = statement(document, "AllowS3PublishFromTheDataBucketOnly")
    assert allow["Condition"] == {
        "ArnEquals": {"aws:SourceArn": _data_bucket(graph).outputs["arn"]},
        "StringEquals": {"aws:SourceAccount": ACCOUNT},
    }
    assert allow["Resource"] == topic.outputs["arn"]
    deny = statement(document, "DenyInsecureTransport")
    assert deny["Effect"] == "Deny" and deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_data_bucket_notifies_the_topic_on_every_object_created(graph):
    """BucketNotification on the data bucket: s3:ObjectCreated:* to our topic."""
    notification = graph.one(NOTIFICATION)
    assert notification.inputs["bucket"] == _data_bucket(graph).id
    (topic,) = notification.inputs["topics"]
    assert topic["events"] == ["s3:ObjectCreated:*"]
    assert topic["topicArn"] == graph.one(TOPIC).outputs["arn"]


def test_notification_keeps_eventbridge_on(graph):
    """Every stack: the bucket's notification configuration enables EventBridge beside the
    topic. GuardDuty Malware Protection turns EventBridge on to see new objects; a
    configuration without it (S3 replaces the whole configuration) would switch it off on
    every deploy, and nothing would be scanned again."""
    assert graph.one(NOTIFICATION).inputs.get("eventbridge") is True


def test_notification_waits_for_the_topic_policy_and_key(graph):
    """S3 tests the destination when the notification is saved: policy and key must exist first."""
    dependencies = graph.one(NOTIFICATION).dependencies
    assert graph.one(TOPIC_POLICY).urn in dependencies
    assert _audit_key(graph).urn in dependencies


def test_email_subscription_only_when_configured(graph, trail_dev_graph):
    """No notificationEmail in the stack files: no subscription; with one: an email subscription."""
    assert graph.of_type(SUBSCRIPTION) == []
    subscription = trail_dev_graph.one(SUBSCRIPTION)
    assert subscription.inputs == {
        "topic": trail_dev_graph.one(TOPIC).outputs["arn"],
        "protocol": "email",
        "endpoint": EMAIL,
    }


# --- CloudTrail: dev and prod differ --------------------------------------------------------


def test_trail_is_on_in_prod_and_off_in_dev(graphs):
    """prod records data events; dev (cloudTrailEnabled false) has no trail, trail bucket or log group."""
    prod, dev = graphs["prod"], graphs["dev"]
    assert prod.one(TRAIL).inputs["enableLogging"] is True
    assert prod.exports["auditTrailArn"] == prod.one(TRAIL).outputs["arn"]
    assert dev.of_type(TRAIL) == [] and dev.of_type(LOG_GROUP) == []
    assert not [b for b in dev.of_type(BUCKET) if b.name.endswith("-audit-trail-bucket")]
    assert dev.exports["auditTrailArn"] is None


def test_prod_refuses_to_switch_the_trail_off():
    """cloudTrailEnabled false is a dev-only choice."""
    with pytest.raises(ProgramError) as caught:
        evaluate_stack("prod", config_overrides={"cloudTrailEnabled": False})
    assert isinstance(caught.value.__cause__, SettingsError)
    assert caught.value.__cause__.key == "securestore:cloudTrailEnabled"
    assert caught.value.graph.resources == []


@pytest.mark.parametrize(
    "key,value,words",
    [
        ("cloudTrailLogRetentionDays", 42, "periods CloudWatch Logs accepts"),
        ("notificationEmail", "not-an-address", "e-mail address"),
    ],
)
def test_bad_audit_setting_names_the_key(key, value, words):
    with pytest.raises(SettingsError) as caught:
        parse({key: value}, project="securestore", stack="dev")
    assert caught.value.key == f"securestore:{key}" and words in str(caught.value)


@pytest.fixture(params=["prod", "dev-with-trail"])
def trail_graph(request, graphs, trail_dev_graph) -> StackGraph:
    """Every stack that has a trail."""
    return graphs["prod"] if request.param == "prod" else trail_dev_graph


def test_trail_is_multi_region_validated_and_kms_encrypted(trail_graph):
    """Multi-region, log file validation, global service events, the audit key."""
    trail = trail_graph.one(TRAIL).inputs
    assert trail["isMultiRegionTrail"] is True
    assert trail["enableLogFileValidation"] is True
    assert trail["includeGlobalServiceEvents"] is True
    assert trail["kmsKeyId"] == _audit_key(trail_graph).outputs["arn"]


def test_trail_records_reads_and_writes_of_data_bucket_objects(trail_graph):
    """Advanced selector: Data events on AWS::S3::Object under the data bucket, no readOnly filter."""
    selectors = trail_graph.one(TRAIL).inputs["advancedEventSelectors"]
    bucket_arn = _data_bucket(trail_graph).outputs["arn"]
    data = [s for s in selectors if {"field": "eventCategory", "equals": ["Data"]} in s["fieldSelectors"]]
    assert len(data) == 1
    fields = {f["field"]: f for f in data[0]["fieldSelectors"]}
    assert fields["resources.type"]["equals"] == ["AWS::S3::Object"]
    assert fields["resources.ARN"]["startsWiths"] == [f"{bucket_arn}/"]
    assert "readOnly" not in fields, "a readOnly selector would drop reads or writes"


def test_trail_arn_in_policies_is_the_trail_that_is_created(trail_graph):
    """The name is explicit, so the ARN the policies name before creation is the real one."""
    trail = trail_graph.one(TRAIL)
    arn = trail.outputs["arn"]
    assert arn == f"arn:aws:cloudtrail:eu-west-1:{ACCOUNT}:trail/{trail.inputs['name']}"
    bucket_policy = policy_of(_of_trail_bucket(trail_graph, BUCKET_POLICY))
    for sid in ("AllowCloudTrailAclCheckForThisTrail", "AllowCloudTrailWriteForThisTrail"):
        assert statement(bucket_policy, sid)["Condition"]["StringEquals"]["aws:SourceArn"] == arn
    key_grant = statement(policy_of(_audit_key(trail_graph)), "AllowCloudTrailToEncryptLogsForThisTrail")
    assert key_grant["Condition"]["StringEquals"] == {
        "aws:SourceArn": arn,
        "kms:EncryptionContext:aws:cloudtrail:arn": arn,
    }


def test_trail_bucket_is_private_owned_versioned_and_encrypted(trail_graph):
    """Its own bucket: all four public-access flags, ACLs off, versioning, SSE-KMS with the audit key."""
    block = _of_trail_bucket(trail_graph, PUBLIC_ACCESS).inputs
    assert all(block[f] is True for f in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"))
    ownership = _of_trail_bucket(trail_graph, OWNERSHIP).inputs
    assert ownership["rule"]["objectOwnership"] == "BucketOwnerEnforced"
    versioning = _of_trail_bucket(trail_graph, VERSIONING).inputs
    assert versioning["versioningConfiguration"]["status"] == "Enabled"
    (rule,) = _of_trail_bucket(trail_graph, ENCRYPTION).inputs["rules"]
    default = rule["applyServerSideEncryptionByDefault"]
    assert default == {"sseAlgorithm": "aws:kms", "kmsMasterKeyId": _audit_key(trail_graph).outputs["arn"]}
    assert rule["bucketKeyEnabled"] is False, "a bucket key would change the KMS encryption context"
    assert trail_graph.one(TRAIL).inputs["s3BucketName"] == _trail_bucket(trail_graph).id


def test_trail_bucket_policy_denies_plain_http_and_waits_for_the_block(trail_graph):
    """TLS-only policy, applied after the public access block; the trail waits for the policy."""
    policy = _of_trail_bucket(trail_graph, BUCKET_POLICY)
    assert statement(policy_of(policy), "DenyInsecureTransport")["Effect"] == "Deny"
    assert _of_trail_bucket(trail_graph, PUBLIC_ACCESS).urn in policy.dependencies
    assert policy.urn in trail_graph.one(TRAIL).dependencies


def test_trail_bucket_access_logs_go_to_the_log_bucket(trail_graph):
    """Server access logs of the trail bucket land in the log bucket, which admits them."""
    logging = _of_trail_bucket(trail_graph, LOGGING).inputs
    log_bucket = named(trail_graph, BUCKET, "-storage-logs")
    assert logging["targetBucket"] == log_bucket.id
    grant = statement(
        policy_of(named(trail_graph, BUCKET_POLICY, "-storage-logs-policy")),
        "AllowServerAccessLogsFromTheTrailBucketOnly",
    )
    assert grant["Condition"]["ArnEquals"] == {"aws:SourceArn": _trail_bucket(trail_graph).outputs["arn"]}
    assert grant["Resource"] == f"{log_bucket.outputs['arn']}/{logging['targetPrefix']}*"


def test_audit_key_and_trail_bucket_are_kept_in_prod_only(graphs, trail_dev_graph):
    """prod protects and retains the audit evidence; dev can be destroyed."""
    for graph, kept in ((graphs["prod"], True), (trail_dev_graph, False)):
        for resource in (_audit_key(graph), _trail_bucket(graph)):
            assert (resource.protect, resource.retain_on_delete) == (kept, kept), resource.name


# --- CloudWatch Logs (optional; on in prod) ----------------------------------------------------


def test_prod_trail_also_writes_to_an_encrypted_log_group(prod_graph):
    """Log group encrypted with the audit key, retention from config, wired into the trail."""
    group = prod_graph.one(LOG_GROUP)
    trail = prod_graph.one(TRAIL).inputs
    assert group.inputs["kmsKeyId"] == _audit_key(prod_graph).outputs["arn"]
    assert group.inputs["retentionInDays"] == int(prod_graph.config["cloudTrailLogRetentionDays"])
    assert trail["cloudWatchLogsGroupArn"] == f"{group.outputs['arn']}:*"
    role = named(prod_graph, ROLE, "-audit-trail-logs-role")
    assert trail["cloudWatchLogsRoleArn"] == role.outputs["arn"]
    grant = statement(policy_of(_audit_key(prod_graph)), "AllowCloudWatchLogsForTheTrailLogGroupOnly")
    assert grant["Condition"]["StringEquals"]["kms:EncryptionContext:aws:logs:arn"] == group.outputs["arn"]


def test_log_role_is_for_this_trail_and_log_group_only(prod_graph):
    """Trust: CloudTrail only, with no aws:SourceArn/SourceAccount condition (AWS documents
    that CloudTrail sends neither when assuming this role; one would stop delivery);
    permissions: this group's streams only."""
    role = named(prod_graph, ROLE, "-audit-trail-logs-role")
    (assume,) = policy_of(role, "assumeRolePolicy")["Statement"]
    assert assume["Principal"] == {"Service": "cloudtrail.amazonaws.com"} and assume["Action"] == "sts:AssumeRole"
    assert "Condition" not in assume
    (permissions,) = [p for p in prod_graph.of_type(ROLE_POLICY) if p.inputs["role"] == role.id]
    (write,) = policy_of(permissions)["Statement"]
    assert write["Resource"] == f"{prod_graph.one(LOG_GROUP).outputs['arn']}:log-stream:*"
    assert permissions.urn in prod_graph.one(TRAIL).dependencies


def test_cloudwatch_logs_are_optional(trail_dev_graph):
    """cloudTrailCloudWatchLogs false: no log group, no role, no CloudWatch wiring or key grant."""
    assert trail_dev_graph.of_type(LOG_GROUP) == []
    assert [r for r in trail_dev_graph.of_type(ROLE) if r.name.endswith("-audit-trail-logs-role")] == []
    assert "cloudWatchLogsGroupArn" not in trail_dev_graph.one(TRAIL).inputs
    sids = {s["Sid"] for s in policy_of(_audit_key(trail_dev_graph))["Statement"]}
    assert "AllowCloudWatchLogsForTheTrailLogGroupOnly" not in sids
    assert "AllowCloudTrailToEncryptLogsForThisTrail" in sids


def test_dev_without_trail_keeps_cloudtrail_out_of_the_key_policy(dev_graph):
    """No trail: the audit key grants nothing to CloudTrail or CloudWatch Logs."""
    sids = {s["Sid"] for s in policy_of(_audit_key(dev_graph))["Statement"]}
    assert not {s for s in sids if "CloudTrail" in s or "CloudWatch" in s}


# --- component shape and outputs ------------------------------------------------------------


def test_audit_resources_are_children_of_the_component(graph):
    component = graph.one(COMPONENT)
    for resource in (_audit_key(graph), graph.one(TOPIC), graph.one(TOPIC_POLICY), graph.one(NOTIFICATION)):
        assert resource.parent == component.urn, resource.name


def test_outputs_name_the_topic_and_trail(graph):
    """Exports: topic ARN always; trail ARN where a trail exists (checked above)."""
    assert graph.exports["uploadTopicArn"] == graph.one(TOPIC).outputs["arn"]
    assert "auditTrailArn" in graph.exports


def test_trail_variant_passes_the_policy_pack(trail_dev_graph, tmp_path):
    """A dev trail without CloudWatch Logs and with an e-mail subscriber raises no violation once
    the address is declared a destination (model-where-data-goes: upload notifications carry
    every tenant's keys, so an address outside the account is reviewed once, in pack config)."""
    import json
    from pathlib import Path

    from securestore.offline.policy_runner import check_stack_policies

    config = json.loads((Path(__file__).resolve().parents[2] / "policies/config/dev.json").read_text())
    config["model-where-data-goes"] = {"destinations": [EMAIL]}
    path = tmp_path / "dev.json"
    path.write_text(json.dumps(config))
    report = check_stack_policies(trail_dev_graph, config_path=path)
    assert report.violations == [], report.format_text()


def test_an_undeclared_notification_address_is_a_flow_finding(trail_dev_graph):
    """Class: data leaving the account along an edge nobody declared. The e-mail subscription
    is the only finding of the variant, and it names the address."""
    from securestore.offline.policy_runner import check_stack_policies

    report = check_stack_policies(trail_dev_graph)
    assert [v.policy for v in report.violations] == ["model-where-data-goes"], report.format_text()
    assert EMAIL in report.violations[0].problem
