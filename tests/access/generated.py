"""The attacker matrix, generated from a stack's graph and compared with the access model.

Nothing here is a list of cases someone chose:

* resources: every resource of the graph that has an ARN (or an id CloudFront builds one
  from), classified into the access model's resources (``classify``); a store the model
  does not know (a new bucket, key, topic or log group) raises, so it cannot go unchecked;
* actions: every action AWS's IAM definition (parliament's data, the engine's table) lists
  for the resource's IAM type: bucket-level and object-level S3 actions, every KMS key
  action, every SNS topic action, ...;
* callers: the profiles below, from the stack's own roles and documents (identity
  policies, boundary, trust, bucket/key/topic policies read from the graph);
* variants: object keys of each tenant and of the platform; for the data key, direct calls
  and calls S3 makes for this data bucket or for another bucket; for role trusts, a session
  tag of the caller's own tenant and of another one.

A cell is unexpected when the engine allows what the model refuses (any profile), or, for
the profiles that are the stack's own workloads as deployed, refuses what the model grants.
Service profiles (CloudFront, log delivery, CloudTrail, ...) are checked in the first
direction only: the model grants a class, IAM scopes each grant to one source, which is
stricter.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field, replace
from typing import Any, Iterator, Mapping, Optional

from components import access_model as model
from securestore.offline.graph import RecordedResource, StackGraph

from . import evaluator
from .evaluator import Caller, Check

OTHER_ACCOUNT = "210987654321"
OTHER_BUCKET_ARN = "arn:aws:s3:::someone-elses-bucket"
OTHER_DISTRIBUTION = f"arn:aws:cloudfront::{OTHER_ACCOUNT}:distribution/EOTHERDIST0001"
TENANT, OTHER_TENANT = "acme", "globex"

BUCKET_ROLES = {"-storage-data": model.DATA_BUCKET, "-storage-logs": model.LOG_BUCKET,
                "-trail-bucket": model.TRAIL_BUCKET}
KEY_ROLES = {"-key-cmk": model.DATA_KEY, "-audit-key": model.AUDIT_KEY}
STORE_TYPES = {
    "aws:s3/bucket:Bucket": BUCKET_ROLES,
    "aws:kms/key:Key": KEY_ROLES,
    "aws:sns/topic:Topic": {"-object-created": model.TOPIC},
    "aws:cloudwatch/logGroup:LogGroup": {"-trail-logs": model.LOG_GROUP},
    "aws:cloudfront/distribution:Distribution": {"-distribution": model.DISTRIBUTION},
}
"""Types that hold or describe tenant data: each resource of these types must be classified."""
CLOUDFRONT_ID_TYPES = {
    "aws:cloudfront/originAccessControl:OriginAccessControl": "origin-access-control",
    "aws:cloudfront/responseHeadersPolicy:ResponseHeadersPolicy": "response-headers-policy",
    "aws:cloudfront/cachePolicy:CachePolicy": "cache-policy",
    "aws:cloudfront/originRequestPolicy:OriginRequestPolicy": "origin-request-policy",
}
"""CloudFront resources the mocks give no ARN: built from the id as AWS forms it."""
IAM_TYPE_ALIASES = {("events", "rule"): "rule-on-default-event-bus"}
"""ARN resource words that IAM's definition names differently."""
CONFIGURES = {"aws:cloudwatch/eventTarget:EventTarget"}
"""Resources whose ``arn`` output is another resource's (an event target's is its target's)."""
OBJECT_KEYS = {
    model.DATA_BUCKET: (f"{TENANT}/x", f"{OTHER_TENANT}/x", "public/x"),
    model.LOG_BUCKET: ("s3-access/x", "s3-access-trail/x", "cloudfront/x"),
    model.TRAIL_BUCKET: ("AWSLogs/{account}/x",),
}
LIST_PREFIXES = (f"{TENANT}/", f"{OTHER_TENANT}/", None)
BUCKET_LISTINGS = ("s3:ListBucket", "s3:ListBucketVersions", "s3:ListBucketMultipartUploads")


@dataclass(frozen=True)
class Target:
    """One resource of the graph as IAM sees it."""

    resource: str
    """Model resource (``access_model.RESOURCES``)."""
    urn_name: str
    service: str
    iam_type: str
    arn: str
    policy: Optional[dict]
    """Resource policy (bucket/key/topic policy, role trust for ``sts:``), None if none."""


