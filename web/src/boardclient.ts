// BoardClient: the pixel board page's state and everything that changes it, owned by ChatClient (whose
// WebSocket carries the board's frames). While the page is open it is subscribed: meta first (size,
// palette, cooldown), then `board_subscribe`, then, once `board_subscribed` came, the board fetched and
// the frames applied by BoardSync's rules (docs/board.md); after a reconnect it subscribes again and
// fetches a board at least as new as the one it holds. Placing a pixel, the cooldown that follows and
// who placed the pixel under the pointer (asked at a throttled pace, see HoverGate) live here too. A
// pixel is placed over the subscribed socket (a `place` frame, its answer matched by client_msg_id:
// PlaceAnswers), or with PUT /api/board/pixels while the socket is not open; the two are refused alike.
//
// Pixels are drawn by the page's painter, told of each change directly (a busy board changes many
// times a second; the rest of the page re-renders only when its own state changes).
import { Observable } from './observable';
import { ApiError, type Api } from './api';
import { BoardSync, isPixelsFrame, type Pixel, type SyncStep } from './boardsync';
import { formatWait, HoverGate } from './boardview';
import { PlaceAnswers, type AnswerFrame, type Placed } from './placing';
import type { BoardMeta, PixelInfo, ServerFrame } from './types';

export type Painter = (changed: Pixel[] | 'all') => void;

// What became of the last placement, for the page to say.
export interface PlaceResult {
  kind: 'placed' | 'refused' | 'error';
  text: string;
}

export interface HoverInfo {
  x: number;
  y: number;
  state: 'waiting' | 'loading' | 'ready' | 'error';
  info?: PixelInfo;
  error?: string;
}

const RETRY_MS = [500, 1000, 2000, 5000, 10_000];
const PENDING_SHOWN_MS = 10_000; // a placement's marker, if its frame never comes
const INFO_CACHE = 256;

export class BoardClient extends Observable {
  meta: BoardMeta | null = null;
  status: 'idle' | 'loading' | 'ready' | 'error' = 'idle';
  error?: string;
  color = 3; // the palette's dark one by default; any is fine
  cooldownUntil = 0; // Date.now() before which a placement would be refused
  placing = false;
  result: PlaceResult | null = null;
  hover: HoverInfo | null = null;
  pending = new Map<number, number>(); // pixel index -> colour: placed here, not seen in a frame yet
  sync: BoardSync | null = null;

  private opened = false;
  private phase: 'idle' | 'subscribing' | 'live' = 'idle';
  private generation = 0; // of the subscription: answers for an older one are dropped
  private failures = 0;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  private painter: Painter | null = null;
  private readonly gate = new HoverGate();
  private hoverTimer: ReturnType<typeof setTimeout> | null = null;
  private readonly infos = new Map<number, PixelInfo>(); // by pixel index; dropped when the pixel changes
  private asking: { index: number; stale: boolean } | null = null; // the pixel asked for now
  private readonly answers = new PlaceAnswers(); // placements sent over the socket, awaiting their answer

  constructor(
    private readonly api: Api,
    private readonly send: (frame: object) => boolean,
  ) {
    super();
  }

  setPainter(painter: Painter | null) {
    this.painter = painter;
    if (painter && this.sync?.pixels) painter('all');
  }

  get version(): number {
    return this.sync?.pixels ? this.sync.version : 0;
  }

  // --- the subscription ---

  // The page opened.
  async open() {
    if (this.opened) return;
    this.opened = true;
    this.status = this.sync?.pixels ? 'ready' : 'loading';
    this.changed();
    // Meta first: the board's size says how to read its bytes. Asked until it comes, while open.
    for (let failures = 0; !this.meta; failures++) {
      try {
        this.meta = await this.api.boardMeta();
      } catch (e) {
        if (!this.opened) return;
        this.status = 'error';
        this.error = `The board could not be loaded: ${(e as Error).message}; trying again…`;
        this.changed();
        await new Promise((resolve) => setTimeout(resolve, RETRY_MS[Math.min(failures, RETRY_MS.length - 1)]));
      }
      if (!this.opened) return;
    }
    this.sync ??= new BoardSync(this.meta.width, this.meta.height);
    this.status = this.sync.pixels ? 'ready' : 'loading';
    this.error = undefined;
    this.subscribeNow();
    this.changed();
  }

  // The page closed: no more frames. The board held stays, for a quick return.
  close() {
    if (!this.opened) return;
    this.opened = false;
    if (this.phase !== 'idle') this.send({ type: 'board_unsubscribe' });
    this.endSubscription();
    this.hoverAt(null);
  }

  // The cooldown and the last placement's outcome were the user's.
  signedOut() {
    this.cooldownUntil = 0;
    this.result = null;
    this.pending.clear();
  }

