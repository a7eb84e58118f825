"""``components.lazy_args``: the WAF web ACL registered without importing ``pulumi_aws.wafv2``.

The preview skips a ~1 s import by registering the web ACL through a recorded stand-in of
the module instead of its typed classes. The stand-in checks no keyword, so these tests are
where the typed check lives now: the stack evaluated with the real typed module and with
the stand-in must send the engine the same registrations, field for field (type, name,
parent, dependencies, property dependencies, inputs, provider, version, options), and a
misspelt input must make that comparison fail. Class of bug: a drifted or mistyped input
that an untyped path would send on silently (the offline preview has no provider plugin to
reject it).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from google.protobuf import json_format

from components import lazy_args
from components.edge import EdgeDelivery
from securestore.offline import engine
from securestore.offline.engine import ProgramError, evaluate_stack
from securestore.offline.graph import RecordedResource
from support.stack_helpers import named

WEB_ACL = "aws:wafv2/webAcl:WebAcl"
CALL_SITE_FIELDS = ("stackTrace", "sourcePosition")


def registrations(stack: str, mode: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """Every RegisterResource request of one evaluation, as dicts keyed by URN."""
    requests: dict[str, Any] = {}
    register = engine.RecordingMonitor.RegisterResource

    def recording(self, request):
        response = register(self, request)
        sent = json_format.MessageToDict(request)
        for where in CALL_SITE_FIELDS:  # where the call came from, not what it registers
            sent.pop(where, None)
        # Pulumi gathers dependencies in sets: their order varies from run to run.
        sent["dependencies"] = sorted(sent.get("dependencies", []))
        for deps in sent.get("propertyDependencies", {}).values():
            deps["urns"] = sorted(deps.get("urns", []))
        requests[response.urn] = sent
        return response

    with monkeypatch.context() as patch:
        patch.setattr(engine.RecordingMonitor, "RegisterResource", recording)
        with lazy_args.mode(mode):
            graph = evaluate_stack(stack)
    return {"requests": requests, "graph": graph}


def unordered(resource: RecordedResource) -> RecordedResource:
    """The resource with its dependency lists sorted (Pulumi gathers them in sets)."""
    return dataclasses.replace(
        resource,
        dependencies=tuple(sorted(resource.dependencies)),
        property_dependencies={k: tuple(sorted(v)) for k, v in resource.property_dependencies.items()},
    )


def test_recorded_waf_registers_exactly_what_the_typed_classes_register(monkeypatch):
    """Same requests and same recorded graph with ``pulumi_aws.wafv2`` and without it (prod:
    the stack with WAF; dev never reaches ``lazy_args``)."""
    typed = registrations("prod", "typed", monkeypatch)
    recorded = registrations("prod", "recorded", monkeypatch)
    assert named(recorded["graph"], WEB_ACL, "-edge-waf")  # the stack under test has WAF on
    assert recorded["requests"].keys() == typed["requests"].keys()
    for urn, request in typed["requests"].items():
        assert recorded["requests"][urn] == request, urn
    recorded_graph = recorded["graph"].by_urn()
    assert recorded_graph.keys() == typed["graph"].by_urn().keys()
    for urn, resource in typed["graph"].by_urn().items():
        assert unordered(recorded_graph[urn]) == unordered(resource), urn  # every field
    assert recorded["graph"].exports == typed["graph"].exports


def test_preview_does_not_import_wafv2():
    """What the speed-up is for: a fresh `securestore preview --stack prod` never loads it."""
    import subprocess
    import sys

    code = (
        "import contextlib, io, sys\n"
        "from securestore.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    status = main(['preview', '--stack', 'prod', '--json'])\n"
        "from components.lazy_args import is_loaded\n"
        "print(status, is_loaded('pulumi_aws.wafv2'), is_loaded('pulumi_aws.s3'))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["0", "False", "True"], out.stderr


def test_a_misspelt_waf_input_fails_the_typed_evaluation(monkeypatch):
    """The typed check still guards the component: a misspelt keyword raises TypeError in
    typed mode (which the comparison above runs), though the stand-in alone would take it."""

    def misspelt(waf, metric_name):
        return waf.WebAclRuleVisibilityConfigArgs(
            cloudwatch_metric_enabled=True, metric_name=metric_name, sampled_requests_enabled=True
        )

    monkeypatch.setattr(EdgeDelivery, "_rule_visibility", staticmethod(misspelt))
    with lazy_args.mode("typed"), pytest.raises(ProgramError) as failure:
        evaluate_stack("prod")
    assert isinstance(failure.value.__cause__, TypeError)
    assert "cloudwatch_metric_enabled" in str(failure.value.__cause__)
    with lazy_args.mode("recorded"):
        evaluate_stack("prod")  # the gap the comparison test closes


def test_stand_in_refuses_what_it_cannot_register():
    """Only listed resources: anything else would be registered with guessed outputs."""
    waf = lazy_args.RecordedModule("pulumi_aws.wafv2")
    with pytest.raises(AttributeError, match="RuleGroup"):
        waf.RuleGroup
    with pytest.raises(ValueError, match="pulumi_aws.s3"):
        lazy_args.RecordedModule("pulumi_aws.s3")
    with pytest.raises(ValueError, match="mode 'fast'"):
        with lazy_args.mode("fast"):
            pass


def test_pulumi_names_follow_the_generated_getters():
    """Every keyword the component uses maps to the name the typed class serializes."""
    import pulumi_aws.wafv2 as wafv2
    from pulumi import _types

    used = {
        "WebAclArgs": ["scope", "description", "default_action", "rules", "visibility_config", "tags"],
        "WebAclRuleArgs": ["name", "priority", "action", "override_action", "statement",
                           "visibility_config"],
        "WebAclRuleStatementArgs": ["rate_based_statement", "managed_rule_group_statement"],
        "WebAclRuleStatementRateBasedStatementArgs": ["limit", "aggregate_key_type"],
        "WebAclRuleStatementManagedRuleGroupStatementArgs": ["vendor_name", "name"],
        "WebAclVisibilityConfigArgs": ["cloudwatch_metrics_enabled", "metric_name",
                                       "sampled_requests_enabled"],
    }
    for class_name, keywords in used.items():
        names = _types.input_type_py_to_pulumi_names(getattr(wafv2, class_name))
        for keyword in keywords:
            assert lazy_args.pulumi_name(keyword) == names[keyword], (class_name, keyword)


def test_a_program_outside_the_offline_engine_gets_the_typed_classes():
    """Issue 21: a real `pulumi up` must never register the WAF through the untyped stand-in.
    Outside the offline engine (no mode() active, the engine's flag unset) `module()` is the
    real pulumi_aws.wafv2, even when nothing has imported it yet; the stand-in is the engine's
    explicit choice only."""
    import subprocess
    import sys

    code = (
        "import os, types\n"
        "os.environ.pop('SECURESTORE_OFFLINE_ENGINE', None)\n"
        "from components import lazy_args\n"
        "assert not lazy_args.is_loaded('pulumi_aws.wafv2')\n"
        "waf = lazy_args.module('pulumi_aws.wafv2')\n"
        "print(lazy_args.current_mode(), isinstance(waf, types.ModuleType), type(waf.WebAclArgs).__name__)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["typed", "True", "type"], out.stderr


def test_only_the_offline_engine_selects_the_stand_in_and_only_while_it_runs(monkeypatch):
    """Inside evaluate_stack the mode is auto (the WAF is recorded unless loaded); before and
    after it, typed. The engine and lazy_args name the same flag."""
    from securestore.offline import engine

    monkeypatch.delenv(lazy_args.OFFLINE_ENGINE_ENV, raising=False)
    assert engine.OFFLINE_ENGINE_ENV == lazy_args.OFFLINE_ENGINE_ENV
    seen = []
    original = lazy_args.module

    def spy(module_name):
        seen.append(lazy_args.current_mode())
        return original(module_name)

    monkeypatch.setattr(lazy_args, "module", spy)
    assert lazy_args.current_mode() == "typed"
    evaluate_stack("prod")
    assert seen == ["auto"]
    assert lazy_args.current_mode() == "typed"
