"""The smaller families: timeline comments, to-do activities, notifications, users, and the
system methods (profile, scope, methods, server.time, event.*) a client may probe.

`event.bind`/`event.offline.*` answer WRONG_AUTH_TYPE: they need an application's OAuth token and
the emulator, like a portal called through an incoming webhook, refuses them.
"""
from __future__ import annotations

from typing import Any

from ..errors import RestError, wrong_auth_type
from ..php import as_list
from ..timeutil import iso, parse_datetime
from .crm import as_map
from . import METHODS, Call, Reply, php_intval, rest

_OWNER_KINDS = {"deal": "DEAL", "contact": "CONTACT", "company": "COMPANY", 2: "DEAL", 3: "CONTACT", 4: "COMPANY"}


def _owner_kind(call: Call, key: Any) -> str | None:
    if isinstance(key, str) and key.isdigit():
        key = int(key)
    if isinstance(key, str):
        key = key.lower()
    if key in _OWNER_KINDS:
        return _OWNER_KINDS[key]
    etid = key if isinstance(key, int) else None
    if etid is None and isinstance(key, str) and key.startswith("dynamic_"):
        etid = php_intval(key[8:])
    return f"DYNAMIC_{etid}" if etid in call.portal.store.types else None


@rest("crm.timeline.comment.add")
def comment_add(call: Call) -> int:
    fields = call.params.get("fields")  # lowercase `fields` only since crm 23.100.0
    if not isinstance(fields, (dict, list)):
        raise RestError(400, "100", "Required fields not provided")
    fields = as_map(fields)
    entity_id = php_intval(fields.get("ENTITY_ID"))
    kind = _owner_kind(call, fields.get("ENTITY_TYPE") or "")
    if entity_id <= 0 or kind is None:
        raise RestError(400, "100", "Required fields not provided")
    if not str(fields.get("COMMENT") or "").strip():
        raise RestError(400, "INVALID_ARG_VALUE", "Empty comment")
    if call.portal.store.get(kind, entity_id) is None:
        raise RestError(400, "OWNER_NOT_FOUND", "Owner of the element not found")
    cid = call.portal.store.insert("COMMENT", {
        "ENTITY_ID": entity_id, "ENTITY_TYPE": str(fields.get("ENTITY_TYPE")).lower(), "COMMENT": str(fields["COMMENT"]),
        "AUTHOR_ID": php_intval(fields.get("AUTHOR_ID")) or call.portal.config.webhook_user_id,
        "CREATED": call.portal.now(), "FILES": [f[0] for f in as_list(fields.get("FILES")) if isinstance(f, list) and f]})
    call.portal.fire("ONCRMTIMELINECOMMENTADD", {"ID": cid})
    return cid


@rest("crm.timeline.comment.list")
def comment_list(call: Call) -> Reply:
    flt = as_map(call.params.get("filter") or {})
    rows = [c for c in call.portal.store.all("COMMENT")
            if all(str(c.get(k, "")).lower() == str(v).lower() for k, v in flt.items())]
    out = [{"ID": str(c["ID"]), "CREATED": iso(c["CREATED"], call.portal.tz), "ENTITY_ID": str(c["ENTITY_ID"]),
            "ENTITY_TYPE": c["ENTITY_TYPE"], "AUTHOR_ID": str(c["AUTHOR_ID"]), "COMMENT": c["COMMENT"],
            "FILES": c["FILES"]} for c in rows]
    return Reply(out, len(out))


@rest("crm.activity.todo.add")
def todo_add(call: Call) -> dict:
    p = call.params
    kind = _owner_kind(call, php_intval(p.get("ownerTypeId")))
    owner = php_intval(p.get("ownerId"))
    if kind is None or call.portal.store.get(kind, owner) is None:
        raise RestError(400, "NOT_FOUND", "Element not found")
    deadline = parse_datetime(p.get("deadline"), call.portal.tz)
    if deadline is None:
        raise RestError(400, "100", "Required parameter 'deadline' is missing")
    aid = call.portal.store.insert("ACTIVITY", {"OWNER_TYPE_ID": php_intval(p.get("ownerTypeId")), "OWNER_ID": owner,
                                                "DEADLINE": deadline, "TITLE": p.get("title"),
                                                "DESCRIPTION": p.get("description"),
                                                "RESPONSIBLE_ID": php_intval(p.get("responsibleId")) or 1})
    call.portal.fire("ONCRMACTIVITYADD", {"FIELDS": {"ID": aid}})
    return {"id": aid}


