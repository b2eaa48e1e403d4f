"""A payment-request mapping that is incomplete stops the relay at start, naming file, line and field;
the texts and amounts the requests show are built one way everywhere."""
from __future__ import annotations

import shutil
from pathlib import Path
from typing import Callable

import pytest

from connectors.bitrix24.payment_requests_setup import Setup, kopecks, money_text, request_numbers, request_view
from relay.config import ConfigError
from tests.support.relay import base_config, make_runtime

ROOT = Path(__file__).resolve().parents[2]
CONFIG = """\
mode: sandbox
connectors:
  bitrix24:
    webhook_url: "http://127.0.0.1:9/rest/1/abc/"
    application_token: test-token-0123456789
    sweep: {interval_seconds: 3600}
  payment_requests: {}
"""


def test_an_incomplete_mapping_stops_the_relay_with_file_line_and_field(tmp_path: Path, write_config: Callable[..., Path]) -> None:
    (tmp_path / "mappings").mkdir()
    shipped = (ROOT / "mappings" / "payment_requests.yaml").read_text(encoding="utf-8")
    broken = shipped.replace("        inn: ufCrm2Inn\n", "").replace('      paid: "DT1040_12:SUCCESS"            # Оплачен\n', "")
    (tmp_path / "mappings" / "payment_requests.yaml").write_text(broken, encoding="utf-8")
    config = write_config(base_config(f"sqlite:///{tmp_path / 'relay.db'}", CONFIG))
    with pytest.raises(ConfigError) as refused:
        make_runtime(config)
    lines = {n for n, line in enumerate(broken.splitlines(), start=1) if line.strip().startswith(("fields:", "stages:"))}
    problems = [(p.file, p.line, p.field, p.message) for p in refused.value.problems]
    assert problems == [("mappings/payment_requests.yaml", min(lines), "mappings.payment_requests.values.fields.inn", "required, but missing"),
                        ("mappings/payment_requests.yaml", max(lines), "mappings.payment_requests.stages.paid", "required, but missing")]


def test_the_shipped_mapping_describes_the_demo_portal(tmp_path: Path, write_config: Callable[..., Path]) -> None:
    (tmp_path / "mappings").mkdir()
    shutil.copy(ROOT / "mappings" / "payment_requests.yaml", tmp_path / "mappings")
    runtime = make_runtime(write_config(base_config(f"sqlite:///{tmp_path / 'relay.db'}", CONFIG)))
    try:
        setup = runtime.connector("payment_requests").setup
        assert (setup.entity_type_id, setup.stages.approved, setup.fields.inn) == (1040, "DT1040_12:UC_APPROVED", "ufCrm2Inn")
    finally:
        runtime.close()


def test_amounts_numbers_and_views() -> None:
    assert [kopecks(v) for v in (48500.75, "48500.75", "48500.75|RUB", "12 000,5", None, "")] == [4850075, 4850075, 4850075, 1200050, 0, 0]
    assert money_text(4850075) == "48 500,75 ₽" and money_text(100, "USD") == "1,00 $"
    setup = Setup.model_validate({"entity_type_id": 1040, "fields": {"contractor": "c", "inn": "i", "bik": "b", "account": "a"},
                                  "stages": {"draft": "D", "approval": "A", "approved": "OK", "paid": "P"}})
    assert request_numbers("Оплата по заявке № 12 и заявке 13, счет № 131", setup) == [12, 13]
    assert request_numbers("Оплата по заявке на оплату №7", setup) == [7]
    assert request_numbers("Оплата по счету № 131 от 28.02.2025", setup) == []
    view = request_view({"id": 5, "title": "T", "opportunity": 1000.5, "i": " 7704 158205 ", "stageId": "A"}, setup)
    assert (view["inn"], view["amount"], view["amount_text"], view["pay_by"], view["url"]) == ("7704158205", "1000.50", "1 000,50 ₽", "", "")
