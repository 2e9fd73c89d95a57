// ChatClient: the application's state and everything that changes it: the session (kept in
// localStorage so a reload stays logged in), the room list, the open room with its RoomLog, the
// mentions inbox and the WebSocket. Views read its fields and call its methods; subscribe() tells
// them when to render again. It does not know about routes or the DOM.
//
// Joining: a room's latest page comes over HTTP first, then the socket joins with `after` = the
// newest position held, so the server replays exactly what came since; after a reconnect every
// open room is joined again the same way. RoomLog drops anything seen twice.
//
// Images are uploaded first (the composer shows the progress), then sent as a message carrying the
// upload's id. A message's audio is asked for over HTTP; SpeechStore keeps the answers and the
// `speech` frames, and the play buttons follow it.
//
// The pixel board's page has a state of its own (BoardClient); the board's frames go to it, and it
// subscribes again after a reconnect.
import { Observable } from './observable';
import { Api, ApiError, type UploadTask } from './api';
import { BoardClient } from './boardclient';
import { Renewal } from './renewal';
import { MAX_SENDS, rejoinDelay, resendDelay } from './resend';
import { RoomLog, type ChatMessage } from './roomlog';
import { Socket, type ConnectionState } from './socket';
import { SpeechStore } from './speech';
import type { Mention, Moderation, Room, ServerFrame, Session, Upload } from './types';

const SESSION_KEY = 'chatpipe.session';
const PAGE = 50;
const ROOMS_PAGE = 200; // the server's room page by default (docs/protocol.md, "Rooms")
const MAX_ROOMS_PAGE = 500; // and the largest it gives
const MAX_PAGES_TO_FIND = 40; // how far back opening a mention may page to reach its message
const MAX_NAMES_ASKED = 1000; // #name links looked up in one session, a request each
const LOOKUPS_AT_ONCE = 2; // the rest wait in line: a message full of #names must not crowd out sends

export interface OpenRoom {
  id: number;
  log: RoomLog;
  status: 'loading' | 'ready' | 'error';
  error?: string;
  joined: boolean;
  rejoins: number; // joins refused in a row for a passing cause (resend.ts: REJOIN_CODES)
  joinProblem?: string; // the last such refusal's reason, shown while the room is joined again
  replayHead: number; // the room's head when last joined; the replay is done once it is held
  loadingOlder: boolean;
  olderError?: string;
  online: Map<number, string>; // others seen joining since the room was opened
  focus?: Focus; // a message to scroll to and highlight (opened from a mention)
}

export interface Focus {
  pos?: number;
  id?: string;
}

export interface Inbox {
  available: boolean | null; // null: not asked yet; false: the server has no mentions API
  showAll: boolean;
  items: Mention[];
  nextBefore: number | null;
  unread: number;
  loading: boolean;
  error?: string;
}

function loadSession(): Session | null {
  try {
    const s = JSON.parse(localStorage.getItem(SESSION_KEY) ?? 'null') as Session | null;
    if (!s?.token || !s.user) return null;
    if (s.expires && s.expires * 1000 < Date.now()) return null;
    return s;
  } catch {
    return null;
  }
}

// 128 random bits; crypto.randomUUID exists only on https pages and localhost.
function randomId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

export class ChatClient extends Observable {
  session: Session | null = loadSession();
  rooms: Room[] = []; // the sidebar: the pages of the list shown so far, by name
  roomsNext: string | null = null; // the next page's `after`; null when the list is all shown
  roomsFilter = ''; // the sidebar shows only names starting with it
  roomsError?: string;
  knownRooms = 0; // counts up when rooms are learnt: views with #room links render again
  connection: ConnectionState = 'offline';
  current: OpenRoom | null = null;
  inbox: Inbox = { available: null, showAll: false, items: [], nextBefore: null, unread: 0, loading: false };
  notice: string | null = null; // a passing message for the user (role=alert)
  loginNotice: string | null = null;
  speech = new SpeechStore(); // this session's

