// Which refused sends (and joins, below) the client sends again by itself, and when: a person loses
// nothing to a passing fault. Sending again is safe because it reuses the message's client_msg_id, and
// the server stores one message per (user, client_msg_id) however many times it is sent.
//   queue_unavailable: Kafka did not confirm in time (a broker restarting);
//   unavailable, busy: the server or a dependency is away or overloaded for a moment;
//   not_joined: sent on a new socket before its join was answered (a reconnect);
//   rate_limited: too fast; the server says how long to wait (retry_after_ms);
//   draining: the server is restarting; the socket reconnects (1012) and the send goes to the next one.
// Anything else (text_too_long, blocked, forbidden...) would be refused again: the user decides.
export const RESEND_CODES: ReadonlySet<string> = new Set(['queue_unavailable', 'unavailable', 'busy', 'not_joined', 'rate_limited', 'draining']);

export const MAX_SENDS = 6; // the first send and five more, over about 15 s

// Which refused joins the client asks again by itself: the room the user is looking at comes back
// once storage does, for as long as it stays open. Anything else (forbidden, not_found...) is shown.
export const REJOIN_CODES: ReadonlySet<string> = new Set(['unavailable', 'busy', 'rate_limited']);

// How long to wait before sending again a message refused with `code` after `sends` sends (1 or
// more), or null when it is not sent again.
export function resendDelay(code: string, sends: number, retryAfterMs?: number, random: () => number = Math.random): number | null {
  if (!RESEND_CODES.has(code) || sends >= MAX_SENDS) return null;
  return backoff(sends, retryAfterMs, random);
}

// How long to wait before joining again a room whose join was refused with `code`, `refusals` times
// in a row (1 or more), or null when it is not asked again.
export function rejoinDelay(code: string, refusals: number, retryAfterMs?: number, random: () => number = Math.random): number | null {
  return REJOIN_CODES.has(code) ? backoff(refusals, retryAfterMs, random) : null;
}

// The server's wait when it names one; else doubling from 500 ms to 8 s, with jitter (`random` in
// [0, 1)) so that many clients refused together do not come back together.
function backoff(attempts: number, retryAfterMs: number | undefined, random: () => number): number {
  if (retryAfterMs !== undefined && retryAfterMs > 0) return retryAfterMs;
  const base = Math.min(500 * 2 ** (Math.min(attempts, 5) - 1), 8000);
  return Math.round(base * (0.75 + random() * 0.5));
}
