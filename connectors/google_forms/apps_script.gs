/**
 * CRM Relay: push every submission of this form to the relay, signed (docs/forms.md).
 *
 * Paste this file into the form's script editor (form → ⋮ → Apps Script), then set two script
 * properties (Project Settings → Script properties):
 *   RELAY_URL     https://relay.example.com/hooks/forms/brief   (the form's name in connectors.forms.forms)
 *   RELAY_SECRET  the same string as connectors.forms.forms.<name>.secret (e.g. `openssl rand -hex 32`)
 * and run installTrigger() once from the editor (it asks for the permissions the trigger needs).
 * A simple onFormSubmit trigger may not call UrlFetchApp; the installable one made here may.
 * sendLatest() pushes the newest response again: a quick check of URL and secret.
 */

function installTrigger() {
  var form = FormApp.getActiveForm();
  ScriptApp.getProjectTriggers().forEach(function (trigger) {
    if (trigger.getHandlerFunction() === 'onFormSubmit') ScriptApp.deleteTrigger(trigger);
  });
  ScriptApp.newTrigger('onFormSubmit').forForm(form).onFormSubmit().create();
}

function onFormSubmit(e) {
  push_(e.source, e.response);
}

function sendLatest() {
  var form = FormApp.getActiveForm();
  var responses = form.getResponses();
  if (!responses.length) throw new Error('The form has no responses yet');
  var code = push_(form, responses[responses.length - 1]);
  Logger.log('the relay answered ' + code);
}

function push_(form, response) {
  var props = PropertiesService.getScriptProperties();
  var url = props.getProperty('RELAY_URL');
  var secret = props.getProperty('RELAY_SECRET');
  if (!url || !secret) throw new Error('Set the script properties RELAY_URL and RELAY_SECRET');
  var body = {
    formId: form.getId(),
    responseId: response.getId(),
    submittedAt: response.getTimestamp().toISOString(),
    answers: response.getItemResponses().map(answer_),
    prefilled: prefilledEntries_(response.toPrefilledUrl())
  };
  var email = response.getRespondentEmail();
  if (email) body.respondentEmail = email;
  var payload = asciiJson_(body);
  var stamp = String(Math.floor(Date.now() / 1000));
  var signature = hex_(Utilities.computeHmacSha256Signature(stamp + '.' + payload, secret));
  var reply = UrlFetchApp.fetch(url, {
    method: 'post',
    contentType: 'application/json',
    payload: payload,
    headers: {'X-Relay-Timestamp': stamp, 'X-Relay-Signature': signature},
    muteHttpExceptions: true
  });
  var code = reply.getResponseCode();
  if (code !== 200) {
    // Shown under Executions. With polling configured, the relay still finds the submission later.
    console.error('the relay answered ' + code + ': ' + reply.getContentText().slice(0, 500));
  }
  return code;
}

function answer_(itemResponse) {
  var item = itemResponse.getItem();
  var value = itemResponse.getResponse();
  var answer = {questionId: String(item.getId()), title: item.getTitle(), type: String(item.getType())};
  if (Array.isArray(value)) {
    // Checkboxes: one string per ticked option; grids: one per row (a row of a checkbox grid is itself a list).
    answer.values = value.map(function (v) {
      if (v === null || v === undefined) return '';  // a grid row left empty
      return Array.isArray(v) ? v.join(', ') : String(v);
    });
  } else {
    answer.value = value === null || value === undefined ? null : String(value);
  }
  return answer;
}

/** The response's own pre-filled link split into {"entry.<id>": value}: how the task and contact ids come back. */
function prefilledEntries_(link) {
  var out = {};
  var query = link.split('?')[1] || '';
  query.split('&').forEach(function (pair) {
    var eq = pair.indexOf('=');
    if (eq < 0) return;
    var key = decodeURIComponent(pair.slice(0, eq));
    var value = decodeURIComponent(pair.slice(eq + 1).replace(/\+/g, ' '));
    if (key.indexOf('entry.') !== 0) return;
    out[key] = out[key] === undefined ? value : [].concat(out[key], value);
  });
  return out;
}

/** JSON with every non-ASCII character escaped: the bytes signed are the bytes sent, whatever charset is used. */
function asciiJson_(value) {
  return JSON.stringify(value).replace(/[\u007f-\uffff]/g, function (c) {
    return '\\u' + ('0000' + c.charCodeAt(0).toString(16)).slice(-4);
  });
}

function hex_(bytes) {
  return bytes.map(function (b) { return ('0' + (b & 0xff).toString(16)).slice(-2); }).join('');
}
