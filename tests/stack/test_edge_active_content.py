"""Active content never runs on the file host: the private paths' viewer-response function
(``components/edge_functions/viewer_response.js``), run unchanged in Node, as the stacks
deploy it (code read from the offline graph).

Attack class: active content on the shared file host. One tenant stores HTML or SVG; served
inline from the host whose cookies every tenant's browser carries, its script would read other
paths with a victim's cookies (RFC 6265 section 8.5). Every private response gets a
``sandbox`` CSP and every type not on the inline-safe list ``Content-Disposition:
attachment``. Node is the witness for the function's logic; the Chromium test
(``tests/localstack/browser/test_active_content.py``) shows the headers make stored HTML and
SVG inert in a real browser.
"""

from __future__ import annotations

import pytest

from components.edge import INLINE_SAFE_MARKER, viewer_response_code
from components.settings import DEFAULTS, SettingsError, parse
from securestore.content_types import ACTIVE_CONTENT_TYPES
from support.cloudfront_function import run_viewer_response

FUNCTION = "aws:cloudfront/function:Function"
DISTRIBUTION = "aws:cloudfront/distribution:Distribution"
ACTIVE = sorted(ACTIVE_CONTENT_TYPES) + ["TEXT/HTML", "text/html; charset=utf-8", "image/svg+xml;charset=x",
                                         "application/atom+xml", None, "", "application/octet-stream"]
SAFE = ["application/pdf", "image/png", "image/jpeg", "text/plain", "text/plain; charset=utf-8", "IMAGE/PNG"]


def _deployed(graph) -> str:
    (function,) = [f for f in graph.of_type(FUNCTION) if f.name.endswith("-viewer-response")]
    return function.inputs["code"]


def test_every_private_response_is_sandboxed_and_active_types_are_downloads(graph):
    """For every active type (and an absent or unknown one): sandbox CSP and attachment; for
    the inline-safe defaults: sandbox CSP, served inline."""
    results = run_viewer_response(_deployed(graph), ACTIVE + SAFE)
    for content_type, headers in zip(ACTIVE + SAFE, results):
        assert headers["content-security-policy"].startswith("sandbox"), content_type
        downloaded = headers.get("content-disposition") == "attachment"
        assert downloaded is (content_type not in SAFE), content_type


def test_the_function_runs_on_private_paths_only(graph):
    """Viewer-response on the default (private) behaviour; ``public/*`` keeps its assets inline."""
    distribution = graph.one(DISTRIBUTION)
    (function,) = [f for f in graph.of_type(FUNCTION) if f.name.endswith("-viewer-response")]
    default = distribution.inputs["defaultCacheBehavior"]["functionAssociations"]
    assert {"eventType": "viewer-response", "functionArn": function.outputs["arn"]} in default
    for behaviour in distribution.inputs["orderedCacheBehaviors"]:
        assert all(a["eventType"] != "viewer-response" for a in behaviour.get("functionAssociations", []))


def test_the_inline_safe_list_comes_from_config():
    """``inlineContentTypes`` replaces the default list; the deployed code keeps one marker line."""
    code = viewer_response_code(["image/png"])
    assert code.count(INLINE_SAFE_MARKER) == 1
    pdf, png = run_viewer_response(code, ["application/pdf", "image/png"])
    assert pdf["content-disposition"] == "attachment" and "content-disposition" not in png


@pytest.mark.parametrize("bad", ["text/html", "image/svg+xml", "application/xhtml+xml", "text/javascript",
                                 "text/css", "application/pdf; x=1", "PDF", ""])
def test_an_active_or_malformed_inline_type_is_refused_in_settings(bad):
    with pytest.raises(SettingsError, match="inlineContentTypes"):
        parse({"inlineContentTypes": [bad]}, project="securestore", stack="dev")


def test_defaults_are_the_functions_own_list():
    """Pulumi.yaml's default and the JavaScript file's default line agree."""
    assert run_viewer_response(viewer_response_code(DEFAULTS["inlineContentTypes"]), SAFE) == \
        run_viewer_response(viewer_response_code(["application/pdf", "image/gif", "image/jpeg", "image/png",
                                                  "image/webp", "text/plain"]), SAFE)


@pytest.mark.parametrize("enabled", [True, False])
def test_ipv6_follows_config(enabled):
    """``cloudfrontIpv6Enabled`` (default true) sets the distribution's IPv6; the client refuses
    IP-restricted signing while it is on (tests/client/test_cloudfront_signing.py)."""
    from securestore.offline.engine import evaluate_stack

    graph = evaluate_stack("dev", config_overrides={} if enabled else {"cloudfrontIpv6Enabled": False})
    assert graph.one(DISTRIBUTION).inputs["isIpv6Enabled"] is enabled
