"""Payment requests (S26-S28): where the portal keeps each part of a request, read from the mapping.

A portal's smart process names its fields `ufCrm2Inn`, `ufCrm7Bik`, … and its stages
`DT1040_12:UC_APPROVED`; the admin writes those once in `mappings/payment_requests.yaml`
(`values:` entity type, field roles, required fields; `stages:` draft → paid; `templates:` texts).
Everything else reads a request through `request_view`, so rules and templates say `request.inn`
whatever the portal calls it.
"""
from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from relay.config.errors import ConfigProblem
from relay.config.yamlfile import read_yaml
from relay.engine.model import Mapping
from relay.errors import PermanentError
from relay.ru_requisites import Problem, check_requisites, clean

Role = Literal["contractor", "kpp", "bik", "account", "corr_account", "telegram_chat", "email", "purpose"]
REQUEST_NUMBER = r"заявк\w*(?:\s+на\s+оплату)?\s*(?:№|N|#)?\s*(\d{1,9})\b"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Fields(_Strict):
    """Role → the field as crm.item.get prints it. Optional roles left empty are not used."""

    title: str = Field("title", description="what is paid for (За что платим)")
    amount: str = Field("opportunity", description="the amount")
    currency: str = Field("currencyId", description="the currency")
    contractor: str = Field(description="the contractor's name")
    inn: str
    kpp: str = ""
    bik: str
    account: str = Field(description="settlement account (р/с)")
    corr_account: str = Field("", description="the bank's correspondent account (к/с)")
    purpose: str = Field("", description="payment purpose (назначение платежа)")
    pay_by: str = Field("", description="pay-by date")
    telegram_chat: str = Field("", description="the contractor's Telegram chat id")
    email: str = Field("", description="the contractor's e-mail")
    payment: str = Field("", description="where the relay writes the matched bank payment (платёжка)")


class Stages(_Strict):
    draft: str
    approval: str
    approved: str
    paid: str
    rejected: str = ""


class Setup(_Strict):
    entity_type_id: int = Field(gt=0)
    fields: Fields
    stages: Stages
    required: dict[str, str] = Field(default_factory=dict, description="field → the name managers know it by")
    autofill: list[Role] = Field(default_factory=lambda: ["contractor", "kpp", "bik", "account", "corr_account",
                                                          "telegram_chat", "email"])
    portal_url: str = Field("", description="https://<portal>; set to give requests a `url` in templates")
    request_number: str = Field(REQUEST_NUMBER, description="regex finding a request number in a payment purpose")
    templates: dict[str, str] = Field(default_factory=dict)

    @field_validator("request_number")
    @classmethod
    def _compiles(cls, value: str) -> str:
        try:
            if re.compile(value).groups < 1:
                raise ValueError("the pattern needs a group around the number, e.g. (\\d+)")
        except re.error as exc:
            raise ValueError(f"not a regular expression: {exc}") from None
        return value

    def code(self, role: str) -> str:
        return str(getattr(self.fields, role))

    def item_url(self, item_id: Any) -> str:
        if not self.portal_url:
            return ""
        return f"{self.portal_url.rstrip('/')}/crm/type/{self.entity_type_id}/details/{item_id}/"


def _problems(mapping_name: str, mapping: Mapping, base_dir: Path, exc: ValidationError) -> list[ConfigProblem]:
    """Each error located in the mapping file: `mappings/payment_requests.yaml:12: mappings.payment_requests.values.fields.inn`."""
    file = base_dir / mapping.file
    doc = read_yaml(file)[0] if mapping.file and file.exists() else None
    problems = []
    for err in exc.errors(include_url=False):
        loc = tuple(err["loc"])
        section = loc[:1] if loc[:1] in (("stages",), ("templates",)) else ("values",)
        path = ("mappings", mapping_name) + section + (loc if section == ("values",) else loc[1:])
        message = "required, but missing" if err["type"] == "missing" else err["msg"]
        problems.append(ConfigProblem(mapping.file, doc.line_of(path) if doc is not None else None,
                                      ".".join(str(part) for part in path), message))
    return problems


_SETUPS: dict[tuple[str, str], Setup] = {}


