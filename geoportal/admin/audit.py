"""The audit log: every write and every refused write, in the catalog database.

A row says who (token id and role, never the token), for which region, what (action, layer,
version, job), from where (client address), when, and how it ended. Admins read it with
``geoportal audit`` or ``GET /admin/audit``.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from geoportal.admin.tokens import Token
from geoportal.catalog import schema as t
from geoportal.catalog.repository import as_utc, utc_now
from geoportal.errors import StorageError

__all__ = ["AuditLog"]

log = logging.getLogger("geoportal.audit")


class AuditLog:
    """Append and read audit rows."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def record(self, action: str, result: str, *, token: Token | None = None,
               layer_id: str | None = None, region: str | None = None,
               version: int | None = None, job_id: str | None = None,
               client: str | None = None, status: int | None = None,
               detail: str | None = None, token_id: str | None = None) -> None:
        """Append one row (and log it: the log line carries no secret either)."""
        row = {"time": utc_now(), "token_id": token.id if token else token_id,
               "role": token.role if token else None, "region": region,
               "action": action, "layer_id": layer_id, "version": version, "job_id": job_id,
               "client": (client or "")[:64] or None, "result": result, "status": status,
               "detail": (detail or "")[:2000] or None}
        log.info("audit action=%s result=%s token=%s layer=%s version=%s job=%s client=%s "
                 "status=%s", action, result, row["token_id"], layer_id, version, job_id,
                 row["client"], status)
        try:
            with self.engine.begin() as conn:
                conn.execute(insert(t.audit).values(**row))
        except SQLAlchemyError as exc:
            raise StorageError(f"audit log: {exc}") from exc

    def query(self, *, layer_id: str | None = None, token_id: str | None = None,
              since: datetime | None = None, limit: int = 100) -> list[dict[str, Any]]:
        """The newest rows first, filtered."""
        stmt = select(t.audit).order_by(t.audit.c.id.desc()).limit(max(1, min(limit, 10_000)))
        if layer_id:
            stmt = stmt.where(t.audit.c.layer_id == layer_id)
        if token_id:
            stmt = stmt.where(t.audit.c.token_id == token_id)
        if since is not None:
            stmt = stmt.where(t.audit.c.time >= since)
        with self.engine.begin() as conn:
            rows = [dict(r) for r in conn.execute(stmt).mappings()]
        for row in rows:
            row["time"] = as_utc(row["time"]).isoformat()
        return rows
