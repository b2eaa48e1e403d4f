"""Bitrix24 look-ups for payment matching: deals by invoice number, clients by INN, their open deals.

Read-only: the decision is `relay.payments.matching`'s and the writes are `payments_actions`'. Which
fields hold what is configured in the `values` of the payments mapping (docs/payments.md). Bitrix24
ignores filters on fields a portal does not have and returns every row, so each look-up checks the
rows it gets back instead of trusting its filter.
"""
from __future__ import annotations

import re
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Iterable

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from connectors.bitrix24.client import BitrixError, Command
from relay.engine.model import Mapping
from relay.errors import PermanentError
from relay.payments.directory import DealFacts, register_directory
from relay.payments.money import to_kopecks

if TYPE_CHECKING:
    from connectors.bitrix24.connector import Bitrix24Connector
    from relay.runtime import Runtime


class PaymentFields(BaseModel):
    """`values` of the payments mapping: where this portal keeps invoices, INNs and amounts."""

    model_config = ConfigDict(extra="forbid")

    invoice_entity_type_id: int = Field(31, ge=0, description="smart invoices (31) or another smart process holding invoices; 0: none")
    invoice_number_field: str = Field("accountNumber", description="crm.item field of that process holding the invoice number")
    deal_invoice_field: str = Field("", description="deal field holding an invoice number (e.g. UF_CRM_INVOICE_NUMBER); empty: none")
    inn_field: str = Field("", description="company field holding the INN; empty: requisites (RQ_INN) of companies and contacts")
    amount_field: str = Field("OPPORTUNITY", description="deal field with the amount the deal expects")
    categories: list[int] = Field(default_factory=list, description="pipelines whose deals take payments; empty: all")
    ignore_inns: list[str] = Field(default_factory=list, description="payers never matched (acquiring banks' settlements)")
    tolerance: Decimal = Field(Decimal("0"), ge=0, description="rubles a payment may differ from the amount due and still count as exact")
    invoice_stages: dict[str, str] = Field(default_factory=dict, description="payment status (partial, paid, overpaid) → stage of the invoice item")
    upsell_link_field: str = Field("", description="deal field pointing from an upsell to its original sale (S7), for the report")
    upsell_categories: list[int] = Field(default_factory=list, description="pipelines of upsell deals; empty: any deal with the link")
    status_names: dict[str, str] = Field(default_factory=lambda: {"unpaid": "Не оплачена", "partial": "Частично оплачена",
                                                                  "paid": "Оплачена", "overpaid": "Переплата"},
                                         description="payment status → the text templates write (`values.status_names[payment.status]`)")

    @property
    def tolerance_kopecks(self) -> int:
        return to_kopecks(self.tolerance)


def fields_of(name: str, mapping: Mapping) -> PaymentFields:
    """The mapping's values as PaymentFields; a wrong one is a permanent error naming file and key."""
    try:
        return PaymentFields.model_validate(mapping.values)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        where = ".".join(str(p) for p in first["loc"])
        raise PermanentError(f"{mapping.file}: mappings.{name}.values.{where}: {first['msg']}") from None


def same_number(a: Any, b: Any) -> bool:
    """Invoice numbers as people write them: `№ А-17`, `а-17 ` and `А-17` are one number."""
    def norm(value: Any) -> str:
        return re.sub(r"[\s№#]+", "", str(value or "")).casefold().replace("ё", "е")
    return bool(norm(a)) and norm(a) == norm(b)


def _closed(row: dict[str, Any]) -> bool:
    return str(row.get("CLOSED", "N")).upper() == "Y" or str(row.get("STAGE_SEMANTIC_ID", "P")).upper() in ("S", "F")


