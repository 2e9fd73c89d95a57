// BoardSync: the pixel board as this client holds it, and the version rules of docs/board.md that
// keep it equal to the server's without a gap: the board bytes from GET /api/board at version B, and
// the `pixels` frames kept since the subscription, each applied, dropped or turned into a refetch by
// its prev/v. Pure (no DOM, no network): the owner sends and fetches what it is told to and draws what
// changed.
//
// The owner's part, in order: subscribing() as it sends `board_subscribe`; subscribed(v) when
// `board_subscribed` comes with the version the subscription began at; frames with frame(); the answer
// of the fetch it was asked for with board(). Each of those returns what to do next: `fetch` (a
// version to ask GET /api/board?v= for, or 0 for the plain URL) when a board is needed, and `changed`
// (the pixels set, or 'all' when a whole new board came).

export type Pixel = [x: number, y: number, color: number];

export interface PixelsFrame {
  type: 'pixels';
  prev: number;
  v: number;
  pixels: Pixel[];
}

export interface SyncStep {
  fetch?: number; // fetch a board: at this version or newer (?v=N), 0: the plain GET /api/board
  changed: Pixel[] | 'all';
}

// The board's bytes as GET /api/board sends them (4 bits a pixel, row-major, high nibble first) as
// one palette index a pixel. Throws when there are fewer bytes than the size needs.
export function decodeBoard(bytes: Uint8Array, width: number, height: number): Uint8Array {
  const count = width * height;
  if (bytes.length < Math.ceil(count / 2))
    throw new Error(`the board has ${bytes.length} bytes; ${width}×${height} needs ${Math.ceil(count / 2)}`);
  const pixels = new Uint8Array(count);
  for (let i = 0; i + 1 < count; i += 2) {
    const b = bytes[i >> 1];
    pixels[i] = b >> 4;
    pixels[i + 1] = b & 15;
  }
  if (count % 2) pixels[count - 1] = bytes[(count - 1) >> 1] >> 4;
  return pixels;
}

// "#rrggbb" as [r, g, b].
export function parseColor(hex: string): [number, number, number] {
  const m = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(hex);
  if (!m) return [0, 0, 0];
  return [parseInt(m[1], 16), parseInt(m[2], 16), parseInt(m[3], 16)];
}

export function isPixelsFrame(f: unknown): f is PixelsFrame {
  const frame = f as PixelsFrame;
  return frame?.type === 'pixels' && Number.isFinite(frame.prev) && Number.isFinite(frame.v) && Array.isArray(frame.pixels);
}

export class BoardSync {
  pixels: Uint8Array | null = null; // palette indices, row-major; null until a board came
  version = 0; // B: the version `pixels` is at
  private kept: PixelsFrame[] = []; // frames not applied yet: no board, or a fetch under way
  private fetching = false;
  private listening = false; // from subscribing() to reset(): frames are kept
  private confirmed = false; // `board_subscribed` came
  private floor = 0; // the version the subscription began at: the board fetched must reach it

  constructor(
    readonly width: number,
    readonly height: number,
  ) {}

  // Whether a board fetch is under way: its answer must come to board().
  get awaitingBoard(): boolean {
    return this.fetching;
  }

  // `board_subscribe` is sent: frames count from now (they may come before `board_subscribed`).
  subscribing() {
    this.listening = true;
    this.confirmed = false;
    this.kept = [];
    this.fetching = false;
  }

  // `board_subscribed` came with `v`, the version the subscription began at: every change above it
  // comes as a frame, so a board at v or newer completes them. The board is fetched again even when
  // one is held (frames were missed while not subscribed): at least as new as it and v (?v=), else
  // the plain URL (a CDN's copy may be older than v: then board() asks again for v).
  subscribed(v = 0): SyncStep {
    this.listening = true;
    this.confirmed = true;
    this.floor = v;
    this.fetching = true;
    return { fetch: this.pixels ? Math.max(this.version, v) : 0, changed: [] };
  }

  // The subscription ended (unsubscribed, the socket dropped): frames are not kept until the next.
  // The board held stays, at its version.
  reset() {
    this.listening = false;
    this.confirmed = false;
    this.kept = [];
    this.fetching = false;
  }

  // A `pixels` frame. Before subscribing() it is not ours to keep (step 1 of docs/board.md).
  frame(frame: PixelsFrame): SyncStep {
    if (!this.listening) return { changed: [] };
    this.kept.push(frame);
    if (this.fetching || !this.confirmed) return { changed: [] };
    return this.drain();
  }

  // The answer of the fetch asked for: the board's bytes at `version`. (A fetch that failed is asked
  // again by the owner: frames are kept meanwhile.)
  board(bytes: Uint8Array, version: number): SyncStep {
    if (!this.fetching) return { changed: [] }; // a late answer after reset(): the next subscription fetches again
    this.pixels = decodeBoard(bytes, this.width, this.height);
    this.version = version;
    this.fetching = false;
    const step = this.drain();
    if (step.fetch === undefined && this.version < this.floor) {
      this.fetching = true; // older than the subscription, and no frame bridges the gap
      return { fetch: this.floor, changed: 'all' };
    }
    return { fetch: step.fetch, changed: 'all' };
  }

  // Step 3: every kept frame in order, until one shows a gap (then a fetch at its prev, keeping it and
  // the rest for after).
  private drain(): SyncStep {
    const changed: Pixel[] = [];
    while (this.kept.length) {
      const f = this.kept[0];
      if (f.v <= this.version) {
        this.kept.shift();
        continue;
      }
      if (f.prev > this.version) {
        this.fetching = true;
        return { fetch: f.prev, changed };
      }
      this.kept.shift();
      for (const p of f.pixels) if (this.set(p)) changed.push(p);
      this.version = f.v;
    }
    return { changed };
  }

  private set([x, y, color]: Pixel): boolean {
    if (!this.pixels || x < 0 || y < 0 || x >= this.width || y >= this.height || color < 0 || color > 15) return false;
    this.pixels[y * this.width + x] = color;
    return true;
  }

  colorAt(x: number, y: number): number | undefined {
    return this.pixels?.[y * this.width + x];
  }
}
