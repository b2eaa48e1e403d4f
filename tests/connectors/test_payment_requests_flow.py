"""Payment requests end to end (S26-S28): the shipped rules and mapping against the Bitrix24, Telegram and
Tochka emulators, on SQLite and PostgreSQL.

A request with a bad INN leaves Draft and comes straight back with the reason in its timeline; its bank
details arrive by themselves from the contractor's earlier request; an outgoing payment (a signed
Tochka webhook, or a 1C file) marks the approved request Paid and tells the contractor exactly once.
"""
from __future__ import annotations

import email
import email.policy
from datetime import datetime, timezone

from connectors.banks.model import MSK
from relay.worker import Worker
from tests.connectors.test_payment_requests_helpers import (APPROVAL, APPROVED, DRAFT, KUZNETSOV, KUZNETSOV_CHAT, MEBEL, PAID,
                                                            STAFF, TRANSLOGISTIC, make_relay, systems)

__all__ = ["make_relay", "systems"]


def _filled(party: dict[str, str], **extra: str | float) -> dict[str, object]:
    """Every field the mapping requires, for `party`."""
    return {"title": "Доставка мебели", "opportunity": 18000, "currencyId": "RUB", "ufCrm2PayBy": "2025-03-10",
            "ufCrm2Contractor": party["name"], "ufCrm2Inn": party["inn"], "ufCrm2Kpp": party["kpp"], "ufCrm2Bik": party["bik"],
            "ufCrm2Account": party["account"], "ufCrm2CorrAccount": party["corr"],
            "ufCrm2Purpose": "Оплата по счету № 5 от 03.03.2025 за доставку. Без НДС", **extra}


def test_a_bad_inn_sends_the_request_back_to_draft_with_every_reason_in_one_comment(make_relay) -> None:  # type: ignore[no-untyped-def]
    relay = make_relay()
    item_id = relay.add(**_filled(MEBEL, ufCrm2Inn="7772331106", ufCrm2Purpose=""))
    relay.work()
    relay.move(item_id, APPROVAL)
    relay.work()
    assert relay.item(item_id)["stageId"] == DRAFT
    assert relay.comments(item_id) == [
        "Заявка возвращена в «Черновик»: её нельзя передать на согласование, пока не исправлено:\n"
        "— не заполнены поля: Назначение платежа\n"
        "— ИНН 7772331106: неверная контрольная сумма"]
    assert any("back to Draft" in m and "INN 7772331106: wrong check digit" in m for m in relay.steps("halt"))
    # The manager fixes it: the request stays where it was sent, and nothing more is written.
    relay.move(item_id, APPROVAL, ufCrm2Inn=MEBEL["inn"], ufCrm2Purpose="Оплата по счету № 5 от 03.03.2025. Без НДС")
    relay.work()
    assert relay.item(item_id)["stageId"] == APPROVAL
    assert len(relay.comments(item_id)) == 1
    # Replaying every event changes nothing either: the gate's write is recorded once per event.
    relay.runtime.inbox.replay([e.id for e in relay.events("bitrix24")])
    relay.work()
    assert relay.item(item_id)["stageId"] == APPROVAL and len(relay.comments(item_id)) == 1


