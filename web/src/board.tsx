// The pixel board page (docs/board.md): the board on a canvas of its own size (one canvas pixel a
// board pixel, so what it shows is exactly the board held), zoomed and panned by a CSS transform
// (Preact's style prop sets it through the CSSOM, which the policy allows); a palette; a click places
// the chosen colour, a drag pans, the wheel and the buttons zoom; the cooldown counts down; the pixel
// under the pointer (or the keyboard's cursor) says who placed it. The state is BoardClient's.
import { useEffect, useLayoutEffect, useReducer, useRef, useState } from 'preact/hooks';
import type { BoardClient } from './boardclient';
import { parseColor, type Pixel } from './boardsync';
import { clampView, fitView, formatWait, minScale, panBy, pixelAt, zoomAt, type View } from './boardview';
import type { ChatClient } from './client';
import { formatTime } from './message';

const DRAG_PX = 4; // a press that moves less than this is a click
const WHEEL_STEP = 1.0015; // zoom factor per wheel delta pixel
const BUTTON_STEP = 2;
const MAX_PENDING_SHOWN = 20;

function useBoard(board: BoardClient) {
  const [, render] = useReducer((n: number) => n + 1, 0);
  useEffect(() => board.subscribe(() => render(undefined)), [board]);
}

export function BoardView({ client }: { client: ChatClient }) {
  const board = client.board;
  useBoard(board);
  useEffect(() => {
    void board.open();
    return () => board.close();
  }, [board]);
  const meta = board.meta;
  return (
    <section class="board-page" aria-label="Pixel board">
      <header class="board-header">
        <h2>Pixel board</h2>
        {meta && <Cooldown board={board} />}
      </header>
      {board.status === 'error' && (
        <p class="room-error" role="alert">
          {board.error}
        </p>
      )}
      {meta && (
        <>
          <Palette board={board} palette={meta.palette} />
          <Canvas board={board} />
          <Status board={board} />
        </>
      )}
    </section>
  );
}

function Palette({ board, palette }: { board: BoardClient; palette: string[] }) {
  return (
    <div class="palette" role="group" aria-label="Colours">
      {palette.map((hex, i) => (
        <button
          type="button"
          key={i}
          class="swatch"
          style={{ backgroundColor: hex }}
          aria-label={`Colour ${i + 1}, ${hex}`}
          aria-pressed={board.color === i}
          data-color={i}
          onClick={() => board.selectColor(i)}
        />
      ))}
    </div>
  );
}

// The wait before the next placement, counted down while there is one.
function Cooldown({ board }: { board: BoardClient }) {
  const [, tick] = useReducer((n: number) => n + 1, 0);
  const left = board.cooldownLeft();
  useEffect(() => {
    if (board.cooldownUntil <= Date.now()) return;
    const timer = setInterval(() => {
      tick(undefined);
      if (board.cooldownUntil <= Date.now()) clearInterval(timer);
    }, 100);
    return () => clearInterval(timer);
  }, [board, board.cooldownUntil]);
  return (
    <p class="cooldown" role="timer" aria-label="Cooldown" data-ready={left === 0}>
      {board.placing ? 'Placing…' : left > 0 ? `Next pixel in ${formatWait(left)}` : 'Ready: click a pixel to place'}
    </p>
  );
}

function Status({ board }: { board: BoardClient }) {
  const h = board.hover;
  const result = board.result;
  let who = '';
  if (h?.state === 'ready') {
    const last = h.info?.history[0];
    who = last ? `placed by ${last.user.name}, ${formatTime(last.ts).full}` : 'nobody has placed this pixel yet';
  } else if (h?.state === 'loading' || h?.state === 'waiting') {
    who = '…';
  } else if (h?.state === 'error') {
    who = `unknown (${h.error})`;
  }
  return (
    <footer class="board-status">
      <p class="pixel-info" role="status" aria-label="Pixel" data-state={h?.state}>
        {h ? (
          <>
            <span class="coords">
              {h.x}, {h.y}
            </span>{' '}
            <span class="who">{who}</span>
          </>
        ) : (
          <span class="hint">Point at a pixel to see who placed it.</span>
        )}
      </p>
      {result && (
        <p class={`place-result ${result.kind}`} role={result.kind === 'placed' ? 'status' : 'alert'} data-kind={result.kind}>
          {result.text}
        </p>
      )}
    </footer>
  );
}