def check_setup(mappings: dict[str, Mapping], name: str, base_dir: Path) -> tuple[Setup | None, list[ConfigProblem]]:
    """The setup from mapping `name`, or the problems (file, line, field) that keep it from being one."""
    if name not in mappings:
        return None, [ConfigProblem("mappings", None, f"mappings.{name}", "no such mapping; payment requests need one "
                                                                          "(see mappings/payment_requests.yaml)")]
    mapping = mappings[name]
    key = (name, mapping.model_dump_json())
    if key not in _SETUPS:
        try:
            _SETUPS[key] = Setup.model_validate({**mapping.values, "stages": mapping.stages, "templates": mapping.templates})
        except ValidationError as exc:
            return None, _problems(name, mapping, base_dir, exc)
    return _SETUPS[key], []


def load_setup(mappings: dict[str, Mapping], name: str, base_dir: Path) -> Setup:
    """The setup from mapping `name`; PermanentError naming file, line and field when it is incomplete."""
    setup, problems = check_setup(mappings, name, base_dir)
    if setup is None:
        raise PermanentError("payment requests are not set up: " + "; ".join(str(p) for p in problems))
    return setup


# --- reading a request -----------------------------------------------------------------------------
def kopecks(value: Any) -> int:
    """An amount as crm.item prints it (48500.75, "48500.75", "48500.75|RUB") in kopecks; 0 if none."""
    text = str(value if value is not None else "").split("|")[0].replace(" ", "").replace(",", ".")
    try:
        return int((Decimal(text) * 100).quantize(Decimal("1"), rounding=ROUND_HALF_UP)) if text else 0
    except InvalidOperation:
        return 0


def money_text(amount_kopecks: int, currency: str = "RUB") -> str:
    """`4850075` → `48 500,75 ₽` (as Russian documents write sums)."""
    whole, cents = divmod(abs(amount_kopecks), 100)
    sign = "-" if amount_kopecks < 0 else ""
    return f"{sign}{whole:,}".replace(",", " ") + f",{cents:02d} " + ({"RUB": "₽", "USD": "$", "EUR": "€"}.get(currency, currency))


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return ", ".join(_text(v) for v in value if v not in (None, ""))
    return str(value).strip()


def request_view(item: dict[str, Any], setup: Setup) -> dict[str, Any]:
    """A request as rules and templates see it: `request.inn`, `request.amount_text`, … whatever the portal calls them."""
    def get(role: str) -> str:
        return _text(item.get(setup.code(role))) if setup.code(role) else ""

    amount = kopecks(item.get(setup.fields.amount))
    currency = get("currency") or "RUB"
    pay_by = get("pay_by")[:10]
    item_id = item.get("id", item.get("ID"))
    return {
        "id": int(item_id) if str(item_id).isdigit() else item_id, "title": get("title"), "stage": _text(item.get("stageId")),
        "contractor": get("contractor"), "inn": clean(get("inn")), "kpp": clean(get("kpp")), "bik": clean(get("bik")),
        "account": clean(get("account")), "corr_account": clean(get("corr_account")),
        "amount": f"{Decimal(amount) / 100:.2f}", "amount_kopecks": amount, "amount_text": money_text(amount, currency),
        "currency": currency, "purpose": get("purpose"), "pay_by": pay_by,
        "pay_by_text": ".".join(reversed(pay_by.split("-"))) if pay_by else "",
        "telegram_chat": get("telegram_chat"), "email": get("email"), "payment": get("payment"),
        "url": setup.item_url(item_id),
    }


def is_empty(value: Any) -> bool:
    """Empty as a manager sees it: nothing typed, a zero amount, a money field with only its currency."""
    return value in (None, "", [], {}, 0, 0.0, "0", "0.00") or (isinstance(value, str) and value.strip() in ("", "|RUB", "0|RUB"))


def missing_fields(item: dict[str, Any], setup: Setup) -> list[str]:
    """Names (as managers know them) of the required fields that are empty."""
    return [label for code, label in setup.required.items() if is_empty(item.get(code))]


def requisite_problems(item: dict[str, Any], setup: Setup) -> list[Problem]:
    """Checksum and format problems of the requisites that are filled in."""
    view = request_view(item, setup)
    return check_requisites(inn=view["inn"], kpp=view["kpp"], bik=view["bik"], account=view["account"],
                            corr_account=view["corr_account"])


def request_numbers(purpose: str, setup: Setup) -> list[int]:
    """Request numbers a payment purpose names ("по заявке № 12" → [12])."""
    found = (m.group(1) for m in re.finditer(setup.request_number, purpose or "", flags=re.IGNORECASE))
    return [int(n) for n in found if n and n.isdigit()]
