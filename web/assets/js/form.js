// The webhook form, for creating and for editing. userErrors come back from
// the server with a field path and are shown under the field they concern.

import { h, replace, errorBox, busy, sentence } from './dom.js';
import { gql, fieldName } from './gql.js';
import { USER_ERRORS } from './queries.js';
import { headerFields, limitFields } from './settings.js';
import { filterField } from './filter.js';
import { policyFields } from './policy.js';
import { orderingFields } from './ordering.js';
import { batchingFields } from './batching.js';

// TEST_EVENT_TYPE is the testing tool's and Check now's type. They send it
// straight to one webhook whatever it subscribes to, and the platform
// never publishes it, so subscribing to it would only ever deliver
// nothing: the picker shows it disabled, with that explanation. (The
// catalogue's operational flag marks webhook.disabled and the other types
// webhookd publishes itself, all worth subscribing to, so it cannot stand
// in for this.)
export const TEST_EVENT_TYPE = 'webhook.test';

let eventTypesCache = null;

// eventTypes lists the subscribable types with their samples, fetched once.
export async function eventTypes() {
  if (!eventTypesCache) {
    const d = await gql('query { eventTypes { name description sample operational } }');
    eventTypesCache = d.eventTypes;
  }
  return eventTypesCache;
}

export async function createView(main) {
  const types = await eventTypes();
  const form = webhookForm({
    idPrefix: 'new',
    types,
    submitLabel: 'Create webhook',
    async submit(values) {
      const d = await gql(`mutation($input: CreateWebhookInput!) { createWebhook(input: $input) { webhook { id } ${USER_ERRORS} } }`, { input: values });
      const p = d.createWebhook;
      if (!p.userErrors.length) location.hash = `#/webhooks/${encodeURIComponent(p.webhook.id)}`;
      return p.userErrors;
    },
  });
  replace(main,
    h('p', { class: 'small' }, h('a', { href: '#/' }, '\u2190 All webhooks')),
    h('h1', {}, 'New webhook'),
    h('p', { class: 'muted' }, 'webhookd will POST each chosen event to your URL, signed with the webhook\u2019s secret. Before the first delivery you prove you own the URL by placing a small file beside it.'),
    form);
}