@dataclass(frozen=True)
class Profile:
    name: str
    caller: Caller
    klass: Optional[str]
    """Model principal class; None: refused everything."""
    tenant: Optional[str] = None
    deployed: bool = False
    """A workload as the stack deploys it: the model's grants must also be allowed."""
    only: Optional[frozenset[str]] = None
    """Model resources this profile is tried on (None: all)."""
    context: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Cell:
    profile: str
    resource: str
    target: str
    action: str
    variant: str
    allowed: bool
    expected: bool
    deployed: bool
    caller: Caller = field(compare=False, repr=False, default=None)
    check: Check = field(compare=False, repr=False, default=None)
    """The request as the engine saw it (principalmapper's cross-check asks the same)."""

    @property
    def unexpected(self) -> bool:
        return (self.allowed and not self.expected) or (self.deployed and self.expected and not self.allowed)

    def __str__(self) -> str:
        return (f"{self.profile} {self.action} on {self.resource} {self.target} [{self.variant}]: "
                f"got {'allow' if self.allowed else 'deny'}, model says {'allow' if self.expected else 'deny'}")


# --- the graph ---------------------------------------------------------------------------

def _document(value: Any) -> Optional[dict]:
    if value in (None, ""):
        return None
    return json.loads(value) if isinstance(value, str) else value


def _policy_for(graph: StackGraph, resource: RecordedResource) -> Optional[dict]:
    """The policy AWS keeps for a bucket, key or topic: the last writer the program registers."""
    out = resource.outputs
    if resource.type == "aws:s3/bucket:Bucket":
        writers = [p for p in graph.of_type("aws:s3/bucketPolicy:BucketPolicy") if p.inputs.get("bucket") == out.get("bucket")]
    elif resource.type == "aws:kms/key:Key":
        writers = [p for p in graph.of_type("aws:kms/keyPolicy:KeyPolicy") if p.inputs.get("keyId") == out.get("keyId")]
    elif resource.type == "aws:sns/topic:Topic":
        writers = [p for p in graph.of_type("aws:sns/topicPolicy:TopicPolicy") if p.inputs.get("arn") == out.get("arn")]
    else:
        return None
    if writers:
        return _document(writers[-1].inputs.get("policy"))
    return _document(resource.inputs.get("policy"))


def classify(resource: RecordedResource) -> str:
    """The model resource a graph resource belongs to (``OTHER`` for configuration)."""
    if resource.type in STORE_TYPES:
        for suffix, name in STORE_TYPES[resource.type].items():
            if resource.name.endswith(suffix):
                return name
        raise LookupError(f"{resource.type} {resource.name} holds or describes tenant data but the "
                          "access model does not classify it (components/access_model.py)")
    if resource.type == "aws:iam/role:Role":
        return model.TENANT_ROLE if resource.name.endswith("-access-tenant") else model.STACK_ROLES
    return model.OTHER


def _arn(resource: RecordedResource, account: str) -> Optional[str]:
    arn = resource.outputs.get("arn")
    if isinstance(arn, str) and arn.startswith("arn:"):
        return arn
    kind = CLOUDFRONT_ID_TYPES.get(resource.type)
    if kind and resource.id:
        return f"arn:aws:cloudfront::{account}:{kind}/{resource.id}"
    return None


def _iam_types(arn: str) -> tuple[str, list[tuple[str, str]]]:
    """``(service, [(IAM resource type, ARN)])`` for one resource ARN."""
    parts = arn.split(":", 5)
    service, rest = parts[2], parts[5]
    if service == "s3":
        return service, [("bucket", arn), ("object", arn + "/{key}")]
    if service == "sns":
        return service, [("topic", arn)]
    if service == "logs" and rest.startswith("log-group:"):
        return service, [("log-group", arn + ":*"), ("log-stream", arn + ":log-stream:x")]
    tokens = [t for t in re.split(r"[/:]", rest) if t]
    known = {t for _, (_, types) in evaluator.service_actions(service).items() for t in types}
    for token in tokens[:2]:
        token = IAM_TYPE_ALIASES.get((service, token), token)
        for candidate in (token, token.replace("-", "")):
            if candidate in known:
                return service, [(candidate, arn)]
    return service, []


