// The sidebar: the rooms the user can see, a page at a time by name, with a filter by the start of
// the name (a room's moderation in its link's title), and a form to create one (public or private,
// with its policy for mild and for strong bad words).
import { useState } from 'preact/hooks';
import type { ChatClient } from './client';
import { DEFAULT_MODERATION, moderationTitle, POLICIES } from './profanity';
import { linkHandler, navigate } from './router';
import type { Moderation, Policy } from './types';

const ROOM_NAME = /^[a-z0-9][a-z0-9_-]{0,63}$/;

export function RoomList({ client, activeId }: { client: ChatClient; activeId?: number }) {
  return (
    <nav class="rooms" aria-label="Rooms">
      <h2>Rooms</h2>
      <input
        type="search"
        class="room-filter"
        aria-label="Find a room"
        placeholder="Find a room"
        value={client.roomsFilter}
        onInput={(e) => client.filterRooms(e.currentTarget.value)}
        autocomplete="off"
      />
      {client.roomsError && (
        <p class="error" role="alert">
          {client.roomsError}
        </p>
      )}
      <ul>
        {client.rooms.map((room) => {
          const href = `/rooms/${room.id}`;
          return (
            <li key={room.id}>
              <a
                href={href}
                onClick={linkHandler(href)}
                aria-current={room.id === activeId ? 'page' : undefined}
                class="room-item"
                title={room.moderation && moderationTitle(room.moderation)}
              >
                <span aria-hidden="true">#</span>
                {room.name}
                {room.private && <span class="private-tag">private</span>}
              </a>
            </li>
          );
        })}
      </ul>
      {client.roomsNext && (
        <button type="button" class="more-rooms" onClick={() => void client.moreRooms()}>
          More rooms
        </button>
      )}
      {client.rooms.length === 0 && !client.roomsError && (
        <p class="hint">{client.roomsFilter ? 'No room starts with that.' : 'No rooms yet: create the first.'}</p>
      )}
      <CreateRoom client={client} />
    </nav>
  );
}

function CreateRoom({ client }: { client: ChatClient }) {
  const [name, setName] = useState('');
  const [isPrivate, setPrivate] = useState(false);
  const [moderation, setModeration] = useState<Moderation>(DEFAULT_MODERATION);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    const wanted = name.trim().toLowerCase();
    if (!ROOM_NAME.test(wanted)) {
      setError("A room name is 1 to 64 letters, digits, '_' or '-', starting with a letter or digit.");
      return;
    }
    setBusy(true);
    setError(null);
    try {
      const room = await client.createRoom(wanted, isPrivate, moderation);
      setName('');
      setPrivate(false);
      setModeration(DEFAULT_MODERATION);
      navigate(`/rooms/${room.id}`);
    } catch (err) {
      setError((err as Error).message);
    }
    setBusy(false);
  };
  return (
    <form class="create-room" onSubmit={submit} aria-label="Create a room">
      <h3>New room</h3>
      <label>
        Room name
        <input value={name} onInput={(e) => setName(e.currentTarget.value)} autocomplete="off" placeholder="e.g. general" />
      </label>
      <label class="checkbox">
        <input type="checkbox" checked={isPrivate} onChange={(e) => setPrivate(e.currentTarget.checked)} />
        Private (members only)
      </label>
      <fieldset class="moderation-choice">
        <legend>Profanity</legend>
        <PolicySelect
          label="Mild words"
          example="damn, shit, wtf"
          value={moderation.mild}
          onChange={(mild) => setModeration({ ...moderation, mild })}
        />
        <PolicySelect
          label="Strong words"
          example="the f-word, slurs, threats"
          value={moderation.strong}
          onChange={(strong) => setModeration({ ...moderation, strong })}
        />
        <p class="hint">Tag: shown and marked. Mask: the server stars them for everyone. Block: messages with them are refused.</p>
      </fieldset>
      <button type="submit" disabled={busy}>
        Create room
      </button>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
    </form>
  );
}

function PolicySelect({
  label,
  example,
  value,
  onChange,
}: {
  label: string;
  example: string;
  value: Policy;
  onChange(p: Policy): void;
}) {
  return (
    <label>
      <span>
        {label} <span class="hint">({example})</span>
      </span>
      <select value={value} onChange={(e) => onChange(e.currentTarget.value as Policy)}>
        {POLICIES.map((p) => (
          <option key={p.value} value={p.value}>
            {p.option}
          </option>
        ))}
      </select>
    </label>
  );
}
