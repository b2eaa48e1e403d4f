"""A relay matching bank payments to deals of a Bitrix24 emulator, end to end over real HTTP.

Payments arrive as the banks send them: Tochka webhooks are compact RS256 JWTs signed with a test key
(the relay verifies them with its public JWK), 1C statements are windows-1251 files with CRLF lines
uploaded to /hooks/bank/onec. The relay reads and writes the emulated portal through fast-bitrix24.
"""
from __future__ import annotations

import copy
import io
import itertools
import shutil
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Callable

import jwt
import requests
from cryptography.hazmat.primitives.asymmetric import rsa

from connectors.bitrix24.actions import LOOP_GUARD
from emulators.bitrix24 import create_app as create_portal
from emulators.common.server import RunningServer, serve_in_thread
from relay.cli import EXTRA_COMMANDS, parser
from relay.runtime import Runtime
from relay.store.schema import Effect, InboxEvent, Link
from relay.web import create_app
from relay.worker import Worker
from tests.support.relay import base_config, make_runtime

ROOT = Path(__file__).resolve().parents[2]
OURS, OUR_BIK = "40702810575689348581", "044525104"
CODE, TOKEN, UPLOAD = "pay0webhook0code", "payments0application0token0001", "upload-token-4711"
ROMASHKA = {"name": "ООО «Ромашка»", "inn": "7701256557", "kpp": "770101001", "account": "40702810759363303048", "bik": "044525225"}
LUTIK = {"name": "ООО «Лютик»", "inn": "7813794786", "kpp": "781301001", "account": "40702810744429481733", "bik": "044030653"}
IVANOV = {"name": "ИП Иванов Иван Иванович", "inn": "500359691585", "kpp": "", "account": "40802810152357924695", "bik": "044525593"}
STRANGER = {"name": "ООО «Неизвестная»", "inn": "7704158205", "kpp": "770401001", "account": "40702810498527720029", "bik": "044525225"}
CONTRACTOR = {"name": "ООО «Печатный двор»", "inn": "7743817363", "kpp": "774301001", "account": "40702810388289977494", "bik": "044525974"}