  readonly api = new Api(
    () => this.session?.token ?? null,
    () => this.logOut('Your session has expired; please log in again.'),
  );
  private readonly socket = new Socket(() => this.socketUrl(), {
    onOpen: () => this.onSocketOpen(),
    onFrame: (frame) => this.onFrame(frame),
    onState: (state) => this.onSocketState(state),
    onRepeatedFailure: () => void this.refreshRooms(), // a 401 there logs out
  });
  readonly board = new BoardClient(this.api, (frame) => this.socket.send(frame));
  private readonly renewal = new Renewal(() => this.renewToken());
  private reconnecting = false; // the socket has been open before in this session
  // Every room learnt from a page, a lookup or a creation: titles, privacy and #name links.
  private readonly roomsById = new Map<number, Room>();
  private readonly roomsByName = new Map<string, Room>();
  private readonly namesAsked = new Set<string>(); // asked once a session, answered or not
  private namesWaiting: string[] = [];
  private lookupsRunning = 0;
  private listAsked = 0; // the newest list request: answers to older ones are dropped

  constructor() {
    super();
    if (this.session) this.startSession();
  }

  get me() {
    return this.session?.user ?? null;
  }

  roomById(id: number): Room | undefined {
    return this.roomsById.get(id);
  }

  // Its objects are served only with the token: they are shown through blob: URLs.
  isPrivate(id: number): boolean {
    return this.roomById(id)?.private ?? false;
  }

  roomByName(name: string): Room | undefined {
    return this.roomsByName.get(name);
  }

  // A #name link's room: known, or (with `ask`) asked of the server once a session; its answer
  // renders the link again.
  roomNamed(name: string, ask = true): Room | undefined {
    const known = this.roomsByName.get(name);
    if (known || !ask || !this.session || this.namesAsked.has(name) || this.namesAsked.size >= MAX_NAMES_ASKED) return known;
    this.namesAsked.add(name);
    this.namesWaiting.push(name);
    this.lookUpNames();
    return undefined;
  }

  private lookUpNames() {
    const session = this.session;
    while (this.lookupsRunning < LOOKUPS_AT_ONCE && this.namesWaiting.length > 0) {
      const name = this.namesWaiting.shift() as string;
      this.lookupsRunning++;
      this.api
        .rooms({ q: name, limit: 1 })
        .then(
          (page) => {
            if (this.session !== session || page.rooms[0]?.name !== name) return;
            if (this.learnRooms(page.rooms)) this.changed();
          },
          () => {}, // not asked again this session: a link that stays text is no harm
        )
        .finally(() => {
          this.lookupsRunning--;
          if (this.session === session) this.lookUpNames();
        });
    }
  }

  // True when a room was new or had changed (views with #room links then render again).
  private learnRooms(rooms: Room[]): boolean {
    let changed = false;
    for (const room of rooms) {
      const known = this.roomsById.get(room.id);
      if (known && JSON.stringify(known) === JSON.stringify(room)) continue;
      this.roomsById.set(room.id, room);
      this.roomsByName.set(room.name, room);
      changed = true;
    }
    if (changed) this.knownRooms++;
    return changed;
  }

  private forgetRooms() {
    this.listAsked++; // answers still on their way are dropped
    this.rooms = [];
    this.roomsNext = null;
    this.roomsFilter = '';
    this.roomsById.clear();
    this.roomsByName.clear();
    this.namesAsked.clear();
    this.namesWaiting = [];
    this.knownRooms++;
  }

  dismissNotice() {
    this.notice = null;
    this.changed();
  }

  // --- session ---

  async signUp(name: string, email: string, password: string) {
    await this.api.signUp(name, email, password);
    await this.logIn(name, password);
  }

  async logIn(name: string, password: string) {
    this.setSession(await this.api.logIn(name, password));
  }

  async enterAsGuest() {
    this.setSession(await this.api.guest());
  }

  // The Log out button: the server ends the session (best effort: offline, the token is forgotten
  // here all the same), then this client forgets it.
  async endSession() {
    try {
      await this.api.endSession();
    } catch {
      // Unreachable, or the token was refused already: either way it is of no use any more.
    }
    this.logOut();
  }

  logOut(why?: string) {
    this.renewal.stop();
    this.board.close();
    this.board.signedOut();
    this.socket.stop();
    localStorage.removeItem(SESSION_KEY);
    this.session = null;
    this.forgetRooms();
    this.current = null;
    this.inbox = { available: null, showAll: false, items: [], nextBefore: null, unread: 0, loading: false };
    this.loginNotice = why ?? null;
    this.speech = new SpeechStore();
    this.changed();
  }

