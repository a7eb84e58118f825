"""Joins a stack's S3 buckets to the separate resources that configure them.

pulumi-aws v7 splits a bucket's settings (public access block, encryption, versioning,
policy, ...) into resources whose ``bucket`` input names the bucket. A stack policy sees
them only as a flat list, so this module answers "which bucket does this setting
configure?" two ways:

1. by value: the setting's resolved ``bucket`` (a name, an id or an ARN) equals one of a
   bucket's identities (``bucket``, ``id``, ``arn``, domain names). What AWS acts on is the
   value, so a known value always decides: a block whose value names another bucket
   configures that other bucket, even if the input came from this bucket's outputs.
2. by ``property_dependencies``: when the value is unknown (preview of a new bucket),
   the bucket whose URN the ``bucket`` input depends on.

A setting that joins to no bucket is reported by the rules that need it, never assumed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable, Optional

from .common import UNKNOWN, as_list, dig, is_unknown, plain

BUCKET = "aws:s3/bucket:Bucket"
BUCKET_V2 = "aws:s3/bucketV2:BucketV2"
BUCKET_TYPES = (BUCKET, BUCKET_V2)

PUBLIC_ACCESS_BLOCK = ("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",)
OWNERSHIP_CONTROLS = ("aws:s3/bucketOwnershipControls:BucketOwnershipControls",)
ENCRYPTION = (
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2",
)
VERSIONING = (
    "aws:s3/bucketVersioning:BucketVersioning",
    "aws:s3/bucketVersioningV2:BucketVersioningV2",
)
LIFECYCLE = (
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
    "aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2",
)
CORS = (
    "aws:s3/bucketCorsConfiguration:BucketCorsConfiguration",
    "aws:s3/bucketCorsConfigurationV2:BucketCorsConfigurationV2",
)
LOGGING = (
    "aws:s3/bucketLogging:BucketLogging",
    "aws:s3/bucketLoggingV2:BucketLoggingV2",
)
ACL = ("aws:s3/bucketAcl:BucketAcl", "aws:s3/bucketAclV2:BucketAclV2")
POLICY = ("aws:s3/bucketPolicy:BucketPolicy",)
WEBSITE = (
    "aws:s3/bucketWebsiteConfiguration:BucketWebsiteConfiguration",
    "aws:s3/bucketWebsiteConfigurationV2:BucketWebsiteConfigurationV2",
)
CLOUDFRONT_DISTRIBUTION = "aws:cloudfront/distribution:Distribution"
LOG_DELIVERY_DESTINATION = "aws:cloudwatch/logDeliveryDestination:LogDeliveryDestination"
CLOUDTRAIL = "aws:cloudtrail/trail:Trail"


@dataclass
class Node:
    """A stack resource with its properties already made plain."""

    type: str
    name: str
    urn: str
    props: dict[str, Any]
    property_dependencies: dict[str, list[str]] = field(default_factory=dict)
    """Input name -> URNs of the resources it came from."""


def _node(resource: Any) -> Node:
    deps: dict[str, list[str]] = {}
    for key, values in (getattr(resource, "property_dependencies", None) or {}).items():
        deps[key] = [getattr(v, "urn", v) for v in values]
    props = plain(resource.props)
    return Node(resource.resource_type, resource.name, resource.urn,
                props if isinstance(props, dict) else {}, deps)


def _bucket_identities(props: dict[str, Any]) -> set[str]:
    ids: set[str] = set()
    for key in ("bucket", "id", "arn", "bucketDomainName", "bucketRegionalDomainName"):
        value = props.get(key)
        if isinstance(value, str) and value and not is_unknown(value):
            ids.add(value)
    return ids


def _normalise_ref(value: str) -> set[str]:
    """A bucket reference as name, ARN or domain name, in the forms it may be compared in."""
    forms = {value}
    if value.startswith("arn:aws:s3:::"):
        forms.add(value[len("arn:aws:s3:::"):].split("/", 1)[0])
    if ".s3." in value or value.endswith(".s3.amazonaws.com"):
        forms.add(value.split(".s3", 1)[0])
    return forms


_NODE_CACHE: dict[str, Any] = {"key": None, "resources": None, "nodes": None}


def _nodes(policy_resources: Iterable[Any]) -> list[Node]:
    """Plain nodes of the stack's resources, made once per stack: every stack rule of a run
    receives the same resource objects, and making them plain is the costly part."""
    resources = list(policy_resources)
    key = tuple(id(r) for r in resources)
    if _NODE_CACHE["key"] != key:
        _NODE_CACHE.update(key=key, resources=resources, nodes=[_node(r) for r in resources])
    return _NODE_CACHE["nodes"]


class StackIndex:
    """The stack's resources, plain, with buckets findable by URN and by identity."""

    def __init__(self, policy_resources: Iterable[Any]) -> None:
        self.nodes = _nodes(policy_resources)
        self.by_urn = {n.urn: n for n in self.nodes}
        self.buckets = [n for n in self.nodes if n.type in BUCKET_TYPES]
        self._bucket_by_identity: dict[str, Node] = {}
        for bucket in self.buckets:
            for identity in _bucket_identities(bucket.props):
                self._bucket_by_identity[identity] = bucket

    def of_type(self, *types: str) -> list[Node]:
        return [n for n in self.nodes if n.type in types]

    def bucket_for(self, setting: Node, key: str = "bucket") -> Optional[Node]:
        """The bucket ``setting.props[key]`` refers to, by value first, then by dependency."""
        value = setting.props.get(key)
        if isinstance(value, str) and value and not is_unknown(value):
            for form in _normalise_ref(value):
                if form in self._bucket_by_identity:
                    return self._bucket_by_identity[form]
            return None
        if value is None:
            return None
        for urn in setting.property_dependencies.get(key, []):
            node = self.by_urn.get(urn)
            if node is not None and node.type in BUCKET_TYPES:
                return node
        return None

    def settings_of(self, bucket: Node, types: tuple[str, ...], key: str = "bucket") -> list[Node]:
        return [s for s in self.of_type(*types) if self.bucket_for(s, key) is bucket]

    def log_target_buckets(self) -> set[str]:
        """URNs of buckets that receive other resources' logs (S3 access logs, CloudFront,
        CloudWatch delivery); a bucket logging to itself does not make itself a log bucket.

        AWS only delivers S3 server access logs to buckets encrypted with SSE-S3, so these
        buckets are exempt from the customer-key requirement and from logging themselves.
        """
        targets: set[str] = set()
        for setting in self.of_type(*LOGGING):
            target = self.bucket_for(setting, "targetBucket")
            if target is not None and target is not self.bucket_for(setting):
                targets.add(target.urn)
        for bucket in self.buckets:
            for logging in as_list(bucket.props.get("logging")) + as_list(bucket.props.get("loggings")):
                if isinstance(logging, dict):
                    probe = Node("inline", bucket.name, bucket.urn, {"b": logging.get("targetBucket")})
                    target = self.bucket_for(probe, "b")
                    if target is not None and target is not bucket:
                        targets.add(target.urn)
        for distribution in self.of_type(CLOUDFRONT_DISTRIBUTION):
            logging = distribution.props.get("loggingConfig")
            if isinstance(logging, dict):
                probe = Node("inline", distribution.name, distribution.urn,
                             {"bucket": logging.get("bucket")},
                             {"bucket": distribution.property_dependencies.get("loggingConfig", [])})
                target = self.bucket_for(probe)
                if target is not None:
                    targets.add(target.urn)
        for destination in self.of_type(LOG_DELIVERY_DESTINATION):
            arn = dig(destination.props, "deliveryDestinationConfiguration", "destinationResourceArn")
            if is_unknown(arn):
                arn = UNKNOWN
            probe = Node("inline", destination.name, destination.urn, {"bucket": arn},
                         {"bucket": destination.property_dependencies.get(
                             "deliveryDestinationConfiguration", [])})
            target = self.bucket_for(probe)
            if target is not None:
                targets.add(target.urn)
        return targets