SEED: dict[str, Any] = {
    "portal": {"domain": "payments.bitrix24.ru", "webhook_user_id": 1, "webhook_code": CODE, "application_token": TOKEN},
    "pipelines": [
        {"id": 0, "name": "Продажи", "stages": [
            {"id": "NEW", "name": "Новая"}, {"id": "EXECUTING", "name": "Договор"},
            {"id": "UC_PAID_PART", "name": "Частично оплачена"}, {"id": "UC_PAID", "name": "Оплачена"},
            {"id": "WON", "name": "Успешна", "semantics": "success"}, {"id": "LOSE", "name": "Провалена", "semantics": "failure"}]},
        {"id": 3, "name": "Допродажи", "stages": [
            {"id": "NEW", "name": "Новая"}, {"id": "WON", "name": "Успешна", "semantics": "success"},
            {"id": "LOSE", "name": "Провалена", "semantics": "failure"}]}],
    "smart_processes": [{"entityTypeId": 31, "id": 1, "title": "Счета", "parents": [2], "pipelines": [
        {"id": 5, "name": "Счета", "default": True, "stages": [
            {"id": "N", "name": "Новый"}, {"id": "UC_PART", "name": "Частично оплачен"},
            {"id": "P", "name": "Оплачен", "semantics": "success"}, {"id": "D", "name": "Отклонён", "semantics": "failure"}]}]}],
    "userfields": {
        "deal": [{"FIELD_NAME": "PAID_AMOUNT", "USER_TYPE_ID": "money", "LABEL": "Оплачено"},
                 {"FIELD_NAME": "PAYMENT_STATUS", "USER_TYPE_ID": "string", "LABEL": "Статус оплаты"},
                 {"FIELD_NAME": "INVOICE_NUMBER", "USER_TYPE_ID": "string", "LABEL": "Номер счёта"},
                 {"FIELD_NAME": "PARENT_DEAL", "USER_TYPE_ID": "crm", "LABEL": "Основная сделка", "SETTINGS": {"DEAL": "Y"}}],
        "31": [{"FIELD_NAME": "ACCOUNT_NUMBER", "USER_TYPE_ID": "string", "LABEL": "Номер счёта"}]},
    "companies": [{"ID": 1, "TITLE": ROMASHKA["name"]}, {"ID": 2, "TITLE": LUTIK["name"]}],
    "contacts": [{"ID": 1, "NAME": "Иван", "LAST_NAME": "Иванов"}],
    "requisites": [
        {"ENTITY_TYPE_ID": 4, "ENTITY_ID": 1, "PRESET_ID": 1, "NAME": ROMASHKA["name"], "RQ_INN": ROMASHKA["inn"]},
        {"ENTITY_TYPE_ID": 4, "ENTITY_ID": 2, "PRESET_ID": 1, "NAME": LUTIK["name"], "RQ_INN": LUTIK["inn"]},
        {"ENTITY_TYPE_ID": 3, "ENTITY_ID": 1, "PRESET_ID": 2, "NAME": IVANOV["name"], "RQ_INN": IVANOV["inn"]}],
    "deals": [
        {"ID": 1, "TITLE": "Внедрение CRM", "STAGE_ID": "EXECUTING", "OPPORTUNITY": 90000, "COMPANY_ID": 1},
        {"ID": 2, "TITLE": "Поддержка, март", "STAGE_ID": "EXECUTING", "OPPORTUNITY": 15000, "COMPANY_ID": 2},
        {"ID": 3, "TITLE": "Поддержка, апрель", "STAGE_ID": "EXECUTING", "OPPORTUNITY": 15000, "COMPANY_ID": 2},
        {"ID": 4, "TITLE": "Доработка отчётов", "STAGE_ID": "EXECUTING", "OPPORTUNITY": 40000, "COMPANY_ID": 2,
         "UF_CRM_INVOICE_NUMBER": "А-17"},
        {"ID": 5, "TITLE": "Обучение сотрудников", "STAGE_ID": "NEW", "OPPORTUNITY": 20000, "CONTACT_IDS": [1]},
        {"ID": 6, "TITLE": "Допродажа: аналитика", "CATEGORY_ID": 3, "STAGE_ID": "C3:NEW", "OPPORTUNITY": 10000,
         "COMPANY_ID": 1, "UF_CRM_PARENT_DEAL": "1"},
        {"ID": 7, "TITLE": "Старый проект", "STAGE_ID": "WON", "OPPORTUNITY": 30000, "COMPANY_ID": 1}],
    "items": {31: [{"id": 7, "title": "Счёт № 131", "parentId2": 1, "companyId": 1, "opportunity": 90000,
                    "ufCrmAccountNumber": "131", "stageId": "DT31_5:N"}]},
}

MAPPING = """\
mappings:
  payments:
    values:
      invoice_entity_type_id: 31
      invoice_number_field: ufCrmAccountNumber
      deal_invoice_field: UF_CRM_INVOICE_NUMBER
      tolerance: "1.00"
      ignore_inns: ["7710140679"]
      invoice_stages: {partial: "DT31_5:UC_PART", paid: "DT31_5:P"}
      upsell_link_field: UF_CRM_PARENT_DEAL
      upsell_categories: [3]
    fields:
      UF_CRM_PAID_AMOUNT: "{{ payment.paid }}|RUB"
      UF_CRM_PAYMENT_STATUS: "{{ payment.status_name }}"
    stages: {partial: UC_PAID_PART, paid: UC_PAID, "C3:paid": "C3:WON"}
"""


def _key_pair() -> tuple[Any, str]:
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return private, jwt.algorithms.RSAAlgorithm.to_jwk(private.public_key())


PRIVATE_KEY, PUBLIC_JWK = _key_pair()  # one test key per run: RSA generation is the slow part


