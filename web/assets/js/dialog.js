// confirmDialog asks before something that can't be undone. <dialog>
// traps focus, closes on Escape, and returns focus to the opener.

import { h } from './dom.js';

export function confirmDialog({ title, body, confirmLabel, danger = false }) {
  return new Promise((resolve) => {
    const cancel = h('button', { type: 'button', autofocus: true, value: 'cancel' }, 'Cancel');
    const ok = h('button', { type: 'button', class: danger ? 'danger' : 'primary', value: 'ok', id: 'confirm-ok' }, confirmLabel);
    const dlg = h('dialog', { 'aria-labelledby': 'dialog-title', id: 'confirm-dialog' },
      h('h2', { id: 'dialog-title' }, title),
      (Array.isArray(body) ? body : [body]).map((p) => h('p', {}, p)),
      h('div', { class: 'row' }, cancel, ok));
    cancel.addEventListener('click', () => dlg.close('cancel'));
    ok.addEventListener('click', () => dlg.close('ok'));
    dlg.addEventListener('close', () => {
      dlg.remove();
      resolve(dlg.returnValue === 'ok');
    });
    document.body.append(dlg);
    dlg.showModal();
  });
}
