"""`app.py test`: rule tests run offline (the portal's address here is a closed port), pass for the shipped
rules, and fail a broken rule with a diff a person can read."""
from __future__ import annotations

from pathlib import Path
from typing import Callable

import pytest

from relay.actions.context import ActionContext
from relay.actions.params import Params
from relay.cli import main
from relay.registry import action
from relay.templating import TemplateStr
from tests.support.relay import base_config

ROOT = Path(__file__).resolve().parents[2]
# Port 9 (discard) is closed: a rule test that reached the network would fail, not pass by luck.
OFFLINE = """\
plugins: [tests.core.test_ruletest]
connectors:
  bitrix24:
    webhook_url: http://127.0.0.1:9/rest/1/never0used/
    application_token: rule-test-application-token
"""


class PeekParams(Params):
    link_key: TemplateStr


@action("test_peek", PeekParams)
def peek(ctx: ActionContext, p: PeekParams) -> None:
    """Test-only: plans a write that shows the link and the pending timers the store holds."""
    timers = [t.cancel_key for t in ctx.runtime.timers.list("pending")]
    ctx.effect(lambda: None, describe={"link": ctx.runtime.links.get("test.link", ctx.render(p.link_key)), "timers": timers})


def shipped(tmp_path: Path, write_config: Callable[..., Path], edit: Callable[[str, str], str] = lambda name, text: text, **more: str) -> Path:
    files = {f"{d}__linked_deals.yaml": edit(d, (ROOT / d / "linked_deals.yaml").read_text(encoding="utf-8")) for d in ("rules", "mappings")}
    files["rules__linked_deals_test.yaml"] = (ROOT / "rules" / "linked_deals_test.yaml").read_text(encoding="utf-8")
    return write_config(base_config(f"sqlite:///{tmp_path / 'relay.db'}", OFFLINE), **files, **more)


def test_the_shipped_rule_tests_pass_offline(tmp_path: Path, write_config: Callable[..., Path], capsys: pytest.CaptureFixture[str]) -> None:
    config = shipped(tmp_path, write_config)
    assert main(["--config", str(config), "test"]) == 0, capsys.readouterr().out
    out = capsys.readouterr().out
    assert out.splitlines()[0] == "rules/linked_deals_test.yaml" and "FAIL" not in out
    assert out.splitlines()[-1] == "14 passed, 0 failed"
    assert not (tmp_path / "relay.db").exists(), "rule tests use a throwaway store, never the configured one"


def test_a_broken_rule_fails_with_a_readable_diff(tmp_path: Path, write_config: Callable[..., Path], capsys: pytest.CaptureFixture[str]) -> None:
    def break_it(folder: str, text: str) -> str:
        if folder == "mappings":  # Logistics children assigned to the wrong person
            return text.replace('ASSIGNED_BY_ID: "3"', 'ASSIGNED_BY_ID: "5"')
        # The Engineering rule now looks at the wrong pipeline: it never fires for a sales deal.
        head, tail = text.split("  - id: engineering-estimate", 1)
        return head + "  - id: engineering-estimate" + tail.replace("deal.CATEGORY_ID in ('0', 0)", "deal.CATEGORY_ID in ('1', 1)", 1)

    config = shipped(tmp_path, write_config, break_it)
    assert main(["--config", str(config), "test", str(tmp_path / "rules" / "linked_deals.yaml")]) == 1
    out = capsys.readouterr().out
    first = out.split("  FAIL  a sales deal entering Оценить gets a Logistics and an Engineering child  (rules/linked_deals_test.yaml:")[1]
    diff = first.split("\n  PASS")[0].split("\n  FAIL")[0]
    lines = [line[4:] for line in diff.splitlines()[1:]]
    assert lines[:2] == ["--- expected", "+++ actual (planned)"], diff
    assert "-    ASSIGNED_BY_ID: '3'" in lines and "+    ASSIGNED_BY_ID: '5'" in lines, diff
    removed = [line for line in lines if line.startswith("-") and not line.startswith("---")]
    assert "-- action: create_child" in removed and "-  rule: engineering-estimate" in removed, diff
    assert not any(line.startswith("+") and "engineering" in line for line in lines), diff
    assert lines[-1].startswith("    trace: read-back: deal 1: "), "the trace says what the connector saw"
    assert out.splitlines()[-1] == "12 passed, 2 failed"  # this case and the first-sight one, which also wants an Engineering child


