"""The portal's one exception hierarchy.

Every error carries its HTTP status and a message meant for the user (``user_msg``) apart from
the message meant for the log. The CLI maps ``InputError`` to exit code 2 and anything else to 1;
the server maps ``http_status`` in one error handler.

``user_msg`` is a message id with its values, ``geoportal.i18n.tr(id, **values)`` (an English
``str`` that keeps its id); the server says it in the request's language (be, ru, en) by looking
the id up in ``geoportal.messages``. ``tests/unit/test_message_ids.py`` fails on a raise site
that passes users a sentence without an id.
"""

from __future__ import annotations

from http import HTTPStatus

from geoportal.i18n import translate

__all__ = [
    "BudgetExceeded",
    "CRSError",
    "Conflict",
    "DamagedFile",
    "DatabaseUnavailable",
    "EncodingError",
    "Forbidden",
    "GeometryError",
    "GeoportalError",
    "InputError",
    "NotFound",
    "PreconditionFailed",
    "SchemaError",
    "StorageError",
    "TooManyRequests",
    "Unauthorized",
    "UnsupportedFormat",
]


class GeoportalError(Exception):
    """Root of every error the portal raises on purpose."""

    http_status: HTTPStatus = HTTPStatus.INTERNAL_SERVER_ERROR
    ogc_code: str = "NoApplicableCode"
    exit_code: int = 1

    def __init__(self, msg: str, *, user_msg: str | None = None) -> None:
        super().__init__(msg)
        self.user_msg = user_msg or msg

    def user_message(self, language: str) -> str:
        """``user_msg`` in ``language`` (be, ru or en); English where it has no translation."""
        return translate(self.user_msg, language)


class InputError(GeoportalError, ValueError):
    """The user's file, manifest, query or upload is wrong; the message says how to fix it."""

    http_status = HTTPStatus.BAD_REQUEST
    ogc_code = "InvalidParameterValue"
    exit_code = 2


class UnsupportedFormat(InputError):
    """A file the ETL cannot read."""

    http_status = HTTPStatus.UNSUPPORTED_MEDIA_TYPE


class DamagedFile(InputError):
    """A file that opened as its format says but could not be read to the end: cut off,
    damaged, or holding values of the wrong kind where the format wants numbers or text (GDAL,
    Arrow, GEOS or PROJ stopped on it)."""

    http_status = HTTPStatus.UNPROCESSABLE_ENTITY


class EncodingError(InputError):
    """Text in a source file is not in the declared or any detected encoding."""

    http_status = HTTPStatus.UNPROCESSABLE_ENTITY


class CRSError(InputError):
    """The source's coordinate reference system is missing, unknown or implausible."""

    http_status = HTTPStatus.UNPROCESSABLE_ENTITY


class SchemaError(InputError):
    """A manifest or a source's fields do not match what is expected."""

    http_status = HTTPStatus.UNPROCESSABLE_ENTITY


class GeometryError(InputError):
    """Geometries that cannot be published (none at all, or all of them broken)."""

    http_status = HTTPStatus.UNPROCESSABLE_ENTITY


class NotFound(GeoportalError, LookupError):
    """A layer, version or feature that does not exist."""

    http_status = HTTPStatus.NOT_FOUND
    ogc_code = "NotFound"
    exit_code = 2


class Unauthorized(GeoportalError, PermissionError):
    """No token, or one that is wrong, revoked or expired."""

    http_status = HTTPStatus.UNAUTHORIZED
    ogc_code = "Unauthorized"
    exit_code = 2


class Forbidden(GeoportalError, PermissionError):
    """The caller may not do this."""

    http_status = HTTPStatus.FORBIDDEN
    ogc_code = "Forbidden"
    exit_code = 2


class Conflict(GeoportalError):
    """Another writer changed the same thing first."""

    http_status = HTTPStatus.CONFLICT
    ogc_code = "Conflict"


class PreconditionFailed(GeoportalError):
    """The client's copy is stale: its If-Match no longer names the current state."""

    http_status = HTTPStatus.PRECONDITION_FAILED
    ogc_code = "PreconditionFailed"


class StorageError(GeoportalError, OSError):
    """Our side failed: the store or the catalog could not do what it should."""

    http_status = HTTPStatus.INTERNAL_SERVER_ERROR


class BudgetExceeded(GeoportalError):
    """A request needed more time or work than one request may take (a query over its time
    budget, too many heavy requests at once): the portal stays up for everyone else. HTTP 503
    with ``Retry-After``; the message says what to narrow (a bbox, a filter, a smaller page)."""

    http_status = HTTPStatus.SERVICE_UNAVAILABLE
    ogc_code = "ServiceUnavailable"
    retry_after: int = 5

    def __init__(self, msg: str, *, user_msg: str | None = None,
                 retry_after: int | None = None) -> None:
        super().__init__(msg, user_msg=user_msg)
        if retry_after is not None:
            self.retry_after = retry_after


class TooManyRequests(GeoportalError):
    """One client sent more requests (or failed logins) than its rate allows. HTTP 429 with
    ``Retry-After``."""

    http_status = HTTPStatus.TOO_MANY_REQUESTS
    ogc_code = "TooManyRequests"
    exit_code = 2
    retry_after: int = 60

    def __init__(self, msg: str, *, user_msg: str | None = None,
                 retry_after: int | None = None) -> None:
        super().__init__(msg, user_msg=user_msg)
        if retry_after is not None:
            self.retry_after = retry_after


class DatabaseUnavailable(StorageError):
    """PostgreSQL cannot answer just now: unreachable (stopped, restarting, a network cut), a
    lock held longer than ``lock_timeout_ms`` (a publish or a migration), or read-only for a
    write. Nothing is wrong with the request: HTTP 503 with ``Retry-After``, one log line,
    and the portal recovers by itself when the database is back (``storage/dbhealth.py``).

    ``database`` names the server (host:port/dbname, never a password), for the log."""

    http_status = HTTPStatus.SERVICE_UNAVAILABLE
    ogc_code = "ServiceUnavailable"
    retry_after: int = 5

    def __init__(self, msg: str, *, user_msg: str | None = None, database: str = "",
                 retry_after: int | None = None) -> None:
        super().__init__(msg, user_msg=user_msg)
        self.database = database
        if retry_after is not None:
            self.retry_after = retry_after
