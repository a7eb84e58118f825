"""Mocks that answer like AWS: realistic ids, ARNs, bucket names and domain names.

A mock that returns no ``arn`` lets a policy read ``None/*`` and still pass, so every type
the program creates has its computed fields here. Ids are derived from the logical name,
so two evaluations of the same stack give the same graph. An invoke the program makes and
these mocks do not know fails loudly rather than answering ``{}``.
"""

from __future__ import annotations

import hashlib
import threading
import uuid
from typing import Any, Callable

import pulumi

DEFAULT_ACCOUNT_ID = "123456789012"
DEFAULT_REGION = "us-east-1"
CLOUDFRONT_HOSTED_ZONE_ID = "Z2FDTNDATAQYW2"

# Ids of AWS managed CloudFront policies (the same in every account).
MANAGED_CACHE_POLICIES = {
    "Managed-CachingOptimized": "658327ea-f89d-4fab-a63d-7e88639e58f6",
    "Managed-CachingDisabled": "4135ea2d-6df8-44a3-9df3-4b5a84be39ad",
}
MANAGED_ORIGIN_REQUEST_POLICIES = {
    "Managed-CORS-S3Origin": "88a5eaf4-2fd4-4709-b370-b4c650ea3fcf",
    "Managed-AllViewerExceptHostHeader": "b689b0a8-53d0-40ab-baf2-68738e2966ac",
}
MANAGED_RESPONSE_HEADERS_POLICIES = {
    "Managed-SecurityHeadersPolicy": "67f7725c-6f97-4210-82d7-5512b31e9d03",
}

State = dict[str, Any]


def _digest(*parts: str) -> str:
    return hashlib.sha256("/".join(parts).encode()).hexdigest()