def targets(graph: StackGraph, account: str) -> list[Target]:
    """Every (resource, IAM type, ARN) of the graph with its resource policy."""
    found: list[Target] = []
    for resource in graph.custom_resources():
        if resource.type in CONFIGURES:
            continue
        arn = _arn(resource, account)
        if arn is None:
            continue
        which = classify(resource)
        service, types = _iam_types(arn)
        policy = _policy_for(graph, resource)
        for iam_type, typed_arn in types:
            found.append(Target(which, resource.name, service, iam_type, typed_arn, policy))
        if resource.type == "aws:iam/role:Role":
            found.append(Target(which, resource.name, "sts", "role", arn, _document(resource.inputs["assumeRolePolicy"])))
    return found


def actions_for(target: Target) -> list[str]:
    return sorted(f"{target.service}:{name}" for name, (_, types) in evaluator.service_actions(target.service).items()
                  if target.iam_type in types)


# --- the callers -------------------------------------------------------------------------

STAR = {"*": "*"}


def _allow(action: str) -> dict:
    return {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": action, "Resource": "*"}]}


def _role_documents(graph: StackGraph, role: RecordedResource) -> tuple[tuple[dict, ...], Optional[dict]]:
    name = role.outputs["name"]
    identity = [_document(p.inputs["policy"]) for p in graph.of_type("aws:iam/rolePolicy:RolePolicy") if p.inputs["role"] == name]
    for attachment in graph.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment"):
        if attachment.inputs["role"] == name:
            identity.append(_managed(graph, attachment.inputs["policyArn"]))
    boundary = None
    if role.inputs.get("permissionsBoundary"):
        try:
            boundary = _managed(graph, role.inputs["permissionsBoundary"])
        except LookupError:
            boundary = None  # a configured boundary outside the graph: only narrows further
    return tuple(identity), boundary


def _managed(graph: StackGraph, arn: str) -> dict:
    from .stack_access import AWS_MANAGED_POLICIES
    for policy in graph.of_type("aws:iam/policy:Policy"):
        if policy.outputs.get("arn") == arn:
            return _document(policy.inputs["policy"])
    name = arn.split(":policy/", 1)[-1]
    if name in AWS_MANAGED_POLICIES:
        return AWS_MANAGED_POLICIES[name]
    raise LookupError(f"{arn}: neither in the graph nor a known AWS managed policy")


def _stack_role(graph: StackGraph, suffix: str) -> RecordedResource:
    return next(r for r in graph.of_type("aws:iam/role:Role") if r.name.endswith(suffix))


def _ec2_class(identity: tuple[dict, ...]) -> str:
    actions = {a for d in identity for s in d["Statement"] for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])}
    return model.BACKEND if "s3:PutObject" in actions else model.BACKEND_READ_ONLY


