"""Bot API parameters from any of the four encodings Telegram accepts.

Query string, form-urlencoded, JSON and multipart all end up here. In every encoding but JSON a
value arrives as a string (PTB json.dumps-es ints, bools and nested objects), so the typed getters
coerce "123" → 123, "true" → True and decode JSON text for reply_markup and friends.
"""
from __future__ import annotations

import json
from typing import Any

from flask import Request
from werkzeug.datastructures import FileStorage

from .errors import ApiError, bad_request


class Params:
    """One call's parameters; uploaded files are kept apart in `files`."""

    def __init__(self, values: dict[str, Any], files: dict[str, FileStorage] | None = None) -> None:
        self.values = values
        self.files = files or {}

    @classmethod
    def from_request(cls, request: Request) -> "Params":
        values: dict[str, Any] = {k: v for k, v in request.args.items()}
        mimetype = request.mimetype or ""
        if mimetype == "application/json":
            raw = request.get_data(cache=True)
            if raw.strip():
                try:
                    body = json.loads(raw)
                except ValueError as exc:
                    raise bad_request("can't parse JSON encoded request") from exc
                if not isinstance(body, dict):
                    raise bad_request("can't parse JSON encoded request")
                values.update(body)
            return cls(values)
        values.update({k: v for k, v in request.form.items()})
        return cls(values, {k: v for k, v in request.files.items()})

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> "Params":
        return cls(dict(values))

    def summary(self) -> dict[str, Any]:
        """Loggable view: values as given, uploads as their file names."""
        out = dict(self.values)
        for name, upload in self.files.items():
            out[name] = f"<upload {upload.filename or name}>"
        return out

    def has(self, name: str) -> bool:
        value = self.values.get(name)
        return name in self.files or (value is not None and value != "")

    def get_str(self, name: str, default: str | None = None) -> str | None:
        value = self.values.get(name)
        if value is None:
            return default
        if isinstance(value, (dict, list)):
            return json.dumps(value)
        if isinstance(value, bool):
            return "true" if value else "false"
        return str(value)

    def get_int(self, name: str, default: int | None = None) -> int | None:
        value = self.values.get(name)
        if value is None or value == "":
            return default
        if isinstance(value, bool):
            return int(value)
        if isinstance(value, int):
            return value
        try:
            return int(str(value).strip())
        except ValueError:
            try:
                return int(float(str(value)))
            except ValueError:
                return 0  # the server reads a non-number as 0, which then fails its own check

    def get_bool(self, name: str, default: bool = False) -> bool:
        value = self.values.get(name)
        if value is None or value == "":
            return default
        if isinstance(value, bool):
            return value
        return str(value).strip().lower() in ("true", "1")

    def get_json(self, name: str, error: str) -> Any:
        """A JSON-typed parameter; `error` is the server's text for undecodable input."""
        value = self.values.get(name)
        if value is None or value == "":
            return None
        if isinstance(value, (dict, list)):
            return value
        try:
            return json.loads(value)
        except (TypeError, ValueError) as exc:
            raise bad_request(error) from exc

    def upload(self, name: str) -> tuple[bytes, str | None, str | None] | None:
        """(bytes, file name, content type) when `name` is a file, directly or via attach://."""
        storage = self.files.get(name)
        value = self.values.get(name)
        if storage is None and isinstance(value, str) and value.startswith("attach://"):
            storage = self.files.get(value[len("attach://"):])
        if storage is None:
            return None
        return storage.read(), storage.filename, storage.mimetype or None


def chat_id_value(params: Params) -> int | str:
    """`chat_id` as an int, or '@username'; missing → 'chat_id is empty'."""
    raw = params.values.get("chat_id")
    if raw is None or raw == "":
        raise bad_request("chat_id is empty")
    if isinstance(raw, bool):
        raise bad_request("chat not found")
    if isinstance(raw, int):
        return raw
    text = str(raw).strip()
    if text.startswith("@"):
        return text
    try:
        return int(text)
    except ValueError as exc:
        raise bad_request("chat not found") from exc


def require_message_id(params: Params) -> int:
    message_id = params.get_int("message_id")
    if not message_id:
        raise bad_request("message identifier is not specified")
    return message_id


__all__ = ["ApiError", "Params", "chat_id_value", "require_message_id"]
