"""Fintablo data in memory: generic CRUD over the entities of `schema`, plus transaction and deal rules.

One re-entrant lock guards everything: requests are small and the emulator must never show a
half-applied split or a dangling reference to a concurrent reader.
"""
from __future__ import annotations

import copy
import itertools
import threading
from datetime import datetime, time
from typing import Any

from emulators.common.clock import MSK, Clock, SystemClock
from emulators.fintablo.schema import (BUILT_IN, CHILD_OF_BUILT_IN, DATE_REQUIRED, EMPTY_DATA, ENTITIES, ID_REQUIRED,
                                       INVALID_TYPE, NO_ITEM, RELATED, REQUIRED_FIELDS, ApiError, Entity,
                                       check_value, fmt_date, parse_date, shape)

# Who may point at whom: deleting the target while any of these fields refer to it is refused.
_REFERENCED_BY: dict[str, list[tuple[str, str]]] = {
    "category": [("transaction", "categoryId"), ("category", "parentId")],
    "moneybag": [("transaction", "moneybagId"), ("transaction", "moneybag2Id")],
    "partner": [("transaction", "partnerId"), ("deal", "partnerId")],
    "direction": [("transaction", "directionId"), ("deal", "directionId"), ("direction", "parentId")],
    "deal-status": [("deal", "statusId")],
    "deal": [("transaction", "dealId"), ("deal", "_parent")],
    "moneybag-group": [("moneybag", "groupId")],
    "partner-group": [("partner", "groupId")],
}
SEED_KEYS = {"moneybag_groups": "moneybag-group", "partner_groups": "partner-group", "deal_statuses": "deal-status",
             "categories": "category", "moneybags": "moneybag", "partners": "partner", "directions": "direction",
             "deals": "deal", "transactions": "transaction"}
UNALLOCATED = {"income": "Неразнесенное поступление", "outcome": "Неразнесенное списание", "transfer": "Перевод"}


