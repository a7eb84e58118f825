"""The securestore CrossGuard policy pack (``pulumi preview --policy-pack policies``).

The rules live in ``policies.rules``; ``__main__.py`` only serves them to the Pulumi CLI.
"""