// webhookForm builds the form. submit(values) returns userErrors; an empty
// list means success. A thrown error is shown above the button.
export function webhookForm({ idPrefix, types, initial = {}, submitLabel, submit, onCancel }) {
  const id = (f) => `${idPrefix}-${f}`;
  const errors = {};
  const errEl = (f) => (errors[f] = h('p', { id: id(`${f}-error`), class: 'field-error', 'data-error-for': f }));
  const text = (f, label, type, hint, value) => h('div', { class: 'field' },
    h('label', { for: id(f) }, label),
    h('input', { id: id(f), name: f, type, value: value || '', autocomplete: 'off', 'aria-describedby': `${hint ? id(`${f}-hint`) : ''} ${id(`${f}-error`)}`.trim() }),
    hint ? h('p', { id: id(`${f}-hint`), class: 'hint' }, hint) : null,
    errEl(f));

  const chosen = new Set(initial.eventTypes || []);
  const typeBoxes = types.map((t) => {
    // A webhook that already lists the test type may still untick it.
    const off = t.name === TEST_EVENT_TYPE && !chosen.has(t.name);
    return h('label', { class: off ? 'check disabled-type' : 'check' },
      h('input', { type: 'checkbox', name: 'eventTypes', value: t.name, checked: chosen.has(t.name), disabled: off, 'aria-describedby': off ? id('test-type-note') : null }),
      h('span', {}, h('code', {}, t.name), h('span', { class: 'desc' }, t.description),
        t.name === TEST_EVENT_TYPE ? h('span', { class: 'desc', id: id('test-type-note') },
          'No need to subscribe: the testing tool and Check now send it to this webhook directly, and nothing else sends it.') : null));
  });
  // The platform's types first; then, under their own heading, the ones
  // webhookd publishes itself about the account's webhooks (a webhook never
  // receives those about itself).
  const platformBoxes = typeBoxes.filter((_, i) => !types[i].operational);
  const ownBoxes = typeBoxes.filter((_, i) => types[i].operational);
  const fieldset = h('fieldset', { id: id('eventTypes'), 'aria-describedby': id('eventTypes-error') },
    h('legend', {}, 'Event types'), platformBoxes,
    ownBoxes.length ? h('div', { id: id('operational-types'), class: 'type-group' },
      h('p', { class: 'hint' }, 'webhookd\u2019s own events, about trouble with your webhooks and deliveries (never sent to the webhook they are about):'),
      ownBoxes) : null,
    errEl('eventTypes'));

  const headers = headerFields(id, errEl, initial.headers || []);
  const limits = limitFields(id, errEl, initial);
  const filter = filterField(id, errEl, initial.filter);
  const policy = policyFields(id, errEl, initial);
  const order = orderingFields(id, errEl, initial);
  const batch = batchingFields(id, errEl, initial);
  const editing = Boolean(initial.id);

  const formError = h('div', { role: 'alert', class: 'form-error' });
  const button = h('button', { type: 'submit', class: 'primary' }, submitLabel);
  const form = h('form', { novalidate: true, class: 'webhook-form', id: id('form') },
    text('name', 'Name', 'text', 'For you: shown in this list and in logs.', initial.name),
    text('url', 'Callback URL', 'url', 'The HTTPS address of the script that receives the POSTs, e.g. https://example.com/hooks/webhookd.php', initial.url),
    fieldset,
    text('description', 'Description (optional)', 'text', null, initial.description),
    filter.el, headers.el, limits.rate, limits.concurrency, policy.body, policy.retry, policy.trace, order.el, batch.el,
    formError,
    h('div', { class: 'row' }, button, onCancel ? h('button', { type: 'button', onclick: onCancel }, 'Cancel') : null));

  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    busy(button, async () => {
      clear();
      const values = {
        name: form.elements.name.value.trim(),
        url: form.elements.url.value.trim(),
        eventTypes: typeBoxes.map((l) => l.querySelector('input')).filter((c) => c.checked).map((c) => c.value),
        description: form.elements.description.value.trim(),
      };
      const lim = limits.read();
      const flt = filter.read(editing);
      const pol = policy.read();
      const bat = batch.read();
      if (lim.errors.length || flt.errors.length || pol.errors.length || bat.errors.length) { show([...flt.errors, ...lim.errors, ...pol.errors, ...bat.errors]); return; }
      if (flt.filter !== undefined) values.filter = flt.filter;
      values.bodyFormat = pol.bodyFormat;
      values.retryPolicy = pol.retryPolicy;
      values.sendTraceparent = pol.sendTraceparent;
      values.ordering = order.read().ordering;
      values.batching = bat.batching;
      const rows = headers.rows();
      // An edit sends every setting, so clearing a field clears it on the
      // server; a create leaves out what is empty and gets the defaults.
      if (editing || rows.length) values.headers = rows;
      if (lim.rateLimit) values.rateLimit = lim.rateLimit;
      else if (editing) values.rateLimit = { perSecond: 0, burst: 0 };
      if (lim.maxConcurrency !== null) values.maxConcurrency = lim.maxConcurrency;
      let userErrors;
      try {
        userErrors = await submit(values);
      } catch (e) {
        replace(formError, errorBox(`Not saved: ${e.message}`));
        return;
      }
      show(userErrors || []);
    });
  });

  function clear() {
    replace(formError);
    for (const [f, el] of Object.entries(errors)) {
      el.textContent = '';
      const target = form.querySelector(`#${id(f)}`);
      if (target) target.removeAttribute('aria-invalid');
    }
  }

  function show(userErrors) {
    const loose = [];
    let first = null;
    for (const ue of userErrors) {
      const f = fieldName(ue).split('.')[0];
      if (!errors[f]) { loose.push(ue.message); continue; }
      const msg = sentence(ue.message);
      errors[f].textContent = errors[f].textContent ? `${errors[f].textContent} ${msg}` : msg;
      const target = form.querySelector(`#${id(f)}`);
      target.setAttribute('aria-invalid', 'true');
      first = first || (target.tagName === 'FIELDSET' ? target.querySelector('input:not([disabled])') : target);
    }
    if (loose.length) replace(formError, errorBox(loose.map(sentence).join(' ')));
    if (first) first.focus();
  }
  return form;
}
