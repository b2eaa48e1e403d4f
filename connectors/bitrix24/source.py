"""Intake of Bitrix24 outgoing-webhook events at /hooks/bitrix24.

The body is form-encoded with PHP brackets; it names the event and the entity id, nothing more.
Authenticity is `auth[application_token]` (no signature exists), compared in constant time.
"""
from __future__ import annotations

import hashlib
from typing import Any

from connectors.bitrix24.settings import Bitrix24Settings
from connectors.bitrix24.wire import parse_form
from relay.intake.base import IncomingEvent, InboundRequest, Rejected, same_secret

# event code prefix → (entity type, how the id is found)
_ENTITIES = {"ONCRMDEAL": "deal", "ONCRMCOMPANY": "company", "ONCRMCONTACT": "contact", "ONCRMLEAD": "lead",
             "ONCRMDYNAMICITEM": "item", "ONTASK": "task"}
_ACTIONS = {"ADD": "added", "UPDATE": "updated", "DELETE": "deleted"}


def entity_key(entity: str, entity_id: str, type_id: str = "") -> str:
    return f"bitrix24:{entity}:{type_id}:{entity_id}" if type_id else f"bitrix24:{entity}:{entity_id}"


def describe(event_code: str, data: dict[str, Any]) -> tuple[str, str, str, str]:
    """(entity, action, id, entityTypeId) of an event code and its `data`; raises ValueError if unknown."""
    code = event_code.upper()
    for prefix, entity in _ENTITIES.items():
        if code.startswith(prefix):
            rest = code[len(prefix):]
            action = next((a for verb, a in _ACTIONS.items() if rest.startswith(verb)), None)
            if action is None:
                break
            if entity == "task":
                fields = data.get("FIELDS_AFTER") or data.get("FIELDS_BEFORE") or {}
            else:
                fields = data.get("FIELDS") or {}
            entity_id = str(fields.get("ID") or "").strip() if isinstance(fields, dict) else ""
            if not (entity_id.isascii() and entity_id.isdigit()):  # "١٢" is a digit to Python, not an id to Bitrix24
                raise ValueError(f"event {event_code} carries no numeric data[FIELDS][ID]")
            return entity, action, entity_id, str(fields.get("ENTITY_TYPE_ID") or "")
    raise ValueError(f"event {event_code!r} is not one the relay handles (deal, company, contact, lead, smart-process item, task events)")


class Bitrix24Source:
    name = "bitrix24"

    def __init__(self, settings: Bitrix24Settings) -> None:
        self.settings = settings

    def accept(self, request: InboundRequest) -> list[IncomingEvent]:
        try:
            form = parse_form(request.body.decode("utf-8"))
        except UnicodeDecodeError:
            raise Rejected(400, "body is not UTF-8 form data") from None
        auth = form.get("auth") if isinstance(form.get("auth"), dict) else {}
        token = str(auth.get("application_token", ""))
        if not token:
            raise Rejected(401, "auth[application_token] is missing")
        if not same_secret(token, self.settings.application_token.get_secret_value()):
            raise Rejected(403, "auth[application_token] does not match connectors.bitrix24.application_token")
        if self.settings.member_id and str(auth.get("member_id", "")) != self.settings.member_id:
            raise Rejected(403, "the event comes from another portal (auth[member_id])")
        code = str(form.get("event", ""))
        data = form.get("data") if isinstance(form.get("data"), dict) else {}
        try:
            entity, action, entity_id, type_id = describe(code, data)
        except ValueError as exc:
            raise Rejected(422, str(exc)) from None
        payload = {"event": code.upper(), "id": entity_id, "entity_type_id": type_id, "ts": str(form.get("ts", ""))}
        # Bitrix24 sends no event id; the same event delivered twice has the same body. But two real
        # changes in one second look the same too, so a repeat after processing began is a new look.
        idem = "sha256:" + hashlib.sha256(f"{code}|{entity_id}|{type_id}|{payload['ts']}".encode()).hexdigest()
        return [IncomingEvent(kind=f"{entity}.{action}", entity_key=entity_key(entity, entity_id, type_id), payload=payload,
                              idem_key=idem, repeatable=True)]
