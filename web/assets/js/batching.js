// Batching in the webhook form and on the manage page: the fieldset as
// createWebhook and updateWebhook take it, and the words for a webhook's
// batching.

import { h } from './dom.js';

// BATCHING is the webhook's batching as the tab reads it.
export const BATCHING = 'batching { maxEvents maxWaitMs }';

// batchingText is the one-line summary of w's batching.
export function batchingText(w) {
  const b = w.batching;
  if (!b) return 'Batching: off (one event per POST)';
  const wait = b.maxWaitMs ? `, waiting up to ${b.maxWaitMs} ms for a batch to fill` : '';
  return `Batching: up to ${b.maxEvents} events per POST as a JSON array${wait}`;
}

// batchingFields builds the fieldset. read() returns { batching, errors }
// with errors userError-shaped.
export function batchingFields(id, errEl, initial = {}) {
  const b = initial.batching;
  const on = h('input', { type: 'checkbox', id: id('batching-on'), name: 'batchingOn', checked: Boolean(b) });
  const num = (f, label, hint, attrs, value) => h('div', { class: 'field' },
    h('label', { for: id(f) }, label),
    h('input', { id: id(f), name: f, type: 'number', inputmode: 'numeric', step: 1, autocomplete: 'off', value: String(value), 'aria-describedby': id(`${f}-hint`), ...attrs }),
    h('p', { id: id(`${f}-hint`), class: 'hint' }, hint));
  const box = h('div', { id: id('batching-box') },
    num('batching-maxEvents', 'Events per POST', '1 to 100.', { min: 1, max: 100 }, b ? b.maxEvents : 10),
    num('batching-maxWaitMs', 'Wait for a batch to fill (ms)', '0 to 10,000: how long the oldest event waits for company before its batch goes out anyway.', { min: 0, max: 10000 }, b ? b.maxWaitMs : 0));
  const el = h('fieldset', { id: id('batching'), 'aria-describedby': id('batching-error') },
    h('legend', {}, 'Batching'),
    h('label', { class: 'check' }, on,
      h('span', {}, 'Send several events in one POST',
        h('span', { class: 'desc' }, 'The body is a JSON array of the usual envelopes, signed as one, with a webhook-id of its own and a webhook-batch-size header. Not offered with the form-encoded body or with ordering.'))),
    box, errEl('batching'));
  const sync = () => { box.hidden = !on.checked; };
  on.addEventListener('change', sync);
  sync();

  function read() {
    if (!on.checked) return { batching: { maxEvents: 0 }, errors: [] };
    const errors = [];
    const whole = (f, what) => {
      const v = Number(el.querySelector(`#${id(f)}`).value);
      if (!Number.isInteger(v)) errors.push({ field: ['input', 'batching'], message: `${what} must be a whole number.` });
      return v;
    };
    const batching = { maxEvents: whole('batching-maxEvents', 'Events per POST'), maxWaitMs: whole('batching-maxWaitMs', 'The wait') };
    return { batching, errors };
  }
  return { el, read };
}