def test_bank_details_come_from_the_contractors_earlier_request_and_typed_values_stay(make_relay) -> None:  # type: ignore[no-untyped-def]
    relay = make_relay()
    # Seed request 1 (Paid) holds ТрансЛогистик's details. The manager types the INN, a contractor name of
    # their own and another e-mail; everything else empty.
    item_id = relay.add(title="Перевозка, март", opportunity=64000, ufCrm2Inn=TRANSLOGISTIC["inn"],
                        ufCrm2Contractor="ТрансЛогистик (Москва)", ufCrm2Email="march@translogistic.example")
    relay.work()
    item = relay.item(item_id)
    assert (item["ufCrm2Kpp"], item["ufCrm2Bik"], item["ufCrm2Account"], item["ufCrm2CorrAccount"]) == \
        (TRANSLOGISTIC["kpp"], TRANSLOGISTIC["bik"], TRANSLOGISTIC["account"], TRANSLOGISTIC["corr"])
    assert (item["ufCrm2Contractor"], item["ufCrm2Email"]) == ("ТрансЛогистик (Москва)", "march@translogistic.example")
    assert relay.comments(item_id) == ["Реквизиты заполнены из заявки № 1 (ООО «ТрансЛогистик»): КПП, БИК, Р/с, К/с."]

    # A BIK typed by the user that differs from the earlier request: its account belongs to another bank,
    # so none of the bank's fields are copied; the KPP still is. An unknown INN finds nothing.
    other_bank = relay.add(title="Перевозка, апрель", ufCrm2Inn=TRANSLOGISTIC["inn"], ufCrm2Bik=MEBEL["bik"])
    unknown = relay.add(title="Новый подрядчик", ufCrm2Inn=MEBEL["inn"])
    relay.work()
    other = relay.item(other_bank)
    assert (other["ufCrm2Bik"], other["ufCrm2Account"], other["ufCrm2Kpp"]) == (MEBEL["bik"], None, TRANSLOGISTIC["kpp"])
    assert relay.item(unknown)["ufCrm2Bik"] is None and relay.comments(unknown) == []
    assert any(f"no earlier approved or paid request with INN {MEBEL['inn']}" in m for m in relay.steps("payment-request"))


def test_an_outgoing_payment_marks_the_approved_request_paid_and_tells_the_contractor_once(make_relay) -> None:  # type: ignore[no-untyped-def]
    relay = make_relay()
    # Seed request 3: ИП Кузнецов, approved, 35 000 ₽, Telegram chat -4000000003. Seed request 2 is approved
    # too (another contractor, another amount) and must stay as it is.
    relay.pay(KUZNETSOV, "35000.00", "Оплата по заявке № 3, счет № 7 от 01.03.2025 за ремонт. Без НДС", "315")
    relay.work()
    item = relay.item(3)
    assert item["stageId"] == PAID and item["ufCrm2Payment"] == "п/п № 315 от 03.03.2025, 35 000,00 ₽"
    assert relay.comments(3) == ["Оплачено: п/п № 315 от 03.03.2025, 35 000,00 ₽."]
    assert relay.item(2)["stageId"] == APPROVED
    told = ("Здравствуйте! ИП Кузнецов С. В.: оплата 35 000,00 ₽ отправлена.\n"
            "Платёжное поручение: п/п № 315 от 03.03.2025, 35 000,00 ₽.\n"
            "Назначение: Оплата по счету № 7 от 01.03.2025 за ремонт. Без НДС")
    assert relay.texts(KUZNETSOV_CHAT) == [told]
    (operation,) = relay.events("bank", "operation.outgoing")
    assert relay.runtime.links.get("payment_request", operation.payload["key"]) == "3"
    assert relay.runtime.links.get("payment_request.operation", "1040:3") == operation.payload["key"]

    # The same payment again: Tochka's webhook repeated, the 1C statement uploaded, every event replayed.
    relay.upload_statement()
    relay.runtime.inbox.replay([e.id for e in relay.events("bank")] + [e.id for e in relay.events("payment_requests")])
    relay.work()
    assert relay.texts(KUZNETSOV_CHAT) == [told]
    assert len(relay.events("payment_requests", "request.paid")) == 1
    assert relay.item(3)["stageId"] == PAID and len(relay.comments(3)) == 1


