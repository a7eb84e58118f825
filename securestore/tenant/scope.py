"""Which keys belong to a tenant: the listing prefix, and a second check of every key listed.

S3 lists by byte prefix, so ``Prefix="acme/"`` (with the slash) already leaves ``acmecorp/``
and ``acme-eu/`` out. Erasure must not rest on one server's prefix filter alone (an emulator,
a proxy or a future listing change could hand back more), so every listed key is checked
again before anything is done to it:

* its first segment must be the tenant id, exactly (``ACME/x`` and ``acme-eu/x`` are foreign);
* the key parser (``securestore.keys.parse_key``) then tells *regular* keys, the ones the key
  builder makes, from *irregular* ones (``acme/notes.txt``, ``acme/../public/x``): those are
  still under the tenant's prefix, so they are the tenant's bytes and are erased too, but the
  report counts them, because the platform did not make them.
"""

from __future__ import annotations

from dataclasses import dataclass

from securestore.keys import parse_key, tenant_prefix


def foreign_key_error(key: str, tenant: str) -> str:
    return (f"the listing returned {key!r}, which is not under {tenant + '/'!r}: refused "
            "(nothing outside the tenant's prefix is ever touched)")


@dataclass(frozen=True)
class TenantScope:
    """A validated tenant id and its prefix; ``classify`` re-checks each listed key."""

    tenant: str

    def __post_init__(self) -> None:
        tenant_prefix(self.tenant)  # ValueError for ids the key builder refuses

    @property
    def prefix(self) -> str:
        return tenant_prefix(self.tenant)

    def owns(self, key: str) -> bool:
        """``key`` is under ``tenant/`` (its first segment is the tenant id, exactly)."""
        return key.split("/", 1)[0] == self.tenant and key.startswith(self.prefix)

    def is_regular(self, key: str) -> bool:
        """``key`` is one the key builder makes for this tenant."""
        try:
            return parse_key(key).tenant_id == self.tenant
        except ValueError:
            return False
