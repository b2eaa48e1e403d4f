"""Read what a template or condition refers to, without rendering it.

Jinja2's parser gives the syntax tree; from it the lint learns which top-level names a template
needs (`deal`, `payload`), which fields it reads (`deal.UF_CRM_X`, `c.TITLE` where `c` loops over
`children`), what it compares them with (`deal.CATEGORY_ID in ('0', 0)`) and which methods it calls
with constant arguments (`change.entered('STAGE_ID', 'UC_EVALUATE')`).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from jinja2 import TemplateSyntaxError, meta, nodes

from relay.templating import _env


@dataclass(frozen=True)
class Access:
    """`deal.X` → ("deal", "X"); `change.old.X` → ("change.old", "X"); `c.X` with c in children → ("children[]", "X")."""

    path: str
    attr: str


@dataclass(frozen=True)
class CallUse:
    """`change.entered('STAGE_ID', 'X')` → ("change.entered", ("STAGE_ID", "X")); non-constant arguments are None."""

    path: str
    args: tuple[Any, ...]


@dataclass(frozen=True)
class Compared:
    """`deal.STAGE_ID == 'X'` or `deal.CATEGORY_ID in ('0', 0)` → ("deal", "STAGE_ID", ("X",))."""

    path: str
    attr: str
    values: tuple[Any, ...]


@dataclass
class Analysis:
    names: set[str] = field(default_factory=set)          # top-level names it needs from the context
    accesses: list[Access] = field(default_factory=list)
    calls: list[CallUse] = field(default_factory=list)
    compared: list[Compared] = field(default_factory=list)
    conjunction: bool = True                               # only `and`: every comparison must hold at once
    guarded: bool = False                                  # uses `default` or `is defined`: a missing name may be intended
    error: str | None = None                               # syntax error, if any


def looks_like_template(value: str) -> bool:
    return "{{" in value or "{%" in value


def analyse(text: str, expression: bool = False) -> Analysis:
    """What `text` refers to. An expression (a rule's `if:`) is read as `{{ (text) }}`."""
    source = f"{{{{ ({text}) }}}}" if expression else text
    try:
        tree = _env.parse(source)
    except TemplateSyntaxError as exc:
        return Analysis(error=f"{'condition' if expression else 'template'} syntax error: {exc.message}")
    out = Analysis(names=set(meta.find_undeclared_variables(tree)))
    aliases = _aliases(tree)
    methods: set[int] = set()
    for call in tree.find_all(nodes.Call):
        if isinstance(call.node, nodes.Getattr):
            methods.add(id(call.node))
            path = _path(call.node, aliases)
            args = tuple(a.value if isinstance(a, nodes.Const) else None for a in call.args)
            if path:
                out.calls.append(CallUse(path, args))
                owner = _path(call.node.node, aliases)
                if call.node.attr == "get" and owner and args and isinstance(args[0], str):
                    out.accesses.append(Access(owner, args[0]))
    for node in tree.find_all((nodes.Getattr, nodes.Getitem)):
        if id(node) in methods:
            continue
        attr = _attr(node)
        owner = _path(node.node, aliases)
        if attr is not None and owner:
            out.accesses.append(Access(owner, attr))
    for compare in tree.find_all(nodes.Compare):
        found = _compared(compare, aliases)
        if found:
            out.compared.append(found)
    out.conjunction = not any(True for _ in tree.find_all((nodes.Or, nodes.Not, nodes.CondExpr)))
    out.guarded = any(f.name == "default" for f in tree.find_all(nodes.Filter)) or \
        any(t.name in ("defined", "undefined") for t in tree.find_all(nodes.Test))
    return out


def _aliases(tree: nodes.Template) -> dict[str, str]:
    """Loop variables and `set` names stand for what they iterate or hold (scoping is ignored: good enough for lint)."""
    aliases: dict[str, str] = {}
    for loop in tree.find_all(nodes.For):
        if isinstance(loop.target, nodes.Name):
            inner = _path(loop.iter, aliases)
            if inner:
                aliases[loop.target.name] = inner + "[]"
    for assign in tree.find_all(nodes.Assign):
        if isinstance(assign.target, nodes.Name):
            inner = _path(assign.node, aliases)
            if inner:
                aliases[assign.target.name] = inner
    return aliases


def _attr(node: nodes.Node) -> str | None:
    if isinstance(node, nodes.Getattr):
        return str(node.attr)
    if isinstance(node, nodes.Getitem) and isinstance(node.arg, nodes.Const) and isinstance(node.arg.value, str):
        return node.arg.value
    return None


def _path(node: nodes.Node, aliases: dict[str, str]) -> str | None:
    if isinstance(node, nodes.Name):
        return aliases.get(node.name, node.name)
    if isinstance(node, (nodes.Getattr, nodes.Getitem)):
        attr, inner = _attr(node), _path(node.node, aliases)
        return f"{inner}.{attr}" if attr is not None and inner else None
    return None


def _constants(node: nodes.Node) -> tuple[Any, ...] | None:
    if isinstance(node, nodes.Const):  # the parser folds constant tuples into one Const
        return tuple(node.value) if isinstance(node.value, (tuple, list)) else (node.value,)
    if isinstance(node, (nodes.Tuple, nodes.List)) and all(isinstance(i, nodes.Const) for i in node.items):
        return tuple(i.value for i in node.items)  # type: ignore[attr-defined]
    return None


def _compared(compare: nodes.Compare, aliases: dict[str, str]) -> Compared | None:
    if len(compare.ops) != 1 or compare.ops[0].op not in ("eq", "in"):
        return None
    left, right = compare.expr, compare.ops[0].expr
    if compare.ops[0].op == "eq" and isinstance(left, nodes.Const):
        left, right = right, left
    attr = _attr(left) if isinstance(left, (nodes.Getattr, nodes.Getitem)) else None
    owner = _path(left.node, aliases) if attr is not None else None  # type: ignore[attr-defined]
    values = _constants(right)
    if attr is None or not owner or values is None:
        return None
    return Compared(owner, attr, values)
