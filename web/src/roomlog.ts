// RoomLog: what one open room shows, kept consistent however frames arrive. Messages are ordered by
// their room position and kept once each (a frame seen twice, from history, replay after a
// reconnect, or live, is dropped by pos and by id). The user's own messages live in `pending` from
// the moment they are written until their stored frame arrives, which then takes their place.
// Arrays and entries are replaced, never changed in place, so the view can compare by identity.
import type { ImageInfo, MessageFrame, Tags } from './types';

// queued: written while not joined, not sent yet; pending: sent, no ack yet; sent: acked or stored;
// failed: refused, or its fate unknown after a reconnect.
export type Delivery = 'queued' | 'pending' | 'sent' | 'failed';

export interface ChatMessage {
  kind: 'message';
  key: string; // stable across pending -> stored
  pos?: number; // absent until stored
  id?: string;
  user: { id: number; name: string };
  text: string; // an image's caption, possibly empty
  image?: ImageInfo; // an image message's (its upload's, while pending)
  ts: number;
  clientMsgId?: string;
  tags?: Tags;
  delivery?: Delivery; // only on the user's own messages
  error?: string;
  errorCode?: string; // the server's code for `error` ("blocked": the room's moderation refused it)
  unconfirmed?: boolean; // sent before the socket dropped, no ack seen
  sends?: number; // how many times it was sent (the same client_msg_id each time)
}

export interface PresenceLine {
  kind: 'presence';
  key: string;
  users: { id: number; name: string }[]; // one presence frame's joiners, or its leavers
  event: 'join' | 'leave';
  ts: number;
}

const NAMED = 3; // a presence line names this many users, then counts the rest

// "bob joined", "bob and cid left", "bob, cid, dan and 2 others joined".
export function presenceText(users: { name: string }[], event: 'join' | 'leave'): string {
  const names = users.slice(0, users.length > NAMED + 1 ? NAMED : NAMED + 1).map((u) => u.name);
  const rest = users.length - names.length;
  if (rest > 0) names.push(`${rest} others`);
  const who = names.length === 1 ? names[0] : `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}`;
  return `${who} ${event === 'join' ? 'joined' : 'left'}`;
}

export type Item = ChatMessage | PresenceLine;

const MAX_TAGS_WAITING = 200;
// How far back a join's replay may reach for the tags of messages loaded without them (replayFrom).
const REPLAY_FOR_TAGS = 50;
let presenceSeq = 0;

export class RoomLog {
  items: Item[] = []; // stored messages by pos, presence lines where they arrived
  pending: ChatMessage[] = []; // own messages not stored yet, in the order written
  nextBefore: number | null = null; // cursor for older history; null: the start is loaded
  lastPos = 0; // newest stored position held
  private readonly byPos = new Map<number, ChatMessage>();
  private readonly byId = new Map<string, ChatMessage>();
  private readonly tagsWaiting = new Map<string, Tags>(); // by message id: tags that came first

  constructor(private readonly me: number) {}

  oldestPos(): number {
    for (const item of this.items) if (item.kind === 'message' && item.pos) return item.pos;
    return 0;
  }

  has(pos: number): boolean {
    return this.byPos.has(pos);
  }

  hasId(id: string): boolean {
    return this.byId.has(id);
  }

  // True when a message with this id cannot be in older pages: ids grow with time, so one smaller
  // than the target is held already.
  reachedId(id: string): boolean {
    for (const item of this.items)
      if (item.kind === 'message' && item.id) return this.byId.has(id) || BigInt(item.id) <= BigInt(id);
    return false;
  }

  // A page of history, newest first as the API gives it. Returns how many messages were new.
  addHistory(frames: MessageFrame[], nextBefore: number | null): number {
    const fresh = frames.filter((f) => this.isNew(f)).sort((a, b) => a.pos - b.pos);
    this.nextBefore = nextBefore;
    if (fresh.length === 0) return 0;
    const entries = fresh.map((f) => this.store(f));
    // Usually all older than what is held: one concatenation. Otherwise merge by position.
    if (entries[entries.length - 1].pos! < this.oldestPos() || this.items.length === 0) {
      this.items = [...entries, ...this.items];
    } else {
      for (const e of entries) this.insert(e);
    }
    this.lastPos = Math.max(this.lastPos, entries[entries.length - 1].pos!);
    return entries.length;
  }