class FintabloStore:
    """All tables of one Fintablo company."""

    def __init__(self, seed: dict[str, Any], clock: Clock | None = None) -> None:
        self.clock = clock or SystemClock()
        self.lock = threading.RLock()
        self.seed = seed
        self.load(seed)

    def load(self, seed: dict[str, Any]) -> None:
        """(Re)build every table from the seed; ids continue after the largest seeded id."""
        with self.lock:
            self.tokens: set[str] = set(seed.get("tokens") or [])
            self.tables: dict[str, dict[int, dict[str, Any]]] = {path: {} for path in ENTITIES}
            for key, path in SEED_KEYS.items():
                for row in seed.get(key) or []:
                    self.tables[path][int(row["id"])] = self._normalise_seed(path, dict(row))
            biggest = max((i for t in self.tables.values() for i in t), default=100)
            self._ids = itertools.count(biggest + 1)

    def _normalise_seed(self, path: str, row: dict[str, Any]) -> dict[str, Any]:
        if path == "partner" and row.get("inn") is not None:
            row["inn"] = str(row["inn"])
        if path == "transaction":
            day = parse_date(row["date"])
            row.setdefault("timestamp", int(datetime.combine(day, time(12), tzinfo=MSK).timestamp()))
            row.setdefault("factMonth", day.strftime("%m.%Y"))
        for f in ENTITIES[path].fields:
            if f.default is not None:
                row.setdefault(f.name, f.default)
        return row

    # ---- reading -------------------------------------------------------------------------
    def _row(self, path: str, item_id: int) -> dict[str, Any]:
        row = self.tables[path].get(item_id)
        if row is None:
            raise ApiError(422, NO_ITEM)
        return row

    def render(self, path: str, row: dict[str, Any]) -> dict[str, Any]:
        entity = ENTITIES[path]
        item = dict(row)
        if path == "moneybag":
            item["balance"] = self._balance(row)
        if path == "deal" and not row.get("_parent"):
            stage_fields = [f.name for f in entity.fields if f.name not in ("partnerId", "currency", "stages")]
            item["stages"] = [{k: s.get(k) for k in stage_fields} for _, s in sorted(self.tables["deal"].items())
                              if s.get("_parent") == row["id"]]
        return shape(entity, item)

    def _balance(self, bag: dict[str, Any]) -> float:
        total = float(bag.get("balance") or 0)
        for t in self.tables["transaction"].values():
            if t.get("isPlan") or t.get("parentId"):
                continue
            if t["moneybagId"] == bag["id"]:
                total += t["value"] if t["group"] == "income" else -t["value"]
            elif t.get("moneybag2Id") == bag["id"] and t["group"] == "transfer":
                total += t.get("value2") or t["value"]
        return round(total, 2)

    def get(self, path: str, item_id: int) -> dict[str, Any]:
        with self.lock:
            return self.render(path, self._row(path, item_id))

    def list(self, path: str, args: dict[str, str]) -> list[dict[str, Any]]:
        entity = ENTITIES[path]
        with self.lock:
            rows = [r for _, r in sorted(self.tables[path].items()) if not r.get("_parent")]
            for name, match in entity.filters.items():
                if name in args:
                    rows = [r for r in rows if match(r, args[name])]
            if path == "transaction":
                rows = self._transaction_filters(rows, args)
            return [self.render(path, r) for r in rows]

    @staticmethod
    def _transaction_filters(rows: list[dict[str, Any]], args: dict[str, str]) -> list[dict[str, Any]]:
        try:
            if "moneybagId" in args:
                bag = int(args["moneybagId"])
                rows = [r for r in rows if bag in (r["moneybagId"], r.get("moneybag2Id"))]
            if "valueFrom" in args:
                rows = [r for r in rows if r["value"] >= float(args["valueFrom"])]
            if "valueTo" in args:
                rows = [r for r in rows if r["value"] <= float(args["valueTo"])]
        except ValueError:
            raise ApiError(400, INVALID_TYPE) from None
        return rows

    # ---- writing -------------------------------------------------------------------------
    def _check(self, entity: Entity, body: Any, creating: bool) -> dict[str, Any]:
        if not isinstance(body, dict) or not body:
            raise ApiError(400, EMPTY_DATA)
        if creating and any(body.get(name) in (None, "") for name in entity.required):
            raise ApiError(400, REQUIRED_FIELDS)
        read_only = {"id", "isBuiltIn", "stages"} | ({"parentId"} if entity.path == "transaction" else set())
        clean = {f.name: check_value(f, body[f.name]) for f in entity.fields
                 if f.name in body and f.name not in read_only}
        for name, value in clean.items():
            ref = entity.field(name).ref  # type: ignore[union-attr]
            if ref and value is not None and value not in self.tables[ref]:
                raise ApiError(422, f"The {name} is not found")
        if entity.path == "category" and clean.get("parentId") is not None:
            if self.tables["category"][clean["parentId"]].get("isBuiltIn"):
                raise ApiError(422, CHILD_OF_BUILT_IN)
        return clean

    def create(self, path: str, body: Any) -> list[dict[str, Any]]:
        entity = ENTITIES[path]
        with self.lock:
            clean = self._check(entity, body, creating=True)
            if path == "transaction":
                clean = self._complete_transaction(dict(clean), clean, creating=True)
            row = {f.name: f.default for f in entity.fields if f.default is not None} | clean
            row["id"] = next(self._ids)
            self.tables[path][row["id"]] = row
            if path == "deal":
                for stage in body.get("stages") or []:
                    self.add_stage(row["id"], stage)
            return [self.render(path, row)]

    def update(self, path: str, item_id: int | None, body: Any) -> list[dict[str, Any]]:
        if item_id is None:
            raise ApiError(400, ID_REQUIRED)
        entity = ENTITIES[path]
        with self.lock:
            row = self._row(path, item_id)
            if row.get("isBuiltIn"):
                raise ApiError(422, BUILT_IN)
            clean = self._check(entity, body, creating=False)
            if path == "transaction":
                clean = self._complete_transaction({**row, **clean}, clean, creating=False)
            row.update(clean)
            return [self.render(path, row)]

    def delete(self, path: str, item_id: int | None) -> None:
        if item_id is None:
            raise ApiError(400, ID_REQUIRED)
        with self.lock:
            row = self._row(path, item_id)
            if row.get("isBuiltIn"):
                raise ApiError(422, BUILT_IN)
            for table, key in _REFERENCED_BY.get(path, []):
                if any(r.get(key) == item_id for r in self.tables[table].values()):
                    raise ApiError(422, RELATED)
            if path == "transaction":
                for child in [i for i, r in self.tables[path].items() if r.get("parentId") == item_id]:
                    del self.tables[path][child]
            del self.tables[path][item_id]

    def _complete_transaction(self, tx: dict[str, Any], changes: dict[str, Any], creating: bool) -> dict[str, Any]:
        """Fill date/timestamp/category defaults and enforce the transaction-only rules."""
        if creating and tx.get("date") is None and tx.get("timestamp") is None:
            raise ApiError(422, DATE_REQUIRED)
        if tx["value"] <= 0:
            raise ApiError(422, "Invalid value")
        if tx.get("date") is None or ("timestamp" in changes and "date" not in changes):
            tx["date"] = fmt_date(datetime.fromtimestamp(tx["timestamp"], MSK).date())
        else:
            day = parse_date(tx["date"])
            stamp = tx.get("timestamp")
            if stamp is None or datetime.fromtimestamp(stamp, MSK).date() != day:
                clock_time = datetime.fromtimestamp(self.clock.now(), MSK).time().replace(microsecond=0)
                tx["timestamp"] = int(datetime.combine(day, clock_time, tzinfo=MSK).timestamp())
        if tx["group"] == "transfer":
            if tx.get("moneybag2Id") is None:
                raise ApiError(400, REQUIRED_FIELDS)
            if tx.get("value2") is None:
                tx["value2"] = tx["value"]
        else:
            tx["value2"] = tx["moneybag2Id"] = None
        if tx.get("categoryId") is None:
            tx["categoryId"] = self._unallocated(tx["group"])
        if not tx.get("factMonth") or ("date" in changes and "factMonth" not in changes):
            tx["factMonth"] = parse_date(tx["date"]).strftime("%m.%Y")
        return tx

    def _unallocated(self, group: str) -> int | None:
        return next((i for i, c in self.tables["category"].items()
                     if c.get("isBuiltIn") and c.get("group") == group and c.get("name") == UNALLOCATED[group]), None)

    # ---- transaction extras and deal stages ----------------------------------------------
    def split(self, item_id: int, parts: Any) -> list[dict[str, Any]]:
        with self.lock:
            parent = self._row("transaction", item_id)
            if not isinstance(parts, list) or not parts or not all(isinstance(p, dict) for p in parts):
                raise ApiError(400, EMPTY_DATA)
            if parent.get("parentId"):
                raise ApiError(422, NO_ITEM)
            if any("value" not in p for p in parts):
                raise ApiError(400, REQUIRED_FIELDS)
            checked = [self._check(ENTITIES["transaction"], p, creating=False) for p in parts]
            if round(sum(p["value"] for p in checked), 2) != round(parent["value"], 2):
                raise ApiError(422, "Invalid value")
            self._drop_children(item_id)
            inherit = {k: parent.get(k) for k in ("moneybagId", "group", "date", "timestamp", "description",
                                                   "isPlan", "factMonth", "spreadMonthes", "nds")}
            for part in checked:
                child = {**inherit, "categoryId": parent.get("categoryId"), **part,
                         "parentId": item_id, "id": next(self._ids)}
                self.tables["transaction"][child["id"]] = child
            return [self.render("transaction", parent)] + self._children(item_id)

    def unsplit(self, item_id: int, body: Any) -> list[dict[str, Any]]:
        with self.lock:
            parent = self._row("transaction", item_id)
            self._drop_children(item_id)
            if isinstance(body, dict) and body:
                parent.update(self._check(ENTITIES["transaction"], body, creating=False))
            return [self.render("transaction", parent)]

    def confirm(self, item_id: int, body: Any) -> list[dict[str, Any]]:
        with self.lock:
            row = self._row("transaction", item_id)
            changes = self._check(ENTITIES["transaction"], body, creating=False) if body else {}
            changes["isPlan"] = 0
            row.update(self._complete_transaction({**row, **changes}, changes, creating=False))
            return [self.render("transaction", row)]

    def _children(self, item_id: int) -> list[dict[str, Any]]:
        return [self.render("transaction", r) for _, r in sorted(self.tables["transaction"].items())
                if r.get("parentId") == item_id]

    def _drop_children(self, item_id: int) -> None:
        for child in [i for i, r in self.tables["transaction"].items() if r.get("parentId") == item_id]:
            del self.tables["transaction"][child]

    def add_stage(self, deal_id: int, body: Any) -> list[dict[str, Any]]:
        """A stage is a sub-deal with its own id (payments of a stage carry the stage id as dealId)."""
        with self.lock:
            deal = self._row("deal", deal_id)
            clean = self._check(ENTITIES["deal"], body, creating=True)
            clean.pop("partnerId", None)
            stage = {**clean, "id": next(self._ids), "_parent": deal_id, "currency": deal.get("currency")}
            self.tables["deal"][stage["id"]] = stage
            return [self.render("deal", deal)]

    def dump(self) -> dict[str, Any]:
        with self.lock:
            return {"tables": copy.deepcopy({p: list(t.values()) for p, t in self.tables.items()}),
                    "tokens": sorted(self.tokens)}
