// The board page's arithmetic, pure: the view (zoom and pan) as a scale and an offset, which board
// pixel a point of the screen is on, when a hover may ask the server who placed a pixel, and how a
// wait reads. board.tsx and boardclient.ts hold the state; this says what it becomes.

// A board pixel (bx, by) is drawn at screen (x + bx * scale, y + by * scale), in CSS pixels of the
// viewport; one board pixel is `scale` CSS pixels wide.
export interface View {
  scale: number;
  x: number;
  y: number;
}

export const MAX_SCALE = 48;
const KEEP_VISIBLE_PX = 48; // of the board, however far it is dragged

// The smallest zoom: the whole board fits with room to spare (and never below a tenth of a pixel).
export function minScale(viewW: number, viewH: number, w: number, h: number): number {
  return Math.max(0.1, Math.min(1, fitScale(viewW, viewH, w, h) / 2));
}

function fitScale(viewW: number, viewH: number, w: number, h: number): number {
  return Math.min(viewW / w, viewH / h);
}

// The whole board, centred, as large as fits.
export function fitView(viewW: number, viewH: number, w: number, h: number): View {
  const scale = Math.min(MAX_SCALE, fitScale(viewW, viewH, w, h));
  return { scale, x: (viewW - w * scale) / 2, y: (viewH - h * scale) / 2 };
}

// Zooms by `factor` about the screen point (px, py), which stays over the same board point.
export function zoomAt(view: View, factor: number, px: number, py: number, min: number): View {
  const scale = Math.min(MAX_SCALE, Math.max(min, view.scale * factor));
  const k = scale / view.scale;
  return { scale, x: px - (px - view.x) * k, y: py - (py - view.y) * k };
}

// Moves by (dx, dy), keeping some of the board on screen.
export function panBy(view: View, dx: number, dy: number, viewW: number, viewH: number, w: number, h: number): View {
  return clampView({ ...view, x: view.x + dx, y: view.y + dy }, viewW, viewH, w, h);
}

export function clampView(view: View, viewW: number, viewH: number, w: number, h: number): View {
  const keepX = Math.min(KEEP_VISIBLE_PX, w * view.scale, viewW);
  const keepY = Math.min(KEEP_VISIBLE_PX, h * view.scale, viewH);
  return {
    scale: view.scale,
    x: Math.min(viewW - keepX, Math.max(keepX - w * view.scale, view.x)),
    y: Math.min(viewH - keepY, Math.max(keepY - h * view.scale, view.y)),
  };
}

// The board pixel under the screen point, or null off the board.
export function pixelAt(view: View, px: number, py: number, w: number, h: number): { x: number; y: number } | null {
  const x = Math.floor((px - view.x) / view.scale);
  const y = Math.floor((py - view.y) / view.scale);
  return x >= 0 && y >= 0 && x < w && y < h ? { x, y } : null;
}

// HoverGate: who placed the pixel under the pointer is asked once the pointer has rested on that
// pixel for `restMs`, and never more than `perSecond` times in any second, however the pointer moves.
export class HoverGate {
  private target: string | null = null;
  private since = 0;
  private readonly asks: number[] = []; // times of the last asks, at most perSecond of them

  constructor(
    readonly restMs = 250,
    readonly perSecond = 3,
  ) {}

  // The pointer is on `key` (a pixel; null: off the board) at `now`.
  point(key: string | null, now: number) {
    if (key === this.target) return;
    this.target = key;
    this.since = now;
  }

  get current(): string | null {
    return this.target;
  }

  // Milliseconds until the current pixel may be asked for (0: now), or null when there is none.
  wait(now: number): number | null {
    if (this.target === null) return null;
    const rested = this.since + this.restMs - now;
    const rate = this.asks.length < this.perSecond ? 0 : this.asks[0] + 1000 - now;
    return Math.max(0, rested, rate);
  }

  // An ask went out at `now`.
  asked(now: number) {
    this.asks.push(now);
    while (this.asks.length > this.perSecond) this.asks.shift();
  }
}

// A wait for people: "4.2 s" under ten seconds, then whole seconds, then minutes and seconds.
export function formatWait(ms: number): string {
  const s = Math.max(0, ms) / 1000;
  if (s < 10) return `${(Math.ceil(s * 10) / 10).toFixed(1)} s`;
  if (s < 60) return `${Math.ceil(s)} s`;
  const whole = Math.ceil(s);
  return `${Math.floor(whole / 60)} min ${whole % 60} s`;
}