  onSocketOpen() {
    if (this.opened && this.sync) this.subscribeNow();
  }

  // The socket dropped: the server forgot the subscription, and the answers owed went with it.
  onSocketLost() {
    this.answers.dropAll();
    if (this.phase === 'idle') return;
    this.endSubscription();
    this.changed();
  }

  onFrame(frame: ServerFrame) {
    if (frame.type === 'board_subscribed') {
      if (this.phase !== 'subscribing' || !this.sync) return;
      this.phase = 'live';
      this.run(this.sync.subscribed(frame.v ?? 0), this.version);
    } else if (frame.type === 'pixels') {
      if (this.phase === 'idle' || !this.sync || !isPixelsFrame(frame)) return;
      const before = this.version;
      this.run(this.sync.frame(frame), before);
    }
  }

  // A `placed` or `error` frame: true when it answered a placement of this page's.
  onPlaceAnswer(frame: AnswerFrame): boolean {
    return this.answers.take(frame);
  }

  private subscribeNow() {
    if (this.phase !== 'idle') return;
    if (!this.send({ type: 'board_subscribe' })) return; // onSocketOpen does it
    this.phase = 'subscribing';
    this.sync?.subscribing();
    this.generation++;
    if (!this.sync?.pixels) this.status = 'loading';
  }

  private endSubscription() {
    this.phase = 'idle';
    this.generation++;
    this.sync?.reset();
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
  }

  // Does what BoardSync said: draw what changed, fetch a board.
  private run(step: SyncStep, before: number) {
    if (step.changed === 'all' || step.changed.length) this.settleChanged(step.changed);
    // Drawn also when only the version moved: the canvas says which version it shows.
    if (step.changed === 'all' || step.changed.length || this.version !== before) this.painter?.(step.changed);
    if (step.fetch !== undefined) void this.fetchBoard(step.fetch, this.generation);
  }

  private async fetchBoard(atLeast: number, generation: number) {
    let answer: { bytes: Uint8Array; version: number };
    try {
      answer = await this.api.board(atLeast || undefined);
    } catch (e) {
      if (generation !== this.generation) return;
      if (!this.sync?.pixels) {
        this.status = 'error';
        this.error = `The board could not be loaded: ${(e as Error).message}; trying again…`;
        this.changed();
      }
      this.retryLater(atLeast, generation);
      return;
    }
    if (generation !== this.generation || !this.sync) return;
    // An answer older than asked for (a server whose Redis is behind): taken, and asked again after a while.
    const behind = atLeast > 0 && answer.version < atLeast;
    let step: SyncStep;
    try {
      step = this.sync.board(answer.bytes, answer.version);
    } catch (e) {
      this.status = 'error';
      this.error = `The board could not be read: ${(e as Error).message}`;
      this.changed();
      return;
    }
    this.failures = behind ? this.failures : 0;
    this.status = 'ready';
    this.error = undefined;
    this.changed();
    if (behind && step.fetch !== undefined) {
      this.run({ changed: step.changed }, -1);
      this.retryLater(step.fetch, generation);
    } else {
      this.run(step, -1);
    }
  }

