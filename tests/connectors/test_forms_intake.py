"""/hooks/forms/<form> over real HTTP: signed submissions stored once; everything else refused with a
4xx that says why, and nothing stored."""
from __future__ import annotations

import json
import time

from tests.connectors.test_forms_helpers import FORM_SECRET, FormsRelay, forms_relay, sign, submission

__all__ = ["forms_relay"]


def test_a_signed_submission_is_one_event_however_often_it_arrives(forms_relay: FormsRelay) -> None:
    payload = submission(**{"Телефон для связи": "8 (916) 123-45-67", "Какие услуги нужны?": ["Сайт", "SEO"]})
    first = forms_relay.push(payload)
    assert first.status_code == 200 and first.json() == {"accepted": 1, "duplicates": 0}
    # Apps Script re-running, the admin's sendLatest(), a re-signed copy later: the same response
    again = forms_relay.push(payload)
    assert again.json() == {"accepted": 0, "duplicates": 1}
    [event] = forms_relay.events()
    assert (event.kind, event.entity_key, event.idem_key) == ("form.submitted", "planfix:task:1001", "brief:ACYDBNresp-1")
    assert event.payload["task"] == "1001" and event.payload["contact"] == "11"
    services = next(a for a in event.payload["answers"] if a["title"] == "Какие услуги нужны?")
    assert services["values"] == ["Сайт", "SEO"]


def test_a_submission_without_a_task_is_its_own_entity(forms_relay: FormsRelay) -> None:
    payload = submission("ACYDBNresp-2", task="", contact="")
    payload["answers"] = [a for a in payload["answers"] if a["value"]]
    assert forms_relay.push(payload).status_code == 200
    [event] = forms_relay.events()
    assert event.entity_key == "forms:brief:ACYDBNresp-2" and event.payload["task"] == ""


def test_the_task_id_is_also_found_by_question_title(forms_relay: FormsRelay) -> None:
    payload = submission("ACYDBNresp-3", task="#1005")
    payload["prefilled"] = {}                       # e.g. a form whose link was typed by hand
    assert forms_relay.push(payload).status_code == 200
    assert forms_relay.events()[0].entity_key == "planfix:task:1005"


def _refused(relay: FormsRelay, status: int, body: bytes, headers: dict[str, str], *words: str, form: str = "brief") -> None:
    answer = relay.post(body, headers, form)
    assert answer.status_code == status, answer.text
    reason = answer.json()["reason"]
    for word in words:
        assert word in reason, reason
    assert FORM_SECRET not in answer.text
    assert relay.stored() == 0


def test_unsigned_badly_signed_and_stale_submissions_are_refused(forms_relay: FormsRelay) -> None:
    body = json.dumps(submission()).encode()
    _refused(forms_relay, 401, body, {"Content-Type": "application/json"}, "missing X-Relay-Timestamp")
    no_signature = {k: v for k, v in sign(body).items() if k != "X-Relay-Signature"}
    _refused(forms_relay, 401, body, no_signature, "missing X-Relay-Signature")
    _refused(forms_relay, 401, body, sign(body, secret="another-secret-of-some-length"), "does not match")
    _refused(forms_relay, 401, body + b" ", sign(body), "does not match")               # changed on the way
    _refused(forms_relay, 401, body, {**sign(body), "X-Relay-Timestamp": "yesterday"}, "unix seconds")
    _refused(forms_relay, 401, body, sign(body, stamp=int(time.time()) - 600), "stale", "allowed 300")
    _refused(forms_relay, 401, body, sign(body, stamp=int(time.time()) + 600), "stale")
    assert forms_relay.push(submission()).status_code == 200                               # the same, well signed


MALFORMED = [
    (b"{not json", 400, ["not valid JSON"]),
    (b"[1, 2]", 400, ["JSON object"]),
    (json.dumps({"formId": "x"}).encode(), 422, ["responseId: Field required", "answers: Field required"]),
    (json.dumps({**submission(), "answers": [{"title": "Имя", "value": {"nested": 1}}]}).encode(), 422, ["answers[0].value"]),
    (json.dumps({**submission(), "submittedAt": "вчера"}).encode(), 422, ["submittedAt"]),
    (json.dumps({**submission(), "formId": "1FAIpQLSanotherForm"}).encode(), 422, ["formId", "not the form configured"]),
]


def test_malformed_submissions_say_what_is_wrong(forms_relay: FormsRelay) -> None:
    for body, status, words in MALFORMED:
        _refused(forms_relay, status, body, sign(body), *words)


def test_oversized_and_unknown_forms_are_refused(forms_relay: FormsRelay) -> None:
    payload = submission(**{"Что вы ожидаете от проекта?": "very " * 60_000})
    body = json.dumps(payload).encode()
    _refused(forms_relay, 413, body, sign(body), "accepts up to 262144")
    small = json.dumps(submission()).encode()
    _refused(forms_relay, 404, small, sign(small), "no form 'other'", "brief", form="other")