class Bitrix24Deals:
    """Deals of one portal as payments see them (also the `DealDirectory` of the report and review)."""

    def __init__(self, b24: "Bitrix24Connector", fields: PaymentFields) -> None:
        self.b24 = b24
        self.fields = fields
        self.notes: list[str] = []  # what the look-ups could not use, for the event's trace
        extra = [f for f in (fields.amount_field, fields.deal_invoice_field, fields.upsell_link_field) if f]
        self.select = list(dict.fromkeys(["ID", "TITLE", "CATEGORY_ID", "STAGE_ID", "STAGE_SEMANTIC_ID", "CLOSED",
                                          "COMPANY_ID", "CONTACT_ID", "CURRENCY_ID", *extra]))

    # --- deals ---------------------------------------------------------------------------------
    def takes_payments(self, row: dict[str, Any]) -> bool:
        return not self.fields.categories or str(row.get("CATEGORY_ID", "0")) in {str(c) for c in self.fields.categories}

    def facts(self, row: dict[str, Any]) -> DealFacts:
        f = self.fields
        link = str(row.get(f.upsell_link_field) or "") if f.upsell_link_field else ""
        is_upsell = bool(link) and (not f.upsell_categories or str(row.get("CATEGORY_ID")) in {str(c) for c in f.upsell_categories})
        client = f"company {row['COMPANY_ID']}" if str(row.get("COMPANY_ID") or "0") != "0" else \
            f"contact {row['CONTACT_ID']}" if str(row.get("CONTACT_ID") or "0") != "0" else ""
        return DealFacts(id=str(row["ID"]), title=str(row.get("TITLE") or ""), amount_kopecks=to_kopecks(row.get(f.amount_field)),
                         currency=str(row.get("CURRENCY_ID") or "RUB"), closed=_closed(row), client=client,
                         stage_id=str(row.get("STAGE_ID") or ""), upsell_of=link.rsplit("_", 1)[-1] if is_upsell else "")

    def read(self, deal_id: str) -> dict[str, Any] | None:
        return self.b24.read("deal", str(deal_id))

    def deal(self, deal_id: str) -> DealFacts | None:
        row = self.read(deal_id) if str(deal_id).isdigit() else None
        return self.facts(row) if row else None

    def rows(self, ids: Iterable[str]) -> dict[str, dict[str, Any]]:
        """Deals by id, fifty per command, in one batch."""
        wanted = sorted({str(i) for i in ids if str(i).isdigit()}, key=int)
        chunks = [wanted[i:i + 50] for i in range(0, len(wanted), 50)]
        pages = self.b24.client.group([Command("crm.deal.list", {"filter": {"ID": c}, "select": self.select, "start": -1})
                                       for c in chunks]) if chunks else []
        return {str(r["ID"]): r for page in pages for r in (page or []) if str(r.get("ID")) in wanted}

    def deals(self, deal_ids: Iterable[str]) -> dict[str, DealFacts]:
        return {deal_id: self.facts(row) for deal_id, row in self.rows(deal_ids).items()}

    def upsells(self, deal_ids: Iterable[str]) -> list[DealFacts]:
        field, ids = self.fields.upsell_link_field, sorted({str(i) for i in deal_ids if str(i).isdigit()}, key=int)
        if not field or not ids:
            return []
        # A link field holds `5` or `D_5` depending on how many entity types it allows.
        rows = self.b24.client.list_all("crm.deal.list", {"filter": {field: ids + [f"D_{i}" for i in ids]}, "select": self.select})
        found = {d.id: d for d in map(self.facts, rows) if d.upsell_of in ids}
        return [found[k] for k in sorted(found, key=int)]

    # --- invoices ------------------------------------------------------------------------------
    def by_invoice(self, numbers: Iterable[str]) -> list[tuple[str, str, str]]:
        """(deal id, invoice item id or "", the number) for every deal holding one of the invoices."""
        numbers = [n for n in dict.fromkeys(numbers) if n]
        f, hits = self.fields, []
        if not numbers:
            return []
        if f.invoice_entity_type_id:
            commands = [Command("crm.item.list", {"entityTypeId": f.invoice_entity_type_id, "filter": {f.invoice_number_field: n},
                                                  "select": ["id", "parentId2", f.invoice_number_field], "start": -1})
                        for n in numbers]
            try:
                pages = self.b24.client.group(commands)
            except BitrixError as exc:
                if exc.code != "NOT_FOUND":
                    raise
                # A portal without smart invoices: say so in the trace and match by the other keys.
                self.notes.append(f"the portal has no entityTypeId {f.invoice_entity_type_id} ({exc.description}); "
                                  "set `invoice_entity_type_id: 0` in the payments mapping to stop looking")
                pages = []
            for number, page in zip(numbers, pages):
                items = page.get("items", []) if isinstance(page, dict) else page or []
                hits += [(str(i.get("parentId2") or ""), str(i["id"]), number) for i in items
                         if same_number(i.get(f.invoice_number_field), number) and str(i.get("parentId2") or "0") != "0"]
        if f.deal_invoice_field:
            pages = self.b24.client.group([Command("crm.deal.list", {"filter": {f.deal_invoice_field: n}, "start": -1,
                                                                     "select": ["ID", f.deal_invoice_field]}) for n in numbers])
            for number, page in zip(numbers, pages):
                hits += [(str(r["ID"]), "", number) for r in page or [] if same_number(r.get(f.deal_invoice_field), number)]
        return hits

    def invoice(self, invoice_id: str) -> dict[str, Any] | None:
        return self.b24.read("item", invoice_id, str(self.fields.invoice_entity_type_id)) if invoice_id else None

    # --- clients by INN ------------------------------------------------------------------------
    def clients(self, inn: str) -> tuple[set[str], set[str]]:
        """(company ids, contact ids) whose INN is this one."""
        if self.fields.inn_field:
            rows = self.b24.client.list_all("crm.company.list", {"filter": {self.fields.inn_field: inn},
                                                                 "select": ["ID", self.fields.inn_field]})
            return {str(r["ID"]) for r in rows if str(r.get(self.fields.inn_field) or "").strip() == inn}, set()
        rows = self.b24.client.list_all("crm.requisite.list", {"filter": {"RQ_INN": inn},
                                                               "select": ["ID", "ENTITY_TYPE_ID", "ENTITY_ID", "RQ_INN"]})
        rows = [r for r in rows if str(r.get("RQ_INN") or "").strip() == inn]
        return ({str(r["ENTITY_ID"]) for r in rows if str(r.get("ENTITY_TYPE_ID")) == "4"},
                {str(r["ENTITY_ID"]) for r in rows if str(r.get("ENTITY_TYPE_ID")) == "3"})

    def open_deals(self, companies: set[str], contacts: set[str]) -> list[dict[str, Any]]:
        """Open deals (not won, not lost) of these clients, in the pipelines that take payments."""
        found: dict[str, dict[str, Any]] = {}
        for field, ids in (("COMPANY_ID", companies), ("CONTACT_ID", contacts)):
            if ids:
                rows = self.b24.client.list_all("crm.deal.list", {"filter": {field: sorted(ids), "CLOSED": "N"}, "select": self.select})
                found.update({str(r["ID"]): r for r in rows if str(r.get(field)) in ids})
        return [r for r in found.values() if not _closed(r) and self.takes_payments(r)]


def _directory(runtime: "Runtime", mapping: str) -> Bitrix24Deals:
    loaded = runtime.config.mappings.get(mapping)
    fields = fields_of(mapping, loaded) if loaded is not None else PaymentFields()
    return Bitrix24Deals(runtime.connector("bitrix24"), fields)


register_directory("bitrix24", _directory)
