"""Bot API errors with the texts the official server (tdlib/telegram-bot-api) sends.

Handlers raise `ApiError`; the transport turns it into `{"ok":false,"error_code":N,"description":…}`
with HTTP status N, `parameters` when present and a `Retry-After` header on 429. Keeping the
texts in one place is what lets the relay's error matching be tested against real wording.
"""
from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """A Bot API failure: HTTP status = error_code, description verbatim."""

    def __init__(self, code: int, description: str, parameters: dict[str, Any] | None = None) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.parameters = parameters or None

    def payload(self) -> dict[str, Any]:
        body: dict[str, Any] = {"ok": False, "error_code": self.code, "description": self.description}
        if self.parameters:
            body["parameters"] = self.parameters
        return body

    @property
    def retry_after(self) -> int | None:
        return (self.parameters or {}).get("retry_after")


def bad_request(text: str) -> ApiError:
    return ApiError(400, f"Bad Request: {text}")


def forbidden(text: str) -> ApiError:
    return ApiError(403, f"Forbidden: {text}")


def too_many_requests(retry_after: int) -> ApiError:
    return ApiError(429, f"Too Many Requests: retry after {retry_after}", {"retry_after": retry_after})


def migrated(new_chat_id: int) -> ApiError:
    return ApiError(400, "Bad Request: group chat was upgraded to a supergroup chat",
                    {"migrate_to_chat_id": new_chat_id})


NOT_FOUND = ApiError(404, "Not Found")
METHOD_NOT_FOUND = ApiError(404, "Not Found: method not found")
INVALID_TOKEN = ApiError(401, "Unauthorized: invalid token specified")
UNALLOWED_TOKEN = ApiError(421, "Misdirected Request: unallowed token specified")
UNAUTHORIZED = ApiError(401, "Unauthorized")

CHAT_NOT_FOUND = "chat not found"
CHAT_ID_EMPTY = "chat_id is empty"
TEXT_EMPTY = "message text is empty"
TEXT_TOO_LONG = "message is too long"
CAPTION_TOO_LONG = "message caption is too long"
NOT_MODIFIED = ("message is not modified: specified new message content and reply markup are exactly the same "
                "as a current content and reply markup of the message")
QUERY_TOO_OLD = "query is too old and response timeout expired or query ID is invalid"
MESSAGE_TO_EDIT_NOT_FOUND = "message to edit not found"
MESSAGE_CANT_BE_EDITED = "message can't be edited"
NO_TEXT_TO_EDIT = "there is no text in the message to edit"
MESSAGE_TO_DELETE_NOT_FOUND = "message to delete not found"
MESSAGE_CANT_BE_DELETED = "message can't be deleted"
REPLY_NOT_FOUND = "message to be replied not found"
MESSAGE_ID_NOT_SPECIFIED = "message identifier is not specified"
BAD_MARKUP_JSON = "can't parse reply keyboard markup JSON object"
BUTTON_DATA_INVALID = "BUTTON_DATA_INVALID"
TEXT_BUTTONS_UNALLOWED = "can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"
BUTTON_TEXT_NOT_STRING = "can't parse inline keyboard button: Field \"text\" must be of type String"
UNSUPPORTED_PARSE_MODE = "unsupported parse_mode"
WRONG_FILE_ID = "wrong file identifier/HTTP URL specified"
INVALID_FILE_ID = "invalid file_id"
FILE_TOO_BIG = "file is too big"
IMAGE_PROCESS_FAILED = "IMAGE_PROCESS_FAILED"
GETUPDATES_WITH_WEBHOOK = ("Conflict: can't use getUpdates method while webhook is active; "
                           "use deleteWebhook to delete the webhook first")
GETUPDATES_TERMINATED = ("Conflict: terminated by other getUpdates request; "
                         "make sure that only one bot instance is running")


def chat_kind(chat_type: str) -> str:
    """The word the server puts in 'kicked from the … chat' texts."""
    return "supergroup" if chat_type == "supergroup" else "group"


class Described:
    """A successful result that also carries the server's `description` ("Webhook was set")."""

    def __init__(self, result: Any, description: str) -> None:
        self.result = result
        self.description = description
