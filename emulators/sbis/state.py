"""SBIS (Saby) as the emulator keeps it: logins and sessions, our organisation, documents and the
change feed. `СБИС.СписокИзменений` lists one entry per event, so a document appears once for every
event that touched it, with the state it had after that event."""
from __future__ import annotations

import secrets
import threading
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from emulators.common.clock import MSK, Clock

STATE_SENT = {"Код": "10", "Название": "В обработке"}
STATE_SIGNED = {"Код": "7", "Название": "Выполнение завершено"}
STATE_REJECTED = {"Код": "9", "Название": "Отклонен"}
SBIS_TIME = "%d.%m.%Y %H.%M.%S"


@dataclass
class Change:
    seq: int
    event_id: str
    document_id: str
    name: str
    moment: datetime
    state: dict[str, str]


@dataclass
class SbisState:
    clock: Clock
    logins: dict[str, str]
    inn: str
    kpp: str
    documents: dict[str, dict[str, Any]] = field(default_factory=dict)
    changes: list[Change] = field(default_factory=list)
    sessions: set[str] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.clock.now(), MSK).replace(microsecond=0)

    def login(self, login: str, password: str) -> str | None:
        if self.logins.get(login) != password:
            return None
        sid = secrets.token_hex(16)
        with self.lock:
            self.sessions.add(sid)
        return sid

    def _record(self, document_id: str, name: str, state: dict[str, str]) -> None:
        self.changes.append(Change(len(self.changes) + 1, str(uuid.uuid4()), document_id, name, self.now(), state))

    def send(self, number: str, date: str, amount: str, kind: str, counterparty: dict[str, str], document_id: str | None = None) -> str:
        with self.lock:
            doc_id = document_id or str(uuid.uuid4())
            self.documents[doc_id] = {"Идентификатор": doc_id, "Номер": number, "Дата": date, "Сумма": amount, "Тип": kind,
                                      "Направление": "Исходящий", "Удален": "Нет", "Контрагент": {"СвЮЛ": counterparty}}
            self._record(doc_id, "Отправка", STATE_SENT)
            return doc_id

    def answer(self, document_id: str, approved: bool) -> None:
        with self.lock:
            if document_id not in self.documents:
                raise KeyError(document_id)
            self._record(document_id, "Утверждение" if approved else "Отклонение", STATE_SIGNED if approved else STATE_REJECTED)

    def listing(self, since: datetime, after_event: str | None, page: int, size: int) -> tuple[list[dict[str, Any]], bool]:
        with self.lock:
            start = 0
            if after_event:
                start = next((c.seq for c in self.changes if c.event_id == after_event), 0)
            chosen = [c for c in self.changes[start:] if c.moment >= since]
            window = chosen[page * size:(page + 1) * size]
            rows = [{**self.documents[c.document_id], "Состояние": dict(c.state),
                     "Событие": [{"Идентификатор": c.event_id, "Название": c.name, "ДатаВремя": c.moment.strftime(SBIS_TIME),
                                  "Вложение": [{"Служебный": "Нет", "Название": f"{self.documents[c.document_id]['Номер']}.pdf",
                                                "Файл": {"Имя": f"{self.documents[c.document_id]['Номер']}.pdf", "Ссылка": ""}}]}]}
                    for c in window]
            return rows, len(chosen) > (page + 1) * size
