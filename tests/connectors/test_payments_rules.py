"""The shipped rules/payments.yaml and mappings/payments.yaml: they load, and their rule tests
(rules/payments_test.yaml, `python app.py test`) pass offline."""
from __future__ import annotations

from pathlib import Path
from typing import Callable

import pytest

from relay.cli import main
from tests.support.relay import base_config

ROOT = Path(__file__).resolve().parents[2]
CONNECTORS = """\
connectors:
  bitrix24:
    webhook_url: http://127.0.0.1:9/rest/1/never0used0payments/
    application_token: payments-rule-test-token
  bank:
    onec: {token: payments-rule-test-upload}
"""


def test_the_shipped_payment_rules_load_and_their_rule_tests_pass(tmp_path: Path, write_config: Callable[..., Path],
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    files = {f"{folder}__{name}": (ROOT / folder / name).read_text(encoding="utf-8")
             for folder, name in (("rules", "payments.yaml"), ("rules", "payments_test.yaml"), ("mappings", "payments.yaml"))}
    config = write_config("mode: sandbox\n" + base_config(f"sqlite:///{tmp_path / 'relay.db'}", CONNECTORS), **files)
    assert main(["--config", str(config), "check"]) == 0
    assert "payments" not in capsys.readouterr().out.replace("ok:", "")  # no warning about them
    assert main(["--config", str(config), "test"]) == 0, capsys.readouterr().out
    out = capsys.readouterr().out
    assert out.splitlines()[-1] == "2 passed, 0 failed" and "FAIL" not in out
