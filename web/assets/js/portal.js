// Portal sign-in: a magic link (/portal#token=whp_…) is exchanged once for
// an HttpOnly session cookie, and its token is removed from the address
// bar (and the history) before anything else runs. A reloaded page finds
// its session again through /portal/session. The session's theme brands
// the page: colours through CSS custom properties, a logo and a name.

import { h } from './dom.js';
import { authHeaders } from './gql.js';

const TOKEN = /^#token=(whp_[A-Za-z0-9_-]+)$/;

// startPortal returns { session } when signed in through a portal link,
// { error } when the link was refused (expired, used, revoked), or {}.
export async function startPortal() {
  const m = location.hash.match(TOKEN);
  if (m) {
    history.replaceState(null, '', `${location.pathname}${location.search}#/`);
    return exchange(m[1]);
  }
  if (location.pathname !== '/portal') return {}; // the portal's page only
  try {
    const res = await fetch('/portal/session', { cache: 'no-store' });
    if (res.ok) return { session: await res.json() };
  } catch { /* no session: sign in with a key */ }
  return {};
}

async function exchange(token) {
  let res;
  let body = {};
  try {
    res = await fetch('/portal/exchange', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ token }),
    });
    body = await res.json();
  } catch (e) {
    return { error: res ? `webhookd answered HTTP ${res.status}.` : `Could not reach webhookd (${e.message}).` };
  }
  if (!res.ok) return { error: (body.error && body.error.message) || `The sign-in link was refused (HTTP ${res.status}).` };
  return { session: body };
}

// signOutPortal ends the session on the server and drops the cookie.
export async function signOutPortal() {
  try {
    await fetch('/portal/sign-out', { method: 'POST', headers: authHeaders() });
  } catch { /* the session expires by itself */ }
}

// applyTheme brands the page with a session's theme. Values were
// validated by the server (#rrggbb, an https or same-origin URL, one line
// of text) and are set through the CSSOM and the DOM, never as markup.
export function applyTheme(theme = {}) {
  const root = document.documentElement;
  if (theme.brandColor) {
    root.style.setProperty('--primary', theme.brandColor);
    root.style.setProperty('--focus', theme.brandColor);
  }
  const brand = document.querySelector('.brand');
  if (theme.productName) {
    brand.textContent = theme.productName;
    document.title = `Webhooks · ${theme.productName}`;
  }
  if (theme.logoUrl) {
    brand.prepend(h('img', { class: 'logo', src: theme.logoUrl, alt: theme.productName ? '' : 'Logo', id: 'brand-logo' }));
  }
}

// linkRefusedView says why a magic link did not sign in, and what to do.
export function linkRefusedView(main, message) {
  main.replaceChildren(
    h('h1', { tabindex: '-1' }, 'This sign-in link did not work'),
    h('p', { class: 'notice error', id: 'portal-error', role: 'alert' }, message),
    h('p', { class: 'muted' }, 'Sign-in links work once and for a short time. Go back to where you opened it to get a new one.'));
}