  private setSession(session: Session) {
    this.storeSession(session);
    this.loginNotice = null;
    this.startSession();
    this.changed();
  }

  private storeSession(session: Session) {
    session.received = Date.now();
    localStorage.setItem(SESSION_KEY, JSON.stringify(session));
    this.session = session;
  }

  // The socket keeps its connection; it uses the new token when it next connects.
  private async renewToken() {
    if (!this.session) return;
    const session = await this.api.renew();
    if (!this.session) return; // logged out meanwhile
    this.storeSession(session);
    this.renewal.schedule(session);
  }

  private startSession() {
    this.renewal.schedule(this.session!);
    this.reconnecting = false;
    this.socket.start();
    void this.refreshRooms();
    void this.refreshMentions();
  }

  private socketUrl(): string {
    const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
    return `${scheme}://${location.host}/ws?token=${encodeURIComponent(this.session?.token ?? '')}`;
  }

  // --- rooms ---

  // The rooms shown, read again from the first (at least a page, of the names starting with the
  // filter): after a drop or a new room the list may have changed, and pages loaded by "More rooms"
  // stay loaded.
  refreshRooms() {
    return this.loadRooms('again');
  }

  // The sidebar's next page, after the ones shown.
  moreRooms() {
    return this.loadRooms('more');
  }

  filterRooms(prefix: string) {
    this.roomsFilter = prefix.trim().toLowerCase();
    this.roomsNext = null; // the shown list's next page is not the filter's
    void this.loadRooms('first');
  }

  private async loadRooms(kind: 'first' | 'again' | 'more') {
    if (!this.session || (kind === 'more' && !this.roomsNext)) return;
    const asked = ++this.listAsked;
    const want = kind === 'again' ? this.rooms.length : 0;
    let rooms = kind === 'more' ? this.rooms : [];
    let next = kind === 'more' ? this.roomsNext : null;
    try {
      do {
        // A page as large as what is left to show again, within the server's bounds.
        const limit = want > ROOMS_PAGE ? Math.min(want - rooms.length, MAX_ROOMS_PAGE) : undefined;
        const page = await this.api.rooms({ after: next ?? undefined, q: this.roomsFilter, limit });
        if (asked !== this.listAsked) return;
        rooms = [...rooms, ...page.rooms];
        next = page.next ?? null;
        this.learnRooms(page.rooms);
      } while (next && rooms.length < want);
      this.rooms = rooms;
      this.roomsNext = next;
      this.roomsError = undefined;
    } catch (e) {
      if (asked !== this.listAsked) return;
      this.roomsError = (e as Error).message;
    }
    this.changed();
  }

  // A room the list does not show (a link, a mention, a room past the pages loaded).
  private async lookUpRoom(id: number) {
    const session = this.session;
    try {
      const room = await this.api.room(id);
      if (this.session === session && this.learnRooms([room])) this.changed();
    } catch {
      // Opening it says why (403, 404) when its history is refused.
    }
  }

  async createRoom(name: string, isPrivate: boolean, moderation: Moderation): Promise<Room> {
    const room = await this.api.createRoom(name, isPrivate, moderation);
    this.learnRooms([room]);
    await this.refreshRooms();
    // Past the first page, or not of the filter: shown anyway, as the room just made.
    if (!this.rooms.some((r) => r.id === room.id)) this.rooms = [...this.rooms, room];
    this.changed();
    return room;
  }

  async addMember(room: number, user: string) {
    const added = await this.api.addMember(room, user);
    return added.user;
  }

  // Opens `id` (leaving the room open before), or only moves the focus when it is open already.
  openRoom(id: number, focus?: Focus) {
    if (this.current?.id === id) {
      if (focus && (focus.pos !== this.current.focus?.pos || focus.id !== this.current.focus?.id)) {
        this.current.focus = focus;
        if (this.current.status === 'ready') void this.reach(this.current, focus);
        this.changed();
      }
      return;
    }
    this.closeRoom();
    const room: OpenRoom = {
      id,
      log: new RoomLog(this.me?.id ?? 0),
      status: 'loading',
      joined: false,
      rejoins: 0,
      replayHead: 0,
      loadingOlder: false,
      online: new Map(),
      focus,
    };
    this.current = room;
    if (!this.roomById(id)) void this.lookUpRoom(id);
    this.changed();
    void this.loadRoom(room);
  }

