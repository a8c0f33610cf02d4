// Starts GraphiQL on webhookd's /graphql endpoint. Everything it loads is
// served by webhookd itself, so the explorer works without internet access.
// API keys go in the Headers tab as {"Authorization": "Bearer whk_…"};
// in --dev the demo key is filled in for visitors on this machine.
'use strict';

(async function main() {
  let config = { endpoint: '/graphql', headers: '{\n  "Authorization": "Bearer "\n}' };
  try {
    const res = await fetch('/graphiql/config.json', { cache: 'no-store' });
    if (res.ok) config = await res.json();
  } catch (err) {
    console.warn('explorer config unavailable, using defaults', err);
  }

  let initialHeaders = {};
  try {
    initialHeaders = JSON.parse(config.headers);
  } catch {
    // not JSON: the Headers tab shows it for the user to fix
  }

  // fetcher sends queries and mutations as JSON POSTs, and subscriptions
  // over the server's SSE transport, with the headers of the Headers tab.
  // GraphiQL fetches the schema before that tab exists, without headers;
  // the initial headers stand in for it then.
  function fetcher(params, opts) {
    const given = opts && opts.headers && Object.keys(opts.headers).length ? opts.headers : initialHeaders;
    const headers = Object.assign({ 'Content-Type': 'application/json' }, given);
    const subscription = /^\s*subscription\b/.test(params.query || '') ||
      (params.operationName && new RegExp('subscription\\s+' + params.operationName + '\\b').test(params.query || ''));
    if (subscription) return subscribe(params, headers);
    headers.Accept = 'application/graphql-response+json, application/json';
    return fetch(config.endpoint, { method: 'POST', headers, body: JSON.stringify(params), credentials: 'omit' })
      .then(async (res) => {
        const text = await res.text();
        try {
          return JSON.parse(text);
        } catch {
          return { errors: [{ message: 'HTTP ' + res.status + ': ' + text.trim() }] };
        }
      });
  }

  // subscribe yields each "next" event of a text/event-stream response
  // until "complete", or until GraphiQL stops listening.
  async function* subscribe(params, headers) {
    const abort = new AbortController();
    headers.Accept = 'text/event-stream';
    try {
      const res = await fetch(config.endpoint, { method: 'POST', headers, body: JSON.stringify(params), credentials: 'omit', signal: abort.signal });
      if (!res.ok || !res.body) {
        yield { errors: [{ message: 'HTTP ' + res.status + ': ' + (await res.text()).trim() }] };
        return;
      }
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      let buf = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        buf += value;
        let end;
        while ((end = buf.indexOf('\n\n')) >= 0) {
          const block = buf.slice(0, end);
          buf = buf.slice(end + 2);
          const event = /^event: *(.*)$/m.exec(block);
          const data = block.split('\n').filter((l) => l.startsWith('data:')).map((l) => l.slice(5).trim()).join('\n');
          if (event && event[1] === 'complete') return;
          if (data) yield JSON.parse(data);
        }
      }
    } finally {
      abort.abort();
    }
  }

  const root = ReactDOM.createRoot(document.getElementById('graphiql'));
  root.render(React.createElement(GraphiQL, {
    fetcher,
    defaultHeaders: config.headers,
    defaultEditorToolsVisibility: 'headers',
    shouldPersistHeaders: false,
    defaultQuery: '# Put your key in the Headers tab below as\n# {"Authorization": "Bearer whk_…"}, then run:\n{\n  viewer {\n    keyId\n    scope\n  }\n}\n',
  }));
})();