def profiles(graph: StackGraph, account: str) -> list[Profile]:
    """Every caller the matrix tries, built from the stack's own roles and documents."""
    found: list[Profile] = []

    def session(role_suffix: str, name: str, tags: Mapping[str, str]) -> Caller:
        role = _stack_role(graph, role_suffix)
        identity, boundary = _role_documents(graph, role)
        return Caller(name, account, role.outputs["arn"], identity, dict(tags), boundary)

    tenant = session("-access-tenant", "tenant-acme", {"tenant_id": TENANT})
    found += [
        Profile("tenant-acme", tenant, model.TENANT, TENANT, deployed=True),
        Profile("tenant-globex (another tenant's broker session)",
                replace(session("-access-tenant", "tenant-globex", {"tenant_id": OTHER_TENANT})),
                model.TENANT, OTHER_TENANT, deployed=True),
        Profile("uploader-acme", session("-access-uploader", "uploader-acme", {"tenant_id": TENANT}),
                model.UPLOADER, TENANT, deployed=True),
    ]
    for grant in ("s3:*", "kms:*", "sns:*", "logs:*", "iam:*", "sts:*", "*"):
        found.append(Profile(f"tenant-acme given {grant}", replace(tenant, identity=tenant.identity + (_allow(grant),)),
                             model.TENANT, TENANT))
    found.append(Profile(
        "tagged user given * (no boundary: resource policies only)",
        Caller("tagged-user", account, f"arn:aws:iam::{account}:user/acme-cli", (_allow("*"),), {"tenant_id": TENANT}),
        model.TENANT, TENANT,
        only=frozenset({model.DATA_BUCKET, model.LOG_BUCKET, model.TRAIL_BUCKET, model.DATA_KEY, model.AUDIT_KEY, model.TOPIC}),
    ))
    lambda_ = session("-access-lambda", "lambda", {})
    ec2 = session("-access-ec2", "ec2", {})
    found += [
        Profile("lambda", lambda_, model.BACKEND, deployed=True),
        Profile("ec2", ec2, _ec2_class(ec2.identity), deployed=True),
        Profile("lambda given kms:*", replace(lambda_, identity=lambda_.identity + (_allow("kms:*"),)),
                model.BACKEND, only=frozenset({model.DATA_KEY, model.AUDIT_KEY})),
        Profile("ec2 given kms:*", replace(ec2, identity=ec2.identity + (_allow("kms:*"),)),
                _ec2_class(ec2.identity), only=frozenset({model.DATA_KEY, model.AUDIT_KEY})),
        Profile("another account given *",
                Caller("other-account", OTHER_ACCOUNT, f"arn:aws:iam::{OTHER_ACCOUNT}:role/admin", (_allow("*"),)), None),
        Profile("anonymous", Caller("anonymous", anonymous=True), None),
        Profile("another distribution", Caller("other-cloudfront", service="cloudfront.amazonaws.com"), None,
                context={"aws:SourceArn": OTHER_DISTRIBUTION, "aws:SourceAccount": OTHER_ACCOUNT}),
    ]
    scanners = [r for r in graph.of_type("aws:iam/role:Role") if r.name.endswith("-scan-role")]
    if scanners:
        found.append(Profile("malware scanner", session("-scan-role", "scanner", {}), model.MALWARE_SCANNER))
    found += _service_profiles(graph, account)
    return found


def _service_profiles(graph: StackGraph, account: str) -> list[Profile]:
    """The AWS services the stack grants, each with the source context it really sends."""
    def arn_of(type_: str, suffix: str = "") -> Optional[str]:
        for r in graph.of_type(type_):
            if r.name.endswith(suffix):
                return r.outputs.get("arn")
        return None

    data_bucket = arn_of("aws:s3/bucket:Bucket", "-storage-data")
    region = arn_of("aws:kms/key:Key", "-key-cmk").split(":")[3]
    found = [
        Profile("cloudfront (this distribution)", Caller("cloudfront", service="cloudfront.amazonaws.com"), model.CLOUDFRONT,
                context={"aws:SourceArn": arn_of("aws:cloudfront/distribution:Distribution"), "aws:SourceAccount": account}),
        Profile("s3 logging (data bucket)", Caller("s3-logging", service="logging.s3.amazonaws.com"), model.S3_LOGGING,
                context={"aws:SourceArn": data_bucket, "aws:SourceAccount": account}),
        Profile("s3 logging (another bucket)", Caller("s3-logging-other", service="logging.s3.amazonaws.com"), None,
                context={"aws:SourceArn": OTHER_BUCKET_ARN, "aws:SourceAccount": OTHER_ACCOUNT}),
        Profile("s3 event notifications", Caller("s3-events", service="s3.amazonaws.com"), model.S3_NOTIFICATIONS,
                context={"aws:SourceArn": data_bucket, "aws:SourceAccount": account,
                         "kms:EncryptionContext:aws:sns:topicArn": arn_of("aws:sns/topic:Topic")}),
    ]
    source = arn_of("aws:cloudwatch/logDeliverySource:LogDeliverySource")
    if source:
        found.append(Profile("cloudfront log delivery", Caller("log-delivery", service="delivery.logs.amazonaws.com"),
                             model.LOG_DELIVERY, context={"aws:SourceArn": source, "aws:SourceAccount": account}))
    trail = arn_of("aws:cloudtrail/trail:Trail")
    if trail:
        found.append(Profile("cloudtrail (this trail)", Caller("cloudtrail", service="cloudtrail.amazonaws.com"), model.CLOUDTRAIL,
                             context={"aws:SourceArn": trail, "kms:EncryptionContext:aws:cloudtrail:arn": trail,
                                      "s3:x-amz-acl": "bucket-owner-full-control"}))
    group = arn_of("aws:cloudwatch/logGroup:LogGroup")
    if group:
        found.append(Profile("cloudwatch logs (trail log group)", Caller("logs", service=f"logs.{region}.amazonaws.com"),
                             model.CLOUDWATCH_LOGS, context={"kms:EncryptionContext:aws:logs:arn": group}))
    return found


