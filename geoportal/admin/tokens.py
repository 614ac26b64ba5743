"""API tokens: who may write, and to which regions.

A token is ``gpt_<id>_<secret>``: the id finds the row, the whole text is compared by its
SHA-256 (the secret is 256 random bits, so a fast hash is enough and nothing reversible is
stored). It is shown once, when created. ``admin`` tokens write everywhere; ``editor`` tokens
write to the layers of their regions, an oblast covering its raions and cities.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError

from geoportal.catalog import schema as t
from geoportal.catalog.registry import Registry
from geoportal.catalog.repository import as_utc, utc_now
from geoportal.errors import Forbidden, InputError, NotFound, StorageError, Unauthorized
from geoportal.i18n import tr
from geoportal.storage import dbhealth

__all__ = ["ROLES", "Token", "TokenStore", "covers"]

log = logging.getLogger("geoportal.tokens")

ROLES = ("admin", "editor")
_PREFIX = "gpt"


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Token:
    """A token as stored: never its secret."""

    id: str
    name: str
    role: str
    regions: tuple[str, ...]
    created: datetime
    expires: datetime | None = None
    revoked: datetime | None = None
    last_used: datetime | None = None

    @property
    def state(self) -> str:
        """active, revoked or expired."""
        if self.revoked is not None:
            return "revoked"
        if self.expires is not None and self.expires <= utc_now():
            return "expired"
        return "active"

    @property
    def region(self) -> str:
        """The regions as one text, for the audit log."""
        return "*" if self.role == "admin" else ",".join(self.regions)

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "role": self.role,
                "regions": list(self.regions), "state": self.state,
                "created": self.created.isoformat(),
                "expires": self.expires.isoformat() if self.expires else None,
                "revoked": self.revoked.isoformat() if self.revoked else None,
                "last_used": self.last_used.isoformat() if self.last_used else None}


def covers(token: Token, region: str, registry: Registry) -> bool:
    """Whether the token may write to a layer of ``region``: admins anywhere, editors in
    their regions and everything under them (an oblast's raions and cities)."""
    if token.role == "admin":
        return True
    code: str | None = region
    seen: set[str] = set()
    while code is not None and code not in seen:
        if code in token.regions:
            return True
        seen.add(code)
        known = registry.regions.get(code)
        code = known.parent if known is not None else None
    return False


def require_region(token: Token, region: str, registry: Registry, what: str) -> None:
    """Forbidden unless the token covers ``region``; the message names both."""
    if not covers(token, region, registry):
        name = registry.regions[region].name.get("en", region) if region in registry.regions \
            else region
        raise Forbidden(tr("token {id} ({region}) may not write {what} of region {code} "
                           "({name})", id=token.id, region=token.region, what=what, code=region,
                           name=name))


class TokenStore:
    """Tokens in the catalog database."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine  # the primary: tokens are read where they are written
        self._unrecorded = dbhealth.LogOnce(log, "token last_used not recorded")
        self._name = None if engine.dialect.name == "sqlite" else dbhealth.database_name(engine)

    def create(self, name: str, role: str, regions: Iterable[str], registry: Registry, *,
               days: int | None = None) -> tuple[Token, str]:
        """A new token and its secret text (shown once, never stored)."""
        regions = tuple(dict.fromkeys(str(r) for r in regions))
        if role not in ROLES:
            raise InputError(tr("role {role}: use admin or editor", role=repr(role)))
        if not name.strip():
            raise InputError(tr("a token needs a name that says whose it is (e.g. grodno-gis)"))
        if role == "editor" and not regions:
            raise InputError(tr("an editor token needs at least one --region (a SOATO code)"))
        for code in regions:
            registry.region(code)
        if days is not None and days <= 0:
            raise InputError(tr("--days must be a positive number of days"))
        token_id = secrets.token_hex(4)
        secret = f"{_PREFIX}_{token_id}_{secrets.token_urlsafe(32)}"
        now = utc_now()
        token = Token(token_id, name.strip(), role, regions if role == "editor" else (), now,
                      now + timedelta(days=days) if days else None)
        with self._tx() as conn:
            conn.execute(insert(t.tokens).values(
                id=token.id, name=token.name, role=token.role, regions=list(token.regions),
                secret_sha256=_digest(secret), created=now, expires=token.expires))
        return token, secret

    def list(self) -> list[Token]:
        with self._tx() as conn:
            rows = conn.execute(select(t.tokens).order_by(t.tokens.c.created)).mappings()
            return [self._token(r) for r in rows]

    def get(self, token_id: str) -> Token:
        with self._tx() as conn:
            row = conn.execute(select(t.tokens).where(t.tokens.c.id == token_id)).mappings()
            found = row.first()
        if found is None:
            raise NotFound(tr("no token {id} (see `geoportal token list`)", id=repr(token_id)))
        return self._token(found)

    def revoke(self, token_id: str) -> Token:
        token = self.get(token_id)
        if token.revoked is None:
            with self._tx() as conn:
                conn.execute(update(t.tokens).where(t.tokens.c.id == token_id)
                             .values(revoked=utc_now()))
        return self.get(token_id)

    def verify(self, text: str | None) -> Token:
        """The active token whose text this is; Unauthorized (401) otherwise. The message
        never repeats the text."""
        if not text:
            raise Unauthorized(tr("this needs a token: send 'Authorization: Bearer <token>'"))
        parts = text.strip().split("_", 2)
        if len(parts) != 3 or parts[0] != _PREFIX:
            raise Unauthorized(tr("the token is not one of this portal's (gpt_<id>_<secret>)"))
        with self._tx() as conn:
            row = conn.execute(select(t.tokens).where(t.tokens.c.id == parts[1])).mappings()
            found = row.first()
        if found is None or not hmac.compare_digest(found["secret_sha256"],
                                                    _digest(text.strip())):
            raise Unauthorized(tr("the token is not valid"))
        token = self._token(found)
        if token.state != "active":
            raise Unauthorized(tr("token {id} is {state}", id=token.id, state=token.state))
        if token.last_used is None or utc_now() - token.last_used > timedelta(minutes=1):
            self._touch(token)
        return token

    def _touch(self, token: Token) -> None:
        """Note when the token was last used; a database that refuses the write (read-only,
        a lock, gone) never fails the request: logged once until a write succeeds again."""
        try:
            with self._tx() as conn:
                conn.execute(update(t.tokens).where(t.tokens.c.id == token.id)
                             .values(last_used=utc_now()))
        except StorageError as exc:
            self._unrecorded.failed(exc)
            return
        self._unrecorded.worked()

    @contextmanager
    def _tx(self) -> Iterator[Connection]:
        try:
            with self.engine.begin() as conn:
                yield conn
        except SQLAlchemyError as exc:
            raise dbhealth.database_error(exc, "tokens", self._name) from exc

    @staticmethod
    def _token(row: Any) -> Token:
        return Token(id=row["id"], name=row["name"], role=row["role"],
                     regions=tuple(row["regions"] or ()), created=as_utc(row["created"]),
                     expires=as_utc(row["expires"]), revoked=as_utc(row["revoked"]),
                     last_used=as_utc(row["last_used"]))
