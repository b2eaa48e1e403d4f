"""The portal's data, in memory, behind one lock: CRM records, user fields, pipelines, stages.

Records are plain dicts keyed by the old-API upper-case field names and hold stored values (see
values.py). `kind` names a table: "DEAL", "COMPANY", "CONTACT", "REQUISITE", "BANKDETAIL", "TASK",
"COMMENT", "ACTIVITY", "NOTIFY" or "DYNAMIC_<entityTypeId>". Lists inside records are replaced,
never mutated, so a shallow copy is a safe snapshot for readers.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any, Iterator

from .schema import FieldDef

SEMANTIC_LETTER = {"process": "P", "success": "S", "failure": "F", "apology": "F"}


@dataclass
class UserField:
    """A `crm.*.userfield` definition. Values live in the records under `field_name`."""

    id: int
    entity_id: str
    field_name: str
    user_type_id: str
    multiple: bool = False
    mandatory: bool = False
    settings: dict[str, Any] = field(default_factory=dict)
    labels: dict[str, Any] = field(default_factory=dict)
    sort: int = 100
    xml_id: str | None = None
    show_filter: str = "N"
    show_in_list: str = "Y"
    edit_in_list: str = "Y"
    is_searchable: str = "N"
    items: list[dict[str, Any]] = field(default_factory=list)  # enumeration values

    def field_def(self) -> FieldDef:
        label = self.labels.get("LIST_COLUMN_LABEL") or self.labels.get("EDIT_FORM_LABEL")
        extra: dict[str, Any] = {"listLabel": label or self.field_name,
                                 "formLabel": self.labels.get("EDIT_FORM_LABEL") or label or self.field_name,
                                 "filterLabel": self.labels.get("LIST_FILTER_LABEL") or label or self.field_name}
        default: Any = None
        if self.user_type_id == "enumeration":
            extra["items"] = [{"ID": str(i["ID"]), "VALUE": i["VALUE"]} for i in self.items]
            defaults = [i["ID"] for i in self.items if i.get("DEF") == "Y"]
            default = defaults if self.multiple else (defaults[0] if defaults else None)
        elif self.user_type_id == "boolean":
            default = 1 if str(self.settings.get("DEFAULT_VALUE", 0)) in ("1", "Y") else 0
        return FieldDef(self.field_name, self.user_type_id, title=self.field_name, multiple=self.multiple,
                        required=self.mandatory, settings=dict(self.settings), uf=True, extra=extra, default=default)


@dataclass
class Category:
    """A pipeline (deal category or smart-process category)."""

    id: int
    entity_type_id: int
    name: str
    sort: int = 500
    is_default: bool = False


@dataclass
class Status:
    """A row of `crm.status.list`: a stage of some pipeline, or a dictionary entry (SOURCE, ...)."""

    id: int
    entity_id: str
    status_id: str
    name: str
    sort: int = 10
    system: bool = False
    category_id: int | None = None
    color: str | None = None
    semantics: str | None = None  # process / success / failure / apology, for stages only

    @property
    def letter(self) -> str:
        return SEMANTIC_LETTER.get(self.semantics or "process", "P")


@dataclass
class SmartType:
    """A smart process (crm.type).

    `parents`: entity types its items can point up to (item field parentId{N}, e.g. parentId2 = a deal).
    `children`: entity types whose records can point up to it (e.g. 2 gives deals a PARENT_ID_{type}).
    """

    id: int
    entity_type_id: int
    title: str
    parents: list[int] = field(default_factory=lambda: [2])
    children: list[int] = field(default_factory=list)


def stage_entity_id(entity_type_id: int, category_id: int) -> str:
    """ENTITY_ID of a pipeline's stages in crm.status.list."""
    if entity_type_id == 2:
        return "DEAL_STAGE" if category_id == 0 else f"DEAL_STAGE_{category_id}"
    return f"DYNAMIC_{entity_type_id}_STAGE_{category_id}"


def stage_prefix(entity_type_id: int, category_id: int) -> str:
    """Stage ids are prefixed per pipeline: "" and "C1:" for deals, "DT1030_5:" for smart processes."""
    if entity_type_id == 2:
        return "" if category_id == 0 else f"C{category_id}:"
    return f"DT{entity_type_id}_{category_id}:"


