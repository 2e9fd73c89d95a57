// Unit tests of the client's pure modules (no DOM, no server): RoomLog's ordering and
// de-duplication, the @mention / #room tokenizer, and when a token is renewed. The TypeScript is
// compiled with Vite's own esbuild transform into a temporary directory and imported from there.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { transformWithEsbuild } from 'vite';

const out = mkdtempSync(join(tmpdir(), 'chatpipe-web-unit-'));
after(() => rmSync(out, { recursive: true, force: true }));

async function load(name) {
  const src = new URL(`../src/${name}.ts`, import.meta.url);
  const { code } = await transformWithEsbuild(readFileSync(src, 'utf8'), `${name}.ts`, { format: 'esm' });
  const file = join(out, `${name}.mjs`);
  writeFileSync(file, code);
  return import(pathToFileURL(file).href);
}

const { tokenize } = await load('richtext');
const { RoomLog, presenceText } = await load('roomlog');
const { renewAt } = await load('renewal');
const { resendDelay, MAX_SENDS } = await load('resend');

const ME = 7;
const frame = (pos, extra = {}) => ({
  type: 'message',
  room: 1,
  pos,
  id: String(1000 + pos),
  user: { id: 9, name: 'bob' },
  text: `message ${pos}`,
  ts: 1_700_000_000_000 + pos,
  ...extra,
});
const positions = (log) => log.items.filter((i) => i.kind === 'message').map((i) => i.pos);

test('tokenize finds mentions and room references, and nothing in addresses', () => {
  assert.deepEqual(tokenize('hi @bob.'), [
    { kind: 'text', text: 'hi ' },
    { kind: 'mention', name: 'bob', text: '@bob' },
    { kind: 'text', text: '.' },
  ]);
  assert.deepEqual(tokenize('see #General-chat!'), [
    { kind: 'text', text: 'see ' },
    { kind: 'room', name: 'general-chat', text: '#General-chat' },
    { kind: 'text', text: '!' },
  ]);
  assert.deepEqual(tokenize('@a,@b.c'), [
    { kind: 'mention', name: 'a', text: '@a' },
    { kind: 'text', text: ',' },
    { kind: 'mention', name: 'b.c', text: '@b.c' },
  ]);
  assert.deepEqual(tokenize('mail me at a@b.com or x#y'), [{ kind: 'text', text: 'mail me at a@b.com or x#y' }]);
  assert.deepEqual(tokenize('<script>@x</script>'), [
    { kind: 'text', text: '<script>' },
    { kind: 'mention', name: 'x', text: '@x' },
    { kind: 'text', text: '</script>' },
  ]);
  assert.deepEqual(tokenize('a lone @ and # stay text'), [{ kind: 'text', text: 'a lone @ and # stay text' }]);
  // The pieces always add up to the text.
  for (const t of ['@@x', '##y', '(@z)', '@' + 'n'.repeat(40), 'é@ü #ß'])
    assert.equal(tokenize(t).map((p) => p.text).join(''), t);
});

test('history pages and live frames are kept in position order, each once', () => {
  const log = new RoomLog(ME);
  assert.equal(log.addHistory([frame(5), frame(4), frame(3)], 3), 3);
  assert.equal(log.lastPos, 5);
  assert.equal(log.nextBefore, 3);
  assert.equal(log.addFrame(frame(6)), true);
  assert.equal(log.addFrame(frame(6)), false, 'the same pos twice');
  assert.equal(log.addFrame(frame(7, { id: '1006' })), false, 'the same id at another pos');
  assert.equal(log.addHistory([frame(3), frame(2), frame(1)], null), 2, 'an overlapping older page');
  assert.equal(log.nextBefore, null);
  assert.equal(log.addFrame(frame(8)), true);
  assert.equal(log.addFrame(frame(7)), true, 'late, but not seen before');
  assert.deepEqual(positions(log), [1, 2, 3, 4, 5, 6, 7, 8]);
  assert.equal(log.oldestPos(), 1);
  assert.ok(log.has(7) && !log.has(9));
  assert.ok(log.hasId('1007') && !log.hasId('1009'));
});

test('reachedId tells whether older pages could still hold a message id', () => {
  const log = new RoomLog(ME);
  assert.equal(log.reachedId('1005'), false, 'nothing held yet');
  log.addHistory([frame(12), frame(11), frame(10)], 10);
  assert.equal(log.reachedId('1011'), true, 'held');
  assert.equal(log.reachedId('1020'), true, 'newer than the oldest held: arrives live, if at all');
  assert.equal(log.reachedId('1005'), false, 'older: page back');
  assert.equal(log.reachedId('99999999999999999999'), true, 'compared as 64-bit numbers, not strings');
});

