"""What people and banks do during the chaos run: deal stage changes, chat messages, payments.

Deals are changed in process, as a person in the portal would (their changes do not cross the
fault injector, which stands between the relay and the portal); their events still go out through
the portal's lossy delivery. Messages and payments go through the emulators' control endpoints.
"""
from __future__ import annotations

import random
import time
from dataclasses import dataclass, field
from typing import Any, Callable

from emulators.bitrix24.dispatch import invoke
from tests.chaos.world import TBANK, TOCHKA, Emulators

# (chat, a member who writes there)
CHATS = [(-1001000000001, 100000001), (-1001000000002, 200000001), (-1001000000002, 200000002), (-4000000003, 300000001),
         (200000001, 200000001)]
COUNTERPARTIES = [
    {"name": "ООО \"Ромашка\"", "inn": "7701256557", "kpp": "770101001", "account": "40702810759363303048", "bik": "044525225"},
    {"name": "ООО \"Литера\"", "inn": "7813794786", "kpp": "781301001", "account": "40702810744429481733", "bik": "044030653"},
    {"name": "ИП Иванов Иван Иванович", "inn": "500359691585", "kpp": "", "account": "40802810152357924695", "bik": "044525593"},
]
PURPOSES = ["Оплата по счету № {n} за внедрение CRM. Без НДС", "Оплата аренды офиса, счет {n}. Без НДС",
            "Оплата по счету № {n} за техническую поддержку. В т.ч. НДС 20%"]


@dataclass
class Plan:
    """How many of each operation a run of `size` makes (about `size` in all)."""

    deals: int
    messages: int
    payments: int

    @classmethod
    def of(cls, size: int) -> "Plan":
        deals = max(4, round(size * 0.15))
        return cls(deals=deals, messages=max(5, round(size * 0.34)), payments=max(3, round(size * 0.30)))


@dataclass
class Done:
    """What the load did, for the checks: which deals qualify, which messages and payments exist."""

    qualifying: list[int] = field(default_factory=list)
    plain: list[int] = field(default_factory=list)  # changed, but never entering Evaluate
    approved: dict[int, str] = field(default_factory=dict)  # parent → the cost its Logistics child reported
    messages: list[tuple[int, int]] = field(default_factory=list)  # (chat, message_id)
    payments: dict[str, int] = field(default_factory=dict)  # bank → how many
    last_deal_change: float = 0.0
    operations: dict[str, int] = field(default_factory=lambda: {"bitrix24": 0, "telegram": 0, "bank": 0})


class Load:
    def __init__(self, emu: Emulators, seed: int = 2024) -> None:
        self.emu = emu
        self.random = random.Random(seed)
        self.done = Done()
        self._numbers = iter(range(10_000, 1_000_000))

    # --- the people -----------------------------------------------------------------------
    def b24(self, method: str, params: dict[str, Any]) -> Any:
        reply, _ = invoke(self.emu.b24, method, params)
        self.done.operations["bitrix24"] += 1
        self.done.last_deal_change = time.time()
        return reply.result

    def new_deal(self, n: int) -> int:
        return int(self.b24("crm.deal.add", {"fields": {"TITLE": f"Хаос {n}", "CATEGORY_ID": 0, "STAGE_ID": "NEW", "COMPANY_ID": "2",
                                                        "OPPORTUNITY": 1000 * n}}))

    def evaluate(self, deal: int) -> None:
        self.b24("crm.deal.update", {"id": deal, "fields": {"STAGE_ID": "UC_EVALUATE"}})
        self.done.qualifying.append(deal)

    def touch(self, deal: int) -> None:
        self.b24("crm.deal.update", {"id": deal, "fields": {"COMMENTS": "не для оценки"}})
        self.done.plain.append(deal)

    def approve_logistics(self, parent: int, child: int) -> None:
        cost = f"{1000 + parent}|RUB"
        self.b24("crm.deal.update", {"id": child, "fields": {"UF_CRM_COST_PRICE": cost, "STAGE_ID": "C1:UC_APPROVAL"}})
        self.done.approved[parent] = cost

    def say(self) -> None:
        chat, user = self.random.choice(CHATS)
        text = f"сообщение {next(self._numbers)} <{self.random.choice(['срочно', 'вопрос', 'счёт'])}>"
        sent = self.emu.control("telegram", f"chats/{chat}/messages", {"from": user, "text": text})
        self.done.messages.append((chat, int(sent["message_id"])))
        self.done.operations["telegram"] += 1

    def pay(self) -> None:
        bank = "tochka" if self.random.random() < 0.67 else "tbank"
        number = next(self._numbers)
        counterparty = self.random.choice(COUNTERPARTIES)
        body = {"direction": self.random.choice(["incoming", "incoming", "outgoing"]), "amount": f"{number % 9000 + 100}.{number % 100:02d}",
                "counterparty": counterparty, "purpose": self.random.choice(PURPOSES).format(n=number), "documentNumber": str(number),
                "account": TOCHKA if bank == "tochka" else TBANK}
        self.emu.control(bank, "payments", body)
        self.done.payments[bank] = self.done.payments.get(bank, 0) + 1
        self.done.operations["bank"] += 1

    # --- the schedule ---------------------------------------------------------------------
    def first_phase(self, plan: Plan) -> list[Callable[[], None]]:
        """Every operation of the first phase, shuffled, each deal's creation before its change."""
        deals: list[Callable[[], None]] = []
        for n in range(plan.deals):
            qualifying = n % 10 != 9  # one deal in ten is only touched
            holder: dict[str, int] = {}
            deals.append(lambda n=n, holder=holder: holder.__setitem__("id", self.new_deal(n)))
            deals.append((lambda holder=holder: self.evaluate(holder["id"])) if qualifying else (lambda holder=holder: self.touch(holder["id"])))
        streams = [deals, [self.say] * plan.messages, [self.pay] * plan.payments]
        ordered: list[Callable[[], None]] = []
        while any(streams):
            stream = self.random.choice([s for s in streams if s])
            ordered.append(stream.pop(0))
        return ordered

    def second_phase(self, children: dict[int, dict[str, int]]) -> list[Callable[[], None]]:
        """Half the qualifying parents hear back from Logistics: its child goes for approval with a cost."""
        chosen = self.done.qualifying[::2]
        return [lambda parent=parent: self.approve_logistics(parent, children[parent]["1"]) for parent in chosen if "1" in children.get(parent, {})]
