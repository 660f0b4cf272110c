"""The OpenAPI description says what every route really answers, errors included.

Every error the app sends has one shape (``ErrorOut``, set in app.py), but FastAPI documents
its own validation error shape for 422 and nothing for 404 or 429. This completes the
generated description once, when it is first asked for: a 422 of the real shape wherever a
route takes parameters, a 404 wherever a path names something, and a 429 with ``Retry-After``
on the rate-limited JSON API.
"""

from __future__ import annotations

import json

from fastapi import FastAPI
from pydantic import BaseModel, Field

ERROR_REF = {"$ref": "#/components/schemas/ErrorOut"}


class ErrorOut(BaseModel):
    """Every error of the register: ``{"ok": false, "error": "...", "status": 404}``."""

    ok: bool = Field(description="always false")
    error: str = Field(description="what went wrong, in words")
    status: int = Field(description="the HTTP status, repeated")


def _error(description: str, headers: dict | None = None) -> dict:
    response = {"description": description,
                "content": {"application/json": {"schema": ERROR_REF}}}
    if headers:
        response["headers"] = headers
    return response


def complete(schema: dict) -> dict:
    """Add the error responses to every operation of ``schema`` (in place) and return it."""
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components["ErrorOut"] = ErrorOut.model_json_schema()
    for path, operations in schema.get("paths", {}).items():
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            if "422" in responses or operation.get("parameters"):
                responses["422"] = _error("Invalid request: a parameter is out of range")
            if "{" in path:
                responses.setdefault("404", _error("Nothing by that name in this register"))
            if path.startswith("/api/"):
                responses.setdefault("429", _error(
                    "Too many requests from this client",
                    {"Retry-After": {"description": "seconds to wait",
                                     "schema": {"type": "integer"}}}))
    for unused in ("HTTPValidationError", "ValidationError"):
        if not _referenced(schema, unused):
            components.pop(unused, None)
    return schema


def _referenced(schema: dict, name: str) -> bool:
    return f'"#/components/schemas/{name}"' in json.dumps(schema)


def install(app: FastAPI) -> None:
    """Make ``app.openapi()`` (and ``/openapi.json``) return the completed description."""
    generate = app.openapi

    def openapi() -> dict:
        if app.openapi_schema is None:
            app.openapi_schema = complete(generate())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
