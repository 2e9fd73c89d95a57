// Api: the HTTP API of ingress as typed calls. Every failure becomes an ApiError carrying the
// server's stable code and human reason (or code "network" when the server cannot be reached), so
// screens can show the reason as it is. A 401 on an authenticated call also tells the owner, which
// logs out: the token expired or the server's secret changed.
import type { BoardMeta, Mention, MessageFrame, Moderation, PixelInfo, Room, RoomPage, Session, SpeechAnswer, Upload, User } from './types';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    reason: string,
    readonly retryAfterMs?: number, // with rate_limited: when asking again may succeed
  ) {
    super(reason);
  }
}

export interface History {
  messages: MessageFrame[]; // newest first
  next_before: number | null;
}

export interface MentionList {
  mentions: Mention[]; // newest first
  unread?: number; // the user's unread mentions in all
  next_before?: number | null; // cursor for older ones
}

// GET /api/rooms/{id}/stats (docs/protocol.md, "Room statistics"); ratios are null without tagged messages.
export interface StatsFigures {
  messages: number;
  tagged: number;
  mean_sentiment: number | null;
  negative_share: number | null;
  profanity_rate: number | null;
}
export interface RoomStats {
  room: number;
  from: number;
  to: number;
  bucket: 'minute' | 'hour' | 'day';
  buckets: (StatsFigures & { start: number; active_users: number })[];
  totals: StatsFigures;
  top_mentioned: { user: { id: number; name: string }; mentions: number }[];
}

// An upload under way: its answer, and a way to give up on it.
export interface UploadTask {
  done: Promise<Upload>;
  abort(): void;
}

