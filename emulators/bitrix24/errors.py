"""Bitrix24 REST errors: the `{"error", "error_description"}` body and the HTTP status each one has.

Clients branch on the pair (status, code), and fast-bitrix24 retries only 5xx, so getting the status
right matters as much as the text. Statuses and texts come from the shared Bitrix24 reference.
"""
from __future__ import annotations

from typing import Any


class RestError(Exception):
    """An error answer. `code` may be "" (old crm.* methods use an empty code)."""

    def __init__(self, status: int, code: str, description: str, **extra: Any) -> None:
        super().__init__(f"{status} {code}: {description}")
        self.status = status
        self.code = code
        self.description = description
        self.extra = extra

    def body(self) -> dict[str, Any]:
        return {"error": self.code, "error_description": self.description, **self.extra}


def crm_error(description: str) -> RestError:
    """Old CRM methods (crm.deal.*, crm.company.*, ...) answer 400 with an EMPTY error code."""
    return RestError(400, "", description)


# Texts the old CRM REST proxy uses verbatim.
ID_INVALID = "ID is not defined or invalid."
NOT_FOUND = "Not found"
FIELDS_NOT_ARRAY = "Parameter 'fields' must be array."
PARAMS_NOT_ARRAY = "Parameter 'params' must be array."
FILTER_NOT_ARRAY = "Parameter 'filter' must be array."
ORDER_NOT_ARRAY = "Parameter 'order' must be array."
SELECT_NOT_ARRAY = "Parameter 'select' must be array."


def query_limit_exceeded() -> RestError:
    return RestError(503, "QUERY_LIMIT_EXCEEDED", "Too many requests")


def operation_time_limit() -> RestError:
    return RestError(429, "OPERATION_TIME_LIMIT", "Method is blocked due to operation time limit.")


def overload_limit() -> RestError:
    return RestError(503, "OVERLOAD_LIMIT", "REST API is blocked due to overload.")


def invalid_credentials() -> RestError:
    return RestError(401, "INVALID_CREDENTIALS", "Invalid request credentials")


def no_auth_found() -> RestError:
    return RestError(401, "NO_AUTH_FOUND", "Wrong authorization data")


def insufficient_scope() -> RestError:
    return RestError(403, "insufficient_scope",
                     "The request requires higher privileges than provided by the webhook token")


def wrong_auth_type() -> RestError:
    return RestError(403, "WRONG_AUTH_TYPE", "Current authorization type is denied for this method")


def https_required() -> RestError:
    return RestError(400, "INVALID_REQUEST", "Https required.")


def method_not_found() -> RestError:
    return RestError(404, "ERROR_METHOD_NOT_FOUND", "Method not found!")


def batch_length_exceeded() -> RestError:
    return RestError(400, "ERROR_BATCH_LENGTH_EXCEEDED", "Max batch length exceeded")


def batch_method_not_allowed() -> RestError:
    return RestError(405, "ERROR_BATCH_METHOD_NOT_ALLOWED", "Method is not allowed for batch usage")


def internal_error() -> RestError:
    return RestError(500, "INTERNAL_SERVER_ERROR", "Internal server error")


def item_not_found() -> RestError:
    return RestError(400, "NOT_FOUND", "Element not found")


def type_not_found() -> RestError:
    return RestError(400, "NOT_FOUND", "Smart process not found")
