// The delivery policy of the webhook form: the body format (JSON, or the
// form encoding SMTPeter receivers read), the retry schedule with the
// attempt timeout, and whether attempts carry the traceparent header, as
// createWebhook and updateWebhook take them; and the words that show a
// webhook's schedule.

import { h } from './dom.js';

// POLICY is the webhook's policy as the tab reads it.
export const POLICY = 'bodyFormat retryPolicy { schedule delaysSeconds maxAttempts totalSeconds attemptTimeoutSeconds } sendTraceparent';

// The server's bounds, repeated only to size the inputs and hint at them;
// its userErrors remain the rule.
const MAX_DELAYS = 20;
const TIMEOUT = { min: 1, max: 30, def: 15 };

const UNITS = [['d', 86400], ['h', 3600], ['min', 60], ['s', 1]];

// duration writes seconds the way people say them: 90 → "1 min 30 s".
export function duration(secs) {
  if (!secs) return '0 s';
  const parts = [];
  let rest = secs;
  for (const [u, n] of UNITS) {
    if (rest >= n) { parts.push(`${Math.floor(rest / n)} ${u}`); rest %= n; }
  }
  return parts.slice(0, 2).join(' ');
}

// delayText writes one delay for the custom-delays input: "90s", "5m", "2h".
function delayText(secs) {
  for (const [u, n] of [['d', 86400], ['h', 3600], ['m', 60]]) if (secs % n === 0) return `${secs / n}${u}`;
  return `${secs}s`;
}

// parseDelays reads "30s, 5m, 2h, 1d" (a bare number is seconds) into
// seconds, or returns { error }.
export function parseDelays(text) {
  const out = [];
  for (const raw of text.split(/[\s,]+/).filter(Boolean)) {
    const m = /^(\d+)(s|m|min|h|d)?$/i.exec(raw);
    if (!m) return { error: `\u201c${raw}\u201d is not a delay; write for example 30s, 5m, 2h or 1d.` };
    const unit = { s: 1, m: 60, min: 60, h: 3600, d: 86400 }[(m[2] || 's').toLowerCase()];
    out.push(Number(m[1]) * unit);
  }
  return { delays: out };
}

// scheduleText says when a webhook's attempts are made, for the manage
// page: "at once, then 5 s, 30 s, … — 7 attempts over 18 min 35 s".
export function scheduleText(p) {
  if (!p) return '';
  const name = { DEFAULT: 'Default', SHORT: 'Short', CUSTOM: 'Custom' }[p.schedule] || p.schedule;
  const steps = ['at once', ...p.delaysSeconds.map(duration)].join(', ');
  return `${name} retries: ${steps} \u2014 ${p.maxAttempts} attempts over ${duration(p.totalSeconds)} (\u00b120% jitter); attempt timeout ${p.attemptTimeoutSeconds} s`;
}

// policyText is the one-line summary of w's policy.
export function policyText(w) {
  const body = w.bodyFormat === 'FORM' ? 'form-encoded (SMTPeter fields)' : 'JSON';
  const trace = w.sendTraceparent ? ' \u00b7 traceparent header sent' : '';
  return `Body: ${body} \u00b7 ${scheduleText(w.retryPolicy)}${trace}`;
}

