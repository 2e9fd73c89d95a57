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
  return { level, terms, title, hidden: hiddenText(text, p.masked) };
}

// The server's masked text hides the strong words (and whatever the room masks), never a mild word a
// room shows (docs/events.md, "Tags"): it is what to show until revealed, unless it is the text.
function hiddenText(text: string, masked: string | undefined): string | null {
  return masked && masked !== text ? masked : null;
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
