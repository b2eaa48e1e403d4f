"""Linked-deal actions (seed 002): child deals on stage entry, roll-ups to the parent, the hand-off gate."""
from __future__ import annotations

import threading
import time
from typing import Any, Literal

from pydantic import Field, model_validator

from connectors.bitrix24.client import Command
from connectors.bitrix24.wire import link_id
from relay import leases
from relay.actions.context import ActionContext, Halt
from relay.actions.params import MappingName, Params
from relay.changes import canonical
from relay.registry import action
from relay.templating import TemplateStr


def _link_value(entity_id: str, fmt: str) -> str:
    return f"D_{entity_id}" if fmt == "prefixed" else entity_id


class CreateChildParams(Params):
    mapping: MappingName = Field(description="mapping whose `fields` fill the child from `parent` (and `deal`)")
    entity_type_id: int | None = Field(None, description="create a smart-process item of this entityTypeId instead of a deal (S17); linked by parentId2")
    category_id: int | None = Field(None, description="pipeline of the child (CATEGORY_ID of a deal, categoryId of an item); required for deals")
    stage_id: str | None = Field(None, description="first stage of the child; default: the pipeline's first")
    parent_link_field: str = Field("parentId2", description="field on the child that points to the parent, e.g. UF_CRM_PARENT_DEAL (items: parentId2)")
    child_link_field: str | None = Field(None, description="user field on the parent listing its children (multiple), if any")
    link_format: Literal["plain", "prefixed"] = Field("plain", description="plain: `123`; prefixed: `D_123` (fields that allow several entity types)")

    @model_validator(mode="after")
    def _deal_needs_pipeline(self) -> "CreateChildParams":
        if self.entity_type_id is None and self.category_id is None:
            raise ValueError("a child deal needs category_id (its pipeline)")
        return self


@action("create_child", CreateChildParams)
def create_child(ctx: ActionContext, p: CreateChildParams) -> None:
    """Create one child deal in another pipeline (or a smart-process item), filled by mapping and linked both ways — at most once per parent and rule."""
    b24 = ctx.connector("bitrix24")
    parent = ctx.context["entity"]
    parent_id = str(parent["ID"])
    item = p.entity_type_id is not None
    fields: dict[str, Any] = {k: ctx.render(v, parent=parent) for k, v in ctx.mapping(p.mapping).fields.items()}
    link = parent_id if item else _link_value(parent_id, p.link_format)
    fields[p.parent_link_field] = link
    if p.category_id is not None:
        fields["categoryId" if item else "CATEGORY_ID"] = p.category_id
    if p.stage_id:
        fields["stageId" if item else "STAGE_ID"] = p.stage_id
    kind = {"entityTypeId": p.entity_type_id} if item else {}

    def find() -> str | None:
        if item:
            found = b24.client.call("crm.item.list", {**kind, "filter": {p.parent_link_field: link}, "select": ["id"]})
            rows = found.get("items", []) if isinstance(found, dict) else found or []
            return str(rows[0]["id"]) if rows else None
        search = {p.parent_link_field: link, **({"CATEGORY_ID": p.category_id} if p.category_id is not None else {})}
        rows = b24.client.call("crm.deal.list", {"filter": search, "select": ["ID"], "start": -1})
        return str(rows[0]["ID"]) if rows else None

    links = [v for v in _as_list(parent.get(p.child_link_field)) if v] if p.child_link_field else []

    def do() -> str:
        label = "$result[child][item][id]" if item else "$result[child]"
        add = Command("crm.item.add", {**kind, "fields": fields}, label="child") if item else \
            Command("crm.deal.add", {"fields": fields}, label="child")
        commands = [add]
        if p.child_link_field:
            commands.append(Command("crm.deal.update", {"id": parent_id, "fields": {p.child_link_field: links + [label]}}))
        created = b24.client.group(commands)[0]
        child_id = str(created["item"]["id"] if item else created)
        if p.child_link_field:
            b24.runtime.snapshots.record_writes(f"bitrix24:deal:{parent_id}", {p.child_link_field: links + [child_id]})
        return child_id

    # Look before creating, always: the child may predate the relay or come from a lost record.
    outcome = ctx.effect(do, find, scope="entity", look_first=True, target=f"bitrix24:deal:{parent_id}",
                         describe={"create": "crm.item.add" if item else "crm.deal.add", "fields": fields})
    if p.child_link_field and outcome.external_id and outcome.external_id not in {link_id(v) for v in links}:
        if outcome.how == "found":  # created before a crash, link not written yet
            b24.update("deal", parent_id, {p.child_link_field: links + [outcome.external_id]})
            ctx.trace("link", f"child {outcome.external_id} existed already; linked it to parent {parent_id}")
        # Later actions of this event (another department's child) must extend the list, not replace it.
        parent[p.child_link_field] = links + [outcome.external_id]


