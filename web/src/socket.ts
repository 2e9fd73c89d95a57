// Socket: the one WebSocket to ingress, kept open. When it drops it reconnects with exponential
// backoff and jitter (so a restarted server is not hit by every client at once), at once when the
// browser says it is back online. It knows nothing of rooms: the owner re-joins them in onOpen.
import type { ServerFrame } from './types';

export type ConnectionState = 'connecting' | 'connected' | 'reconnecting' | 'offline';

export interface SocketHandlers {
  onOpen(): void;
  onFrame(frame: ServerFrame): void;
  onState(state: ConnectionState): void;
  // Called after a few attempts in a row failed before opening, or when the server closed the socket
  // because its session was logged out: the token may be at fault.
  onRepeatedFailure(): void;
}

const BASE_DELAY_MS = 500;
const MAX_DELAY_MS = 10_000;
const CLOSE_LOGGED_OUT = 4001;
const CLOSE_SERVICE_RESTART = 1012; // the server is draining (a rolling restart): another one is up

// How long to wait before connecting again after a close with `code`, the `failures`-th in a row;
// `opened`: the connection had opened. A server that is restarting has a replacement ready, so the
// client goes at once, with a little jitter so that its clients do not all arrive in the same
// instant; other closes back off exponentially, with jitter. `random` is in [0, 1).
export function reconnectDelay(code: number, opened: boolean, failures: number, random: () => number = Math.random): number {
  if (opened && code === CLOSE_SERVICE_RESTART) return Math.round(random() * 100);
  const delay = Math.min(MAX_DELAY_MS, BASE_DELAY_MS * 2 ** Math.min(failures - 1, 5));
  return delay * (0.5 + random() * 0.5);
}

export class Socket {
  private ws: WebSocket | null = null;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private failures = 0; // attempts in a row that never opened, or dropped
  private stopped = true;
  state: ConnectionState = 'offline';

  constructor(
    private readonly url: () => string,
    private readonly handlers: SocketHandlers,
  ) {}

  start() {
    if (!this.stopped) return;
    this.stopped = false;
    window.addEventListener('online', this.retryNow);
    this.connect();
  }

  stop() {
    this.stopped = true;
    window.removeEventListener('online', this.retryNow);
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const ws = this.ws;
    this.ws = null;
    ws?.close(1000, 'bye');
    this.setState('offline');
  }

  // False when the socket is not open: the caller keeps the frame and sends it after onOpen.
  send(frame: object): boolean {
    if (!this.ws || this.ws.readyState !== WebSocket.OPEN) return false;
    this.ws.send(JSON.stringify(frame));
    return true;
  }

  private readonly retryNow = () => {
    if (this.stopped || this.ws) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.connect();
  };

  private connect() {
    this.setState(this.failures === 0 ? 'connecting' : 'reconnecting');
    let opened = false;
    const ws = new WebSocket(this.url());
    this.ws = ws;
    ws.onopen = () => {
      if (this.ws !== ws) return;
      opened = true;
      this.failures = 0;
      this.setState('connected');
      this.handlers.onOpen();
    };
    ws.onmessage = (event) => {
      if (this.ws !== ws || typeof event.data !== 'string') return;
      let frame: ServerFrame;
      try {
        frame = JSON.parse(event.data);
      } catch {
        return; // not ours to fix; the server only sends JSON
      }
      this.handlers.onFrame(frame);
    };
    ws.onclose = (event) => {
      if (this.ws !== ws) return;
      this.ws = null;
      if (this.stopped) return;
      this.failures++;
      // 4001: the session was logged out (in another tab, say): the owner finds out at once.
      if (event.code === CLOSE_LOGGED_OUT || (!opened && this.failures % 3 === 0)) this.handlers.onRepeatedFailure();
      this.setState('reconnecting');
      this.timer = setTimeout(() => {
        this.timer = null;
        if (!this.stopped) this.connect();
      }, reconnectDelay(event.code, opened, this.failures));
    };
  }

  private setState(state: ConnectionState) {
    if (this.state === state) return;
    this.state = state;
    this.handlers.onState(state);
  }
}
