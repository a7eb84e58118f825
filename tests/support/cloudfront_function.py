"""Run a CloudFront Function's JavaScript, unchanged, in the machine's Node.js.

CloudFront Functions (runtime ``cloudfront-js-2.0``) call ``handler(event)`` with
``event.request = {uri, method, headers, querystring}`` and use what it returns: the request
(forwarded, maybe changed) or a response (``statusCode``). The code is written to stdin of
one ``node`` process followed by a harness that calls ``handler`` for every case, so a whole
table costs one process start. Node runs a superset of CloudFront's JavaScript: this is a
witness for the function's logic, not for CloudFront's runtime limits.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from typing import Any, Sequence

_HARNESS = """
;(function () {
  var cases = JSON.parse(process.argv[process.argv.length - 1]);
  var results = cases.map(function (uri) {
    var event = { version: '1.0', context: { eventType: 'viewer-request' }, viewer: { ip: '192.0.2.1' },
      request: { method: 'GET', uri: uri, querystring: {}, headers: { host: { value: 'd111111abcdef8.cloudfront.net' } }, cookies: {} } };
    var out = handler(event);
    return out && out.statusCode ? { status: out.statusCode } : { uri: out.uri, forwarded: true };
  });
  process.stdout.write(JSON.stringify(results));
})();
"""


def node() -> str:
    found = shutil.which("node")
    if found is None:
        raise RuntimeError("node (Node.js) is required to run the CloudFront Function tests")
    return found


def _run(code: str, harness: str, cases: Sequence[Any]) -> list[Any]:
    """The function's code and one harness in one ``node`` process over every case."""
    completed = subprocess.run(
        [node(), "-", json.dumps(list(cases))],
        input=code + "\n" + harness,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"node failed: {completed.stderr.strip()}")
    return json.loads(completed.stdout)


def run_viewer_request(code: str, uris: Sequence[str]) -> list[dict[str, Any]]:
    """``handler`` applied to a GET of each URI: ``{"status": n}`` or ``{"forwarded": True, "uri": ...}``."""
    return _run(code, _HARNESS, uris)


_RESPONSE_HARNESS = """
;(function () {
  var cases = JSON.parse(process.argv[process.argv.length - 1]);
  var results = cases.map(function (type) {
    var headers = type === null ? {} : { 'content-type': { value: type } };
    var event = { version: '1.0', context: { eventType: 'viewer-response' }, viewer: { ip: '192.0.2.1' },
      request: { method: 'GET', uri: '/acme/x', querystring: {}, headers: {}, cookies: {} },
      response: { statusCode: 200, statusDescription: 'OK', headers: headers, cookies: {} } };
    var out = handler(event);
    var flat = {};
    Object.keys(out.headers).forEach(function (name) { flat[name] = out.headers[name].value; });
    return flat;
  });
  process.stdout.write(JSON.stringify(results));
})();
"""


def run_viewer_response(code: str, content_types: Sequence[Any]) -> list[dict[str, str]]:
    """``handler`` applied to a 200 response of each content type (None: no Content-Type
    header): the response headers it returns, ``{name: value}``."""
    return _run(code, _RESPONSE_HARNESS, content_types)
