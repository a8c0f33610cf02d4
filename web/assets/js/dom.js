// Small DOM helpers: build elements without innerHTML, so text from the
// server (names, URLs, response excerpts) is never parsed as markup.

const SVG_NS = 'http://www.w3.org/2000/svg';

// h builds an element. attrs: "on*" keys add listeners, `class` sets the
// class, boolean true sets an empty attribute, false/null/undefined skip it.
export function h(tag, attrs = {}, ...children) {
  return build(document.createElement(tag), attrs, children);
}

// s builds an SVG element the same way.
export function s(tag, attrs = {}, ...children) {
  return build(document.createElementNS(SVG_NS, tag), attrs, children);
}

function build(el, attrs, children) {
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === false || v === null || v === undefined) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k === 'value' && 'value' in el) el.value = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c instanceof Node ? c : String(c));
  }
}

// replace swaps the children of el.
export function replace(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

// fmtTime renders a timestamp in the viewer's locale.
export function fmtTime(t) {
  if (!t) return '—';
  const d = new Date(t);
  return isNaN(d) ? String(t) : d.toLocaleString();
}

// percent renders a 0..1 rate.
export function percent(rate) {
  return `${Math.round(rate * 1000) / 10}%`;
}

// busy disables a button while fn runs, so double clicks don't double-send.
export async function busy(button, fn) {
  const label = button.textContent;
  button.disabled = true;
  button.setAttribute('aria-busy', 'true');
  try {
    return await fn();
  } finally {
    button.disabled = false;
    button.removeAttribute('aria-busy');
    button.textContent = label;
  }
}

// errorBox is the never-blank error state: what failed, and a retry.
export function errorBox(message, retry) {
  return h('div', { class: 'error-box', role: 'alert' },
    h('p', {}, message),
    retry ? h('button', { type: 'button', onclick: retry }, 'Try again') : null);
}

// sentence turns a server message ("verify the webhook's URL before ...")
// into one to show on its own: capitalised, with a full stop.
export function sentence(msg) {
  const m = String(msg || '').trim();
  if (!m) return '';
  return m[0].toUpperCase() + m.slice(1) + (/[.!?]$/.test(m) ? '' : '.');
}

// loading is the never-blank loading state.
export function loading(what) {
  return h('p', { class: 'notice', role: 'status' }, `Loading ${what}…`);
}
