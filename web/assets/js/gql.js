// GraphQL over POST, with the API key from sessionStorage as a Bearer
// token, or, signed in through a portal link, with the HttpOnly session
// cookie the browser sends and the CSRF header the server checks.
// Top-level errors become GraphQLError; userErrors stay in data for the
// caller to place beside the fields they concern.

const KEY = 'webhookd.apiKey';

export function apiKey() { return sessionStorage.getItem(KEY) || ''; }
export function setApiKey(k) { sessionStorage.setItem(KEY, k); }
export function clearApiKey() { sessionStorage.removeItem(KEY); }

// The portal session ({ account, readOnly, csrfToken, theme }), when
// signed in through a magic link; the page never sees the cookie itself.
let portal = null;
export function setPortal(p) { portal = p; }
export function portalSession() { return portal; }
// readOnly: the session may watch and test, so views leave out the
// controls that change or delete (the server refuses them anyway).
export function readOnly() { return !!(portal && portal.readOnly); }
export function signedIn() { return !!portal || !!apiKey(); }
// authHeaders are the credentials of every request: the CSRF header with
// the cookie, or the Bearer key.
export function authHeaders() {
  return portal ? { 'X-Webhookd-CSRF': portal.csrfToken } : { Authorization: `Bearer ${apiKey()}` };
}

// GraphQLError is a top-level error: code is extensions.code when given.
export class GraphQLError extends Error {
  constructor(message, code) {
    super(message);
    this.code = code || '';
  }
}

let onUnauthenticated = () => {};
// whenUnauthenticated registers what to do when the key stops working.
export function whenUnauthenticated(fn) { onUnauthenticated = fn; }

// gql runs one operation and returns its data.
export async function gql(query, variables = {}) {
  let res;
  try {
    res = await fetch('/graphql', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', ...authHeaders() },
      body: JSON.stringify({ query, variables }),
    });
  } catch (e) {
    throw new GraphQLError(`Could not reach webhookd (${e.message}).`, 'NETWORK');
  }
  let body;
  try {
    body = await res.json();
  } catch {
    throw new GraphQLError(`webhookd answered HTTP ${res.status} without a GraphQL response.`, 'HTTP');
  }
  if (body.errors && body.errors.length) {
    const e = body.errors[0];
    const code = (e.extensions && e.extensions.code) || '';
    if (code === 'UNAUTHENTICATED') onUnauthenticated();
    throw new GraphQLError(e.message, code);
  }
  return body.data;
}

// fieldName is the input field a userError concerns: ["input","url"] → "url".
export function fieldName(ue) {
  const f = ue.field || [];
  return f[0] === 'input' ? f.slice(1).join('.') : f.join('.');
}

// download fetches an authenticated route and saves the response as a
// file: the route needs the Bearer header, which a plain link can't send.
export async function download(path, fileName) {
  const res = await fetch(path, { headers: authHeaders() });
  if (!res.ok) throw new Error(`download failed: HTTP ${res.status} ${(await res.text()).trim()}`);
  const url = URL.createObjectURL(await res.blob());
  const a = document.createElement('a');
  a.href = url;
  a.download = fileName;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}
