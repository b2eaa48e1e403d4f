"""How a stored CRM record is printed: old crm.* (strings, UPPER names) or crm.item.* (typed, camelCase).

`select` rules for the old list methods live here too, since they decide which fields get printed.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .schema import ITEM_ALIASES, FieldDef
from .values import to_item, to_old

if TYPE_CHECKING:
    from .entities import EntityKind
    from .portal import Portal


def old_select(defs: dict[str, FieldDef], select: list[Any]) -> set[str]:
    """crm.*.list `select`: `*` = standard single fields, `UF_*` = user fields; default both; ID always."""
    names = {"ID"}
    for s in [str(x) for x in select] or ["*", "UF_*"]:
        if s == "*":
            names |= {n for n, f in defs.items() if not f.uf and not f.multiple and f.selectable}
        elif s == "UF_*":
            names |= {n for n, f in defs.items() if f.uf}
        elif s in defs and defs[s].selectable:
            names.add(s)
    return names


def print_old(portal: "Portal", defs: dict[str, FieldDef], record: dict, names: set[str] | None = None) -> dict:
    """A record as crm.deal.get prints it: every value a string, null or "" (dates)."""
    return {n: to_old(f, record.get(n), portal.tz) for n, f in defs.items()
            if f.selectable and (names is None or n in names)}


def uf_camel(name: str) -> str:
    """UF_CRM_HEAD_DEAL → ufCrmHeadDeal; UF_CRM_1720019876534 → ufCrm_1720019876534; UF_CRM_5_16 → ufCrm5_16."""
    parts = name.lower().split("_")
    out = parts[0]
    for i, part in enumerate(parts[1:], start=1):
        if part.isdigit():
            out += ("_" + part) if i == len(parts) - 1 else part
        else:
            out += part.capitalize()
    return out


def item_name(name: str, f: FieldDef) -> str:
    """Storage name → crm.item name."""
    if name in ITEM_ALIASES:
        return ITEM_ALIASES[name]
    if name.startswith("PARENT_ID_"):
        return "parentId" + name[len("PARENT_ID_"):]
    if f.uf:
        return uf_camel(name)
    head, *rest = name.lower().split("_")
    return head + "".join(p.capitalize() for p in rest)


def item_names(defs: dict[str, FieldDef], original_uf: bool = False) -> dict[str, str]:
    """Storage name → printed crm.item name for every field of an entity."""
    return {n: (n if (f.uf and original_uf) else item_name(n, f)) for n, f in defs.items()}


def print_item(portal: "Portal", ek: "EntityKind", defs: dict[str, FieldDef], record: dict,
               names: set[str] | None = None, original_uf: bool = False) -> dict:
    """A record as crm.item.get prints it: camelCase names, typed values, entityTypeId last."""
    printed = item_names(defs, original_uf)
    out = {printed[n]: to_item(f, record.get(n), portal.tz) for n, f in defs.items()
           if names is None or n in names}
    out["entityTypeId"] = ek.entity_type_id
    return out
