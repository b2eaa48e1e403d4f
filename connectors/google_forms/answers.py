"""Answers → field values, as a mapping's `values.questions` says (mappings/brief.yaml).

Each entry names a question (its title or id), the target field id and how to read the answer.
Values come out plain and checked — text, a number, an ISO date, a phone as +7…, an e-mail, a list
of ticked options — and the writing action shapes them for the target field's type. An answer
that cannot be read is a problem (a line in the event's trace) and its field is skipped; it never
fails the submission.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Callable, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from connectors.google_forms.submission import Answer

Kind = Literal["text", "number", "choice", "checkboxes", "date", "datetime", "phone", "email", "boolean"]
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]{2,}$")
_TRUE, _FALSE = {"да", "yes", "true", "1", "on", "+", "y"}, {"нет", "no", "false", "0", "off", "-", "n"}


class QuestionSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    question: str = Field(min_length=1, description="the question's title (as in the form) or its id")
    field: int | str = Field(description="target field: its id (or name) in the system the answers go to")
    type: Kind = "text"
    options: dict[str, Any] = Field(default_factory=dict, description="choice/checkboxes: answer → value written; an answer not listed is a problem")
    join: str | None = Field(None, description="checkboxes: join the ticked options into one text with this separator")


class FormMapping(BaseModel):
    model_config = ConfigDict(extra="allow")

    questions: list[QuestionSpec] = Field(default_factory=list)
    set: dict[int | str, Any] = Field(default_factory=dict, description="fields written with a fixed value on every submission")


class MappingProblem(ValueError):
    """The mapping's `values` cannot be read; the message says where."""


def load_mapping(values: dict[str, Any], where: str) -> FormMapping:
    try:
        return FormMapping.model_validate(values)
    except ValidationError as exc:
        parts = []
        for err in exc.errors(include_url=False)[:10]:
            path = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in err["loc"])
            parts.append(f"{where}.values{path}: {err['msg']}")
        raise MappingProblem("; ".join(parts)) from None


def _norm(text: str) -> str:
    return " ".join(text.split()).casefold()


@dataclass
class Converted:
    values: dict[str, Any] = field(default_factory=dict)         # field id → value, e.g. "203" → "+79161234567"
    problems: list[str] = field(default_factory=list)
    unmapped: list[str] = field(default_factory=list)             # titles of answered questions no entry names

    def as_dict(self) -> dict[str, Any]:
        return {"values": self.values, "problems": self.problems, "unmapped": self.unmapped}


def convert(answers: list[Answer], mapping: FormMapping, submitted: date, ignore: set[str] = frozenset()) -> Converted:  # type: ignore[assignment]
    """`ignore`: question ids/titles that carry ids (task, contact), not data: never "unmapped"."""
    out = Converted()
    used: set[int] = set()
    for spec in mapping.questions:
        wanted = _norm(spec.question)
        found = [i for i, a in enumerate(answers) if wanted in (a.question_id.casefold(), _norm(a.title))]
        if not found:
            continue
        used.update(found)
        answer = answers[found[0]]
        if not answer.values:
            continue
        try:
            value = CONVERTERS[spec.type](answer.values, spec, submitted)
        except ValueError as exc:
            shown = "; ".join(answer.values)[:120]
            out.problems.append(f"«{answer.title or answer.question_id}» ({shown!r}) → field {spec.field}: {exc}; not written")
            continue
        out.values[str(spec.field)] = value
    for field_id, value in mapping.set.items():
        out.values[str(field_id)] = value
    skip = {_norm(s) for s in ignore if s}
    out.unmapped = [a.title or a.question_id for i, a in enumerate(answers)
                    if i not in used and a.values and not ({_norm(a.title), a.question_id.casefold()} & skip)]
    return out


def _one(values: list[str]) -> str:
    if len(values) > 1:
        raise ValueError(f"expected one answer, got {len(values)}")
    return values[0]


def _text(values: list[str], spec: QuestionSpec, _: date) -> str:
    return (spec.join or ", ").join(values)


