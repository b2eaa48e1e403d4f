"""Planfix text variables in scenario request templates: `{{Задача.Номер}}` and friends.

Supported (Planfix help: "Переменные в тексте", "Кодирование переменных", "HTTP-запросы",
"Функция JSONARRAY"):
- `{{Path}}` substituted textually; a list variable reads "a, b" unless wrapped in
  `%%% JSONARRAY({{Path}}) %%%`, which gives a JSON array (`[]` when empty);
- in the URL every variable is URL-encoded unless wrapped in `%%%…%%%`; `{{Path::encode=url}}`
  forces encoding anywhere;
- an unknown variable renders empty and is reported in the delivery's `unresolved`.
Formulas other than JSONARRAY and `%%$ЕСЛИ…$%%` blocks are not evaluated (left verbatim, reported).
Substitution is textual, as in Planfix: a quote inside `{{Задача.Описание}}` breaks hand-written JSON.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from .state import PlanfixState
from .values import as_text

VAR = re.compile(r"\{\{\s*(.+?)\s*\}\}")
FORMULA = re.compile(r"%%%(.*?)%%%", re.S)
JSONARRAY = re.compile(r"^\s*JSONARRAY\(\s*\{\{\s*(.+?)\s*\}\}\s*\)\s*$", re.S)
BLOCK = re.compile(r"%%\$.*?\$%%", re.S)
_PART = re.compile(r'"[^"]*"|[^.]+')

Value = str | list[str] | None


@dataclass
class Context:
    """What a scenario run can see: the task, the comment (comment events), the acting person."""

    state: PlanfixState
    task: dict[str, Any] | None = None
    comment: dict[str, Any] | None = None
    actor: str | None = None
    unresolved: list[str] = field(default_factory=list)


def _person(ctx: Context, ref: str | None, rest: list[str]) -> Value:
    st = ctx.state
    person = st.person(ref) if ref else None
    if person is None:
        return "" if ref is None else None
    if not rest:
        return st.person_name(ref) or ""
    key = rest[0]
    phones = [p["number"] for p in person.get("phones", [])]
    simple = {"Имя": person.get("name"), "Фамилия": person.get("lastname"),
              "Отчество": person.get("midname"),
              "Номер": ref.split(":")[1], "Идентификатор": ref, "Email": person.get("email"),
              "Telegram": person.get("telegram"), "Telegram ID": person.get("telegramId"),
              "Должность": person.get("position") if isinstance(person.get("position"), str)
              else (person.get("position") or {}).get("name"),
              "Телефон": phones[0] if phones else "", "Телефоны списком": ", ".join(phones)}
    if key in simple:
        return str(simple[key] or "")
    kind = ref.split(":")[0]
    return _custom(ctx, person, {"contact": "contact", "user": "user"}.get(kind, ""), key)


def _custom(ctx: Context, obj: dict[str, Any], kind: str, name: str) -> Value:
    if not kind or "custom" not in obj:
        return None
    for field_def in ctx.state.object_fields(kind).values():
        if field_def["name"] == name:
            return as_text(field_def, obj["custom"].get(field_def["id"]), ctx.state)
    return None


def _people(ctx: Context, block: dict[str, list[Any]], rest: list[str]) -> Value:
    out: list[str] = []
    for ref in block["users"]:
        value = _person(ctx, ref, rest)
        if isinstance(value, str):
            out.append(value)
    if not rest:
        out += [ctx.state.person_name(f"group:{g}") or "" for g in block["groups"]]
    return out


def _task(ctx: Context, task: dict[str, Any] | None, rest: list[str]) -> Value:
    st = ctx.state
    if task is None:
        return None
    if not rest:
        return task["name"]
    key, tail = rest[0], rest[1:]
    dates = {"Дата создания": "dateTime", "Дата начала": "startDateTime",
             "Дата окончания": "endDateTime",
             "Дата завершения": "actualCompletionDate"}
    if key == "Номер":
        return str(task["id"])
    if key == "Название":
        return task["name"]
    if key == "Описание":
        return task["description"]
    if key == "Статус":
        return (st.statuses.get(task["status"]) or {}).get("name", "")
    if key == "Процесс":
        return (st.processes.get(task["processId"]) or {}).get("name", "")
    if key == "Ссылка":
        return f"https://{st.account_name}.planfix.com/task/{task['id']}"
    if key in dates:
        return st.dates.text(task[dates[key]])
    if key == "Постановщик":
        return _person(ctx, task["assigner"], tail)
    if key == "Контрагент":
        return _person(ctx, task["counterparty"], tail)
    people = {"Исполнители": "assignees", "Исполнитель": "assignees", "Участники": "participants",
              "Аудиторы": "auditors"}
    if key in people:
        return _people(ctx, task[people[key]], tail)
    if key == "Проект":
        if not task["project"]:
            return ""
        return str(task["project"]) if tail == ["Номер"] else st.project_name(task["project"]) or ""
    if key == "Шаблон":
        return st.task_name(task["template"]) or "" if task["template"] else ""
    if key == "Надзадача":
        return _task(ctx, st.tasks.get(task["parent"]) if task["parent"] else None, tail) or ""
    return _custom(ctx, task, "task", key)


def _comment(ctx: Context, rest: list[str]) -> Value:
    c, st = ctx.comment, ctx.state
    if c is None:
        return None
    key = rest[0] if rest else "Текст"
    if key == "Автор":
        return _person(ctx, c["owner"], rest[1:])
    files = [st.files[i]["name"] for i in c["files"] if i in st.files]
    simple = {"Номер": str(c["id"]), "Текст": c["description"], "Дата": st.dates.text(c["dateTime"]),
              "Файлы": files}
    return simple.get(key)


def resolve(ctx: Context, path: str) -> Value:
    """The value of `Задача.Исполнители.Email`-style paths; None when unknown."""
    parts = [p.strip().strip('"') for p in _PART.findall(path)]
    root, rest = parts[0], parts[1:]
    if root == "Задача":
        return _task(ctx, ctx.task, rest)
    if root == "Комментарий":
        return _comment(ctx, rest)
    if root == "Пользователь":
        return _person(ctx, ctx.actor, rest)
    if root == "Системные" and rest:
        now = ctx.state.now()
        moments = {"Сегодня": ctx.state.dates.text(now, with_time=False), "Сейчас": ctx.state.dates.text(now)}
        return moments.get(rest[0])
    return None


def _lookup(ctx: Context, expr: str) -> tuple[Value, bool]:
    path, _, modifier = expr.partition("::")
    value = resolve(ctx, path.strip())
    if value is None:
        ctx.unresolved.append(expr)
        value = ""
    return value, modifier.replace(" ", "") == "encode=url"


def render(template: str, ctx: Context, url: bool = False) -> str:
    """Substitute every variable in one template string."""
    def formula(m: re.Match[str]) -> str:
        inner = m.group(1)
        arr = JSONARRAY.match(inner)
        if arr:
            value, _ = _lookup(ctx, arr.group(1))
            items = value if isinstance(value, list) else ([value] if value else [])
            return json.dumps(items, ensure_ascii=False)
        if VAR.fullmatch(inner.strip()):
            return VAR.sub(lambda v: _text(_lookup(ctx, v.group(1))[0]), inner.strip())
        ctx.unresolved.append(f"%%%{inner}%%%")
        return m.group(0)

    def variable(m: re.Match[str]) -> str:
        value, force = _lookup(ctx, m.group(1))
        text = _text(value)
        return quote(text, safe="") if (url or force) else text

    for block in BLOCK.findall(template):
        ctx.unresolved.append(block)
    out = []
    for i, chunk in enumerate(FORMULA.split(template)):  # odd chunks were inside %%%…%%%
        inner = FORMULA.match(f"%%%{chunk}%%%") if i % 2 else None
        out.append(formula(inner) if inner else VAR.sub(variable, chunk))
    return "".join(out)


def _text(value: Value) -> str:
    if isinstance(value, list):
        return ", ".join(value)
    return value or ""