def _as_list(value: Any) -> list[Any]:
    if value in (None, "", False):
        return []
    return list(value) if isinstance(value, list) else [value]


class UpdateParentParams(Params):
    parent_link_field: str = Field(description="user field on the child that points to the parent")
    mapping: MappingName = Field(description="mapping: `fields` (parent field → template over `child`, `parent`), `stages` (child stage → parent stage)")
    children_link_field: str | None = Field(None, description="parent field listing all its children; when set, templates also get `children` (all of them, fresh)")


@action("update_parent", UpdateParentParams)
def update_parent(ctx: ActionContext, p: UpdateParentParams) -> None:
    """Roll a child's stage, values and dates up into its parent; writes only fields whose value differs."""
    b24 = ctx.connector("bitrix24")
    child = ctx.context["entity"]
    parent_id = link_id(child.get(p.parent_link_field))
    if not parent_id:
        ctx.trace("skip", f"child {child.get('ID')} has no parent in {p.parent_link_field}")
        return
    # One roll-up into a parent at a time: two children's events computing side by side would let
    # the one that read the parent first (before the other child was linked) write last.
    with leases.exclusive(ctx.runtime.store, f"bitrix24.parent:{parent_id}",
                          f"parent deal {parent_id} is being updated from another child; trying again shortly",
                          lease_seconds=20):  # a holder killed mid-way blocks its parent this long
        _roll_up(ctx, b24, p, child, parent_id)


def _roll_up(ctx: ActionContext, b24: Any, p: UpdateParentParams, child: dict[str, Any], parent_id: str) -> None:
    parent = b24.read("deal", parent_id)
    if parent is None:
        ctx.trace("skip", f"parent deal {parent_id} no longer exists")
        return
    mapping = ctx.mapping(p.mapping)
    children = _children(b24, parent, child, p.children_link_field) if p.children_link_field else [child]
    wanted: dict[str, Any] = {k: ctx.render(v, child=child, parent=parent, children=children) for k, v in mapping.fields.items()}
    target_stage = mapping.stages.get(str(child.get("STAGE_ID")))
    if target_stage and str(parent.get("CLOSED", "N")) == "Y":
        # A won or lost sale is final: a late change in a department deal must not reopen it.
        ctx.trace("skip", f"parent {parent_id} is closed ({parent.get('STAGE_ID')}): its stage stays; values still roll up")
    elif target_stage:
        wanted["STAGE_ID"] = target_stage
    _write_differences(ctx, b24, "deal", parent_id, parent, wanted, f"parent {parent_id} already shows what child {child.get('ID')} says")


def _write_differences(ctx: ActionContext, b24: Any, entity: str, entity_id: str, current: dict[str, Any],
                       wanted: dict[str, Any], unchanged: str) -> None:
    """Write only the fields whose value differs (as the CRM spells values back), never one that
    keeps reading back differently (see _LoopGuard)."""
    changes = {k: v for k, v in wanted.items() if canonical(v) != canonical(current.get(k))}
    for name in [k for k in changes if not LOOP_GUARD.allow(f"{entity}:{entity_id}", k, changes[k])]:
        ctx.trace("loop-guard", f"{entity} {entity_id}: {name} does not keep the value written ({changes.pop(name)!r} reads back as "
                  f"{current.get(name)!r}); not written again — check the field's type in the mapping", field=name)
    if not changes:
        ctx.trace("no-op", unchanged)
        return
    ctx.effect(lambda: (b24.update(entity, entity_id, changes), entity_id)[1], target=f"bitrix24:{entity}:{entity_id}",
               describe={"update": f"{entity} {entity_id}", "fields": changes})


class _LoopGuard:
    """Last line of defence against a write loop: the same value written to the same field again and
    again means the portal stores it differently (a type mismatch in the mapping), not that it changed."""

    def __init__(self, limit: int = 3, window_seconds: float = 600) -> None:
        self.limit, self.window = limit, window_seconds
        self._writes: dict[tuple[str, str, str], list[float]] = {}
        self._lock = threading.Lock()

    def allow(self, entity: str, field: str, value: Any) -> bool:
        key, now = (entity, field, canonical(value)), time.monotonic()
        with self._lock:
            recent = [t for t in self._writes.get(key, []) if now - t < self.window]
            if len(recent) >= self.limit:
                return False
            self._writes[key] = recent + [now]
            return True

    def reset(self) -> None:
        """Forget every write (a rule test's cases are independent)."""
        with self._lock:
            self._writes.clear()


