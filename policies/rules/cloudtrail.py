"""CloudTrail rules: trails are multi-region, KMS-encrypted and validate their log files."""

from __future__ import annotations

from pulumi_policy import EnforcementLevel, ReportViolation, ResourceValidationArgs, Severity

from typing import Any, Mapping

from pulumi_policy import StackValidationArgs

from . import effective
from .common import (RuleInfo, as_list, config_value, dig, exemptions_schema, is_unknown, plain, resource_policy,
                     stack_policy, subject, truthy)
from .joins import StackIndex

TRAIL = "aws:cloudtrail/trail:Trail"

MULTI_REGION_INFO = RuleInfo(
    name="cloudtrail-multi-region",
    summary="Every trail is multi-region, so activity in any region is recorded.",
    controls=("CloudTrail.1",),
    severity=Severity.HIGH,
    enforcement=EnforcementLevel.MANDATORY,
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
    enforcement=EnforcementLevel.MANDATORY,
    remediation="Set enable_log_file_validation=True on the aws.cloudtrail.Trail.",
)

LOGGING_INFO = RuleInfo(
    name="cloudtrail-logging-on",
    summary="Every trail is logging (enableLogging not false): a stopped trail records nothing.",
    controls=("CloudTrail.1",),
    severity=Severity.HIGH,
    enforcement=EnforcementLevel.MANDATORY,
    remediation="Leave enable_logging unset or True on the aws.cloudtrail.Trail.",
)

DATA_EVENTS_INFO = RuleInfo(
    name="cloudtrail-data-events",
    summary="Where the stack has a trail (or the pack config requires one), a logging trail records "
    "S3 data events (AWS::S3::Object) for every data bucket's objects.",
    controls=("S3.22", "S3.23"),
    severity=Severity.MEDIUM,
    enforcement=EnforcementLevel.MANDATORY,
    remediation="Add an advanced event selector with eventCategory=Data, resources.type="
    "AWS::S3::Object and resources.ARN startsWith arn:aws:s3:::<data bucket>/ (or no ARN filter).",
)

DATA_EVENTS_SCHEMA = exemptions_schema({
    "required": {
        "type": "boolean",
        "default": False,
        "description": "Require a trail with data events even when the stack defines none (prod).",
    },
})


def _selector_covers(selector: Mapping[str, Any], object_arn: str) -> bool:
    fields = {str(f.get("field")): f for f in as_list(selector.get("fieldSelectors")) if isinstance(f, Mapping)}
    if as_list(dig(fields, "eventCategory", "equals")) != ["Data"]:
        return False
    types = as_list(dig(fields, "resources.type", "equals"))
    if "AWS::S3::Object" not in types:
        return False
    arn_field = fields.get("resources.ARN")
    if arn_field is None:
        return True
    if any(object_arn == v for v in as_list(arn_field.get("equals"))):
        return True
    if any(isinstance(v, str) and object_arn.startswith(v) for v in as_list(arn_field.get("startsWiths"))):
        return True
    return False


def _classic_covers(selector: Mapping[str, Any], object_arn: str) -> bool:
    for resource in as_list(selector.get("dataResources")):
        if isinstance(resource, Mapping) and resource.get("type") == "AWS::S3::Object":
            if any(isinstance(v, str) and (v in ("arn:aws:s3", "arn:aws:s3:::") or object_arn.startswith(v))
                   for v in as_list(resource.get("values"))):
                return True
    return False


def trail_covers(trail: Any, object_arn: str) -> bool:
    props = trail.props
    if props.get("enableLogging") is False:
        return False
    return any(_selector_covers(s, object_arn) for s in as_list(props.get("advancedEventSelectors"))
               if isinstance(s, Mapping)) or \
        any(_classic_covers(s, object_arn) for s in as_list(props.get("eventSelectors")) if isinstance(s, Mapping))


def _validate_data_events(args: StackValidationArgs, report: ReportViolation) -> None:
    index = StackIndex(args.resources)
    trails = index.of_type(TRAIL)
    if not trails and not truthy(config_value(args, "required", False)):
        return
    exempt = set(config_value(args, "exemptResources", []) or [])
    for bucket in effective.data_buckets(index):
        arn = effective.bucket_arn(bucket)
        if arn is None or bucket.name in exempt:
            continue
        if not any(trail_covers(t, f"{arn}/") for t in trails):
            report(DATA_EVENTS_INFO.message(subject(bucket.type, bucket.name),
                                            "no logging trail records S3 data events for its objects, so "
                                            "reads and writes of tenant files leave no audit record."
                                            if trails else "the stack has no CloudTrail trail, and the pack "
                                            "config requires one with data events."), bucket.urn)


def _flag_rule(info: RuleInfo, key: str, problem: str):
    def validate(args: ResourceValidationArgs, report: ReportViolation) -> None:
        if args.resource_type != TRAIL:
            return
        value = plain(args.props).get(key)
        if not is_unknown(value) and not truthy(value):
            report(info.message(subject(args.resource_type, args.name), problem), None)
    return validate


def _validate_logging(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type != TRAIL:
        return
    value = plain(args.props).get("enableLogging")
    if value is not None and not is_unknown(value) and not truthy(value):
        report(LOGGING_INFO.message(subject(args.resource_type, args.name), "enableLogging is false."), None)


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
    resource_policy(LOGGING_INFO, _validate_logging),
    stack_policy(DATA_EVENTS_INFO, _validate_data_events, DATA_EVENTS_SCHEMA),
    resource_policy(VALIDATION_INFO, _flag_rule(VALIDATION_INFO, "enableLogFileValidation",
                                                "enableLogFileValidation is not true.")),
]
