// The mentions inbox: messages that named the user, newest first, unread ones marked. Opening one
// marks it read and opens its room at that message.
import { useEffect } from 'preact/hooks';
import type { ChatClient } from './client';
import { formatTime, RichText } from './message';
import { navigate } from './router';
import type { Mention } from './types';

export function MentionsView({ client }: { client: ChatClient }) {
  const inbox = client.inbox;
  useEffect(() => void client.refreshMentions(), [client]);
  const open = (m: Mention) => {
    void client.markMentionRead(m);
    // A live notification comes before the message has a position: then the id finds it.
    navigate(`/rooms/${m.room.id}?${m.message.pos ? `at=${m.message.pos}` : `msg=${m.message.id}`}`);
  };
  return (
    <section class="mentions" aria-label="Mentions">
      <header class="room-header">
        <h2>Mentions</h2>
        {inbox.available && (
          <label class="checkbox">
            <input type="checkbox" checked={inbox.showAll} onChange={(e) => client.showAllMentions(e.currentTarget.checked)} />
            show read ones too
          </label>
        )}
      </header>
      {inbox.available === false && <p class="placeholder">This server does not keep mentions.</p>}
      {inbox.error && (
        <p class="error" role="alert">
          {inbox.error}
        </p>
      )}
      {inbox.available && inbox.items.length === 0 && !inbox.loading && (
        <p class="placeholder">{inbox.showAll ? 'Nobody has mentioned you yet.' : 'No unread mentions.'}</p>
      )}
      <ul class="mention-list">
        {inbox.items.map((m) => {
          const message = m.message;
          const time = message.ts ? formatTime(message.ts) : null;
          return (
            <li key={m.id} class={m.read ? 'mention-item' : 'mention-item unread'} data-mention={m.id}>
              <button type="button" class="mention-open" onClick={() => open(m)}>
                <span class="meta">
                  {!m.read && <span class="dot" aria-label="unread" />}
                  <span class="author">{message.user?.name ?? 'someone'}</span> in{' '}
                  <span class="room-ref">#{m.room.name}</span>
                  {time && message.ts && (
                    <time dateTime={new Date(message.ts).toISOString()} title={time.full}>
                      {time.short}
                    </time>
                  )}
                </span>
                <span class="text">
                  {message.text !== undefined ? (
                    <RichText text={message.text} me={client.me?.name ?? ''} rooms={(name, ask) => client.roomNamed(name, ask)} />
                  ) : (
                    <span class="hint">(the message is on its way)</span>
                  )}
                </span>
              </button>
            </li>
          );
        })}
      </ul>
      {inbox.nextBefore && (
        <button type="button" class="link more" onClick={() => client.loadOlderMentions()} disabled={inbox.loading}>
          Load older mentions
        </button>
      )}
    </section>
  );
}