class Store:
    """Thread-safe in-memory tables; every public method takes the lock."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.clear()

    def clear(self) -> None:
        with self.lock:
            self.records: dict[str, dict[int, dict[str, Any]]] = {}
            self.next_ids: dict[str, int] = {}
            self.userfields: list[UserField] = []
            self.categories: dict[int, dict[int, Category]] = {}
            self.statuses: list[Status] = []
            self.types: dict[int, SmartType] = {}
            self.users: dict[int, dict[str, Any]] = {}
            self.serial: dict[str, int] = {}

    def next_serial(self, name: str, start: int = 1) -> int:
        """A counter for ids that are not records (user fields, stages, enum items, handlers)."""
        with self.lock:
            value = self.serial.get(name, start)
            self.serial[name] = value + 1
            return value

    # records -------------------------------------------------------------------------------
    def insert(self, kind: str, record: dict[str, Any], record_id: int | None = None) -> int:
        with self.lock:
            table = self.records.setdefault(kind, {})
            if record_id is None:
                record_id = self.next_ids.get(kind, 1)
            self.next_ids[kind] = max(self.next_ids.get(kind, 1), record_id + 1)
            table[record_id] = {**record, "ID": record_id}
            return record_id

    def get(self, kind: str, record_id: int | None) -> dict[str, Any] | None:
        with self.lock:
            record = self.records.get(kind, {}).get(record_id) if record_id is not None else None
            return dict(record) if record is not None else None

    def update(self, kind: str, record_id: int, changes: dict[str, Any]) -> bool:
        with self.lock:
            record = self.records.get(kind, {}).get(record_id)
            if record is None:
                return False
            record.update(changes)
            return True

    def delete(self, kind: str, record_id: int) -> bool:
        with self.lock:
            return self.records.get(kind, {}).pop(record_id, None) is not None

    def all(self, kind: str) -> list[dict[str, Any]]:
        with self.lock:
            return [dict(r) for r in self.records.get(kind, {}).values()]

    def count(self, kind: str) -> int:
        with self.lock:
            return len(self.records.get(kind, {}))

    # user fields ---------------------------------------------------------------------------
    def add_userfield(self, uf: UserField) -> UserField:
        with self.lock:
            self.userfields.append(uf)
            return uf

    def userfields_of(self, entity_id: str) -> list[UserField]:
        with self.lock:
            return [u for u in self.userfields if u.entity_id == entity_id]

    def find_userfield(self, entity_id: str, name: str) -> UserField | None:
        return next((u for u in self.userfields_of(entity_id) if u.field_name == name), None)

    # pipelines and stages ------------------------------------------------------------------
    def add_category(self, cat: Category) -> Category:
        with self.lock:
            self.categories.setdefault(cat.entity_type_id, {})[cat.id] = cat
            return cat

    def category(self, entity_type_id: int, category_id: int) -> Category | None:
        with self.lock:
            return self.categories.get(entity_type_id, {}).get(category_id)

    def categories_of(self, entity_type_id: int) -> list[Category]:
        with self.lock:
            return sorted(self.categories.get(entity_type_id, {}).values(), key=lambda c: (c.sort, c.id))

    def default_category(self, entity_type_id: int) -> Category | None:
        cats = self.categories_of(entity_type_id)
        return next((c for c in cats if c.is_default), cats[0] if cats else None)

    def add_status(self, status: Status) -> Status:
        with self.lock:
            self.statuses = [s for s in self.statuses
                             if not (s.entity_id == status.entity_id and s.status_id == status.status_id)]
            self.statuses.append(status)
            return status

    def statuses_of(self, entity_id: str | None = None) -> list[Status]:
        with self.lock:
            rows = [s for s in self.statuses if entity_id is None or s.entity_id == entity_id]
        return sorted(rows, key=lambda s: (s.sort, s.id))

    def stages(self, entity_type_id: int, category_id: int) -> list[Status]:
        return self.statuses_of(stage_entity_id(entity_type_id, category_id))

    def stage(self, entity_type_id: int, category_id: int, status_id: str) -> Status | None:
        return next((s for s in self.stages(entity_type_id, category_id) if s.status_id == status_id), None)

    def iter_stage_categories(self, entity_type_id: int) -> Iterator[tuple[Category, list[Status]]]:
        for cat in self.categories_of(entity_type_id):
            yield cat, self.stages(entity_type_id, cat.id)
