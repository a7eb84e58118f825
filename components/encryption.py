"""``EncryptionKey``: the customer-managed KMS key that encrypts every data object.

The key policy is its own ``aws.kms.KeyPolicy`` resource, created by ``attach_policy``
after the rest of the stack exists. That breaks the cycle key -> bucket -> CloudFront
distribution -> key policy (CloudFront may decrypt only for *this* distribution's ARN).
Until ``attach_policy`` runs, AWS keeps the default policy (account root only).
"""

import json
from typing import TYPE_CHECKING, NotRequired, Optional, Sequence, TypedDict

import pulumi
import pulumi_aws as aws

from . import args_check
from .key_policies import key_policy
from .package import resource_type
from .policy_common import Statement

# No ``from __future__ import annotations`` here: the component provider infers the schema
# from the Args and output annotations at runtime and refuses string annotations.

TYPE_TOKEN = "securestore:encryption:EncryptionKey"


class EncryptionKeyArgs(TypedDict):
    alias_name: pulumi.Input[str]
    """Full alias, ``alias/<prefix>-<stack>``."""
    description: pulumi.Input[str]
    """Shown in the KMS console; say what the key protects."""
    deletion_window_in_days: int
    """Days a scheduled deletion can still be cancelled (7-30)."""
    admin_arns: Sequence[str]
    """IAM roles/users that manage (not use) the key besides the account root (exact ARNs)."""
    account_id: pulumi.Input[str]
    """This account; its root administers the key and its principals use it via S3."""
    region: pulumi.Input[str]
    """Region of the bucket, for ``kms:ViaService = s3.<region>.amazonaws.com``."""
    partition: pulumi.Input[str]
    """ARN partition (``aws``, ``aws-cn``, ``aws-us-gov``)."""
    protect: bool
    """Protect and retain the key (prod): a deleted key makes every object unreadable."""
    tags: pulumi.Input[dict[str, str]]
    """Tags of the key."""
    defer_policies: NotRequired[bool]
    """False (default): the key policy is created now, with the account and S3 grants only. True: created later with grants to resources made after this component, by ``attach_policy()`` in Python or the StorePolicies component from any language."""


class EncryptionKey(pulumi.ComponentResource):
    """A rotated customer-managed KMS key with an alias and a least-privilege policy."""

    if TYPE_CHECKING:  # child resources, for Python callers; not outputs of the package
        key: aws.kms.Key
        alias: aws.kms.Alias
        key_policy: Optional[aws.kms.KeyPolicy]
    key_arn: pulumi.Output[str]
    """ARN of the key: the bucket's default encryption and every grant name it."""
    key_id: pulumi.Output[str]
    """Id of the key."""
    alias_name: pulumi.Output[str]
    """The alias, ``alias/<prefix>-<stack>``."""

    def __init__(
        self, name: str, args: EncryptionKeyArgs, opts: Optional[pulumi.ResourceOptions] = None
    ) -> None:
        self._check(name, args)
        super().__init__(resource_type(TYPE_TOKEN), name, None, opts)
        self._name = name
        self._args = args
        keep = pulumi.ResourceOptions(
            parent=self, protect=args["protect"], retain_on_delete=args["protect"]
        )
        self.key = aws.kms.Key(
            f"{name}-cmk",
            aws.kms.KeyArgs(
                description=args["description"],
                key_usage="ENCRYPT_DECRYPT",
                customer_master_key_spec="SYMMETRIC_DEFAULT",
                enable_key_rotation=True,
                deletion_window_in_days=args["deletion_window_in_days"],
                bypass_policy_lockout_safety_check=False,
                tags=args["tags"],
            ),
            keep,
        )
        self.alias = aws.kms.Alias(
            f"{name}-alias",
            aws.kms.AliasArgs(name=args["alias_name"], target_key_id=self.key.key_id),
            keep,
        )
        self.key_policy = None
        self.key_arn = self.key.arn
        self.key_id = self.key.key_id
        self.alias_name = self.alias.name
        self.register_outputs(
            {"key_arn": self.key_arn, "key_id": self.key_id, "alias_name": self.alias_name}
        )
        if not args.get("defer_policies", False):
            self.attach_policy()

    @staticmethod
    def _check(name: str, args: EncryptionKeyArgs) -> None:
        """The key rules of ``settings``, before anything is registered."""
        args_check.require("EncryptionKey", name, args, EncryptionKeyArgs)
        args_check.check(
            "EncryptionKey",
            name,
            args,
            {"deletion_window_in_days": "kmsDeletionWindowDays", "admin_arns": "kmsAdminArns"},
            args_check.key_rules,
        )

    def attach_policy(
        self,
        extra_statements: pulumi.Input[Sequence[Statement]] = (),
        bucket_arn: Optional[pulumi.Input[str]] = None,
    ) -> aws.kms.KeyPolicy:
        """Create the key policy once every principal it names exists. Call exactly once.

        ``bucket_arn``: S3 may use the key on account principals' behalf for this bucket only."""
        if self.key_policy is not None:
            raise RuntimeError(
                f"{self._name}: the key policy is already attached (pass defer_policies=True "
                "to attach it later, with extra statements)"
            )
        args = self._args
        self.key_policy = create_key_policy(
            self, self._name, key_id=self.key.key_id, account_id=args["account_id"], region=args["region"],
            partition=args["partition"], admin_arns=args["admin_arns"], protect=args["protect"],
            extra_statements=extra_statements, bucket_arn=bucket_arn,
        )
        return self.key_policy


def create_key_policy(
    owner: pulumi.Resource,
    name: str,
    *,
    key_id: pulumi.Input[str],
    account_id: pulumi.Input[str],
    region: pulumi.Input[str],
    partition: pulumi.Input[str],
    admin_arns: Sequence[str],
    protect: bool,
    extra_statements: pulumi.Input[Sequence[Statement]] = (),
    bucket_arn: Optional[pulumi.Input[str]] = None,
) -> aws.kms.KeyPolicy:
    """The key policy ``<name>-policy`` as a child of ``owner``: what
    ``EncryptionKey.attach_policy`` creates, and the ``StorePolicies`` wiring component for a
    program in another language (``components/wiring.py``). ``bucket_arn``: S3 may use the
    key on account principals' behalf for this bucket only."""
    document = pulumi.Output.all(account_id, region, partition, extra_statements, bucket_arn).apply(
        lambda resolved: json.dumps(
            key_policy(
                account_id=resolved[0],
                region=resolved[1],
                partition=resolved[2],
                admin_arns=admin_arns,
                extra_statements=resolved[3],
                bucket_arn=resolved[4],
            )
        )
    )
    return aws.kms.KeyPolicy(
        f"{name}-policy",
        aws.kms.KeyPolicyArgs(key_id=key_id, policy=document, bypass_policy_lockout_safety_check=False),
        # Kept with the key: deleting a KeyPolicy makes AWS restore the default policy
        # (account-wide kms:*), so a retained key must keep this one.
        pulumi.ResourceOptions(parent=owner, protect=protect, retain_on_delete=protect),
    )
