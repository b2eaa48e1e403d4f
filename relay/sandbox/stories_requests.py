"""Demo story: a payment request on the Bitrix24 smart process «Заявки на оплату» (rules/payment_requests.yaml,
S26; docs/payment-requests.md). A manager fills a request with a mistyped INN and sends it for
approval; the relay checks the requisites and sends it back to Draft with one comment naming the problem.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from relay.sandbox.demo import Demo, Step
from relay.sandbox.stories_crm import b24

REQUESTS = 1040                          # entityTypeId of «Заявки на оплату» in the demo portal
DRAFT, APPROVAL = "DT1040_12:NEW", "DT1040_12:UC_APPROVAL"
STAGE_NAMES = {DRAFT: "Черновик", APPROVAL: "На согласовании"}
WRONG_INN = "7707083895"                 # 7707083893 with its last digit mistyped: the check digit does not fit


def item(demo: Demo, item_id: int) -> dict[str, Any]:
    return dict(b24(demo, "crm.item.get", entityTypeId=REQUESTS, id=item_id)["item"])


def timeline(demo: Demo, item_id: int) -> list[dict[str, Any]]:
    return list(b24(demo, "crm.timeline.comment.list", filter={"ENTITY_TYPE": f"dynamic_{REQUESTS}", "ENTITY_ID": item_id}))


def stage(value: str) -> str:
    return f"{STAGE_NAMES.get(value, value)} ({value})"


def wrong_inn_goes_back(demo: Demo) -> None:
    since = demo.watch.mark()
    title = f"Аренда склада, {date.today():%m.%Y} ({datetime.now():%H:%M:%S})"
    created = b24(demo, "crm.item.add", entityTypeId=REQUESTS, fields={
        "title": title, "stageId": DRAFT, "opportunity": 64000, "currencyId": "RUB", "ufCrm2Contractor": "ООО «Склад-Сервис»",
        "ufCrm2Inn": WRONG_INN, "ufCrm2Kpp": "770701001", "ufCrm2Bik": "044525225", "ufCrm2Account": "40702810759363303048",
        "ufCrm2CorrAccount": "30101810400000000225", "ufCrm2PayBy": (date.today() + timedelta(days=7)).isoformat(),
        "ufCrm2Purpose": "Оплата по счету № 45 за аренду склада. Без НДС"})
    request = int(created["item"]["id"])
    demo.say(f"a manager fills payment request #{request} «{title}», 64 000 ₽ to ООО «Склад-Сервис», ИНН {WRONG_INN} (a typo)")
    b24(demo, "crm.item.update", entityTypeId=REQUESTS, id=request, fields={"stageId": APPROVAL})
    demo.say(f"and sends it for approval: {stage(APPROVAL)}")
    comments, _ = demo.watch.wait(f"request #{request} back in Draft with a comment", since, ("bitrix24",),
                                  lambda: item(demo, request)["stageId"] == DRAFT and timeline(demo, request))
    demo.say(f"the relay moves request #{request} back to {stage(item(demo, request)['stageId'])} and comments:")
    demo.say(comments[-1]["COMMENT"])
    demo.report(since, ("bitrix24",))


STEPS = [
    Step("Bitrix24: a payment request with a wrong INN goes for approval → back to Draft with a comment (S26)",
         wrong_inn_goes_back, ("bitrix24",)),
]
