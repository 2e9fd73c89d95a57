// Placing pixels over the board's WebSocket (docs/protocol.md, "The pixel board"): a `place` frame
// carries a client_msg_id made here, and the server answers it with `placed` once Kafka has the
// placement (as HTTP's 202) or with an `error` frame naming the same id (bad_pixel, rate_limited with
// retry_after_ms, busy, ...). PlaceAnswers keeps the placements awaiting their answer and settles each
// by its id. One whose socket drops first settles as `connection_lost`: the answer went with the
// socket, and the pixel may or may not have been placed. One the server never answers settles as
// `timeout` (the server answers within its Kafka timeout, 10 s). No imports: unit-tested on its own.

export interface Placed {
  id: string;
  ts: number;
}

export interface PlaceRefusal {
  code: string;
  reason: string;
  retryAfterMs?: number; // with rate_limited: inside the cooldown, how long is left
}

export type PlaceAnswer = { placed: Placed } | { refused: PlaceRefusal };

// The frames that may answer a placement (ServerFrame's `placed` and `error`).
export interface AnswerFrame {
  type: string;
  client_msg_id?: string;
  id?: string;
  ts?: number;
  code?: string;
  reason?: string;
  retry_after_ms?: number;
}

export const ANSWER_TIMEOUT_MS = 30_000;

export class PlaceAnswers {
  private count = 0;
  private readonly waiting = new Map<string, { settle: (a: PlaceAnswer) => void; timer: ReturnType<typeof setTimeout> }>();

  constructor(private readonly timeoutMs = ANSWER_TIMEOUT_MS) {}

  // Sends a placement through `send`, which gets its client_msg_id and says whether the frame went
  // out; null when it did not (the socket is not open: the caller places over HTTP instead).
  place(send: (clientMsgId: string) => boolean): Promise<PlaceAnswer> | null {
    const clientMsgId = `p${++this.count}`;
    if (!send(clientMsgId)) return null;
    return new Promise((resolve) => {
      const timer = setTimeout(
        () => this.settle(clientMsgId, { refused: { code: 'timeout', reason: 'the server did not answer the placement' } }),
        this.timeoutMs,
      );
      this.waiting.set(clientMsgId, { settle: resolve, timer });
    });
  }

  // A frame from the server: true when it answered a placement awaited here (the caller is done with
  // it); false for any other frame, a chat send's error among them.
  take(frame: AnswerFrame): boolean {
    const id = frame.client_msg_id;
    if ((frame.type !== 'placed' && frame.type !== 'error') || id === undefined || !this.waiting.has(id)) return false;
    if (frame.type === 'placed') this.settle(id, { placed: { id: frame.id ?? '', ts: frame.ts ?? 0 } });
    else this.settle(id, { refused: { code: frame.code ?? 'error', reason: frame.reason ?? 'refused', retryAfterMs: frame.retry_after_ms } });
    return true;
  }

  // The socket dropped: the answers awaited are lost with it.
  dropAll() {
    for (const id of [...this.waiting.keys()])
      this.settle(id, {
        refused: { code: 'connection_lost', reason: 'the connection dropped before the server answered; the pixel may have been placed' },
      });
  }

  get size(): number {
    return this.waiting.size;
  }

  private settle(id: string, answer: PlaceAnswer) {
    const w = this.waiting.get(id);
    if (!w) return;
    this.waiting.delete(id);
    clearTimeout(w.timer);
    w.settle(answer);
  }
}
