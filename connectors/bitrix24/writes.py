"""Diff-and-write for actions that touch several CRM entities in one event (contractors, holdings).

Each write is its own effect (`suffix` names the entity), so writing company 5 and then company 7 in
one action are two recorded effects, not one key shared by both. Only values that differ, as the
portal spells them back, are written; the loop guard of update_parent/update_entity covers them too.
"""
from __future__ import annotations

from typing import Any

from connectors.bitrix24.actions import LOOP_GUARD
from relay.actions.context import ActionContext
from relay.changes import canonical


def write_changes(ctx: ActionContext, b24: Any, entity: str, entity_id: str, current: dict[str, Any],
                  wanted: dict[str, Any], suffix: str) -> dict[str, Any]:
    """Write the fields of `wanted` that differ from `current`; returns what was (or would be) written."""
    changes = {k: v for k, v in wanted.items() if canonical(v) != canonical(current.get(k))}
    for name in [k for k in changes if not LOOP_GUARD.allow(f"{entity}:{entity_id}", k, changes[k])]:
        ctx.trace("loop-guard", f"{entity} {entity_id}: {name} does not keep the value written ({changes.pop(name)!r}); "
                  "not written again — check the field's type", field=name)
    if not changes:
        ctx.trace("no-op", f"{entity} {entity_id} already shows these values")
        return {}
    ctx.effect(lambda: (b24.update(entity, entity_id, changes), entity_id)[1], suffix=suffix,
               target=f"bitrix24:{entity}:{entity_id}", describe={"update": f"{entity} {entity_id}", "fields": changes})
    return changes
