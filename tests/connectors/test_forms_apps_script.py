"""The shipped apps_script.gs itself, run under Node with stand-ins for the Apps Script services it
calls (FormApp objects, PropertiesService, Utilities' HMAC, UrlFetchApp): what it sends is posted
to the relay, which must take it — signature, contract, Cyrillic and checkbox answers included."""
from __future__ import annotations

import json
import os
import shutil
import subprocess

import pytest

from tests.connectors.test_forms_helpers import FORM_ID, FORM_SECRET, ROOT, FormsRelay, forms_relay

__all__ = ["forms_relay"]

HARNESS = r"""
const fs = require('fs'), crypto = require('crypto');
const sent = [];
global.PropertiesService = {getScriptProperties: () => ({getProperty: k => ({RELAY_URL: 'http://relay/hooks/forms/brief', RELAY_SECRET: process.env.SECRET})[k]})};
// Apps Script returns Java bytes: signed, -128..127
global.Utilities = {computeHmacSha256Signature: (value, key) =>
  Array.from(crypto.createHmac('sha256', key).update(value, 'utf8').digest()).map(b => b > 127 ? b - 256 : b)};
global.UrlFetchApp = {fetch: (url, options) => { sent.push({url, options}); return {getResponseCode: () => 200, getContentText: () => ''}; }};
eval(fs.readFileSync(process.env.SCRIPT, 'utf8'));
const item = (id, title, type, value) => ({getItem: () => ({getId: () => id, getTitle: () => title, getType: () => type}), getResponse: () => value});
const response = {
  getId: () => 'ACYDBN-apps-script-1', getTimestamp: () => new Date('2025-10-31T09:15:00Z'), getRespondentEmail: () => '',
  getItemResponses: () => [item(1001, 'Номер задачи (не меняйте)', 'TEXT', '1001'), item(1003, 'Телефон для связи', 'TEXT', '8 916 765-43-21'),
                           item(1011, 'Какие услуги нужны?', 'CHECKBOX', ['Сайт', 'SEO']),
                           item(1020, 'Оценки', 'CHECKBOX_GRID', [['1', '2'], null])],
  toPrefilledUrl: () => 'https://docs.google.com/forms/d/e/X/viewform?usp=pp_url&entry.1000000001=1001&entry.1000000002=11&entry.77=%D0%A1%D0%B0%D0%B9%D1%82',
};
onFormSubmit({source: {getId: () => process.env.FORM_ID}, response});
process.stdout.write(JSON.stringify(sent));
"""


@pytest.fixture(scope="module")
def node() -> str:
    path = shutil.which("node")
    if path is None:
        pytest.skip("node is not installed: the Apps Script file is checked where it is")
    return path


def test_what_the_apps_script_sends_is_taken_by_the_relay(node: str, forms_relay: FormsRelay) -> None:
    run = subprocess.run([node, "-e", HARNESS], capture_output=True, text=True, timeout=30, env={
        **os.environ, "SCRIPT": str(ROOT / "connectors" / "google_forms" / "apps_script.gs"), "SECRET": FORM_SECRET, "FORM_ID": FORM_ID})
    assert run.returncode == 0, run.stderr
    [request] = json.loads(run.stdout)
    options = request["options"]
    assert request["url"] == "http://relay/hooks/forms/brief" and options["method"] == "post" and options["muteHttpExceptions"]
    body = options["payload"].encode("ascii")                 # every non-ASCII character escaped
    answer = forms_relay.post(body, {"Content-Type": options["contentType"], **options["headers"]})
    assert answer.status_code == 200 and answer.json() == {"accepted": 1, "duplicates": 0}, answer.text
    [event] = forms_relay.events()
    assert (event.entity_key, event.payload["task"], event.payload["contact"]) == ("planfix:task:1001", "1001", "11")
    answers = {a["title"]: a for a in event.payload["answers"]}
    assert answers["Телефон для связи"] == {"question_id": "1003", "title": "Телефон для связи", "type": "TEXT", "values": ["8 916 765-43-21"]}
    assert answers["Какие услуги нужны?"]["values"] == ["Сайт", "SEO"] and answers["Оценки"]["values"] == ["1, 2"]
    assert event.payload["prefilled"]["77"] == "Сайт"
