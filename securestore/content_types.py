"""Content types a tenant may upload: nothing the browser would run on the file host.

Every tenant's files are served from one host name whose signed cookies every tenant's
browser carries, and cookies do not isolate by path (RFC 6265 section 8.5): a page or an SVG
served inline from that host could read any other path the victim's cookies open. So the
presigners refuse to sign an upload (or a response content type) that a browser treats as a
document with script: HTML, XHTML, SVG, any XML (XSLT runs script), JavaScript, CSS, and the
types browsers sniff into those. The edge is the second line (a ``sandbox`` CSP and
``Content-Disposition: attachment`` for anything not on the inline-safe list), because a key
can be written by other means than a pre-signed URL.
"""

from __future__ import annotations

ACTIVE_CONTENT_TYPES = frozenset({
    "text/html", "application/xhtml+xml", "image/svg+xml", "text/xml", "application/xml",
    "text/xsl", "application/xslt+xml", "text/javascript", "application/javascript",
    "application/x-javascript", "text/ecmascript", "application/ecmascript", "text/jscript",
    "application/json+javascript", "text/css", "application/vnd.wap.xhtml+xml",
    "multipart/x-mixed-replace", "application/x-shockwave-flash", "text/x-component",
    "application/mathml+xml", "application/rdf+xml", "text/vtt", "application/wasm",
})
"""Media types a browser renders as (or loads into) a document that can run script."""
SAFE_REPLACEMENT = "application/octet-stream"


def media_type(content_type: str) -> str:
    """``type/subtype`` in lower case, without parameters (``text/HTML; charset=x`` -> ``text/html``)."""
    return content_type.split(";", 1)[0].strip().lower()


def is_active(content_type: str) -> bool:
    """Would a browser run script in a document of this type? Any ``+xml`` type counts
    (XML documents can carry XHTML, SVG or an XSLT stylesheet)."""
    base = media_type(content_type)
    return base in ACTIVE_CONTENT_TYPES or base.endswith("+xml")


def refuse_active(content_type: str, what: str = "content_type") -> str:
    """``content_type`` unchanged, or ``ValueError`` for an active type, saying what to use."""
    if is_active(content_type):
        raise ValueError(
            f"{what} {content_type!r} is active content (a browser runs its script on the file "
            f"host, with every tenant's cookies); upload it as {SAFE_REPLACEMENT!r} instead"
        )
    return content_type
