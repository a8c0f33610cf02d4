// The signing secret: hidden until asked for, and rotation with the
// overlap explained.

import { h, replace, errorBox, busy, fmtTime } from './dom.js';
import { gql, readOnly } from './gql.js';
import { USER_ERRORS } from './queries.js';
import { confirmDialog } from './dialog.js';

export function secretPanel(w) {
  const shown = h('div', { id: 'secret-value' });
  const overlap = h('p', { class: 'small', id: 'secret-overlap' });
  const out = h('div', { role: 'status', 'aria-live': 'polite' });
  let revealed = false;
  const setOverlap = (t) => {
    overlap.textContent = t ? `The previous secret also signs every delivery until ${fmtTime(t)}.` : '';
  };
  setOverlap(w.previousSecretExpiresAt);
  const reveal = h('button', { type: 'button', id: 'secret-reveal', 'aria-controls': 'secret-value', 'aria-expanded': 'false' }, 'Reveal secret');
  reveal.addEventListener('click', () => busy(reveal, async () => {
    if (revealed) { hide(); return; }
    try {
      const d = await gql('query($id: ID!) { webhook(id: $id) { secret previousSecretExpiresAt } }', { id: w.id });
      replace(shown, h('code', { class: 'secret' }, d.webhook.secret));
      setOverlap(d.webhook.previousSecretExpiresAt);
      revealed = true;
      reveal.setAttribute('aria-expanded', 'true');
    } catch (e) {
      replace(shown, errorBox(`The secret could not be read: ${e.message}`));
    }
  }).then(() => { reveal.textContent = revealed ? 'Hide secret' : 'Reveal secret'; }));
  function hide() {
    replace(shown);
    revealed = false;
    reveal.setAttribute('aria-expanded', 'false');
  }

  const rotate = h('button', { type: 'button', id: 'secret-rotate' }, 'Rotate secret');
  rotate.addEventListener('click', async () => {
    const ok = await confirmDialog({
      title: 'Rotate the signing secret?',
      body: ['webhookd issues a new secret now. For the next 24 hours every delivery carries two signatures, one made with the old secret and one with the new, so your receiver keeps verifying while you deploy the new secret.',
        'After 24 hours only the new secret signs.'],
      confirmLabel: 'Rotate secret',
    });
    if (!ok) { rotate.focus(); return; }
    await busy(rotate, async () => {
      try {
        const d = await gql(`mutation($id: ID!) { rotateWebhookSecret(input: { id: $id }) { webhook { previousSecretExpiresAt } ${USER_ERRORS} } }`, { id: w.id });
        const p = d.rotateWebhookSecret;
        if (p.userErrors.length) { replace(out, errorBox(p.userErrors.map((e) => e.message).join(' '))); return; }
        hide();
        setOverlap(p.webhook.previousSecretExpiresAt);
        replace(out, h('p', { class: 'notice ok' }, 'A new secret was issued. Reveal it to copy it to your receiver.'));
      } catch (e) {
        replace(out, errorBox(`The secret was not rotated: ${e.message}`));
      }
    });
    reveal.textContent = 'Reveal secret';
    rotate.focus();
  });

  return h('section', { class: 'panel', id: 'secret', 'aria-labelledby': 'secret-title' },
    h('h2', { id: 'secret-title' }, 'Signing secret'),
    h('p', { class: 'muted small' }, 'Every delivery is signed with this secret (Standard Webhooks: webhook-id, webhook-timestamp and webhook-signature headers). Your receiver uses it to check that a request really came from webhookd.'),
    h('div', { class: 'row' }, reveal, readOnly() ? null : rotate),
    shown, overlap, out);
}
