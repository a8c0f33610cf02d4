// The manage page of one webhook: status and statistics, verification,
// the testing tool, the signing secret, and edit / pause / delete.

import { h, replace, errorBox, busy, percent, fmtTime, sentence } from './dom.js';
import { gql, readOnly } from './gql.js';
import { WEBHOOK, STATS, USER_ERRORS } from './queries.js';
import { webhookBadge, rateText, sparkline } from './status.js';
import { verificationPanel } from './verify.js';
import { testerPanel } from './tester.js';
import { secretPanel } from './secret.js';
import { webhookForm, eventTypes } from './form.js';
import { confirmDialog } from './dialog.js';
import { policyText } from './policy.js';
import { orderingText, blockedList } from './ordering.js';
import { batchingText } from './batching.js';

// tabs links the manage page and the delivery log of webhook id.
export function tabs(id, current) {
  const link = (href, label, name) => h('a', { href, 'aria-current': current === name ? 'page' : null }, label);
  return h('nav', { class: 'tabs', 'aria-label': 'Webhook' },
    link(`#/webhooks/${encodeURIComponent(id)}`, 'Overview', 'overview'),
    link(`#/webhooks/${encodeURIComponent(id)}/log`, 'Delivery log', 'log'),
    link(`#/webhooks/${encodeURIComponent(id)}/history`, 'History', 'history'));
}

// pauseNotice says what pausing or resuming w means for its events. Only a
// verified URL has events queued for it, so for an unverified one nothing
// is kept while it waits, paused or not.
export function pauseNotice(w) {
  const verified = w.verification.status === 'VERIFIED';
  if (w.status === 'PAUSED') {
    return verified
      ? 'Paused: events are kept and sent once you resume.'
      : 'Paused. This URL is not verified yet, so nothing is queued for it: events published before you verify it are never sent here. Once it is verified, events are kept while it is paused and sent when you resume.';
  }
  return verified
    ? 'Resumed: deliveries continue.'
    : 'Resumed. Deliveries start with the events published after you verify the URL.';
}

// settingsText summarises the delivery settings of w in words.
export function settingsText(w) {
  const rl = w.rateLimit && w.rateLimit.perSecond
    ? `${w.rateLimit.perSecond}/s${w.rateLimit.burst !== w.rateLimit.perSecond ? ` (burst ${w.rateLimit.burst})` : ''}`
    : 'none';
  const headers = (w.headers || []).map((x) => x.name).join(', ') || 'none';
  return `Rate limit: ${rl} \u00b7 Max concurrency: ${w.maxConcurrency} \u00b7 Custom headers: ${headers}`;
}

export async function fetchWebhook(id) {
  const d = await gql(`query($id: ID!) { webhook(id: $id) { ${WEBHOOK} } }`, { id });
  return d.webhook;
}

