"""A portal in memory for rule tests (`python app.py test`): the connector's client, minus the network.

It answers the reads the connector and its actions make (get, list by simple filters, pipelines and
stages) from the test's `objects:` and refuses every write, so a test that reaches a write outside
`ctx.effect` fails loudly instead of touching anything. Test objects look like:

    objects:
      bitrix24:
        deal: [{ID: "2", TITLE: ..., UF_CRM_CHILD_DEALS: ["5"]}, ...]
        item:1036: [{id: 1, title: ...}]
        pipelines:                       # deal pipelines: stage id → name, in order
          "0": {NEW: Новая, UC_EVALUATE: Оценить}
          "1": {"C1:NEW": Новая, "C1:UC_APPROVAL": На согласовании}
"""
from __future__ import annotations

import copy
from typing import Any

from connectors.bitrix24.client import BitrixError, Command
from connectors.bitrix24.vocabulary import STANDARD_FIELDS
from relay.errors import PermanentError

GETTERS = {"crm.deal.get": "deal", "crm.company.get": "company", "crm.contact.get": "contact", "crm.lead.get": "lead"}
LISTS = {"crm.deal.list": "deal", "crm.company.list": "company", "crm.contact.list": "contact", "crm.lead.list": "lead"}


class OfflinePortal:
    def __init__(self, objects: dict[str, Any]) -> None:
        self.records: dict[str, dict[str, dict[str, Any]]] = {}
        self.pipelines: dict[str, dict[str, str]] = {str(k): dict(v or {}) for k, v in (objects.get("pipelines") or {}).items()}
        for entity, rows in objects.items():
            if entity == "pipelines":
                continue
            for row in (rows.values() if isinstance(rows, dict) else rows or []):
                self.add(str(entity), row)

    def add(self, entity: str, record: dict[str, Any]) -> None:
        key = str(record.get("ID", record.get("id", "")))
        self.records.setdefault(entity, {})[key] = copy.deepcopy(record)

    # --- the client's interface ---------------------------------------------------------------
    def call(self, method: str, params: dict[str, Any] | None = None) -> Any:
        return self._answer(method, params or {})

    def group(self, commands: list[Command]) -> list[Any]:
        return [self._answer(c.method, c.params) for c in commands]

    def raw(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        return {"result": self._answer(method, params)}

    def list_all(self, method: str, params: dict[str, Any], key: str = "ID") -> list[dict[str, Any]]:
        found = self._answer(method, params)
        return found.get("items", []) if isinstance(found, dict) else found

    def close(self) -> None:
        pass

    # --- answers ----------------------------------------------------------------------------
    def _answer(self, method: str, params: dict[str, Any]) -> Any:
        if method in GETTERS:
            return self._get(method, GETTERS[method], params.get("id", params.get("ID")))
        if method == "crm.item.get":
            return {"item": self._get(method, f"item:{params.get('entityTypeId')}", params.get("id"))}
        if method == "tasks.task.get":
            return {"task": self._get(method, "task", params.get("taskId"))}
        if method in LISTS:
            return self._list(LISTS[method], params.get("filter") or {})
        if method == "crm.item.list":
            return {"items": self._list(f"item:{params.get('entityTypeId')}", params.get("filter") or {})}
        if method == "crm.category.list":
            return {"categories": [{"id": int(k), "entityTypeId": 2} for k in sorted(self.pipelines, key=int)]}
        if method == "crm.status.list":
            return self._stages(str((params.get("filter") or {}).get("ENTITY_ID", "")))
        raise PermanentError(f"{method}: a rule test runs offline and answers only reads; "
                             "an action wrote outside ctx.effect, or read something the test's objects cannot answer")

    def _get(self, method: str, entity: str, entity_id: Any) -> dict[str, Any]:
        record = self.records.get(entity, {}).get(str(entity_id))
        if record is None:
            raise BitrixError(method, "", f"Not found: the test's objects hold no {entity} {entity_id}")
        return self._complete(entity, record)

    def _complete(self, entity: str, record: dict[str, Any]) -> dict[str, Any]:
        """A portal answers every field, empty ones as null: so does this one, for the standard fields
        and every field any test record of this entity type names (a condition may read any of them)."""
        names = set(STANDARD_FIELDS.get(entity.split(":")[0], ())) | {k for r in self.records.get(entity, {}).values() for k in r}
        return {**{name: None for name in sorted(names)}, **copy.deepcopy(record)}

    def _list(self, entity: str, where: dict[str, Any]) -> list[dict[str, Any]]:
        def keep(record: dict[str, Any]) -> bool:
            for name, wanted in where.items():
                field = name.lstrip("=!<>%")
                value = record.get(field)
                values = [str(v) for v in value] if isinstance(value, list) else [str(value)]
                if name.startswith(">"):
                    if not str(value or "").isdigit() or int(value) <= int(wanted or 0):  # type: ignore[arg-type]
                        return False
                elif str(wanted) not in values:
                    return False
            return True
        return [self._complete(entity, r) for r in self.records.get(entity, {}).values() if keep(r)]

    def _stages(self, entity_id: str) -> list[dict[str, Any]]:
        pipeline = "0" if entity_id == "DEAL_STAGE" else entity_id.rpartition("_")[2] if entity_id.startswith("DEAL_STAGE_") else None
        stages = self.pipelines.get(pipeline or "", {})
        return [{"STATUS_ID": sid, "NAME": name, "SORT": str((i + 1) * 10)} for i, (sid, name) in enumerate(stages.items())]
