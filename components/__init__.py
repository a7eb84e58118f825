"""The Pulumi side of securestore: one ComponentResource per concern, plus pure builders.

Modules ending in ``_policies`` build IAM/S3/KMS policy documents as plain dicts and import
no Pulumi, so the security tests can evaluate them offline. ``settings`` reads config once.
This ``__init__`` imports nothing, so importing a builder never loads Pulumi.
"""
