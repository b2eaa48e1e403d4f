"""Answer conversion through a mapping: each type, the problems it reports instead of failing, the
answers no entry names, and a mapping that cannot be read stopping the relay with its place."""
from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Callable

import pytest

from connectors.google_forms.answers import convert, load_mapping, normalise_phone
from connectors.google_forms.submission import Answer
from relay.config.errors import ConfigError
from tests.connectors.test_forms_helpers import forms_section
from tests.support.relay import base_config, make_runtime

MAPPING = load_mapping({"questions": [
    {"question": "Имя", "field": 1},
    {"question": "Бюджет", "field": 2, "type": "number"},
    {"question": "Источник", "field": 3, "type": "choice", "options": {"Из Telegram": "Telegram", "С сайта": "Сайт"}},
    {"question": "Услуги", "field": 4, "type": "checkboxes"},
    {"question": "Услуги одной строкой", "field": 5, "type": "checkboxes", "join": "; "},
    {"question": "Срок", "field": 6, "type": "date"},
    {"question": "Созвон", "field": 7, "type": "datetime"},
    {"question": "Телефон", "field": 8, "type": "phone"},
    {"question": "Почта", "field": 9, "type": "email"},
    {"question": "NDA нужно", "field": 10, "type": "boolean"},
    {"question": "5503e1f0", "field": 11},                          # by question id
], "set": {12: True}}, "mappings.test")


def _answers(**given: object) -> list[Answer]:
    return [Answer(f"q{n}", title, "", list(v) if isinstance(v, list) else [str(v)]) for n, (title, v) in enumerate(given.items())]


def test_every_type_is_read_into_a_plain_checked_value() -> None:
    answers = _answers(**{"Имя": "Алиса", "Бюджет": "150 000,50 ₽", "Источник": "из telegram", "Услуги": ["Сайт", "SEO"],
                          "Услуги одной строкой": ["Сайт", "SEO"], "Срок": "10.03.2026", "Созвон": "2026-03-02 9:30",
                          "Телефон": "+7 (916) 123-45-67", "Почта": "Alice@Romashka.EXAMPLE", "NDA нужно": "Да"})
    answers.append(Answer("5503e1f0", "Как к вам обращаться?", "TEXT", ["на ты"]))
    out = convert(answers, MAPPING, date(2026, 2, 1))
    assert out.values == {"1": "Алиса", "2": 150000.5, "3": "Telegram", "4": ["Сайт", "SEO"], "5": "Сайт; SEO", "6": "2026-03-10",
                          "7": "2026-03-02T09:30", "8": "+79161234567", "9": "Alice@romashka.example", "10": True, "11": "на ты", "12": True}
    assert out.problems == [] and out.unmapped == []


def test_an_unreadable_answer_is_a_problem_and_the_rest_is_written() -> None:
    answers = _answers(**{"Имя": "Алиса", "Бюджет": "много", "Источник": "Из газеты", "Срок": "к лету", "Телефон": "12-34",
                          "Почта": "alice at romashka", "NDA нужно": "может быть", "Пожелания": "побыстрее", "Пустой": []})
    out = convert(answers, MAPPING, date(2026, 2, 1))
    assert out.values == {"1": "Алиса", "12": True}
    assert len(out.problems) == 6
    assert "«Бюджет» ('много') → field 2: not a number; not written" in out.problems
    assert any("«Источник»" in p and "is not one of the options listed in the mapping (Из Telegram, С сайта)" in p for p in out.problems)
    assert any("«Почта»" in p and "not an e-mail address" in p for p in out.problems)
    assert out.unmapped == ["Пожелания"]                            # unanswered questions are not listed


def test_a_date_without_year_takes_the_submission_year() -> None:
    assert convert(_answers(**{"Срок": "03-10"}), MAPPING, date(2026, 2, 1)).values["6"] == "2026-03-10"


@pytest.mark.parametrize("given, expected", [("89161234567", "+79161234567"), ("9161234567", "+79161234567"),
                                             ("+44 20 7946 0958", "+442079460958"), ("7 916 123 45 67", "+79161234567")])
def test_phones_are_normalised(given: str, expected: str) -> None:
    assert normalise_phone(given) == expected


def test_a_mapping_that_cannot_be_read_stops_the_relay_with_its_place(db_url: str, write_config: Callable[..., Path]) -> None:
    bad = "mappings:\n  brief:\n    values:\n      questions:\n        - {question: Телефон, field: 203, type: phone-number}\n"
    config = write_config(base_config(db_url, "connectors:\n" + forms_section() + "mappings: [mappings/*.yaml]\n"), **{"mappings__brief.yaml": bad})
    with pytest.raises(ConfigError) as caught:
        make_runtime(config)
    text = str(caught.value)
    assert "mappings.brief.values.questions[0].type" in text and "'text', 'number'" in text
    missing = write_config(base_config(db_url, "connectors:\n" + forms_section().replace("mapping: brief", "mapping: nope")))
    with pytest.raises(ConfigError, match="connectors.forms.forms.brief.mapping: no mapping named 'nope'"):
        make_runtime(missing)
