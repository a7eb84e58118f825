"""Offline evaluation of the Pulumi program: no CLI, no provider plugins, no AWS account.

``engine.evaluate_stack("dev")`` runs ``__main__.py`` under ``pulumi.runtime.set_mocks``
with a recording monitor and returns a ``StackGraph``; the tests, the policy runner and
``securestore preview`` all read that one graph.
"""
