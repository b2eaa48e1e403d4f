"""The live Fintablo connector: what a bank operation or a CRM deal becomes in Fintablo.

Kept apart from the actions so the mapping (group, moneybag, category, direction, partner, VAT)
can be read in one place; the actions add idempotency (links, effects) and the trace.
"""
from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Any, Callable

from connectors.fintablo.client import FintabloClient
from connectors.fintablo.settings import FintabloSettings
from relay.errors import PermanentError

if TYPE_CHECKING:
    from relay.runtime import Runtime

INT_FIELDS = {"statusId", "directionId", "responsibleId", "partnerId", "categoryId", "moneybagId", "dealId"}
NUM_FIELDS = {"amount", "customCostPrice", "nds", "value"}
DATE_FIELDS = {"startDate", "endDate", "actDate", "date"}
DEAL_FIELDS = {"name", "amount", "nds", "currency", "customCostPrice", "statusId", "partnerId", "directionId",
               "responsibleId", "comment", "startDate", "endDate", "actDate"}


def fintablo_date(value: Any) -> str:
    """Fintablo wants dd.mm.yyyy; CRM templates give ISO dates or datetimes."""
    text = str(value).strip()
    try:
        return datetime.strptime(text, "%d.%m.%Y").strftime("%d.%m.%Y")
    except ValueError:
        pass
    try:
        return date.fromisoformat(text[:10]).strftime("%d.%m.%Y")
    except ValueError:
        raise PermanentError(f"{text!r} is not a date (YYYY-MM-DD or dd.mm.yyyy)") from None


def coerce(field: str, value: Any) -> Any:
    """A rendered template value as the JSON type Fintablo checks ("Invalid type" otherwise)."""
    if field in DATE_FIELDS:
        return fintablo_date(value)
    if field in INT_FIELDS:
        try:
            return int(float(str(value).strip()))
        except ValueError:
            raise PermanentError(f"{field}: {value!r} is not a whole number") from None
    if field in NUM_FIELDS:
        text = str(value).split("|")[0].replace(" ", "").replace("\u00a0", "").replace(",", ".")
        try:
            number = float(text)
        except ValueError:
            raise PermanentError(f"{field}: {value!r} is not a number") from None
        return int(number) if number.is_integer() else round(number, 2)
    return str(value)


def changes(current: dict[str, Any], wanted: dict[str, Any]) -> dict[str, Any]:
    """The fields of `wanted` that Fintablo shows differently (numbers compared as numbers)."""
    out = {}
    for field, value in wanted.items():
        have = current.get(field)
        if isinstance(value, (int, float)) and isinstance(have, (int, float)) and not isinstance(have, bool):
            if round(float(have) - float(value), 2) != 0:
                out[field] = value
        elif have != value:
            out[field] = value
    return out


class FintabloConnector:
    name = "fintablo"

    def __init__(self, settings: FintabloSettings, runtime: "Runtime") -> None:
        self.settings = settings
        self.runtime = runtime
        self.client = FintabloClient(settings)

    # --- bank operation → transaction -------------------------------------------------------
    def moneybag(self, account: str) -> int:
        bag = self.settings.moneybags.get(account)
        if bag is None:
            raise PermanentError(f"no Fintablo moneybag for account {account}: add it under connectors.fintablo.moneybags")
        return bag

    def is_transfer(self, op: dict[str, Any]) -> bool:
        """Both sides are our accounts with moneybags: one transfer, whichever leg arrives first."""
        other = (op.get("counterparty") or {}).get("account") or ""
        return other in self.settings.moneybags and other != op.get("account")

    def link_key(self, op: dict[str, Any]) -> str:
        """One Fintablo transaction per operation; the two legs of a transfer share one key."""
        if not self.is_transfer(op):
            return str(op["key"])
        source, target = (op["account"], op["counterparty"]["account"])
        if op.get("direction") == "C":
            source, target = target, source
        number = str(op.get("document_number") or "").lstrip("0")
        return f"transfer|{source}|{target}|{number}|{op['amount_kopecks']}|{op['posted_on']}"

    def transaction_body(self, op: dict[str, Any], description: str, category_id: int | None = None,
                         direction_id: int | None = None, deal_id: str = "") -> dict[str, Any]:
        value = coerce("value", op["amount"])
        body: dict[str, Any] = {"value": value, "date": fintablo_date(op["posted_on"]), "description": description}
        if self.is_transfer(op):
            source, target = op["account"], op["counterparty"]["account"]
            if op.get("direction") == "C":
                source, target = target, source
            body.update(group="transfer", moneybagId=self.moneybag(source), moneybag2Id=self.moneybag(target), value2=value)
            return body
        body.update(group="income" if op.get("direction") == "C" else "outcome", moneybagId=self.moneybag(op["account"]))
        category = category_id if category_id is not None else next(
            (r.category_id for r in self.settings.categories if r.matches(op)), None)
        direction = direction_id if direction_id is not None else next(
            (r.direction_id for r in self.settings.directions if r.matches(op)), None)
        vat = (op.get("purpose_fields") or {}).get("vat_rate")
        for field, item in (("categoryId", category), ("directionId", direction), ("dealId", deal_id or None)):
            if item is not None:
                body[field] = coerce(field, item)
        if vat:
            body["nds"] = int(float(vat))
        return body

    def find_transaction(self, body: dict[str, Any], taken: Callable[[str], bool]) -> str | None:
        """After a crash between create and record: the transaction with these exact facts, if one
        exists that no other operation owns."""
        rows = self.client.all_transactions(moneybagId=body["moneybagId"], dateFrom=body["date"], dateTo=body["date"],
                                            group=body["group"], valueFrom=body["value"], valueTo=body["value"])
        for row in rows:
            if row.get("description") != body.get("description") or taken(str(row.get("id"))):
                continue
            if body.get("partnerId") and row.get("partnerId") != body["partnerId"]:
                continue
            return str(row["id"])
        return None

    # --- partners ---------------------------------------------------------------------------
    def find_partner(self, inn: str, name: str) -> str | None:
        """By INN when there is a real one (names are spelled a dozen ways), else by exact name."""
        if inn and inn.strip("0"):
            rows = self.client.list("partner", inn=inn)
        elif name:
            rows = [r for r in self.client.list("partner", name=name) if str(r.get("name", "")).strip() == name.strip()]
        else:
            return None
        return str(rows[0]["id"]) if rows else None

    def create_partner(self, inn: str, name: str) -> str:
        body: dict[str, Any] = {"name": name or f"ИНН {inn}"}
        if inn and inn.strip("0"):
            body["inn"] = inn
        if self.settings.partner_group_id is not None:
            body["groupId"] = self.settings.partner_group_id
        return str(self.client.create("partner", body)["id"])

    # --- deals ------------------------------------------------------------------------------
    @staticmethod
    def deal_fields(rendered: dict[str, Any]) -> dict[str, Any]:
        unknown = sorted(set(rendered) - DEAL_FIELDS)
        if unknown:
            raise PermanentError(f"not Fintablo deal fields: {', '.join(unknown)} (known: {', '.join(sorted(DEAL_FIELDS))})")
        return {k: coerce(k, v) for k, v in rendered.items() if v not in (None, "")}

    def find_deal(self, name: str, taken: Callable[[str], bool]) -> str | None:
        page = 1
        while True:
            rows = self.client.list("deal", name=name, page=page)
            for row in rows:
                if str(row.get("name", "")).strip() == name.strip() and not taken(str(row.get("id"))):
                    return str(row["id"])
            if len(rows) < 500:
                return None
            page += 1

    def close(self) -> None:
        self.client.close()