def tochka_webhook(amount: str, purpose: str, party: dict[str, str], number: str, day: date, incoming: bool = True,
                   payment_id: str = "") -> bytes:
    """The body Tochka POSTs: a compact RS256 JWT (no `kid`) over the official sample's claims."""
    them = {"bankCode": party["bik"], "bankName": "ПАО Сбербанк", "bankCorrespondentAccount": "30101810400000000225",
            "account": party["account"], "name": party["name"], "amount": amount, "currency": "RUB", "inn": party["inn"],
            "kpp": party["kpp"]}
    us = {"bankCode": OUR_BIK, "bankName": "ООО Банк Точка", "bankCorrespondentAccount": "30101810745374525104",
          "account": OURS, "name": "ООО «Северный ветер»", "amount": amount, "currency": "RUB", "inn": "7743729438", "kpp": "774301001"}
    claims = {"SidePayer": them if incoming else us, "SideRecipient": us if incoming else them, "purpose": purpose,
              "documentNumber": number, "paymentId": payment_id or f"40715{number.zfill(5)}", "date": day.isoformat(),
              "webhookType": "incomingPayment" if incoming else "outgoingPayment", "customerCode": "300123123"}
    return jwt.encode(claims, PRIVATE_KEY, algorithm="RS256", headers={"typ": "JWT"}).encode("ascii")


def onec_file(*documents: tuple[str, str, dict[str, str], str, date]) -> bytes:
    """A 1CClientBankExchange statement of incoming payment orders (amount, purpose, payer, number,
    day), in windows-1251 with CRLF line ends, as a bank exports it."""
    first, last = min(d[4] for d in documents), max(d[4] for d in documents)
    lines = ["1CClientBankExchange", "ВерсияФормата=1.03", "Кодировка=Windows", "Отправитель=Бухгалтерия предприятия",
             "Получатель=", f"ДатаСоздания={last:%d.%m.%Y}", "ВремяСоздания=09:00:00", f"ДатаНачала={first:%d.%m.%Y}",
             f"ДатаКонца={last:%d.%m.%Y}", f"РасчСчет={OURS}", "СекцияРасчСчет", f"ДатаНачала={first:%d.%m.%Y}",
             f"ДатаКонца={last:%d.%m.%Y}", f"РасчСчет={OURS}", "НачальныйОстаток=0.00", "КонецРасчСчет"]
    for amount, purpose, payer, number, day in documents:
        lines += ["СекцияДокумент=Платежное поручение", f"Номер={number}", f"Дата={day:%d.%m.%Y}", f"Сумма={amount}",
                  f"ПлательщикСчет={payer['account']}", f"Плательщик=ИНН {payer['inn']} {payer['name']}",
                  f"ПлательщикИНН={payer['inn']}", f"ПлательщикКПП={payer['kpp']}", f"Плательщик1={payer['name']}",
                  f"ПлательщикРасчСчет={payer['account']}", "ПлательщикБанк1=ПАО Сбербанк", f"ПлательщикБИК={payer['bik']}",
                  "ПлательщикКорсчет=30101810400000000225", f"ПолучательСчет={OURS}", f"ДатаПоступило={day:%d.%m.%Y}",
                  "Получатель1=ООО «Северный ветер»", "ПолучательИНН=7743729438", f"ПолучательРасчСчет={OURS}",
                  f"ПолучательБИК={OUR_BIK}", "ВидОплаты=01", "Очередность=5", f"НазначениеПлатежа={purpose}", "КонецДокумента"]
    return "\r\n".join(lines + ["КонецФайла"]).encode("cp1251") + b"\r\n"


