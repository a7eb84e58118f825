"""``AccessRoles``: the IAM roles through which workloads reach the data bucket.

* Lambda role: trusted by ``lambda.amazonaws.com`` for this account only; writes its own
  ``/aws/lambda/*`` logs (not the AWS managed basic-execution policy, whose ``*`` reaches the
  trail's log group); object read/write/delete; KMS through S3 only.
* EC2 role and instance profile: read-only or read-write, from config.
* Uploader role (seed 001): STS by configured principals with an external id (and MFA),
  tagged with ``tenant_id``; puts and multipart uploads under that tenant's prefix only.
* Tenant role (ABAC): assumed by the backends with a ``tenant_id`` session tag; get, put,
  delete and list only under ``${aws:PrincipalTag/tenant_id}/``.
* Offboarding role: assumed with MFA by untagged officers (``securestore tenant erase``,
  ``export``, ``usage``); lists, reads and erases every version and open upload under any
  tenant prefix (not ``public/``), reads the inventory reports; denied every bucket setting.
* A customer-managed least-privilege policy (seed 003) for the app's other principals.

Documents come from the pure builders in ``role_policies``; this module only wires them.
The bucket-policy half of tenant isolation is ``bucket_policy_statements``, which
``__main__.py`` passes to ``SecureBucket.attach_policies``.
"""

import json
from typing import TYPE_CHECKING, Optional, Sequence, TypedDict

import pulumi
import pulumi_aws as aws

from . import args_check, key_policies, role_policies
from .package import resource_type
from .policy_common import Statement

# No ``from __future__ import annotations`` here: the component provider infers the schema
# from the Args and output annotations at runtime and refuses string annotations.

TYPE_TOKEN = "securestore:access:AccessRoles"


class AccessRolesArgs(TypedDict):
    bucket_arn: pulumi.Input[str]
    """The data bucket every role works on."""
    kms_key_arn: pulumi.Input[str]
    """The bucket's customer-managed key; KMS permissions name only this key."""
    account_id: pulumi.Input[str]
    """Limits the Lambda trust (``aws:SourceAccount``); default uploader principal's account."""
    region: pulumi.Input[str]
    """``kms:ViaService`` is ``s3.<region>.amazonaws.com``."""
    partition: pulumi.Input[str]
    """``aws`` (or ``aws-cn``/``aws-us-gov``): in the AWS managed policy and root ARNs."""
    ec2_access_mode: str
    """``read-only`` or ``read-write``."""
    uploader_trusted_arns: Sequence[str]
    """Principals that may assume the uploader role; empty: this account's root."""
    uploader_external_id: str
    """Required ``sts:ExternalId`` of the uploader role (2-1224 of ``[A-Za-z0-9+=,.@:/_-]``)."""
    uploader_require_mfa: bool
    """Also require ``aws:MultiFactorAuthPresent`` to assume the uploader role."""
    tenant_broker_arns: Optional[Sequence[str]]
    """Roles/users acting for tenants (brokers): they may request any valid ``tenant_id`` on
    the uploader and tenant roles; every other caller only its own principal tag's value.
    Absent or empty: no broker besides the Lambda and read-write EC2 roles (tenant role)."""
    permissions_boundary_arn: Optional[str]
    """IAM policy ARN set as permissions boundary on every role; absent or empty: none."""
    max_session_duration_seconds: int
    """Longest session of every role (3600-43200)."""
    tags: pulumi.Input[dict[str, str]]
    """Tags of every role, the instance profile and the managed policy."""
    offboarding_trusted_arns: Optional[Sequence[str]]
    """Principals that may assume the offboarding role (with MFA, untagged); absent or empty:
    this account's root (principals of the account allowed ``sts:AssumeRole`` on it)."""
    log_bucket_arn: Optional[pulumi.Input[str]]
    """The log bucket holding the S3 Inventory reports the offboarding role may read; absent:
    no inventory access."""


