// The payload filter of the webhook form: a JSON document in Convoy's
// (MongoDB's) operator syntax over the event's data. The server checks it
// and answers userErrors on "filter" naming the bad path or operator; here
// only JSON that does not parse is caught, so nothing is sent for it.

import { h } from './dom.js';

const EXAMPLE = '{"data.severity": "hard"}';

// filterField is the filter textarea. read(editing) returns { filter,
// errors }: filter is the parsed document, {} to remove one on an edit,
// or undefined to leave it out of a create.
export function filterField(id, errEl, initial) {
  const area = h('textarea', {
    id: id('filter'), name: 'filter', rows: 3, spellcheck: 'false', placeholder: EXAMPLE,
    'aria-describedby': `${id('filter-hint')} ${id('filter-error')}`,
  });
  area.value = initial ? JSON.stringify(initial, null, 2) : '';
  const el = h('div', { class: 'field' },
    h('label', { for: id('filter') }, 'Payload filter (optional)'), area,
    h('p', { id: id('filter-hint'), class: 'hint' },
      'Deliver only events whose data matches, besides their type. Paths start at data: ',
      h('code', {}, EXAMPLE), ', ', h('code', {}, '{"data.tags": {"$contains": "newsletter"}}'), ', ',
      h('code', {}, '{"data.score": {"$gte": 5}}'),
      '. Operators: $eq $ne $in $nin $exists $gt $gte $lt $lte $prefix $contains $and $or $not. Empty: every event of the chosen types.'),
    errEl('filter'));

  function read(editing) {
    const raw = area.value.trim();
    if (raw === '') return { filter: editing ? {} : undefined, errors: [] };
    try {
      return { filter: JSON.parse(raw), errors: [] };
    } catch (e) {
      return { filter: undefined, errors: [{ field: ['input', 'filter'], message: `The filter is not valid JSON: ${e.message}` }] };
    }
  }
  return { el, read };
}

// filterVerdict says in words whether a test event passes the filter.
export function filterVerdict(passes) {
  return passes
    ? 'Passes: published, this event would be delivered.'
    : 'Filtered out: published, this event would not be delivered to this webhook.';
}
