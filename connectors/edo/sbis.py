"""SBIS (Saby): read `СБИС.СписокИзменений` after the last event seen; each document becomes one inbox
event with what its latest event says (approved → signed, rejected, or still in progress).

The list repeats a document once per event, so a page run is folded by `Идентификатор`, keeping the
latest. A session that expired (401) is opened again once. The stored cursor is the last event's id
and time: SBIS requires the filter's date to carry a time, so both travel in `Фильтр`.
"""
from __future__ import annotations

import json
import logging
from datetime import datetime
from typing import Any, Callable

from connectors.edo.http import EdoApiError, EdoHttp
from connectors.edo.settings import SBIS_TIME, SbisSettings
from relay.intake.base import IncomingEvent

log = logging.getLogger("relay.edo.sbis")
JSON_UTF8 = {"Content-Type": "application/json; charset=utf-8"}  # without charset SBIS answers -32700
MAX_PAGES = 1000


def status_of(document: dict[str, Any]) -> str:
    """signed / rejected / waiting, from the latest event's name and the state; unknown codes are in progress."""
    events = document.get("Событие") or []
    last = str(events[-1].get("Название") or "") if events else ""
    state = document.get("Состояние") or {}
    name = str(state.get("Название") or "").lower()
    if last == "Отклонение" or "отклон" in name or "отказ" in name:
        return "rejected"
    if last == "Утверждение" or str(state.get("Код")) == "7":
        return "signed"
    return "waiting"


class SbisRpcError(Exception):
    pass


class SbisPoller:
    def __init__(self, settings: SbisSettings, load_cursor: Callable[[str], str | None],
                 store_events: Callable[[list[IncomingEvent], str, str], None], now: Callable[[], datetime]) -> None:
        self.settings = settings
        self.cursor_name = f"edo.sbis.{settings.inn}"
        self.load_cursor, self.store_events, self.now = load_cursor, store_events, now
        self.http = EdoHttp("SBIS", settings.base_url, settings.timeout_seconds)
        self.sid: str | None = None

    def _rpc(self, path: str, method: str, params: dict[str, Any], headers: dict[str, str]) -> Any:
        body = json.dumps({"jsonrpc": "2.0", "method": method, "params": params, "id": 1}, ensure_ascii=False).encode("utf-8")
        response = self.http.request("POST", path, data=body, headers={**JSON_UTF8, **headers})
        answer = response.json()
        if response.status_code == 401:
            raise PermissionError(str((answer.get("error") or {}).get("message", "session refused")))
        if "error" in answer:
            error = answer["error"] or {}
            raise SbisRpcError(f"SBIS {method}: {error.get('code')}: {error.get('message')}")
        return answer.get("result")

    def _login(self) -> str:
        try:
            sid = self._rpc("/auth/service/", "СБИС.Аутентифицировать",
                            {"Параметр": {"Логин": self.settings.login, "Пароль": self.settings.password.get_secret_value()}}, {})
        except PermissionError:
            raise EdoApiError("SBIS", 401, "login refused; check connectors.edo.sbis.login and password") from None
        self.sid = str(sid)
        return self.sid

    def call(self, method: str, params: dict[str, Any]) -> Any:
        """A call in the current session; an expired session is opened again once."""
        for attempt in (1, 2):
            sid = self.sid or self._login()
            try:
                return self._rpc("/service/?srv=1", method, params, {"X-SBISSessionID": sid})
            except PermissionError:
                self.sid = None
                if attempt == 2:
                    raise EdoApiError("SBIS", 401, "the new session was refused too") from None
        raise AssertionError("unreachable")  # pragma: no cover

    def poll(self) -> int:
        stored = self.load_cursor(self.cursor_name)
        cursor = json.loads(stored) if stored else None
        if cursor is None:
            cursor = {"since": self.settings.start or self.now().strftime(SBIS_TIME), "event": ""}
            if not self.settings.start:  # first run without a start: from now on, nothing older is news
                self.store_events([], self.cursor_name, json.dumps(cursor))
                return 0
        documents: dict[str, dict[str, Any]] = {}
        org = {"СвЮЛ": {"ИНН": self.settings.inn, **({"КПП": self.settings.kpp} if self.settings.kpp else {})}}
        for page in range(MAX_PAGES):
            flt: dict[str, Any] = {"ДатаВремяС": cursor["since"], "НашаОрганизация": org, "Навигация": {"Страница": str(page)}}
            if cursor.get("event"):
                flt["ИдентификаторСобытия"] = cursor["event"]
            result = self.call("СБИС.СписокИзменений", {"Фильтр": flt}) or {}
            for document in result.get("Документ") or []:
                documents.pop(str(document.get("Идентификатор")), None)
                documents[str(document.get("Идентификатор"))] = document  # the latest occurrence wins, in feed order
            if str((result.get("Навигация") or {}).get("ЕстьЕще", "Нет")) != "Да":
                break
        if not documents:
            return 0
        incoming = [self._event(d) for d in documents.values()]
        last = (list(documents.values())[-1].get("Событие") or [{}])[-1]
        cursor = {"since": str(last.get("ДатаВремя") or cursor["since"]), "event": str(last.get("Идентификатор") or "")}
        self.store_events(incoming, self.cursor_name, json.dumps(cursor, ensure_ascii=False))
        return len(incoming)

    @staticmethod
    def _event(document: dict[str, Any]) -> IncomingEvent:
        events = document.get("Событие") or [{}]
        status = status_of(document)
        doc_id = str(document.get("Идентификатор"))
        party = (document.get("Контрагент") or {}).get("СвЮЛ") or (document.get("Контрагент") or {}).get("СвФЛ") or {}
        state = document.get("Состояние") or {}
        payload = {"system": "sbis", "id": doc_id, "number": str(document.get("Номер") or ""), "date": str(document.get("Дата") or ""),
                   "title": f"{document.get('Тип', '')} № {document.get('Номер', '')}".strip(), "type": str(document.get("Тип") or ""),
                   "amount": str(document.get("Сумма") or ""), "status": status,
                   "status_detail": f"{state.get('Код', '')} {state.get('Название', '')}".strip(), "counterparty": party.get("Название", ""),
                   "counterparty_inn": party.get("ИНН", ""), "event_id": str(events[-1].get("Идентификатор") or ""),
                   "event": str(events[-1].get("Название") or "")}
        return IncomingEvent(kind=f"document.{status}", entity_key=f"edo:sbis:{doc_id}", payload=payload,
                             idem_key=f"sbis:{doc_id}:{payload['event_id']}")

    def close(self) -> None:
        self.http.close()