  private retryLater(atLeast: number, generation: number) {
    const delay = RETRY_MS[Math.min(this.failures++, RETRY_MS.length - 1)];
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      if (generation === this.generation) void this.fetchBoard(atLeast, generation);
    }, delay);
  }

  // A pixel that changed is no longer pending, and what was known of who placed it is stale.
  // The page re-renders only when what it shows besides the canvas changed (a busy board sends
  // many frames a second).
  private settleChanged(changed: Pixel[] | 'all') {
    const width = this.meta!.width;
    const pendingBefore = this.pending.size;
    if (changed === 'all') {
      this.infos.clear();
      this.pending.clear();
      if (this.asking) this.asking.stale = true;
    } else {
      for (const [x, y] of changed) {
        const i = y * width + x;
        this.infos.delete(i);
        this.pending.delete(i);
        if (this.asking?.index === i) this.asking.stale = true;
      }
    }
    let shown = this.pending.size !== pendingBefore;
    // What is shown of the pixel under the pointer is asked again (at the gate's pace).
    const h = this.hover;
    if (h && h.state === 'ready' && (changed === 'all' || changed.some(([x, y]) => x === h.x && y === h.y))) {
      this.hover = { x: h.x, y: h.y, state: 'waiting' };
      this.scheduleHover();
      shown = true;
    }
    if (shown) this.changed();
  }

  // --- placing ---

  selectColor(color: number) {
    this.color = color;
    this.changed();
  }

  cooldownLeft(now = Date.now()): number {
    return Math.max(0, this.cooldownUntil - now);
  }

  // Places the chosen colour at (x, y). Inside the cooldown this client knows of, the server is not
  // asked: the page says how long to wait. A `rate_limited` refusal (a placement from elsewhere
  // started it) sets it.
  async place(x: number, y: number) {
    const meta = this.meta;
    if (!meta || this.placing) return;
    const left = this.cooldownLeft();
    if (left > 0) {
      this.result = { kind: 'refused', text: `Wait ${formatWait(left)}: one pixel every ${formatWait(meta.cooldown_ms)}.` };
      this.changed();
      return;
    }
    const color = this.color;
    this.placing = true;
    this.result = null;
    this.changed();
    try {
      await this.placeAt(x, y, color);
      this.cooldownUntil = Date.now() + meta.cooldown_ms;
      this.result = { kind: 'placed', text: `Placed at ${x}, ${y}.` };
      if (this.sync?.colorAt(x, y) !== color || this.phase !== 'live') this.markPending(x, y, color);
    } catch (e) {
      const error = e as ApiError;
      if (error instanceof ApiError && (error.status === 429 || error.code === 'rate_limited')) {
        const wait = error.retryAfterMs ?? meta.cooldown_ms;
        this.cooldownUntil = Date.now() + wait;
        this.result = { kind: 'refused', text: `Too soon: you can place again in ${formatWait(wait)}.` };
      } else {
        this.result = { kind: 'error', text: `Not placed: ${error.message}` };
      }
    }
    this.placing = false;
    this.changed();
  }

  // Over the socket while subscribed on it, else over HTTP; a refusal is an ApiError either way.
  private async placeAt(x: number, y: number, color: number): Promise<Placed> {
    const answer = this.answers.place(
      (clientMsgId) => this.phase !== 'idle' && this.send({ type: 'place', x, y, color, client_msg_id: clientMsgId }),
    );
    if (!answer) return this.api.placePixel(x, y, color);
    const a = await answer;
    if ('refused' in a) throw new ApiError(0, a.refused.code, a.refused.reason, a.refused.retryAfterMs);
    return a.placed;
  }

  private markPending(x: number, y: number, color: number) {
    const i = y * this.meta!.width + x;
    this.pending.set(i, color);
    setTimeout(() => {
      if (this.pending.get(i) !== color) return;
      this.pending.delete(i);
      this.changed();
    }, PENDING_SHOWN_MS);
  }

  // --- who placed the pixel under the pointer ---

  // The pointer is over (x, y), or off the board (null).
  hoverAt(pixel: { x: number; y: number } | null) {
    const h = this.hover;
    if (pixel && h && h.x === pixel.x && h.y === pixel.y) return;
    if (this.hoverTimer) clearTimeout(this.hoverTimer);
    this.hoverTimer = null;
    const now = Date.now();
    if (!pixel || !this.meta) {
      this.gate.point(null, now);
      if (this.hover) {
        this.hover = null;
        this.changed();
      }
      return;
    }
    this.gate.point(`${pixel.x},${pixel.y}`, now);
    const known = this.infos.get(pixel.y * this.meta.width + pixel.x);
    this.hover = known ? { ...pixel, state: 'ready', info: known } : { ...pixel, state: 'waiting' };
    if (!known) this.scheduleHover();
    this.changed();
  }

  private scheduleHover() {
    const wait = this.gate.wait(Date.now());
    if (wait === null) return;
    if (this.hoverTimer) clearTimeout(this.hoverTimer);
    this.hoverTimer = setTimeout(() => {
      this.hoverTimer = null;
      void this.askHover();
    }, wait);
  }

  private async askHover() {
    const h = this.hover;
    if (!h || h.state !== 'waiting' || !this.meta) return;
    const now = Date.now();
    if (this.gate.wait(now) !== 0) return this.scheduleHover();
    this.gate.asked(now);
    const { x, y } = h;
    this.hover = { x, y, state: 'loading' };
    this.changed();
    const still = () => this.hover?.x === x && this.hover?.y === y;
    const asking = { index: y * this.meta.width + x, stale: false };
    this.asking = asking;
    try {
      const info = await this.api.pixel(x, y);
      if (asking.stale) {
        // The pixel changed while the answer was on its way: it may not say who placed it last.
        if (still()) {
          this.hover = { x, y, state: 'waiting' };
          this.scheduleHover();
        }
      } else {
        if (this.infos.size >= INFO_CACHE) this.infos.delete(this.infos.keys().next().value!);
        this.infos.set(asking.index, info);
        if (still()) this.hover = { x, y, state: 'ready', info };
      }
    } catch (e) {
      if (still()) this.hover = { x, y, state: 'error', error: (e as Error).message };
    }
    if (this.asking === asking) this.asking = null;
    this.changed();
  }
}
