// Ordered delivery in the webhook form and on the manage page: the
// ordering fieldset as createWebhook and updateWebhook take it, the words
// for a webhook's ordering, and its blocked lines with their reasons.

import { h, fmtTime } from './dom.js';

// ORDERING is the webhook's ordering and blocked lines as the tab reads them.
export const ORDERING = 'ordering { mode key } blockedLines(first: 5) { key waiting reason nextAttemptAt delivery { id } }';

const MODES = [
  ['NONE', 'Any order', 'Deliveries go out as they fall due, several at once (up to the max concurrency). Fastest.'],
  ['PER_WEBHOOK', 'In order', 'One at a time, in publication order: the next waits until the previous one succeeded or finally failed. A failing delivery holds up the rest while it is retried.'],
  ['PER_KEY', 'In order per key', 'One at a time for each value of a key in the data, such as data.recipient; different keys do not wait for each other.'],
];

// orderingText is the one-line summary of w's ordering.
export function orderingText(w) {
  const o = w.ordering || { mode: 'NONE' };
  if (o.mode === 'PER_WEBHOOK') return 'Order: one at a time, in publication order';
  if (o.mode === 'PER_KEY') return `Order: one at a time per ${o.key}`;
  return 'Order: any (several at once)';
}

// blockedList shows the lines held up by a failing head, or nothing.
export function blockedList(w) {
  const lines = w.blockedLines || [];
  if (!lines.length) return null;
  return h('div', { class: 'blocked', id: 'blocked-lines', role: 'status' },
    h('p', { class: 'small' }, 'Held up: the oldest delivery of these lines failed, and the rest wait until it succeeds or finally fails.'),
    h('ul', {}, lines.map((l) => h('li', { class: 'small' },
      `${w.ordering.mode === 'PER_KEY' ? `${l.key || '(no key)'}: ` : ''}${l.waiting} waiting \u00b7 ${l.reason} \u00b7 next try ${fmtTime(l.nextAttemptAt)}`))));
}

// orderingFields builds the fieldset. read() returns { ordering, errors }
// with errors userError-shaped.
export function orderingFields(id, errEl, initial = {}) {
  const o = initial.ordering || { mode: 'NONE' };
  const key = h('input', {
    id: id('ordering-key'), type: 'text', name: 'orderingKey', autocomplete: 'off', spellcheck: 'false',
    placeholder: 'data.recipient', value: o.key || '', 'aria-describedby': id('ordering-key-hint'),
  });
  const keyBox = h('div', { class: 'field', id: id('ordering-keybox') },
    h('label', { for: id('ordering-key') }, 'Key'), key,
    h('p', { id: id('ordering-key-hint'), class: 'hint' }, 'A dotted path into the event\u2019s data. It applies to events published from then on.'));
  const el = h('fieldset', { id: id('ordering'), 'aria-describedby': id('ordering-error') },
    h('legend', {}, 'Order'),
    MODES.map(([value, label, desc]) => h('label', { class: 'check' },
      h('input', { type: 'radio', name: 'orderingMode', value, checked: o.mode === value, id: id(`orderingMode-${value}`) }),
      h('span', {}, label, h('span', { class: 'desc' }, desc)))),
    keyBox, errEl('ordering'));
  const chosen = () => el.querySelector('input[name=orderingMode]:checked')?.value || 'NONE';
  const sync = () => { keyBox.hidden = chosen() !== 'PER_KEY'; };
  el.addEventListener('change', sync);
  sync();

  function read() {
    const ordering = { mode: chosen() };
    if (ordering.mode === 'PER_KEY') ordering.key = key.value.trim();
    return { ordering, errors: [] };
  }
  return { el, read };
}
