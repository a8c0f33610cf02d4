// The live delivery log of one webhook: a page of deliveries kept current
// by the deliveryUpdated subscription, a status filter, the detail of one
// delivery with every attempt, redelivery and bulk recovery.

import { h, replace, errorBox, busy, fmtTime } from './dom.js';
import { gql, readOnly } from './gql.js';
import { DELIVERY, DELIVERY_DETAIL, USER_ERRORS } from './queries.js';
import { badge, webhookBadge } from './status.js';
import { LiveSubscription } from './ws.js';
import { tabs, fetchWebhook } from './manage.js';
import { exportControls } from './export.js';

const PAGE = 50;
const STATUSES = ['PENDING', 'RETRYING', 'SUCCEEDED', 'FAILED'];

export async function logView(main, id) {
  const w = await fetchWebhook(id);
  if (!w) {
    replace(main, h('h1', {}, 'Webhook not found'), h('p', {}, h('a', { href: '#/' }, 'Back to your webhooks')));
    return null;
  }
  const deliveries = new Map();
  let filter = '';
  let selected = null;
  let more = null;

  const live = h('span', { class: 'live', id: 'live-state', role: 'status' }, 'Connecting…');
  const filterSel = h('select', { id: 'status-filter' },
    h('option', { value: '' }, 'All statuses'),
    STATUSES.map((s) => h('option', { value: s }, s[0] + s.slice(1).toLowerCase())));
  const body = h('tbody', { id: 'delivery-rows' });
  const table = h('table', { class: 'stack', id: 'deliveries' },
    h('caption', { class: 'muted small' }, 'Newest first. New attempts appear here as they happen.'),
    h('thead', {}, h('tr', {}, ['Created', 'Event type', 'Status', 'Attempts', 'Last response', ''].map((c) => h('th', { scope: 'col' }, c)))),
    body);
  const listState = h('div', { role: 'status' });
  const moreSlot = h('div');
  const detail = h('section', { id: 'delivery-detail', 'aria-live': 'polite' });

  const since = h('input', { id: 'recover-since', type: 'datetime-local', value: localInput(new Date(Date.now() - 24 * 3600e3)) });
  const recoverBtn = h('button', { type: 'submit', id: 'recover' }, 'Recover failed deliveries');
  const recoverOut = h('div', { role: 'status', 'aria-live': 'polite', id: 'recover-result' });
  const recover = h('form', { class: 'row', novalidate: true },
    h('label', { for: 'recover-since' }, 'Failed since'), h('span', {}, since), recoverBtn);
  recover.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const t = new Date(since.value);
    if (isNaN(t)) { replace(recoverOut, errorBox('Choose a date and time.')); since.focus(); return; }
    busy(recoverBtn, async () => {
      try {
        const d = await gql(`mutation($input: RecoverDeliveriesInput!) { recoverDeliveries(input: $input) { count ${USER_ERRORS} } }`,
          { input: { webhook: id, since: t.toISOString() } });
        const p = d.recoverDeliveries;
        if (p.userErrors.length) { replace(recoverOut, errorBox(p.userErrors.map((e) => e.message).join(' '))); return; }
        replace(recoverOut, h('p', { class: 'notice ok' }, p.count === 1 ? '1 failed delivery was sent again.' : `${p.count} failed deliveries were sent again.`));
      } catch (e) {
        replace(recoverOut, errorBox(`Nothing was recovered: ${e.message}`));
      }
    });
  });

  replace(main,
    h('p', { class: 'small' }, h('a', { href: '#/' }, '\u2190 All webhooks')),
    h('div', { class: 'spread' },
      h('div', {}, h('h1', {}, w.name), h('div', { class: 'row' }, webhookBadge(w, null), h('code', { class: 'url' }, w.url)))),
    tabs(id, 'log'),
    h('div', { class: 'spread' },
      h('div', { class: 'row' }, h('label', { for: 'status-filter' }, 'Status'), filterSel, live),
      exportControls(w)),
    readOnly() ? null : h('div', { class: 'spread' }, h('div', {}, recover, recoverOut)),
    listState, table, moreSlot, detail);

  function row(d, fresh) {
    const open = h('button', { type: 'button', class: 'link', 'aria-controls': 'delivery-detail', onclick: () => openDetail(d.id) }, 'Details');
    const last = d.lastStatusCode ? String(d.lastStatusCode) : (d.failureReason || '—');
    // One element per cell, so the narrow layout's label/value grid holds.
    const cell = (label, ...content) => h('td', { 'data-label': label }, h('div', {}, ...content));
    return h('tr', { 'data-delivery-id': d.id, 'data-message-id': d.messageId, 'data-status': d.status, class: fresh ? 'fresh' : null, 'aria-selected': selected === d.id ? 'true' : null },
      cell('Created', fmtTime(d.createdAt)),
      cell('Event type', h('code', {}, d.eventType), d.test ? [' ', badge('test')] : null),
      cell('Status', badge(d.status.toLowerCase(), d.nextAttemptAt ? `Next attempt ${fmtTime(d.nextAttemptAt)}.` : ''),
        d.status === 'RETRYING' && d.nextAttemptAt ? h('div', { class: 'small muted' }, `next ${fmtTime(d.nextAttemptAt)}`) : null),
      cell('Attempts', String(d.attemptCount)),
      cell('Last response', last),
      cell('', open));
  }

  function render(freshId) {
    const list = [...deliveries.values()]
      .filter((d) => !filter || d.status === filter)
      .sort((a, b) => (a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : 0));
    replace(body, list.map((d) => row(d, d.id === freshId)));
    replace(listState, list.length ? null : h('p', { class: 'notice' }, filter ? 'No deliveries with this status.' : 'No deliveries yet. Publish an event or use the testing tool; it will appear here at once.'));
  }

  async function load(after) {
    const d = await gql(`query($id: ID!, $status: DeliveryStatus, $after: String) {
      deliveries(webhook: $id, status: $status, first: ${PAGE}, after: $after) { nodes { ${DELIVERY} } pageInfo { hasNextPage endCursor } } }`,
    { id, status: filter || null, after });
    if (!after) deliveries.clear();
    for (const n of d.deliveries.nodes) deliveries.set(n.id, n);
    more = d.deliveries.pageInfo;
    replace(moreSlot, more.hasNextPage
      ? h('button', { type: 'button', onclick: (ev) => busy(ev.target, () => load(more.endCursor).then(() => render())) }, 'Show older deliveries')
      : null);
  }

  async function reload() {
    replace(listState, h('p', { class: 'notice' }, 'Loading deliveries…'));
    try {
      await load(null);
      render();
    } catch (e) {
      replace(listState, errorBox(`Could not load deliveries: ${e.message}`, reload));
    }
  }

  async function openDetail(did) {
    selected = did;
    render();
    replace(detail, h('p', { class: 'notice' }, 'Loading the delivery…'));
    try {
      const d = await gql(`query($id: ID!) { delivery(id: $id) { ${DELIVERY_DETAIL} } }`, { id: did });
      if (selected !== did) return;
      if (!d.delivery) { replace(detail, errorBox('This delivery no longer exists.')); return; }
      replace(detail, detailView(d.delivery));
      detail.querySelector('h2').focus();
    } catch (e) {
      replace(detail, errorBox(`Could not load the delivery: ${e.message}`, () => openDetail(did)));
    }
  }

  async function refreshDetail(did) {
    try {
      const d = await gql(`query($id: ID!) { delivery(id: $id) { ${DELIVERY_DETAIL} } }`, { id: did });
      if (selected === did && d.delivery) replace(detail, detailView(d.delivery));
    } catch { /* the next update retries */ }
  }

  function detailView(d) {
    const out = h('div', { role: 'status', 'aria-live': 'polite', id: 'redeliver-result' });
    const again = h('button', { type: 'button', class: 'primary', id: 'redeliver' }, 'Redeliver');
    again.addEventListener('click', () => busy(again, async () => {
      try {
        const r = await gql(`mutation($id: ID!) { redeliver(input: { delivery: $id }) { delivery { ${DELIVERY} } ${USER_ERRORS} } }`, { id: d.id });
        const p = r.redeliver;
        if (p.userErrors.length) { replace(out, errorBox(p.userErrors.map((e) => e.message).join(' '))); return; }
        if (p.delivery && upsert(p.delivery)) render(p.delivery.id);
        replace(out, h('p', { class: 'notice ok' }, 'Sent again with a fresh retry schedule. The result appears here and in the log.'));
      } catch (e) {
        replace(out, errorBox(`Not redelivered: ${e.message}`));
      }
    }));
    return h('div', { class: 'panel' },
      h('div', { class: 'spread' },
        h('h2', { tabindex: '-1' }, 'Delivery ', h('code', {}, d.messageId)),
        h('div', { class: 'row' }, readOnly() ? null : again, h('button', { type: 'button', onclick: closeDetail }, 'Close'))),
      out,
      h('dl', { class: 'kv' },
        h('dt', {}, 'Status'), h('dd', { id: 'detail-status' }, badge(d.status.toLowerCase()), d.test ? [' ', badge('test')] : null),
        h('dt', {}, 'Event type'), h('dd', {}, h('code', {}, d.eventType)),
        h('dt', {}, 'Created'), h('dd', {}, fmtTime(d.createdAt)),
        d.nextAttemptAt ? [h('dt', {}, 'Next attempt'), h('dd', {}, fmtTime(d.nextAttemptAt))] : null,
        d.failureReason ? [h('dt', {}, 'Failure'), h('dd', {}, d.failureReason)] : null),
      h('h3', {}, 'Request body'),
      h('p', { class: 'hint' }, 'Exactly the bytes POSTed on every attempt; the signature covers them.'),
      h('pre', { class: 'body', id: 'request-body' }, d.requestBody),
      h('h3', {}, `Attempts (${d.attempts.length})`),
      d.attempts.length ? d.attempts.slice().reverse().map((a, i) => attemptView(a, i === 0)) : h('p', { class: 'muted' }, 'No attempt yet.'));
  }

  // upsert keeps the newest state of a delivery: a mutation's answer can
  // arrive after the subscription already reported a later attempt.
  function upsert(d) {
    const old = deliveries.get(d.id);
    if (old && (old.attemptCount > d.attemptCount ||
      (old.attemptCount === d.attemptCount && Date.parse(old.updatedAt) > Date.parse(d.updatedAt)))) return false;
    deliveries.set(d.id, d);
    return true;
  }

  function onUpdate(data) {
    const d = data.deliveryUpdated;
    if (!d || !upsert(d)) return;
    render(d.id);
    if (selected === d.id) refreshDetail(d.id);
  }

  function closeDetail() {
    selected = null;
    replace(detail);
    render();
  }

  // A new filter closes the open delivery unless it still matches: the
  // panel must not show a delivery the list says is filtered out.
  filterSel.addEventListener('change', () => {
    filter = filterSel.value;
    const open = selected && deliveries.get(selected);
    if (open && filter && open.status !== filter) closeDetail();
    reload();
  });

  const sub = new LiveSubscription({
    query: `subscription($id: ID) { deliveryUpdated(webhook: $id) { ${DELIVERY} } }`,
    variables: { id },
    onNext: onUpdate,
    onReconnect: reload,
    onState(state, detailMsg) {
      const text = { connecting: 'Connecting…', live: '\u25cf Live', reconnecting: 'Reconnecting…', refused: `Live updates refused: ${detailMsg}`, error: `Live updates stopped: ${detailMsg}` }[state];
      live.textContent = text || state;
      live.className = `live ${state === 'live' ? 'on' : state === 'connecting' ? '' : 'off'}`;
      live.dataset.state = state;
    },
  }).start();
  await reload();
  return () => sub.stop();
}

function attemptView(a, open) {
  const head = a.statusCode ? `HTTP ${a.statusCode}` : `no response (${a.errorClass || 'error'})`;
  return h('details', { class: 'attempt', open, 'data-attempt': a.number },
    h('summary', {}, `Attempt ${a.number} \u00b7 ${head} \u00b7 ${a.latencyMs} ms \u00b7 ${fmtTime(a.at)}`),
    a.errorMessage ? h('p', { class: 'field-error' }, a.errorMessage) : null,
    h('h3', {}, 'Request headers'),
    h('table', { class: 'headers' }, h('tbody', {}, a.requestHeaders.map((x) => h('tr', {}, h('td', {}, x.name), h('td', {}, x.value))))),
    h('h3', {}, 'Response'),
    a.responseExcerpt ? h('pre', {}, a.responseExcerpt) : h('p', { class: 'muted' }, '(no body)'));
}

// localInput formats t for a datetime-local input, in local time.
function localInput(t) {
  const p = (n) => String(n).padStart(2, '0');
  return `${t.getFullYear()}-${p(t.getMonth() + 1)}-${p(t.getDate())}T${p(t.getHours())}:${p(t.getMinutes())}`;
}
