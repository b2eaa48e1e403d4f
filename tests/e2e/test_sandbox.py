"""The sandbox end to end: `app.py sandbox` in a subprocess with the shipped config on free ports,
`app.py sandbox --demo` walking the stories against it, and what the emulators and /admin then hold.

The one change to the shipped config besides ports, store and log level: the relay may call the
Planfix emulator 20 times a second instead of Planfix's 1 (the emulator does not enforce the limit
in the sandbox), which saves the test some 20 seconds of pacing."""
from __future__ import annotations

import re
import shutil
import signal
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from typing import Any, Iterator
from zoneinfo import ZoneInfo

import pytest
import requests
import yaml

from tests.support.process import ROOT, free_port, start_relay, wait_healthy

EMULATORS = ("bitrix24", "telegram", "fintablo", "tochka", "tbank", "planfix", "google_forms")
STAFF_CHAT, CLIENT_CHAT, AGENCY_CHAT = -1001000000001, -1001000000002, -1001000000004
FINTABLO_AUTH = {"Authorization": "Bearer ft-demo-7f3c9a1e5b"}
PLANFIX_AUTH = {"Authorization": "Bearer 5d80e21cb3e12345678bdd568a2226d5"}


def sandbox_config(folder: Path, db_url: str) -> tuple[Path, dict[str, int]]:
    """The shipped config.yaml, with its own store and free ports; rules and mappings copied beside it."""
    data: dict[str, Any] = yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))
    ports = {name: free_port() for name in (*EMULATORS, "relay")}
    for name in EMULATORS:
        data["sandbox"][name] = {"port": ports[name], "seed": str(ROOT / data["sandbox"][name]["seed"])}
    data["store"]["url"] = db_url
    data["web"]["port"] = ports["relay"]
    data["logging"]["level"] = "WARNING"
    data["connectors"]["planfix"]["requests_per_second"] = 20
    for part in ("rules", "mappings"):
        shutil.copytree(ROOT / part, folder / part)
    path = folder / "config.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path, ports


def app(config: Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(ROOT / "app.py"), "--config", str(config), *args],
                          capture_output=True, text=True, cwd=ROOT, timeout=timeout)


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[tuple[Path, dict[str, int], subprocess.Popen[bytes]]]:
    """On SQLite, the sandbox's own store: one run takes ~20 s on two busy cores, and the store code it
    adds (emptying, the ready mark) runs on both back ends in test_sandbox_config.py."""
    config, ports = sandbox_config(tmp_path, f"sqlite:///{tmp_path / 'sandbox.db'}")
    process = start_relay(config, command="sandbox")
    try:
        wait_healthy(f"http://127.0.0.1:{ports['relay']}", process)
        yield config, ports, process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()


def b24(port: int, method: str, **params: Any) -> Any:
    answer = requests.post(f"http://127.0.0.1:{port}/rest/1/demo0webhook0key/{method}.json", json=params, timeout=10)
    return answer.json()["result"]


def planfix(port: int, method: str, path: str, **body: Any) -> Any:
    url = f"http://127.0.0.1:{port}/rest{path}"
    answer = requests.request(method, url, headers=PLANFIX_AUTH, timeout=10, **({"json": body} if method == "POST" else {"params": body}))
    assert answer.status_code == 200, answer.text
    return answer.json()


def planfix_comments(port: int, task: int) -> list[dict[str, Any]]:
    return list(planfix(port, "POST", f"/task/{task}/comments/list", fields="id,description,owner", typeList="Comments")["comments"])


