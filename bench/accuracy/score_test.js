// Tests of bench/accuracy/score.js's arithmetic and set parsing, on examples small enough to count by
// hand, and of learned.js on a toy set. Needs only node (no npm package, no chatpipe binary):
//   node bench/accuracy/score_test.js     (ctest runs it as accuracy_score_test when node is found)
'use strict';

const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const { test } = require('node:test');
const { parseSet, confusion, classFigures, binaryFigures, bootstrapInterval, scoreRows, chatpipePrediction, Malformed } = require('./score');
const learned = require('./learned');

const CLASSES = ['positive', 'negative', 'neutral'];
const close = (a, b) => assert.ok(Math.abs(a - b) < 1e-9, `${a} != ${b}`);

test('confusion matrix and macro-F1 of a hand-counted example', () => {
  const truth = ['positive', 'positive', 'positive', 'negative', 'negative', 'neutral'];
  const predicted = ['positive', 'negative', 'positive', 'negative', 'neutral', 'neutral'];
  const m = confusion(truth, predicted, CLASSES);
  assert.deepEqual(m, [[2, 1, 0], [0, 1, 1], [0, 0, 1]]);  // rows truth, columns predicted
  const f = classFigures(m, CLASSES);
  close(f.per_class.positive.f1, 0.8);  // tp 2, fp 0, fn 1: 4 / 5
  close(f.per_class.negative.f1, 0.5);  // tp 1, fp 1, fn 1: 2 / 4
  close(f.per_class.neutral.f1, 2 / 3);  // tp 1, fp 1, fn 0: 2 / 3
  close(f.macro_f1, (0.8 + 0.5 + 2 / 3) / 3);
  close(f.accuracy, 4 / 6);
  close(f.per_class.positive.recall, 2 / 3);
  close(f.per_class.negative.precision, 1 / 2);
});

test('a class absent from truth and predictions is left out of the macro average', () => {
  const m = confusion(['positive', 'negative'], ['positive', 'positive'], CLASSES);
  const f = classFigures(m, CLASSES);
  assert.equal(f.per_class.neutral.f1, null);
  close(f.per_class.positive.f1, 2 / 3);  // tp 1, fp 1, fn 0
  close(f.per_class.negative.f1, 0);  // tp 0, fn 1
  close(f.macro_f1, 1 / 3);  // (2/3 + 0) / 2, not / 3
});

test('binary figures count false positives and negatives', () => {
  const b = binaryFigures([true, true, false, false, true], [true, false, true, false, true]);
  assert.deepEqual([b.tp, b.fp, b.fn, b.tn], [2, 1, 1, 1]);
  close(b.f1, 4 / 6);
  assert.equal(binaryFigures([false], [false]).f1, null);  // nothing to find, nothing found
});

test('bootstrap interval: around the figure, seeded, narrower on a larger set', () => {
  // One message in four mislabelled, in sets of 40 and of 400 messages.
  const rowsOf = (n) => Array.from({ length: n }, (_, i) => ({ lang: 'en', sentiment: CLASSES[i % 3], profanity: i % 2 ? 'mild' : 'none' }));
  const predsOf = (rows) => rows.map((r, i) => ({ sentiment: i % 4 === 0 ? CLASSES[(i + 1) % 3] : r.sentiment, profane: r.profanity !== 'none' }));
  const small = rowsOf(40);
  const large = rowsOf(400);
  const s = scoreRows(small, predsOf(small));
  const l = scoreRows(large, predsOf(large));
  for (const f of [s, l]) {
    assert.ok(f.sentiment.interval[0] <= f.sentiment.macro_f1 && f.sentiment.macro_f1 <= f.sentiment.interval[1], `${f.sentiment.interval}`);
    assert.ok(f.sentiment.interval[0] < f.sentiment.interval[1]);
    assert.deepEqual(f.profanity.interval, [1, 1]);  // every flag right: every resample scores 1
  }
  const width = (f) => f.sentiment.interval[1] - f.sentiment.interval[0];
  assert.ok(width(l) < width(s) / 2, `${width(l)} vs ${width(s)}`);  // about 1/sqrt(10) as wide
  assert.deepEqual(scoreRows(large, predsOf(large)).sentiment.interval, l.sentiment.interval);  // the same seed
  assert.equal(bootstrapInterval(0, () => 1), null);
});

test('profanity level: strong alone, and agreement where both say profane', () => {
  const rows = ['strong', 'mild', 'none', 'strong'].map((p) => ({ lang: 'en', sentiment: 'neutral', profanity: p }));
  const preds = ['strong', 'strong', 'mild', 'none'].map((l) => ({ profane: l !== 'none', level: l, lang: 'es' }));
  const s = scoreRows(rows, preds);
  assert.deepEqual([s.profanity.tp, s.profanity.fp, s.profanity.fn], [2, 1, 1]);
  assert.deepEqual([s.level.strong.tp, s.level.strong.fp, s.level.strong.fn], [1, 1, 1]);
  assert.equal(s.level.both_profane, 2);
  assert.equal(s.level.agree, 1);
  assert.deepEqual(s.level.confusion, [[0, 1, 0], [0, 0, 1], [1, 0, 1]]);  // rows none, mild, strong
  assert.equal(s.language.correct, 0);
  assert.equal(s.sentiment, undefined);  // no sentiment predicted, none scored
});