LOOP_GUARD = _LoopGuard()


def _children(b24: Any, parent: dict[str, Any], child: dict[str, Any], field: str) -> list[dict[str, Any]]:
    """All children of `parent`, the triggering one as read for this event, the others read now (one batch)."""
    ids = [link_id(v) for v in _as_list(parent.get(field))]
    others = [i for i in ids if i and i != str(child.get("ID"))]
    fresh = b24.client.group([Command("crm.deal.get", {"id": i}) for i in others]) if others else []
    by_id = {str(c.get("ID")): c for c in fresh if isinstance(c, dict)}
    by_id[str(child.get("ID"))] = child
    return [by_id[i] for i in dict.fromkeys(ids + [str(child.get("ID"))]) if i in by_id]


class RequireFieldsParams(Params):
    fields: dict[str, str] = Field(min_length=1, description="field code → the name managers know it by")
    back_to: str = Field("previous", description="`previous` (the stage it came from) or a stage id")
    comment: TemplateStr = Field("Сделка возвращена на этап «{{ stage_name }}»: не заполнены поля: {{ missing | join(', ') }}.",
                                 description="timeline comment; `missing` lists the names of the empty fields")
    notify: bool = Field(True, description="also notify the responsible user (im.notify.system.add)")


def _empty(value: Any) -> bool:
    return value in (None, "", [], {}, "0", "0.00", 0) or (isinstance(value, str) and value.strip() in ("", "|RUB", "0|RUB"))


@action("require_fields", RequireFieldsParams)
def require_fields(ctx: ActionContext, p: RequireFieldsParams) -> Halt | None:
    """The hand-off gate: if required fields are empty, move the deal back, say which fields, stop later rules."""
    deal = ctx.context["entity"]
    missing = [label for code, label in p.fields.items() if _empty(deal.get(code))]
    if not missing:
        return None
    b24 = ctx.connector("bitrix24")
    change = ctx.context.get("change")
    previous = change.fields.get("STAGE_ID", (None, None))[0] if change is not None else None
    if p.back_to == "previous" and not previous:  # first sight of this deal: step back one stage
        previous = b24.previous_stage(str(deal.get("STAGE_ID")))
    back = previous if p.back_to == "previous" else p.back_to
    deal_id = str(deal["ID"])
    text = ctx.render(p.comment, missing=missing, stage_name=b24.stage_name(str(back)) if back else "")
    commands = []
    if back:
        commands.append(Command("crm.deal.update", {"id": deal_id, "fields": {"STAGE_ID": back}}))
    commands.append(Command("crm.timeline.comment.add", {"fields": {"ENTITY_ID": deal_id, "ENTITY_TYPE": "deal", "COMMENT": text}}))
    if p.notify and deal.get("ASSIGNED_BY_ID"):
        commands.append(Command("im.notify.system.add", {"USER_ID": deal["ASSIGNED_BY_ID"], "MESSAGE": f"[{deal.get('TITLE', deal_id)}] {text}"}))

    def do() -> str:
        if back:
            b24.runtime.snapshots.record_writes(f"bitrix24:deal:{deal_id}", {"STAGE_ID": back})
        b24.client.group(commands)
        return deal_id

    ctx.effect(do, target=f"bitrix24:deal:{deal_id}", describe={"missing": missing, "back_to": back, "comment": text})
    return Halt(f"hand-off gate: {', '.join(missing)} missing")


class UpdateEntityParams(Params):
    entity: Literal["deal", "company", "contact", "lead"] = Field("deal", description="what to update")
    id: TemplateStr = Field("{{ id }}", description="its id (template); default: the entity the event is about")
    fields: dict[str, TemplateStr] = Field(min_length=1, description="field → template; only values that differ are written")


@action("update_entity", UpdateEntityParams)
def update_entity(ctx: ActionContext, p: UpdateEntityParams) -> None:
    """Set fields on a CRM entity (the event's own by default). Writing back to the same deal is safe:
    the echo of the relay's own write is not a change, so two rules feeding each other settle."""
    b24 = ctx.connector("bitrix24")
    target_id = ctx.render(p.id).strip()
    current = ctx.context["entity"] if target_id == str(ctx.context.get("id")) and ctx.context.get("entity_type") == p.entity \
        else b24.read(p.entity, target_id)
    if current is None:
        ctx.trace("skip", f"{p.entity} {target_id} does not exist")
        return
    wanted = {k: ctx.render(v) for k, v in p.fields.items()}
    _write_differences(ctx, b24, p.entity, target_id, current, wanted, f"{p.entity} {target_id} already has these values")
