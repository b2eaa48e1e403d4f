"""The S11 world for end-to-end tests: Planfix, Telegram and Google Forms emulators and a relay with
the shipped brief rules, wired over real HTTP both ways. This module holds no tests."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest
import requests

from emulators.common.server import RunningServer, serve_in_thread
from relay.runtime import Runtime
from relay.web.app import create_app as create_relay_app
from tests.connectors.test_forms_helpers import (CONTACT_ENTRY, FORM_ID, FORM_SECRET, TASK_ENTRY, copy_shipped, forms_section,
                                                 stop)
from tests.support.relay import base_config, make_runtime


BUTTON = "relay: send brief"
BIND_RULES = """\
rules:
  - id: bind-task-chat
    when: {source: telegram, kind: command.bind}
    do:
      - bind_chat: {entity: "planfix:task:{{ command.args | trim }}"}
"""


def brief_scenario(secret: str) -> dict[str, Any]:
    """The Planfix button «Отправить бриф» as docs/forms.md sets it up (names for the greeting included)."""
    body = ('{"event": "brief.send", "task": {{Задача.Номер}}, "contact": "{{Задача.Контрагент.Идентификатор}}", '
            '"pm_name": "{{Пользователь.Имя}} {{Пользователь.Фамилия}}", "client": "{{Задача.Контрагент}}", '
            '"project": "{{Задача.Проект}}"}')
    return {"name": BUTTON, "event": "button",
            "request": {"url": "/hooks/planfix/brief", "headers": {"X-Relay-Secret": secret}, "body": body}}


def brief_config(db_url: str, planfix_url: str, telegram_url: str, extra: str = "") -> str:
    from emulators.planfix import DEFAULT_TOKEN
    from tests.connectors.test_telegram_helpers import SECRET as TG_SECRET
    from tests.emulators.test_telegram_helpers import STAFF, TOKEN
    from tests.support.planfix import PF_SECRET
    return base_config(db_url, f"""\
connectors:
  planfix:
    account_url: "{planfix_url}/rest"
    token: "{DEFAULT_TOKEN}"
    scenario_secret: "{PF_SECRET}"
    timezone: UTC
    requests_per_second: 100
  telegram:
    bots:
      main:
        token: "{TOKEN}"
        secret_token: "{TG_SECRET}"
        api_url: "{telegram_url}"
        staff_chat_id: {STAFF}
    pacing:
      per_chat: {{count: 3, seconds: 3}}
{forms_section()}rules: [rules/brief/*.yaml, rules/test/*.yaml]
mappings: [mappings/brief/*.yaml]
mode: sandbox          # the emulators' demo credentials; live mode refuses them
{extra}""")


@pytest.fixture(scope="module")
def gf_server() -> Iterator[tuple[Any, RunningServer]]:
    """The Google Forms emulator on the system clock: its pushes are signed "now", as the relay checks."""
    from emulators.google_forms import create_app as create_forms_app
    app = create_forms_app()
    with serve_in_thread(app) as server:
        yield app, server


@dataclass
class Brief:
    """The S11 world: `agency` (Planfix + Telegram + relay, settle()), the forms emulator, shortcuts."""

    agency: Any
    forms_app: Any
    forms_url: str
    _scheduler: Any = None

    def scheduler(self) -> Any:
        """One scheduler for the test: it keeps the leader lease, so each tick() fires what is due."""
        if self._scheduler is None:
            from relay.scheduler import Scheduler
            self._scheduler = Scheduler(self.runtime)
        return self._scheduler

    @property
    def runtime(self) -> Runtime:
        return self.agency.runtime

    def press(self, task: int = 1001, user: str = "user:2") -> None:
        """The PM presses «Отправить бриф» in the task (Planfix sends the scenario request)."""
        answer = self.agency.pf.control("POST", "/scenarios/run", {"name": BUTTON, "task": task, "user": user})
        assert answer.get("queued"), answer

    def link(self, chat: int) -> str:
        """The pre-filled form link the bot posted last into the chat."""
        import re
        texts = [t for t in self.agency.tg.texts(chat) if "viewform?" in t]
        assert texts, self.agency.tg.texts(chat)
        found = re.search(r"https://\S+viewform\?\S+", texts[-1])
        assert found, texts[-1]
        return found.group(0).replace("&amp;", "&")

    def submit(self, answers: dict[str, Any], push: bool = True) -> dict[str, Any]:
        """A client submits the form; the emulator's trigger pushes it to the relay unless `push` is false (a lost push)."""
        answer = requests.post(f"{self.forms_url}/_emulator/forms/{FORM_ID}/submit", json={"answers": answers, "push": push}, timeout=15)
        assert answer.status_code == 200, answer.text
        return answer.json()

    def submit_from_link(self, link: str, push: bool = True, **answers: Any) -> dict[str, Any]:
        """Fill the form opened from a pre-filled link: the ids in the link land in their questions."""
        from urllib.parse import parse_qsl, urlsplit
        entries = {k.removeprefix("entry."): v for k, v in parse_qsl(urlsplit(link).query) if k.startswith("entry.")}
        prefilled = {"Номер задачи (не меняйте)": entries.get(TASK_ENTRY, ""), "Номер контакта (не меняйте)": entries.get(CONTACT_ENTRY, "")}
        return self.submit({**{k: v for k, v in prefilled.items() if v}, **answers}, push)

    def contact_fields(self, contact: int = 11) -> dict[int, Any]:
        fields = ",".join(str(n) for n in range(201, 211))
        answer = self.agency.pf.get(f"/contact/{contact}", fields=f"id,name,{fields}")
        assert answer.status_code == 200, answer.text
        return {int(c["field"]["id"]): c["value"] for c in answer.json()["contact"].get("customFieldData") or []}


@pytest.fixture
def brief_extra() -> dict[str, Any]:
    """More config text and files for `brief`; a test overrides it with `@pytest.mark.parametrize("brief_extra", …)`."""
    return {"config": "", "files": {}}


@pytest.fixture
def brief(db_url: str, write_config: Callable[..., Path], tmp_path: Path, pf: Any, emu: Any,
          gf_server: tuple[Any, RunningServer], brief_extra: dict[str, Any]) -> Iterator[Brief]:
    """Relay + emulators wired both ways, the client chat bound to the Communication task 1001."""
    from tests.emulators.test_telegram_helpers import ANNA, CLIENT_SG
    from tests.support.planfix import PF_SECRET, Agency
    forms_app, forms_server = gf_server
    forms_app.extensions["google_forms"].reset()
    copy_shipped(tmp_path)
    config = brief_config(db_url, pf.url, emu.url, brief_extra["config"])
    runtime = make_runtime(write_config(config, **{"rules__test__bind.yaml": BIND_RULES, **brief_extra["files"]}))
    server = serve_in_thread(create_relay_app(runtime))
    pf.state.hook_base = server.url
    pf.control("POST", "/scenarios", brief_scenario(PF_SECRET))
    emu.set_webhook(f"{server.url}/hooks/telegram/main")
    requests.post(f"{forms_server.url}/_emulator/forms/{FORM_ID}/trigger",
                  json={"url": f"{server.url}/hooks/forms/brief", "secret": FORM_SECRET}, timeout=5).raise_for_status()
    world = Brief(Agency(pf, emu, runtime, server), forms_app, forms_server.url)
    emu.say(CLIENT_SG, ANNA, "/bind 1001")
    world.agency.settle()
    yield world
    stop(server)
    pf.state.hook_base = None
    runtime.close()
