// Unit tests of the client's pure modules (no DOM, no server): RoomLog's ordering and
// de-duplication, the @mention / #room tokenizer, what a message's profanity tags show (levels,
// which words stay hidden) and a room's moderation, when a token is renewed, which images may be
// attached, what the client knows of each message's audio, how soon the socket reconnects, and the pixel board's decoding, version
// rules (subscribe, fetch, apply without a gap), zoom and pan, hover pacing, and which answer settles a
// placement sent over the socket. The TypeScript is
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
const { resendDelay, rejoinDelay, MAX_SENDS } = await load('resend');
const { reconnectDelay } = await load('socket');
const { imageProblem, formatBytes, pickFile, fitWithin, MAX_IMAGE_BYTES } = await load('media');
const { SpeechStore } = await load('speech');
const { BoardSync, decodeBoard, parseColor } = await load('boardsync');
const { HoverGate, clampView, fitView, formatWait, pixelAt, zoomAt } = await load('boardview');
const { PlaceAnswers } = await load('placing');
const { profanityView, moderationSummary, moderationTitle } = await load('profanity');

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

test("messages read from history before their tags were stored get them from the join's replay", () => {
  const tags = { lang: 'en', sentiment: { label: 'neutral', score: 0 }, profanity: { flagged: true, level: 'strong', terms: ['fuck'], levels: ['strong'] } };
  const log = new RoomLog(ME);
  log.addHistory([frame(103), frame(102, { tags }), frame(101), frame(100, { tags })], 100);
  assert.equal(log.replayFrom(), 100, 'the replay starts before the oldest untagged message');
  assert.equal(log.addFrame(frame(101, { tags })), true, 'a replayed frame brings the tags');
  assert.deepEqual(log.items.find((m) => m.pos === 101).tags, tags);
  assert.equal(log.addFrame(frame(101, { tags })), false, 'twice changes nothing');
  assert.equal(log.addFrame(frame(102, { tags })), false, 'nor does a message that has its tags');
  assert.equal(log.addFrame(frame(103)), false, 'nor a frame without tags');
  assert.equal(log.replayFrom(), 102);
  log.addFrame(frame(103, { tags }));
  assert.equal(log.replayFrom(), 103, 'all tagged: after the newest');
  assert.deepEqual(positions(log), [100, 101, 102, 103]);
  // Untagged messages far back (a tag worker long away) do not make every join replay them all.
  const old = new RoomLog(ME);
  old.addHistory(Array.from({ length: 80 }, (_, i) => frame(80 - i)), null);
  assert.equal(old.replayFrom(), 30);
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

test('a server restarting (1012) is reconnected to at once; other closes back off', () => {
  const half = () => 0.5;
  assert.ok(reconnectDelay(1012, true, 1, () => 0.999) <= 100);
  assert.equal(reconnectDelay(1012, true, 1, half), 50);
  // A 1012 on a connection that never opened is a failure like any other.
  assert.equal(reconnectDelay(1012, false, 3, half), 1500);
  assert.deepEqual([1, 2, 3, 6, 9].map((n) => reconnectDelay(1006, true, n, half)), [375, 750, 1500, 10_000 * 0.75, 10_000 * 0.75]);
});

test('refusals of a passing fault are sent again with backoff, a bounded number of times', () => {
  const half = () => 0.5; // no jitter
  for (const code of ['queue_unavailable', 'unavailable', 'busy', 'not_joined', 'draining'])
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

test('a join refused for a passing cause is asked again with backoff for as long as the room is open', () => {
  const half = () => 0.5; // no jitter
  for (const code of ['unavailable', 'busy', 'rate_limited'])
    assert.deepEqual([1, 2, 3, 4, 5, 6, 40].map((n) => rejoinDelay(code, n, undefined, half)), [500, 1000, 2000, 4000, 8000, 8000, 8000]);
  assert.equal(rejoinDelay('rate_limited', 1, 1200, half), 1200);
  assert.equal(rejoinDelay('busy', 1, undefined, () => 0), 375);
  // What would be refused again is shown to the user.
  for (const code of ['forbidden', 'not_found', 'too_many_rooms', 'bad_field'])
    assert.equal(rejoinDelay(code, 1, undefined, half), null);
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

// --- the pixel board ---

// The server's encoding (docs/board.md), written independently of decodeBoard.
function encodeBoard(pixels) {
  const bytes = new Uint8Array(Math.ceil(pixels.length / 2));
  pixels.forEach((c, i) => (bytes[i >> 1] |= i % 2 ? c : c << 4));
  return bytes;
}

test('the board bytes decode to one colour a pixel, high nibble first, an odd count too', () => {
  assert.deepEqual([...decodeBoard(Uint8Array.of(0x12, 0x3f), 2, 2)], [1, 2, 3, 15]);
  assert.deepEqual([...decodeBoard(Uint8Array.of(0xab, 0xc0), 3, 1)], [10, 11, 12]);
  const pixels = Array.from({ length: 7 * 5 }, (_, i) => (i * 7) % 16);
  assert.deepEqual([...decodeBoard(encodeBoard(pixels), 7, 5)], pixels);
  assert.throws(() => decodeBoard(Uint8Array.of(0x12), 2, 2), /has 1 bytes/);
  assert.deepEqual(parseColor('#E50000'), [229, 0, 0]);
});

const pf = (prev, v, pixels) => ({ type: 'pixels', prev, v, pixels });

test('frames kept during the fetch are dropped, applied whole or applied by their prev and v', () => {
  const sync = new BoardSync(4, 1);
  assert.deepEqual(sync.frame(pf(1, 2, [[0, 0, 9]])), { changed: [] }, 'before board_subscribe: not ours');
  sync.subscribing();
  assert.deepEqual(sync.frame(pf(3, 5, [[0, 0, 1]])), { changed: [] }, 'kept: after board_subscribe');
  assert.deepEqual(sync.subscribed(5), { fetch: 0, changed: [] }, 'no board yet: the plain URL');
  for (const f of [pf(5, 7, [[1, 0, 2], [2, 0, 3]]), pf(7, 8, [[3, 0, 4], [3, 0, 5]])])
    assert.deepEqual(sync.frame(f), { changed: [] }, 'kept while the board is fetched');
  // The board at 6: the first frame is on it; the second overlaps (6 of 7) and is applied whole.
  const step = sync.board(encodeBoard([7, 7, 7, 7]), 6);
  assert.deepEqual(step, { fetch: undefined, changed: 'all' });
  assert.deepEqual([...sync.pixels], [7, 2, 3, 5], 'a pixel twice in a frame: the later wins');
  assert.equal(sync.version, 8);
  assert.deepEqual(sync.frame(pf(8, 9, [[0, 0, 6]])), { changed: [[0, 0, 6]] });
  assert.deepEqual(sync.frame(pf(8, 9, [[0, 0, 1]])), { changed: [] }, 'an old frame again changes nothing');
  assert.equal(sync.colorAt(0, 0), 6);
  assert.deepEqual(sync.frame(pf(9, 10, [[9, 0, 1], [0, 0, 16]])), { changed: [] }, 'pixels off the board or palette are skipped');
  assert.equal(sync.version, 10);
});

test('a missing version refetches at the frame prev, keeping it and the rest for the answer', () => {
  const sync = new BoardSync(2, 1);
  sync.subscribed();
  sync.board(encodeBoard([0, 0]), 4);
  assert.deepEqual(sync.frame(pf(6, 7, [[0, 0, 1]])), { fetch: 6, changed: [] }, '5 and 6 are missing');
  assert.equal(sync.awaitingBoard, true);
  assert.deepEqual(sync.frame(pf(7, 8, [[1, 0, 2]])), { changed: [] }, 'kept');
  const step = sync.board(encodeBoard([3, 0]), 7); // the board at 7 has the first kept frame
  assert.deepEqual(step, { fetch: undefined, changed: 'all' });
  assert.deepEqual([...sync.pixels], [3, 2]);
  assert.equal(sync.version, 8);
  // An answer older than asked for: the gap is still there, so it is asked again.
  assert.deepEqual(sync.frame(pf(10, 11, [[0, 0, 5]])), { fetch: 10, changed: [] });
  assert.deepEqual(sync.board(encodeBoard([1, 1]), 9), { fetch: 10, changed: 'all' });
  assert.deepEqual(sync.board(encodeBoard([1, 1]), 10), { fetch: undefined, changed: 'all' });
  assert.deepEqual([...sync.pixels], [5, 1]);
});

test('a board older than the subscription, with no frame to show it, is fetched again at the version it began at', () => {
  const sync = new BoardSync(2, 1);
  sync.subscribing();
  assert.deepEqual(sync.subscribed(9), { fetch: 0, changed: [] });
  assert.deepEqual(sync.board(encodeBoard([1, 1]), 7), { fetch: 9, changed: 'all' }, 'a CDN copy from before v 9');
  assert.equal(sync.awaitingBoard, true);
  assert.deepEqual(sync.board(encodeBoard([2, 2]), 9), { fetch: undefined, changed: 'all' });
  assert.equal(sync.version, 9);
  assert.deepEqual(sync.frame(pf(9, 10, [[1, 0, 4]])), { changed: [[1, 0, 4]] });
});

test('a new subscription fetches a board at least as new as the one held; answers after a reset are dropped', () => {
  const sync = new BoardSync(2, 1);
  sync.subscribed();
  sync.board(encodeBoard([1, 2]), 12);
  sync.reset();
  assert.deepEqual(sync.frame(pf(12, 13, [[0, 0, 3]])), { changed: [] }, 'not subscribed: not kept');
  assert.deepEqual(sync.subscribed(), { fetch: 12, changed: [] });
  sync.reset();
  assert.deepEqual(sync.board(encodeBoard([9, 9]), 20), { changed: [] }, 'a late answer is not taken');
  assert.deepEqual([...sync.pixels], [1, 2]);
  assert.equal(sync.version, 12);
});

// A server that applies random batches, a subscriber that joins at a random point, frames that an
// ingress merges at random, and boards (also from a cache older than the subscription) that come
// back at random moments: the subscriber always ends on the server's board.
test('a subscriber during a burst always ends with the server board', () => {
  let seed = 42;
  const rand = (n) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) % n);
  const W = 6, H = 3;
  let refetched = 0; // runs that met a gap: the path is taken, not only the easy ones
  for (let run = 0; run < 300; run++) {
    const batches = Array.from({ length: 1 + rand(25) }, () =>
      Array.from({ length: 1 + rand(4) }, () => [rand(W), rand(H), rand(16)]),
    );
    const N = batches.length;
    const boardAt = (v) => {
      const b = new Array(W * H).fill(0);
      for (const batch of batches.slice(0, v)) for (const [x, y, c] of batch) b[y * W + x] = c;
      return encodeBoard(b);
    };
    const S = rand(N + 1); // the subscription starts after version S
    const frames = [];
    for (let v = S; v < N; ) {
      const to = Math.min(N, v + 1 + rand(3));
      frames.push(pf(v, to, batches.slice(v, to).flat()));
      v = to;
    }
    const sync = new BoardSync(W, H);
    let asked = sync.subscribed().fetch;
    const fetches = [];
    let fetched = 0;
    while (frames.length || asked !== undefined) {
      if (asked !== undefined && (frames.length === 0 || rand(3) === 0)) {
        // The plain URL may come from a cache older than the subscription; only a later frame can
        // show the gap, so that is modelled when one follows.
        const low = asked === 0 ? (S < N ? Math.max(0, S - 3) : S) : asked;
        const version = low + rand(N - low + 1);
        fetches.push(asked);
        asked = sync.board(boardAt(version), version).fetch;
        assert.ok(++fetched < 50, 'the fetches end');
      } else {
        const step = sync.frame(frames.shift());
        if (step.fetch !== undefined) asked = step.fetch;
      }
    }
    assert.equal(sync.version, N, `run ${run}: fetches ${fetches}`);
    assert.deepEqual([...sync.pixels], [...decodeBoard(boardAt(N), W, H)], `run ${run}`);
    if (fetches.some((v) => v > 0)) refetched++;
  }
  assert.ok(refetched > 20, `${refetched} runs refetched`);
});

test('zoom keeps the point under the pointer; the board pixel under a point; a fitted view', () => {
  const v = { scale: 2, x: 10, y: 20 };
  const z = zoomAt(v, 3, 110, 70, 0.5);
  assert.equal(z.scale, 6);
  const under = (view, px) => (px - view.x) / view.scale;
  assert.equal(under(z, 110), under(v, 110));
  assert.equal((70 - z.y) / z.scale, (70 - v.y) / v.scale);
  assert.equal(zoomAt(v, 1000, 0, 0, 0.5).scale, 48, 'at most 48 screen pixels a board pixel');
  assert.equal(zoomAt(v, 0.001, 0, 0, 0.5).scale, 0.5);
  assert.deepEqual(pixelAt(v, 10, 20, 5, 5), { x: 0, y: 0 });
  assert.deepEqual(pixelAt(v, 19.9, 29.9, 5, 5), { x: 4, y: 4 });
  assert.equal(pixelAt(v, 20, 20, 5, 5), null);
  assert.equal(pixelAt(v, 9.9, 20, 5, 5), null);
  assert.deepEqual(fitView(800, 400, 1000, 1000), { scale: 0.4, x: 200, y: 0 });
  // Dragged far away, some of the board stays on screen.
  const far = clampView({ scale: 1, x: -5000, y: 5000 }, 800, 400, 1000, 1000);
  assert.ok(far.x + 1000 >= 48 && far.y <= 400 - 48, JSON.stringify(far));
});

test('hover asks once the pointer rests, and at most three times a second', () => {
  const gate = new HoverGate(250, 3);
  assert.equal(gate.wait(0), null, 'nothing pointed at');
  gate.point('1,1', 0);
  assert.equal(gate.wait(100), 150);
  gate.point('1,2', 200);
  assert.equal(gate.wait(300), 150, 'moving restarts the rest');
  gate.point('1,2', 300);
  assert.equal(gate.wait(450), 0, 'moving within the pixel does not');
  gate.asked(450);
  gate.point('2,2', 460);
  gate.asked(710);
  gate.point('3,2', 720);
  gate.asked(970);
  gate.point('4,2', 980);
  assert.equal(gate.wait(1230), 220, 'a fourth ask waits for the first to be a second old');
  assert.equal(gate.wait(1450), 0);
});

test('waits read as seconds, then minutes', () => {
  assert.equal(formatWait(4210), '4.3 s');
  assert.equal(formatWait(0), '0.0 s');
  assert.equal(formatWait(12_300), '13 s');
  assert.equal(formatWait(65_000), '1 min 5 s');
});

test('a placement over the socket is settled by the answer naming its client_msg_id, and only by it', async () => {
  const answers = new PlaceAnswers();
  const sent = [];
  const first = answers.place((id) => sent.push(id) > 0);
  const second = answers.place((id) => sent.push(id) > 0);
  assert.equal(sent.length, 2);
  assert.notEqual(sent[0], sent[1]);
  assert.match(sent[0], /^[!-~]{1,64}$/, 'a client_msg_id the server takes');
  // A chat send's error, an ack, a frame with no id, and a late answer are not a placement's.
  assert.equal(answers.take({ type: 'error', code: 'busy', reason: 'x', client_msg_id: 'c0ffee' }), false);
  assert.equal(answers.take({ type: 'ack', room: 1, id: '5', ts: 1, client_msg_id: sent[0] }), false);
  assert.equal(answers.take({ type: 'error', code: 'unknown_field', reason: 'x' }), false);
  assert.equal(answers.take({ type: 'error', code: 'rate_limited', reason: 'wait', retry_after_ms: 4200, client_msg_id: sent[1] }), true);
  assert.equal(answers.take({ type: 'placed', id: '77', ts: 1700000000000, client_msg_id: sent[0] }), true);
  assert.deepEqual(await first, { placed: { id: '77', ts: 1700000000000 } });
  assert.deepEqual(await second, { refused: { code: 'rate_limited', reason: 'wait', retryAfterMs: 4200 } });
  assert.equal(answers.take({ type: 'placed', id: '78', ts: 1, client_msg_id: sent[0] }), false, 'settled once');
  assert.equal(answers.size, 0);
});

test('a placement the socket could not send goes elsewhere; one whose socket dropped, or never answered, is settled', async () => {
  const answers = new PlaceAnswers(20);
  assert.equal(answers.place(() => false), null, 'not sent: the caller places over HTTP');
  assert.equal(answers.size, 0);
  let id;
  const lost = answers.place((i) => ((id = i), true));
  answers.dropAll();
  const dropped = await lost;
  assert.equal(dropped.refused.code, 'connection_lost');
  assert.match(dropped.refused.reason, /may have been placed/);
  assert.equal(answers.take({ type: 'placed', id: '9', ts: 1, client_msg_id: id }), false, 'the answer after the drop is no one\'s');
  const silent = answers.place(() => true);
  assert.equal((await silent).refused.code, 'timeout');
  assert.equal(answers.size, 0);
});

test('profanity: no badge without flagged words; tags from before levels count as strong and hide', () => {
  assert.equal(profanityView('hello', undefined), null);
  assert.equal(profanityView('hello', { flagged: false, level: 'none', terms: [], levels: [] }), null);
  const old = profanityView('this is shit', { flagged: true, terms: ['shit'], masked: 'this is s***' });
  assert.equal(old.level, 'strong');
  assert.deepEqual(old.terms, [{ term: 'shit', level: 'strong' }]);
  assert.equal(old.title, 'profanity: shit (strong)');
  assert.equal(old.hidden, 'this is s***');
  // Flagged, without terms nor masked text: a badge, nothing to hide.
  assert.deepEqual(profanityView('x', { flagged: true }), { level: 'strong', terms: [], title: 'profanity (strong)', hidden: null });
});

test('profanity: mild words are shown, strong ones hidden until revealed', () => {
  // The server masks strong words only (and what the room masks): a mild message has no masked text.
  const mild = profanityView('damn it', { flagged: true, level: 'mild', terms: ['damn'], levels: ['mild'] });
  assert.equal(mild.level, 'mild');
  assert.equal(mild.title, 'profanity: damn (mild)');
  assert.equal(mild.hidden, null);
  const strong = profanityView('fuck it', { flagged: true, level: 'strong', terms: ['fuck'], levels: ['strong'], masked: 'f*** it' });
  assert.equal(strong.level, 'strong');
  assert.equal(strong.hidden, 'f*** it');
  const both = profanityView('damn, this fuuucking thing', {
    flagged: true,
    level: 'strong',
    terms: ['damn', 'fuck'],
    levels: ['mild', 'strong'],
    masked: 'damn, this f******** thing',
  });
  assert.equal(both.title, 'profanity: damn (mild), fuck (strong)');
  assert.equal(both.hidden, 'damn, this f******** thing');
});

test('profanity: in a room that masks strong words the text comes masked; nothing more to hide', () => {
  // The server's masked text is the text; a masked term names no word.
  const v = profanityView('damn f***', { flagged: true, level: 'strong', terms: ['damn', 'f***'], levels: ['mild', 'strong'], masked: 'damn f***' });
  assert.equal(v.hidden, null);
  assert.equal(v.title, 'profanity: damn (mild), f*** (strong)');
});

test("a room's moderation reads as a summary and a sentence", () => {
  assert.equal(moderationSummary({ mild: 'tag', strong: 'mask' }), 'mild: tag · strong: mask');
  assert.equal(
    moderationTitle({ mild: 'tag', strong: 'block' }),
    'Profanity in this room: mild words are shown and marked; strong words are refused (the message is not sent).',
  );
});