def _notify(call: Call, kind: str) -> int:
    p = {str(k).upper(): v for k, v in call.params.items()}
    if not php_intval(p.get("USER_ID")):
        raise RestError(400, "USER_ID_EMPTY", "User ID can't be empty")
    if not str(p.get("MESSAGE") or "").strip():
        raise RestError(400, "MESSAGE_EMPTY", "Message can't be empty")
    return call.portal.store.insert("NOTIFY", {"TYPE": kind, "USER_ID": php_intval(p["USER_ID"]),
                                               "MESSAGE": str(p["MESSAGE"]), "MESSAGE_OUT": p.get("MESSAGE_OUT"),
                                               "TAG": p.get("TAG"), "SUB_TAG": p.get("SUB_TAG"),
                                               "ATTACH": p.get("ATTACH"), "DATE": iso(call.portal.now(), call.portal.tz)})


@rest("im.notify.system.add", scope="im")
def notify_system(call: Call) -> int:
    return _notify(call, "SYSTEM")


@rest("im.notify.personal.add", scope="im")
def notify_personal(call: Call) -> int:
    return _notify(call, "USER")


@rest("im.notify", scope="im")
def notify(call: Call) -> int:
    return _notify(call, str(call.params.get("TYPE") or call.params.get("type") or "USER").upper())


def _user_rest(user: dict[str, Any]) -> dict[str, Any]:
    return {"ID": str(user["ID"]), "ACTIVE": True, "NAME": user.get("NAME", ""), "LAST_NAME": user.get("LAST_NAME", ""),
            "SECOND_NAME": "", "EMAIL": user.get("EMAIL", ""), "WORK_POSITION": user.get("WORK_POSITION", ""),
            "UF_DEPARTMENT": [1], "IS_ONLINE": "N", "USER_TYPE": "employee"}


@rest("user.get", scope="user")
def user_get(call: Call) -> Reply:
    flt = as_map(call.params.get("filter") or call.params.get("FILTER") or {})
    flt.update({k: v for k, v in call.params.items() if k.upper() in ("ID", "EMAIL", "NAME", "LAST_NAME")})
    users = [_user_rest(u) for u in sorted(call.portal.store.users.values(), key=lambda u: u["ID"])]
    users = [u for u in users if all(str(u.get(k.upper(), "")) in [str(x) for x in as_list(v)] for k, v in flt.items())]
    return Reply(users, len(users))


@rest("user.current", scope="user")
def user_current(call: Call) -> dict:
    return _user_rest(call.portal.store.users[call.portal.config.webhook_user_id])


@rest("profile", scope=None)
def profile(call: Call) -> dict:
    user = call.portal.store.users[call.portal.config.webhook_user_id]
    offset = call.portal.tz.utcoffset(None)
    return {"ID": str(user["ID"]), "ADMIN": True, "NAME": user.get("NAME", ""), "LAST_NAME": user.get("LAST_NAME", ""),
            "PERSONAL_GENDER": "", "TIME_ZONE": "", "TIME_ZONE_OFFSET": int(offset.total_seconds()) if offset else 0}


@rest("scope", scope=None)
def scope(call: Call) -> list:
    return list(call.portal.config.scopes)


@rest("methods", scope=None)
def methods(call: Call) -> list:
    return sorted(name for name, spec in METHODS.items() if spec.scope is None or spec.scope in call.portal.config.scopes)


@rest("server.time", scope=None)
def server_time(call: Call) -> str:
    return iso(call.portal.now(), call.portal.tz)


@rest("event.bind", "event.unbind", "event.get", "events", "event.offline.get", "event.offline.clear",
      "event.offline.error", "event.offline.list", scope=None)
def event_methods(call: Call) -> Any:
    raise wrong_auth_type()
