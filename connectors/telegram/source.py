"""Intake of Telegram webhook deliveries at POST /hooks/telegram/<bot>.

Telegram authenticates a delivery only by the `secret_token` given to setWebhook, echoed in the
`X-Telegram-Bot-Api-Secret-Token` header; it is compared in constant time. One delivery is one
Update; its `update_id` (unique per bot) makes a redelivery the same event.
"""
from __future__ import annotations

import json
from typing import Any

import telegram

from connectors.telegram.settings import TelegramSettings
from connectors.telegram.updates import chat_key, classify
from relay.intake.base import IncomingEvent, InboundRequest, Rejected, same_secret

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


class TelegramSource:
    name = "telegram"

    def __init__(self, settings: TelegramSettings) -> None:
        self.settings = settings

    def accept(self, request: InboundRequest) -> list[IncomingEvent]:
        bot = request.subpath.strip("/")
        settings = self.settings.bots.get(bot)
        if settings is None:
            raise Rejected(404, f"no bot named {bot!r}: the webhook URL is /hooks/telegram/<bot>, with a bot from connectors.telegram.bots")
        given = request.header(SECRET_HEADER)
        if not given:
            raise Rejected(401, f"{SECRET_HEADER} is missing (setWebhook with secret_token)")
        if not same_secret(given, settings.secret_token.get_secret_value()):
            raise Rejected(403, f"{SECRET_HEADER} does not match connectors.telegram.bots.{bot}.secret_token")
        data = _json_object(request.body)
        try:
            update = telegram.Update.de_json(data, None)
        except Exception as exc:  # PTB raises KeyError/TypeError/ValueError for shapes it cannot read
            raise Rejected(422, f"not a Telegram Update: {type(exc).__name__}: {exc}") from None
        meaning = classify(update)
        if meaning is None:
            return []  # acknowledged, nothing to store (service messages, update types the relay ignores)
        kind, chat_id = meaning
        entity = chat_key(chat_id) if chat_id is not None else f"telegram:user:{update.effective_user.id if update.effective_user else 0}"
        return [IncomingEvent(kind=kind, entity_key=entity, payload={"bot": bot, "update": data}, idem_key=f"{bot}:{update.update_id}")]


def _json_object(body: bytes) -> dict[str, Any]:
    try:
        data = json.loads(body.decode("utf-8"))
    except UnicodeDecodeError:
        raise Rejected(400, "body is not UTF-8") from None
    except json.JSONDecodeError as exc:
        raise Rejected(400, f"body is not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
    except RecursionError:
        raise Rejected(400, "body is JSON nested too deeply") from None
    if not isinstance(data, dict):
        raise Rejected(400, f"body is JSON but not an object (got {type(data).__name__}); Telegram sends one Update object")
    if not isinstance(data.get("update_id"), int):
        raise Rejected(422, "not a Telegram Update: `update_id` (an integer) is missing")
    return data
