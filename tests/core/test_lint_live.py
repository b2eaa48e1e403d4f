"""`check --live` against the Bitrix24 emulator over HTTP, and the lint on the admin rules page."""
from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Callable, Iterator

import pytest
import requests
from werkzeug.security import generate_password_hash

from emulators.bitrix24 import create_app as create_portal
from emulators.common.server import RunningServer, serve_in_thread
from relay.cli import main
from relay.config import load_config
from relay.runtime import Runtime
from relay.web import create_app
from tests.e2e.conftest import csrf_from
from tests.support.bitrix24 import CODE, SEED, TOKEN
from tests.support.relay import base_config

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def portal() -> Iterator[RunningServer]:
    server = serve_in_thread(create_portal(seed=SEED, rate_limit=False))
    yield server
    server.stop()


def linked_deals(tmp_path: Path, write_config: Callable[..., Path], webhook: str, edit: Callable[[str, str], str] = lambda name, text: text,
                 extra: str = "") -> Path:
    """The shipped linked-deal rules and mappings (edited by the test) against `webhook`."""
    files = {f"{d}__linked_deals.yaml": edit(d, (ROOT / d / "linked_deals.yaml").read_text(encoding="utf-8")) for d in ("rules", "mappings")}
    # Sandbox mode: the emulator's demo credentials are refused in live mode (nothing else differs for check).
    connector = f"mode: sandbox\nconnectors:\n  bitrix24:\n    webhook_url: {webhook}\n    application_token: {TOKEN}\n    requests_per_second: 50\n"
    return write_config(base_config(f"sqlite:///{tmp_path / 'relay.db'}", connector + extra), **files)


def test_shipped_names_all_exist_in_the_portal(portal: RunningServer, tmp_path: Path, write_config: Callable[..., Path],
                                               capsys: pytest.CaptureFixture[str]) -> None:
    config = linked_deals(tmp_path, write_config, f"{portal.url}/rest/1/{CODE}/")
    assert main(["--config", str(config), "check", "--live"]) == 0
    out = capsys.readouterr().out
    assert "error:" not in out and out.startswith("live: checked ")
    assert not (tmp_path / "relay.db").exists(), "check must not create the store"


def test_names_the_portal_lacks_are_errors_with_the_closest_real_name(portal: RunningServer, tmp_path: Path, write_config: Callable[..., Path],
                                                                     capsys: pytest.CaptureFixture[str]) -> None:
    def break_names(folder: str, text: str) -> str:
        if folder == "mappings":
            return text.replace('"C1:UC_APPROVAL": UC_ESTIMATE_READY', '"C1:UC_APROVAL": UC_ESTIMATE_READY') \
                       .replace("UF_CRM_DEPARTMENT: Логистика", "UF_CRM_DEPARTMNT: Логистика")
        return text.replace("category_id: 2\n", "category_id: 7\n").replace('stage_id: "C2:NEW"', 'stage_id: "C7:NEW"') \
                   .replace("entity_type_id: 1036", "entity_type_id: 1099").replace('"DT1036_10:NEW"', '"DT1099_10:NEW"')

    config = linked_deals(tmp_path, write_config, f"{portal.url}/rest/1/{CODE}/", break_names)
    assert main(["--config", str(config), "check", "--live"]) == 1
    errors = [line for line in capsys.readouterr().out.splitlines() if line.startswith("error: ")]
    rules, mappings = (ROOT / "rules" / "linked_deals.yaml").read_text(encoding="utf-8"), (ROOT / "mappings" / "linked_deals.yaml").read_text(encoding="utf-8")
    row = lambda text, needle, nth=0: [i for i, line in enumerate(text.splitlines(), 1) if needle in line][nth]  # noqa: E731
    assert errors == [
        f"error: mappings/linked_deals.yaml:{row(mappings, 'UF_CRM_DEPARTMENT: Логистика')}: mappings.sales_to_logistics.fields.UF_CRM_DEPARTMNT: "
        "bitrix24 has no deal field UF_CRM_DEPARTMNT; fix: did you mean UF_CRM_DEPARTMENT? correct the code, or create the field in the portal first",
        f"error: mappings/linked_deals.yaml:{row(mappings, 'C1:UC_APPROVAL')}: mappings.child_to_sales.stages.C1:UC_APROVAL: "
        "bitrix24 has no deal stage C1:UC_APROVAL; fix: did you mean C1:UC_APPROVAL? use a stage id as crm.status.list shows it (pipeline N: C<N>:…)",
        f"error: rules/linked_deals.yaml:{row(rules, 'category_id: 2')}: rules[2].do[0].create_child.category_id: "
        "bitrix24 has no deal pipeline 7 (it has: 0, 1, 2); fix: use one of those pipeline ids",
        f"error: rules/linked_deals.yaml:{row(rules, 'create_child:', 2)}: rules[3].do[0].create_child.parent_link_field: "
        "bitrix24 has no item 1099; fix: create it, or correct the entity type id",
    ], "\n".join(errors)


def test_an_unreachable_portal_is_one_error_line_without_the_webhook_secret(tmp_path: Path, write_config: Callable[..., Path],
                                                                           capsys: pytest.CaptureFixture[str]) -> None:
    config = linked_deals(tmp_path, write_config, "http://127.0.0.1:9/rest/1/secret0webhook0code/")
    config.write_text(config.read_text(encoding="utf-8").replace("requests_per_second: 50", "requests_per_second: 50\n    timeout_seconds: 1"), encoding="utf-8")
    assert main(["--config", str(config), "check", "--live"]) == 1
    out = capsys.readouterr().out
    errors = [line for line in out.splitlines() if line.startswith("error: ")]
    line = next(i for i, text in enumerate(config.read_text(encoding="utf-8").splitlines(), 1) if text.strip() == "bitrix24:")
    assert len(errors) == 1 and errors[0].startswith(f"error: {config}:{line}: connectors.bitrix24: could not ask bitrix24 ("), errors
    assert "; fix: check connectors.bitrix24" in errors[0]
    assert "secret0webhook0code" not in out and "Traceback" not in out


def test_the_admin_rules_page_shows_the_lint(tmp_path: Path, write_config: Callable[..., Path]) -> None:
    password = "lint page password"
    admin = "admin:\n  password_hash: ${HASH}\n  secret_key: ${KEY}\n"
    config = linked_deals(tmp_path, write_config, "http://127.0.0.1:9/rest/1/x/",
                          lambda folder, text: text.replace("stage_id: \"C1:NEW\"", "stage_id: \"C2:NEW\""), extra=admin)
    environ = {**os.environ, "HASH": generate_password_hash(password), "KEY": secrets.token_hex(24)}
    runtime = Runtime(load_config(config, environ=environ))
    site = serve_in_thread(create_app(runtime))
    try:
        http = requests.Session()
        token = csrf_from(http.get(f"{site.url}/admin/login", timeout=10).text)
        http.post(f"{site.url}/admin/login", data={"csrf_token": token, "password": password}, timeout=10)
        page = http.get(f"{site.url}/admin/rules", timeout=10).text
        rules = (ROOT / "rules" / "linked_deals.yaml").read_text(encoding="utf-8").splitlines()
        line = next(i for i, text in enumerate(rules, 1) if 'stage_id: "C1:NEW"' in text)
        assert 'id="lint"' in page and f"rules/linked_deals.yaml:{line}" in page
        assert "stage C2:NEW belongs to pipeline 2, but it is used with pipeline 1" in page and "use a stage of the same pipeline" in page
        assert 'id="rule-logistics-estimate"' in page
    finally:
        site.stop()
        runtime.close()
