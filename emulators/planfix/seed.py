"""Build an account from seed YAML (format in docs/emulators/planfix.md).

Tasks, templates, contacts and comments in a seed go through the same code as the REST calls,
written in the REST request shapes (`assignees: {users: [{id: "user:3"}]}`); the only shorthand
is a list of ids for people blocks (`assignees: [user:3]`) and `field: 101` in custom-field data.
"""
from __future__ import annotations

import zlib
from pathlib import Path
from typing import Any

from emulators.common.control import read_seed

from .errors import ApiError

DEMO = Path(__file__).parent / "seeds" / "demo.yaml"


def load_seed_file(path: str | Path | None) -> dict[str, Any]:
    return read_seed(path, DEMO)


def _people(value: Any) -> Any:
    if isinstance(value, list):
        return {"users": [{"id": v} for v in value if not str(v).startswith("group:")],
                "groups": [{"id": int(str(v)[6:])} for v in value if str(v).startswith("group:")]}
    return value


def _request_shape(item: dict[str, Any], skip: tuple[str, ...] = ()) -> dict[str, Any]:
    body = {k: v for k, v in item.items() if k not in skip}
    for key in ("assignees", "participants", "auditors", "supervisors"):
        if key in body:
            body[key] = _people(body[key])
    for key in ("status", "template", "project", "parent", "object", "group"):
        if isinstance(body.get(key), (int, str)):
            body[key] = {"id": body[key]}
    for key in ("assigner", "counterparty", "owner"):
        if isinstance(body.get(key), (int, str)):
            body[key] = {"id": body[key]}
    if "customFieldData" in body:
        body["customFieldData"] = [{"field": cf["field"] if isinstance(cf["field"], dict) else {"id": cf["field"]},
                                    "value": cf.get("value")} for cf in body["customFieldData"]]
    return body


def _field(kind_code: int, spec: dict[str, Any]) -> dict[str, Any]:
    return {"id": int(spec["id"]), "name": spec["name"], "names": spec.get("names"), "type": int(spec["type"]),
            "objectType": kind_code, "groupId": spec.get("groupId"), "directoryId": spec.get("directoryId"),
            "enumValues": spec.get("enumValues")}


def apply_seed(state: Any, seed: dict[str, Any]) -> None:
    """Fill an empty `PlanfixState` from `seed`; raises ValueError with the failing item."""
    from .comments import add_comment
    from .contacts import create_contact
    from .state import OBJECT_TYPES
    from .tasks import create_task

    account = seed.get("account") or {}
    if account.get("hook_base") and not state.hook_base:
        state.hook_base = account["hook_base"]
    for g in seed.get("groups") or []:
        state.groups[int(g["id"])] = {"id": int(g["id"]), "name": g["name"]}
    for u in seed.get("users") or []:
        user = {"role": "User", "status": "Active", "gender": "NotDefined", "isDeleted": False, "midname": "",
                "lastname": "", "email": "", "secondaryEmails": [], "languageCode": "Ru", "phones": [], "groups": [],
                "sourceObjectId": "", "sourceDataVersion": "", **u, "custom": {}}
        if isinstance(user.get("position"), str):
            user["position"] = {"id": zlib.crc32(user["position"].encode()) % 1000, "name": user["position"]}
        state.users[int(u["id"])] = user
    for t in seed.get("tokens") or []:
        user = str(t.get("user", 1))
        state.tokens[str(t["token"])] = {"user": user if ":" in user else f"user:{user}", "scopes": t.get("scopes")}
    for p in seed.get("processes") or []:
        ids = []
        for s in p.get("statuses") or []:
            texts = s.get("texts") or [{"lang": "Ru", "name": s["name"]},
                                       {"lang": "En", "name": s.get("en", s["name"])}]
            state.statuses[int(s["id"])] = {"id": int(s["id"]), "name": s["name"], "color": s.get("color", "#4573b1"),
                                            "isActive": bool(s.get("isActive", True)),
                                            "hasDeadline": bool(s.get("hasDeadline", True)),
                                            "isAppliedIndividually": bool(s.get("isAppliedIndividually", False)),
                                            "texts": texts}
            ids.append(int(s["id"]))
        state.processes[int(p["id"])] = {"id": int(p["id"]), "name": p["name"], "statuses": ids,
                                         "default": bool(p.get("default")),
                                         "commentsAllowed": p.get("commentsAllowed", True)}
    for kind, specs in (seed.get("custom_fields") or {}).items():
        for spec in specs or []:
            state.fields[int(spec["id"])] = _field(OBJECT_TYPES[kind], spec)
    for d in seed.get("directories") or []:
        entries = d.get("entries") or {}
        if isinstance(entries, list):
            entries = {e["key"]: e["name"] for e in entries}
        state.directories[int(d["id"])] = {"id": int(d["id"]), "name": d["name"],
                                           "entries": {int(k): v for k, v in entries.items()}}
    for tag in seed.get("data_tags") or []:
        for spec in tag.get("fields") or []:
            state.fields[int(spec["id"])] = _field(OBJECT_TYPES["datatag"], spec)
        state.data_tags[int(tag["id"])] = {"id": int(tag["id"]), "name": tag["name"], "group": tag.get("group"),
                                           "fields": [int(f["id"]) for f in tag.get("fields") or []]}
    for p in seed.get("projects") or []:
        state.projects[int(p["id"])] = {"id": int(p["id"]), "name": p["name"], "counterparty": p.get("counterparty"),
                                        "files": []}
    state.scenario_rules = [dict(r) for r in seed.get("scenarios") or []]
    _entities(state, seed, add_comment, create_contact, create_task)


def _entities(state: Any, seed: dict[str, Any], add_comment: Any, create_contact: Any, create_task: Any) -> None:
    try:
        for c in sorted(seed.get("contacts") or [], key=lambda c: not c.get("isCompany")):
            create_contact(state, _request_shape(c, ("id",)), contact_id=int(c["id"]))
        robot = f"user:{min(state.users)}" if state.users else "user:1"
        for t in seed.get("templates") or []:
            task = create_task(state, _request_shape(t, ("id", "checklist", "fields")), robot, silent=True,
                               kind="Template", task_id=int(t["id"]))
            task["checklist"] = [{"id": state.next_id("checklist"), "name": str(i), "done": False,
                                  "dateTime": state.now()} for i in t.get("checklist") or []]
            task["template_fields"] = t.get("fields")
        for t in seed.get("tasks") or []:
            actor = str(t.get("assigner", robot))
            task = create_task(state, _request_shape(t, ("id", "comments")), actor, silent=True, task_id=int(t["id"]))
            for c in t.get("comments") or []:
                add_comment(state, _request_shape(c, ("fromType",)), actor, task=task, silent=True,
                            from_type=c.get("fromType", "Planfix"))
    except (ApiError, KeyError, ValueError, TypeError) as exc:
        raise ValueError(f"seed: {exc}") from exc
