"""Diadoc's box as the emulator keeps it: documents, their recipient response status, the event feed.

Every change appends a BoxEvent with a growing `IndexKey` (opaque to clients: base64 of a sequence
number); `GetNewEvents` pages through them after a given key, chronologically, as the real feed does.
"""
from __future__ import annotations

import base64
import threading
import uuid
from dataclasses import dataclass, field
from typing import Any

from emulators.common.clock import Clock

TICKS_AT_EPOCH = 621_355_968_000_000_000  # .NET ticks (100 ns since 0001-01-01) at 1970-01-01
SIGNED, REJECTED, WAITING = "WithRecipientSignature", "RecipientSignatureRequestRejected", "WaitingForRecipientSignature"


def index_key(seq: int) -> str:
    return base64.urlsafe_b64encode(f"ik:{seq:012d}".encode()).decode()


def seq_of(key: str) -> int:
    """The sequence number behind an IndexKey; ValueError if it is not one of ours."""
    try:
        text = base64.urlsafe_b64decode(key.encode()).decode()
    except Exception:
        raise ValueError("afterIndexKey is not a valid index key") from None
    if not text.startswith("ik:") or not text[3:].isdigit():
        raise ValueError("afterIndexKey is not a valid index key")
    return int(text[3:])


@dataclass
class Document:
    message_id: str
    entity_id: str
    title: str
    number: str
    date: str
    type_named_id: str
    counterparty_box: str
    status: str = WAITING

    def as_json(self, box_id: str) -> dict[str, Any]:
        return {"IndexKey": None, "MessageId": self.message_id, "EntityId": self.entity_id, "Title": self.title,
                "DocumentNumber": self.number, "DocumentDate": self.date, "TypeNamedId": self.type_named_id,
                "DocumentDirection": "Outbound", "FromBoxId": box_id, "CounterpartyBoxId": self.counterparty_box,
                "RecipientResponseStatus": self.status, "IsDeleted": False}


@dataclass
class DiadocState:
    clock: Clock
    box_id: str
    tokens: set[str]
    documents: dict[tuple[str, str], Document] = field(default_factory=dict)
    events: list[dict[str, Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def ticks(self) -> int:
        return int(self.clock.now() * 10_000_000) + TICKS_AT_EPOCH

    def _append(self, event: dict[str, Any]) -> dict[str, Any]:
        event = {"EventId": str(uuid.uuid4()), "IndexKey": index_key(len(self.events) + 1), **event}
        self.events.append(event)
        return event

    def send(self, title: str, number: str, date: str, counterparty_box: str, type_named_id: str = "Nonformalized",
             message_id: str | None = None, entity_id: str | None = None) -> Document:
        """Our box sends a document that needs the counterparty's signature."""
        with self.lock:
            doc = Document(message_id or str(uuid.uuid4()), entity_id or str(uuid.uuid4()), title, number, date, type_named_id, counterparty_box)
            self.documents[(doc.message_id, doc.entity_id)] = doc
            self._append({"Message": {"MessageId": doc.message_id, "TimestampTicks": self.ticks(), "FromBoxId": self.box_id,
                                      "ToBoxId": counterparty_box, "Entities": [{
                                          "EntityType": "Attachment", "EntityId": doc.entity_id, "AttachmentType": type_named_id,
                                          "FileName": f"{title}.pdf", "NeedRecipientSignature": True,
                                          "DocumentInfo": {"DocumentNumber": number, "DocumentDate": date}}]}})
            return doc

    def answer(self, message_id: str, signed: bool) -> Document:
        """The counterparty signs, or refuses to sign, every document of the message."""
        with self.lock:
            docs = [d for (m, _), d in self.documents.items() if m == message_id]
            if not docs:
                raise KeyError(message_id)
            entities = []
            for doc in docs:
                doc.status = SIGNED if signed else REJECTED
                entities.append({"EntityType": "Signature", "EntityId": str(uuid.uuid4()), "ParentEntityId": doc.entity_id,
                                 "SignerBoxId": doc.counterparty_box} if signed else
                                {"EntityType": "Attachment", "EntityId": str(uuid.uuid4()), "ParentEntityId": doc.entity_id,
                                 "AttachmentType": "SignatureRequestRejection", "FileName": "Отказ.xml"})
            self._append({"Patch": {"MessageId": message_id, "PatchId": str(uuid.uuid4()), "TimestampTicks": self.ticks(),
                                    "MessageType": "Letter", "Entities": entities}})
            return docs[0]

    def page(self, after: int, size: int) -> list[dict[str, Any]]:
        with self.lock:
            return [dict(e) for e in self.events[after:after + size]]
