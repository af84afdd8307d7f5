"""The error answers the API gives, declared in its OpenAPI schema.

Every error body is `{"detail": …}`: a sentence, or for a request that failed validation
FastAPI's list of issues, each naming where (`loc`) and what (`msg`). Routers declare the
statuses they can answer with `errors(…)`, so that clients generated from the schema, and
the schema fuzzer in the tests, know every answer there is.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict


class ValidationIssue(BaseModel):
    model_config = ConfigDict(extra="allow")

    loc: list[str | int]
    msg: str
    type: str


class ErrorBody(BaseModel):
    detail: str | list[ValidationIssue]


WHY = {
    400: "The request is malformed, or names a host this server does not answer.",
    401: "No API key, or one that is not valid.",
    403: "The key may not do this, or not in this project.",
    404: "Nothing with this id (in the key's project).",
    409: "The request conflicts with the current state.",
    413: "The body is over the server's size limit (after decompression).",
    415: "The content type or content encoding is not supported.",
    422: "The request is well-formed but its values are not valid; `detail` says where.",
    503: "The server is overloaded; retry after the Retry-After header's seconds.",
}

# Every route of the API: the host check, authentication and validation.
ANY_ROUTE = (400, 401, 403, 422)
# Routes that read a JSON body: its size and encoding.
WITH_BODY = (413, 415)


def errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` for these error statuses."""
    return {status: {"model": ErrorBody, "description": WHY[status]} for status in statuses}


def ndjson(description: str) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` for a 200 in JSON Lines."""
    return {200: {"description": description, "content": {"application/x-ndjson": {}}}}
