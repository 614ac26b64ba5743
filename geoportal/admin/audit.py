"""The audit log: every write and every refused write, in the catalog database.

A row says who (token id and role, never the token), for which region, what (action, layer,
version, job), from where (client address), when, and how it ended. Admins read it with
``geoportal audit`` or ``GET /admin/audit``.

Anyone can make a write be refused, so the log must not grow with what a refused request
carries or with how many are sent: every field is cut to a bounded length (a layer id from a
URL to 64 characters, the detail to 500) with control characters escaped, and after
``REFUSALS_PER_MINUTE`` refusals from one client in a minute, the further ones of that minute
are counted in one row per server process instead of a row each.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from geoportal.admin.tokens import Token
from geoportal.catalog import schema as t
from geoportal.catalog.repository import as_utc, utc_now
from geoportal.errors import StorageError
from geoportal.log import escape_control
from geoportal.storage import dbhealth

__all__ = ["FIELD_LIMITS", "REFUSALS_PER_MINUTE", "AuditLog"]

log = logging.getLogger("geoportal.audit")

# Characters kept of each text field (the catalog's column sizes; detail is free text).
FIELD_LIMITS = {"token_id": 16, "role": 16, "region": 16, "action": 32, "layer_id": 64,
                "job_id": 32, "client": 64, "result": 16, "detail": 500}
# Refusals (denied, rejected) from one client recorded one by one per minute and process.
REFUSALS_PER_MINUTE = 20
_REFUSED = ("denied", "rejected")


def _bounded(name: str, value: Any) -> str | None:
    """``value`` as text fit for column ``name``: control characters escaped, cut to
    ``FIELD_LIMITS[name]`` (a cut value ends in "...")."""
    if value is None or value == "":
        return None
    text = escape_control(str(value))
    limit = FIELD_LIMITS[name]
    return text if len(text) <= limit else text[:limit - 3] + "..."


class _Refusals:
    """Per client, the refusals of the current minute, and the row that counts the excess."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.writing = threading.Lock()  # one thread at a time creates or updates a count row
        self.minute = -1
        self.clients: dict[str, tuple[int, int | None, Counter[str]]] = {}

    def count(self, client: str, action: str) -> tuple[int, int | None, Counter[str]]:
        """One more refusal from ``client``: (refusals this minute, the excess row's id or
        None, the excess by action); ``clients`` keeps the same for the current minute."""
        with self.lock:
            minute = int(time.time() // 60)
            if minute != self.minute:
                self.minute, self.clients = minute, {}
            n, row_id, actions = self.clients.get(client, (0, None, Counter()))
            n += 1
            if n > REFUSALS_PER_MINUTE and (action in actions or len(actions) < 10):
                actions[action] += 1
            self.clients[client] = (n, row_id, actions)
            return n, row_id, actions

    def snapshot(self, client: str, n: int) -> tuple[int, int | None, Counter[str]]:
        """A copy of ``client``'s state this minute (``n`` refusals when it was reset)."""
        with self.lock:
            n, row_id, actions = self.clients.get(client, (n, None, Counter()))
            return n, row_id, Counter(actions)

    def remember(self, client: str, row_id: int) -> None:
        with self.lock:
            n, _, actions = self.clients.get(client, (0, None, Counter()))
            self.clients[client] = (n, row_id, actions)


class AuditLog:
    """Append and read audit rows."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine  # the primary
        self._refusals = _Refusals()
        self._unrecorded = dbhealth.LogOnce(
            log, "audit rows not stored in the database, only logged")
        self._name = None if engine.dialect.name == "sqlite" else dbhealth.database_name(engine)

    def _failure(self, exc: SQLAlchemyError) -> StorageError:
        """``DatabaseUnavailable`` when the database cannot take the row now, else a
        StorageError."""
        return dbhealth.database_error(exc, "audit log", self._name)

    def record(self, action: str, result: str, *, token: Token | None = None,
               layer_id: str | None = None, region: str | None = None,
               version: int | None = None, job_id: str | None = None,
               client: str | None = None, status: int | None = None,
               detail: str | None = None, token_id: str | None = None) -> None:
        """Append one row (and log it: the log line carries no secret either).

        Every text is bounded (``FIELD_LIMITS``); a refusal (``denied``, ``rejected``) beyond
        ``REFUSALS_PER_MINUTE`` from the same client in the same minute only adds to that
        minute's count row."""
        row: dict[str, Any] = {
            "time": utc_now(), "token_id": _bounded("token_id", token.id if token else token_id),
            "role": _bounded("role", token.role if token else None),
            "region": _bounded("region", region), "action": _bounded("action", action),
            "layer_id": _bounded("layer_id", layer_id), "version": version,
            "job_id": _bounded("job_id", job_id), "client": _bounded("client", client),
            "result": _bounded("result", result), "status": status,
            "detail": _bounded("detail", detail)}
        if result in _REFUSED:
            client = row["client"] or "-"
            n, _, _ = self._refusals.count(client, row["action"] or "")
            if n > REFUSALS_PER_MINUTE:
                with self._refusals.writing:
                    n, row_id, actions = self._refusals.snapshot(client, n)
                    self._count_excess(row, n - REFUSALS_PER_MINUTE, row_id, actions)
                return
        log.info("audit action=%s result=%s token=%s layer=%s version=%s job=%s client=%s "
                 "status=%s", row["action"], row["result"], row["token_id"], row["layer_id"],
                 version, row["job_id"], row["client"], status)
        try:
            self._insert(row)
        except StorageError as exc:
            # the primary read-only or away: the line above keeps the row; the request goes on
            self._unrecorded.failed(exc)
            return
        self._unrecorded.worked()

    def _insert(self, row: dict[str, Any]) -> int:
        try:
            with self.engine.begin() as conn:
                key = conn.execute(insert(t.audit).values(**row)).inserted_primary_key
                assert key is not None  # an INSERT of one row has its key
                return int(key[0])
        except SQLAlchemyError as exc:
            raise self._failure(exc) from exc

    def _count_excess(self, row: dict[str, Any], excess: int, row_id: int | None,
                      actions: Counter[str]) -> None:
        """The refusals over the limit, as one row per client, minute and process."""
        what = ", ".join(f"{a} x{n}" for a, n in actions.most_common())
        detail = (f"{excess} more refused requests from this client in this minute, counted "
                  f"here, not one by one (over {REFUSALS_PER_MINUTE} a minute): {what}")
        if row_id is None:
            log.warning("audit action=refused result=%s client=%s over %d refusals a minute; "
                        "counting the rest in one row", row["result"], row["client"],
                        REFUSALS_PER_MINUTE)
            self._refusals.remember(row["client"] or "-", self._insert(
                {**row, "action": "refused", "layer_id": None, "version": None,
                 "job_id": None, "status": None, "token_id": None, "role": None,
                 "detail": _bounded("detail", detail)}))
            return
        try:
            with self.engine.begin() as conn:
                conn.execute(update(t.audit).where(t.audit.c.id == row_id)
                             .values(detail=_bounded("detail", detail)))
        except SQLAlchemyError as exc:
            raise self._failure(exc) from exc

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
        try:
            with self.engine.begin() as conn:
                rows = [dict(r) for r in conn.execute(stmt).mappings()]
        except SQLAlchemyError as exc:
            raise self._failure(exc) from exc
        for row in rows:
            row["time"] = as_utc(row["time"]).isoformat()
        return rows
