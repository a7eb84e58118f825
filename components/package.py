"""The component package's identity: its name and the type token each component registers.

The program's stacks were deployed with module tokens (``securestore:storage:SecureBucket``)
and keep them, because the type is part of every URN below it. The component provider
(``securestore.provider``) only constructs ``<package>:index:<Type>`` tokens, the module the
schema inferred by ``pulumi.provider.experimental`` puts every component in; it calls
``host_as_package()`` before hosting, so a component built for another language's program
registers under the token its generated SDK asked for.
"""

PACKAGE_NAME = "securestore"

_hosted = False


def host_as_package() -> None:
    """Register components under ``securestore:index:<Type>`` from now on (provider only)."""
    global _hosted
    _hosted = True


def resource_type(module_token: str) -> str:
    """``module_token`` in this program; its ``index`` form when hosted by the provider."""
    package, _, type_name = module_token.split(":")
    return f"{package}:index:{type_name}" if _hosted else module_token
