"""CORS and security headers.

Reads are open to every origin: a MapLibre, Leaflet or OpenLayers viewer on another site must
be able to fetch collections, items, tiles and downloads, and read our ETag, Content-Crs and
Link headers. Writes are not: the admin API and any non-GET method get no CORS headers, so a
browser on another origin cannot use an admin's token behind their back. Every answer says
``nosniff``; HTML pages get a Content-Security-Policy that allows only our own scripts, styles
and images (the portal works offline: nothing is loaded from elsewhere), and only the portal
itself may show them in a frame, but for the embeddable map (``/embed``, ``embed_csp``).
"""

from __future__ import annotations

from flask import Request, Response

__all__ = ["cors_preflight", "embed_csp", "secure"]

READS = ("GET", "HEAD", "OPTIONS")
EXPOSED = ("ETag", "Last-Modified", "Content-Crs", "Content-Bbox", "X-Coverage-Size", "Link",
           "Content-Disposition", "Geoportal-Number-Matched", "X-Request-Id")
CSP = ("default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; "
       "script-src 'self'; worker-src 'self' blob:; connect-src 'self'; "
       "frame-ancestors 'self'; base-uri 'self'; form-action 'self'; object-src 'none'")


def embed_csp(frame_ancestors: str) -> str:
    """The policy of the embeddable map (``/embed``): the pages' own, but framed by the
    sources of the ``embed_frame_ancestors`` setting (checked at start-up,
    ``geoportal.config.frame_ancestors``) instead of the portal alone."""
    return CSP.replace("frame-ancestors 'self'", f"frame-ancestors {frame_ancestors}")


def _is_admin(path: str) -> bool:
    return path == "/admin" or path.startswith("/admin/")


def cors_preflight(request: Request) -> Response | None:
    """The answer to a browser's CORS preflight: allowed for reads, refused (no CORS headers,
    so the browser blocks it) for the admin API and for writes."""
    if request.method != "OPTIONS" or "Origin" not in request.headers:
        return None
    response = Response(status=204)
    wanted = request.headers.get("Access-Control-Request-Method", "GET").upper()
    if not _is_admin(request.path) and wanted in READS:
        response.headers["Access-Control-Allow-Origin"] = "*"
        response.headers["Access-Control-Allow-Methods"] = ", ".join(READS)
        response.headers["Access-Control-Allow-Headers"] = (
            "Accept, Accept-Language, If-None-Match, If-Modified-Since, Range, Content-Type")
        response.headers["Access-Control-Max-Age"] = "86400"
    return response


def secure(request: Request, response: Response) -> Response:
    """Add the CORS headers of a read and the security headers of every answer."""
    headers = response.headers
    if request.method in ("GET", "HEAD") and not _is_admin(request.path):
        headers.setdefault("Access-Control-Allow-Origin", "*")
        headers.setdefault("Access-Control-Expose-Headers", ", ".join(EXPOSED))
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
    # /embed brings its own policy (its frame-ancestors), and no X-Frame-Options then
    if ((response.mimetype or "").startswith("text/html")
            and "Content-Security-Policy" not in headers):
        headers["Content-Security-Policy"] = CSP
        headers.setdefault("X-Frame-Options", "SAMEORIGIN")
    if _is_admin(request.path):
        headers.setdefault("Cache-Control", "no-store")
    return response
