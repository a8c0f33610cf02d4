// The Webhooks tab's entry point: sign-in, the header and a hash router.
// Each view is `async (main, params) => cleanup?`; the router runs the
// previous view's cleanup (closing subscriptions) before the next one.

import { h, replace, errorBox } from './dom.js';
import { gql, setApiKey, clearApiKey, whenUnauthenticated, signedIn, setPortal, portalSession, readOnly } from './gql.js';
import { startPortal, applyTheme, signOutPortal, linkRefusedView } from './portal.js';
import { listView } from './list.js';
import { createView } from './form.js';
import { manageView } from './manage.js';
import { logView } from './log.js';
import { historyView } from './history.js';

const main = document.getElementById('main');
const nav = document.getElementById('nav');
const who = document.getElementById('who');
let cleanup = null;
let viewer = null;

const routes = [
  [/^#\/new$/, createView],
  [/^#\/webhooks\/([^/]+)\/log$/, logView],
  [/^#\/webhooks\/([^/]+)\/history$/, historyView],
  [/^#\/webhooks\/([^/]+)$/, manageView],
  [/^#\/?$/, listView],
];

async function route() {
  const hash = location.hash || '#/';
  if (hash !== '#' && !hash.startsWith('#/')) return; // in-page anchors such as #main
  if (cleanup) { try { cleanup(); } catch { /* a view's cleanup must not block the next */ } }
  cleanup = null;
  if (!signedIn()) { signInView(); return; }
  if (!viewer && !(await loadViewer())) return;
  if (readOnly() && hash === '#/new') {
    replace(main, h('h1', { tabindex: '-1' }, 'Read-only access'), h('p', {}, 'This session can watch and test webhooks but not create them. ', h('a', { href: '#/' }, 'Back to the webhooks')));
    focusHeading();
    return;
  }
  for (const [re, view] of routes) {
    const m = hash.match(re);
    if (!m) continue;
    const params = m.slice(1).map(decodeURIComponent);
    replace(main, h('p', { class: 'notice', role: 'status' }, 'Loading…'));
    try {
      cleanup = (await view(main, ...params)) || null;
    } catch (e) {
      replace(main, errorBox(`This page could not be shown: ${e.message}`, route));
    }
    focusHeading();
    return;
  }
  replace(main, h('h1', { tabindex: '-1' }, 'Not found'), h('p', {}, h('a', { href: '#/' }, 'Back to your webhooks')));
  focusHeading();
}

function focusHeading() {
  const h1 = main.querySelector('h1');
  if (h1) { h1.setAttribute('tabindex', '-1'); h1.focus({ preventScroll: false }); }
}

async function loadViewer() {
  replace(main, h('p', { class: 'notice', role: 'status' }, 'Signing in…'));
  try {
    const d = await gql('query { viewer { account { name } scope keyId } }');
    viewer = d.viewer;
  } catch (e) {
    if (e.code === 'UNAUTHENTICATED') { signOut(e.message); return false; }
    replace(main, errorBox(`Could not reach webhookd: ${e.message}`, route));
    return false;
  }
  nav.hidden = false;
  nav.querySelector('a[href="#/new"]')?.toggleAttribute('hidden', readOnly());
  replace(who,
    h('span', {}, 'Account ', h('strong', { id: 'account-name' }, viewer.account.name)),
    readOnly() ? h('span', { class: 'badge', id: 'read-only-badge' }, 'Read-only') : null,
    h('button', { type: 'button', class: 'link', onclick: () => signOut() }, 'Sign out'));
  return true;
}

function signOut(reason) {
  if (portalSession()) {
    if (!reason) signOutPortal();
    setPortal(null);
    viewer = null;
    if (cleanup) { try { cleanup(); } catch { /* ignore */ } cleanup = null; }
    nav.hidden = true;
    replace(who);
    replace(main, h('h1', { tabindex: '-1' }, reason ? 'Your session has ended' : 'Signed out'),
      h('p', { class: 'notice', id: 'portal-ended', role: 'status' }, reason ? `Signed out: ${reason}. Open a new sign-in link to continue.` : 'Open a new sign-in link to come back.'));
    return;
  }
  clearApiKey();
  viewer = null;
  if (cleanup) { try { cleanup(); } catch { /* ignore */ } cleanup = null; }
  nav.hidden = true;
  replace(who);
  signInView(reason);
}

async function signInView(reason) {
  const input = h('input', { id: 'api-key', name: 'apiKey', type: 'password', autocomplete: 'off', spellcheck: 'false', 'aria-describedby': 'api-key-hint api-key-error' });
  const err = h('p', { id: 'api-key-error', class: 'field-error', role: 'alert' }, reason ? `Signed out: ${reason}` : '');
  const form = h('form', { class: 'panel signin', novalidate: true },
    h('h1', {}, 'Sign in to Webhooks'),
    h('div', { class: 'field' },
      h('label', { for: 'api-key' }, 'API key'),
      input,
      h('p', { id: 'api-key-hint', class: 'hint' }, 'Paste an account API key. It stays in this browser tab only (session storage) and is sent to webhookd as a Bearer token.'),
      err),
    h('button', { type: 'submit', class: 'primary' }, 'Sign in'));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const key = input.value.trim();
    if (!key) { err.textContent = 'Paste your API key.'; input.setAttribute('aria-invalid', 'true'); input.focus(); return; }
    setApiKey(key);
    try {
      const d = await gql('query { viewer { account { name } scope keyId } }');
      viewer = null;
      if (!d.viewer) throw new Error('no viewer');
    } catch (e) {
      clearApiKey();
      err.textContent = e.code === 'UNAUTHENTICATED' ? 'That key was not accepted. Check it and try again.' : `Could not sign in: ${e.message}`;
      input.setAttribute('aria-invalid', 'true');
      input.focus();
      return;
    }
    if (location.hash.startsWith('#/')) route(); else location.hash = '#/';
  });
  replace(main, form);
  input.focus();
  try {
    const res = await fetch('/ui/config.json');
    const cfg = await res.json();
    if (cfg.devKey && !input.value) {
      input.value = cfg.devKey;
      input.after(h('p', { class: 'hint' }, 'Development mode: the demo account\u2019s key is filled in.'));
    }
  } catch { /* no config: nothing to pre-fill */ }
}

whenUnauthenticated(() => { if (viewer) signOut(portalSession() ? 'the session expired or was revoked' : 'the API key is no longer valid'); });

async function start() {
  const p = await startPortal();
  if (p.error) { linkRefusedView(main, p.error); focusHeading(); return; }
  if (p.session) {
    setPortal(p.session);
    applyTheme(p.session.theme);
  }
  window.addEventListener('hashchange', route);
  route();
}
start();