  closeRoom() {
    const room = this.current;
    if (!room) return;
    if (room.joined) this.socket.send({ type: 'leave', room: room.id });
    this.current = null;
    this.changed();
  }

  private async loadRoom(room: OpenRoom) {
    try {
      const page = await this.api.history(room.id, undefined, PAGE);
      if (this.current !== room) return;
      room.log.addHistory(page.messages, page.next_before);
      room.status = 'ready';
      this.join(room);
      if (room.focus) await this.reach(room, room.focus);
    } catch (e) {
      if (this.current !== room) return;
      room.status = 'error';
      room.error = roomError(e as Error);
    }
    this.changed();
  }

  private join(room: OpenRoom) {
    room.joined = false;
    this.socket.send({ type: 'join', room: room.id, after: room.log.replayFrom() });
  }

  async loadOlder() {
    const room = this.current;
    if (!room || room.status !== 'ready' || room.loadingOlder || room.log.nextBefore === null) return;
    room.loadingOlder = true;
    room.olderError = undefined;
    this.changed();
    try {
      const page = await this.api.history(room.id, room.log.nextBefore, PAGE);
      room.log.addHistory(page.messages, page.next_before);
    } catch (e) {
      room.olderError = (e as Error).message;
    }
    room.loadingOlder = false;
    this.changed();
  }

  // Pages back until the focused message is held (a mention's message can be far up). One not
  // stored yet is not paged for: it arrives live, and the view focuses it then.
  private async reach(room: OpenRoom, focus: Focus) {
    const held = () => (focus.pos ? room.log.has(focus.pos) || room.log.oldestPos() <= focus.pos : room.log.reachedId(focus.id!));
    for (let i = 0; i < MAX_PAGES_TO_FIND && !held() && room.log.nextBefore !== null; i++) {
      if (this.current !== room) return;
      await this.loadOlder();
    }
  }

  clearFocus() {
    if (this.current) this.current.focus = undefined;
  }

  // --- sending ---

  // Text, or an uploaded image with an optional caption. A room still loading takes it too: it waits
  // as queued and goes with the join, so a message written at once is never dropped.
  send(text: string, image?: Upload) {
    const room = this.current;
    const me = this.me;
    if (!room || room.status === 'error' || !me || (!text.trim() && !image)) return;
    const message: ChatMessage = {
      kind: 'message',
      key: `c${randomId()}`,
      user: { id: me.id, name: me.name },
      text,
      image,
      ts: Date.now(),
      clientMsgId: randomId(),
      delivery: 'queued',
    };
    room.log.addPending(message);
    if (room.joined) this.transmit(room, message);
    this.changed();
  }

  retry(clientMsgId: string) {
    const room = this.current;
    const message = room?.log.findPending(clientMsgId);
    if (!room || !message) return;
    room.log.updatePending(clientMsgId, { delivery: 'queued', error: undefined, errorCode: undefined, unconfirmed: false });
    if (room.joined) this.transmit(room, message);
    this.changed();
  }

  discard(clientMsgId: string) {
    const room = this.current;
    if (!room) return;
    room.log.pending = room.log.pending.filter((p) => p.clientMsgId !== clientMsgId);
    this.changed();
  }

  // Uploads an image to the open room, for send() to carry; null when no room is open or it could not be loaded.
  uploadImage(file: Blob, onProgress: (fraction: number) => void): UploadTask | null {
    const room = this.current;
    if (!room || room.status === 'error') return null;
    return this.api.upload(room.id, file, onProgress);
  }

  private transmit(room: OpenRoom, message: ChatMessage) {
    const frame = { type: 'send', room: room.id, text: message.text, image: message.image?.id, client_msg_id: message.clientMsgId };
    const sent = this.socket.send(frame);
    if (sent) room.log.updatePending(message.clientMsgId!, { delivery: 'pending', sends: (message.sends ?? 0) + 1 });
  }

  // A send refused by a passing fault goes again after a while, under the same client_msg_id (see
  // resend.ts); while it waits it is queued, so a re-join sends it too. False when it is not resent.
  private resendLater(room: OpenRoom, message: ChatMessage, code: string, retryAfterMs?: number): boolean {
    const delay = resendDelay(code, message.sends ?? 1, retryAfterMs);
    if (delay === null) return false;
    const id = message.clientMsgId!;
    room.log.updatePending(id, { delivery: 'queued', unconfirmed: false });
    setTimeout(() => {
      const now = room.log.findPending(id);
      if (this.current !== room || !room.joined || now?.delivery !== 'queued') return;
      this.transmit(room, now);
      this.changed();
    }, delay);
    return true;
  }