CUSTOM_RULES = """\
rules:
  - id: remind
    when: {source: shop, kind: order.new}
    do:
      - start_timer: {kind: order.late, after: 2h, cancel_key: "order-{{ payload.order }}"}
      - test_peek: {link_key: "{{ payload.order }}"}
  - id: late
    when: {source: timer, kind: order.late}
    do:
      - http_post: {url: "http://127.0.0.1:9/late", json: {order: "{{ timer.order }}"}}
"""
CUSTOM_TESTS = """\
tests:
  - name: a new order starts its timer and sees the store's link and timers
    event: {source: shop, kind: order.new, payload: {order: "17"}}
    links: [{kind: test.link, key: "17", value: chat-5}]
    timers: [{kind: order.late, cancel_key: order-16}]
    expect:
      - {action: start_timer, rule: remind, kind: order.late, cancel_key: order-17}
      - {action: test_peek, link: chat-5, timers: [order-16]}
  - name: an unexpected extra action is shown in full
    event: {source: shop, kind: order.new, payload: {order: "18"}}
    expect:
      - {action: start_timer, cancel_key: order-18}
  - name: a template error is an expected failure
    event: {source: timer, kind: order.late, payload: {}}
    expect_error: "'dict object' has no attribute 'order'"
"""


def test_state_extra_actions_and_expected_errors(tmp_path: Path, write_config: Callable[..., Path], capsys: pytest.CaptureFixture[str]) -> None:
    config = write_config(base_config(f"sqlite:///{tmp_path / 'relay.db'}", OFFLINE),
                          **{"rules__orders.yaml": CUSTOM_RULES, "rules__orders_test.yaml": CUSTOM_TESTS})
    assert main(["--config", str(config), "test", str(tmp_path / "rules")]) == 1
    out = capsys.readouterr().out.splitlines()
    line = CUSTOM_TESTS.splitlines().index("  - name: an unexpected extra action is shown in full") + 1
    assert out == ["rules/orders_test.yaml",
                   "  PASS  a new order starts its timer and sees the store's link and timers",
                   f"  FAIL  an unexpected extra action is shown in full  (rules/orders_test.yaml:{line})",
                   "    --- expected",
                   "    +++ actual (planned)",
                   "    @@ -1,2 +1,6 @@",
                   "     - action: start_timer",
                   "       cancel_key: order-18",
                   "    +- action: test_peek",
                   "    +  rule: remind",
                   "    +  link: null",
                   "    +  timers: []",
                   "  PASS  a template error is an expected failure",
                   "2 passed, 1 failed"]


def test_a_mistyped_test_file_names_its_line(tmp_path: Path, write_config: Callable[..., Path], capsys: pytest.CaptureFixture[str]) -> None:
    bad = CUSTOM_TESTS.replace("    expect_error:", "    expect_eror:")
    config = write_config(base_config(f"sqlite:///{tmp_path / 'relay.db'}", OFFLINE),
                          **{"rules__orders.yaml": CUSTOM_RULES, "rules__orders_test.yaml": bad})
    assert main(["--config", str(config), "test"]) == 1
    out = capsys.readouterr().out
    line = bad.splitlines().index("    expect_eror: \"'dict object' has no attribute 'order'\"") + 1
    assert f"  error: rules/orders_test.yaml:{line}: tests[2].expect_eror: unknown key 'expect_eror'" in out, out
    assert "; fix: see docs/rules.md" in out
