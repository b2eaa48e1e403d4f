"""The live Google Forms connector: the intake source, the rule context of a submission, the
pre-filled links it remembers sending, and the fallback poller."""
from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Any, Callable
from urllib.parse import urlencode

from connectors.google_forms.answers import FormMapping, MappingProblem, convert, load_mapping
from connectors.google_forms.poller import FormsPoller
from connectors.google_forms.settings import FormSettings, FormsSettings
from connectors.google_forms.source import FormsSource
from connectors.google_forms.submission import Answer
from relay.config.errors import ConfigError, ConfigProblem
from relay.inbox import Claimed
from relay.store.schema import Link

if TYPE_CHECKING:
    from relay.runtime import Runtime

SENT = "forms.sent"  # "<form>:<task>" → the pre-filled link sent for the task; data: contact, what the rule remembered


class FormsConnector:
    name = "forms"

    def __init__(self, settings: FormsSettings, runtime: "Runtime") -> None:
        self.settings = settings
        self.runtime = runtime
        self.mappings = {name: self._mapping(name, form) for name, form in settings.forms.items()}
        self.poller = FormsPoller(settings.poll, settings.forms, runtime) if settings.poll else None

    def _mapping(self, form: str, settings: FormSettings) -> FormMapping:
        if not settings.mapping:
            return FormMapping()
        where = f"connectors.forms.forms.{form}.mapping"
        mapping = self.runtime.config.mappings.get(settings.mapping)
        if mapping is None:
            known = ", ".join(sorted(self.runtime.config.mappings)) or "none loaded"
            raise ConfigError([ConfigProblem(self.runtime.config.file, None, where, f"no mapping named {settings.mapping!r} (known: {known})")])
        try:
            return load_mapping(mapping.values, f"mappings.{settings.mapping}")
        except MappingProblem as exc:
            raise ConfigError([ConfigProblem(mapping.file, None, f"mappings.{settings.mapping}.values", str(exc))]) from None

    def sources(self) -> dict[str, FormsSource]:
        return {"forms": FormsSource(self.settings)}

    def form(self, name: str) -> FormSettings:
        if name not in self.settings.forms:
            known = ", ".join(sorted(self.settings.forms)) or "none"
            raise KeyError(f"no form named {name!r} under connectors.forms.forms (configured: {known})")
        return self.settings.forms[name]

    # --- links ---------------------------------------------------------------------------------
    def link(self, name: str, task: str, contact: str = "", extra: dict[str, str] | None = None) -> str:
        """The form's address with the task and contact ids (and `extra` entries) pre-filled."""
        form = self.form(name)
        if not form.url:
            raise ValueError(f"connectors.forms.forms.{name}.url is not set: no address to pre-fill")
        if not form.task_entry:
            raise ValueError(f"connectors.forms.forms.{name}.task_entry is not set: the link could not carry the task id")
        params = [("usp", "pp_url"), (f"entry.{form.task_entry}", task)]
        if form.contact_entry and contact:
            params.append((f"entry.{form.contact_entry}", contact))
        params += [(f"entry.{k.removeprefix('entry.')}", v) for k, v in (extra or {}).items()]
        return f"{form.url}?{urlencode(params)}"

    def remember_sent(self, name: str, task: str, url: str, data: dict[str, Any]) -> None:
        self.runtime.links.set(SENT, f"{name}:{task}", url, data)

    def sent(self, name: str, task: str) -> dict[str, Any] | None:
        with self.runtime.store.session() as s:
            row = s.get(Link, (SENT, f"{name}:{task}"))
            return {"url": row.value, **(row.data or {})} if row is not None else None

    # --- context for rules ---------------------------------------------------------------------
    def prepare(self, event: Claimed) -> dict[str, Any] | None:
        payload = event.payload
        name = str(payload.get("form", ""))
        if name not in self.settings.forms:
            self.runtime.tracer.add(event.id, "form", f"form {name!r} is no longer configured; submission ignored")
            return None
        form = self.settings.forms[name]
        answers = [Answer(a["question_id"], a["title"], a["type"], list(a["values"])) for a in payload.get("answers") or []]
        submitted = _day(str(payload.get("submitted_at", "")))
        converted = convert(answers, self.mappings[name], submitted,
                            ignore={form.task_question, form.contact_question, *self._id_questions(form, answers, payload)})
        for problem in converted.problems:
            self.runtime.tracer.add(event.id, "form.convert", problem)
        if converted.unmapped:
            self.runtime.tracer.add(event.id, "form.unmapped", "answers no mapping entry names (not written): " + ", ".join(
                f"«{t}»" for t in converted.unmapped), questions=converted.unmapped)
        task, contact = str(payload.get("task") or ""), str(payload.get("contact") or "")
        sent = self.sent(name, task) if task else None
        reason = _unmatched(task, contact, sent, reviewed=bool(payload.get("review_id")))
        context = {
            "name": name, "id": payload.get("form_id", ""), "response_id": payload.get("response_id", ""),
            "submitted_at": payload.get("submitted_at", ""), "email": payload.get("respondent_email", ""),
            "via": payload.get("via", "push"), "task": task, "contact": contact or str((sent or {}).get("contact") or ""),
            "sent": sent or {}, "matched": reason == "", "unmatched_reason": reason,
            "answers": {a.title or a.question_id: ", ".join(a.values) for a in answers},
            **converted.as_dict(),
        }
        return {"form": context}

    @staticmethod
    def _id_questions(form: FormSettings, answers: list[Answer], payload: dict[str, Any]) -> set[str]:
        """Questions whose answer is a pre-filled id (task, contact): technical, never "unmapped"."""
        prefilled = payload.get("prefilled") or {}
        ids = {str(prefilled.get(e, "")).strip() for e in (form.task_entry, form.contact_entry) if e} - {""}
        return {a.question_id for a in answers if len(a.values) == 1 and a.values[0].strip() in ids}

    def periodic_jobs(self) -> list[tuple[float, Callable[[], object], str]]:
        if self.poller is None or not self.settings.poll or not self.settings.poll.interval_seconds:
            return []
        return [(self.settings.poll.interval_seconds, self.poller.poll, "forms-responses-poll")]

    def close(self) -> None:
        if self.poller is not None:
            self.poller.close()


def _unmatched(task: str, contact: str, sent: dict[str, Any] | None, reviewed: bool = False) -> str:
    """Why a submission cannot be applied to a task on its own ("" when it can). After an admin's
    decision (`reviewed`) the task needs no sent link: the admin vouched for it."""
    known_contact = contact or str((sent or {}).get("contact") or "")
    if not task:
        return "the submission carries no task id (the pre-filled entry is empty or was changed)"
    if sent is None and not reviewed:
        return f"no brief link was sent for task {task}: the id may have been changed in the form"
    if contact and sent and sent.get("contact") and str(sent["contact"]) != contact and not reviewed:
        return f"the contact id {contact} is not the one the link for task {task} was sent with ({sent['contact']})"
    if not known_contact:
        return f"no contact id: neither the submission nor a link sent for task {task} names one" + (
            " (resolve the review with task=N contact=M)" if reviewed else "")
    return ""


def _day(text: str) -> date:
    try:
        return datetime.fromisoformat(text).date()
    except ValueError:
        return date.today()
