// What the client shows of a message's profanity tags and of a room's moderation (docs/protocol.md,
// "Rooms"; docs/events.md for the tags). Pure: message.tsx, rooms.tsx and room.tsx render from it.
//
// Levels: mild words (damn, shit, wtf, mierda) are shown with their badge; strong ones (the f-word
// family, sexual insults, slurs, threats) are hidden behind the tags' masked text until the reader
// reveals them. Tags from before levels have none: a flagged one counts as strong, as then.
import type { Moderation, Policy, Profanity, ProfanityLevel } from './types';

export type Level = Exclude<ProfanityLevel, 'none'>;

export interface ProfanityView {
  level: Level; // the highest among the words
  terms: { term: string; level: Level }[];
  title: string; // "profanity: damn (mild), f*** (strong)"
  // The text to show until revealed (its strong words masked), or null when nothing is hidden.
  hidden: string | null;
}

function isLevel(x: unknown): x is Level {
  return x === 'mild' || x === 'strong';
}

// Null when the tags flag nothing.
export function profanityView(text: string, p: Profanity | undefined): ProfanityView | null {
  if (!p?.flagged || p.level === 'none') return null;
  const level: Level = isLevel(p.level) ? p.level : 'strong';
  const terms = (p.terms ?? []).map((term, i) => {
    const named = p.levels?.[i];
    return { term, level: isLevel(named) ? named : level };
  });
  const title = terms.length ? `profanity: ${terms.map((t) => `${t.term} (${t.level})`).join(', ')}` : `profanity (${level})`;
  return { level, terms, title, hidden: hiddenText(text, p.masked, terms) };
}

// `masked` has every word the server masks in it starred (in a room that masks nothing: every bad
// word), one character for one, so it lines up with the text character by character. Mild words are
// given back; a word the client cannot place among the mild terms stays masked (when unsure, hide).
function hiddenText(text: string, masked: string | undefined, terms: { term: string; level: Level }[]): string | null {
  if (!masked || masked === text) return null;
  // A term the server masked ("f***") folds to one letter and names no word.
  const folded = (level: Level) => terms.filter((t) => t.level === level).map((t) => fold(t.term)).filter((t) => t.length > 1);
  const mild = folded('mild');
  if (mild.length === 0) return masked;
  const strong = folded('strong');
  const shown = Array.from(text);
  const starred = Array.from(masked);
  if (shown.length !== starred.length) return masked;
  const out: string[] = [];
  let start = 0; // in characters (code points), as shown and starred count them
  // Word by word (runs between white space): one decision for all the pieces of a word ("s.h.i.t").
  for (const [run] of text.matchAll(/\S+|\s+/gu)) {
    const n = Array.from(run).length;
    const word = fold(run);
    const isMild = mild.some((t) => word.includes(t)) && !strong.some((t) => word.includes(t));
    out.push(...(isMild ? shown : starred).slice(start, start + n));
    start += n;
  }
  const result = out.join('');
  return result === text ? null : result;
}

const LEET: Record<string, string> = { '0': 'o', '1': 'i', '3': 'e', '4': 'a', '5': 's', '7': 't', '@': 'a', $: 's' };

// A word as the tagger compares it, roughly: lower case, no accents, leetspeak read, letters only,
// stretched letters made single ("Fuuuck" and "f.u.c.k" give "fuck").
export function fold(word: string): string {
  const letters = word
    .toLowerCase()
    .normalize('NFD')
    .replace(/\p{M}/gu, '')
    .replace(/[013457@$]/g, (c) => LEET[c])
    .replace(/[^\p{L}]/gu, '');
  return letters.replace(/(\p{L})\1+/gu, '$1');
}

// --- a room's moderation ---

// `option` is the form's short text, `explain` the header badge's title.
export const POLICIES: { value: Policy; option: string; explain: string }[] = [
  { value: 'tag', option: 'tag: show, marked', explain: 'are shown and marked' },
  { value: 'mask', option: 'mask: star them', explain: 'are starred by the server for everyone' },
  { value: 'block', option: 'block: refuse message', explain: 'are refused (the message is not sent)' },
];

export const DEFAULT_MODERATION: Moderation = { mild: 'tag', strong: 'tag' };

// "mild: tag · strong: mask", for a room's header.
export function moderationSummary(m: Moderation): string {
  return `mild: ${m.mild} · strong: ${m.strong}`;
}

// The sentence a badge's title gives: what happens to each level's words in the room.
export function moderationTitle(m: Moderation): string {
  const explain = (p: Policy) => POLICIES.find((x) => x.value === p)?.explain ?? p;
  return `Profanity in this room: mild words ${explain(m.mild)}; strong words ${explain(m.strong)}.`;
}