class RealisticMocks(pulumi.runtime.Mocks):
    """Computed outputs for the AWS types this program uses, in one account and region."""

    def __init__(self, account_id: str = DEFAULT_ACCOUNT_ID, region: str = DEFAULT_REGION):
        self.account_id = account_id
        self.region = region
        self._resources: dict[str, Callable[[str, State, str], tuple[str, State]]] = {
            "aws:s3/bucket:Bucket": self._bucket,
            "aws:s3/bucketV2:BucketV2": self._bucket,
            "aws:kms/key:Key": self._kms_key,
            "aws:kms/alias:Alias": self._kms_alias,
            "aws:iam/role:Role": self._iam_named("role", "AROA"),
            "aws:iam/policy:Policy": self._iam_named("policy", "ANPA"),
            "aws:iam/user:User": self._iam_named("user", "AIDA"),
            "aws:iam/instanceProfile:InstanceProfile": self._iam_named("instance-profile", "AIPA"),
            "aws:cloudfront/distribution:Distribution": self._distribution,
            "aws:sns/topic:Topic": self._sns_topic,
            "aws:cloudtrail/trail:Trail": self._trail,
            "aws:wafv2/webAcl:WebAcl": self._web_acl,
            "aws:cloudwatch/logGroup:LogGroup": self._log_group,
            "aws:cloudfront/originAccessControl:OriginAccessControl": self._cloudfront_id("E"),
            "aws:cloudfront/publicKey:PublicKey": self._cloudfront_public_key,
            "aws:cloudfront/keyGroup:KeyGroup": self._cloudfront_uuid,
            "aws:cloudfront/responseHeadersPolicy:ResponseHeadersPolicy": self._cloudfront_uuid,
            "aws:cloudfront/function:Function": self._cloudfront_function,
            "aws:cloudwatch/logDeliverySource:LogDeliverySource": self._delivery_named("delivery-source"),
            "aws:cloudwatch/logDeliveryDestination:LogDeliveryDestination": self._delivery_named(
                "delivery-destination"
            ),
            "aws:cloudwatch/logDelivery:LogDelivery": self._log_delivery,
            "aws:sns/topicSubscription:TopicSubscription": self._sns_subscription,
            "aws:guardduty/malwareProtectionPlan:MalwareProtectionPlan": self._malware_plan,
            "aws:cloudwatch/eventRule:EventRule": self._event_rule,
        }
        self._provider_regions: dict[str, str] = {}
        """Provider id -> region, so resources of an explicit us-east-1 provider get us-east-1 ARNs."""
        self._local = threading.local()
        """Region of the resource being made: registrations arrive on executor threads."""

    # --- helpers --------------------------------------------------------------------
    def _arn(self, service: str, resource: str, *, region: bool = True, account: bool = True) -> str:
        return (
            f"arn:aws:{service}:{getattr(self._local, 'region', self.region) if region else ''}:"
            f"{self.account_id if account else ''}:{resource}"
        )

    @staticmethod
    def _auto_name(name: str, inputs: State, key: str = "name", max_len: int = 64) -> str:
        """Pulumi's autonaming: the logical name plus seven random characters."""
        if inputs.get(key):
            return inputs[key]
        prefix = inputs.get(f"{key}Prefix")
        if prefix:
            return (prefix + _digest(name)[:26])[:max_len]
        return f"{name}-{_digest(name)[:7]}"[:max_len]

    # --- resource types -------------------------------------------------------------
    def _bucket(self, name: str, inputs: State, digest: str) -> tuple[str, State]:
        bucket = self._auto_name(name, inputs, key="bucket", max_len=63)
        return bucket, {
            "bucket": bucket,
            "arn": f"arn:aws:s3:::{bucket}",
            "bucketDomainName": f"{bucket}.s3.amazonaws.com",
            "bucketRegionalDomainName": f"{bucket}.s3.{self.region}.amazonaws.com",
            "region": self.region,
            "hostedZoneId": "Z3AQBSTGFYJSTF",
        }

    def _kms_key(self, name: str, inputs: State, digest: str) -> tuple[str, State]:
        key_id = str(uuid.UUID(digest[:32]))
        return key_id, {"keyId": key_id, "arn": self._arn("kms", f"key/{key_id}")}

    def _kms_alias(self, name: str, inputs: State, digest: str) -> tuple[str, State]:
        alias = inputs.get("name") or f"alias/{name}"
        target = inputs.get("targetKeyId", "")
        return alias, {
            "name": alias,
            "arn": self._arn("kms", alias),
            "targetKeyArn": self._arn("kms", f"key/{target}"),
        }

    def _iam_named(self, kind: str, id_prefix: str) -> Callable[[str, State, str], tuple[str, State]]:
        def make(name: str, inputs: State, digest: str) -> tuple[str, State]:
            physical = self._auto_name(name, inputs)
            path = inputs.get("path") or "/"
            state: State = {
                "name": physical,
                "arn": self._arn("iam", f"{kind}{path}{physical}", region=False),
                "uniqueId": id_prefix + digest[:17].upper(),
            }
            if kind == "policy":
                state["policyId"] = state.pop("uniqueId")
            return (state["arn"] if kind == "policy" else physical), state

        return make

    def _distribution(self, name: str, inputs: State, digest: str) -> tuple[str, State]:
        dist_id = "E" + digest[:13].upper()
        return dist_id, {
            "arn": self._arn("cloudfront", f"distribution/{dist_id}", region=False),
            "domainName": f"d{digest[:13]}.cloudfront.net",
            "hostedZoneId": CLOUDFRONT_HOSTED_ZONE_ID,
            "status": "Deployed",
            "etag": "E" + digest[13:26].upper(),
            "callerReference": digest[:20],
        }

    def _sns_topic(self, name: str, inputs: State, digest: str) -> tuple[str, State]:
        topic = self._auto_name(name, inputs, max_len=256)
        arn = self._arn("sns", topic)
        return arn, {"name": topic, "arn": arn}

    def _trail(self, name: str, inputs: State, digest: str) -> tuple[str, State]:
        trail = self._auto_name(name, inputs, max_len=128)
        arn = self._arn("cloudtrail", f"trail/{trail}")
        return arn, {"name": trail, "arn": arn, "homeRegion": self.region}

    def _web_acl(self, name: str, inputs: State, digest: str) -> tuple[str, State]:
        acl = self._auto_name(name, inputs, max_len=128)
        acl_id = str(uuid.UUID(digest[:32]))
        scope = "global" if inputs.get("scope") == "CLOUDFRONT" else "regional"
        region = "us-east-1" if scope == "global" else self.region
        arn = f"arn:aws:wafv2:{region}:{self.account_id}:{scope}/webacl/{acl}/{acl_id}"
        return acl_id, {"name": acl, "arn": arn, "lockToken": digest[32:40]}

    def _log_group(self, name: str, inputs: State, digest: str) -> tuple[str, State]:
        group = self._auto_name(name, inputs, max_len=512)
        return group, {"name": group, "arn": self._arn("logs", f"log-group:{group}")}

    def _cloudfront_id(self, first: str) -> Callable[[str, State, str], tuple[str, State]]:
        """CloudFront ids: 13-14 upper-case characters (OAC, public key)."""

        def make(name: str, inputs: State, digest: str) -> tuple[str, State]:
            resource_id = first + digest[:13].upper()
            return resource_id, {"etag": "E" + digest[13:26].upper()}

        return make

    def _cloudfront_public_key(self, name: str, inputs: State, digest: str) -> tuple[str, State]:
        key_id = "K" + digest[:13].upper()
        return key_id, {
            "name": self._auto_name(name, inputs, max_len=128),
            "etag": "E" + digest[13:26].upper(),
            "callerReference": digest[:20],
        }

    def _cloudfront_uuid(self, name: str, inputs: State, digest: str) -> tuple[str, State]:
        """Key groups and response headers policies have UUID ids."""
        return str(uuid.UUID(digest[:32])), {
            "name": self._auto_name(name, inputs, max_len=128),
            "etag": "E" + digest[13:26].upper(),
        }

    def _cloudfront_function(self, name: str, inputs: State, digest: str) -> tuple[str, State]:
        function = self._auto_name(name, inputs)
        return function, {
            "name": function,
            "arn": self._arn("cloudfront", f"function/{function}", region=False),
            "etag": "E" + digest[13:26].upper(),
            "status": "DEPLOYED",
            "liveStageEtag": "E" + digest[26:39].upper(),
        }

    def _delivery_named(self, kind: str) -> Callable[[str, State, str], tuple[str, State]]:
        """CloudWatch log delivery sources and destinations: ARN from the name."""

        def make(name: str, inputs: State, digest: str) -> tuple[str, State]:
            physical = self._auto_name(name, inputs, max_len=60)
            state: State = {"name": physical, "arn": self._arn("logs", f"{kind}:{physical}")}
            if kind == "delivery-source":
                state["service"] = "cloudfront"
            if kind == "delivery-destination":
                state["deliveryDestinationType"] = "S3"
            return physical, state

        return make

    def _log_delivery(self, name: str, inputs: State, digest: str) -> tuple[str, State]:
        delivery_id = digest[:16]
        return delivery_id, {"arn": self._arn("logs", f"delivery:{delivery_id}")}

    def _sns_subscription(self, name: str, inputs: State, digest: str) -> tuple[str, State]:
        arn = f"{inputs.get('topic', self._arn('sns', 'topic'))}:{uuid.UUID(digest[:32])}"
        return arn, {"arn": arn, "pendingConfirmation": inputs.get("protocol") == "email"}

    def _malware_plan(self, name: str, inputs: State, digest: str) -> tuple[str, State]:
        """GuardDuty plan ids are 20 lowercase hex characters; the plan is ACTIVE once created."""
        plan_id = digest[:20]
        return plan_id, {"arn": self._arn("guardduty", f"malware-protection-plan/{plan_id}"), "status": "ACTIVE"}

    def _event_rule(self, name: str, inputs: State, digest: str) -> tuple[str, State]:
        """A rule on the default bus; its id is its name."""
        rule = self._auto_name(name, inputs)
        return rule, {"name": rule, "arn": self._arn("events", f"rule/{rule}")}

    def _generic(self, type_: str, name: str, inputs: State, digest: str) -> tuple[str, State]:
        """Any other type: a stable id, and an ARN only if the provider would compute one."""
        return f"{name}-{digest[:8]}", {}

    # --- pulumi.runtime.Mocks -------------------------------------------------------
    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict]:
        inputs = dict(args.inputs)
        if not args.custom:
            return "", {}
        if args.typ.startswith("pulumi:providers:"):
            provider_id = f"{args.name}-provider"
            if inputs.get("region"):
                self._provider_regions[provider_id] = inputs["region"]
            return provider_id, inputs
        digest = _digest(args.typ, args.name)
        maker = self._resources.get(args.typ)
        provider_id = (args.provider or "").rsplit("::", 1)[-1]
        self._local.region = inputs.get("region") or self._provider_regions.get(
            provider_id, self.region
        )
        try:
            if maker is None:
                id_, computed = self._generic(args.typ, args.name, inputs, digest)
            else:
                id_, computed = maker(args.name, inputs, digest)
        finally:
            self._local.region = self.region
        return id_, {**inputs, **computed, "id": id_}

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict, list]:
        token = args.token
        if token == "aws:index/getCallerIdentity:getCallerIdentity":
            return {
                "accountId": self.account_id,
                "arn": f"arn:aws:iam::{self.account_id}:user/offline-preview",
                "userId": "AIDAOFFLINEPREVIEW0001",
                "id": self.account_id,
            }, []
        if token == "aws:index/getRegion:getRegion":
            return {
                "name": self.region,
                "region": self.region,
                "id": self.region,
                "endpoint": f"ec2.{self.region}.amazonaws.com",
                "description": self.region,
            }, []
        if token == "aws:index/getPartition:getPartition":
            return {
                "partition": "aws",
                "dnsSuffix": "amazonaws.com",
                "id": "aws",
                "reverseDnsPrefix": "com.amazonaws",
            }, []
        if token == "aws:cloudfront/getCachePolicy:getCachePolicy":
            return self._managed(MANAGED_CACHE_POLICIES, args.args, token), []
        if token == "aws:cloudfront/getOriginRequestPolicy:getOriginRequestPolicy":
            return self._managed(MANAGED_ORIGIN_REQUEST_POLICIES, args.args, token), []
        if token == "aws:cloudfront/getResponseHeadersPolicy:getResponseHeadersPolicy":
            return self._managed(MANAGED_RESPONSE_HEADERS_POLICIES, args.args, token), []
        from .data_sources import answer

        found = answer(token, args.args or {}, self.account_id, self.region)
        if found is not None:
            return found, []
        raise NotImplementedError(
            f"offline mocks do not answer invoke {token}; add it to securestore/offline/mocks.py"
        )

    @staticmethod
    def _managed(table: dict[str, str], call_args: dict, token: str) -> dict:
        name = call_args.get("name")
        if name not in table:
            raise LookupError(f"{token}: no managed policy named {name!r} (known: {sorted(table)})")
        return {"id": table[name], "name": name}
