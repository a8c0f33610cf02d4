// A graphql-transport-ws client: connection_init (with the API key) →
// connection_ack, subscribe, next/error/complete, and pong for every ping.
// It reconnects with backoff after a dropped connection and tells the
// caller, who refetches to fill whatever was missed meanwhile.

import { authHeaders } from './gql.js';

const PROTOCOL = 'graphql-transport-ws';
// 4403 is the protocol's "forbidden": the key was refused; don't retry.
const FORBIDDEN = 4403;

export class LiveSubscription {
  // onNext(data), onState('connecting'|'live'|'reconnecting'|'refused'|'error', detail),
  // onReconnect() after a connection was re-established.
  constructor({ query, variables, onNext, onState = () => {}, onReconnect = () => {} }) {
    Object.assign(this, { query, variables, onNext, onState, onReconnect });
    this.stopped = false;
    this.attempt = 0;
    this.ws = null;
    this.timer = null;
  }

  start() {
    this.connect();
    return this;
  }

  connect() {
    if (this.stopped) return;
    const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
    const ws = new WebSocket(`${scheme}://${location.host}/graphql`, PROTOCOL);
    this.ws = ws;
    this.onState(this.attempt ? 'reconnecting' : 'connecting');
    ws.onopen = () => {
      // The key, or the CSRF token that vouches for the handshake's cookie.
      ws.send(JSON.stringify({ type: 'connection_init', payload: authHeaders() }));
    };
    ws.onmessage = (ev) => this.receive(ws, ev);
    ws.onclose = (ev) => this.closed(ws, ev);
  }

  receive(ws, ev) {
    let msg;
    try { msg = JSON.parse(ev.data); } catch { return; }
    switch (msg.type) {
      case 'connection_ack':
        ws.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query: this.query, variables: this.variables } }));
        if (this.attempt > 0) this.onReconnect();
        this.attempt = 0;
        this.onState('live');
        break;
      case 'ping':
        ws.send(JSON.stringify({ type: 'pong' }));
        break;
      case 'next':
        if (msg.payload && msg.payload.errors && msg.payload.errors.length) {
          this.onState('error', msg.payload.errors[0].message);
        } else if (msg.payload && msg.payload.data) {
          this.onNext(msg.payload.data);
        }
        break;
      case 'error': {
        const errs = Array.isArray(msg.payload) ? msg.payload : [];
        this.onState('error', errs.length ? errs[0].message : 'the subscription was refused');
        this.stopped = true;
        ws.close(1000);
        break;
      }
      case 'complete':
        // The server ended the stream; reconnect as after a drop.
        ws.close(1000);
        break;
    }
  }

  closed(ws, ev) {
    if (ws !== this.ws || this.stopped) return;
    if (ev.code === FORBIDDEN) {
      this.onState('refused', ev.reason || 'the API key was refused');
      return;
    }
    this.attempt++;
    const delay = Math.min(10000, 500 * 2 ** Math.min(this.attempt, 5));
    this.onState('reconnecting');
    this.timer = setTimeout(() => this.connect(), delay);
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    const ws = this.ws;
    if (ws && ws.readyState === WebSocket.OPEN) {
      ws.send(JSON.stringify({ id: '1', type: 'complete' }));
      ws.close(1000);
    } else if (ws) {
      ws.close();
    }
  }
}
