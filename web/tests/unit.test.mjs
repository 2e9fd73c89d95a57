// Unit tests of the client's pure modules (no DOM, no server): RoomLog's ordering and
// de-duplication, the @mention / #room tokenizer, when a token is renewed, which images may be
// attached, and what the client knows of each message's audio. The TypeScript is
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
const { imageProblem, formatBytes, pickFile, fitWithin, MAX_IMAGE_BYTES } = await load('media');
const { SpeechStore } = await load('speech');

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

test('an image is attached only if it is PNG, JPEG, GIF or WebP, not empty, and at most 5 MiB', () => {
  const file = (type, size, name = 'cat.png') => ({ name, type, size });
  for (const type of ['image/png', 'image/jpeg', 'image/gif', 'image/webp']) assert.equal(imageProblem(file(type, 1000)), null);
  assert.equal(imageProblem(file('image/png', MAX_IMAGE_BYTES)), null, 'the limit itself is allowed');
  assert.match(imageProblem(file('image/png', MAX_IMAGE_BYTES + 1)), /cat\.png is 5\.0 MB; images may be at most 5\.0 MB/);
  assert.match(imageProblem(file('image/svg+xml', 10, 'a.svg')), /a\.svg is not a PNG, JPEG, GIF or WebP image/);
  assert.match(imageProblem(file('', 10, 'notes')), /not a PNG/, 'a file the browser could not type');
  assert.match(imageProblem(file('image/png', 0)), /cat\.png is empty/);
  assert.deepEqual([0, 1023, 1536, 5 * 1024 * 1024].map(formatBytes), ['0 B', '1023 B', '1.5 KB', '5.0 MB']);
});

test("a drop's or a paste's image is the first image among its files, else the first file", () => {
  const pdf = { name: 'a.pdf', type: 'application/pdf', size: 1 };
  const png = { name: 'b.png', type: 'image/png', size: 1 };
  assert.equal(pickFile([pdf, png]), png);
  assert.equal(pickFile([pdf]), pdf, 'so that the refusal can say why');
  assert.equal(pickFile([]), undefined);
});

test('a thumbnail is scaled down to fit its box, keeping its shape, never up', () => {
  assert.deepEqual(fitWithin(640, 480), { width: 320, height: 240 });
  assert.deepEqual(fitWithin(1000, 200), { width: 320, height: 64 });
  assert.deepEqual(fitWithin(100, 2400), { width: 10, height: 240 });
  assert.deepEqual(fitWithin(40, 30), { width: 40, height: 30 });
  assert.deepEqual(fitWithin(5000, 1), { width: 320, height: 1 }, 'at least a pixel');
  assert.deepEqual(fitWithin(0, 0), { width: 320, height: 240 }, 'no size known: the whole box');
});

test('image frames keep their image; a pending image message becomes the stored one', () => {
  const image = { id: '55', url: '/api/rooms/1/objects/ab', thumbnail_url: '/api/rooms/1/objects/cd', width: 64, height: 48, bytes: 900, type: 'image/png' };
  const log = new RoomLog(ME);
  log.addFrame(frame(1, { kind: 'image', image, text: '' }));
  log.addFrame(frame(2));
  const [img, text] = log.items;
  assert.deepEqual(img.image, image);
  assert.equal(img.text, '');
  assert.equal(text.image, undefined);
  // Not an image message: an image member without the kind is ignored.
  log.addFrame(frame(3, { image }));
  assert.equal(log.items[2].image, undefined);

  log.addPending({ kind: 'message', key: 'c1', user: { id: ME, name: 'me' }, text: 'look', image, ts: 1, clientMsgId: 'x', delivery: 'pending' });
  log.addFrame(frame(4, { user: { id: ME, name: 'me' }, client_msg_id: 'x', kind: 'image', image, text: 'look' }));
  assert.equal(log.pending.length, 0);
  assert.equal(log.items[3].key, 'c1');
  assert.deepEqual(log.items[3].image, image);
});

test('speech: asked once, ready from a 200 or a frame in either order, failures may be retried', () => {
  const store = new SpeechStore();
  const seen = [];
  const unsubscribe = store.subscribe('m1', () => seen.push(store.get('m1').status));
  assert.equal(store.shouldRequest('m1'), true);
  store.requested('m1');
  assert.equal(store.shouldRequest('m1'), false, 'not while a request is out');
  store.answered('m1', { status: 'pending' });
  assert.deepEqual(store.pendingIds(), ['m1']);
  assert.equal(store.shouldRequest('m1'), true, 'a pending one may be asked again (a lost frame)');
  store.ready('m1', '/api/rooms/1/objects/aa', 1800);
  assert.deepEqual(store.get('m1'), { status: 'ready', url: '/api/rooms/1/objects/aa', durationMs: 1800 });
  assert.equal(store.shouldRequest('m1'), false, 'replays use the known URL');
  assert.deepEqual(store.pendingIds(), []);
  assert.deepEqual(seen, ['requesting', 'pending', 'ready']);

  // The frame first, the 202 after: still ready. A failure after ready changes nothing either.
  store.requested('m2');
  store.ready('m2', '/u2');
  store.answered('m2', { status: 'pending' });
  store.failed('m2', 'late error');
  assert.equal(store.get('m2').status, 'ready');

  store.requested('m3');
  store.failed('m3', 'the server answered 500');
  assert.deepEqual(store.get('m3'), { status: 'failed', error: 'the server answered 500' });
  assert.equal(store.shouldRequest('m3'), true);
  store.requested('m3');
  store.answered('m3', { status: 'ready', url: '/u3', duration_ms: 900 });
  assert.equal(store.get('m3').durationMs, 900);

  unsubscribe();
  store.ready('m1', '/again');
  assert.equal(seen.length, 3, 'no calls after unsubscribing');
});
