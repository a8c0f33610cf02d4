// The verification panel: download the file, see exactly where webhookd
// looks for it, and check now.

import { h, replace, errorBox, busy, fmtTime } from './dom.js';
import { gql, download, readOnly } from './gql.js';
import { WEBHOOK, USER_ERRORS } from './queries.js';

// verificationPanel renders for webhook w; onChange(w) gets the webhook
// after a check so the page can update its badge.
export function verificationPanel(w, onChange) {
  const v = w.verification;
  const verified = v.status === 'VERIFIED';
  const out = h('div', { id: 'verify-result', role: 'status', 'aria-live': 'polite' });
  if (v.status === 'FAILED' && v.failureReason) {
    out.append(h('p', { class: 'notice error' }, `The last check failed: ${v.failureReason}`));
  }
  const dlError = h('p', { class: 'field-error', role: 'alert' });
  const link = h('a', { href: v.downloadPath, id: 'verification-download', download: v.fileName }, `Download ${v.fileName}`);
  link.addEventListener('click', async (ev) => {
    ev.preventDefault();
    dlError.textContent = '';
    try { await download(v.downloadPath, v.fileName); } catch (e) { dlError.textContent = `The file could not be downloaded: ${e.message}`; }
  });
  const verifyBtn = h('button', { type: 'button', class: verified ? '' : 'primary', id: 'verify' }, verified ? 'Verify again' : 'Verify');
  verifyBtn.addEventListener('click', () => busy(verifyBtn, async () => {
    verifyBtn.textContent = 'Checking…';
    replace(out, h('p', { class: 'notice' }, 'Fetching the file from your server…'));
    try {
      const d = await gql(`mutation($id: ID!) { verifyWebhook(input: { id: $id }) { verified reason webhook { ${WEBHOOK} } ${USER_ERRORS} } }`, { id: w.id });
      const p = d.verifyWebhook;
      if (p.userErrors.length) { replace(out, errorBox(p.userErrors.map((e) => e.message).join(' '))); return; }
      replace(out, p.verified
        ? h('p', { class: 'notice ok', id: 'verify-ok' }, 'Verified. webhookd found the file, and deliveries to this URL can start.')
        : h('p', { class: 'notice error', id: 'verify-failed' }, `Not verified: ${p.reason || 'the file did not match'}. Check that the file is reachable at one of the addresses above and contains exactly what was downloaded.`));
      if (p.webhook) onChange(p.webhook, out);
    } catch (e) {
      replace(out, errorBox(`The check could not run: ${e.message}`));
    }
  }));

  return h('section', { class: `panel ${verified ? '' : 'attention'}`, id: 'verification', 'aria-labelledby': 'verification-title' },
    h('h2', { id: 'verification-title' }, verified ? 'Ownership verified' : 'Prove you own this URL'),
    verified
      ? h('p', { class: 'muted' }, `Verified ${fmtTime(v.verifiedAt)}. If you change the URL, you will verify the new one.`)
      : h('p', {}, 'Before webhookd sends anything to this URL, it checks that you control it. Download the file below and upload it, unchanged, to your web server ', h('strong', {}, 'beside the script that receives the webhooks'), ', or ', h('strong', {}, 'at the root of the site'), '. Then press Verify.'),
    h('p', {}, link, dlError),
    h('p', { class: 'small muted' }, 'Keep the file\u2019s name and content exactly as downloaded; only surrounding whitespace is ignored.'),
    h('h3', {}, 'webhookd fetches, in this order:'),
    h('ol', { class: 'urls', id: 'checked-urls' }, v.checkedUrls.map((u) => h('li', {}, h('code', {}, u)))),
    h('p', { class: 'small muted' }, 'Plain GET requests, at most 1 KiB and 5 seconds, with no redirects to other hosts.'),
    readOnly() ? null : h('div', { class: 'row' }, verifyBtn),
    out);
}
