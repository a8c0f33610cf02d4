// The webhook list: status badges, 24-hour success rates and charts, and
// "Check now" for every webhook at once.

import { h, replace, errorBox, busy } from './dom.js';
import { gql, readOnly } from './gql.js';
import { WEBHOOK, STATS, TEST_RESULT, USER_ERRORS } from './queries.js';
import { webhookBadge, rateText, sparkline } from './status.js';
import { resultText } from './tester.js';

const PAGE = 50;

export async function listView(main) {
  const list = h('ul', { class: 'cards', id: 'webhook-list', 'aria-label': 'Webhooks' });
  const status = h('div', { id: 'check-summary', role: 'status', 'aria-live': 'polite' });
  const more = h('div');
  const checkBtn = h('button', { type: 'button', id: 'check-now' }, 'Check now');
  replace(main,
    h('div', { class: 'spread' },
      h('div', {}, h('h1', {}, 'Webhooks'),
        h('p', { class: 'muted small' }, 'Where webhookd sends your account\u2019s events. Open one to verify, test or watch its deliveries.')),
      h('div', { class: 'row' }, checkBtn, readOnly() ? null : h('a', { class: 'button primary', href: '#/new' }, 'New webhook'))),
    status, list, more);
  const rows = new Map();

  async function load(after) {
    const d = await gql(`query($after: String) { webhooks(first: ${PAGE}, after: $after) {
      totalCount nodes { ${WEBHOOK} } pageInfo { hasNextPage endCursor } } }`, { after });
    const conn = d.webhooks;
    if (!after && conn.nodes.length === 0) {
      replace(list, readOnly() ? h('li', { class: 'notice' }, 'No webhooks yet.')
        : h('li', { class: 'notice' }, 'No webhooks yet. ', h('a', { href: '#/new' }, 'Create your first webhook'), ' to start receiving events.'));
    }
    for (const w of conn.nodes) {
      const row = card(w);
      rows.set(w.id, row);
      list.append(row.el);
      loadStats(w, row);
    }
    replace(more, conn.pageInfo.hasNextPage
      ? h('button', { type: 'button', onclick: (ev) => busy(ev.target, () => load(conn.pageInfo.endCursor)) }, 'Show more webhooks')
      : null);
  }

  checkBtn.addEventListener('click', () => busy(checkBtn, async () => {
    checkBtn.textContent = 'Checking…';
    replace(status, h('p', { class: 'notice' }, 'Sending a webhook.test event to every webhook…'));
    try {
      const d = await gql(`mutation { checkWebhooks(input: {}) { results { webhook { id name } result { ${TEST_RESULT} } error } ${USER_ERRORS} } }`);
      const p = d.checkWebhooks;
      if (p.userErrors.length) { replace(status, errorBox(p.userErrors.map((e) => e.message).join(' '))); return; }
      let ok = 0;
      for (const r of p.results) {
        if (r.result && r.result.succeeded) ok++;
        const row = rows.get(r.webhook.id);
        if (row) row.showCheck(r);
      }
      replace(status, h('p', { class: `notice ${ok === p.results.length ? 'ok' : 'error'}` },
        `Checked ${p.results.length} webhook${p.results.length === 1 ? '' : 's'}: ${ok} succeeded, ${p.results.length - ok} did not.`));
    } catch (e) {
      replace(status, errorBox(`Check now failed: ${e.message}`));
    }
  }));

  try {
    await load(null);
  } catch (e) {
    replace(list, h('li', {}, errorBox(`Could not load your webhooks: ${e.message}`, () => location.reload())));
  }
}

function card(w) {
  const badgeSlot = h('span', { class: 'badge-slot' }, webhookBadge(w, null));
  const rate = h('span', { class: 'rate muted' }, 'Loading statistics…');
  const chart = h('div', { class: 'chart' });
  const check = h('p', { class: 'check-result', hidden: true });
  const el = h('li', { class: 'card', 'data-webhook-id': w.id },
    h('div', {},
      h('h2', {}, h('a', { href: `#/webhooks/${encodeURIComponent(w.id)}` }, w.name)),
      h('div', { class: 'url' }, w.url),
      h('div', { class: 'meta' }, badgeSlot, rate, h('ul', { class: 'types', 'aria-label': 'Event types' }, w.eventTypes.map((t) => h('li', {}, t))))),
    chart, check);
  return {
    el,
    setStats(stats) {
      replace(badgeSlot, webhookBadge(w, stats));
      rate.textContent = rateText(stats);
      replace(chart, sparkline(stats));
    },
    statsFailed(msg) { rate.textContent = `Statistics unavailable (${msg})`; },
    showCheck(r) {
      check.hidden = false;
      replace(check, h('strong', {}, 'Check: '), r.error ? r.error : resultText(r.result));
      check.className = `check-result ${r.result && r.result.succeeded ? 'ok' : 'bad'}`;
    },
  };
}

async function loadStats(w, row) {
  try {
    const d = await gql(`query($id: ID!) { stats(webhook: $id, window: DAY) { ${STATS} } }`, { id: w.id });
    row.setStats(d.stats);
  } catch (e) {
    row.statsFailed(e.message);
  }
}