export async function manageView(main, id) {
  const w = await fetchWebhook(id);
  if (!w) {
    replace(main, h('h1', {}, 'Webhook not found'), h('p', {}, 'It may have been deleted. ', h('a', { href: '#/' }, 'Back to your webhooks')));
    return;
  }
  let stats = null;
  const head = h('div', { id: 'webhook-head' });
  const statsBox = h('section', { class: 'panel', id: 'stats', 'aria-labelledby': 'stats-title' });
  const actionsOut = h('div', { role: 'status', 'aria-live': 'polite', id: 'actions-result' });
  const editSlot = h('div');
  const verifySlot = h('div');
  let current = w;

  function renderHead() {
    replace(head,
      h('p', { class: 'small' }, h('a', { href: '#/' }, '\u2190 All webhooks')),
      h('div', { class: 'spread' },
        h('div', {},
          h('h1', {}, current.name),
          h('div', { class: 'row' }, h('span', { id: 'webhook-status' }, webhookBadge(current, stats)), h('code', { class: 'url' }, current.url))),
        actions()),
      current.description ? h('p', {}, current.description) : null,
      h('ul', { class: 'types', 'aria-label': 'Event types' }, current.eventTypes.map((t) => h('li', {}, t))),
      h('p', { class: 'small muted', id: 'webhook-settings' }, settingsText(current)),
      h('p', { class: 'small muted', id: 'webhook-policy' }, policyText(current)),
      h('p', { class: 'small muted', id: 'webhook-ordering' }, orderingText(current)),
      h('p', { class: 'small muted', id: 'webhook-batching' }, batchingText(current)),
      blockedList(current));
  }

  function update(next) {
    const wasVerified = current.verification.status === 'VERIFIED';
    current = next;
    renderHead();
    replace(verifySlot, verificationPanel(current, (n, out) => { update(n); verifySlot.querySelector('#verify-result').replaceWith(out); }));
    if (wasVerified !== (current.verification.status === 'VERIFIED')) loadTester();
  }

  function loadTester() {
    testerPanel(current).then((p) => replace(tester, p), (e) => replace(tester, errorBox(`The testing tool could not load: ${e.message}`)));
  }

  function actions() {
    if (readOnly()) return h('p', { class: 'muted small', id: 'read-only-note' }, 'Read-only access: you can watch and test this webhook, not change it.');
    const paused = current.status === 'PAUSED';
    const toggle = h('button', { type: 'button', id: paused ? 'resume' : 'pause' }, paused ? 'Resume' : 'Pause');
    toggle.addEventListener('click', () => busy(toggle, async () => {
      const op = paused ? 'resumeWebhook' : 'pauseWebhook';
      try {
        const d = await gql(`mutation($id: ID!) { ${op}(input: { id: $id }) { webhook { ${WEBHOOK} } ${USER_ERRORS} } }`, { id: current.id });
        const p = d[op];
        if (p.userErrors.length) { replace(actionsOut, errorBox(p.userErrors.map((e) => sentence(e.message)).join(' '))); return; }
        update(p.webhook);
        replace(actionsOut, h('p', { class: 'notice ok', id: 'pause-notice' }, pauseNotice(p.webhook)));
        head.querySelector(paused ? '#pause' : '#resume')?.focus();
      } catch (e) {
        replace(actionsOut, errorBox(`Not changed: ${e.message}`));
      }
    }));
    const edit = h('button', { type: 'button', id: 'edit', 'aria-expanded': editSlot.hasChildNodes() ? 'true' : 'false' }, 'Edit');
    edit.addEventListener('click', () => openEdit(edit));
    const del = h('button', { type: 'button', class: 'danger', id: 'delete' }, 'Delete');
    del.addEventListener('click', async () => {
      const ok = await confirmDialog({
        title: `Delete \u201c${current.name}\u201d?`,
        body: ['Deliveries to this URL stop at once, including pending retries. Its history stays in the audit log.', 'This cannot be undone.'],
        confirmLabel: 'Delete webhook', danger: true,
      });
      if (!ok) { del.focus(); return; }
      try {
        const d = await gql(`mutation($id: ID!) { deleteWebhook(input: { id: $id }) { deletedWebhookId ${USER_ERRORS} } }`, { id: current.id });
        if (d.deleteWebhook.userErrors.length) { replace(actionsOut, errorBox(d.deleteWebhook.userErrors.map((e) => sentence(e.message)).join(' '))); return; }
        location.hash = '#/';
      } catch (e) {
        replace(actionsOut, errorBox(`Not deleted: ${e.message}`));
      }
    });
    return h('div', { class: 'row' }, edit, toggle, del);
  }

  async function openEdit(button) {
    if (editSlot.hasChildNodes()) { replace(editSlot); button.setAttribute('aria-expanded', 'false'); return; }
    const types = await eventTypes();
    const close = () => { replace(editSlot); head.querySelector('#edit')?.setAttribute('aria-expanded', 'false'); head.querySelector('#edit')?.focus(); };
    const form = webhookForm({
      idPrefix: 'edit', types, initial: current, submitLabel: 'Save changes', onCancel: close,
      async submit(values) {
        const d = await gql(`mutation($input: UpdateWebhookInput!) { updateWebhook(input: $input) { webhook { ${WEBHOOK} } ${USER_ERRORS} } }`,
          { input: { id: current.id, expectedRevision: current.revision, ...values } });
        const p = d.updateWebhook;
        if (p.userErrors.some((e) => e.code === 'CONFLICT')) {
          return [{ field: null, message: 'Someone else changed this webhook meanwhile. Reload the page to see their change, then edit again.' }];
        }
        if (!p.userErrors.length) {
          update(p.webhook);
          close();
          replace(actionsOut, h('p', { class: 'notice ok' }, 'Saved.'));
        }
        return p.userErrors;
      },
    });
    replace(editSlot, h('section', { class: 'panel', 'aria-labelledby': 'edit-title' },
      h('h2', { id: 'edit-title' }, 'Edit webhook'),
      h('p', { class: 'hint' }, 'Changing the URL issues a new verification file: deliveries wait until you verify the new URL.'),
      form));
    button.setAttribute('aria-expanded', 'true');
    form.querySelector('input').focus();
  }

  async function loadStats() {
    replace(statsBox, h('h2', { id: 'stats-title' }, 'Last 24 hours'), h('p', { class: 'muted' }, 'Loading statistics…'));
    try {
      const d = await gql(`query($id: ID!) { stats(webhook: $id, window: DAY) { ${STATS} } }`, { id });
      stats = d.stats;
      renderHead();
      replace(statsBox, h('h2', { id: 'stats-title' }, 'Last 24 hours'),
        h('div', { class: 'row' }, sparkline(stats, { width: 320, height: 64, bars: 48 }),
          h('dl', { class: 'kv' },
            h('dt', {}, 'Success rate'), h('dd', { id: 'success-rate' }, stats && stats.attempts ? percent(stats.successRate) : '—'),
            h('dt', {}, 'Attempts'), h('dd', {}, rateText(stats)),
            h('dt', {}, 'Latency p50 / p95'), h('dd', {}, stats && stats.attempts ? `${Math.round(stats.p50LatencyMs)} / ${Math.round(stats.p95LatencyMs)} ms` : '—'))));
    } catch (e) {
      replace(statsBox, h('h2', { id: 'stats-title' }, 'Last 24 hours'), errorBox(`Statistics unavailable: ${e.message}`, loadStats));
    }
  }

  const tester = h('div', {}, h('p', { class: 'muted' }, 'Loading the testing tool…'));
  update(w);
  replace(main, head, tabs(id, 'overview'), actionsOut, editSlot, verifySlot,
    h('div', { class: 'grid2' }, tester, h('div', {}, statsBox, secretPanel(w))),
    h('p', { class: 'small muted' }, `Created ${fmtTime(w.createdAt)} \u00b7 updated ${fmtTime(w.updatedAt)}`));
  loadStats();
  loadTester();
}
