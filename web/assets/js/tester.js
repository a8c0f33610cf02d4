// The testing tool: send any event type, with its sample or an edited
// payload, to one webhook now, and show what the receiver answered.

import { h, replace, errorBox, busy, sentence } from './dom.js';
import { gql } from './gql.js';
import { TEST_RESULT, USER_ERRORS } from './queries.js';
import { eventTypes } from './form.js';
import { filterVerdict } from './filter.js';

// resultText summarises a TestResult in words.
export function resultText(r) {
  if (!r) return 'No result.';
  const head = r.statusCode ? `HTTP ${r.statusCode}` : `No response (${r.errorClass || 'error'})`;
  return `${r.succeeded ? 'Succeeded' : 'Failed'}: ${head} in ${r.latencyMs} ms${r.errorMessage ? ` \u2014 ${r.errorMessage}` : ''}`;
}

// testerPanel is the tool for webhook. Test events go only to a verified
// URL, so for an unverified webhook the tool is shown disabled with that
// reason instead of letting a send fail.
export async function testerPanel(webhook) {
  const types = await eventTypes();
  const verified = webhook.verification.status === 'VERIFIED';
  const initial = types.find((t) => webhook.eventTypes.includes(t.name)) || types[0];
  const select = h('select', { id: 'test-type', name: 'type' },
    types.map((t) => h('option', { value: t.name, selected: t === initial }, t.name)));
  const payload = h('textarea', { id: 'test-payload', name: 'payload', spellcheck: 'false', 'aria-describedby': 'test-payload-hint test-payload-error' });
  const payloadErr = h('p', { id: 'test-payload-error', class: 'field-error' });
  const out = h('div', { id: 'test-result', role: 'status', 'aria-live': 'polite' });
  const send = h('button', { type: 'submit', class: 'primary', id: 'test-send', disabled: !verified, 'aria-describedby': verified ? null : 'test-disabled-reason' }, 'Send test event');
  const sample = () => JSON.stringify(types.find((t) => t.name === select.value).sample, null, 2);
  payload.value = sample();
  select.addEventListener('change', () => { payload.value = sample(); payloadErr.textContent = ''; });

  const form = h('form', { class: 'panel', id: 'tester', novalidate: true, 'aria-labelledby': 'tester-title' },
    h('h2', { id: 'tester-title' }, 'Testing tool'),
    h('p', { class: 'muted small' }, 'Sends one event now, signed like a real delivery and recorded in the delivery log as a test. Real deliveries are not affected.'),
    verified ? null : h('p', { class: 'notice', id: 'test-disabled-reason' },
      'Available once the URL is verified: webhookd sends nothing, not even a test, to a URL whose ownership is not proven. Place the verification file and press Verify.'),
    h('fieldset', { class: 'plain', disabled: !verified },
      h('div', { class: 'field' }, h('label', { for: 'test-type' }, 'Event type'), select),
      h('div', { class: 'field' },
        h('label', { for: 'test-payload' }, 'Payload (JSON)'), payload,
        h('p', { id: 'test-payload-hint', class: 'hint' }, 'The type\u2019s sample; edit it freely. It becomes the "data" of the request body.'),
        payloadErr),
      h('div', { class: 'row' }, send, h('button', { type: 'button', onclick: () => { payload.value = sample(); } }, 'Reset to sample'))),
    out);

  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    if (!verified) return;
    let data;
    try {
      data = JSON.parse(payload.value);
      payloadErr.textContent = '';
      payload.removeAttribute('aria-invalid');
    } catch (e) {
      payloadErr.textContent = `This is not valid JSON: ${e.message}`;
      payload.setAttribute('aria-invalid', 'true');
      payload.focus();
      return;
    }
    busy(send, async () => {
      send.textContent = 'Sending…';
      replace(out, h('p', { class: 'notice' }, 'Sending…'));
      try {
        const d = await gql(`mutation($input: TestWebhookInput!) { testWebhook(input: $input) { result { ${TEST_RESULT} } ${USER_ERRORS} } }`,
          { input: { id: webhook.id, type: select.value, payload: data } });
        const p = d.testWebhook;
        if (p.userErrors.length) { replace(out, errorBox(p.userErrors.map((e) => sentence(e.message)).join(' '))); return; }
        replace(out, resultView(p.result));
      } catch (e) {
        replace(out, errorBox(`The test could not be sent: ${e.message}`));
      }
    });
  });
  return form;
}

function resultView(r) {
  return h('div', { class: `notice ${r.succeeded ? 'ok' : 'error'}`, 'data-succeeded': String(r.succeeded) },
    h('dl', { class: 'kv' },
      h('dt', {}, 'Result'), h('dd', { id: 'test-outcome' }, r.succeeded ? 'Succeeded' : 'Failed'),
      h('dt', {}, 'Status'), h('dd', { id: 'test-status' }, r.statusCode ? String(r.statusCode) : `no response (${r.errorClass || 'error'})`),
      h('dt', {}, 'Latency'), h('dd', {}, `${r.latencyMs} ms`),
      h('dt', {}, 'Filter'), h('dd', { id: 'test-filter', 'data-passes': String(r.passesFilter) }, filterVerdict(r.passesFilter)),
      r.errorMessage ? [h('dt', {}, 'Error'), h('dd', {}, r.errorMessage)] : null),
    h('h3', {}, 'Response excerpt'),
    r.responseExcerpt ? h('pre', {}, r.responseExcerpt) : h('p', { class: 'muted' }, '(empty body)'));
}
