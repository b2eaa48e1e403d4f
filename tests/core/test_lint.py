"""The rule lint (`app.py check`): each kind of rule that loads but cannot work, named with file:line and a fix."""
from __future__ import annotations

from pathlib import Path
from typing import Callable

import pytest

from relay.cli import main
from relay.config import load_config
from relay.tooling.lint import lint_config
from tests.support.relay import base_config

ROOT = Path(__file__).resolve().parents[2]
BITRIX = """\
connectors:
  bitrix24:
    webhook_url: http://127.0.0.1:9/rest/1/lint0code/
    application_token: lint-test-application-token
"""
RULES = """\
rules:
  - id: child-wrong-stage
    when: {source: bitrix24, kind: deal.updated, if: "deal.CATEGORY_ID == '0' and change.entered('STAGE_ID', 'UC_EVALUATE')"}
    do:
      - create_child: {mapping: to_child, category_id: 1, stage_id: "C2:NEW", parent_link_field: UF_CRM_PARENT_DEAL}
  - id: never
    when: {source: bitrix24, kind: deal.updated, if: "deal.CATEGORY_ID == '0' and change.entered('STAGE_ID', 'C1:UC_APPROVAL')"}
    do:
      - update_entity: {fields: {UF_CRM_FLAG: "Y"}}
  - id: typo
    when: {source: bitrix24, kind: deal.updated, if: "deal.UF_CRM_PARENT_DEEL"}
    do:
      - http_post: {url: "http://127.0.0.1:9/x", json: {title: "{{ dael.TITLE }}", broken: "{{ deal.TITLE }"}}
  - id: wrong-kind
    when: {source: bitrix24, kind: deal.change}
    do:
      - note: {text: hi}
  - id: on-timer
    when: {source: timer, kind: reminder.late}
    do:
      - note: {text: "{{ timer.x }}"}
  - id: starts-timer
    when: {source: shop, kind: "order.*"}
    do:
      - start_timer: {kind: reminder.first, after: 1h}
"""
MAPPINGS = """\
mappings:
  to_child:
    fields:
      TITLE: "Child of {{ parent.TITLE }}"
      TITEL: "{{ parent.ID }}"
  orphan:
    values: {a: 1}
"""


def line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


@pytest.fixture
def config_path(tmp_path: Path, write_config: Callable[..., Path]) -> Path:
    return write_config(base_config(f"sqlite:///{tmp_path / 'relay.db'}", BITRIX), **{"rules__main.yaml": RULES, "mappings__main.yaml": MAPPINGS})


def test_each_problem_has_its_line_its_severity_and_a_fix(config_path: Path) -> None:
    found = {(p.where.file, p.where.line, p.severity, p.message, p.fix) for p in lint_config(load_config(config_path)).problems}

    def one(file: str, line: int, severity: str, words: str) -> tuple[str, str]:
        hits = [(message, fix) for f, n, s, message, fix in found if (f, n, s) == (file, line, severity) and words in message]
        assert len(hits) == 1, (file, line, severity, words, sorted(found, key=str))
        assert hits[0][1], f"no fix for {hits[0][0]}"
        return hits[0]

    r, m = "rules/main.yaml", "mappings/main.yaml"
    one(r, line_of(RULES, 'stage_id: "C2:NEW"'), "error", "stage C2:NEW belongs to pipeline 2, but it is used with pipeline 1")
    one(r, line_of(RULES, "'C1:UC_APPROVAL'"), "warning", "can never match: it asks for CATEGORY_ID in ['0'], but stage C1:UC_APPROVAL is in pipeline 1")
    _, fix = one(r, line_of(RULES, "UF_CRM_PARENT_DEEL"), "warning", "deal field UF_CRM_PARENT_DEEL is read here")
    assert "did you mean UF_CRM_PARENT_DEAL?" in fix
    one(r, line_of(RULES, "dael.TITLE"), "error", "unknown name 'dael'")
    one(r, line_of(RULES, "dael.TITLE"), "error", "template syntax error")
    _, fix = one(r, line_of(RULES, "kind: deal.change"), "error", "bitrix24 never sends an event of kind 'deal.change'")
    assert "deal.updated" in fix
    one(r, line_of(RULES, "kind: reminder.late"), "warning", "no rule starts a timer of kind 'reminder.late'")
    one(r, line_of(RULES, "kind: reminder.first"), "warning", "timers of kind 'reminder.first' fire, but no rule handles them")
    _, fix = one(m, line_of(MAPPINGS, "TITEL"), "warning", "TITEL is not a standard deal field")
    assert "did you mean TITLE?" in fix
    one(m, line_of(MAPPINGS, "orphan"), "warning", "mapping is not used by any rule")
    assert len(found) == 10, sorted(found, key=str)


def test_check_prints_one_line_per_problem_and_fails_on_errors(config_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--config", str(config_path), "check"]) == 1
    lines = capsys.readouterr().out.splitlines()
    errors = [line for line in lines if line.startswith("error: ")]
    assert len(errors) == 4 and all("; fix: " in line for line in errors), lines
    assert f"error: rules/main.yaml:{line_of(RULES, 'kind: deal.change')}: rules[3].when.kind: bitrix24 never sends" in "\n".join(errors)
    assert lines[-1].startswith("4 error(s), 6 warning(s) in ")


def test_warnings_alone_pass(tmp_path: Path, write_config: Callable[..., Path], capsys: pytest.CaptureFixture[str]) -> None:
    rules = RULES.split("  - id: typo")[0].replace("C2:NEW", "C1:NEW")
    path = write_config(base_config(f"sqlite:///{tmp_path / 'relay.db'}", BITRIX), **{"rules__main.yaml": rules, "mappings__main.yaml": MAPPINGS})
    assert main(["--config", str(path), "check"]) == 0
    out = capsys.readouterr().out
    assert "error:" not in out and "warning: rules/main.yaml:" in out and "ok: " in out


def test_the_shipped_linked_deal_rules_are_clean(tmp_path: Path, write_config: Callable[..., Path]) -> None:
    """Every field, stage and pipeline the shipped rules name is consistent."""
    files = {f"{d}__linked_deals.yaml": (ROOT / d / "linked_deals.yaml").read_text(encoding="utf-8") for d in ("rules", "mappings")}
    problems = lint_config(load_config(write_config(base_config(f"sqlite:///{tmp_path / 'r.db'}", BITRIX), **files))).problems
    assert problems == [], [str(p) for p in problems]