  // --- spoken messages ---

  // Asks for a message's audio unless it is known or being asked for; the play button follows
  // this.speech and plays it once it is ready.
  async speak(messageId: string) {
    const speech = this.speech;
    if (!speech.shouldRequest(messageId)) return;
    speech.requested(messageId);
    try {
      speech.answered(messageId, await this.api.speech(messageId));
    } catch (e) {
      speech.failed(messageId, (e as Error).message);
    }
  }

  // --- the socket ---

  private onSocketOpen() {
    const room = this.current;
    if (room?.status === 'ready') this.join(room);
    this.board.onSocketOpen();
    // After a drop: notifications sent meanwhile are in the inbox, not in any replay, and rooms may
    // have been created or shared with us.
    // Audio that was being made may have been announced while the socket was down: ask again.
    if (this.reconnecting) {
      void this.refreshMentions();
      void this.refreshRooms();
      for (const id of this.speech.pendingIds()) void this.speak(id);
    }
    this.reconnecting = true;
  }

  private onSocketState(state: ConnectionState) {
    this.connection = state;
    if (state !== 'connected') this.board.onSocketLost();
    const room = this.current;
    if (state !== 'connected' && room) {
      room.joined = false;
      // What was sent and not acked may or may not have been accepted: the replay will tell.
      for (const p of room.log.pending)
        if (p.delivery === 'pending') room.log.updatePending(p.clientMsgId!, { unconfirmed: true });
    }
    this.changed();
  }

  private onFrame(frame: ServerFrame) {
    const room = this.current;
    switch (frame.type) {
      case 'board_subscribed':
      case 'board_unsubscribed':
      case 'pixels':
        return this.board.onFrame(frame); // the board page renders itself
      case 'placed':
        return void this.board.onPlaceAnswer(frame);
      case 'joined':
        // A join answered after the user moved on: leave again.
        if (!room || frame.room !== room.id) return void this.socket.send({ type: 'leave', room: frame.room });
        room.joined = true;
        room.rejoins = 0;
        room.joinProblem = undefined;
        room.replayHead = frame.pos;
        for (const p of room.log.pending) if (p.delivery === 'queued') this.transmit(room, p);
        this.settleUnconfirmed(room);
        break;
      case 'message':
        if (!room || frame.room !== room.id) return;
        if (!room.log.addFrame(frame)) return;
        this.settleUnconfirmed(room);
        break;
      case 'tags':
        if (!room || frame.room !== room.id) return;
        room.log.applyTags(frame.id, frame.tags);
        break;
      case 'presence': {
        if (!room || frame.room !== room.id) return;
        // A user is in one list at most; the user's own join or leave is no news.
        const left = (frame.left ?? []).filter((u) => u.id !== this.me?.id);
        const joined = (frame.joined ?? []).filter((u) => u.id !== this.me?.id);
        if (left.length === 0 && joined.length === 0) return;
        for (const u of left) room.online.delete(u.id);
        for (const u of joined) room.online.set(u.id, u.name);
        room.log.addPresence(left, 'leave');
        room.log.addPresence(joined, 'join');
        break;
      }
      case 'ack':
        if (!room || frame.room !== room.id || !frame.client_msg_id) return;
        room.log.updatePending(frame.client_msg_id, { delivery: 'sent', id: frame.id, ts: frame.ts, unconfirmed: false });
        break;
      case 'error':
        if (this.board.onPlaceAnswer(frame)) return; // a placement's refusal: the board page says it
        this.onErrorFrame(frame.code, frame.reason, frame.client_msg_id, frame.retry_after_ms);
        break;
      case 'notification':
        this.onNotification(frame.mention);
        break;
      case 'speech':
        this.speech.ready(frame.id, frame.url, frame.duration_ms);
        return; // its play button listens to the store

      default:
        return; // a frame type this client does not know yet
    }
    this.changed();
  }

