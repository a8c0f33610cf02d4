// The delivery settings of the webhook form: custom request headers (name
// and value rows), the rate limit and the cap on deliveries in flight, as
// createWebhook and updateWebhook take them.

import { h } from './dom.js';

// MAX_HEADERS and MAX_CONCURRENCY are the server's limits, repeated here
// only to size the inputs; the server's userErrors remain the rule.
const MAX_HEADERS = 20;
const MAX_CONCURRENCY = 64;

// headerFields is the custom-headers fieldset. rows() reads the non-empty
// rows as [{ name, value }].
export function headerFields(id, errEl, initial = []) {
  const rows = h('div', { id: id('header-rows') });
  let n = 0;
  const add = (name = '', value = '') => {
    n += 1;
    const nameId = id(`header-name-${n}`);
    const valueId = id(`header-value-${n}`);
    const row = h('div', { class: 'header-row' },
      h('div', {}, h('label', { for: nameId }, `Header ${rows.children.length + 1} name`),
        h('input', { id: nameId, type: 'text', name: 'headerName', value: name, autocomplete: 'off', spellcheck: 'false', placeholder: 'X-Api-Key' })),
      h('div', {}, h('label', { for: valueId }, 'Value'),
        h('input', { id: valueId, type: 'text', name: 'headerValue', value, autocomplete: 'off', spellcheck: 'false' })),
      h('button', { type: 'button', class: 'remove-header', 'aria-label': `Remove header ${name || rows.children.length + 1}`, onclick: () => { row.remove(); addBtn.disabled = false; addBtn.focus(); } }, 'Remove'));
    rows.append(row);
    addBtn.disabled = rows.children.length >= MAX_HEADERS;
    return row;
  };
  const addBtn = h('button', { type: 'button', id: id('add-header') }, 'Add header');
  addBtn.addEventListener('click', () => add().querySelector('input').focus());
  for (const x of initial) add(x.name, x.value);
  const fieldset = h('fieldset', { id: id('headers'), 'aria-describedby': `${id('headers-hint')} ${id('headers-error')}` },
    h('legend', {}, 'Custom request headers (optional)'),
    h('p', { id: id('headers-hint'), class: 'hint' }, 'Sent with every delivery, for example a key your receiver checks. webhookd\u2019s own headers (webhook-id, webhook-timestamp, webhook-signature, Content-Type\u2026) cannot be overridden.'),
    rows, addBtn, errEl('headers'));
  return {
    el: fieldset,
    rows: () => [...rows.querySelectorAll('.header-row')]
      .map((r) => ({ name: r.querySelector('[name=headerName]').value.trim(), value: r.querySelector('[name=headerValue]').value }))
      .filter((x) => x.name || x.value),
  };
}

// limitFields is the rate limit and max concurrency. read() returns
// { rateLimit, maxConcurrency, errors }: a field left empty is null, and
// errors holds userError-shaped complaints about what is not a number.
export function limitFields(id, errEl, initial = {}) {
  const num = (f, attrs, value) => h('input', { id: id(f), type: 'number', inputmode: 'numeric', step: 1, autocomplete: 'off', value: value ? String(value) : '', ...attrs });
  const rl = initial.rateLimit || {};
  const perSecond = num('rateLimit-perSecond', { min: 1, max: 10000, name: 'perSecond' }, rl.perSecond);
  const burst = num('rateLimit-burst', { min: 1, max: 10000, name: 'burst' }, rl.burst && rl.burst !== rl.perSecond ? rl.burst : '');
  const conc = num('maxConcurrency', { min: 1, max: MAX_CONCURRENCY, name: 'maxConcurrency', 'aria-describedby': `${id('maxConcurrency-hint')} ${id('maxConcurrency-error')}` }, initial.maxConcurrency);
  const rate = h('fieldset', { id: id('rateLimit'), 'aria-describedby': `${id('rateLimit-hint')} ${id('rateLimit-error')}` },
    h('legend', {}, 'Rate limit (optional)'),
    h('div', { class: 'pair' },
      h('div', {}, h('label', { for: id('rateLimit-perSecond') }, 'Requests per second'), perSecond),
      h('div', {}, h('label', { for: id('rateLimit-burst') }, 'Burst'), burst)),
    h('p', { id: id('rateLimit-hint'), class: 'hint' }, 'At most this many deliveries per second, 1 to 10,000; burst is how many may go at once after a quiet spell (empty: the same as per second). Leave both empty for no limit: events beyond the limit wait, they are never dropped.'),
    errEl('rateLimit'));
  const concurrency = h('div', { class: 'field' },
    h('label', { for: id('maxConcurrency') }, 'Max concurrency (optional)'), conc,
    h('p', { id: id('maxConcurrency-hint'), class: 'hint' }, `How many deliveries may be in flight to this URL at once, 1 to ${MAX_CONCURRENCY}. Empty keeps the current value (4 for a new webhook).`),
    errEl('maxConcurrency'));

  function read() {
    const errors = [];
    const int = (el, field, what) => {
      const raw = el.value.trim();
      if (raw === '' && el.validity.badInput) { errors.push({ field: ['input', field], message: `${what} must be a whole number.` }); return null; }
      if (raw === '') return null;
      const v = Number(raw);
      if (!Number.isInteger(v)) { errors.push({ field: ['input', field], message: `${what} must be a whole number.` }); return null; }
      return v;
    };
    const ps = int(perSecond, 'rateLimit', 'Requests per second');
    const b = int(burst, 'rateLimit', 'Burst');
    const mc = int(conc, 'maxConcurrency', 'Max concurrency');
    const rateLimit = ps === null && b === null ? null : { perSecond: ps || 0, burst: b || 0 };
    return { rateLimit, maxConcurrency: mc, errors };
  }
  return { rate, concurrency, read };
}
