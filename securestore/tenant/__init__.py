"""Tenant lifecycle: erase, export and measure everything one tenant stores (a library).

A tenant owns the key prefix ``TENANT/`` (``securestore.keys``). Offboarding a tenant, or a
person exercising the right to erasure, means every byte under that prefix must go: in a
versioned bucket that is every object version, every delete marker and every unfinished
multipart upload, because a plain "delete the prefix" only adds delete markers and leaves the
old versions readable. Before that the tenant usually wants its data back; in between the
platform wants to know what each tenant stores.

One module per job (inject one boto3 S3 client; no argparse, no Pulumi here)::

    erase.erase_tenant(client, bucket, tenant, *, dry_run=False, state_dir=None,
                       manifest_path=None, concurrency=8, ...) -> EraseReport
    export.export_tenant(client, bucket, tenant, directory, *, config=None) -> ExportReport
    usage.usage_from_listing(client, bucket, tenant=None) -> dict[str, TenantUsage]
    inventory.usage_from_inventory(client, url, tenant=None, *, data_bucket=None) -> InventoryUsage

with ``scope`` (which keys are the tenant's), ``listing`` (paged, retried listings) and
``journal`` (what makes an interrupted erasure resumable) beneath them.
"""
