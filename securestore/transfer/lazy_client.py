"""An S3 client that is made only when botocore is needed, and how to send past it until then.

Why: importing botocore and making a session and an S3 client cost ~0.2 s of every command
(``bench/small_files.py``: an unchanged 10,000-file ``sync`` took 0.57 s, 0.18 s of it the
client), while an unchanged ``sync`` or a tree of small files needs botocore for nothing: the
listing, the HEADs and the PUTs go over the transfer's own connections (``direct_objects``),
which only need the endpoint, the region, the timeouts, TLS trust and the credentials.

So the command line remembers what botocore decided for an endpoint (``endpoint_cache``), and
when every input of that decision is the same and the credentials come from the environment,
it hands the library a ``LazyS3Client``: ``DirectObjects.for_client`` builds its sender from the
remembered description without touching botocore; anything else (a multipart upload, a
delete, a fallback to botocore's path) makes the real client on first use, with the factory
the command would have called anyway, so the result is the same client, only later.
"""

from __future__ import annotations

import threading
from typing import Any, Callable, Mapping, Optional

from .._sigv4 import SigningCredentials


class LazyS3Client:
    """Stands for ``factory()``'s client; made on the first attribute read (thread-safe)."""

    def __init__(self, factory: Callable[[], Any], *, endpoint_url: str,
                 described: Mapping[str, Mapping[str, Any]], credentials: SigningCredentials) -> None:
        self._factory = factory
        self._client: Optional[Any] = None
        self._lock = threading.Lock()
        self.endpoint_url = endpoint_url
        """What ``client.meta.endpoint_url`` says (the checksum cache keys its rows by it)."""
        self._described = dict(described)
        self._credentials = credentials

    @property
    def realized(self) -> bool:
        return self._client is not None

    def realize(self) -> Any:
        if self._client is None:
            with self._lock:
                if self._client is None:
                    self._client = self._factory()
        return self._client

    def direct_description(self, bucket: str) -> Optional[Mapping[str, Any]]:
        """The remembered ``direct.direct_description`` for ``bucket``, while not realized."""
        return None if self._client is not None else self._described.get(bucket)

    @property
    def credentials(self) -> SigningCredentials:
        return self._credentials

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") or name in ("_factory", "_client", "_lock", "_described", "_credentials"):
            raise AttributeError(name)
        return getattr(self.realize(), name)


def endpoint_url_of(client: Any) -> str:
    """``client.meta.endpoint_url`` without making a lazy client."""
    if isinstance(client, LazyS3Client) and not client.realized:
        return client.endpoint_url
    return str(getattr(getattr(client, "meta", None), "endpoint_url", ""))
