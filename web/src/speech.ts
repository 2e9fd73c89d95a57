// SpeechStore: what this client knows of each message's audio, by message id, so that a play button
// can show it and ask the server only when it has to. A request's answer and the `speech` frame can
// come in either order (a fast worker's frame may beat the 202), so a later "pending" never undoes
// "ready". Each message's button subscribes to its own entry: a change re-renders only that one.
import type { SpeechAnswer } from './types';

// requesting: the POST is out; pending: the server is making it, a speech frame will say when;
// ready: its URL; failed: why not (asking again is allowed).
export type SpeechState =
  | { status: 'requesting' }
  | { status: 'pending' }
  | { status: 'ready'; url: string; durationMs?: number }
  | { status: 'failed'; error: string };

export class SpeechStore {
  private readonly states = new Map<string, SpeechState>();
  private readonly listeners = new Map<string, Set<() => void>>();

  get(id: string): SpeechState | undefined {
    return this.states.get(id);
  }

  subscribe(id: string, listener: () => void): () => void {
    let set = this.listeners.get(id);
    if (!set) this.listeners.set(id, (set = new Set()));
    set.add(listener);
    return () => {
      set!.delete(listener);
      if (set!.size === 0) this.listeners.delete(id);
    };
  }

  // Whether a click should ask the server: not while a request is out nor once the URL is known.
  // A pending one is asked again: its frame may have been lost with a dropped connection.
  shouldRequest(id: string): boolean {
    const s = this.states.get(id)?.status;
    return s !== 'requesting' && s !== 'ready';
  }

  requested(id: string) {
    this.set(id, { status: 'requesting' });
  }

  answered(id: string, answer: SpeechAnswer) {
    if (answer.status === 'ready') this.ready(id, answer.url, answer.duration_ms);
    else if (this.states.get(id)?.status !== 'ready') this.set(id, { status: 'pending' });
  }

  failed(id: string, error: string) {
    if (this.states.get(id)?.status !== 'ready') this.set(id, { status: 'failed', error });
  }

  // A speech frame, or a 200.
  ready(id: string, url: string, durationMs?: number) {
    this.set(id, { status: 'ready', url, durationMs });
  }

  // The ids still waiting for their frame.
  pendingIds(): string[] {
    return [...this.states].filter(([, s]) => s.status === 'pending').map(([id]) => id);
  }

  private set(id: string, state: SpeechState) {
    this.states.set(id, state);
    for (const l of this.listeners.get(id) ?? []) l();
  }
}