def _number(values: list[str], spec: QuestionSpec, _: date) -> int | float:
    raw = _one(values)
    cleaned = re.sub(r"[\s\u00a0\u202f₽$€]|руб\.?|р\.", "", raw, flags=re.I).replace(",", ".")
    try:
        number = float(cleaned)
    except ValueError:
        raise ValueError("not a number") from None
    return int(number) if number.is_integer() else number


def _option(value: str, spec: QuestionSpec) -> Any:
    if not spec.options:
        return value
    for answer, written in spec.options.items():
        if _norm(answer) == _norm(value):
            return written
    raise ValueError(f"{value!r} is not one of the options listed in the mapping ({', '.join(spec.options)})")


def _choice(values: list[str], spec: QuestionSpec, _: date) -> Any:
    return _option(_one(values), spec)


def _checkboxes(values: list[str], spec: QuestionSpec, _: date) -> Any:
    picked = [_option(v, spec) for v in values]
    return spec.join.join(str(p) for p in picked) if spec.join is not None else picked


def _day(text: str, submitted: date) -> date:
    text = text.strip()
    for pattern in ("%Y-%m-%d", "%d.%m.%Y", "%d-%m-%Y", "%d/%m/%Y"):
        try:
            return datetime.strptime(text, pattern).date()
        except ValueError:
            pass
    m = re.fullmatch(r"(\d{1,2})-(\d{1,2})", text)  # the form does not ask for the year: the submission's year
    if m:
        return date(submitted.year, int(m.group(1)), int(m.group(2)))
    raise ValueError("not a date (expected YYYY-MM-DD or DD.MM.YYYY)")


def _date(values: list[str], spec: QuestionSpec, submitted: date) -> str:
    return _day(_one(values)[:10], submitted).isoformat()


def _datetime(values: list[str], spec: QuestionSpec, submitted: date) -> str:
    raw = _one(values).strip().replace("T", " ")
    day, _, clock = raw.partition(" ")
    if not re.fullmatch(r"\d{1,2}:\d\d(:\d\d)?", clock):
        raise ValueError("not a date and time (expected YYYY-MM-DD HH:MM)")
    hours, minutes = clock.split(":")[:2]
    if int(hours) > 23 or int(minutes) > 59:
        raise ValueError(f"{clock!r} is not a time of day")
    return f"{_day(day, submitted).isoformat()}T{int(hours):02d}:{minutes}"


def normalise_phone(text: str) -> str:
    """+7XXXXXXXXXX for Russian numbers however written (8 916…, 916…, +7 (916) …); +<digits> otherwise."""
    digits = re.sub(r"\D", "", text)
    if text.strip().startswith("+") and 10 <= len(digits) <= 15:
        return "+" + digits
    if len(digits) == 11 and digits[0] in "78":
        return "+7" + digits[1:]
    if len(digits) == 10 and digits[0] == "9":
        return "+7" + digits
    raise ValueError("not a phone number (expected e.g. +7 916 123-45-67 or 8 916 123 45 67)")


def _phone(values: list[str], spec: QuestionSpec, _: date) -> str:
    return normalise_phone(_one(values))


def _email(values: list[str], spec: QuestionSpec, _: date) -> str:
    value = _one(values).strip()
    if not _EMAIL.match(value):
        raise ValueError("not an e-mail address")
    local, _, domain = value.rpartition("@")
    return f"{local}@{domain.lower()}"


def _boolean(values: list[str], spec: QuestionSpec, _: date) -> bool:
    value = _norm(_one(values))
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    if spec.options:
        return bool(_option(value, spec))
    raise ValueError("not yes/no")


CONVERTERS: dict[str, Callable[[list[str], QuestionSpec, date], Any]] = {
    "text": _text, "number": _number, "choice": _choice, "checkboxes": _checkboxes, "date": _date,
    "datetime": _datetime, "phone": _phone, "email": _email, "boolean": _boolean,
}