// The canvas, its viewport and the zoom buttons.
function Canvas({ board }: { board: BoardClient }) {
  const meta = board.meta!;
  const { width: w, height: h } = meta;
  const viewport = useRef<HTMLDivElement>(null);
  const canvas = useRef<HTMLCanvasElement>(null);
  const size = useRef({ w: 0, h: 0 });
  const [view, setViewState] = useState<View | null>(null);
  const viewRef = useRef<View | null>(null);
  const [cursor, setCursor] = useState<{ x: number; y: number } | null>(null);
  const press = useRef<{ id: number; x: number; y: number; start: View; dragging: boolean } | null>(null);

  const setView = (v: View) => {
    viewRef.current = v;
    setViewState(v);
  };
  const min = () => minScale(size.current.w, size.current.h, w, h);
  const local = (e: { clientX: number; clientY: number }) => {
    const r = viewport.current!.getBoundingClientRect();
    return { x: e.clientX - r.left, y: e.clientY - r.top };
  };

  // The first view fits the board; a resize keeps the view, within bounds.
  useLayoutEffect(() => {
    const el = viewport.current!;
    const measure = () => {
      size.current = { w: el.clientWidth, h: el.clientHeight };
      const v = viewRef.current;
      setView(v ? clampView(v, size.current.w, size.current.h, w, h) : fitView(size.current.w, size.current.h, w, h));
    };
    measure();
    const observer = new ResizeObserver(measure);
    observer.observe(el);
    return () => observer.disconnect();
  }, [w, h]);

  // The painter draws the board held into the canvas: all of it, or only what changed.
  useEffect(() => {
    const ctx = canvas.current!.getContext('2d')!;
    const image = ctx.createImageData(w, h);
    const colors = meta.palette.map(parseColor);
    const put = (i: number, c: number) => {
      const rgb = colors[c] ?? [0, 0, 0];
      const o = i * 4;
      image.data[o] = rgb[0];
      image.data[o + 1] = rgb[1];
      image.data[o + 2] = rgb[2];
      image.data[o + 3] = 255;
    };
    board.setPainter((changed: Pixel[] | 'all') => {
      const pixels = board.sync?.pixels;
      if (!pixels) return;
      if (changed === 'all') {
        for (let i = 0; i < pixels.length; i++) put(i, pixels[i]);
        ctx.putImageData(image, 0, 0);
      } else {
        let x0 = w, y0 = h, x1 = -1, y1 = -1;
        for (const [x, y] of changed) {
          put(y * w + x, pixels[y * w + x]);
          x0 = Math.min(x0, x);
          y0 = Math.min(y0, y);
          x1 = Math.max(x1, x);
          y1 = Math.max(y1, y);
        }
        if (x1 >= 0) ctx.putImageData(image, 0, 0, x0, y0, x1 - x0 + 1, y1 - y0 + 1);
      }
      canvas.current!.dataset.version = String(board.version);
    });
    return () => board.setPainter(null);
  }, [board, meta]);

  // The wheel zooms about the pointer; the listener is not passive, so the page does not scroll.
  useEffect(() => {
    const el = viewport.current!;
    const onWheel = (e: WheelEvent) => {
      const v = viewRef.current;
      if (!v) return;
      e.preventDefault();
      const p = local(e);
      const delta = e.deltaMode === 1 ? e.deltaY * 16 : e.deltaY;
      setView(clampView(zoomAt(v, Math.pow(WHEEL_STEP, -delta), p.x, p.y, min()), size.current.w, size.current.h, w, h));
    };
    el.addEventListener('wheel', onWheel, { passive: false });
    return () => el.removeEventListener('wheel', onWheel);
  }, [w, h]);

  const zoomButton = (factor: number) => {
    const v = viewRef.current;
    if (!v) return;
    const z = zoomAt(v, factor, size.current.w / 2, size.current.h / 2, min());
    setView(clampView(z, size.current.w, size.current.h, w, h));
  };

  const onPointerDown = (e: PointerEvent) => {
    if (e.button !== 0 || !viewRef.current) return;
    viewport.current!.setPointerCapture(e.pointerId);
    press.current = { id: e.pointerId, x: e.clientX, y: e.clientY, start: viewRef.current, dragging: false };
  };
  const onPointerMove = (e: PointerEvent) => {
    const v = viewRef.current;
    if (!v) return;
    const p = press.current;
    if (p && p.id === e.pointerId) {
      const dx = e.clientX - p.x;
      const dy = e.clientY - p.y;
      if (!p.dragging && Math.hypot(dx, dy) >= DRAG_PX) p.dragging = true;
      if (p.dragging) {
        setView(panBy(p.start, dx, dy, size.current.w, size.current.h, w, h));
        return;
      }
    }
    const l = local(e);
    board.hoverAt(pixelAt(v, l.x, l.y, w, h));
  };
  const onPointerUp = (e: PointerEvent) => {
    const p = press.current;
    if (!p || p.id !== e.pointerId) return;
    press.current = null;
    const v = viewRef.current;
    if (p.dragging || !v) return;
    const l = local(e);
    const pixel = pixelAt(v, l.x, l.y, w, h);
    if (pixel) {
      setCursor(pixel);
      void board.place(pixel.x, pixel.y);
    }
  };

  // The keyboard: arrows move a cursor (its pixel is described like a hovered one), Enter or Space
  // places, + and - zoom, 0 fits.
  const onKeyDown = (e: KeyboardEvent) => {
    const moves: Record<string, [number, number]> = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1] };
    const v = viewRef.current;
    if (!v) return;
    if (moves[e.key]) {
      e.preventDefault();
      const step = e.shiftKey ? 10 : 1;
      const from = cursor ?? pixelAt(v, size.current.w / 2, size.current.h / 2, w, h) ?? { x: 0, y: 0 };
      const next = {
        x: Math.min(w - 1, Math.max(0, from.x + moves[e.key][0] * step)),
        y: Math.min(h - 1, Math.max(0, from.y + moves[e.key][1] * step)),
      };
      setCursor(next);
      board.hoverAt(next);
      setView(showPixel(v, next, size.current.w, size.current.h));
    } else if ((e.key === 'Enter' || e.key === ' ') && cursor) {
      e.preventDefault();
      void board.place(cursor.x, cursor.y);
    } else if (e.key === '+' || e.key === '=') {
      zoomButton(BUTTON_STEP);
    } else if (e.key === '-') {
      zoomButton(1 / BUTTON_STEP);
    } else if (e.key === '0') {
      setView(fitView(size.current.w, size.current.h, w, h));
    }
  };

  const marked = board.hover ?? cursor;
  const box = (x: number, y: number) =>
    view ? { left: `${view.x + x * view.scale}px`, top: `${view.y + y * view.scale}px`, width: `${view.scale}px`, height: `${view.scale}px` } : {};
  const pending = [...board.pending].slice(0, MAX_PENDING_SHOWN);
  return (
    <div class="board-area">
      <div class="board-zoom" role="group" aria-label="Zoom">
        <button type="button" aria-label="Zoom out" onClick={() => zoomButton(1 / BUTTON_STEP)}>
          −
        </button>
        <span class="zoom-level" aria-live="off">
          {view ? `${view.scale < 10 ? view.scale.toFixed(1) : Math.round(view.scale)}×` : ''}
        </span>
        <button type="button" aria-label="Zoom in" onClick={() => zoomButton(BUTTON_STEP)}>
          +
        </button>
        <button type="button" onClick={() => setView(fitView(size.current.w, size.current.h, w, h))}>
          Fit
        </button>
      </div>
      <div
        class="board-viewport"
        ref={viewport}
        tabIndex={0}
        role="application"
        aria-label="Pixel board: click or press Enter to place the chosen colour; drag or use the arrow keys to move; the wheel, + and - zoom"
        aria-busy={board.status !== 'ready'}
        onPointerDown={onPointerDown}
        onPointerMove={onPointerMove}
        onPointerUp={onPointerUp}
        onPointerCancel={() => (press.current = null)}
        onPointerLeave={() => !press.current && board.hoverAt(null)}
        onKeyDown={onKeyDown}
        data-dragging={press.current?.dragging || undefined}
      >
        <canvas
          ref={canvas}
          class="board-canvas"
          width={w}
          height={h}
          role="img"
          aria-label={`The board, ${w} by ${h} pixels`}
          style={view ? { transform: `translate(${view.x}px, ${view.y}px) scale(${view.scale})` } : { visibility: 'hidden' }}
        />
        {pending.map(([i, c]) => (
          <div key={i} class="board-pending" style={{ ...box(i % w, Math.floor(i / w)), backgroundColor: meta.palette[c] }} />
        ))}
        {marked && <div class="board-cursor" style={box(marked.x, marked.y)} />}
        {board.status === 'loading' && <p class="board-loading">Loading the board…</p>}
      </div>
    </div>
  );
}

// The view moved just enough that pixel p is on screen.
function showPixel(v: View, p: { x: number; y: number }, viewW: number, viewH: number): View {
  const left = v.x + p.x * v.scale;
  const top = v.y + p.y * v.scale;
  let { x, y } = v;
  if (left < 0) x -= left;
  if (left + v.scale > viewW) x -= left + v.scale - viewW;
  if (top < 0) y -= top;
  if (top + v.scale > viewH) y -= top + v.scale - viewH;
  return { scale: v.scale, x, y };
}