  private onErrorFrame(code: string, reason: string, clientMsgId?: string, retryAfterMs?: number) {
    const room = this.current;
    // A room re-opened before the server finished the first join: the seat is there, all is well.
    if (code === 'already_joined') return;
    const message = clientMsgId ? room?.log.findPending(clientMsgId) : undefined;
    if (room && message) {
      if (!this.resendLater(room, message, code, retryAfterMs))
        room.log.updatePending(clientMsgId!, { delivery: 'failed', error: reason, errorCode: code, unconfirmed: false });
      return;
    }
    // Error frames name no room: one that comes while the open room is being joined is about it. A
    // passing cause (storage away, overload) is waited out: the room is joined again after a backoff.
    if (room && !room.joined && room.status === 'ready') {
      const delay = rejoinDelay(code, room.rejoins + 1, retryAfterMs);
      if (delay !== null) {
        room.rejoins++;
        room.joinProblem = reason;
        setTimeout(() => {
          if (this.current === room && !room.joined && room.status === 'ready') this.join(room);
        }, delay);
        return;
      }
      room.status = 'error';
      room.error = roomError(new ApiError(0, code, reason));
      return;
    }
    this.notice = reason;
  }

  // After a reconnect, once the replay has reached the head the server named, a message sent before
  // the drop and still not seen was most likely lost with the connection: it is sent again under its
  // client_msg_id (stored once even if the first send did arrive), up to MAX_SENDS; then the user decides.
  private settleUnconfirmed(room: OpenRoom) {
    if (!room.joined || room.log.lastPos < room.replayHead) return;
    for (const p of room.log.pending) {
      if (!p.unconfirmed || p.delivery !== 'pending') continue;
      if ((p.sends ?? 1) < MAX_SENDS) {
        room.log.updatePending(p.clientMsgId!, { unconfirmed: false });
        this.transmit(room, p);
      } else {
        room.log.updatePending(p.clientMsgId!, {
          delivery: 'failed',
          unconfirmed: false,
          error: 'the connection dropped before the server confirmed this message',
        });
      }
    }
  }

  // --- mentions ---

  async refreshMentions() {
    if (!this.session || this.inbox.available === false) return;
    const inbox = this.inbox;
    inbox.loading = true;
    try {
      const page = await this.api.mentions(!inbox.showAll);
      inbox.available = true;
      inbox.items = page.mentions;
      inbox.nextBefore = page.next_before ?? null;
      inbox.unread = page.unread ?? page.mentions.filter((m) => !m.read).length;
      inbox.error = undefined;
    } catch (e) {
      if (e instanceof ApiError && (e.status === 404 || e.status === 405)) inbox.available = false;
      else inbox.error = (e as Error).message;
    }
    inbox.loading = false;
    this.changed();
  }

  async loadOlderMentions() {
    const inbox = this.inbox;
    if (inbox.loading || !inbox.nextBefore) return;
    inbox.loading = true;
    this.changed();
    try {
      const page = await this.api.mentions(!inbox.showAll, inbox.nextBefore);
      const known = new Set(inbox.items.map((m) => m.id));
      inbox.items = [...inbox.items, ...page.mentions.filter((m) => !known.has(m.id))];
      inbox.nextBefore = page.next_before ?? null;
    } catch (e) {
      inbox.error = (e as Error).message;
    }
    inbox.loading = false;
    this.changed();
  }

  showAllMentions(all: boolean) {
    this.inbox.showAll = all;
    void this.refreshMentions();
  }

  async markMentionRead(mention: Mention) {
    if (mention.read) return;
    this.inbox.items = this.inbox.items.map((m) => (m.id === mention.id ? { ...m, read: true } : m));
    this.inbox.unread = Math.max(0, this.inbox.unread - 1);
    this.changed();
    try {
      await this.api.markMentionRead(mention.id);
    } catch (e) {
      this.notice = `could not mark the mention read: ${(e as Error).message}`;
      this.changed();
    }
  }

  private onNotification(mention: Mention) {
    if (!mention?.message || this.inbox.items.some((m) => m.id === mention.id)) return;
    this.inbox.available = true;
    this.inbox.items = [mention, ...this.inbox.items];
    if (!mention.read) this.inbox.unread++;
  }
}

function roomError(e: Error): string {
  if (e instanceof ApiError) {
    if (e.code === 'forbidden') return `You can't open this room: ${e.message}.`;
    if (e.status === 404) return 'There is no such room.';
  }
  return `The room could not be opened: ${e.message}`;
}
