"""A minimal consumer: a KMS key and a private bucket from the securestore package.

It imports the components from the installed distribution (``pip install
'securestore-aws[infra]'``, or this repository's path) under ``securestore.components``, never from the securestore
project's folders, and reads its own config: the components never read config, their Args
are plain values, and they refuse a bad one naming the field.
"""

import pulumi
import pulumi_aws as aws

from securestore.components.encryption import EncryptionKey, EncryptionKeyArgs
from securestore.components.storage import SecureBucket, SecureBucketArgs

config = pulumi.Config()
name = f"{pulumi.get_project()}-{pulumi.get_stack()}"
tags = {"project": pulumi.get_project(), "stack": pulumi.get_stack(), "team": "documents"}
account_id = aws.get_caller_identity_output().account_id
region = aws.get_region_output().region
partition = aws.get_partition_output().partition

key = EncryptionKey(
    f"{name}-key",
    EncryptionKeyArgs(
        alias_name=f"alias/{name}",
        description=f"{name}: encrypts the documents bucket",
        deletion_window_in_days=30,
        admin_arns=config.get_object("keyAdminArns") or [],
        account_id=account_id,
        region=region,
        partition=partition,
        protect=False,
        tags=tags,
    ),
)

documents = SecureBucket(
    f"{name}-documents",
    SecureBucketArgs(
        kms_key_arn=key.key_arn,
        sse_algorithm="aws:kms",
        cors_allowed_origins=config.get_object("corsAllowedOrigins") or [],
        transition_to_ia_days=60,
        expire_after_days=config.get_int("retentionDays") or 0,
        noncurrent_version_expire_days=30,
        abort_incomplete_multipart_days=2,
        account_id=account_id,
        log_retention_days=90,
        force_destroy=False,
        protect=False,
        tags=tags,
    ),
)

# Without ``defer_policies`` each component attaches its own policies (TLS-only, right key,
# key use through S3 only) as it is created: nothing else here needs a grant in them.

pulumi.export("bucketName", documents.bucket_name)
pulumi.export("kmsKeyArn", key.key_arn)
