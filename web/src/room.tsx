// The open room: its header (name, its moderation, who came online, adding members to a private
// room), the message log (older pages load when scrolled to the top; new messages keep it at the
// bottom when it was there) and the composer (Enter sends, Shift+Enter is a new line; an image is
// attached with its button, by dropping it on the room or by pasting it, see attach.tsx).
import { useLayoutEffect, useMemo, useRef, useState } from 'preact/hooks';
import { AttachButton, AttachmentPreview, useAttachment, type AttachmentControl } from './attach';
import type { ChatClient, OpenRoom } from './client';
import { pickFile } from './media';
import { LogItem } from './message';
import { moderationSummary, moderationTitle } from './profanity';
import { linkHandler } from './router';
import { RoomStatsView } from './stats';

const NEAR_EDGE_PX = 80;

export function RoomView({ client, room, tab }: { client: ChatClient; room: OpenRoom; tab: 'chat' | 'board' | 'stats' }) {
  const info = client.roomById(room.id);
  const title = info ? `#${info.name}` : `Room ${room.id}`;
  return (
    <section class="room" aria-label={title}>
      <header class="room-header">
        <a class="back" href="/" onClick={linkHandler('/')} aria-label="Back to rooms">
          ←
        </a>
        <h2>
          {title}
          {info?.private && <span class="private-tag">private</span>}
          {info?.moderation && (
            <span class="moderation-tag" title={moderationTitle(info.moderation)} data-mild={info.moderation.mild} data-strong={info.moderation.strong}>
              {moderationSummary(info.moderation)}
            </span>
          )}
        </h2>
        {room.online.size > 0 && (
          <p class="online" aria-label="Online">
            online: {[...room.online.values()].join(', ')}
          </p>
        )}
        <nav class="room-tabs" aria-label="Room views">
          <a href={`/rooms/${room.id}`} onClick={linkHandler(`/rooms/${room.id}`)} aria-current={tab === 'chat' ? 'page' : undefined}>
            Chat
          </a>
          <a
            href={`/rooms/${room.id}/stats`}
            onClick={linkHandler(`/rooms/${room.id}/stats`)}
            aria-current={tab === 'stats' ? 'page' : undefined}
          >
            Analytics
          </a>
        </nav>
        {info?.private && <AddMember client={client} room={room.id} />}
      </header>
      {room.status === 'error' ? (
        <div class="room-error" role="alert">
          {room.error}
        </div>
      ) : tab === 'stats' ? (
        <RoomStatsView client={client} room={room.id} />
      ) : tab === 'board' ? (
        <p class="placeholder">This room has no pixel board yet.</p>
      ) : (
        <ChatPane key={room.id} client={client} room={room} title={title} />
      )}
    </section>
  );
}

function AddMember({ client, room }: { client: ChatClient; room: number }) {
  const [name, setName] = useState('');
  const [result, setResult] = useState<{ ok: boolean; text: string } | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    if (!name.trim()) return;
    setBusy(true);
    try {
      const user = await client.addMember(room, name.trim());
      setResult({ ok: true, text: `${user.name} was added to the room.` });
      setName('');
    } catch (err) {
      setResult({ ok: false, text: `Could not add ${name.trim()}: ${(err as Error).message}` });
    }
    setBusy(false);
  };
  return (
    <form class="add-member" onSubmit={submit}>
      <label>
        <span class="visually-hidden">User name to add</span>
        <input
          value={name}
          onInput={(e) => setName(e.currentTarget.value)}
          placeholder="add member by name"
          autocomplete="off"
          aria-label="User name to add"
        />
      </label>
      <button type="submit" disabled={busy}>
        Add member
      </button>
      {result && (
        <span class={result.ok ? 'ok' : 'error'} role={result.ok ? 'status' : 'alert'}>
          {result.text}
        </span>
      )}
    </form>
  );
}

// The log and the composer, one per room (a draft and its attachment stay with their room), and
// the drop target for images.
function ChatPane({ client, room, title }: { client: ChatClient; room: OpenRoom; title: string }) {
  const control = useAttachment(client);
  const [dropping, setDropping] = useState(false);
  const depth = useRef(0); // dragenter/dragleave pairs, which children fire too
  const carriesFiles = (e: DragEvent) => e.dataTransfer?.types.includes('Files') ?? false;
  return (
    <div
      class={`chat-pane${dropping ? ' dropping' : ''}`}
      onDragEnter={(e) => {
        if (!carriesFiles(e)) return;
        depth.current++;
        setDropping(true);
      }}
      onDragOver={(e) => {
        if (!carriesFiles(e)) return;
        e.preventDefault(); // allows the drop
        e.dataTransfer!.dropEffect = 'copy';
      }}
      onDragLeave={(e) => {
        if (carriesFiles(e) && --depth.current <= 0) setDropping(false);
      }}
      onDrop={(e) => {
        if (!carriesFiles(e)) return;
        e.preventDefault();
        depth.current = 0;
        setDropping(false);
        const file = pickFile(e.dataTransfer!.files);
        if (file) control.attach(file);
      }}
    >
      <MessageLog client={client} room={room} title={title} />
      <Composer client={client} room={room} title={title} control={control} />
      {dropping && (
        <div class="drop-hint" aria-hidden="true">
          Drop the image to attach it
        </div>
      )}
    </div>
  );
}

