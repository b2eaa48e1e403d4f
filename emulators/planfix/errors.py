"""Planfix's error envelope and the handful of errors every endpoint shares.

The wire shape is `{"result":"fail","code":<int>,"error":"<text>"}`; the HTTP status varies
per endpoint in the official spec (404 vs 400 vs 500 for "not found"), so each raise site
passes the status its spec example shows instead of one global mapping.
"""
from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """An error answered to the client as Planfix's fail envelope."""

    def __init__(self, status: int, code: int, error: str, **extra: Any) -> None:
        super().__init__(f"{status} code {code}: {error}")
        self.status = status
        self.code = code
        self.error = error
        self.extra = extra

    def body(self) -> dict[str, Any]:
        return {"result": "fail", "code": self.code, "error": self.error, **self.extra}


def unknown_token() -> ApiError:
    return ApiError(401, 1, "Access denied, unknown token")


def scope_denied() -> ApiError:
    return ApiError(405, 5, "Scope denied, method not allowed")


def invalid_json(reason: str, status: int = 400) -> ApiError:
    return ApiError(status, 30, f"Rest API error, not valid JSON: {reason}")


def bad_value(text: str, status: int = 400) -> ApiError:
    """Code 41, "invalid parameter value" (e.g. the spec's "Status not find by id 2")."""
    return ApiError(status, 41, text)


def rest_error(status: int = 400, code: int = 0) -> ApiError:
    """The spec's generic `Rest API error`."""
    return ApiError(status, code, "Rest API error")


def task_not_found(task_id: Any, status: int = 400, for_update: bool = False) -> ApiError:
    what = "Task for update" if for_update else "Task"
    return ApiError(status, 1000, f"{what} not found by id {task_id}")


def contact_not_found(contact_id: Any, status: int = 404, for_update: bool = False) -> ApiError:
    what = "Contact for update" if for_update else "Contact"
    return ApiError(status, 2000, f"{what} not found by id {contact_id}")


def comment_not_found(comment_id: Any) -> ApiError:
    return ApiError(400, 5000, f"Comment not found by id {comment_id}")


def file_not_found(file_id: Any) -> ApiError:
    return ApiError(400, 7000, f"File not found by id {file_id}")