class AccessRoles(pulumi.ComponentResource):
    """The Lambda, EC2, uploader and tenant roles, and the least-privilege managed policy."""

    if TYPE_CHECKING:  # child resources, for Python callers; not outputs of the package
        lambda_role: aws.iam.Role
        ec2_role: aws.iam.Role
        ec2_instance_profile: aws.iam.InstanceProfile
        uploader_role: aws.iam.Role
        tenant_role: aws.iam.Role
        offboarding_role: aws.iam.Role
        least_privilege_policy: aws.iam.Policy
        tenant_boundary: aws.iam.Policy
    lambda_role_arn: pulumi.Output[str]
    """Role of backend functions: read/write/delete in the data bucket."""
    ec2_role_arn: pulumi.Output[str]
    """Role of application servers (read-only or read-write)."""
    ec2_instance_profile_name: pulumi.Output[str]
    """Instance profile of the EC2 role."""
    uploader_role_arn: pulumi.Output[str]
    """Role assumed through STS (external id, ``tenant_id`` session tag) to upload."""
    tenant_role_arn: pulumi.Output[str]
    """Tenant-scoped role (ABAC): only ``${aws:PrincipalTag/tenant_id}/`` in the bucket."""
    least_privilege_policy_arn: pulumi.Output[str]
    """Customer-managed least-privilege policy for the app's other principals."""
    data_bucket_statements: pulumi.Output[str]
    """JSON array: the data bucket's tenant-confinement denies (for StorePolicies)."""
    key_policy_statements: pulumi.Output[str]
    """JSON array: the data key's denies (tenant sessions use it only through S3 for the data bucket; no workload role administers it), for StorePolicies."""
    offboarding_role_arn: pulumi.Output[str]
    """Role that erases and exports tenants (MFA, untagged callers only)."""

    def __init__(
        self, name: str, args: AccessRolesArgs, opts: Optional[pulumi.ResourceOptions] = None
    ) -> None:
        args = self._check(name, args)
        super().__init__(resource_type(TYPE_TOKEN), name, None, opts)
        self._name = name
        self._args = args
        child = pulumi.ResourceOptions(parent=self)
        resources = pulumi.Output.all(args["bucket_arn"], args["kms_key_arn"], args["region"])
        # The ceiling of every role a tenant session runs as, created by the stack and always
        # attached (a configured permissionsBoundaryArn applies to the other roles).
        self.tenant_boundary = aws.iam.Policy(
            f"{name}-tenant-boundary",
            aws.iam.PolicyArgs(
                description="Permissions boundary of tenant sessions: their own prefix and the data key through S3",
                policy=resources.apply(
                    lambda r: json.dumps(role_policies.tenant_boundary(bucket_arn=r[0], kms_key_arn=r[1], region=r[2]))
                ),
                tags=args["tags"],
            ),
            child,
        )

        self.lambda_role = self._role(
            "lambda",
            "Backend functions: read/write/delete tenant files in the data bucket",
            pulumi.Output.from_input(args["account_id"]).apply(
                lambda account: json.dumps(
                    role_policies.service_trust_policy("lambda.amazonaws.com", account)
                )
            ),
        )
        self.ec2_role = self._role(
            "ec2",
            f"Application servers: {args['ec2_access_mode']} access to the data bucket",
            json.dumps(role_policies.service_trust_policy("ec2.amazonaws.com")),
        )
        self.ec2_instance_profile = aws.iam.InstanceProfile(
            f"{name}-ec2-profile",
            aws.iam.InstanceProfileArgs(role=self.ec2_role.name, tags=args["tags"]),
            child,
        )

        self.uploader_role = self._role(
            "uploader",
            "Uploader (STS, external id, tenant_id session tag): uploads under its tenant prefix",
            self._uploader_trust(),
            boundary=self.tenant_boundary.arn,
        )

        backends = [self.lambda_role.arn]
        if args["ec2_access_mode"] == "read-write":
            backends.append(self.ec2_role.arn)
        self.tenant_role = self._role(
            "tenant",
            "Tenant-scoped access (ABAC): only ${aws:PrincipalTag/tenant_id}/ in the data bucket",
            pulumi.Output.all(*backends).apply(
                lambda arns: json.dumps(
                    role_policies.tenant_role_trust_policy(arns, self._brokers())
                )
            ),
            boundary=self.tenant_boundary.arn,
        )

        tenant_arn = self.tenant_role.arn
        self._inline(
            self.lambda_role,
            "lambda-data-access",
            pulumi.Output.all(resources, tenant_arn, args["account_id"], args["partition"]).apply(
                lambda r: role_policies.lambda_policy(
                    bucket_arn=r[0][0], kms_key_arn=r[0][1], region=r[0][2], tenant_role_arn=r[1],
                    function_logs_arn=role_policies.function_log_groups(r[0][2], r[2], r[3]),
                )
            ),
        )
        self._inline(
            self.ec2_role,
            "ec2-data-access",
            pulumi.Output.all(resources, tenant_arn).apply(
                lambda r: role_policies.ec2_policy(
                    mode=args["ec2_access_mode"],
                    bucket_arn=r[0][0],
                    kms_key_arn=r[0][1],
                    region=r[0][2],
                    tenant_role_arn=r[1],
                )
            ),
        )
        self._inline(
            self.uploader_role,
            "uploader-tenant-uploads",
            resources.apply(
                lambda r: role_policies.uploader_policy(
                    bucket_arn=r[0], kms_key_arn=r[1], region=r[2]
                )
            ),
        )
        self._inline(
            self.tenant_role,
            "tenant-prefix-access",
            resources.apply(
                lambda r: role_policies.tenant_policy(bucket_arn=r[0], kms_key_arn=r[1], region=r[2])
            ),
        )

        self.offboarding_role = self._role(
            "offboarding",
            "Tenant offboarding (MFA, untagged): erase and export any tenant; no bucket settings",
            pulumi.Output.all(args["account_id"], args["partition"]).apply(
                lambda a: json.dumps(
                    role_policies.offboarding_trust_policy(
                        list(args.get("offboarding_trusted_arns") or ()) or [f"arn:{a[1]}:iam::{a[0]}:root"]
                    )
                )
            ),
        )
        self._inline(
            self.offboarding_role,
            "offboarding-erase-export",
            pulumi.Output.all(resources, args.get("log_bucket_arn")).apply(
                lambda r: role_policies.offboarding_policy(
                    bucket_arn=r[0][0], kms_key_arn=r[0][1], region=r[0][2], log_bucket_arn=r[1]
                )
            ),
        )

        self.least_privilege_policy = aws.iam.Policy(
            f"{name}-least-privilege",
            aws.iam.PolicyArgs(
                description="Least-privilege access to the data bucket and its key (through S3 only)",
                policy=resources.apply(
                    lambda r: json.dumps(
                        role_policies.least_privilege_policy(
                            bucket_arn=r[0], kms_key_arn=r[1], region=r[2]
                        )
                    )
                ),
                tags=args["tags"],
            ),
            child,
        )

        self.lambda_role_arn = self.lambda_role.arn
        self.ec2_role_arn = self.ec2_role.arn
        self.ec2_instance_profile_name = self.ec2_instance_profile.name
        self.uploader_role_arn = self.uploader_role.arn
        self.tenant_role_arn = self.tenant_role.arn
        self.least_privilege_policy_arn = self.least_privilege_policy.arn
        # bucket_policy_statements() as JSON, an output for a program in another language
        self.data_bucket_statements = self.bucket_policy_statements().apply(json.dumps)
        self.key_policy_statements = self.key_statements().apply(json.dumps)
        self.offboarding_role_arn = self.offboarding_role.arn
        self.register_outputs(
            {
                "lambda_role_arn": self.lambda_role_arn,
                "ec2_role_arn": self.ec2_role_arn,
                "ec2_instance_profile_name": self.ec2_instance_profile_name,
                "uploader_role_arn": self.uploader_role_arn,
                "tenant_role_arn": self.tenant_role_arn,
                "least_privilege_policy_arn": self.least_privilege_policy_arn,
                "data_bucket_statements": self.data_bucket_statements,
                "key_policy_statements": self.key_policy_statements,
                "offboarding_role_arn": self.offboarding_role_arn,
            }
        )

    @staticmethod
    def _check(name: str, args: AccessRolesArgs) -> AccessRolesArgs:
        """The access rules of ``settings``, before anything is registered."""
        component = "AccessRoles"
        args_check.require(component, name, args, AccessRolesArgs)
        if not args["uploader_external_id"]:
            raise args_check.ComponentArgsError(
                component, name, "uploader_external_id", "", "a unique external id (2-1224 of [A-Za-z0-9+=,.@:/_-])"
            )
        args_check.check(
            component,
            name,
            args,
            {
                "ec2_access_mode": "ec2AccessMode",
                "uploader_trusted_arns": "uploaderTrustedPrincipalArns",
                "uploader_external_id": "uploaderExternalId",
                "uploader_require_mfa": "uploaderRequireMfa",
                "tenant_broker_arns": "tenantBrokerPrincipalArns",
                "offboarding_trusted_arns": "offboardingTrustedPrincipalArns",
                "permissions_boundary_arn": "permissionsBoundaryArn",
                "max_session_duration_seconds": "roleMaxSessionSeconds",
            },
            args_check.access_rules,
        )
        return AccessRolesArgs(
            **{"permissions_boundary_arn": None, "offboarding_trusted_arns": None, "log_bucket_arn": None, **args}
        )  # type: ignore[typeddict-item]

    def _role(self, role: str, description: str, trust: pulumi.Input[str],
              boundary: Optional[pulumi.Input[str]] = None) -> aws.iam.Role:
        """``boundary``: the stack's tenant boundary (tagged roles); else the configured one."""
        args = self._args
        return aws.iam.Role(
            f"{self._name}-{role}",
            aws.iam.RoleArgs(
                description=description,
                assume_role_policy=trust,
                max_session_duration=args["max_session_duration_seconds"],
                permissions_boundary=boundary or args["permissions_boundary_arn"] or None,
                tags=args["tags"],
            ),
            pulumi.ResourceOptions(parent=self),
        )

    def _inline(self, role: aws.iam.Role, suffix: str, document: pulumi.Output[dict]) -> None:
        aws.iam.RolePolicy(
            f"{self._name}-{suffix}",
            aws.iam.RolePolicyArgs(role=role.id, policy=document.apply(json.dumps)),
            pulumi.ResourceOptions(parent=self),
        )

    def _brokers(self) -> list[str]:
        return list(self._args.get("tenant_broker_arns") or ())

    def _uploader_trust(self) -> pulumi.Output[str]:
        """Configured principals, or this account's root when none are configured; they get
        only their own tenant. The configured brokers get any tenant."""
        args = self._args
        configured = list(args["uploader_trusted_arns"])
        return pulumi.Output.all(args["account_id"], args["partition"]).apply(
            lambda a: json.dumps(
                role_policies.uploader_trust_policy(
                    configured or [f"arn:{a[1]}:iam::{a[0]}:root"],
                    args["uploader_external_id"],
                    args["uploader_require_mfa"],
                    self._brokers(),
                )
            )
        )

    def workload_role_arns(self) -> pulumi.Output[list[str]]:
        """The roles that run application code: none of them may administer a key."""
        return pulumi.Output.all(
            self.lambda_role.arn, self.ec2_role.arn, self.uploader_role.arn, self.tenant_role.arn
        ).apply(list)

    def key_statements(self) -> pulumi.Output[list[Statement]]:
        """Data-key statements: tenant sessions use it only through S3 for the data bucket;
        no workload role administers it (``key_policies.data_key_isolation_statements``)."""
        read_only = self._args["ec2_access_mode"] == "read-only"
        writers = [self.lambda_role.arn, self.uploader_role.arn, self.tenant_role.arn]
        writers += [] if read_only else [self.ec2_role.arn]
        return pulumi.Output.all(
            self._args["bucket_arn"], self._args["region"], pulumi.Output.all(*writers),
            pulumi.Output.all(*([self.ec2_role.arn] if read_only else [])),
        ).apply(
            lambda a: key_policies.data_key_isolation_statements(
                bucket_arn=a[0], region=a[1], workload_role_arns=a[2], read_only_role_arns=a[3]
            )
        )

    def bucket_policy_statements(self) -> pulumi.Output[list[Statement]]:
        """Data-bucket statements that confine ``tenant_id``-tagged principals to their prefix."""
        return pulumi.Output.from_input(self._args["bucket_arn"]).apply(
            role_policies.tenant_isolation_statements
        )
