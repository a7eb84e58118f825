"""The component provider: the five components and their wiring (StorePolicies), hosted for Pulumi programs in any language.

``PulumiPlugin.yaml`` points the Python language host at ``provider/__main__.py``, which
calls ``main()``. ``pulumi package add`` then asks this provider for its schema, which
``pulumi.provider.experimental`` infers from the components' Args and output annotations
(and their docstrings), and generates an SDK in the consumer's language; at deployment the
engine calls ``Construct`` here for each component that program creates.

Imports of Pulumi happen inside the functions: the base ``securestore`` package (the boto3
client) must stay importable without the ``infra`` extra.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from .version import version

if TYPE_CHECKING:
    import pulumi
    from pulumi.provider.experimental.component import ComponentProvider

PACKAGE_NAME = "securestore"
"""The package name in the schema: types are ``securestore:index:<Component>``."""


def components() -> list[type["pulumi.ComponentResource"]]:
    """The hosted components, from the installed package (``securestore.components``)."""
    from securestore.components.access import AccessRoles
    from securestore.components.audit import AuditTrail
    from securestore.components.edge import EdgeDelivery
    from securestore.components.encryption import EncryptionKey
    from securestore.components.storage import SecureBucket
    from securestore.components.wiring import StorePolicies

    return [EncryptionKey, SecureBucket, AccessRoles, EdgeDelivery, AuditTrail, StorePolicies]


def component_provider() -> "ComponentProvider":
    """The provider exactly as ``component_provider_host`` builds it (schema inferred here)."""
    from pulumi.provider.experimental.component import ComponentProvider

    return ComponentProvider(components(), PACKAGE_NAME, None, version())


def schema() -> dict[str, Any]:
    """The package schema the provider serves to ``pulumi package add`` / ``GetSchema``."""
    return json.loads(component_provider().schema or "{}")


def main() -> None:
    """Serve the provider over gRPC (run by the Pulumi language host, never by hand)."""
    from .infra import require_infra

    require_infra("the securestore component provider")
    from pulumi.provider.experimental import component_provider_host

    from securestore.components.package import host_as_package

    host_as_package()
    component_provider_host(components(), PACKAGE_NAME, version=version())
