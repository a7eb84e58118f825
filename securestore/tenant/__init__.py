"""Tenant lifecycle: erase, export and measure everything one tenant stores (a library).

A tenant owns the key prefix ``TENANT/`` (``securestore.keys``). Offboarding a tenant, or a
person exercising the right to erasure, means every byte under that prefix must go: in a
versioned bucket that is every object version, every delete marker and every unfinished
multipart upload, because a plain "delete the prefix" only adds delete markers and leaves the
old versions readable. Before that the tenant usually wants its data back; in between the
platform wants to know what each tenant stores.

Public API (inject one boto3 S3 client; no argparse, no Pulumi here)::

    erase_tenant(client, bucket, tenant, *, dry_run=False, state_dir=None, manifest_path=None,
                 concurrency=8, ...) -> EraseReport
    export_tenant(client, bucket, tenant, directory, *, config=None) -> ExportReport
    usage_from_listing(client, bucket, tenant=None) -> dict[str, TenantUsage]
    usage_from_inventory(client, inventory_url, tenant=None) -> InventoryUsage

Names load on first use (PEP 562), as in ``securestore.transfer``.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "TenantScope": "scope", "foreign_key_error": "scope",
    "EraseReport": "erase", "erase_tenant": "erase", "LockedVersion": "erase",
    "ExportReport": "export", "export_tenant": "export",
    "TenantUsage": "usage", "usage_from_listing": "usage",
    "InventoryUsage": "inventory", "usage_from_inventory": "inventory",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(list(globals()) + __all__)
