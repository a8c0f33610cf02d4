// Webhook status badges and the 24-hour delivery chart.

import { h, s, percent } from './dom.js';

// FAILING_BELOW is the recent success rate under which an active webhook
// is shown as failing.
export const FAILING_BELOW = 0.5;

// webhookState is what the badge says: the API's status, except that an
// active webhook whose recent attempts mostly fail is "failing".
export function webhookState(w, stats) {
  const st = (w.status || '').toLowerCase();
  if (st === 'active' && stats && stats.attempts > 0 && stats.successRate < FAILING_BELOW) return 'failing';
  return st || 'unknown';
}

const LABELS = {
  active: 'Active', unverified: 'Unverified', paused: 'Paused', disabled: 'Disabled', failing: 'Failing',
  pending: 'Pending', retrying: 'Retrying', succeeded: 'Succeeded', failed: 'Failed',
};

const EXPLAIN = {
  active: 'Verified and receiving deliveries.',
  unverified: 'Waiting for proof that you own the URL: place the verification file, then Verify.',
  paused: 'Paused: events are kept, nothing is sent until you resume.',
  disabled: 'Disabled by webhookd.',
  failing: 'Active, but fewer than half of the recent deliveries succeeded.',
};

// PAUSED_UNVERIFIED explains a paused webhook whose URL is not verified:
// nothing is queued for it, so nothing is kept for later either.
const PAUSED_UNVERIFIED = 'Paused, and the URL is not verified yet: nothing is queued for it until you verify it.';

// badge renders a status word with an explanatory title; explain replaces
// the state's usual explanation.
export function badge(state, extra, explain) {
  const title = [explain || EXPLAIN[state], extra].filter(Boolean).join(' ');
  return h('span', { class: `badge ${state}`, title: title || null, 'data-status': state }, LABELS[state] || state);
}

// webhookBadge is the badge plus, for a disabled webhook, its reason in words.
export function webhookBadge(w, stats) {
  const state = webhookState(w, stats);
  const unverified = w.verification && w.verification.status !== 'VERIFIED';
  const b = badge(state, w.disabledReason || '', state === 'paused' && unverified ? PAUSED_UNVERIFIED : null);
  if (state === 'disabled' && w.disabledReason) {
    return h('span', { class: 'row' }, b, h('span', { class: 'small' }, w.disabledReason));
  }
  return b;
}

// rateText summarises stats in words.
export function rateText(stats) {
  if (!stats) return 'No statistics';
  if (!stats.attempts) return 'No attempts in 24 h';
  return `${percent(stats.successRate)} of ${stats.attempts} attempts succeeded`;
}

// sparkline draws the series as stacked bars (succeeded over failed),
// regrouped into at most `bars` columns so any step width fits.
export function sparkline(stats, { width = 144, height = 36, bars = 24 } = {}) {
  const series = (stats && stats.series) || [];
  const groups = [];
  const per = Math.max(1, Math.ceil(series.length / bars));
  for (let i = 0; i < series.length; i += per) {
    const g = { ok: 0, bad: 0 };
    for (const p of series.slice(i, i + per)) { g.ok += p.succeeded; g.bad += p.failed; }
    groups.push(g);
  }
  const max = Math.max(1, ...groups.map((g) => g.ok + g.bad));
  const bw = groups.length ? width / groups.length : width;
  const total = stats ? stats.attempts : 0;
  const failed = stats ? stats.failed : 0;
  const label = `Deliveries over the last 24 hours: ${total} attempts, ${failed} failed.`;
  const svg = s('svg', { class: 'spark', width, height, viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-label': label },
    s('title', {}, label),
    s('line', { class: 'base', x1: 0, y1: height - 0.5, x2: width, y2: height - 0.5 }));
  groups.forEach((g, i) => {
    const x = i * bw + 0.5;
    const w = Math.max(1, bw - 1);
    const hOk = ((height - 2) * g.ok) / max;
    const hBad = ((height - 2) * g.bad) / max;
    if (g.ok) svg.append(s('rect', { class: 'ok', x, y: height - 1 - hOk, width: w, height: hOk }));
    if (g.bad) svg.append(s('rect', { class: 'bad', x, y: height - 1 - hOk - hBad, width: w, height: hBad }));
  });
  return svg;
}
