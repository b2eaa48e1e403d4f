"""The live Bitrix24 connector: read-back and change detection for events, the reconciliation sweep."""
from __future__ import annotations

import hashlib
import logging
import threading
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

from connectors.bitrix24.client import Bitrix24Client, BitrixError, Command
from connectors.bitrix24.describe import describe_live
from connectors.bitrix24.offline import OfflinePortal
from connectors.bitrix24.settings import Bitrix24Settings
from connectors.bitrix24.source import Bitrix24Source, entity_key
from connectors.bitrix24.vocabulary import Bitrix24Vocabulary
from relay.aio import LoopThread
from relay.changes import Change
from relay.inbox import Claimed
from relay.intake.base import IncomingEvent
from relay.ratelimit import SharedBucket
from relay.store import utcnow
from relay.store.schema import Cursor
from relay.tooling.vocabulary import register_vocabulary

if TYPE_CHECKING:
    from relay.runtime import Runtime

log = logging.getLogger("relay.bitrix24")
register_vocabulary(Bitrix24Vocabulary())  # what `app.py check` knows of Bitrix24 rules without a portal

# entity type → (get method, id parameter, list method)
READERS = {
    "deal": ("crm.deal.get", "id", "crm.deal.list"),
    "company": ("crm.company.get", "id", "crm.company.list"),
    "contact": ("crm.contact.get", "id", "crm.contact.list"),
    "lead": ("crm.lead.get", "id", "crm.lead.list"),
    "task": ("tasks.task.get", "taskId", ""),
    "item": ("crm.item.get", "id", ""),
}


# Bookkeeping the portal updates on every write; a change of only these is no news.
VOLATILE = {"DATE_MODIFY", "MODIFY_BY_ID", "LAST_ACTIVITY_TIME", "LAST_ACTIVITY_BY", "updatedTime", "updatedBy",
            "lastActivityTime", "lastActivityBy", "changedDate", "changedBy", "CHANGED_DATE", "CHANGED_BY"}


def shared_budget(settings: Bitrix24Settings, runtime: "Runtime") -> SharedBucket | None:
    """The portal's leaky bucket in the store, one per portal (named by a hash of its webhook URL)."""
    if not settings.shared_budget:
        return None
    portal = hashlib.sha256(settings.webhook_url.get_secret_value().encode()).hexdigest()[:12]
    return SharedBucket(runtime.store, f"bitrix24.bucket.{portal}", settings.requests_per_second, settings.burst)


