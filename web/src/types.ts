// The shapes the server sends (see docs/events.md and ingress/http_api.cc). Ids of messages are
// decimal strings: JavaScript numbers cannot hold 64 bits.

export interface User {
  id: number;
  name: string;
  guest: boolean;
}

export interface Session {
  token: string;
  expires?: number; // seconds since the epoch
  received?: number; // when this client got the token, ms since the epoch (its own clock)
  user: User;
}

export interface Room {
  id: number;
  name: string;
  private: boolean;
}

export interface Sentiment {
  label: string; // "positive" | "negative" | "neutral"
  score: number;
}

export interface Profanity {
  flagged: boolean;
  terms?: string[];
  masked?: string;
}

export interface Tags {
  lang?: string;
  sentiment?: Sentiment;
  profanity?: Profanity;
}

export interface MessageFrame {
  type: 'message';
  room: number;
  pos: number;
  id: string;
  user: { id: number; name: string };
  text: string;
  ts: number; // ms since the epoch
  client_msg_id?: string;
  tags?: Tags;
}

export interface TagsFrame {
  type: 'tags';
  room: number;
  id: string;
  pos?: number;
  tags: Tags;
}

export interface Mention {
  id: number | string;
  room: { id: number; name: string };
  // A message frame. A live notification's has no pos yet (the persister gives it), and a listed
  // mention whose message is not stored yet has only the id.
  message: { id: string; pos?: number; user?: { id: number; name: string }; text?: string; ts?: number };
  read: boolean;
  kind?: string;
}

export type ServerFrame =
  | MessageFrame
  | TagsFrame
  | { type: 'joined'; room: number; pos: number }
  // Who joined and who left over the last interval (up to 200 ms); a user is in at most one list.
  | { type: 'presence'; room: number; joined: { id: number; name: string }[]; left: { id: number; name: string }[] }
  | { type: 'ack'; room: number; id: string; ts: number; client_msg_id?: string }
  | { type: 'error'; code: string; reason: string; client_msg_id?: string; retry_after_ms?: number }
  | { type: 'notification'; mention: Mention };
