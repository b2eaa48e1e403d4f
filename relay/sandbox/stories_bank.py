"""Demo stories: bank payments into Fintablo (rules/bank_to_fintablo.yaml, docs/banks.md) and onto their
Bitrix24 deals (rules/payments.yaml, docs/payments.md).

A payment happens in the Tochka emulator, which signs and sends its webhook to the relay; another
one reaches the relay as a 1C statement file exported from the T-Bank emulator; then Tochka's own
file for the day is uploaded too, and the relay recognises the payment it already has. ООО «Ромашка»
has the same INN in the banks and in the portal, so its payment finds the deal of the first story.
"""
from __future__ import annotations

import time
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from relay.sandbox.demo import Demo, Skip, Step
from relay.sandbox.stories_crm import deal
from relay.sandbox.watch import DemoFailed

MSK = ZoneInfo("Europe/Moscow")  # banks date payments in Moscow time
TOCHKA_ACCOUNT, TBANK_ACCOUNT = "40702810575689348581", "40702810437283605671"   # the demo seeds' accounts
ROMASHKA = {"name": "ООО \"Ромашка\"", "inn": "7701256557", "kpp": "770101001", "account": "40702810759363303048", "bik": "044525225"}
IVANOV = {"name": "ИП Иванов Иван Иванович", "inn": "500359691585", "kpp": "", "account": "40802810152357924695", "bik": "044525593"}


def today() -> datetime:
    return datetime.now(MSK)


def document_number() -> str:
    """A payment-order number of its own per run, so running the demo again makes new payments."""
    return str(int(time.time() * 10) % 900000 + 100000)


def fintablo(demo: Demo, path: str, **params: Any) -> list[dict[str, Any]]:
    token = demo.connector("fintablo").token.get_secret_value()
    answer = demo.call("GET", f"{demo.url('fintablo')}/v1/{path}", params=params, headers={"Authorization": f"Bearer {token}"})
    return list(answer.get("items") or [])


def transactions_for(demo: Demo, purpose: str) -> list[dict[str, Any]]:
    day = today().strftime("%d.%m.%Y")
    return [t for t in fintablo(demo, "transaction", dateFrom=day, dateTo=day, pageSize=1000) if t.get("description") == purpose]


def name_of(demo: Demo, kind: str, item_id: Any) -> str:
    if not item_id:
        return "—"
    found = fintablo(demo, f"{kind}/{item_id}")
    return f"{item_id} «{found[0].get('name')}»" if found else str(item_id)


def show_transaction(demo: Demo, since: int, purpose: str) -> dict[str, Any]:
    """Wait for the relay's bank events to finish and the transaction to exist; print it."""
    found, _ = demo.watch.wait("the Fintablo transaction", since, ("bank",), lambda: transactions_for(demo, purpose))
    t = found[0]
    demo.say(f"Fintablo transaction #{t['id']}: {t['group']} {t['value']} ₽ on {t['date']}, "
             f"moneybag {name_of(demo, 'moneybag', t.get('moneybagId'))}, category {name_of(demo, 'category', t.get('categoryId'))}, "
             f"partner {name_of(demo, 'partner', t.get('partnerId'))}, VAT " + (f"{t['nds']}%" if t.get("nds") else "none"))
    return t


def pay(demo: Demo, bank: str, direction: str, amount: str, counterparty: dict[str, str], purpose: str, number: str) -> None:
    """"A payment happens" at the bank (the emulator books it and, for Tochka, sends the webhook)."""
    demo.call("POST", f"{demo.url(bank)}/_emulator/payments", json={
        "direction": direction, "amount": amount, "purpose": purpose, "counterparty": counterparty,
        "documentNumber": number})


def statement_file(demo: Demo, bank: str, account: str) -> bytes:
    day = today().date().isoformat()
    return bytes(demo.call("GET", f"{demo.url(bank)}/_emulator/export/1c", params={"account": account, "from": day, "to": day}))


def upload(demo: Demo, data: bytes) -> dict[str, Any]:
    """What an accountant's script does with kl_to_1c.txt (docs/banks.md, 1C files)."""
    onec = demo.connector("bank").onec
    if onec is None:
        raise Skip("connectors.bank.onec is not configured")
    return dict(demo.call("POST", f"{demo.relay}/hooks/bank/onec", data=data,
                          headers={onec.header: onec.token.get_secret_value(), "Content-Type": "text/plain"}))


