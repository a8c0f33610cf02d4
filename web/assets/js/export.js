// Export of a webhook's delivery log as NDJSON or CSV. The export route
// needs the Bearer key, which a plain link cannot send, so the page
// fetches it and saves the bytes (gql.js download).

import { h, replace, errorBox, busy } from './dom.js';
import { download } from './gql.js';

// exportControls are the export buttons for webhook w.
export function exportControls(w) {
  const out = h('div', { role: 'status', 'aria-live': 'polite', id: 'export-result' });
  const slug = (w.name || 'webhook').toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '') || 'webhook';
  const button = (format, label) => {
    const b = h('button', { type: 'button', id: `export-${format}` }, label);
    b.addEventListener('click', () => busy(b, async () => {
      replace(out);
      try {
        await download(`/v1/deliveries/export?webhook=${encodeURIComponent(w.id)}&format=${format}`, `deliveries-${slug}.${format}`);
      } catch (e) {
        replace(out, errorBox(`The export could not be downloaded: ${e.message}`));
      }
    }));
    return b;
  };
  return h('div', { class: 'row', id: 'export' },
    h('span', { class: 'small', id: 'export-label', title: 'Every delivery of this webhook, oldest first, whatever the filter.' }, 'Export all:'),
    button('ndjson', 'NDJSON'), button('csv', 'CSV'), out);
}