def test_a_payment_in_a_1c_file_fitting_two_requests_waits_for_review_then_pays_the_chosen_one(make_relay) -> None:  # type: ignore[no-untyped-def]
    relay = make_relay(tochka_webhook=False)  # the 1C file is the only route the payment takes
    first = relay.add(APPROVED, **_filled(TRANSLOGISTIC, title="Перевозка 1", opportunity=12500))
    second = relay.add(APPROVED, **_filled(TRANSLOGISTIC, title="Перевозка 2", opportunity=12500,
                                           ufCrm2Email="buh@translogistic.example"))
    relay.work()
    relay.pay(TRANSLOGISTIC, "12500.00", "Оплата по счету № 5 от 03.03.2025 за перевозку. Без НДС", "316")
    assert relay.upload_statement() == {"accepted": 1, "duplicates": 0}
    relay.work()
    assert [relay.item(i)["stageId"] for i in (first, second)] == [APPROVED, APPROVED]
    (review,) = relay.runtime.reviews.list("payment_request")
    assert review.reason == "2 approved requests fit this payment"
    assert [c["id"] for c in review.candidates] == [first, second]

    relay.runtime.reviews.resolve(review.id, {"request": second}, by="buh")
    relay.work()
    assert [relay.item(i)["stageId"] for i in (first, second)] == [APPROVED, PAID]
    assert relay.runtime.reviews.get(review.id).status == "resolved"  # type: ignore[union-attr]
    # No Telegram chat on the request, an e-mail: one e-mail through the SMTP server, however often replayed.
    relay.runtime.inbox.replay([e.id for e in relay.events("payment_requests")])
    relay.work()
    (mail,) = relay.systems.smtp.received
    assert mail["to"] == ["<buh@translogistic.example>"]
    text = mail["data"].decode()
    assert "From: =?utf-8?b?" in text and "To: buh@translogistic.example" in text and "Message-ID: <" in text
    body = email.message_from_bytes(mail["data"], policy=email.policy.default)
    assert body["Subject"] == "Оплата 12 500,00 ₽: Перевозка 2"
    assert body.get_content() == ("Здравствуйте!\n\nООО «ТрансЛогистик»: оплата 12 500,00 ₽ отправлена.\n"
                                  "Платёжное поручение: п/п № 316 от 03.03.2025, 12 500,00 ₽.\n"
                                  "Назначение платежа: Оплата по счету № 5 от 03.03.2025 за доставку. Без НДС\n")


def test_without_smtp_the_email_is_only_noted(make_relay) -> None:  # type: ignore[no-untyped-def]
    relay = make_relay(smtp=False)
    # Seed request 2: ООО «Печатный двор», 48 500,75 ₽, e-mail only; its purpose names request 2.
    relay.pay({"name": "ООО «Печатный двор»", "inn": "7743817363", "kpp": "774301001", "bik": "044525974",
               "account": "40702810388289977494"}, "48500.75", "Оплата по заявке № 2, счет № 131 от 28.02.2025", "317")
    relay.work()
    assert relay.item(2)["stageId"] == PAID
    assert relay.systems.smtp.received == []
    assert relay.steps("email.skip") == ["e-mail to print@pechatny-dvor.example not sent: no SMTP server is configured "
                                         "(connectors.payment_requests.smtp)"]


def test_the_registry_goes_out_once_per_working_day_with_the_approved_unpaid_requests(make_relay) -> None:  # type: ignore[no-untyped-def]
    relay = make_relay()
    connector = relay.runtime.connector("payment_requests")
    assert not connector.registry_tick(datetime(2025, 3, 8, 10, 0, tzinfo=MSK))   # Saturday (and 8 March)
    assert not connector.registry_tick(datetime(2025, 3, 4, 8, 59, tzinfo=MSK))   # a working day, before 09:00
    assert connector.registry_tick(datetime(2025, 3, 4, 6, 30, tzinfo=timezone.utc))  # 09:30 in Moscow
    assert not connector.registry_tick(datetime(2025, 3, 4, 17, 0, tzinfo=MSK))  # another worker, later: same day
    relay.work()
    assert relay.texts(STAFF) == [
        "Реестр платежей на 04.03.2025\n"
        "Согласовано к оплате: 2 на 83 500,75 ₽\n"
        "\n1. ИП Кузнецов С. В. — 35 000,00 ₽, до 04.03.2025\n"
        "Ремонт офиса (заявка № 3) https://demo-company.bitrix24.ru/crm/type/1040/details/3/\n"
        "\n2. ООО «Печатный двор» — 48 500,75 ₽, до 05.03.2025\n"
        "Печать каталогов (заявка № 2) https://demo-company.bitrix24.ru/crm/type/1040/details/2/"]
    relay.runtime.inbox.replay([e.id for e in relay.events("payment_requests")])
    Worker(relay.runtime).run_once()
    assert len(relay.texts(STAFF)) == 1
