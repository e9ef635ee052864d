"""Domain errors and the one exception handler that renders them as {"error": {...}}."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException


class AnimeRecError(Exception):
    """Base of every domain error: a stable code, an HTTP status and a human message."""

    status_code = 400
    code = "bad_request"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        status_code: int | None = None,
        details: dict[str, Any] | list[Any] | None = None,
        headers: dict[str, str] | None = None,
    ):
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        if status_code:
            self.status_code = status_code
        self.details = details
        self.headers = headers

    def to_body(self) -> dict[str, Any]:
        """Returns the JSON error body."""
        err: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.details:
            err["details"] = self.details
        return {"error": err}


class NotFoundError(AnimeRecError):
    status_code = 404
    code = "not_found"


class UserNotFound(NotFoundError):
    code = "user_not_found"


class AnimeNotFound(NotFoundError):
    code = "anime_not_found"


class ConflictError(AnimeRecError):
    status_code = 409
    code = "conflict"


class InvalidInputError(AnimeRecError):
    status_code = 400
    code = "invalid_input"


class DataValidationError(AnimeRecError):
    """A raw file failed validation; message names file, line and column."""

    status_code = 400
    code = "invalid_data"

    def __init__(self, file: str, line: int | None, column: str | None, expected: str, found: str | None = None):
        where = file
        if line is not None:
            where += f", line {line}"
        if column is not None:
            where += f", column {column!s}"
        msg = f"{where}: expected {expected}"
        if found is not None:
            msg += f", found {found!r}"
        super().__init__(
            msg, details={"file": file, "line": line, "column": column, "expected": expected, "found": found}
        )
        self.file, self.line, self.column, self.expected, self.found = file, line, column, expected, found


class NotReadyError(AnimeRecError):
    status_code = 503
    code = "not_ready"


class UpstreamUnavailable(AnimeRecError):
    status_code = 503
    code = "upstream_unavailable"


class StorageError(AnimeRecError):
    status_code = 500
    code = "storage_error"


def error_response(
    status: int, code: str, message: str, details: Any = None, headers: dict[str, str] | None = None
) -> JSONResponse:
    """Returns a JSONResponse in the platform's error schema."""
    body: dict[str, Any] = {"error": {"code": code, "message": message}}
    if details is not None:
        body["error"]["details"] = details
    return JSONResponse(body, status_code=status, headers=headers)


_STATUS_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    429: "rate_limited",
    503: "unavailable",
}


def domain_error_response(exc: AnimeRecError) -> JSONResponse:
    """Returns the JSON answer of a domain error (its status, error body and headers)."""
    return JSONResponse(exc.to_body(), status_code=exc.status_code, headers=exc.headers)


def install_error_handlers(app: FastAPI) -> None:
    """Registers handlers so every error leaves the service in the one error schema."""

    @app.exception_handler(AnimeRecError)
    async def _domain(_: Request, exc: AnimeRecError) -> JSONResponse:
        return domain_error_response(exc)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        details = [
            {"loc": list(e.get("loc", ())), "msg": str(e.get("msg", "")), "type": e.get("type")} for e in exc.errors()
        ]
        return error_response(422, "validation_error", "request parameters are invalid", details)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _STATUS_CODES.get(exc.status_code, "http_error")
        return error_response(exc.status_code, code, str(exc.detail), headers=getattr(exc, "headers", None))
