"""What botocore decided about an endpoint, remembered under everything that decided it.

``direct.direct_description`` asks a botocore client how it would address a bucket (scheme,
host, path style or virtual host, FIPS, dual-stack, custom endpoints, the CA bundle, proxies,
timeouts). ``lazy_client`` reuses that answer without botocore when nothing it depends on
changed. The key is a SHA-256 over every such input:

* the versions of securestore, botocore and Python (endpoint rules ship with botocore);
* what the command was given: endpoint URL, region, bucket;
* every environment variable named ``AWS_*`` or ``BOTOCORE_*`` (botocore reads
  ``BOTOCORE_TCP_KEEPALIVE``) and the proxy variables (``HTTP(S)_PROXY``, ``NO_PROXY``,
  ``ALL_PROXY``, either case): values hashed, except the credentials, whose
  presence only is part of the key (they never reach the file, hashed or not);
* the AWS config and credentials files (``AWS_CONFIG_FILE``, ``AWS_SHARED_CREDENTIALS_FILE``
  or their defaults): path, size, modification time and inode, or that they are missing.

A change to any of them is a miss: the command makes a botocore client as before and records
its answer. The file holds no secret; it is written atomically, private to the user (0600 in
a 0700 directory), keeps the ``MAX_ENTRIES`` newest answers, and any error reading or writing
it only costs the fast path (the command goes on with botocore).
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import tempfile
import time
from typing import Any, Mapping, Optional

FORMAT = 1
MAX_ENTRIES = 64
CREDENTIAL_NAMES = frozenset({"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
                              "AWS_SECURITY_TOKEN"})
PROXY_NAMES = frozenset({"http_proxy", "https_proxy", "no_proxy", "all_proxy"})


def default_path() -> str:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "securestore", "endpoints.json")


def _file_identity(path: str) -> list:
    try:
        status = os.stat(path)
    except OSError:
        return [path, None]
    return [path, status.st_size, status.st_mtime_ns, status.st_ino]


def _version(distribution: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(distribution)
    except PackageNotFoundError:
        return "unknown"


def fingerprint(inputs: Mapping[str, Any], environ: Optional[Mapping[str, str]] = None) -> str:
    """The key for ``inputs`` (endpoint URL, region, bucket...) in this environment."""
    environ = os.environ if environ is None else environ
    variables = {}
    for name, value in environ.items():
        if name in CREDENTIAL_NAMES:
            variables[name] = "set" if value else ""
        elif name.startswith(("AWS_", "BOTOCORE_")) or name.lower() in PROXY_NAMES:
            variables[name] = hashlib.sha256(value.encode("utf-8", "surrogateescape")).hexdigest()
    home = os.path.expanduser("~")
    files = [_file_identity(environ.get("AWS_CONFIG_FILE") or os.path.join(home, ".aws", "config")),
             _file_identity(environ.get("AWS_SHARED_CREDENTIALS_FILE") or os.path.join(home, ".aws", "credentials"))]
    material = {"format": FORMAT, "securestore": _version("securestore-aws"), "botocore": _version("botocore"),
                "python": sys.version, "inputs": dict(inputs), "environment": variables, "files": files}
    return hashlib.sha256(json.dumps(material, sort_keys=True, default=str).encode()).hexdigest()


def load(key: str, path: Optional[str] = None) -> Optional[dict[str, Any]]:
    """The answer recorded under ``key``, or ``None``."""
    try:
        with open(path or default_path(), encoding="utf-8") as handle:
            entries = json.load(handle)
        entry = entries.get(key) if isinstance(entries, dict) else None
    except (OSError, ValueError):
        return None
    return entry.get("value") if isinstance(entry, dict) and isinstance(entry.get("value"), dict) else None


def store(key: str, value: Mapping[str, Any], path: Optional[str] = None) -> None:
    """Record ``value`` under ``key`` (the newest ``MAX_ENTRIES`` kept); errors are ignored."""
    path = path or default_path()
    try:
        directory = os.path.dirname(path)
        os.makedirs(directory, mode=0o700, exist_ok=True)
        try:
            with open(path, encoding="utf-8") as handle:
                entries = json.load(handle)
            if not isinstance(entries, dict):
                entries = {}
        except (OSError, ValueError):
            entries = {}
        entries[key] = {"stored": time.time(), "value": dict(value)}
        newest = sorted(entries.items(), key=lambda item: item[1].get("stored", 0) if isinstance(item[1], dict)
                        else 0)[-MAX_ENTRIES:]
        descriptor, temporary = tempfile.mkstemp(dir=directory, prefix=".endpoints-", suffix=".json")
        try:
            with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
                json.dump(dict(newest), handle, sort_keys=True)
            os.replace(temporary, path)
        except BaseException:
            os.unlink(temporary)
            raise
    except OSError:
        return
