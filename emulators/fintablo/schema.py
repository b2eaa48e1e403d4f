"""Fintablo entity shapes and validation, with the exact error texts of the public API spec.

Fintablo answers validation problems with `{"status": N, "statusText": "..."}` where the text is a
fixed English phrase (typos included: "reaquired"); clients match on them, so they live here.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Callable

GROUPS = ("income", "outcome", "transfer")
CATEGORY_TYPES = ("operating", "financial", "investment")
PNL_TYPES = ("income", "income-under-ebitda", "general-production", "direct-variable", "administrative",
             "commercial", "outcome-under-ebitda", "under-profit", "refund-income-current", "refund-income-past")
MONEYBAG_TYPES = ("nal", "bank", "card", "electron", "acquiring")

# The statusText values the spec documents (section "Error codes used" of the reference).
INVALID_CREDENTIALS = "Your request was made with invalid credentials."
TOO_MANY = "Too many requests"
NO_ITEM = "No item found"
UNKNOWN_METHOD = "Unknown method"
ID_REQUIRED = "ID is required"
INVALID_TYPE = "Invalid type"
INVALID_GROUP = "Invalid group"
REQUIRED_FIELDS = "Required fields not exist"
EMPTY_DATA = "The request data is empty"
QUERY_DATE = "Required date format is dd.mm.YYYY"
BODY_DATE = "Date format need is dd.mm.YYYY"
BODY_MONTH = "Date format need is mm.YYYY"
DATE_REQUIRED = "Timestamp or date is reaquired"
BUILT_IN = "The item is built in"
RELATED = "The item is related to others and cannot be removed"
CHILD_OF_BUILT_IN = "The item cannot be child of built in"

_DATE_RE = re.compile(r"^\d{2}\.\d{2}\.\d{4}$")
_MONTH_RE = re.compile(r"^\d{2}\.\d{4}$")


class ApiError(Exception):
    """An answer in Fintablo's error envelope."""

    def __init__(self, status: int, text: str) -> None:
        super().__init__(text)
        self.status = status
        self.text = text


def parse_date(value: str, query: bool = False) -> date:
    """dd.mm.yyyy -> date; the error text differs between query filters (400) and bodies (422)."""
    try:
        if isinstance(value, str) and _DATE_RE.match(value):
            return datetime.strptime(value, "%d.%m.%Y").date()
    except ValueError:
        pass
    raise ApiError(400, QUERY_DATE) if query else ApiError(422, BODY_DATE)


def fmt_date(day: date) -> str:
    return day.strftime("%d.%m.%Y")


@dataclass(frozen=True)
class Field:
    """One entity field: its kind drives validation; `ref` names the entity an id must exist in."""

    name: str
    kind: str  # int | num | str | date | month | flag | enum | list
    choices: tuple[str, ...] = ()
    ref: str | None = None
    default: Any = None
    error: str = INVALID_TYPE


@dataclass(frozen=True)
class Entity:
    """An API collection: path name, fields in response order, required fields, list filters."""

    path: str
    fields: tuple[Field, ...]
    required: tuple[str, ...] = ("name",)
    filters: dict[str, Callable[[dict[str, Any], str], bool]] = field(default_factory=dict)
    paged: int | None = None  # fixed page size (deals) or None

    def field(self, name: str) -> Field | None:
        return next((f for f in self.fields if f.name == name), None)


def _eq_int(name: str) -> Callable[[dict[str, Any], str], bool]:
    def match(item: dict[str, Any], raw: str) -> bool:
        try:
            return item.get(name) == int(raw)
        except ValueError:
            raise ApiError(400, INVALID_TYPE) from None
    return match


def _eq_enum(name: str, choices: tuple[str, ...], error: str) -> Callable[[dict[str, Any], str], bool]:
    def match(item: dict[str, Any], raw: str) -> bool:
        if raw not in choices:
            raise ApiError(400, error)
        return item.get(name) == raw
    return match


def _eq_str(name: str) -> Callable[[dict[str, Any], str], bool]:
    return lambda item, raw: str(item.get(name) or "") == raw


def _contains(name: str) -> Callable[[dict[str, Any], str], bool]:
    return lambda item, raw: raw.lower() in str(item.get(name) or "").lower()


def _date_bound(name: str, upper: bool) -> Callable[[dict[str, Any], str], bool]:
    def match(item: dict[str, Any], raw: str) -> bool:
        bound = parse_date(raw, query=True)
        value = item.get(name)
        if not value:
            return False
        day = parse_date(value)
        return day <= bound if upper else day >= bound
    return match


