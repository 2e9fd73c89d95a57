// Renewal: keeps a session's token fresh. A token is good for a day (ingress --token-ttl-s); once half
// of its life has passed the client trades it for a new one of the same session
// (POST /api/sessions/renew), so a person who keeps the app open is never logged out by the clock,
// while a token that leaks stops working within a day. Logging out ends the session with all its
// renewals (DELETE /api/sessions).
import type { Session } from './types';

const MIN_DELAY_MS = 60_000; // a clock far off the server's must not make it renew in a loop
const RETRY_MS = 60_000; // after a failed renewal (the server away): the token is still good for hours

// When `session`'s token should be renewed (ms since the epoch): halfway between receiving it and its
// expiry, at least a minute after `now`. A session stored before renewal existed (no `received`) is
// renewed a minute from now.
export function renewAt(session: Session, now: number): number {
  if (!session.expires || !session.received) return now + MIN_DELAY_MS;
  const half = session.received + (session.expires * 1000 - session.received) / 2;
  return Math.max(half, now + MIN_DELAY_MS);
}

export class Renewal {
  private timer: ReturnType<typeof setTimeout> | null = null;

  // `renew` fetches and stores a new token; it rejects when the server could not be asked.
  constructor(private readonly renew: () => Promise<void>) {}

  schedule(session: Session) {
    this.stop();
    this.timer = setTimeout(() => void this.run(), renewAt(session, Date.now()) - Date.now());
  }

  stop() {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private async run() {
    this.timer = null;
    try {
      await this.renew(); // schedules the next one through the owner's schedule()
    } catch {
      this.timer = setTimeout(() => void this.run(), RETRY_MS);
    }
  }
}