test("chatpipe's tags: a flag without a level is strong, a level is taken as it is", () => {
  const tags = (profanity) => ({ lang: 'es', sentiment: { label: 'negative', score: -0.5 }, profanity });
  assert.deepEqual(chatpipePrediction(tags({ flagged: true, terms: ['x'] })),
    { sentiment: 'negative', profane: true, level: 'strong', lang: 'es' });
  assert.equal(chatpipePrediction(tags({ flagged: true, terms: ['x'], level: 'mild' })).level, 'mild');
  assert.equal(chatpipePrediction(tags({ flagged: false, terms: [] })).level, 'none');
});

test('a set is parsed; comments, blank lines and a leading BOM skipped', () => {
  const set = parseSet('x/holdout_pt.tsv', '\uFEFF# comment\npt\tpositive\tmild\tque massa, porra\n\nen\tneutral\tnone\thi all\n');
  assert.equal(set.kind, 'holdout');
  assert.equal(set.lang, 'pt');
  assert.deepEqual(set.rows.map((r) => [r.lang, r.profanity, r.line]), [['pt', 'mild', 2], ['en', 'none', 4]]);
});

test('the second to fiftieth holdouts are kinds of their own; other names are refused', () => {
  const set = parseSet('x/holdout2_es.tsv', 'es\tnegative\tnone\tqué lata\n');
  assert.equal(set.kind, 'holdout2');
  assert.equal(set.name, 'holdout2 es');
  const samples = [['en', 'hi'], ['es', 'hola'], ['pt', 'oi']];
  for (let n = 3; n <= 50; n++) {
    const [lang, text] = samples[n % 3];
    assert.equal(parseSet(`x/holdout${n}_${lang}.tsv`, `${lang}\tneutral\tnone\t${text}\n`).kind, `holdout${n}`);
  }
  assert.throws(() => parseSet('x/holdout51_es.tsv', ''), /not a set name/);
  assert.throws(() => parseSet('x/holdout1_es.tsv', ''), /not a set name/);
  assert.throws(() => parseSet('x/names_es.tsv', ''), /not a set name/);
});

test('a malformed line is refused with its file and line', () => {
  const bad = [
    ['en\tpositive\tnone', /dev_en.tsv:2: 3 tab-separated fields/],
    ['en\thappy\tnone\thi', /dev_en.tsv:2: sentiment "happy"/],
    ['en\tpositive\t1\thi', /dev_en.tsv:2: profanity "1"/],
    ['fr\tpositive\tnone\tsalut', /dev_en.tsv:2: lang "fr"/],
    ['en\tpositive\tnone\t ', /dev_en.tsv:2: empty text/],
    ['en\tpositive\tnone\thi\textra', /dev_en.tsv:2: 5 tab-separated fields/],
  ];
  for (const [line, message] of bad) {
    assert.throws(() => parseSet('dev_en.tsv', `en\tneutral\tnone\tok\n${line}\n`), (e) => e instanceof Malformed && message.test(e.message));
  }
  assert.throws(() => parseSet('dev_fr.tsv', ''), Malformed);
});

test('score.js exits non-zero on a malformed line, naming it, before running anything', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'chatpipe-accuracy-test-'));
  try {
    fs.writeFileSync(path.join(dir, 'dev_es.tsv'), 'es\tpositive\tnone\tqué bueno\nes\tpositive\tnone\n');
    const r = spawnSync(process.execPath, [path.join(__dirname, 'score.js'), '--chatpipe', '/nonexistent', '--eval', dir], { encoding: 'utf8' });
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /dev_es\.tsv:2: 3 tab-separated fields/);
    assert.equal(r.stdout, '');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('the learned model fits a toy set, the same way every run', () => {
  const rows = [
    ['love it, great', 'positive'], ['great job, love', 'positive'], ['so great', 'positive'],
    ['hate this, awful', 'negative'], ['awful, i hate it', 'negative'], ['so awful', 'negative'],
    ['meeting at five', 'neutral'], ['the meeting is at noon', 'neutral'], ['at five then', 'neutral'],
  ];
  const xs = rows.map(([t]) => learned.featurize(t, null));
  const ys = rows.map(([, s]) => CLASSES.indexOf(s));
  const a = learned.train(xs, ys, 3);
  const b = learned.train(xs, ys, 3);
  assert.deepEqual(a.w, b.w);
  xs.forEach((x, i) => assert.equal(learned.predict(a, x), ys[i], rows[i][0]));
  assert.equal(CLASSES[learned.predict(a, learned.featurize('I love this, great', null))], 'positive');
  assert.equal(CLASSES[learned.predict(a, learned.featurize('awful, hate', null))], 'negative');
});