test('presence lines stay where they arrived', () => {
  const log = new RoomLog(ME);
  log.addFrame(frame(1));
  log.addPresence([{ id: 9, name: 'bob' }], 'join');
  log.addPresence([], 'leave'); // nobody left: no line
  log.addFrame(frame(2));
  assert.deepEqual(
    log.items.map((i) => i.kind),
    ['message', 'presence', 'message'],
  );
});

test('a presence line names a few users and counts the rest', () => {
  const users = (...names) => names.map((name, i) => ({ id: i + 1, name }));
  assert.equal(presenceText(users('bob'), 'join'), 'bob joined');
  assert.equal(presenceText(users('bob', 'cid'), 'leave'), 'bob and cid left');
  assert.equal(presenceText(users('bob', 'cid', 'dan', 'eve'), 'join'), 'bob, cid, dan and eve joined');
  assert.equal(presenceText(users('bob', 'cid', 'dan', 'eve', 'fay'), 'join'), 'bob, cid, dan and 2 others joined');
});

test("the user's own pending message is replaced by its stored frame, keeping its key", () => {
  const log = new RoomLog(ME);
  log.addPending({ kind: 'message', key: 'cK', user: { id: ME, name: 'me' }, text: 'hi', ts: 1, clientMsgId: 'c1', delivery: 'queued' });
  assert.equal(log.updatePending('c1', { delivery: 'sent', id: '1001' }), true);
  assert.equal(log.updatePending('nope', { delivery: 'sent' }), false);
  assert.equal(log.findPending('c1').delivery, 'sent');
  // Someone else's frame with the same client id does not take it.
  log.addFrame(frame(1, { id: '2001', client_msg_id: 'c1' }));
  assert.equal(log.pending.length, 1);
  log.addFrame(frame(2, { user: { id: ME, name: 'me' }, text: 'hi', client_msg_id: 'c1' }));
  assert.equal(log.pending.length, 0);
  const stored = log.items.at(-1);
  assert.equal(stored.key, 'cK');
  assert.equal(stored.delivery, 'sent');
  assert.equal(stored.pos, 2);
});

test('tags apply by message id, also when they come before the message', () => {
  const log = new RoomLog(ME);
  log.addFrame(frame(1));
  const before = log.items;
  log.applyTags('1001', { sentiment: { label: 'positive', score: 0.8 } });
  assert.notEqual(log.items, before, 'a new array, for the view');
  assert.equal(log.items[0].tags.sentiment.label, 'positive');
  log.applyTags('1002', { profanity: { flagged: true, terms: ['x'], masked: '***' } });
  log.addFrame(frame(2, { tags: { lang: 'en' } }));
  assert.deepEqual(log.items[1].tags, { lang: 'en', profanity: { flagged: true, terms: ['x'], masked: '***' } });
});

test('a token is renewed halfway through its life, never sooner than a minute from now', () => {
  const received = Date.UTC(2026, 0, 1);
  const day = 24 * 3600;
  const session = { token: 't', user: { id: 1, name: 'a', guest: false }, received, expires: received / 1000 + day };
  assert.equal(renewAt(session, received), received + (day * 1000) / 2);
  const late = received + day * 1000; // the laptop slept past the halfway point
  assert.equal(renewAt(session, late), late + 60_000);
  // A client clock far ahead of the server's must not renew in a loop.
  assert.equal(renewAt({ ...session, expires: received / 1000 - 10 }, received), received + 60_000);
  // Stored before renewal existed: soon.
  assert.equal(renewAt({ token: 't', user: session.user }, received), received + 60_000);
});

test('refusals of a passing fault are sent again with backoff, a bounded number of times', () => {
  const half = () => 0.5; // no jitter
  for (const code of ['queue_unavailable', 'unavailable', 'busy', 'not_joined'])
    assert.deepEqual([1, 2, 3, 4, 5].map((n) => resendDelay(code, n, undefined, half)), [500, 1000, 2000, 4000, 8000]);
  assert.equal(resendDelay('queue_unavailable', MAX_SENDS, undefined, half), null);
  assert.equal(resendDelay('rate_limited', 1, 1200, half), 1200);
  // Jitter spreads clients refused together.
  assert.equal(resendDelay('unavailable', 1, undefined, () => 0), 375);
  assert.equal(resendDelay('unavailable', 1, undefined, () => 0.999), 625);
  // What would be refused again is left to the user.
  for (const code of ['text_too_long', 'blocked', 'forbidden', 'bad_field', 'empty_text'])
    assert.equal(resendDelay(code, 1, undefined, half), null);
});
