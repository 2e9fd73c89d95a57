// The shapes the server sends (see docs/events.md and ingress/http_api.cc). Ids of messages are
// decimal strings: JavaScript numbers cannot hold 64 bits.
import type { PixelsFrame } from './boardsync';

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

// A room's policy for one level of bad word (docs/protocol.md, "Rooms"): tag shows and marks the
// words, mask has the server mask them, block has it refuse a message with one.
export type Policy = 'tag' | 'mask' | 'block';

export interface Moderation {
  mild: Policy;
  strong: Policy;
}

export interface Room {
  id: number;
  name: string;
  private: boolean;
  moderation?: Moderation; // absent from servers before moderation per level
}

// GET /api/rooms: a page by name; `next` is the next page's `after` (null or absent: the last page).
export interface RoomPage {
  rooms: Room[];
  next?: string | null;
}

export interface Sentiment {
  label: string; // "positive" | "negative" | "neutral"
  score: number;
}

export type ProfanityLevel = 'none' | 'mild' | 'strong';

// Tags from before levels have neither `level` nor `levels`: flagged ones were strong.
export interface Profanity {
  flagged: boolean;
  level?: ProfanityLevel; // the highest among the terms
  terms?: string[];
  levels?: ProfanityLevel[]; // levels[i] is the level of terms[i]
  masked?: string; // the text with the masked words starred; only when some word was masked
}

export interface Tags {
  lang?: string;
  sentiment?: Sentiment;
  profanity?: Profanity;
}

// An uploaded image as a message frame carries it (docs/protocol.md, "Images"): width and height are
// the original's, in pixels; the URLs are of content-addressed objects of the room, served without a
// token in public rooms and only with one in private rooms.
export interface ImageInfo {
  id?: string; // the upload's id
  url: string;
  thumbnail_url: string;
  width: number;
  height: number;
  bytes: number;
  type: string;
}

// POST /api/rooms/{id}/uploads answers the image and its content hash.
export interface Upload extends ImageInfo {
  id: string;
  sha256: string;
}

export interface MessageFrame {
  type: 'message';
  room: number;
  pos: number;
  id: string;
  user: { id: number; name: string };
  text: string; // an image message's caption, possibly empty
  ts: number; // ms since the epoch
  client_msg_id?: string;
  tags?: Tags;
  kind?: 'image'; // absent on text messages
  image?: ImageInfo;
}

// POST /api/messages/{id}/speech: the audio (Ogg Opus) of a message, or that it is being made; a
// `speech` frame then tells the asking user.
export type SpeechAnswer = { status: 'ready'; url: string; duration_ms?: number } | { status: 'pending' };

export interface SpeechFrame {
  type: 'speech';
  room: number;
  id: string; // the message's
  url: string;
  duration_ms?: number;
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
  | SpeechFrame
  | { type: 'joined'; room: number; pos: number }
  // Who joined and who left over the last interval (up to 200 ms); a user is in at most one list.
  | { type: 'presence'; room: number; joined: { id: number; name: string }[]; left: { id: number; name: string }[] }
  | { type: 'ack'; room: number; id: string; ts: number; client_msg_id?: string }
  | { type: 'error'; code: string; reason: string; client_msg_id?: string; retry_after_ms?: number }
  | { type: 'notification'; mention: Mention }
  | { type: 'board_subscribed'; v?: number }
  | { type: 'board_unsubscribed' }
  | { type: 'placed'; id: string; ts: number; client_msg_id?: string } // a `place` frame's answer, once in Kafka
  | PixelsFrame;

// The pixel board (docs/board.md).
export interface BoardMeta {
  width: number;
  height: number;
  palette: string[]; // "#rrggbb", index = colour number
  cooldown_ms: number;
}

export interface Placement {
  id: string;
  user: { id: number; name: string };
  color: number;
  ts: number; // ms since the epoch
}

// GET /api/board/pixels/{x}/{y}: the pixel's colour and its last placements, newest first.
export interface PixelInfo {
  x: number;
  y: number;
  color: number;
  history: Placement[];
}