class Bitrix24Connector:
    name = "bitrix24"

    def __init__(self, settings: Bitrix24Settings, runtime: "Runtime") -> None:
        self.settings = settings
        self.runtime = runtime
        self.client: Any = Bitrix24Client(settings, LoopThread("bitrix24"), budget=shared_budget(settings, runtime))
        self._stages: dict[str, str] = {}
        self._pipelines: dict[str, list[str]] = {}
        self._stages_lock = threading.Lock()

    def sources(self) -> dict[str, Bitrix24Source]:
        return {"bitrix24": Bitrix24Source(self.settings)}

    # --- reading ---------------------------------------------------------------------------
    def read(self, entity: str, entity_id: str, type_id: str = "") -> dict[str, Any] | None:
        """The entity as the portal shows it now; None if it no longer exists."""
        method, id_param, _ = READERS[entity]
        params: dict[str, Any] = {id_param: entity_id}
        if entity == "item":
            params["entityTypeId"] = type_id
        try:
            result = self.client.call(method, params)
        except BitrixError as exc:
            if exc.not_found:
                return None
            raise
        if entity in ("item", "task") and isinstance(result, dict):
            result = result.get("item") or result.get("task") or result
        return result if isinstance(result, dict) else None

    def prepare(self, event: Claimed) -> dict[str, Any] | None:
        entity, _, action = event.kind.partition(".")
        entity_id, type_id = str(event.payload.get("id", "")), str(event.payload.get("entity_type_id", ""))
        base = {"entity_type": entity, "id": entity_id, "bitrix24": self}
        if action == "deleted":
            # An empty change, not None: `change.entered(...)` in a rule reads False on a deletion
            # instead of failing the event.
            last = self.runtime.snapshots.get(event.entity_key)
            if last is None:
                self.runtime.tracer.add(event.id, "read-back", f"{entity} {entity_id} was deleted before the relay ever read it: "
                                        "nothing is known of it for rules to look at")
                return None
            return {**base, "deleted": True, "change": Change(event.entity_key, old=last, new={}), entity: {**last, "ID": entity_id}}
        fresh = self.read(entity, entity_id, type_id)
        if fresh is None:
            self.runtime.tracer.add(event.id, "read-back", f"{entity} {entity_id} no longer exists in the portal")
            return None
        change = self.runtime.snapshots.observe(event.entity_key, fresh, event.id)
        self.runtime.tracer.add(event.id, "read-back", f"{entity} {entity_id}: " + (
            ", ".join(sorted(change.fields)) if change.fields else "no change") + (f" (echo of own write: {', '.join(change.echoes)})" if change.echoes else ""),
            change=change.as_dict() if len(str(change.fields)) < 4000 else {"fields": sorted(change.fields)})
        if not change or (not change.created and set(change.fields) <= VOLATILE):
            return None
        return {**base, "entity": fresh, entity: fresh, "change": change}

    # --- writing ---------------------------------------------------------------------------
    def update(self, entity: str, entity_id: str, fields: dict[str, Any]) -> None:
        """Write fields, remembering them as own writes so their echo is no change."""
        key = entity_key(entity, entity_id)
        self.runtime.snapshots.record_writes(key, fields)
        self.client.call(f"crm.{entity}.update", {"id": entity_id, "fields": fields})

    def _load_stages(self, stage_id: str) -> None:
        with self._stages_lock:
            if stage_id in self._stages:
                return
            categories = self.client.call("crm.category.list", {"entityTypeId": 2}) or {}
            ids = [int(c["id"]) for c in (categories.get("categories", []) if isinstance(categories, dict) else categories)]
            entity_ids = ["DEAL_STAGE" if i == 0 else f"DEAL_STAGE_{i}" for i in sorted(set(ids) | {0})]
            pages = self.client.group([Command("crm.status.list", {"filter": {"ENTITY_ID": e}}) for e in entity_ids])
            for entity_id, page in zip(entity_ids, pages):
                rows = sorted(page or [], key=lambda r: int(r.get("SORT") or 0))
                self._pipelines[entity_id] = [str(r.get("STATUS_ID")) for r in rows]
                for row in rows:
                    self._stages[str(row.get("STATUS_ID"))] = str(row.get("NAME"))

    def stage_name(self, stage_id: str) -> str:
        """The human name of a deal stage (for "the parent shows each child's stage")."""
        self._load_stages(stage_id)
        return self._stages.get(stage_id, stage_id)

    def previous_stage(self, stage_id: str) -> str | None:
        """The stage before `stage_id` in its pipeline (used when the relay never saw the deal's last stage)."""
        self._load_stages(stage_id)
        for stages in self._pipelines.values():
            if stage_id in stages:
                index = stages.index(stage_id)
                return stages[index - 1] if index > 0 else None
        return None

    # --- the reconciliation sweep ----------------------------------------------------------
    def periodic_jobs(self) -> list[tuple[float, Any, str]]:
        if not self.settings.sweep.interval_seconds:
            return []
        return [(self.settings.sweep.interval_seconds, self.sweep, "bitrix24-sweep")]

    def sweep(self) -> int:
        """Queue an event for every entity modified since the cursor whose snapshot is older.

        The first sweep only sets the cursor: entities changed before the relay was installed are not
        treated as news. A sweep that finds nothing costs one request per entity type.
        """
        queued = 0
        for entity in self.settings.sweep.entities:
            queued += self._sweep_entity(entity)
        return queued

    def _sweep_entity(self, entity: str) -> int:
        name = f"bitrix24.sweep.{entity}"
        now = utcnow()
        with self.runtime.store.session() as s:
            cursor = s.get(Cursor, name)
            since = cursor.value if cursor else None
            if cursor is None:
                # Everything up to the end of this second is the baseline; webhooks carry what follows.
                baseline = (now + timedelta(seconds=1)).isoformat(timespec="seconds")
                s.add(Cursor(name=name, value=baseline, updated_at=now))
                return 0
        start = datetime.fromisoformat(since) - timedelta(seconds=self.settings.sweep.overlap_seconds)
        rows = self.client.list_all(READERS[entity][2], {"filter": {">=DATE_MODIFY": start.isoformat(timespec="seconds")},
                                                         "select": ["ID", "DATE_MODIFY"]})
        events = []
        newest = datetime.fromisoformat(since)
        for row in rows:
            modified = str(row.get("DATE_MODIFY") or "")
            key = entity_key(entity, str(row["ID"]))
            seen = self.runtime.snapshots.taken_at(key)
            moment = datetime.fromisoformat(modified).astimezone(timezone.utc) if modified else None
            if moment:
                newest = max(newest, moment)
            # DATE_MODIFY has one-second steps: a snapshot read in that same second may predate a change.
            if seen and moment and str(seen[0].get("DATE_MODIFY")) == modified and seen[1] > moment + timedelta(seconds=1):
                continue
            # Repeatable: a second sweep of the same DATE_MODIFY exists because the first look may
            # have come within that second, before the change; keyed once, it would be dropped.
            events.append(IncomingEvent(kind=f"{entity}.updated", entity_key=key, idem_key=f"sweep:{row['ID']}:{modified}",
                                        payload={"event": "SWEEP", "id": str(row["ID"]), "entity_type_id": "", "ts": modified},
                                        repeatable=True))
        stored, _ = self.runtime.inbox.add("bitrix24", events)
        with self.runtime.store.session() as s:
            cursor = s.get(Cursor, name)
            assert cursor is not None
            cursor.value, cursor.updated_at = newest.isoformat(timespec="seconds"), now
        if stored:
            log.info("sweep queued %d %s(s) whose webhook never arrived", stored, entity)
        return stored

    # --- rule tooling: check --live, app.py test, app.py simulate ----------------------------
    def describe_live(self, entities: set[str]) -> dict[str, Any]:
        """The fields, pipelines and stages the portal has for these entities (`deal`, `item:1036`)."""
        return describe_live(self.client, entities)

    def offline(self, objects: dict[str, Any]) -> None:
        """Answer reads from a rule test's objects instead of the portal; refuse every write."""
        if not isinstance(self.client, OfflinePortal):
            self._live_client = self.client  # closed with the connector; closing it now would strand its loop's tasks
        self.client = OfflinePortal(objects)
        self._stages.clear()
        self._pipelines.clear()
        from connectors.bitrix24.actions import LOOP_GUARD
        LOOP_GUARD.reset()  # test cases repeat the same planned writes; each case starts with no history

    def rehearse_event(self, kind: str, entity: dict[str, Any]) -> IncomingEvent:
        """The event the portal would send about `entity` (a rule test's before/after); the offline portal now holds it."""
        name = kind.partition(".")[0]
        entity_id, type_id = str(entity.get("ID", entity.get("id", ""))), str(entity.get("entityTypeId", "") if name == "item" else "")
        self.client.add(f"item:{type_id}" if name == "item" else name, entity)
        return IncomingEvent(kind=kind, entity_key=entity_key(name, entity_id, type_id), idem_key=f"test:{kind}:{entity_id}",
                             payload={"event": "TEST", "id": entity_id, "entity_type_id": type_id, "ts": ""})

    def event_for(self, entity: str, entity_id: str) -> IncomingEvent | None:
        """The event `app.py simulate --deal ID` (or another entity) stands for: "it changed; look again"."""
        if entity not in ("deal", "company", "contact", "lead"):
            return None
        return IncomingEvent(kind=f"{entity}.updated", entity_key=entity_key(entity, entity_id), idem_key=f"simulate:{entity}:{entity_id}",
                             payload={"event": "SIMULATE", "id": entity_id, "entity_type_id": "", "ts": ""})

    def close(self) -> None:
        self.client.close()
        live = getattr(self, "_live_client", None)
        if live is not None:
            live.close()

