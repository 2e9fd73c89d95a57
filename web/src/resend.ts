// Which refused sends the client sends again by itself, and when: a person loses nothing to a
// passing fault. Sending again is safe because it reuses the message's client_msg_id, and the server
// stores one message per (user, client_msg_id) however many times it is sent.
//   queue_unavailable: Kafka did not confirm in time (a broker restarting);
//   unavailable, busy: the server or a dependency is away or overloaded for a moment;
//   not_joined: sent on a new socket before its join was answered (a reconnect);
//   rate_limited: too fast; the server says how long to wait (retry_after_ms);
//   draining: the server is restarting; the socket reconnects (1012) and the send goes to the next one.
// Anything else (text_too_long, blocked, forbidden...) would be refused again: the user decides.
export const RESEND_CODES: ReadonlySet<string> = new Set(['queue_unavailable', 'unavailable', 'busy', 'not_joined', 'rate_limited', 'draining']);

export const MAX_SENDS = 6; // the first send and five more, over about 15 s

// How long to wait before sending again a message refused with `code` after `sends` sends (1 or
// more), or null when it is not sent again. Doubling from 500 ms to 8 s, with jitter (`random` in
// [0, 1)) so that many clients refused together do not come back together.
export function resendDelay(code: string, sends: number, retryAfterMs?: number, random: () => number = Math.random): number | null {
  if (!RESEND_CODES.has(code) || sends >= MAX_SENDS) return null;
  if (retryAfterMs !== undefined && retryAfterMs > 0) return retryAfterMs;
  const base = Math.min(500 * 2 ** (sends - 1), 8000);
  return Math.round(base * (0.75 + random() * 0.5));
}
