// The application shell: login when there is no session; otherwise a header (connection state, the
// pixel board, mentions with their unread count, the user, log out), the room list and the routed
// main pane. On a phone-wide screen the room list and the main pane take turns (see styles.css).
import { useEffect, useReducer } from 'preact/hooks';
import { BoardView } from './board';
import type { ChatClient } from './client';
import { LoginView } from './login';
import { MentionsView } from './mentions';
import { RoomView } from './room';
import { RoomList } from './rooms';
import { linkHandler, useRoute } from './router';

const CONNECTION_TEXT = {
  connecting: 'Connecting…',
  connected: 'Connected',
  reconnecting: 'Reconnecting…',
  offline: 'Offline',
};

export function App({ client }: { client: ChatClient }) {
  const [, render] = useReducer((n: number) => n + 1, 0);
  useEffect(() => client.subscribe(() => render(undefined)), [client]);
  const route = useRoute();

  // The route decides which room is open.
  const roomId = route.name === 'room' ? route.id : undefined;
  const at = route.name === 'room' ? route.at : undefined;
  const msg = route.name === 'room' ? route.msg : undefined;
  const loggedIn = client.session !== null;
  useEffect(() => {
    if (!loggedIn) return;
    if (roomId) client.openRoom(roomId, at || msg ? { pos: at, id: msg } : undefined);
    else client.closeRoom();
  }, [client, loggedIn, roomId, at, msg]);

  if (!client.session) return <LoginView client={client} />;
  const me = client.session.user;
  const inbox = client.inbox;
  const view = route.name === 'home' ? 'home' : 'main';

  return (
    <div class="app" data-view={view}>
      <header class="topbar">
        <a class="brand" href="/" onClick={linkHandler('/')}>
          chatpipe
        </a>
        <span class={`connection connection-${client.connection}`} role="status" data-state={client.connection}>
          {CONNECTION_TEXT[client.connection]}
        </span>
        <span class="spacer" />
        <a class="board-link" href="/board" onClick={linkHandler('/board')} aria-current={route.name === 'board' ? 'page' : undefined}>
          Pixel board
        </a>
        {inbox.available !== false && (
          <a
            class="mentions-link"
            href="/mentions"
            onClick={linkHandler('/mentions')}
            aria-current={route.name === 'mentions' ? 'page' : undefined}
            aria-label={`Mentions, ${inbox.unread} unread`}
          >
            @ Mentions
            {inbox.unread > 0 && (
              <span class="count" data-unread={inbox.unread}>
                {inbox.unread}
              </span>
            )}
          </a>
        )}
        <span class="me" title={me.guest ? 'guest account' : undefined}>
          {me.name}
          {me.guest && <span class="guest-tag">guest</span>}
        </span>
        <button type="button" onClick={() => void client.endSession()}>
          Log out
        </button>
      </header>
      {client.notice && (
        <div class="notice-bar" role="alert">
          {client.notice}
          <button type="button" class="link" onClick={() => client.dismissNotice()} aria-label="Dismiss">
            ×
          </button>
        </div>
      )}
      <div class="body">
        <aside class="sidebar">
          <RoomList client={client} activeId={roomId} />
        </aside>
        <main class="main">
          {route.name === 'room' && client.current?.id === route.id ? (
            <RoomView client={client} room={client.current} tab={route.tab} />
          ) : route.name === 'mentions' ? (
            <MentionsView client={client} />
          ) : route.name === 'board' ? (
            <BoardView client={client} />
          ) : (
            <div class="welcome">
              <h2>Welcome, {me.name}</h2>
              <p>Pick a room on the left, or create one.</p>
            </div>
          )}
        </main>
      </div>
    </div>
  );
}
