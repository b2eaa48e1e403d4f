"""Read a YAML file into plain data while remembering the line of every key and value.

PyYAML's node graph carries positions; pydantic's error locations are paths into the data.
Keeping a path → line table joins the two, so a validation error can say `rules/x.yaml:12`.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from relay.config.errors import ConfigProblem

Path_ = tuple[str | int, ...]
_ENV = re.compile(r"\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


@dataclass
class YamlDoc:
    """Parsed data of one file plus where each path sits in it."""

    file: str
    data: Any
    lines: dict[Path_, int] = field(default_factory=dict)
    secret_values: set[str] = field(default_factory=set)

    def line_of(self, path: Path_) -> int | None:
        """The line of `path`, or of its nearest ancestor that has one."""
        for cut in range(len(path), -1, -1):
            line = self.lines.get(tuple(path[:cut]))
            if line is not None:
                return line
        return None


def substitute_env(text: str, environ: dict[str, str]) -> tuple[str, list[str], bool]:
    """Expand `${VAR}` / `${VAR:-default}`; `$$` is a literal `$`.

    Returns the text, the names of unset variables without a default, and whether anything came
    from the environment (such values are treated as potential secrets by the redactor).
    """
    missing: list[str] = []
    used_env = False

    def repl(m: re.Match[str]) -> str:
        nonlocal used_env
        if m.group(0) == "$$":
            return "$"
        name, default = m.group(1), m.group(2)
        if name in environ:
            used_env = True
            return environ[name]
        if default is not None:
            return default
        missing.append(name)
        return ""

    return _ENV.sub(repl, text), missing, used_env


class _Builder:
    def __init__(self, file: str, environ: dict[str, str]) -> None:
        self.doc = YamlDoc(file=file, data=None)
        self.environ = environ
        self.problems: list[ConfigProblem] = []

    def build(self, node: yaml.Node, path: Path_) -> Any:
        self.doc.lines.setdefault(path, node.start_mark.line + 1)
        if isinstance(node, yaml.MappingNode):
            out: dict[Any, Any] = {}
            for key_node, value_node in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    self._problem(key_node, path, "YAML merge keys (<<) are not supported; write the keys out")
                    continue
                key = self._scalar(key_node, path)
                if key in out:
                    self._problem(key_node, path + (str(key),), f"duplicate key {key!r}")
                self.doc.lines[path + (key,)] = key_node.start_mark.line + 1
                out[key] = self.build(value_node, path + (key,))
                self.doc.lines[path + (key,)] = key_node.start_mark.line + 1
            return out
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, path + (i,)) for i, item in enumerate(node.value)]
        return self._scalar(node, path)

    def _scalar(self, node: yaml.Node, path: Path_) -> Any:
        value = yaml.SafeLoader.construct_scalar(_LOADER, node) if node.tag == "tag:yaml.org,2002:str" else None
        if node.tag == "tag:yaml.org,2002:str" and isinstance(value, str) and "$" in value:
            text, missing, used_env = substitute_env(value, self.environ)
            for name in missing:
                self._problem(node, path, f"environment variable {name} is not set (write ${{{name}:-default}} to allow a default)")
            if used_env and text:
                self.doc.secret_values.add(text)
            return text
        return _LOADER.construct_object(node, deep=True)

    def _problem(self, node: yaml.Node, path: Path_, message: str) -> None:
        self.problems.append(ConfigProblem(self.doc.file, node.start_mark.line + 1, dotted(path), message))


_LOADER = yaml.SafeLoader("")


def dotted(path: Path_) -> str:
    """`("rules", 0, "do")` → `rules[0].do`: the way an admin reads a field path."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def read_yaml(path: Path, environ: dict[str, str] | None = None, display: str | None = None) -> tuple[YamlDoc, list[ConfigProblem]]:
    """Parse one file. Syntax errors and unset variables come back as problems, never raised."""
    name = display or str(path)
    env = dict(os.environ) if environ is None else environ
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return YamlDoc(name, None), [ConfigProblem(name, None, "", "file not found")]
    except (OSError, UnicodeDecodeError) as exc:
        return YamlDoc(name, None), [ConfigProblem(name, None, "", f"cannot read file: {exc}")]
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        what = " ".join(x for x in (exc.context, exc.problem) if x)
        return YamlDoc(name, None), [ConfigProblem(name, line, "", f"YAML syntax error: {what}")]
    if node is None:
        return YamlDoc(name, {}), []
    builder = _Builder(name, env)
    try:
        builder.doc.data = builder.build(node, ())
    except yaml.constructor.ConstructorError as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark else None
        return YamlDoc(name, None), [ConfigProblem(name, line, "", f"YAML error: {exc.problem}")]
    return builder.doc, builder.problems
