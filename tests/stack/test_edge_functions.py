"""The viewer-request guard, run unchanged in Node, and its association on every behaviour.

Attack class: a URI that CloudFront path-normalizes onto another cache behaviour while the
raw URI reaches S3 (RFC 3986 dot segments, percent-encoded in any case or mix, encoded
slashes and backslashes, empty segments, control characters). ``/acme/%2e%2e/public/x``
matches the unsigned ``public/*`` behaviour but reads the tenant's literal key
``acme/../public/x``: tenant-controlled HTML on the CDN host. Node is the witness for the
function's logic (CloudFront's runtime is not available here); the stack tests take the
code from the offline graph, so what is tested is what ``pulumi up`` would deploy.
"""

from __future__ import annotations

import pytest

from components.edge import DENY_UNSIGNED_MARKER, VIEWER_GUARD_MARKER, VIEWER_REQUEST_JS, viewer_guard_code
from securestore.offline.engine import evaluate_stack
from securestore.offline.graph import StackGraph
from support.cloudfront_function import run_viewer_request

DISTRIBUTION = "aws:cloudfront/distribution:Distribution"
FUNCTION = "aws:cloudfront/function:Function"

ATTACK_URIS = (
    "/acme/../public/evil.html",
    "/acme/%2e%2e/public/evil.html",
    "/acme/%2E%2E/public/evil.html",
    "/acme/.%2e/public/evil.html",
    "/acme/%2e./public/evil.html",
    "/acme/%2E./public/evil.html",
    "/public/../acme/invoices/x.pdf",
    "/public/%2e%2e/acme/x.pdf",
    "/public/./x",
    "/public/%2e/x",
    "/public/x/..",
    "/public/x/%2e%2e",
    "/public/x/.",
    "/..",
    "/.",
    "/%2e",
    "/../public/x",
    "//public/x",
    "/public//x",
    "/acme//..//public/x",
    "/public%2fx",
    "/public%2Fx",
    "/acme%2f..%2fpublic/x",
    "/public%5cx",
    "/public%5C..%5Cx",
    "/public\\..\\acme\\x",
    "/public/x\\y",
    "/public/x%00.html",
    "/public/x%0a",
    "/public/x%0D%0A",
    "/public/x%1f",
    "/public/x%7F",
    "/public/x\ty",
    "/public/x\u0000y",
    "acme/x",
    "",
)
LEGIT_URIS = (
    "/",
    "/public/logo.png",
    "/public/marketing/brochure%20(2026).pdf",
    "/acme/invoices/2026/01/31/po-1.pdf",
    "/acme/dir/",
    "/acme/.hidden",
    "/acme/x..y",
    "/acme/.../x",
    "/acme/x.",
    "/acme/..x",
    "/acme/%2e%2ex",
    "/acme/%252e%252e/x",
    "/acme/caf%C3%A9.pdf",
    "/acme/file%20name.pdf",
    "/acme/a+b=c&d.pdf",
    "/public/x%25",
)


@pytest.fixture(scope="module")
def verdicts() -> dict[str, dict]:
    uris = ATTACK_URIS + LEGIT_URIS
    return dict(zip(uris, run_viewer_request(viewer_guard_code(), uris)))


@pytest.mark.parametrize("uri", ATTACK_URIS)
def test_guard_refuses_every_uri_cloudfront_could_normalize_elsewhere(verdicts, uri):
    """Each attack URI (dot segment in any encoding/case/mix, ``//``, ``%2f``, ``%5c``,
    backslash, control character, no leading ``/``) gets 400 before any behaviour runs."""
    assert verdicts[uri] == {"status": 400}


@pytest.mark.parametrize("uri", LEGIT_URIS)
def test_guard_passes_every_other_uri_unchanged(verdicts, uri):
    """Legitimate URIs (dots inside names, trailing ``/``, other percent-escapes) are
    forwarded exactly as they came."""
    assert verdicts[uri] == {"forwarded": True, "uri": uri}


def test_guard_file_carries_the_marker_the_policy_pack_looks_for():
    """The policy pack recognises the guard by its marker line; the switch is off in the file."""
    code = VIEWER_REQUEST_JS.read_text()
    assert VIEWER_GUARD_MARKER in code.splitlines()[0]
    assert DENY_UNSIGNED_MARKER not in code


def _behaviours(graph: StackGraph) -> list[dict]:
    inputs = graph.one(DISTRIBUTION).inputs
    return [inputs["defaultCacheBehavior"], *inputs.get("orderedCacheBehaviors", [])]


def _functions_by_behaviour(graph: StackGraph) -> list[tuple[str, str]]:
    functions = {f.outputs["arn"]: f for f in graph.of_type(FUNCTION)}
    found = []
    for behaviour in _behaviours(graph):
        viewer = [a for a in behaviour.get("functionAssociations", []) if a["eventType"] == "viewer-request"]
        assert len(viewer) == 1, f"{behaviour.get('pathPattern', 'default')}: {viewer}"
        function = functions[viewer[0]["functionArn"]]
        assert function.inputs["runtime"] == "cloudfront-js-2.0" and function.inputs["publish"] is True
        found.append((behaviour.get("pathPattern", "default"), function.inputs["code"]))
    return found


@pytest.fixture(scope="module")
def keyless_graph() -> StackGraph:
    return evaluate_stack("dev", config_overrides={"cloudfrontPublicKeyPem": ""})


def test_every_behaviour_runs_the_guard_in_both_stacks(graph):
    """Default and ``public/*`` behaviours each have the guard as viewer-request function,
    and the deployed code (from the graph) refuses the attack and passes the legit URIs."""
    behaviours = _functions_by_behaviour(graph)
    assert {pattern for pattern, _ in behaviours} == {"default", "public/*"}
    for pattern, code in behaviours:
        assert VIEWER_GUARD_MARKER in code
        results = run_viewer_request(code, ["/acme/%2e%2e/public/evil.html", "//public/x", "/public/logo.png"])
        assert results == [{"status": 400}, {"status": 400}, {"forwarded": True, "uri": "/public/logo.png"}], pattern


def test_keyless_default_behaviour_guards_then_denies_everything(keyless_graph):
    """Without a signer key (dev) the default behaviour's one function is the guard with the
    deny-unsigned switch on: 400 for attack URIs, 403 for every other request; ``public/*``
    still serves (guarded)."""
    behaviours = dict(_functions_by_behaviour(keyless_graph))
    default, public = behaviours["default"], behaviours["public/*"]
    assert DENY_UNSIGNED_MARKER in default and DENY_UNSIGNED_MARKER not in public
    uris = ["/acme/%2e%2e/public/evil.html", "/acme/invoices/x.pdf", "/", "/public/logo.png"]
    assert run_viewer_request(default, uris) == [{"status": 400}, {"status": 403}, {"status": 403}, {"status": 403}]
    assert run_viewer_request(public, uris[-1:]) == [{"forwarded": True, "uri": "/public/logo.png"}]
