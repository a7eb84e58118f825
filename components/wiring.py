"""``StorePolicies``: the wiring the Python program does last, as a component every language can use.

A store's bucket and key policies grant to resources made after the store (the CloudFront
distribution's ARN, the tenant-isolation denies that name the bucket), so this program creates
the store with ``defer_policies=True`` and attaches the policies last, by calling
``SecureBucket.attach_policies`` and ``EncryptionKey.attach_policy``. A TypeScript, Go or YAML
program cannot call a Python method; it creates this component last instead, passing the
other components' outputs (Outputs are accepted everywhere): the store's names and ARNs, and
the statements ``AccessRoles`` and ``EdgeDelivery`` publish as JSON (``dataBucketStatements``,
``logBucketStatements``, ``keyPolicyStatements``). It creates the same policies, through the same
functions (``storage.create_bucket_policies``, ``encryption.create_key_policy``), so both paths
give the same documents. A store created with ``deferPolicies`` and never wired has no bucket
policy, and the policy pack refuses it (a mandatory violation), so the gap cannot reach a
deployment unnoticed.
"""

import json
from typing import Optional, Sequence, TypedDict

import pulumi

from . import args_check
from .encryption import create_key_policy
from .package import resource_type
from .storage import create_bucket_policies

# No ``from __future__ import annotations`` here: the component provider infers the schema
# from these annotations at run time.

TYPE_TOKEN = "securestore:wiring:StorePolicies"


class StorePoliciesArgs(TypedDict):
    bucket_name: pulumi.Input[str]
    """The data bucket (SecureBucket's bucketName), created with deferPolicies."""
    bucket_arn: pulumi.Input[str]
    """ARN of the data bucket (SecureBucket's bucketArn)."""
    log_bucket_name: pulumi.Input[str]
    """The access-log bucket (SecureBucket's logBucketName)."""
    log_bucket_arn: pulumi.Input[str]
    """ARN of the access-log bucket (SecureBucket's logBucketArn)."""
    kms_key_arn: pulumi.Input[str]
    """The data key (EncryptionKey's keyArn): uploads must use it."""
    kms_key_id: pulumi.Input[str]
    """Id of the data key (EncryptionKey's keyId), created with deferPolicies."""
    sse_algorithm: str
    """``aws:kms``, as given to SecureBucket."""
    account_id: pulumi.Input[str]
    """This account: its root administers the key; only its data bucket writes access logs."""
    region: pulumi.Input[str]
    """Region of the bucket, for the key's ``kms:ViaService = s3.<region>.amazonaws.com``."""
    partition: pulumi.Input[str]
    """ARN partition (``aws``, ``aws-cn``, ``aws-us-gov``)."""
    key_admin_arns: Sequence[str]
    """IAM roles/users that manage (not use) the key, as given to EncryptionKey."""
    protect: bool
    """Protect and retain the policies with the store (prod)."""
    data_bucket_statements: pulumi.Input[Sequence[pulumi.Input[str]]]
    """JSON arrays of statements for the data bucket's policy (AccessRoles' and EdgeDelivery's dataBucketStatements)."""
    log_bucket_statements: pulumi.Input[Sequence[pulumi.Input[str]]]
    """JSON arrays of statements for the log bucket's policy (EdgeDelivery's logBucketStatements)."""
    key_statements: pulumi.Input[Sequence[pulumi.Input[str]]]
    """JSON arrays of statements for the key's policy (EdgeDelivery's and AccessRoles' keyPolicyStatements)."""


def _statements(field: str, documents: pulumi.Input[Sequence[pulumi.Input[str]]]) -> pulumi.Output[list]:
    """The JSON arrays of ``field`` parsed and concatenated; anything else is refused by name."""

    def parse(texts: list) -> list:
        combined = []
        for text in texts:
            value = json.loads(text) if isinstance(text, str) else text
            if not isinstance(value, list) or not all(isinstance(s, dict) for s in value):
                raise ValueError(f"StorePolicies: {args_check.camel_case(field)} items must be JSON arrays of "
                                 f"IAM statements, got {text!r:.120}")
            combined.extend(value)
        return combined

    return pulumi.Output.from_input(documents).apply(parse)  # the list, or its items, may be Outputs


class StorePolicies(pulumi.ComponentResource):
    """The bucket and key policies of a store, with other components' grants: the last step of a program."""

    data_bucket_policy: pulumi.Output[str]
    """The data bucket's policy document."""
    log_bucket_policy: pulumi.Output[str]
    """The log bucket's policy document."""
    key_policy: pulumi.Output[str]
    """The key's policy document."""

    def __init__(
        self, name: str, args: StorePoliciesArgs, opts: Optional[pulumi.ResourceOptions] = None
    ) -> None:
        args_check.require("StorePolicies", name, args, StorePoliciesArgs)
        args_check.check("StorePolicies", name, args, {"sse_algorithm": "sseAlgorithm"}, args_check.key_rules)
        super().__init__(resource_type(TYPE_TOKEN), name, None, opts)
        data_policy, log_policy = create_bucket_policies(
            self, name, bucket_id=args["bucket_name"], bucket_arn=args["bucket_arn"],
            log_bucket_id=args["log_bucket_name"], log_bucket_arn=args["log_bucket_arn"],
            kms_key_arn=args["kms_key_arn"], sse_algorithm=args["sse_algorithm"], account_id=args["account_id"],
            protect=args["protect"],
            data_statements=_statements("data_bucket_statements", args["data_bucket_statements"]),
            log_statements=_statements("log_bucket_statements", args["log_bucket_statements"]),
        )
        key_policy = create_key_policy(
            self, f"{name}-key", key_id=args["kms_key_id"], account_id=args["account_id"], region=args["region"],
            partition=args["partition"], admin_arns=list(args["key_admin_arns"]), protect=args["protect"],
            extra_statements=_statements("key_statements", args["key_statements"]),
            bucket_arn=args["bucket_arn"],
        )
        self.data_bucket_policy = data_policy.policy
        self.log_bucket_policy = log_policy.policy
        self.key_policy = key_policy.policy
        self.register_outputs(
            {
                "data_bucket_policy": self.data_bucket_policy,
                "log_bucket_policy": self.log_bucket_policy,
                "key_policy": self.key_policy,
            }
        )
