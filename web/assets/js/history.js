// The history of one webhook: its audit trail, every event of its stream
// as stored (secrets redacted), oldest first, each with its data.

import { h, replace, errorBox, busy, fmtTime } from './dom.js';
import { gql } from './gql.js';
import { HISTORY } from './queries.js';
import { webhookBadge } from './status.js';
import { tabs, fetchWebhook } from './manage.js';

const PAGE = 50;

// eventLabel turns a stored type ("webhook.url_changed.v1") into words
// ("URL changed"); the stored type stays shown beside it.
export function eventLabel(type) {
  const m = /^[a-z]+\.([a-z_]+)\.v\d+$/.exec(type || '');
  if (!m) return type;
  const words = m[1].replace(/_/g, ' ').replace(/\burl\b/g, 'URL');
  return words[0].toUpperCase() + words.slice(1);
}

export async function historyView(main, id) {
  const w = await fetchWebhook(id);
  if (!w) {
    replace(main, h('h1', {}, 'Webhook not found'), h('p', {}, h('a', { href: '#/' }, 'Back to your webhooks')));
    return null;
  }
  const list = h('ol', { class: 'history', id: 'history', 'aria-label': 'Events, oldest first' });
  const state = h('div', { role: 'status' }, h('p', { class: 'notice' }, 'Loading the history…'));
  const moreSlot = h('div');
  replace(main,
    h('p', { class: 'small' }, h('a', { href: '#/' }, '\u2190 All webhooks')),
    h('div', { class: 'spread' },
      h('div', {}, h('h1', {}, w.name), h('div', { class: 'row' }, webhookBadge(w, null), h('code', { class: 'url' }, w.url)))),
    tabs(id, 'history'),
    h('p', { class: 'muted small' }, 'Every change to this webhook as recorded, oldest first: the audit trail. Secrets are redacted.'),
    state, list, moreSlot);

  async function load(after) {
    const d = await gql(`query($id: ID!, $after: String) { history(subject: $id, first: ${PAGE}, after: $after) {
      nodes { ${HISTORY} } pageInfo { hasNextPage endCursor } } }`, { id, after });
    list.append(...d.history.nodes.map(item));
    replace(state, list.children.length ? null : h('p', { class: 'notice' }, 'No events recorded yet.'));
    const info = d.history.pageInfo;
    replace(moreSlot, info.hasNextPage
      ? h('button', { type: 'button', id: 'history-more', onclick: (ev) => busy(ev.target, () => load(info.endCursor).catch(fail)) }, 'Show later events')
      : null);
  }
  const fail = (e) => replace(state, errorBox(`Could not load the history: ${e.message}`, () => { replace(list); load(null).catch(fail); }));
  await load(null).catch(fail);
  return null;
}

function item(e) {
  return h('li', { 'data-type': e.type, 'data-revision': e.revision },
    h('div', { class: 'row' }, h('strong', {}, eventLabel(e.type)), h('code', { class: 'small' }, e.type),
      h('span', { class: 'when' }, h('time', { datetime: e.time }, fmtTime(e.time)))),
    h('details', {}, h('summary', {}, 'Data'), h('pre', {}, JSON.stringify(e.data, null, 2))));
}