// policyFields builds the fieldsets. read() returns { bodyFormat,
// retryPolicy, sendTraceparent, errors } with errors userError-shaped.
export function policyFields(id, errEl, initial = {}) {
  const radio = (name, value, label, desc, checked) => h('label', { class: 'check' },
    h('input', { type: 'radio', name, value, checked, id: id(`${name}-${value}`) }),
    h('span', {}, label, desc ? h('span', { class: 'desc' }, desc) : null));

  const format = initial.bodyFormat || 'JSON';
  const body = h('fieldset', { id: id('bodyFormat'), 'aria-describedby': id('bodyFormat-error') },
    h('legend', {}, 'Request body'),
    radio('bodyFormat', 'JSON', 'JSON', 'The Standard Webhooks envelope: {id, type, timestamp, account, data}.', format === 'JSON'),
    radio('bodyFormat', 'FORM', 'Form fields, as SMTPeter sends them', 'application/x-www-form-urlencoded with SMTPeter\u2019s field names (id, recipient, tags[]\u2026), so a PHP script written for SMTPeter reads $_POST unchanged. Signed the same way.', format === 'FORM'),
    errEl('bodyFormat'));

  const p = initial.retryPolicy || { schedule: 'DEFAULT', delaysSeconds: [], attemptTimeoutSeconds: TIMEOUT.def };
  const delays = h('input', {
    id: id('retry-delays'), type: 'text', name: 'retryDelays', autocomplete: 'off', spellcheck: 'false',
    placeholder: '30s, 5m, 1h', 'aria-describedby': id('retry-delays-hint'),
    value: p.schedule === 'CUSTOM' ? p.delaysSeconds.map(delayText).join(', ') : '',
  });
  const timeout = h('input', {
    id: id('retry-timeout'), type: 'number', name: 'attemptTimeout', inputmode: 'numeric', step: 1,
    min: TIMEOUT.min, max: TIMEOUT.max, value: String(p.attemptTimeoutSeconds || TIMEOUT.def), autocomplete: 'off',
  });
  const customBox = h('div', { class: 'field', id: id('retry-custom') },
    h('label', { for: id('retry-delays') }, 'Delays before each retry'), delays,
    h('p', { id: id('retry-delays-hint'), class: 'hint' }, `Counted from the previous failure; the first attempt is made at once. Up to ${MAX_DELAYS} delays of 1 s to 1 d each, at most 5 days in all.`));
  const retry = h('fieldset', { id: id('retryPolicy'), 'aria-describedby': id('retryPolicy-error') },
    h('legend', {}, 'Retries'),
    radio('retrySchedule', 'DEFAULT', 'Default', 'Ten attempts over about three days: at once, then 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h, 20 h, 24 h.', p.schedule === 'DEFAULT'),
    radio('retrySchedule', 'SHORT', 'Short', 'Seven attempts over about twenty minutes, for receivers that prefer to fail fast: at once, then 5 s, 30 s, 1 min, 2 min, 5 min, 10 min.', p.schedule === 'SHORT'),
    radio('retrySchedule', 'CUSTOM', 'Custom', 'Your own delays.', p.schedule === 'CUSTOM'),
    customBox,
    h('div', { class: 'field' }, h('label', { for: id('retry-timeout') }, 'Attempt timeout (seconds)'), timeout,
      h('p', { class: 'hint' }, `How long one attempt may take, ${TIMEOUT.min} to ${TIMEOUT.max} s (default ${TIMEOUT.def}). A failed delivery is kept: you can redeliver it from the log.`)),
    errEl('retryPolicy'));

  const traceBox = h('input', { type: 'checkbox', name: 'sendTraceparent', id: id('sendTraceparent'), checked: Boolean(initial.sendTraceparent) });
  const trace = h('fieldset', { id: id('tracing'), 'aria-describedby': id('sendTraceparent-error') },
    h('legend', {}, 'Tracing'),
    h('label', { class: 'check' }, traceBox,
      h('span', {}, 'Send the W3C traceparent header',
        h('span', { class: 'desc' }, 'Each attempt carries the traceparent of its span (when the server traces with OpenTelemetry), so a receiver that traces can join the message\u2019s trace.'))),
    errEl('sendTraceparent'));

  const chosen = () => retry.querySelector('input[name=retrySchedule]:checked')?.value || 'DEFAULT';
  const sync = () => { customBox.hidden = chosen() !== 'CUSTOM'; };
  retry.addEventListener('change', sync);
  sync();

  function read() {
    const errors = [];
    const retryPolicy = { schedule: chosen() };
    const t = timeout.value.trim();
    if (t !== '' || timeout.validity.badInput) {
      if (!/^\d+$/.test(t)) errors.push({ field: ['input', 'retryPolicy'], message: 'The attempt timeout must be a whole number of seconds.' });
      else retryPolicy.attemptTimeoutSeconds = Number(t);
    }
    if (retryPolicy.schedule === 'CUSTOM') {
      const d = parseDelays(delays.value);
      if (d.error) errors.push({ field: ['input', 'retryPolicy'], message: d.error });
      else retryPolicy.delaysSeconds = d.delays;
    }
    const bodyFormat = body.querySelector('input[name=bodyFormat]:checked')?.value || 'JSON';
    return { bodyFormat, retryPolicy, sendTraceparent: traceBox.checked, errors };
  }
  return { body, retry, trace, read };
}