F = Field
ENTITIES: dict[str, Entity] = {e.path: e for e in (
    Entity("category", (F("id", "int"), F("name", "str"), F("parentId", "int", ref="category"),
                        F("group", "enum", GROUPS, error=INVALID_GROUP), F("type", "enum", CATEGORY_TYPES),
                        F("pnlType", "enum", PNL_TYPES), F("description", "str"), F("isBuiltIn", "flag", default=0)),
           required=("name", "group", "type"),
           filters={"parentId": _eq_int("parentId"), "group": _eq_enum("group", GROUPS, INVALID_GROUP),
                    "type": _eq_enum("type", CATEGORY_TYPES, INVALID_TYPE),
                    "pnlType": _eq_enum("pnlType", PNL_TYPES, INVALID_TYPE)}),
    Entity("moneybag", (F("id", "int"), F("name", "str"), F("type", "enum", MONEYBAG_TYPES, default="nal"),
                        F("number", "str"), F("currency", "str", default="RUB"), F("balance", "num", default=0),
                        F("surplus", "num", default=0), F("surplusTimestamp", "int"),
                        F("groupId", "int", ref="moneybag-group"), F("archived", "flag", default=0),
                        F("hideInTotal", "flag", default=0), F("withoutNds", "flag", default=0)),
           filters={"type": _eq_enum("type", MONEYBAG_TYPES, INVALID_TYPE), "currency": _eq_str("currency"),
                    "groupId": _eq_int("groupId"), "archived": _eq_int("archived"),
                    "hideInTotal": _eq_int("hideInTotal"), "withoutNds": _eq_int("withoutNds")}),
    Entity("partner", (F("id", "int"), F("name", "str"), F("inn", "str"), F("groupId", "int", ref="partner-group"),
                       F("comment", "str")),
           filters={"name": _contains("name"), "inn": _eq_str("inn"), "comment": _contains("comment"),
                    "groupId": _eq_int("groupId")}),
    Entity("direction", (F("id", "int"), F("name", "str"), F("parentId", "int", ref="direction"),
                         F("description", "str"), F("archived", "flag", default=0)),
           filters={"parentId": _eq_int("parentId"), "archived": _eq_int("archived")}),
    Entity("moneybag-group", (F("id", "int"), F("name", "str"), F("isBuiltIn", "flag", default=0))),
    Entity("partner-group", (F("id", "int"), F("name", "str"))),
    Entity("deal-status", (F("id", "int"), F("name", "str"))),
    Entity("deal", (F("id", "int"), F("name", "str"), F("jobs", "list"), F("goods", "list"),
                    F("directionId", "int", ref="direction"), F("amount", "num"), F("currency", "str", default="RUB"),
                    F("customCostPrice", "num"), F("statusId", "int", ref="deal-status"),
                    F("partnerId", "int", ref="partner"), F("responsibleId", "int"), F("comment", "str"),
                    F("startDate", "date"), F("endDate", "date"), F("actDate", "date"), F("nds", "num"),
                    F("stages", "list")),
           filters={"name": _contains("name"), "directionId": _eq_int("directionId"),
                    "statusId": _eq_int("statusId"), "partnerId": _eq_int("partnerId"),
                    "responsibleId": _eq_int("responsibleId"), "currency": _eq_str("currency"),
                    **{f"{k}Date{s}": _date_bound(f"{k}Date", s == "To")
                       for k in ("start", "end", "act") for s in ("From", "To")}},
           paged=500),
    Entity("transaction", (F("id", "int"), F("value", "num"), F("moneybagId", "int", ref="moneybag"),
                           F("group", "enum", GROUPS, error=INVALID_GROUP), F("value2", "num"),
                           F("moneybag2Id", "int", ref="moneybag"), F("parentId", "int"), F("description", "str"),
                           F("date", "date"), F("timestamp", "int"), F("isPlan", "flag", default=0),
                           F("categoryId", "int", ref="category"), F("partnerId", "int", ref="partner"),
                           F("directionId", "int", ref="direction"), F("dealId", "int", ref="deal"),
                           F("obligationId", "int"), F("factMonth", "month"), F("spreadMonthes", "int", default=1),
                           F("nds", "int")),
           required=("value", "group", "moneybagId"),
           filters={"dateFrom": _date_bound("date", False), "dateTo": _date_bound("date", True),
                    "group": _eq_enum("group", GROUPS, INVALID_GROUP), "parentId": _eq_int("parentId"),
                    "categoryId": _eq_int("categoryId"), "partnerId": _eq_int("partnerId"),
                    "directionId": _eq_int("directionId"), "dealId": _eq_int("dealId"),
                    "isPlan": _eq_int("isPlan")}),
)}


def check_value(f: Field, value: Any) -> Any:
    """Validate one incoming field value; returns it normalised (partner INN numbers become strings)."""
    if value is None:
        return None
    kind = f.kind
    if kind in ("int", "flag"):
        if isinstance(value, bool) or not isinstance(value, int) or (kind == "flag" and value not in (0, 1)):
            raise ApiError(400, INVALID_TYPE)
    elif kind == "num":
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ApiError(400, INVALID_TYPE)
    elif kind == "str":
        if f.name == "inn" and isinstance(value, int) and not isinstance(value, bool):
            return str(value)
        if not isinstance(value, str):
            raise ApiError(400, INVALID_TYPE)
    elif kind == "enum":
        if value not in f.choices:
            raise ApiError(400, f.error)
    elif kind == "date":
        parse_date(value)
    elif kind == "month":
        if not (isinstance(value, str) and _MONTH_RE.match(value) and 1 <= int(value[:2]) <= 12):
            raise ApiError(422, BODY_MONTH)
    elif kind == "list" and not isinstance(value, list):
        raise ApiError(400, INVALID_TYPE)
    return value


def shape(entity: Entity, item: dict[str, Any]) -> dict[str, Any]:
    """Response item: every field in spec order, null where unset (as the spec examples show)."""
    out = {f.name: item.get(f.name) for f in entity.fields}
    if entity.path == "transaction" and item.get("group") != "transfer":
        out.pop("value2")
        out.pop("moneybag2Id")
    return out
