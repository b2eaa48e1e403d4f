"""SBIS (Saby) API emulator: JSON-RPC 2.0 at `/auth/service/` (`СБИС.Аутентифицировать`) and
`/service/?srv=1` (`СБИС.СписокИзменений`), `X-SBISSessionID` sessions that can be expired, the
`charset=utf-8` requirement (-32700 without it) and the mandatory filter with a time (-32000)."""
from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

from flask import Flask, Response, jsonify, request
from pydantic import BaseModel, Field

from emulators.common.clock import MSK, Clock, SystemClock
from emulators.common.control import RequestCounter, install_control, json_app, read_seed
from emulators.sbis.state import SBIS_TIME, SbisState

DEFAULT_SEED = Path(__file__).parent / "seeds" / "demo.yaml"


class Knobs(BaseModel):
    page_size: int = Field(25, ge=1, le=1000, description="documents per page of СписокИзменений")


def _rpc_error(call_id: Any, code: int, message: str, status: int = 200) -> Response:
    response = jsonify({"jsonrpc": "2.0", "error": {"code": code, "message": message, "details": message}, "id": call_id})
    response.status_code = status
    return response


def _rpc_result(call_id: Any, result: Any) -> Response:
    return jsonify({"jsonrpc": "2.0", "result": result, "id": call_id})


def _call() -> tuple[dict[str, Any] | None, Response | None]:
    """The JSON-RPC call, or the error SBIS answers for a body it cannot take."""
    if "charset=utf-8" not in (request.content_type or "").lower().replace(" ", ""):
        return None, _rpc_error(None, -32700, "Parse error: Content-Type must be application/json; charset=utf-8")
    try:
        body = json.loads(request.get_data().decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        return None, _rpc_error(None, -32700, "Parse error")
    if not isinstance(body, dict) or body.get("jsonrpc") != "2.0" or "method" not in body:
        return None, _rpc_error(body.get("id") if isinstance(body, dict) else None, -32600, "Invalid Request")
    return body, None


def create_app(seed: dict[str, Any] | str | Path | None = None, clock: Clock | None = None) -> Flask:
    data = read_seed(seed, DEFAULT_SEED)
    clock = clock or SystemClock()
    holder: dict[str, Any] = {}

    def load() -> None:
        org = data["organization"]
        state = SbisState(clock, dict(data.get("logins", {})), str(org["inn"]), str(org["kpp"]))
        for doc in data.get("documents", []):
            doc_id = state.send(str(doc["number"]), str(doc["date"]), str(doc.get("amount", "0.00")), doc.get("type", "ДокОтгрИсх"),
                                doc["counterparty"], doc.get("id"))
            if doc.get("status") in ("approved", "rejected"):
                state.answer(doc_id, doc["status"] == "approved")
        holder["state"], holder["knobs"] = state, Knobs()

    load()
    app = json_app("sbis", holder)
    install_control(app, counter=RequestCounter(), clock=clock, get_knobs=lambda: holder["knobs"],
                    set_knobs=lambda k: holder.__setitem__("knobs", k), reset=load,
                    dump=lambda: {"documents": list(holder["state"].documents.values()), "changes": len(holder["state"].changes)})

    @app.post("/auth/service/")
    def authenticate() -> Response:
        body, error = _call()
        if error:
            return error
        assert body is not None
        if body["method"] != "СБИС.Аутентифицировать":
            return _rpc_error(body.get("id"), -32601, f"Method not found: {body['method']}")
        creds = ((body.get("params") or {}).get("Параметр") or {})
        sid = holder["state"].login(str(creds.get("Логин", "")), str(creds.get("Пароль", "")))
        if sid is None:
            return _rpc_error(body.get("id"), -32000, "Неверный логин или пароль", status=401)
        return _rpc_result(body.get("id"), sid)

    @app.post("/service/")
    def service() -> Response:
        body, error = _call()
        if error:
            return error
        assert body is not None
        state: SbisState = holder["state"]
        if request.headers.get("X-SBISSessionID", "") not in state.sessions:
            return _rpc_error(body.get("id"), -32000, "Сессия истекла или не найдена. Авторизуйтесь заново", status=401)
        if body["method"] != "СБИС.СписокИзменений":
            return _rpc_error(body.get("id"), -32601, f"Method not found: {body['method']}")
        flt = (body.get("params") or {}).get("Фильтр")
        if not isinstance(flt, dict):
            return _rpc_error(body.get("id"), -32000, "Не задан обязательный параметр Фильтр")
        try:
            since = datetime.strptime(str(flt.get("ДатаВремяС", "")), SBIS_TIME).replace(tzinfo=MSK)
        except ValueError:
            return _rpc_error(body.get("id"), -32000, "ДатаВремяС: ожидается дата со временем в формате ДД.ММ.ГГГГ ЧЧ.ММ.СС")
        org = ((flt.get("НашаОрганизация") or {}).get("СвЮЛ") or {})
        if org and str(org.get("ИНН", "")) != state.inn:
            return _rpc_error(body.get("id"), -32000, "Наша организация не найдена")
        page = int(str((flt.get("Навигация") or {}).get("Страница", "0")) or 0)
        rows, more = state.listing(since, flt.get("ИдентификаторСобытия") or None, page, holder["knobs"].page_size)
        return _rpc_result(body.get("id"), {"Документ": rows, "Навигация": {"ЕстьЕще": "Да" if more else "Нет", "Страница": str(page)}})

    @app.post("/_emulator/documents")
    def send() -> Response:
        body = request.get_json(force=True)
        doc_id = holder["state"].send(str(body["number"]), str(body["date"]), str(body.get("amount", "0.00")), body.get("type", "ДокОтгрИсх"),
                                      body.get("counterparty", {"ИНН": "7701234567", "КПП": "770101001", "Название": "ООО Ромашка"}))
        return jsonify(holder["state"].documents[doc_id])

    @app.post("/_emulator/documents/<document_id>/<answer>")
    def answer(document_id: str, answer: str) -> Response | tuple[Response, int]:
        if answer not in ("approve", "reject"):
            return jsonify({"error": "answer is approve or reject"}), 404
        try:
            holder["state"].answer(document_id, answer == "approve")
        except KeyError:
            return jsonify({"error": f"no document {document_id}"}), 404
        return jsonify({"ok": True})

    @app.post("/_emulator/sessions/expire")
    def expire() -> Response:
        holder["state"].sessions.clear()
        return jsonify({"expired": True})

    return app
