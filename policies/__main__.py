"""Serves the pack to the Pulumi CLI. Only the PolicyPack call lives here: constructing it
starts a gRPC server that never returns, so nothing may import this module."""

from pulumi_policy import EnforcementLevel, PolicyPack

from rules import ALL_POLICIES, PACK_DESCRIPTION, PACK_NAME

PolicyPack(
    name=PACK_NAME,
    description=PACK_DESCRIPTION,
    enforcement_level=EnforcementLevel.MANDATORY,
    policies=ALL_POLICIES,
)