@dataclass
class World:
    portal: RunningServer
    relay: RunningServer
    runtime: Runtime
    config: Path
    numbers: Any = field(default_factory=lambda: itertools.count(501))

    @property
    def webhook(self) -> str:
        return f"{self.portal.url}/rest/1/{CODE}/"

    def rest(self, method: str, params: dict[str, Any]) -> Any:
        answer = requests.post(f"{self.webhook}{method}.json", json=params, timeout=10)
        assert answer.status_code == 200, answer.text
        return answer.json()["result"]

    def deal(self, deal_id: int) -> dict[str, Any]:
        return self.rest("crm.deal.get", {"id": deal_id})

    def invoice(self, item_id: int) -> dict[str, Any]:
        return self.rest("crm.item.get", {"entityTypeId": 31, "id": item_id})["item"]

    def writes(self) -> int:
        """Deal and item updates the portal has received (inside batches too)."""
        counts = requests.get(f"{self.portal.url}/_emulator/requests", timeout=10).json()
        commands = counts.get("batch_commands", {})
        return sum(commands.get(m, 0) + counts.get("by_method", {}).get(m, 0) for m in ("crm.deal.update", "crm.item.update"))

    def pay_by_webhook(self, amount: str, purpose: str, payer: dict[str, str], day: date = date(2025, 3, 3),
                       incoming: bool = True, number: str = "") -> requests.Response:
        body = tochka_webhook(amount, purpose, payer, number or str(next(self.numbers)), day, incoming)
        answer = requests.post(f"{self.relay.url}/hooks/bank/tochka", data=body, headers={"Content-Type": "text/plain"}, timeout=10)
        assert answer.status_code == 200, answer.text
        return answer

    def upload(self, data: bytes) -> dict[str, Any]:
        answer = requests.post(f"{self.relay.url}/hooks/bank/onec", data=data, timeout=10, headers={"X-Relay-Token": UPLOAD})
        assert answer.status_code == 200, answer.text
        return answer.json()

    def work(self) -> None:
        """Process everything queued, including what processing queues (resolved reviews)."""
        worker = Worker(self.runtime, worker_id="payments-test")
        while worker.run_once():
            pass
        depth = self.runtime.inbox.depth()
        assert depth.get("dead", 0) == 0, self.dead_reasons()

    def dead_reasons(self) -> list[str]:
        with self.runtime.store.session() as s:
            return [f"{e.kind}: {e.last_error}" for e in s.query(InboxEvent).filter(InboxEvent.status == "dead")]

    def replay_everything(self) -> None:
        with self.runtime.store.session() as s:
            ids = [e.id for e in s.query(InboxEvent)]
        assert self.runtime.inbox.replay(ids) == len(ids)
        self.work()

    def cli(self, *args: str) -> tuple[int, str, str]:
        """`python app.py <args>` in this process (a Runtime of its own, as the command would build)."""
        parsed = parser().parse_args(["--config", str(self.config), *args])
        out, err, runtime = io.StringIO(), io.StringIO(), make_runtime(self.config)
        try:
            with redirect_stdout(out), redirect_stderr(err):
                code = EXTRA_COMMANDS[parsed.command][2](parsed, runtime)
        finally:
            runtime.close()
        return code, out.getvalue(), err.getvalue()

    def counts(self) -> tuple[int, int]:
        """(operation↔deal links, effects) in the store."""
        with self.runtime.store.session() as s:
            return s.query(Link).filter(Link.kind == "payment.operation").count(), s.query(Effect).count()

    def stop(self) -> None:
        self.relay.stop()
        self.runtime.close()


def start_world(portal: RunningServer, db_url: str, write_config: Callable[..., Path], tmp_path: Path, admin: str = "",
                connectors: str = "", rules: str | None = None) -> World:
    """The shipped rules/payments.yaml (or `rules`), the test mapping, and `connectors` added to the config."""
    requests.post(f"{portal.url}/_emulator/reset", json={}, timeout=10).raise_for_status()
    LOOP_GUARD.reset()  # the portal starts again from its seed: the same values are new writes again
    (tmp_path / "rules").mkdir(exist_ok=True)
    if rules is None:
        shutil.copy(ROOT / "rules" / "payments.yaml", tmp_path / "rules" / "payments.yaml")
    else:
        (tmp_path / "rules" / "payments.yaml").write_text(rules, encoding="utf-8")
    (tmp_path / "tochka.jwk").write_text(PUBLIC_JWK, encoding="utf-8")
    config = "mode: sandbox\n" + base_config(db_url, admin) + f"""\
connectors:
  bitrix24:
    webhook_url: "{portal.url}/rest/1/{CODE}/"
    application_token: {TOKEN}
    batch_linger_seconds: 0
    requests_per_second: 50
    sweep: {{interval_seconds: 3600}}
  bank:
    tochka:
      base_url: http://127.0.0.1:9/uapi
      token: tochka-test-token-1
      accounts: ["{OURS}/{OUR_BIK}"]
      webhook_jwk: {tmp_path / "tochka.jwk"}
      poll_interval_seconds: 0
    onec:
      token: {UPLOAD}
{connectors}rules: [rules/*.yaml]
mappings: [mappings/*.yaml]
"""
    path = write_config(config, **{"mappings__payments.yaml": MAPPING})
    runtime = make_runtime(path)
    return World(portal, serve_in_thread(create_app(runtime)), runtime, path)


def portal_app() -> Any:
    return create_portal(seed=copy.deepcopy(SEED), rate_limit=False)