def test_demo_fills_the_emulators_and_the_dashboard(sandbox: tuple[Path, dict[str, int], subprocess.Popen[bytes]]) -> None:
    config, ports, process = sandbox
    demo = app(config, "sandbox", "--demo")
    assert demo.returncode == 0, demo.stdout + demo.stderr
    assert "15 of 15 steps worked." in demo.stdout, demo.stdout
    deal = int(re.search(r"creates deal #(\d+)", demo.stdout).group(1))  # type: ignore[union-attr]
    relay = f"http://127.0.0.1:{ports['relay']}"
    assert f"{relay}/admin/events/" in demo.stdout

    # Bitrix24: the two child deals exist and point at the parent, which the approval rolled up.
    children = b24(ports["bitrix24"], "crm.deal.list", filter={"UF_CRM_PARENT_DEAL": str(deal)}, select=["ID", "TITLE", "CATEGORY_ID"])
    assert sorted((c["CATEGORY_ID"], c["TITLE"].split(":")[0]) for c in children) == [("1", "Оценка логистики"), ("2", "Расчёт")]
    parent = b24(ports["bitrix24"], "crm.deal.get", id=deal)
    assert parent["STAGE_ID"] == "UC_ESTIMATE_READY" and parent["UF_CRM_COST_PRICE"].startswith("310000")
    assert sorted(parent["UF_CRM_CHILD_DEALS"]) == sorted(c["ID"] for c in children)
    # ...and Ромашка's Tochka payment found it by INN and the amount still due (the children take no payments).
    assert (parent["UF_CRM_PAID_AMOUNT"], parent["UF_CRM_PAYMENT_STATUS"]) == ("480000.00|RUB", "Оплачена")

    # The payment request with the mistyped INN is back in Draft with one comment naming it (S26).
    request = int(re.search(r"fills payment request #(\d+)", demo.stdout).group(1))  # type: ignore[union-attr]
    assert b24(ports["bitrix24"], "crm.item.get", entityTypeId=1040, id=request)["item"]["stageId"] == "DT1040_12:NEW"
    notes = b24(ports["bitrix24"], "crm.timeline.comment.list", filter={"ENTITY_TYPE": "dynamic_1040", "ENTITY_ID": request})
    assert [n["COMMENT"].splitlines()[-1] for n in notes] == ["— ИНН 7707083895: неверная контрольная сумма"], notes

    # Telegram: the client chat was bound and told; the staff chat holds the client's message.
    telegram = f"http://127.0.0.1:{ports['telegram']}/_emulator/chats"
    client = [m["text"] for m in requests.get(f"{telegram}/{CLIENT_CHAT}/sent", timeout=10).json()]
    assert f"✅ Чат привязан к сделке №{deal}" in client
    assert any(text.startswith("Передали «Станки ЧПУ") for text in client)
    staff = [m["text"] for m in requests.get(f"{telegram}/{STAFF_CHAT}/sent", timeout=10).json()]
    assert any(f"сделка №{deal}" in t and "Ольга Кузнецова: Добрый день! Когда будет готова оценка по станкам?" in t for t in staff), staff

    # Fintablo: one transaction per payment, though the Tochka payment also came in a 1C file.
    day = datetime.now(ZoneInfo("Europe/Moscow")).strftime("%d.%m.%Y")
    items = requests.get(f"http://127.0.0.1:{ports['fintablo']}/v1/transaction", params={"dateFrom": day, "dateTo": day},
                         headers=FINTABLO_AUTH, timeout=10).json()["items"]
    machines = [t for t in items if "за станки ЧПУ" in t["description"]]
    support = [t for t in items if "техническую поддержку" in t["description"]]
    assert [(t["group"], t["value"], t["moneybagId"], t["categoryId"], t["partnerId"]) for t in machines] == [("income", 480000, 376, 356, 78)]
    assert [(t["value"], t["moneybagId"], t["partnerId"]) for t in support] == [(15000, 377, 79)]

    # Planfix: the client's message is a comment in the communication task (S10); the client approved the
    # production task with a button (S13); the brief's answers are the contact's fields (S11).
    said = re.search(r"Алиса \(the client\) writes in the group: (.+)", demo.stdout).group(1)  # type: ignore[union-attr]
    assert [c["owner"]["id"] for c in planfix_comments(ports["planfix"], 1001) if said in c["description"]] == ["user:1"]
    assert planfix(ports["planfix"], "GET", "/task/1004", fields="id,status")["task"]["status"]["name"] == "Завершенная"
    assert any("утвердил результат" in c["description"] for c in planfix_comments(ports["planfix"], 1004))
    contact = planfix(ports["planfix"], "GET", "/contact/11", fields="id,203,204,205,206,208,210")["contact"]
    fields = {c["field"]["id"]: c["value"] for c in contact["customFieldData"]}
    assert fields == {203: "+79161234567", 204: "Alice@romashka.example", 205: 350000, 206: fields[206], 208: "Рекомендация", 210: True}
    assert fields[206]["date"] == "01-03-2027"

    # Telegram: the agency's client group heard each status once (S12, S13), got the brief's link and the thanks (S11).
    group = requests.get(f"{telegram}/{AGENCY_CHAT}/sent", timeout=10).json()
    texts = [m["text"] for m in group]
    assert texts.count("🚀 Мы начали работу над задачей «Ромашка: верстка». Сообщим, когда закончим.") == 1, texts
    assert texts.count("✅ Задача «Ромашка: верстка» выполнена.") == 1, texts
    asked = [m for m in group if m["text"].startswith("Утвердите, пожалуйста")]
    assert [m["text"].splitlines()[-1] for m in asked] == ["✅ Утверждено: Алиса Иванова"]  # edited: the buttons are gone
    assert [b["callback_data"] for row in asked[0]["edits"][0]["reply_markup"]["inline_keyboard"] for b in row] == \
        ["pf:approve:1004", "pf:changes:1004"]
    assert any("viewform?usp=pp_url&entry.1000000001=1001&entry.1000000002=11" in t for t in texts), texts
    assert texts[-1].startswith("Спасибо! Мы получили заполненный бриф.")
    staff = [m["text"] for m in requests.get(f"{telegram}/{STAFF_CHAT}/sent", timeout=10).json()]
    assert any("заполнил бриф (задача №1001)" in t for t in staff), staff

    # /admin, logged in with the sandbox password over HTTP: the dashboard counts every source's events.
    http = requests.Session()
    token = re.search(r'name="csrf_token" value="([^"]+)"', http.get(f"{relay}/admin/login", timeout=10).text).group(1)  # type: ignore[union-attr]
    dashboard = http.post(f"{relay}/admin/login", data={"csrf_token": token, "password": "sandbox"}, timeout=10)
    assert dashboard.status_code == 200
    counts = dict(re.findall(r"<figcaption>(\w+) — (\d+)</figcaption>", dashboard.text))
    assert int(counts["bitrix24"]) >= 5 and int(counts["telegram"]) >= 2 and int(counts["bank"]) == 2, counts
    assert int(counts["planfix"]) >= 4 and int(counts["forms"]) == 1, counts
    bank_event = re.search(r"relay event (\d+): bank operation.incoming", demo.stdout).group(1)  # type: ignore[union-attr]
    assert "rule payments-to-fintablo matched" in http.get(f"{relay}/admin/events/{bank_event}", timeout=10).text

    # Ctrl-C stops everything.
    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=30) == 0
    assert "sandbox stopped" in config.with_suffix(".sandbox.log").read_text(encoding="utf-8")
    with pytest.raises(requests.ConnectionError):
        requests.get(f"http://127.0.0.1:{ports['telegram']}/_emulator/state", timeout=2)
