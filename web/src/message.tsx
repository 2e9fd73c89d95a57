// One line of a room's log: a message (author, time, tags, delivery state, a play button, text with
// @mentions and #room links, or an image with its caption) or a presence line. Text is rendered as
// text nodes only: never as HTML. Profanity's badge names its level; strong words are shown masked
// until revealed, mild ones as written (profanity.ts).
import { memo } from 'preact/compat';
import { useState } from 'preact/hooks';
import type { ChatClient } from './client';
import { ImageMessage, PlayButton } from './mediaview';
import { profanityView } from './profanity';
import { presenceText, type ChatMessage, type Item } from './roomlog';
import { tokenize } from './richtext';
import { linkHandler } from './router';
import type { Room, Tags } from './types';

// A #name link's room, when known; `ask`: look it up when not (a new function whenever rooms are
// learnt, so memoised lines render again).
export type RoomLookup = (name: string, ask: boolean) => Room | undefined;

const LOOKUPS_PER_TEXT = 8; // #names of one message looked up; the rest are links only once known

interface Context {
  me: string;
  rooms: RoomLookup;
  client: ChatClient;
  privateRoom: boolean; // its images and audio are fetched with the token
  onRetry(clientMsgId: string): void;
  onDiscard(clientMsgId: string): void;
}

export function formatTime(ts: number): { short: string; full: string } {
  const d = new Date(ts);
  const time = d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
  const today = new Date().toDateString() === d.toDateString();
  return {
    short: today ? time : `${d.toLocaleDateString([], { month: 'short', day: 'numeric' })} ${time}`,
    full: d.toLocaleString(),
  };
}

export function RichText({ text, me, rooms }: { text: string; me: string; rooms: RoomLookup }) {
  let lookups = 0;
  return (
    <>
      {tokenize(text).map((t, i) => {
        if (t.kind === 'text') return t.text;
        if (t.kind === 'mention')
          return (
            <span key={i} class={t.name.toLowerCase() === me.toLowerCase() ? 'mention mention-me' : 'mention'}>
              {t.text}
            </span>
          );
        const room = rooms(t.name, lookups++ < LOOKUPS_PER_TEXT);
        if (!room)
          return (
            <span key={i} class="room-ref">
              {t.text}
            </span>
          );
        const href = `/rooms/${room.id}`;
        return (
          <a key={i} class="room-ref room-link" href={href} onClick={linkHandler(href)}>
            {t.text}
          </a>
        );
      })}
    </>
  );
}

function TagBadges({ tags, text }: { tags?: Tags; text: string }) {
  if (!tags) return null;
  const { sentiment, lang } = tags;
  const profanity = profanityView(text, tags.profanity);
  return (
    <>
      {lang && (
        <span class="badge lang" title={`language: ${lang}`}>
          {lang}
        </span>
      )}
      {sentiment?.label && (
        <span
          class={`badge sentiment sentiment-${sentiment.label}`}
          title={`sentiment: ${sentiment.label} (${Number(sentiment.score).toFixed(2)})`}
          data-sentiment={sentiment.label}
        >
          {sentiment.label}
        </span>
      )}
      {profanity && (
        <span class={`badge profanity profanity-${profanity.level}`} title={profanity.title} data-level={profanity.level}>
          <span aria-hidden="true">⚠ </span>
          {profanity.level}
          <span class="visually-hidden"> profanity</span>
        </span>
      )}
    </>
  );
}

const DELIVERY_TEXT = { queued: 'waiting for connection', pending: 'sending…', failed: 'not sent' };

// The body of a message by its kind: an image (with its caption, if any) or text.
function MessageBody({ message, ctx }: { message: ChatMessage; ctx: Context }) {
  if (!message.image) return <MessageText message={message} me={ctx.me} rooms={ctx.rooms} />;
  return (
    <>
      <ImageMessage
        image={message.image}
        caption={message.text}
        author={message.user.name}
        client={ctx.client}
        isPrivate={ctx.privateRoom}
      />
      {message.text.trim() && <MessageText message={message} me={ctx.me} rooms={ctx.rooms} />}
    </>
  );
}

function MessageText({ message, me, rooms }: { message: ChatMessage; me: string; rooms: RoomLookup }) {
  const hidden = profanityView(message.text, message.tags?.profanity)?.hidden;
  const [revealed, setRevealed] = useState(false);
  return (
    <div class="text">
      <RichText text={hidden && !revealed ? hidden : message.text} me={me} rooms={rooms} />
      {hidden && (
        <button type="button" class="link reveal" aria-pressed={revealed} onClick={() => setRevealed(!revealed)}>
          {revealed ? 'hide' : 'show'}
        </button>
      )}
    </div>
  );
}

function MessageLine({ message, ctx }: { message: ChatMessage; ctx: Context }) {
  const time = formatTime(message.ts);
  const mine = message.delivery !== undefined;
  return (
    <li
      class={`msg${mine ? ' mine' : ''}${message.delivery === 'failed' ? ' failed' : ''}`}
      data-pos={message.pos}
      data-id={message.id}
      data-state={message.delivery}
    >
      <div class="meta">
        <span class="author">{message.user.name}</span>
        <time dateTime={new Date(message.ts).toISOString()} title={time.full}>
          {time.short}
        </time>
        <TagBadges tags={message.tags} text={message.text} />
        {mine && message.delivery === 'sent' && (
          <span class="delivery delivery-sent" title="sent">
            <span aria-hidden="true">✓</span>
            <span class="visually-hidden">sent</span>
          </span>
        )}
        {mine && message.delivery !== 'sent' && (
          <span class={`delivery delivery-${message.delivery}`}>{DELIVERY_TEXT[message.delivery!]}</span>
        )}
        {message.id && message.text.trim() && <PlayButton messageId={message.id} client={ctx.client} isPrivate={ctx.privateRoom} />}
      </div>
      <MessageBody message={message} ctx={ctx} />
      {message.delivery === 'failed' && (
        <div class="send-error" role="alert">
          Not sent: {message.error}.{' '}
          {/* the room's moderation refused it: the same text would be refused again */}
          {message.errorCode !== 'blocked' && (
            <>
              <button type="button" class="link" onClick={() => ctx.onRetry(message.clientMsgId!)}>
                Retry
              </button>{' '}
            </>
          )}
          <button type="button" class="link" onClick={() => ctx.onDiscard(message.clientMsgId!)}>
            Discard
          </button>
        </div>
      )}
    </li>
  );
}

export const LogItem = memo(
  function LogItem({ item, ctx }: { item: Item; ctx: Context }) {
    if (item.kind === 'presence')
      return (
        <li class="presence" data-event={item.event}>
          {presenceText(item.users, item.event)}
        </li>
      );
    return <MessageLine message={item} ctx={ctx} />;
  },
  (a, b) => a.item === b.item && a.ctx === b.ctx,
);