  // Where a join's replay starts: after the newest position held, or before the oldest of the newest
  // REPLAY_FOR_TAGS messages that came from history without tags (read between the persister storing
  // them and the tag worker storing their tags). The replayed frames carry the tags ingress made.
  replayFrom(): number {
    let from = this.lastPos;
    for (let i = this.items.length - 1; i >= 0; i--) {
      const item = this.items[i];
      if (item.kind !== 'message' || !item.pos) continue;
      if (item.pos <= this.lastPos - REPLAY_FOR_TAGS) break;
      if (!item.tags) from = item.pos - 1;
    }
    return from;
  }

  // A live or replayed message frame. Returns false if it changed nothing: held already, and with
  // tags if the frame has them.
  addFrame(frame: MessageFrame): boolean {
    if (!this.isNew(frame)) {
      const held = this.byId.get(frame.id);
      if (!frame.tags || !held || held.tags) return false;
      this.applyTags(frame.id, frame.tags);
      return true;
    }
    const entry = this.store(frame);
    if (frame.pos > this.lastPos) {
      this.items = [...this.items, entry];
      this.lastPos = frame.pos;
    } else {
      this.insert(entry);
    }
    return true;
  }

  addPresence(users: { id: number; name: string }[], event: 'join' | 'leave') {
    if (users.length === 0) return;
    this.items = [...this.items, { kind: 'presence', key: `p${++presenceSeq}`, users, event, ts: Date.now() }];
  }

  addPending(message: ChatMessage) {
    this.pending = [...this.pending, message];
  }

  updatePending(clientMsgId: string, change: Partial<ChatMessage>): boolean {
    const i = this.pending.findIndex((p) => p.clientMsgId === clientMsgId);
    if (i < 0) return false;
    const pending = this.pending.slice();
    pending[i] = { ...pending[i], ...change };
    this.pending = pending;
    return true;
  }

  findPending(clientMsgId: string): ChatMessage | undefined {
    return this.pending.find((p) => p.clientMsgId === clientMsgId);
  }

  // Tags frames name the message by id (a repeat of the same tags changes nothing visible).
  applyTags(id: string, tags: Tags) {
    const held = this.byId.get(id);
    if (!held) {
      this.tagsWaiting.set(id, tags);
      // Tags of messages this log never loads (older than its first page) must not pile up.
      if (this.tagsWaiting.size > MAX_TAGS_WAITING) this.tagsWaiting.delete(this.tagsWaiting.keys().next().value!);
      return;
    }
    const updated: ChatMessage = { ...held, tags: { ...held.tags, ...tags } };
    this.byPos.set(updated.pos!, updated);
    this.byId.set(id, updated);
    this.items = this.items.map((item) => (item === held ? updated : item));
  }

  private isNew(frame: MessageFrame): boolean {
    return frame.pos > 0 && !this.byPos.has(frame.pos) && !this.byId.has(frame.id);
  }

  // Records a stored frame, taking over the pending entry it confirms.
  private store(frame: MessageFrame): ChatMessage {
    let key = `m${frame.id}`;
    let delivery: Delivery | undefined = frame.user.id === this.me ? 'sent' : undefined;
    if (frame.client_msg_id && frame.user.id === this.me) {
      const mine = this.findPending(frame.client_msg_id);
      if (mine) {
        key = mine.key;
        this.pending = this.pending.filter((p) => p !== mine);
      }
    }
    let tags = frame.tags;
    const waiting = this.tagsWaiting.get(frame.id);
    if (waiting) {
      tags = { ...tags, ...waiting };
      this.tagsWaiting.delete(frame.id);
    }
    const entry: ChatMessage = {
      kind: 'message',
      key,
      pos: frame.pos,
      id: frame.id,
      user: frame.user,
      text: frame.text ?? '',
      image: frame.kind === 'image' ? frame.image : undefined,
      ts: frame.ts,
      clientMsgId: frame.client_msg_id,
      tags,
      delivery,
    };
    this.byPos.set(frame.pos, entry);
    this.byId.set(frame.id, entry);
    return entry;
  }

  private insert(entry: ChatMessage) {
    const items = this.items.slice();
    let i = items.length;
    while (i > 0) {
      const prev = items[i - 1];
      if (prev.kind === 'message' && prev.pos !== undefined && prev.pos < entry.pos!) break;
      i--;
    }
    items.splice(i, 0, entry);
    this.items = items;
  }
}
