"""The pack's access model for the project's stacks, derived from the declared one.

``components/access_model.py`` declares who may do what to each store; the pack cannot
import the program (it installs with ``policies/requirements.txt`` only), so its config
(``policies/config/<stack>.json``, rule ``model-who-can-reach``) carries the same model in
the pack's vocabulary: role logical-name globs -> store globs -> actions. This module makes
that config from the declared model and a test proves the files equal it, so the two are
never kept by hand. Run it to rewrite the files: ``python -m tests.pack_mutation.access_config``.
"""

from __future__ import annotations

import json
from pathlib import Path

from components import access_model as declared
from policies.rules import iam_engine as engine

REPO = Path(__file__).resolve().parents[2]
RULE = "model-who-can-reach"

ROLE_CLASSES = {
    "*-access-lambda": lambda stack: declared.BACKEND,
    "*-access-ec2": lambda stack: declared.BACKEND if stack == "dev" else declared.BACKEND_READ_ONLY,
    "*-access-tenant": lambda stack: declared.TENANT,
    "*-access-uploader": lambda stack: declared.UPLOADER,
    "*-scan-role": lambda stack: declared.MALWARE_SCANNER,
    "*-access-offboarding": lambda stack: declared.OFFBOARDING,
    "*-audit-trail-logs-role": lambda stack: declared.CLOUDTRAIL,
}
"""Which declared principal class each stack role's sessions are (ec2AccessMode is
read-write in dev, read-only in prod; the scanner role exists where malwareScan is on; the
trail's log-delivery role is CloudTrail's, on the trail's log group only)."""

ROLE_RESOURCES = {"*-audit-trail-logs-role": (declared.LOG_GROUP,)}
"""Roles that act for a class on some of its resources only."""

STORES = {declared.DATA_BUCKET: "*-storage-data", declared.LOG_BUCKET: "*-storage-logs",
          declared.TRAIL_BUCKET: "*-audit-trail-bucket", declared.DATA_KEY: "*-key-cmk",
          declared.AUDIT_KEY: "*-audit-key", declared.TOPIC: "*-audit-object-created",
          declared.LOG_GROUP: "*-audit-trail-logs"}


def _store_globs(store: str, action: str, scope: str) -> list[str]:
    info = engine.action_info(action)
    types = info[1] if info else ()
    if "log-stream" in types:
        return [f"{store}/streams"]
    if not store.startswith("*-storage") and not store.startswith("*-audit-trail-bucket"):
        return [store]
    if "object" not in types:
        return [store]
    if scope == declared.ANY:
        return [f"{store}/objects*"]
    if scope == declared.ANY_TENANT_PREFIX:
        # Any tenant's prefix: any key and a tagged session's own prefix, but not a shared
        # prefix the graph names (public/), whose store is objects:<prefix>/.
        return [f"{store}/objects", f"{store}/objects:own:*"]
    if scope == declared.OWN_PREFIX:
        return [f"{store}/objects:own:*"]
    return [f"{store}/objects:{scope.removeprefix('prefix:')}"]


def derive_grants(stack: str) -> dict:
    grants: dict[str, dict[str, list[str]]] = {}
    for role, class_of in ROLE_CLASSES.items():
        cls = class_of(stack)
        for resource, store in STORES.items():
            if resource not in ROLE_RESOURCES.get(role, (resource,)):
                continue
            for grant in declared.grants(resource, cls):
                if grant.via is not None:
                    continue  # only through S3: never a direct reach
                for action in grant.actions:
                    for glob in _store_globs(store, action, grant.scope):
                        grants.setdefault(role, {}).setdefault(glob, []).append(action)
    for cls, service in declared.SERVICE_PRINCIPALS.items():
        name = "svc:" + service.replace("{region}", "*")
        for resource, store in STORES.items():
            for grant in declared.grants(resource, cls):
                for action in grant.actions:
                    for glob in _store_globs(store, action, grant.scope):
                        grants.setdefault(name, {}).setdefault(glob, []).append(action)
    for name, stores in UNDECLARED_SERVICES.items():
        for glob, actions in stores.items():
            grants.setdefault(name, {}).setdefault(glob, []).extend(actions)
    return {r: {s: sorted(set(a)) for s, a in sorted(d.items())} for r, d in sorted(grants.items())}


UNDECLARED_SERVICES = {"svc:events.amazonaws.com": {"*-audit-object-created": ["sns:Publish"]}}
"""Service grants the stack makes that components/access_model.py has no class for yet:
EventBridge publishing the malware-scan alert rule to the upload topic (issue 24). Kept here,
visible, until the declared model names it.
"""

# AWS services acting for the program's own resources are principals too ("svc:<service>"),
# with the grants the declared model gives their class.


def expected_config(stack: str) -> dict:
    return {"declaredOnly": True, "grants": derive_grants(stack)}


def write() -> None:
    for stack in ("dev", "prod"):
        path = REPO / "policies" / "config" / f"{stack}.json"
        config = json.loads(path.read_text()) if path.exists() else {}
        config[RULE] = expected_config(stack)
        path.write_text(json.dumps(config, indent=2) + "\n")


if __name__ == "__main__":
    write()
