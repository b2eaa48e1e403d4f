"""PHP wire habits: parse_str bracket nesting, json_encode shapes, http_build_query encoding."""
from __future__ import annotations

from emulators.bitrix24.php import build_query, parse_str, php_json


def test_parse_str_nests_brackets_and_appends_lists() -> None:
    parsed = parse_str("fields[TITLE]=My%20company&fields[PHONE][0][VALUE]=112233"
                       "&fields[PHONE][0][VALUE_TYPE]=WORK&select[]=ID&select[]=TITLE")
    assert parsed == {"fields": {"TITLE": "My company", "PHONE": [{"VALUE": "112233", "VALUE_TYPE": "WORK"}]},
                      "select": ["ID", "TITLE"]}


def test_parse_str_plus_and_percent20_are_spaces_and_later_values_win() -> None:
    assert parse_str("a=x+y&b=x%20y&a=z") == {"a": "z", "b": "x y"}


def test_parse_str_variable_name_quirks() -> None:
    # dots and spaces in the top-level name become "_", an unterminated "[" too; text after "]" is dropped
    assert parse_str("a.b=1&c d=2&e[f=3&g[h]i=4") == {"a_b": "1", "c_d": "2", "e_f": "3", "g": {"h": "4"}}


def test_parse_str_keeps_non_sequential_numeric_keys_as_map() -> None:
    assert parse_str("cmd[5]=x&cmd[7]=y") == {"cmd": {"5": "x", "7": "y"}}
    assert parse_str("cmd[0]=x&cmd[1]=y") == {"cmd": ["x", "y"]}
    assert parse_str("filter[%3EID]=0") == {"filter": {">ID": "0"}}


def test_php_json_empty_map_is_list_and_sequential_map_is_list() -> None:
    assert php_json({"result": {}, "result_error": {"0": {"e": 1}, "1": {"e": 2}}}) == \
        '{"result":[],"result_error":[{"e":1},{"e":2}]}'


def test_php_json_escapes_unicode_and_slashes() -> None:
    assert php_json({"COMMENTS": "[B]Сделка[/B]"}) == '{"COMMENTS":"[B]\\u0421\\u0434\\u0435\\u043b\\u043a\\u0430[\\/B]"}'


def test_build_query_matches_php_http_build_query() -> None:
    body = build_query({"event": "ONCRMDEALUPDATE", "data": {"FIELDS": {"ID": 7405}},
                        "auth": {"client_endpoint": "https://x.bitrix24.com/rest/", "t": "a b~"}})
    assert body == ("event=ONCRMDEALUPDATE&data%5BFIELDS%5D%5BID%5D=7405"
                    "&auth%5Bclient_endpoint%5D=https%3A%2F%2Fx.bitrix24.com%2Frest%2F&auth%5Bt%5D=a+b%7E")
