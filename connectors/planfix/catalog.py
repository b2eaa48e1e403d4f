"""Account reference data the connector looks up by name: custom fields, statuses, data tags.

Status and field ids are account data, not constants (reference §1.9), so rules name them and
the connector resolves the names once per process. An unknown name is a PermanentError listing
what the account has, so the admin can fix the rule.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from connectors.planfix.client import PlanfixClient
from relay.errors import PermanentError


@dataclass(frozen=True)
class FieldDef:
    id: int
    name: str
    type: int


@dataclass(frozen=True)
class StatusDef:
    id: int
    name: str
    names: tuple[str, ...]  # the name in every language the account shows
    active: bool


def _fields(rows: list[dict[str, Any]]) -> dict[int, FieldDef]:
    return {int(r["id"]): FieldDef(int(r["id"]), str(r.get("name") or ""), int(r.get("type") or 0)) for r in rows if "id" in r}


def find_field(fields: dict[int, FieldDef], ref: str | int, where: str) -> FieldDef:
    """A field by id or by name (case-insensitive)."""
    text = str(ref).strip()
    if text.isdigit() and int(text) in fields:
        return fields[int(text)]
    for f in fields.values():
        if f.name.casefold() == text.casefold():
            return f
    known = ", ".join(f"{f.id} {f.name}" for f in fields.values()) or "none"
    raise PermanentError(f"{where} has no field {ref!r} (known: {known})")


class Catalog:
    def __init__(self, client: PlanfixClient) -> None:
        self.client = client
        self._lock = threading.Lock()
        self._task_fields: dict[int, FieldDef] | None = None
        self._statuses: dict[int, list[StatusDef]] = {}
        self._tags: dict[int, tuple[str, dict[int, FieldDef]]] = {}

    def task_fields(self) -> dict[int, FieldDef]:
        with self._lock:
            if self._task_fields is None:
                self._task_fields = _fields(self.client.get("/customfield/task").get("customfields") or [])
            return self._task_fields

    def task_field(self, ref: str | int) -> FieldDef:
        return find_field(self.task_fields(), ref, "Planfix (task custom fields)")

    def statuses(self, process_id: int) -> list[StatusDef]:
        with self._lock:
            if process_id not in self._statuses:
                rows = self.client.get(f"/process/task/{process_id}/statuses", "id,name,isActive,texts").get("statuses") or []
                self._statuses[process_id] = [
                    StatusDef(int(r["id"]), str(r.get("name") or ""),
                              tuple(dict.fromkeys([str(r.get("name") or "")] + [str(t.get("name")) for t in r.get("texts") or []])),
                              bool(r.get("isActive", True))) for r in rows]
            return self._statuses[process_id]

    def status_ids(self, process_id: int, names: list[str]) -> set[int]:
        wanted = {n.casefold() for n in names}
        return {s.id for s in self.statuses(process_id) if wanted & {n.casefold() for n in s.names}}

    def status_id(self, process_id: int, names: list[str], shown: str) -> int:
        """The first of `names` that exists in the process (a role may list names of several processes)."""
        for name in names:
            found = self.status_ids(process_id, [name])
            if found:
                return min(found)
        known = ", ".join(s.name for s in self.statuses(process_id)) or "none"
        raise PermanentError(f"process {process_id} has no status {shown!r} (looked for {', '.join(names)}; it has: {known})")

    def data_tag(self, ref: str | int) -> tuple[int, str, dict[int, FieldDef]]:
        """(id, name, fields) of a data tag ("analytics") by id or name."""
        text = str(ref).strip()
        tag_id = int(text) if text.isdigit() else self._tag_id_by_name(text)
        with self._lock:
            if tag_id not in self._tags:
                tag = self.client.get(f"/datatag/{tag_id}").get("dataTag") or {}
                self._tags[tag_id] = (str(tag.get("name") or ""), _fields(tag.get("fields") or []))
            name, fields = self._tags[tag_id]
        return tag_id, name, fields

    def _tag_id_by_name(self, name: str) -> int:
        rows = self.client.list_all("/datatag/list", {"fields": "id,name"}, "dataTags")
        for row in rows:
            if str(row.get("name", "")).casefold() == name.casefold():
                return int(row["id"])
        raise PermanentError(f"Planfix has no data tag named {name!r} (known: {', '.join(str(r.get('name')) for r in rows) or 'none'})")
