"""Kontur.Diadoc: read the box's event feed after the stored IndexKey; each document an event touched
becomes one inbox event carrying the document's recipient response status (signed, rejected, ...).

The status is read from `GetDocument` rather than guessed from the patch's entities: it is the one
field that says what the counterparty did, whatever mix of signatures and receipts the patch holds.
Events are stored before the cursor moves, so a crash in between only repeats (and the inbox drops
the repeats by their event ids).
"""
from __future__ import annotations

import logging
from typing import Any, Callable

from connectors.edo.http import EdoApiError, EdoHttp
from connectors.edo.settings import DiadocSettings
from relay.intake.base import IncomingEvent

log = logging.getLogger("relay.edo.diadoc")
MAX_PAGES = 1000  # a feed that never ends is an API bug; stop and resume next run
STATUSES = {"WithRecipientSignature": "signed", "WithRecipientPartiallySignature": "signed",
            "RecipientSignatureRequestRejected": "rejected", "WaitingForRecipientSignature": "waiting",
            "InvalidRecipientSignature": "invalid"}


def touched(event: dict[str, Any]) -> list[tuple[str, str]]:
    """(MessageId, EntityId) of every document a BoxEvent concerns: a new message's attachments, or
    the documents a patch's signatures and rejections point at (ParentEntityId)."""
    body = event.get("Message") or event.get("Patch") or {}
    message_id = str(body.get("MessageId") or "")
    found: list[tuple[str, str]] = []
    for entity in body.get("Entities") or []:
        parent = entity.get("ParentEntityId")
        if parent:
            found.append((message_id, str(parent)))
        elif entity.get("EntityType") == "Attachment" and "Message" in event:
            found.append((message_id, str(entity.get("EntityId"))))
    return list(dict.fromkeys(found)) if message_id else []


class DiadocPoller:
    def __init__(self, settings: DiadocSettings, load_cursor: Callable[[str], str | None],
                 store_events: Callable[[list[IncomingEvent], str, str], None]) -> None:
        self.settings = settings
        self.cursor_name = f"edo.diadoc.{settings.box_id}"
        self.load_cursor, self.store_events = load_cursor, store_events
        self.http = EdoHttp("Diadoc", settings.base_url, settings.timeout_seconds, settings.requests_per_second)
        self.http.session.headers.update({"Authorization": f"Bearer {settings.token.get_secret_value()}", "Accept": "application/json"})

    def _get(self, path: str, params: dict[str, str]) -> Any:
        response = self.http.request("GET", path, params=params)
        if response.status_code == 401:
            raise EdoApiError("Diadoc", 401, "the access token was refused; renew connectors.edo.diadoc.token")
        return response.json()

    def poll(self) -> int:
        """Read every new event page; returns how many document events were queued."""
        queued = 0
        after = self.load_cursor(self.cursor_name)
        for _ in range(MAX_PAGES):
            params = {"boxId": self.settings.box_id, **({"afterIndexKey": after} if after else {})}
            page = self._get("/V8/GetNewEvents", params)
            events = page.get("Events") or []
            if not events:
                return queued
            incoming = [e for event in events for e in self._documents(event)]
            after = str(events[-1]["IndexKey"])
            self.store_events(incoming, self.cursor_name, after)
            queued += len(incoming)
            if len(events) >= int(page.get("TotalCount") or 0):
                return queued
        log.warning("Diadoc feed of %s: stopped after %d pages; the next run goes on", self.settings.box_id, MAX_PAGES)
        return queued

    def _documents(self, event: dict[str, Any]) -> list[IncomingEvent]:
        out = []
        for message_id, entity_id in touched(event):
            doc = self._get("/V3/GetDocument", {"boxId": self.settings.box_id, "messageId": message_id, "entityId": entity_id})
            raw = str(doc.get("RecipientResponseStatus") or "")
            status = STATUSES.get(raw, "other")
            payload = {"system": "diadoc", "id": message_id, "message_id": message_id, "entity_id": entity_id,
                       "number": str(doc.get("DocumentNumber") or ""), "date": str(doc.get("DocumentDate") or ""),
                       "title": str(doc.get("Title") or ""), "type": str(doc.get("TypeNamedId") or ""),
                       "status": status, "status_detail": raw, "counterparty": str(doc.get("CounterpartyBoxId") or ""),
                       "event_id": str(event.get("EventId") or "")}
            out.append(IncomingEvent(kind=f"document.{status}", entity_key=f"edo:diadoc:{message_id}", payload=payload,
                                     idem_key=f"diadoc:{event.get('EventId')}:{entity_id}"))
        return out

    def close(self) -> None:
        self.http.close()
