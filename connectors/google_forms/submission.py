"""One form submission in one shape, whichever way it came: the Apps Script push or the Forms API.

The push body is our own contract (connectors/google_forms/apps_script.gs writes it):

    {"formId": "1AbC…", "responseId": "ACYDBN…", "submittedAt": "2025-02-03T07:15:00.000Z",
     "respondentEmail": "a@b.example",                       # only if the form collects e-mails
     "answers": [{"questionId": "5503e1f0", "title": "Телефон", "type": "TEXT", "value": "+7 916 …"},
                 {"questionId": "0b12c0de", "title": "Услуги", "type": "CHECKBOX", "values": ["SEO", "Сайт"]}],
     "prefilled": {"entry.1111111": "1001", "entry.2222222": "11"}}

`prefilled` is the submission's own pre-filled link (FormResponse.toPrefilledUrl()) split into entry
ids and values: that is how the task and contact ids put into the link come back.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

Scalar = str | int | float | bool | None
_RFC3339 = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d(?::\d\d)?)(\.\d+)?(Z|z|[+-]\d\d:\d\d)?$")


class PushedAnswer(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    question_id: str = Field("", alias="questionId", max_length=128)
    title: str = Field("", max_length=2000)
    type: str = Field("", max_length=64)
    value: Scalar = None
    values: list[Scalar | list[Scalar]] | None = Field(None, max_length=1000)

    @field_validator("question_id", mode="before")
    @classmethod
    def _id_text(cls, value: Any) -> Any:
        return str(value) if isinstance(value, int) else value


class PushedSubmission(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    form_id: str = Field(alias="formId", min_length=1, max_length=256)
    response_id: str = Field(alias="responseId", min_length=1, max_length=256)
    submitted_at: datetime = Field(alias="submittedAt")
    respondent_email: str | None = Field(None, alias="respondentEmail", max_length=320)
    answers: list[PushedAnswer] = Field(max_length=1000)
    prefilled: dict[str, Scalar | list[Scalar]] = Field(default_factory=dict)


@dataclass(frozen=True)
class Answer:
    question_id: str
    title: str
    type: str
    values: list[str]

    def as_dict(self) -> dict[str, Any]:
        return {"question_id": self.question_id, "title": self.title, "type": self.type, "values": self.values}


@dataclass(frozen=True)
class Submission:
    form: str                       # the configured name (/hooks/forms/<form>)
    form_id: str
    response_id: str
    submitted_at: str               # ISO 8601, UTC
    respondent_email: str
    answers: list[Answer]
    prefilled: dict[str, str] = field(default_factory=dict)  # entry number → first value
    via: str = "push"

    def as_payload(self) -> dict[str, Any]:
        return {"form": self.form, "form_id": self.form_id, "response_id": self.response_id, "submitted_at": self.submitted_at,
                "respondent_email": self.respondent_email, "answers": [a.as_dict() for a in self.answers],
                "prefilled": self.prefilled, "via": self.via}


def _text(value: Scalar) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value).strip()


def _flat(values: list[Scalar | list[Scalar]]) -> list[str]:
    out: list[str] = []
    for v in values:
        for item in (v if isinstance(v, list) else [v]):
            text = _text(item)
            if text:
                out.append(text)
    return out


def _entry(key: str) -> str:
    return key.strip().removeprefix("entry.")


def problems_of(exc: ValidationError) -> str:
    """`answers[2].value: Input should be a valid string; submittedAt: Field required` (what and where)."""
    parts = []
    for err in exc.errors(include_url=False)[:10]:
        where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in err["loc"]).lstrip(".")
        parts.append(f"{where or 'body'}: {err['msg']}")
    return "; ".join(parts)


def from_push(form: str, data: dict[str, Any]) -> Submission:
    """Raises ValidationError (the intake answers 422 with `problems_of`)."""
    pushed = PushedSubmission.model_validate(data)
    answers = [Answer(a.question_id, a.title.strip(), a.type.upper(),
                      _flat(a.values) if a.values is not None else _flat([a.value])) for a in pushed.answers]
    prefilled = {}
    for key, value in pushed.prefilled.items():
        values = _flat(value if isinstance(value, list) else [value])
        if values:
            prefilled[_entry(key)] = values[0]
    moment = pushed.submitted_at if pushed.submitted_at.tzinfo else pushed.submitted_at.replace(tzinfo=timezone.utc)
    return Submission(form, pushed.form_id, pushed.response_id, moment.astimezone(timezone.utc).isoformat(),
                      (pushed.respondent_email or "").strip(), answers, prefilled, "push")


def _kind(question: dict[str, Any]) -> str:
    """The Apps Script item type for a Forms API question, so both routes name types alike."""
    if "choiceQuestion" in question:
        return {"RADIO": "MULTIPLE_CHOICE", "CHECKBOX": "CHECKBOX", "DROP_DOWN": "LIST"}.get(question["choiceQuestion"].get("type", ""), "MULTIPLE_CHOICE")
    if "textQuestion" in question:
        return "PARAGRAPH_TEXT" if question["textQuestion"].get("paragraph") else "TEXT"
    for key, kind in (("dateQuestion", "DATE"), ("timeQuestion", "TIME"), ("scaleQuestion", "SCALE"), ("fileUploadQuestion", "FILE_UPLOAD"),
                      ("ratingQuestion", "RATING")):
        if key in question:
            return "DATETIME" if kind == "DATE" and question[key].get("includeTime") else kind
    return ""


def questions_of(form: dict[str, Any]) -> dict[str, tuple[str, str]]:
    """questionId → (title, type) from forms.get."""
    out: dict[str, tuple[str, str]] = {}
    for item in form.get("items") or []:
        question = (item.get("questionItem") or {}).get("question")
        if isinstance(question, dict) and question.get("questionId"):
            out[str(question["questionId"])] = (str(item.get("title") or "").strip(), _kind(question))
    return out


def entry_of(question_id: str) -> str:
    """The pre-filled entry number of a Forms API questionId: the same number, written in hex there.
    (Observed, not documented by Google; a question id that is not hex has no entry.)"""
    try:
        return str(int(question_id, 16))
    except ValueError:
        return ""


def from_api(form: str, response: dict[str, Any], questions: dict[str, tuple[str, str]]) -> Submission:
    """A forms.responses.list item → Submission; raises KeyError/ValueError on a malformed item."""
    answers: list[Answer] = []
    prefilled: dict[str, str] = {}
    for qid, answer in (response.get("answers") or {}).items():
        title, kind = questions.get(str(qid), ("", ""))
        if "fileUploadAnswers" in answer:
            values = [str(f.get("fileName") or f.get("fileId") or "") for f in answer["fileUploadAnswers"].get("answers") or []]
        else:
            values = [str(a.get("value", "")).strip() for a in (answer.get("textAnswers") or {}).get("answers") or []]
        values = [v for v in values if v]
        answers.append(Answer(str(qid), title, kind, values))
        entry = entry_of(str(qid))
        if entry and values:
            prefilled[entry] = values[0]
    moment = rfc3339(str(response.get("lastSubmittedTime") or response["createTime"]))
    return Submission(form, str(response.get("formId") or ""), str(response["responseId"]), moment.isoformat(),
                      str(response.get("respondentEmail") or ""), answers, prefilled, "poll")


def rfc3339(text: str) -> datetime:
    """RFC 3339 with up to nine fractional digits (Python keeps six), in UTC. Raises ValueError."""
    m = _RFC3339.match(text.strip())
    if not m:
        raise ValueError(f"not an RFC 3339 time: {text!r}")
    head, frac, zone = m.groups()
    moment = datetime.fromisoformat(head + (frac[:7] if frac else "") + ("+00:00" if zone in (None, "Z", "z") else zone))
    return moment.astimezone(timezone.utc)