def tochka_webhook(demo: Demo) -> None:
    demo.connector("fintablo")
    since = demo.watch.mark()
    number = document_number()
    purpose = f"Оплата по счету № {number} от {today():%d.%m.%Y} за станки ЧПУ. В т.ч. НДС 20% - 80000.00 руб."
    pay(demo, "tochka", "incoming", "480000.00", ROMASHKA, purpose, number)
    demo.say(f"ООО «Ромашка» pays 480 000.00 ₽ to the Tochka account {TOCHKA_ACCOUNT}: «{purpose}»")
    demo.say("Tochka sends its webhook: a JWT signed RS256 → /hooks/bank/tochka (the relay checks the signature)")
    show_transaction(demo, since, purpose)
    demo.state["tochka_purpose"] = purpose
    if "deal" in demo.state and "bitrix24" in demo.urls:
        show_paid_deal(demo, int(demo.state["deal"]), since)
    demo.report(since, ("bank",))


def show_paid_deal(demo: Demo, deal_id: int, since: int) -> None:
    """The payment reached the sale of the first story: its INN is Ромашка's, its amount the one still due."""
    found = deal(demo, deal_id)
    if not found.get("UF_CRM_PAID_AMOUNT"):
        demo.report(since, ("bank",))
        raise DemoFailed(f"deal #{deal_id} shows no payment (UF_CRM_PAID_AMOUNT is empty); the trace above says why")
    demo.say(f"the relay finds deal #{deal_id} by the payer's ИНН and the amount still due: it now shows paid "
             f"{found['UF_CRM_PAID_AMOUNT']}, «{found.get('UF_CRM_PAYMENT_STATUS')}» (rule payment-match)")


def onec_file(demo: Demo) -> None:
    demo.connector("fintablo")
    since = demo.watch.mark()
    number = document_number()
    purpose = f"Оплата по счету № {number} от {today():%d.%m.%Y} за техническую поддержку CRM. Без НДС"
    pay(demo, "tbank", "incoming", "15000.00", IVANOV, purpose, number)
    demo.say(f"ИП Иванов pays 15 000.00 ₽ to the T-Bank account {TBANK_ACCOUNT}: «{purpose}»")
    answer = upload(demo, statement_file(demo, "tbank", TBANK_ACCOUNT))
    demo.say(f"the accountant uploads T-Bank's statement for today (kl_to_1c.txt) to /hooks/bank/onec → {answer}")
    show_transaction(demo, since, purpose)
    if "bitrix24" in demo.urls:  # rules/payments.yaml looks for the payer among the portal's clients
        demo.say(f"ИП Иванов is no client in the portal, so the payment waits for an admin: {demo.relay}/admin/reviews "
                 f"(or `python app.py payments review`)")
    demo.report(since, ("bank",))


def same_payment_again(demo: Demo) -> None:
    purpose = demo.state.get("tochka_purpose")
    if purpose is None:
        raise Skip("needs the Tochka payment of the step before last")
    since = demo.watch.mark()
    answer = upload(demo, statement_file(demo, "tochka", TOCHKA_ACCOUNT))
    demo.say(f"the accountant also uploads Tochka's statement for today → {answer}")
    demo.say("every payment in it is known already (the webhook brought it): stored once, queued once")
    found = transactions_for(demo, purpose)
    demo.say(f"Fintablo still holds {len(found)} transaction for «{purpose[:40]}…» (#{', #'.join(str(t['id']) for t in found)})")
    if not demo.watch.events(since, ("bank",)):
        demo.say("no new relay event: nothing to do twice")


STEPS = [
    Step("Bank: a client pays by Tochka (signed webhook) → stored operation → Fintablo transaction, the deal paid",
         tochka_webhook, ("tochka", "fintablo")),
    Step("Bank: a payment reaches the relay as a 1C statement file (T-Bank) → Fintablo transaction", onec_file,
         ("tbank", "fintablo")),
    Step("Bank: the same Tochka payment again, in Tochka's 1C file → recognised, not stored twice", same_payment_again,
         ("tochka",)),
]
