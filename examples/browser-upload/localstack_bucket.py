"""Create a LocalStack bucket that carries a stack's own CORS rules and default encryption.

    python examples/browser-upload/localstack_bucket.py --endpoint-url http://127.0.0.1:4566 [--stack dev]

prints the ``export`` lines that point ``app.py`` at it. The rules are not written here: the
stack's program runs offline (``securestore.offline``) and its recorded
``BucketCorsConfiguration`` and default-encryption inputs are applied, so the page meets
exactly the CORS rules ``pulumi up`` would create. The browser tests build their bucket with
:func:`create_stack_bucket` too.
"""

from __future__ import annotations

import argparse
import uuid
from typing import Any

from securestore.offline.bucket_settings import recorded_cors_rules, recorded_default_encryption

LOCALSTACK_KEYS = {"aws_access_key_id": "test", "aws_secret_access_key": "test"}  # LocalStack's default account


def create_stack_bucket(s3: Any, kms: Any, graph: Any, region: str) -> tuple[str, str, list[dict[str, Any]]]:
    """A new bucket with ``graph``'s data-bucket CORS rules and encryption; (bucket, key ARN, rules)."""
    kms_key_arn = kms.create_key(Description=f"securestore browser upload ({graph.stack})")["KeyMetadata"]["Arn"]
    bucket = f"securestore-browser-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": region})
    rules = recorded_cors_rules(graph)
    s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": rules})
    s3.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration=recorded_default_encryption(graph, kms_key_arn))
    return bucket, kms_key_arn, rules


def main() -> None:
    import boto3
    from botocore.config import Config

    from securestore.offline.engine import evaluate_stack

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--endpoint-url", required=True, help="LocalStack's address, e.g. http://127.0.0.1:4566")
    parser.add_argument("--stack", default="dev", help="whose CORS rules to apply (default dev)")
    parser.add_argument("--region", default="eu-central-1")
    args = parser.parse_args()
    common = dict(region_name=args.region, endpoint_url=args.endpoint_url, **LOCALSTACK_KEYS)
    s3 = boto3.client("s3", config=Config(signature_version="s3v4", s3={"addressing_style": "path"}), **common)
    bucket, kms_key_arn, rules = create_stack_bucket(s3, boto3.client("kms", **common), evaluate_stack(args.stack),
                                                     args.region)
    origins = ", ".join(origin for rule in rules for origin in rule["AllowedOrigins"])
    print(f"# bucket {bucket} accepts browser uploads from: {origins}")
    for name, value in (("SECURESTORE_BUCKET", bucket), ("SECURESTORE_KMS_KEY_ID", kms_key_arn),
                        ("AWS_REGION", args.region), ("SECURESTORE_S3_ENDPOINT_URL", args.endpoint_url),
                        ("AWS_ACCESS_KEY_ID", "test"), ("AWS_SECRET_ACCESS_KEY", "test")):
        print(f"export {name}={value}")


if __name__ == "__main__":
    main()
