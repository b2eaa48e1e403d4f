"""`app.py check` names file:line and field for every kind of broken config, all at once."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from relay.config import ConfigError, load_config

ROOT = Path(__file__).resolve().parents[2]

GOOD_CONFIG = """\
store:
  url: sqlite:///relay.db
sources:
  shop:
    type: webhook
    secret: ${SHOP_SECRET}
rules: [rules/*.yaml]
mappings: [mappings/*.yaml]
"""
GOOD_RULES = """\
rules:
  - id: forward
    when:
      source: shop
      kind: order.*
      if: "payload.amount > 10"
    do:
      - http_post:
          url: "http://127.0.0.1:9/{{ payload.id }}"
          json: {id: "{{ payload.id }}"}
      - start_timer:
          kind: reminder
          after: 2 working days
"""
GOOD_MAPPINGS = """\
mappings:
  texts:
    templates:
      hello: "Hello {{ name }}"
"""
ENV = {"SHOP_SECRET": "s3cret-value-xyz"}


def _write(tmp: Path, config: str = GOOD_CONFIG, rules: str = GOOD_RULES, mappings: str = GOOD_MAPPINGS) -> Path:
    (tmp / "rules").mkdir(exist_ok=True)
    (tmp / "mappings").mkdir(exist_ok=True)
    (tmp / "rules" / "main.yaml").write_text(rules, encoding="utf-8")
    (tmp / "mappings" / "main.yaml").write_text(mappings, encoding="utf-8")
    path = tmp / "config.yaml"
    path.write_text(config, encoding="utf-8")
    return path


def _problems(path: Path, env: dict[str, str] | None = None) -> list[str]:
    with pytest.raises(ConfigError) as info:
        load_config(path, environ=ENV if env is None else env)
    return [str(p) for p in info.value.problems]


def test_good_config_loads(tmp_path: Path) -> None:
    config = load_config(_write(tmp_path), environ=ENV)
    assert [r.id for r in config.rules] == ["forward"]
    assert [a.name for a in config.rules[0].actions] == ["http_post", "start_timer"]
    assert config.sources["shop"].secret.get_secret_value() == "s3cret-value-xyz"  # type: ignore[attr-defined]
    assert "s3cret-value-xyz" in config.secrets
    assert [str(w) for w in config.warnings] == ["mappings/main.yaml:2: mappings.texts: mapping is not used by any rule"]


def test_env_default_and_dollar_escape(tmp_path: Path) -> None:
    cfg = GOOD_CONFIG.replace("sqlite:///relay.db", "${DB_URL:-sqlite:///other.db}").replace("${SHOP_SECRET}", "pa$$word-long")
    config = load_config(_write(tmp_path, cfg), environ={})
    assert config.settings.store.url == "sqlite:///other.db"
    assert config.sources["shop"].secret.get_secret_value() == "pa$word-long"  # type: ignore[attr-defined]


# (name, which file, text, expected substrings of one problem line)
BROKEN = [
    ("yaml syntax", "config", "store:\n  url: [unclosed\n", ["config.yaml:", "YAML syntax error"]),
    ("tab indentation", "config", "store:\n\turl: x\n", ["config.yaml:2", "YAML syntax error"]),
    ("duplicate key", "config", GOOD_CONFIG + "store:\n  url: x\n", ["config.yaml:9", "duplicate key 'store'"]),
    ("unknown top key", "config", GOOD_CONFIG + "stroe: {}\n", ["config.yaml:9", "stroe", "unknown key 'stroe'", "expected one of"]),
    ("unknown nested key", "config", GOOD_CONFIG.replace("  url: sqlite", "  uri: sqlite"), ["config.yaml:2", "store.uri", "unknown key 'uri'", "url"]),
    ("wrong type", "config", GOOD_CONFIG + "web:\n  port: eighty\n", ["config.yaml:10", "web.port", "valid integer", "'eighty'"]),
    ("out of range", "config", GOOD_CONFIG + "web:\n  port: 70000\n", ["config.yaml:10", "web.port", "less than or equal to 65535"]),
    ("bad choice", "config", GOOD_CONFIG + "logging:\n  level: LOUD\n", ["config.yaml:10", "logging.level", "'LOUD'"]),
    ("missing env var", "config", GOOD_CONFIG.replace("${SHOP_SECRET}", "${NOT_SET_ANYWHERE}"), ["config.yaml:6", "sources.shop.secret", "NOT_SET_ANYWHERE is not set"]),
    ("unknown source type", "config", GOOD_CONFIG.replace("type: webhook", "type: webhok"), ["config.yaml:5", "sources.shop.type", "unknown source type 'webhok'", "webhook"]),
    ("missing source secret", "config", GOOD_CONFIG.replace("    secret: ${SHOP_SECRET}\n", ""), ["config.yaml:4", "sources.shop.secret", "required"]),
    ("bad template in source", "config", GOOD_CONFIG.replace("type: webhook", "type: webhook\n    kind: '{{ payload.type '"), ["config.yaml:6", "sources.shop.kind", "template syntax error"]),
    ("unknown connector", "config", GOOD_CONFIG + "connectors:\n  bitrix42: {}\n", ["config.yaml:10", "connectors.bitrix42", "unknown connector"]),
    ("plugin import fails", "config", GOOD_CONFIG + "plugins: [no_such_module_here]\n", ["config.yaml:9", "plugins[0]", "cannot import"]),
    ("rules not a list", "rules", "rules: {id: x}\n", ["rules/main.yaml:1", "rules", "valid list"]),
    ("rule missing when", "rules", "rules:\n  - id: r1\n    do: [{note: {text: hi}}]\n", ["rules/main.yaml:2", "rules[0].when", "required"]),
    ("rule bad id", "rules", GOOD_RULES.replace("id: forward", "id: 'for ward'"), ["rules/main.yaml:2", "rules[0].id", "pattern"]),
    ("unknown action", "rules", GOOD_RULES.replace("- http_post:", "- http_pots:"), ["rules/main.yaml:8", "rules[0].do[0].http_pots", "unknown action 'http_pots'", "http_post"]),
    ("unknown action param", "rules", GOOD_RULES.replace("kind: reminder", "knd: reminder"), ["rules/main.yaml:12", "rules[0].do[1].start_timer.knd", "unknown key 'knd'"]),
    ("action param wrong type", "rules", GOOD_RULES.replace("url: \"http://127.0.0.1:9/{{ payload.id }}\"", "url: [1, 2]"), ["rules/main.yaml:9", "rules[0].do[0].http_post.url", "valid string"]),
    ("two actions in one item", "rules", GOOD_RULES.replace("      - start_timer:", "        start_timer:"), ["rules/main.yaml:8", "rules[0].do[0]", "one key"]),
    ("bad condition", "rules", GOOD_RULES.replace("payload.amount > 10", "payload.amount >"), ["rules/main.yaml:6", "rules[0].when.if", "expression syntax error"]),
    ("bad template in action", "rules", GOOD_RULES.replace("{{ payload.id }}\"", "{{ payload.id }\""), ["rules/main.yaml:9", "rules[0].do[0].http_post.url", "template syntax error"]),
    ("unknown rule source", "rules", GOOD_RULES.replace("source: shop", "source: shopp"), ["rules/main.yaml:4", "rules[0].when.source", "unknown source 'shopp'"]),
    ("duplicate rule id", "rules", GOOD_RULES + GOOD_RULES.replace("rules:\n", ""), ["rules/main.yaml:14", "rules[1].id", "already used"]),
    ("mapping bad section", "mappings", "mappings:\n  texts:\n    tempaltes: {}\n", ["mappings/main.yaml:3", "mappings.texts.tempaltes", "unknown key"]),
    ("mapping bad template", "mappings", "mappings:\n  texts:\n    templates:\n      hello: '{% if %}'\n", ["mappings/main.yaml:4", "mappings.texts.templates.hello", "template syntax error"]),
    ("rules file not a mapping", "rules", "- just\n- a list\n", ["rules/main.yaml:1", "expected a mapping at the top level"]),
]


@pytest.mark.parametrize("name,where,text,expected", BROKEN, ids=[b[0] for b in BROKEN])
def test_broken_config_names_file_line_field(tmp_path: Path, name: str, where: str, text: str, expected: list[str]) -> None:
    path = _write(tmp_path, **{{"config": "config", "rules": "rules", "mappings": "mappings"}[where]: text})
    problems = _problems(path)
    assert any(all(part in line for part in expected) for line in problems), problems


def test_reference_to_missing_mapping(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Action params typed MappingName are checked against the loaded mappings."""
    from relay.actions.params import MappingName, Params
    from relay.registry import REGISTRY, action

    class UsesMapping(Params):
        mapping: MappingName

    action("uses_mapping_test", UsesMapping)(lambda ctx, p: None)
    try:
        rules = "rules:\n  - id: r\n    when: {source: shop}\n    do:\n      - uses_mapping_test:\n          mapping: textz\n"
        problems = _problems(_write(tmp_path, rules=rules))
        assert any("rules/main.yaml:6" in p and "mapping" in p and "no mapping named 'textz'" in p and "texts" in p for p in problems), problems
    finally:
        del REGISTRY.actions["uses_mapping_test"]


def test_every_problem_reported_at_once(tmp_path: Path) -> None:
    config = GOOD_CONFIG.replace("${SHOP_SECRET}", "${NOPE}") + "web:\n  port: x\n"
    rules = GOOD_RULES.replace("- http_post:", "- http_pots:")
    problems = _problems(_write(tmp_path, config, rules))
    assert any("NOPE is not set" in p for p in problems)
    assert any("web.port" in p for p in problems)
    assert any("unknown action 'http_pots'" in p for p in problems)


def test_missing_config_file(tmp_path: Path) -> None:
    assert _problems(tmp_path / "absent.yaml") == [f"{tmp_path / 'absent.yaml'}: file not found"]


def test_check_command_prints_each_problem_and_fails(tmp_path: Path) -> None:
    path = _write(tmp_path, GOOD_CONFIG.replace("${SHOP_SECRET}", "${NOT_SET_X}") + "stroe: 1\n")
    result = subprocess.run([sys.executable, str(ROOT / "app.py"), "--config", str(path), "check"], capture_output=True, text=True,
                            env={"PATH": "/usr/bin:/bin"}, cwd=tmp_path, timeout=60)
    assert result.returncode == 1
    lines = [line for line in result.stdout.splitlines() if line.startswith("error:")]
    assert len(lines) == 2, result.stdout
    assert "config.yaml:6: sources.shop.secret: environment variable NOT_SET_X is not set" in result.stdout
    assert "config.yaml:9: stroe: unknown key 'stroe'" in result.stdout


def test_run_refuses_to_start_half_configured(tmp_path: Path) -> None:
    path = _write(tmp_path, rules=GOOD_RULES.replace("- http_post:", "- http_pots:"))
    result = subprocess.run([sys.executable, str(ROOT / "app.py"), "--config", str(path), "run"], capture_output=True, text=True,
                            env={"PATH": "/usr/bin:/bin", "SHOP_SECRET": "x" * 10}, cwd=tmp_path, timeout=60)
    assert result.returncode == 1
    assert "unknown action 'http_pots'" in result.stderr and "did not start" in result.stderr
    assert not (tmp_path / "relay.db").exists()


def test_shipped_config_is_valid() -> None:
    result = subprocess.run([sys.executable, "app.py", "check"], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr


def test_live_mode_refuses_the_sandbox_admin_password() -> None:
    result = subprocess.run([sys.executable, "app.py", "check"], capture_output=True, text=True, cwd=ROOT, timeout=60,
                            env={"PATH": "/usr/bin:/bin", "RELAY_MODE": "live"})
    assert result.returncode == 1
    assert "config.yaml:" in result.stdout and "admin: still uses the sandbox password" in result.stdout