function MessageLog({ client, room, title }: { client: ChatClient; room: OpenRoom; title: string }) {
  const scroller = useRef<HTMLDivElement>(null);
  const atBottom = useRef(true);
  const before = useRef<{ height: number; oldest: number; count: number } | null>(null);
  const log = room.log;
  const me = client.me?.name ?? '';
  const privateRoom = client.isPrivate(room.id);
  const ctx = useMemo(
    () => ({
      me,
      rooms: (name: string, ask: boolean) => client.roomNamed(name, ask),
      client,
      privateRoom,
      onRetry: (id: string) => client.retry(id),
      onDiscard: (id: string) => client.discard(id),
    }),
    // knownRooms: a new lookup when rooms are learnt, so links to them render
    [client, me, client.knownRooms, privateRoom],
  );

  // Before the browser paints the new list: keep the reader's place when older messages came in
  // above, follow the end when they were at the end (or just sent something).
  useLayoutEffect(() => {
    const el = scroller.current;
    if (!el) return;
    const prev = before.current;
    const oldest = log.oldestPos();
    const count = log.items.length + log.pending.length;
    if (prev && oldest < prev.oldest && prev.oldest > 0) {
      el.scrollTop += el.scrollHeight - prev.height;
    } else if (atBottom.current || (prev && count > prev.count && log.pending.length > 0)) {
      el.scrollTop = el.scrollHeight;
    }
    before.current = { height: el.scrollHeight, oldest, count };
    const focus = room.focus;
    if (focus && (focus.pos ? log.has(focus.pos) : log.hasId(focus.id!))) {
      const target = el.querySelector<HTMLElement>(focus.pos ? `[data-pos="${focus.pos}"]` : `[data-id="${focus.id}"]`);
      if (target) {
        target.scrollIntoView({ block: 'center' });
        target.classList.add('highlight');
        atBottom.current = false;
        client.clearFocus();
      }
    }
  });

  const onScroll = () => {
    const el = scroller.current!;
    atBottom.current = el.scrollHeight - el.scrollTop - el.clientHeight < NEAR_EDGE_PX;
    if (el.scrollTop < NEAR_EDGE_PX) void client.loadOlder();
  };

  return (
    <div class="log-scroller" ref={scroller} onScroll={onScroll}>
      <div class="log-top">
        {room.status === 'loading' && <p class="hint">Loading messages…</p>}
        {room.status === 'ready' && log.nextBefore !== null && (
          <button type="button" class="link" onClick={() => client.loadOlder()} disabled={room.loadingOlder}>
            {room.loadingOlder ? 'Loading older messages…' : 'Load older messages'}
          </button>
        )}
        {room.status === 'ready' && log.nextBefore === null && (
          <p class="hint">{log.items.length ? 'This is the start of the room.' : 'No messages yet: say hello!'}</p>
        )}
        {room.joinProblem && !room.joined && (
          <p class="hint join-problem" role="status">
            Could not join the room ({room.joinProblem}); trying again…
          </p>
        )}
        {room.olderError && (
          <p class="error" role="alert">
            {room.olderError}
          </p>
        )}
      </div>
      <ol class="log" role="log" aria-label={`Messages in ${title}`} aria-live="polite">
        {log.items.map((item) => (
          <LogItem key={item.key} item={item} ctx={ctx} />
        ))}
        {log.pending.map((item) => (
          <LogItem key={item.key} item={item} ctx={ctx} />
        ))}
      </ol>
    </div>
  );
}

function Composer({
  client,
  room,
  title,
  control,
}: {
  client: ChatClient;
  room: OpenRoom;
  title: string;
  control: AttachmentControl;
}) {
  const [text, setText] = useState('');
  const input = useRef<HTMLTextAreaElement>(null);
  const attachment = control.attachment;
  const uploading = attachment?.progress != null;
  const canSend = (!!text.trim() || !!attachment) && !uploading && room.status !== 'error';
  const send = async () => {
    if (!canSend) return;
    if (attachment) {
      const upload = await control.upload();
      if (!upload) return; // the preview says why; the caption stays
      client.send(text, upload);
      control.remove();
    } else {
      client.send(text);
    }
    setText('');
    input.current?.focus();
  };
  // An image pasted (a screenshot, say) is attached; pasted text goes into the box as usual.
  const onPaste = (e: ClipboardEvent) => {
    const file = pickFile(e.clipboardData?.files ?? []);
    if (!file?.type.startsWith('image/')) return;
    e.preventDefault();
    control.attach(file);
  };
  const onKeyDown = (e: KeyboardEvent) => {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      void send();
    }
  };
  return (
    <form
      class="composer"
      onSubmit={(e) => {
        e.preventDefault();
        void send();
      }}
    >
      <AttachmentPreview control={control} />
      <AttachButton control={control} disabled={uploading || room.status === 'error'} />
      <textarea
        ref={input}
        value={text}
        rows={Math.min(6, text.split('\n').length)}
        onInput={(e) => setText(e.currentTarget.value)}
        onKeyDown={onKeyDown}
        onPaste={onPaste}
        placeholder={attachment ? 'Add a caption (optional)' : `Message ${title}`}
        aria-label={`Message ${title}`}
        maxLength={4000}
      />
      <button type="submit" disabled={!canSend}>
        {uploading ? 'Uploading…' : 'Send'}
      </button>
      {client.connection !== 'connected' && (
        <p class="hint composer-hint">Not connected: messages are sent when the connection is back.</p>
      )}
    </form>
  );
}
