// Splits message text into plain runs, @mentions and #room references. The result is data, rendered
// as text nodes and elements by the view: message text never reaches innerHTML.
//
// A sigil counts only at the start or after a character that cannot be part of a name, so an
// e-mail address is not a mention. Names follow the server's rules (ingress/http_api.cc): users
// [A-Za-z0-9_.-]{1,32}, rooms [a-z0-9][a-z0-9_-]{0,63}, case-insensitive. A trailing '.' is the
// sentence's, not the name's.

export type Token =
  | { kind: 'text'; text: string }
  | { kind: 'mention'; name: string; text: string }
  | { kind: 'room'; name: string; text: string };

const PATTERN = /(^|[^A-Za-z0-9_.\-@#])(?:@([A-Za-z0-9_.\-]{1,32})|#([A-Za-z0-9][A-Za-z0-9_\-]{0,63}))/g;

export function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let plain = 0; // start of the plain run not yet emitted
  for (const match of text.matchAll(PATTERN)) {
    const start = match.index! + match[1].length;
    let name = match[2] ?? match[3];
    if (match[2] !== undefined) name = name.replace(/\.+$/, '');
    if (!name) continue;
    if (start > plain) tokens.push({ kind: 'text', text: text.slice(plain, start) });
    const sigil = match[2] !== undefined ? '@' : '#';
    tokens.push(
      sigil === '@'
        ? { kind: 'mention', name, text: `@${name}` }
        : { kind: 'room', name: name.toLowerCase(), text: `#${name}` },
    );
    plain = start + 1 + name.length;
  }
  if (plain < text.length) tokens.push({ kind: 'text', text: text.slice(plain) });
  return tokens;
}