// An error answer's body, or a stand-in when there is none (a proxy's HTML page, say). The wait of a
// refusal is the body's retry_after_ms, else its Retry-After header (whole seconds).
function apiError(status: number, statusText: string, json: unknown, retryAfter?: string | null): ApiError {
  const body = json as { error?: { code?: string; reason?: string; retry_after_ms?: number }; retry_after_ms?: number } | null;
  const error = body?.error;
  let wait = error?.retry_after_ms ?? body?.retry_after_ms;
  if (typeof wait !== 'number' && retryAfter && /^\d+$/.test(retryAfter.trim())) wait = Number(retryAfter) * 1000;
  return new ApiError(
    status,
    error?.code ?? `http_${status}`,
    error?.reason ?? `the server answered ${status} ${statusText}`,
    typeof wait === 'number' ? wait : undefined,
  );
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

export class Api {
  constructor(
    private readonly token: () => string | null,
    private readonly onUnauthorized: () => void,
  ) {}

  private async call<T>(method: string, path: string, body?: unknown, auth = true): Promise<T> {
    const headers: Record<string, string> = {};
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    const token = auth ? this.token() : null;
    if (token) headers.Authorization = `Bearer ${token}`;
    let response: Response;
    try {
      response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    } catch {
      throw new ApiError(0, 'network', 'cannot reach the server; check your connection');
    }
    if (response.status === 204) return undefined as T;
    let json: unknown = null;
    try {
      json = await response.json();
    } catch {
      // A proxy's HTML error page, say: the status alone has to do.
    }
    if (!response.ok) {
      if (response.status === 401 && token) this.onUnauthorized();
      throw apiError(response.status, response.statusText, json, response.headers.get('Retry-After'));
    }
    return json as T;
  }

  signUp(name: string, email: string, password: string) {
    return this.call<User>('POST', '/api/users', { name, email, password }, false);
  }
  logIn(name: string, password: string) {
    return this.call<Session>('POST', '/api/sessions', { name, password }, false);
  }
  guest() {
    return this.call<Session>('POST', '/api/sessions/guest', undefined, false);
  }
  // A new token of the current session.
  renew() {
    return this.call<Session>('POST', '/api/sessions/renew');
  }
  // Ends the session on every server: its tokens are refused from now on.
  endSession() {
    return this.call<void>('DELETE', '/api/sessions');
  }
  // A page of the rooms by name: after `after`, starting with `q` (docs/protocol.md, "Rooms").
  rooms(page: { after?: string; q?: string; limit?: number } = {}) {
    const query = new URLSearchParams();
    if (page.after) query.set('after', page.after);
    if (page.q) query.set('q', page.q);
    if (page.limit) query.set('limit', String(page.limit));
    const search = query.toString();
    return this.call<RoomPage>('GET', search ? `/api/rooms?${search}` : '/api/rooms');
  }
  room(id: number) {
    return this.call<Room>('GET', `/api/rooms/${id}`);
  }
  createRoom(name: string, isPrivate: boolean, moderation: Moderation) {
    return this.call<Room>('POST', '/api/rooms', { name, private: isPrivate, moderation });
  }
  addMember(room: number, user: string) {
    return this.call<{ room: number; user: User }>('POST', `/api/rooms/${room}/members`, { user });
  }
  history(room: number, before?: number, limit = 50) {
    const query = new URLSearchParams({ limit: String(limit) });
    if (before) query.set('before', String(before));
    return this.call<History>('GET', `/api/rooms/${room}/messages?${query}`);
  }
  postMessage(room: number, text: string, clientMsgId?: string) {
    return this.call<{ id: string; ts: number }>('POST', `/api/rooms/${room}/messages`, {
      text,
      client_msg_id: clientMsgId,
    });
  }
  // The raw image as the body, with its type. Through XMLHttpRequest, the only API that reports
  // upload progress (onProgress gets the fraction sent, 0 to 1).
  upload(room: number, file: Blob, onProgress: (fraction: number) => void): UploadTask {
    const xhr = new XMLHttpRequest();
    const done = new Promise<Upload>((resolve, reject) => {
      xhr.open('POST', `/api/rooms/${room}/uploads`);
      xhr.setRequestHeader('Content-Type', file.type);
      const token = this.token();
      if (token) xhr.setRequestHeader('Authorization', `Bearer ${token}`);
      xhr.upload.onprogress = (e) => {
        if (e.lengthComputable && e.total > 0) onProgress(e.loaded / e.total);
      };
      xhr.onload = () => {
        const json = parseJson(xhr.responseText);
        if (xhr.status >= 200 && xhr.status < 300 && json) return resolve(json as Upload);
        if (xhr.status === 401 && token) this.onUnauthorized();
        reject(apiError(xhr.status, xhr.statusText, json));
      };
      // A refusal before the whole body is read (413 from Content-Length) can reach the browser as
      // a broken connection rather than an answer.
      xhr.onerror = () => reject(new ApiError(0, 'network', 'the upload did not reach the server; check your connection'));
      xhr.onabort = () => reject(new ApiError(0, 'aborted', 'the upload was cancelled'));
      xhr.send(file);
    });
    return { done, abort: () => xhr.abort() };
  }
  // Asks for a message's audio: ready (its URL) or pending (a speech frame will follow).
  speech(messageId: string) {
    return this.call<SpeechAnswer>('POST', `/api/messages/${encodeURIComponent(messageId)}/speech`);
  }
  // An object of a private room (an image, audio), fetched with the token, for a blob: URL.
  async object(url: string): Promise<Blob> {
    const token = this.token();
    let response: Response;
    try {
      response = await fetch(url, { headers: token ? { Authorization: `Bearer ${token}` } : {} });
    } catch {
      throw new ApiError(0, 'network', 'cannot reach the server; check your connection');
    }
    if (!response.ok) {
      if (response.status === 401 && token) this.onUnauthorized();
      throw apiError(response.status, response.statusText, await response.json().catch(() => null));
    }
    return response.blob();
  }
  roomStats(room: number, from: number, to: number, bucket: string) {
    const query = new URLSearchParams({ from: String(from), to: String(to), bucket });
    return this.call<RoomStats>('GET', `/api/rooms/${room}/stats?${query}`);
  }
  mentions(unreadOnly: boolean, before?: number) {
    const query = new URLSearchParams({ unread: String(unreadOnly) });
    if (before) query.set('before', String(before));
    return this.call<MentionList>('GET', `/api/users/me/mentions?${query}`);
  }
  markMentionRead(id: number | string) {
    return this.call<void>('POST', `/api/mentions/${encodeURIComponent(String(id))}/read`);
  }

  // --- the pixel board (docs/board.md); its reads need no token ---
  boardMeta() {
    return this.call<BoardMeta>('GET', '/api/board/meta', undefined, false);
  }
  // The board's bytes and the version they are at (X-Board-Version, else the ETag "B"); `atLeast`
  // asks for that version or a newer one (?v=N).
  async board(atLeast?: number): Promise<{ bytes: Uint8Array; version: number }> {
    let response: Response;
    try {
      response = await fetch(atLeast ? `/api/board?v=${atLeast}` : '/api/board');
    } catch {
      throw new ApiError(0, 'network', 'cannot reach the server; check your connection');
    }
    if (!response.ok) {
      const json = await response.json().catch(() => null);
      throw apiError(response.status, response.statusText, json, response.headers.get('Retry-After'));
    }
    const named = response.headers.get('X-Board-Version') ?? /^(?:W\/)?"(\d+)"$/.exec(response.headers.get('ETag') ?? '')?.[1];
    const version = Number(named);
    if (named == null || !Number.isSafeInteger(version)) throw new ApiError(response.status, 'bad_board', 'the board came without its version');
    return { bytes: new Uint8Array(await response.arrayBuffer()), version };
  }
  placePixel(x: number, y: number, color: number) {
    return this.call<{ id: string; ts: number }>('PUT', '/api/board/pixels', { x, y, color });
  }
  pixel(x: number, y: number) {
    return this.call<PixelInfo>('GET', `/api/board/pixels/${x}/${y}`, undefined, false);
  }
}
