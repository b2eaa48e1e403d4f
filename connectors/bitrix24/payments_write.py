"""What a matched payment writes to Bitrix24: the deal's paid fields and stage, the invoice's stage.

Every write goes through `ctx.effect` and only for fields whose value differs from what the portal
shows, so applying the same sums again (a replay, a second route of the payment) writes nothing.
Stages only move forward: a deal that is closed, or already past the target stage, stays where it is.
"""
from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from connectors.bitrix24.actions import LOOP_GUARD
from connectors.bitrix24.source import entity_key
from relay.actions.context import ActionContext
from relay.changes import canonical
from relay.payments.money import to_kopecks

if TYPE_CHECKING:
    from connectors.bitrix24.connector import Bitrix24Connector

_MONEY = re.compile(r"^\s*-?\d[\d\s]*([.,]\d+)?\s*\|\s*[A-Z]{3}\s*$")


def same_value(a: Any, b: Any) -> bool:
    """As the portal spells it back: money fields (`500|RUB` == `500.00|RUB`) by amount and currency."""
    if isinstance(a, str) and isinstance(b, str) and _MONEY.match(a) and _MONEY.match(b):
        return to_kopecks(a) == to_kopecks(b) and a.rsplit("|", 1)[1].strip() == b.rsplit("|", 1)[1].strip()
    return canonical(a) == canonical(b)


def differences(ctx: ActionContext, where: str, current: dict[str, Any], wanted: dict[str, Any]) -> dict[str, Any]:
    changes = {k: v for k, v in wanted.items() if not same_value(v, current.get(k))}
    for name in [k for k in changes if not LOOP_GUARD.allow(where, k, changes[k])]:
        ctx.trace("loop-guard", f"{where}: {name} does not keep the value written ({changes.pop(name)!r} reads back as "
                  f"{current.get(name)!r}); not written again — check the field's type in the payments mapping", field=name)
    return changes


def write_deal(ctx: ActionContext, b24: "Bitrix24Connector", deal: dict[str, Any], wanted: dict[str, Any]) -> dict[str, Any]:
    deal_id = str(deal["ID"])
    changes = differences(ctx, f"deal:{deal_id}", deal, wanted)
    if not changes:
        ctx.trace("no-op", f"deal {deal_id} already shows these payments")
        return {}
    ctx.effect(lambda: (b24.update("deal", deal_id, changes), deal_id)[1], suffix=f"deal:{deal_id}",
               target=f"bitrix24:deal:{deal_id}", describe={"update": f"deal {deal_id}", "fields": changes})
    return changes


def write_item(ctx: ActionContext, b24: "Bitrix24Connector", type_id: int, item: dict[str, Any], wanted: dict[str, Any]) -> None:
    item_id = str(item["id"])
    changes = differences(ctx, f"item:{type_id}:{item_id}", item, wanted)
    if not changes:
        return

    def do() -> str:
        b24.runtime.snapshots.record_writes(entity_key("item", item_id, str(type_id)), changes)
        b24.client.call("crm.item.update", {"entityTypeId": type_id, "id": item_id, "fields": changes})
        return item_id

    ctx.effect(do, suffix=f"item:{type_id}:{item_id}", target=f"bitrix24:item:{type_id}:{item_id}",
               describe={"update": f"item {type_id}/{item_id}", "fields": changes})


def pipeline_of(stage_id: str) -> str:
    """`C3:WON` → "3", `WON` → "0", `DT31_5:P` → "DT31_5"."""
    prefix, sep, _ = stage_id.partition(":")
    if not sep:
        return "0"
    return prefix[1:] if re.fullmatch(r"C\d+", prefix) else prefix


def target_stage(ctx: ActionContext, b24: "Bitrix24Connector", stages: dict[str, str], status: str,
                 deal: dict[str, Any]) -> str | None:
    """The stage the deal moves to for this payment status, if it should move at all."""
    category = str(deal.get("CATEGORY_ID") or "0")
    target = stages.get(f"C{category}:{status}") if category != "0" else None
    target = target or stages.get(status)
    current = str(deal.get("STAGE_ID") or "")
    if not target or target == current:
        return None
    if pipeline_of(target) != category:
        ctx.trace("skip", f"deal {deal['ID']} is in pipeline {category}; stage {target} (for {status}) belongs to another; "
                  f"add `C{category}:{status}` to the payments mapping's stages")
        return None
    if str(deal.get("CLOSED", "N")).upper() == "Y":
        ctx.trace("skip", f"deal {deal['ID']} is closed ({current}); its stage is left alone")
        return None
    if _behind(b24, current, target):
        ctx.trace("skip", f"deal {deal['ID']} is at {current}, past {target}; stages only move forward")
        return None
    return target


def _behind(b24: "Bitrix24Connector", current: str, target: str) -> bool:
    """True when `target` comes before `current` in their pipeline."""
    stage, steps = b24.previous_stage(current) if current else None, 0
    while stage and steps < 200:
        if stage == target:
            return True
        stage, steps = b24.previous_stage(stage), steps + 1
    return False
