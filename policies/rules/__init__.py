"""The securestore CrossGuard rules, one module per AWS service.

Imported as ``policies.rules`` by the tests and the offline runner, and as ``rules`` by
``policies/__main__.py`` when the Pulumi CLI runs the pack with the pack directory on
``sys.path``; the modules import each other relatively so both work.
"""

from __future__ import annotations

from pulumi_policy import Policy

from . import (cloudfront, cloudtrail, destruction, evidence, flow, iam, kms, malware_scan, reach, resource_policies,
               s3, s3_policy, sns, transport)

PACK_NAME = "securestore-storage"
PACK_DESCRIPTION = (
    "Stops any preview that would expose or un-encrypt securestore storage: S3 buckets "
    "(including pulumi-aws v7 split settings and deprecated V2/inline forms), KMS keys, "
    "CloudFront, IAM, SNS and CloudTrail, mapped to AWS Security Hub FSBP controls."
)

ALL_POLICIES: list[Policy] = [
    *s3.POLICIES,
    *s3_policy.POLICIES,
    *kms.POLICIES,
    *cloudfront.POLICIES,
    *iam.POLICIES,
    *sns.POLICIES,
    *cloudtrail.POLICIES,
    *resource_policies.POLICIES,
    *reach.POLICIES,
    *flow.POLICIES,
    *evidence.POLICIES,
    *destruction.POLICIES,
    *transport.POLICIES,
    *malware_scan.POLICIES,
]


def _check_unique_names(policies: list[Policy]) -> None:
    names = [p.name for p in policies]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ValueError(f"policy names must be unique in a pack: {duplicates}")


_check_unique_names(ALL_POLICIES)
