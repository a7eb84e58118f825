"""CloudTrail rules: trails are multi-region, KMS-encrypted and validate their log files."""

from __future__ import annotations

from pulumi_policy import EnforcementLevel, ReportViolation, ResourceValidationArgs, Severity

from .common import RuleInfo, is_unknown, plain, resource_policy, subject, truthy

TRAIL = "aws:cloudtrail/trail:Trail"

MULTI_REGION_INFO = RuleInfo(
    name="cloudtrail-multi-region",
    summary="Every trail is multi-region, so activity in any region is recorded.",
    controls=("CloudTrail.1",),
    severity=Severity.HIGH,
    enforcement=EnforcementLevel.ADVISORY,
    remediation="Set is_multi_region_trail=True (and include_global_service_events=True) on "
    "the aws.cloudtrail.Trail.",
)

KMS_INFO = RuleInfo(
    name="cloudtrail-kms-encryption",
    summary="Every trail encrypts its log files with a customer-managed KMS key (SSE-KMS).",
    controls=("CloudTrail.2",),
    severity=Severity.MEDIUM,
    enforcement=EnforcementLevel.MANDATORY,
    remediation="Set kms_key_id on the trail to a KMS key whose policy lets "
    "cloudtrail.amazonaws.com encrypt with aws:SourceArn = the trail ARN.",
)

VALIDATION_INFO = RuleInfo(
    name="cloudtrail-log-file-validation",
    summary="Every trail has log file integrity validation enabled.",
    controls=("CloudTrail.4",),
    severity=Severity.LOW,
    enforcement=EnforcementLevel.ADVISORY,
    remediation="Set enable_log_file_validation=True on the aws.cloudtrail.Trail.",
)


def _flag_rule(info: RuleInfo, key: str, problem: str):
    def validate(args: ResourceValidationArgs, report: ReportViolation) -> None:
        if args.resource_type != TRAIL:
            return
        value = plain(args.props).get(key)
        if not is_unknown(value) and not truthy(value):
            report(info.message(subject(args.resource_type, args.name), problem), None)
    return validate


def _validate_kms(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type != TRAIL:
        return
    key = plain(args.props).get("kmsKeyId")
    if not key and not is_unknown(key):
        report(KMS_INFO.message(subject(args.resource_type, args.name),
                                "kmsKeyId is not set, so logs use SSE-S3 only."), None)


POLICIES = [
    resource_policy(MULTI_REGION_INFO, _flag_rule(MULTI_REGION_INFO, "isMultiRegionTrail",
                                                  "isMultiRegionTrail is not true.")),
    resource_policy(KMS_INFO, _validate_kms),
    resource_policy(VALIDATION_INFO, _flag_rule(VALIDATION_INFO, "enableLogFileValidation",
                                                "enableLogFileValidation is not true.")),
]