# --- the cells ---------------------------------------------------------------------------

BASE_CONTEXT = {"aws:SecureTransport": "true", "s3:TlsVersion": "1.3"}


def _variants(target: Target, action: str, account: str, data_bucket: str, region: str,
              profile: Profile) -> Iterator[tuple[str, str, dict, Optional[str], Optional[str]]]:
    """``(variant, resource ARN, context, key for the model, via for the model)``."""
    if target.iam_type == "object":
        # Data objects already scanned clean: the malware-scan gate (issue 24) refuses reads
        # of anything else, which its own tests cover.
        scanned = {"s3:ExistingObjectTag/GuardDutyMalwareScanStatus": "NO_THREATS_FOUND"} \
            if target.resource == model.DATA_BUCKET else {}
        for key in OBJECT_KEYS.get(target.resource, ("x",)):
            key = key.format(account=account)
            yield key, target.arn.format(key=key), scanned, key, None
        return
    if target.iam_type == "bucket" and action in BUCKET_LISTINGS:
        for prefix in LIST_PREFIXES:
            yield f"prefix={prefix}", target.arn, ({"s3:prefix": prefix} if prefix else {}), prefix, None
        return
    if target.service == "kms" and target.resource == model.DATA_KEY and profile.caller.service is None:
        via = {"kms:ViaService": f"s3.{region}.amazonaws.com", "kms:CallerAccount": profile.caller.account or ""}
        yield "direct", target.arn, {}, None, None
        yield "via S3 for the data bucket", target.arn, {**via, "kms:EncryptionContext:aws:s3:arn": data_bucket}, None, "s3"
        yield ("via S3 for an object of the data bucket (bucket key off)", target.arn,
               {**via, "kms:EncryptionContext:aws:s3:arn": f"{data_bucket}/{TENANT}/x"}, None, "s3")
        yield "via S3 for another bucket", target.arn, {**via, "kms:EncryptionContext:aws:s3:arn": OTHER_BUCKET_ARN}, None, "s3-other"
        yield ("via S3 for an object of another bucket", target.arn,
               {**via, "kms:EncryptionContext:aws:s3:arn": f"{OTHER_BUCKET_ARN}/x"}, None, "s3-other")
        return
    if target.service == "sts":
        for tenant in (profile.tenant or TENANT, OTHER_TENANT):
            yield f"tenant_id={tenant}", target.arn, {
                f"aws:RequestTag/tenant_id": tenant, "aws:TagKeys": ["tenant_id"],
                "aws:MultiFactorAuthPresent": "true", "sts:ExternalId": "known-to-the-attacker",
            }, None, None
        return
    yield "", target.arn, {}, None, None


def generate(graph: StackGraph) -> list[Cell]:
    """Every cell of one stack, with the engine's verdict and the model's."""
    data = next(r for r in graph.of_type("aws:s3/bucket:Bucket") if r.name.endswith("-storage-data"))
    key = next(r for r in graph.of_type("aws:kms/key:Key") if r.name.endswith("-key-cmk"))
    _, _, _, region, account, _ = key.outputs["arn"].split(":", 5)
    external_id = graph.config.get("uploaderExternalId")
    cells: list[Cell] = []
    all_targets = targets(graph, account)
    for profile in profiles(graph, account):
        for target in all_targets:
            if profile.only is not None and target.resource not in profile.only:
                continue
            for action in actions_for(target):
                for variant, arn, context, model_key, via in _variants(target, action, account, data.outputs["arn"], region, profile):
                    if external_id and "sts:ExternalId" in context:
                        context = {**context, "sts:ExternalId": external_id}
                    check = Check(action, arn, {**BASE_CONTEXT, **profile.context, **context}, target.policy
                                  if (target.service != "sts" or target.iam_type == "role") else None, account)
                    if target.service == "iam":
                        check = replace(check, resource_policy=None)
                    allowed = evaluator.authorize(profile.caller, check)
                    expected = profile.klass is not None and model.allowed(
                        target.resource, profile.klass, action, key=model_key, tenant=profile.tenant, via=via)
                    cells.append(Cell(profile.name, target.resource, target.urn_name, action, variant,
                                      allowed, expected, profile.deployed, profile.caller, check))
    return cells
