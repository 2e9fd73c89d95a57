// Routes are real paths (ingress answers any non-API path with index.html, so a reload or a shared
// link lands in the same place):
//   /                      the room list (on a phone) or a welcome pane
//   /rooms/ID              a room's chat; ?at=POS or ?msg=ID scrolls to one message (a mention)
//   /rooms/ID/board        reserved for the room's pixel board
//   /rooms/ID/stats        the room's analytics
//   /mentions              the mentions inbox
//   /board                 the shared pixel board (docs/board.md)
import { useEffect, useState } from 'preact/hooks';

export type Route =
  | { name: 'home' }
  | { name: 'room'; id: number; tab: 'chat' | 'board' | 'stats'; at?: number; msg?: string }
  | { name: 'mentions' }
  | { name: 'board' };

export function parseRoute(pathname: string, search: string): Route {
  const room = /^\/rooms\/(\d+)(?:\/(chat|board|stats))?\/?$/.exec(pathname);
  if (room) {
    const query = new URLSearchParams(search);
    const at = Number(query.get('at'));
    const msg = query.get('msg');
    return {
      name: 'room',
      id: Number(room[1]),
      tab: (room[2] as 'chat' | 'board' | 'stats') ?? 'chat',
      at: at > 0 ? at : undefined,
      msg: msg && /^\d+$/.test(msg) ? msg : undefined,
    };
  }
  if (/^\/mentions\/?$/.test(pathname)) return { name: 'mentions' };
  if (/^\/board\/?$/.test(pathname)) return { name: 'board' };
  return { name: 'home' };
}

const listeners = new Set<() => void>();

export function navigate(to: string, replace = false) {
  if (to === location.pathname + location.search) return;
  if (replace) history.replaceState(null, '', to);
  else history.pushState(null, '', to);
  for (const l of listeners) l();
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(location.pathname, location.search));
  useEffect(() => {
    const update = () => setRoute(parseRoute(location.pathname, location.search));
    listeners.add(update);
    window.addEventListener('popstate', update);
    return () => {
      listeners.delete(update);
      window.removeEventListener('popstate', update);
    };
  }, []);
  return route;
}

// For <a href> inside the app: a plain click navigates in place; modified clicks (new tab) do not.
export function linkHandler(to: string) {
  return (event: MouseEvent) => {
    if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    event.preventDefault();
    navigate(to);
  };
}
