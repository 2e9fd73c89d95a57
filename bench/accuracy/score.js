#!/usr/bin/env node
// bench/accuracy/score.js: chatpipe's tagger against its peers on the evaluation sets (issue 19), run
// by `bench/run accuracy` (bench/README.md, "accuracy"). For every set (dev_<lang>.tsv and
// holdout_<lang>.tsv, analysis/data/eval/labelling.md) and every language pooled, it scores:
//   - sentiment (macro-F1, 3x3 confusion matrix): chatpipe (`chatpipe tag`), VADER (npm
//     vader-sentiment: compound >= 0.05 positive, <= -0.05 negative), multilang-sentiment (the sign
//     of its AFINN score, given the message's language);
//   - profanity, positive = mild or strong (F1, false positives and negatives): chatpipe's flag and
//     the LDNOOBW lists (npm naughty-words, the message's language, whole words, any case); for
//     chatpipe also its level: F1 of strong alone, and mild/strong agreement where both say profane;
//   - language accuracy: chatpipe;
//   - beside each sentiment macro-F1 and profanity F1, its 95% bootstrap interval (bootstrapInterval);
//   - on each holdout, the learned model of learned.js trained on every dev file, alone and combined
//     with chatpipe's tags.
// Prints Markdown tables with their conditions and writes OUT/accuracy.md and OUT/accuracy.json.
// Exit status 2 on a bad option or a malformed set line (file:line is named), 1 on any other failure.
//
//   node score.js --chatpipe BUILD/chatpipe --eval DIR [--tag-data DIR] [--out DIR] [--no-learned]
//                 [--note KEY=VALUE]... [FILE.tsv...]
// FILE.tsv arguments, if any, replace the sets found in --eval.
// Only the packages of bench/accuracy/package.json are used (npm ci there); the functions exported at
// the end need none of them (score_test.js).
'use strict';

const fs = require('node:fs');
const path = require('node:path');
const crypto = require('node:crypto');
const { spawnSync } = require('node:child_process');
const learned = require('./learned');

const LANGS = ['en', 'es', 'pt'];
const SENTIMENTS = ['positive', 'negative', 'neutral'];
const LEVELS = ['none', 'mild', 'strong'];
// The set kinds, in the order the tables show them: holdout is the first holdout (2026-12-04); holdouts 2
// to HOLDOUTS were written 2026-12-06 and 7. A new holdout is one more here.
const HOLDOUTS = 50;
const KINDS = ['dev', 'holdout', ...Array.from({ length: HOLDOUTS - 1 }, (_, i) => `holdout${i + 2}`)];

class Malformed extends Error {}

// ---- the sets -----------------------------------------------------------------------------------

// One set file's text as {name, kind, lang, file, rows: [{lang, sentiment, profanity, text, line}]};
// throws Malformed naming file:line on the first line that breaks the format.
function parseSet(file, content) {
  const m = /^([a-z0-9]+)_([a-z]+)\.tsv$/.exec(path.basename(file));
  if (!m || !KINDS.includes(m[1]) || !LANGS.includes(m[2])) {
    throw new Malformed(`${file}: not a set name (dev_<lang>.tsv, holdout_<lang>.tsv, holdout2_<lang>.tsv to holdout${HOLDOUTS}_<lang>.tsv, lang ${LANGS.join('|')})`);
  }
  const rows = [];
  content.replace(/^\uFEFF/, '').split('\n').forEach((raw, i) => {  // a leading BOM is no field
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line === '' || line.startsWith('#')) return;
    const where = `${file}:${i + 1}`;
    const f = line.split('\t');
    if (f.length !== 4) {
      throw new Malformed(`${where}: ${f.length} tab-separated fields, want 4 (lang, sentiment, profanity, text)`);
    }
    const [lang, sentiment, profanity, text] = f;
    if (!LANGS.includes(lang)) throw new Malformed(`${where}: lang "${lang}" is not one of ${LANGS.join('|')}`);
    if (!SENTIMENTS.includes(sentiment)) {
      throw new Malformed(`${where}: sentiment "${sentiment}" is not one of ${SENTIMENTS.join('|')}`);
    }
    if (!LEVELS.includes(profanity)) {
      throw new Malformed(`${where}: profanity "${profanity}" is not one of ${LEVELS.join('|')}`);
    }
    if (text.trim() === '') throw new Malformed(`${where}: empty text`);
    rows.push({ lang, sentiment, profanity, text, line: i + 1 });
  });
  return { name: `${m[1]} ${m[2]}`, kind: m[1], lang: m[2], file, rows };
}

// The set files in dir, in the order dev en, es, pt, holdout en, es, pt, holdout2 ... to holdout7 ....
function findSets(dir) {
  const files = [];
  for (const kind of KINDS) {
    for (const lang of LANGS) {
      const file = path.join(dir, `${kind}_${lang}.tsv`);
      if (fs.existsSync(file)) files.push(file);
    }
  }
  return files;
}

// ---- the figures --------------------------------------------------------------------------------

// matrix[t][p]: how many messages of true class t were predicted p.
function confusion(truth, predicted, classes) {
  const matrix = classes.map(() => classes.map(() => 0));
  truth.forEach((t, i) => {
    const ti = classes.indexOf(t);
    const pi = classes.indexOf(predicted[i]);
    if (ti < 0 || pi < 0) throw new Error(`class outside ${classes.join('|')}: ${t} -> ${predicted[i]}`);
    matrix[ti][pi]++;
  });
  return matrix;
}

// F1 from counts: 2tp / (2tp + fp + fn); null when there is nothing to find and nothing was found.
function f1(tp, fp, fn) {
  const d = 2 * tp + fp + fn;
  return d === 0 ? null : (2 * tp) / d;
}

// Per-class precision, recall and F1 of a confusion matrix, and their macro average over the classes
// that occur in the truth or the predictions (a class absent from both says nothing either way).
function classFigures(matrix, classes) {
  const perClass = {};
  const f1s = [];
  let correct = 0;
  let total = 0;
  classes.forEach((c, k) => {
    const tp = matrix[k][k];
    const support = matrix[k].reduce((a, b) => a + b, 0);
    const predicted = matrix.reduce((a, row) => a + row[k], 0);
    const f = f1(tp, predicted - tp, support - tp);
    perClass[c] = {
      support,
      precision: predicted ? tp / predicted : null,
      recall: support ? tp / support : null,
      f1: f,
    };
    if (f !== null) f1s.push(f);
    correct += tp;
    total += support;
  });
  return {
    macro_f1: f1s.length ? f1s.reduce((a, b) => a + b, 0) / f1s.length : null,
    accuracy: total ? correct / total : null,
    per_class: perClass,
  };
}

// Binary figures of boolean truth and predictions.
function binaryFigures(truth, predicted) {
  let tp = 0;
  let fp = 0;
  let fn = 0;
  let tn = 0;
  truth.forEach((t, i) => {
    if (t && predicted[i]) tp++;
    else if (predicted[i]) fp++;
    else if (t) fn++;
    else tn++;
  });
  return {
    tp, fp, fn, tn,
    precision: tp + fp ? tp / (tp + fp) : null,
    recall: tp + fn ? tp / (tp + fn) : null,
    f1: f1(tp, fp, fn),
  };
}

// The 95% interval of stat(indices) over resamples of rows drawn with replacement (a percentile
// bootstrap): how far a figure on a set of this size could move with other messages of the same kind.
// Seeded (learned.js's generator), so the same set and predictions give the same interval.
const BOOTSTRAP_RESAMPLES = 1000;
function bootstrapInterval(n, stat, seed = 19) {
  if (n === 0) return null;
  const next = learned.rng(seed);
  const values = [];
  const picked = new Array(n);
  for (let r = 0; r < BOOTSTRAP_RESAMPLES; r++) {
    for (let i = 0; i < n; i++) picked[i] = Math.floor(next() * n);
    const v = stat(picked);
    if (v !== null) values.push(v);
  }
  values.sort((x, y) => x - y);
  const at = (q) => values[Math.min(values.length - 1, Math.floor(q * values.length))];
  return values.length ? [at(0.025), at(0.975)] : null;
}

// A tagger's figures on rows, from its predictions: one {sentiment?, profane?, level?, lang?} per row;
// a field a tagger does not give is left out of its figures.
function scoreRows(rows, preds) {
  const out = {};
  const has = (k) => preds.length > 0 && preds[0][k] !== undefined;
  if (has('sentiment')) {
    const truth = rows.map((r) => r.sentiment);
    const predicted = preds.map((p) => p.sentiment);
    const matrix = confusion(truth, predicted, SENTIMENTS);
    const interval = bootstrapInterval(rows.length, (picked) =>
      classFigures(confusion(picked.map((i) => truth[i]), picked.map((i) => predicted[i]), SENTIMENTS), SENTIMENTS).macro_f1);
    out.sentiment = { ...classFigures(matrix, SENTIMENTS), interval, confusion: matrix };
  }
  if (has('profane')) {
    const truth = rows.map((r) => r.profanity !== 'none');
    const predicted = preds.map((p) => p.profane);
    const interval = bootstrapInterval(rows.length, (picked) =>
      binaryFigures(picked.map((i) => truth[i]), picked.map((i) => predicted[i])).f1);
    out.profanity = { ...binaryFigures(truth, predicted), interval };
  }
  if (has('level')) {
    const strong = binaryFigures(rows.map((r) => r.profanity === 'strong'), preds.map((p) => p.level === 'strong'));
    let both = 0;
    let agree = 0;
    rows.forEach((r, i) => {
      if (r.profanity === 'none' || preds[i].level === 'none') return;
      both++;
      if (r.profanity === preds[i].level) agree++;
    });
    const matrix = confusion(rows.map((r) => r.profanity), preds.map((p) => p.level), LEVELS);
    out.level = { strong, both_profane: both, agree, agreement: both ? agree / both : null, confusion: matrix };
  }
  if (has('lang')) {
    const correct = rows.filter((r, i) => r.lang === preds[i].lang).length;
    out.language = { correct, messages: rows.length, accuracy: rows.length ? correct / rows.length : null };
  }
  return out;
}

// ---- the taggers --------------------------------------------------------------------------------

// chatpipe's tags of texts, one `chatpipe tag` process for them all: {tags: [...], version}.
function runChatpipe(bin, texts, dataDir) {
  const args = ['tag'];
  if (dataDir) args.push('--data', dataDir);
  const r = spawnSync(bin, args, { input: texts.join('\n') + '\n', maxBuffer: 1 << 30, encoding: 'utf8' });
  if (r.error) throw new Error(`${bin} tag: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`${bin} tag exited with ${r.status}: ${r.stderr.trim()}`);
  const lines = r.stdout.split('\n').filter((l) => l !== '');
  if (lines.length !== texts.length) {
    throw new Error(`${bin} tag wrote ${lines.length} lines for ${texts.length} messages`);
  }
  const tags = lines.map((l, i) => {
    try {
      return JSON.parse(l);
    } catch (e) {
      throw new Error(`${bin} tag, output line ${i + 1}: ${e.message}`);
    }
  });
  return { tags, version: taggerVersion(bin, tags, dataDir) };
}

// The tagger's version: `chatpipe tag --version` if it has one, else "tagger_version" in its output,
// else none; with the SHA-256 of the word lists it read either way (they change with every tuning).
function taggerVersion(bin, tags, dataDir) {
  let version = null;
  const r = spawnSync(bin, ['tag', '--version'], { encoding: 'utf8' });
  if (r.status === 0 && r.stdout.trim()) version = r.stdout.trim();
  else if (tags.length && typeof tags[0].tagger_version === 'string') version = tags[0].tagger_version;
  let dir = dataDir;
  if (!dir) {
    const help = spawnSync(bin, ['tag', '--help'], { encoding: 'utf8' }).stdout || '';
    const m = /\(default ([^)\s]+)\)/.exec(help);
    dir = m ? m[1] : null;
  }
  let data = null;
  if (dir && fs.existsSync(dir)) {
    const h = crypto.createHash('sha256');
    for (const f of fs.readdirSync(dir).sort()) {
      const p = path.join(dir, f);
      if (!fs.statSync(p).isFile()) continue;
      h.update(f + '\0');
      h.update(fs.readFileSync(p));
    }
    data = `${dir} (files sha256 ${h.digest('hex').slice(0, 12)})`;
  }
  return { version, data };
}

function chatpipePrediction(t) {
  const flagged = t.profanity.flagged === true;
  return {
    sentiment: t.sentiment.label,
    profane: flagged,
    level: flagged ? t.profanity.level || 'strong' : 'none',  // no level yet: a flag is strong
    lang: t.lang,
  };
}

// The npm peers, loaded from bench/accuracy/node_modules.
function loadPeers() {
  const need = (name) => {
    try {
      return { mod: require(name), version: require(`${name}/package.json`).version };
    } catch (e) {
      throw new Error(`npm package ${name} is missing (npm ci in ${__dirname}): ${e.message}`);
    }
  };
  const vader = need('vader-sentiment');
  const multilang = need('multilang-sentiment');
  const naughty = need('naughty-words');
  // LDNOOBW: each language's list as one regular expression of whole words or phrases, any case.
  const escape = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const lists = {};
  for (const lang of LANGS) {
    const words = naughty.mod[lang].map((w) => escape(w.trim())).filter((w) => w !== '');
    lists[lang] = new RegExp(`(?<![\\p{L}\\p{M}\\p{N}])(?:${words.join('|')})(?![\\p{L}\\p{M}\\p{N}])`, 'iu');
  }
  const sign = (x, eps) => (x >= eps ? 'positive' : x <= -eps ? 'negative' : 'neutral');
  return {
    versions: {
      'vader-sentiment': vader.version,
      'multilang-sentiment': multilang.version,
      'naughty-words': naughty.version,
    },
    listSizes: Object.fromEntries(LANGS.map((l) => [l, naughty.mod[l].length])),
    vader: (r) => ({ sentiment: sign(vader.mod.SentimentIntensityAnalyzer.polarity_scores(r.text).compound, 0.05) }),
    multilang: (r) => ({ sentiment: sign(multilang.mod(r.text, r.lang).score, 1e-9) }),
    ldnoobw: (r) => ({ profane: lists[r.lang].test(r.text) }),
  };
}

// ---- the report ---------------------------------------------------------------------------------

const TAGGERS = {
  chatpipe: 'chatpipe',
  vader: 'VADER',
  multilang: 'multilang-sentiment',
  ldnoobw: 'LDNOOBW lists',
  learned: 'learned (n-gram LR)',
  combined: 'learned + chatpipe tags',
};

const fmt = (x) => (x === null || x === undefined ? '—' : x.toFixed(3));
// A figure with its bootstrap interval: "0.911 [0.893, 0.928]".
const fmtInterval = (x, interval) => (interval ? `${fmt(x)} [${fmt(interval[0])}, ${fmt(interval[1])}]` : fmt(x));

function table(header, rows) {
  const line = (cells) => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

// Summary tables: one column per set, one row per tagger giving that figure.
function summary(groups) {
  const cols = groups.map((g) => `${g.name} (${g.messages})`);
  const rowsOf = (get) =>
    Object.keys(TAGGERS)
      .filter((t) => groups.some((g) => g.taggers[t] && get(g.taggers[t]) !== undefined))
      .map((t) => [TAGGERS[t], ...groups.map((g) => (g.taggers[t] ? get(g.taggers[t]) ?? '' : ''))]);
  const out = [];
  out.push('### Sentiment macro-F1 [95% bootstrap interval]\n');
  out.push(table(['tagger', ...cols], rowsOf((s) => s.sentiment && fmtInterval(s.sentiment.macro_f1, s.sentiment.interval))));
  if (groups.some((g) => g.taggers.learned)) out.push('\nThe learned models have no dev figures: they are trained on the dev sets.');
  // Since issue 19 chatpipe's sentiment label is itself a model trained on the dev sets (analysis/learned_model.h).
  out.push("chatpipe's sentiment figures on dev and on holdouts 3 to 46 (read since their blind scoring) are those of its own training set (analysis/learned_model.h, kDevelopmentSetNames), and so are its profanity figures there in part (the learned profanity check); its 5-fold cross-validation over them is printed by tag_test (TaggerAccuracyLearned). Holdouts 1, 2 and 47 to 50 are never learned from.");
  out.push('\n### Profanity F1 [95% bootstrap interval], positive = mild or strong (false positives / false negatives)\n');
  out.push(table(['tagger', ...cols], rowsOf((s) => s.profanity && `${fmtInterval(s.profanity.f1, s.profanity.interval)} (${s.profanity.fp} / ${s.profanity.fn})`)));
  out.push("\n### chatpipe's profanity level\n");
  const chat = (get) => groups.map((g) => (g.taggers.chatpipe ? get(g.taggers.chatpipe) : ''));
  out.push(table(['figure', ...cols], [
    ['F1 of strong alone (FP / FN)', ...chat((s) => `${fmt(s.level.strong.f1)} (${s.level.strong.fp} / ${s.level.strong.fn})`)],
    ['mild/strong agreement where both say profane', ...chat((s) => `${fmt(s.level.agreement)} (${s.level.agree}/${s.level.both_profane})`)],
    ['language accuracy', ...chat((s) => `${fmt(s.language.accuracy)} (${s.language.correct}/${s.language.messages})`)],
  ]));
  return out.join('\n');
}

function details(g) {
  const out = [`### ${g.name}: ${g.messages} messages (${g.files.join(', ')})\n`];
  const sent = Object.keys(TAGGERS).filter((t) => g.taggers[t] && g.taggers[t].sentiment);
  const rows = [];
  for (const t of sent) {
    const s = g.taggers[t].sentiment;
    SENTIMENTS.forEach((c, k) => {
      rows.push([k === 0 ? `${TAGGERS[t]}: ${fmt(s.macro_f1)}` : '', c, ...s.confusion[k].map(String), fmt(s.per_class[c].f1)]);
    });
  }
  out.push(table(['sentiment: macro-F1', 'truth', ...SENTIMENTS.map((c) => `-> ${c}`), 'class F1'], rows));
  out.push('');
  const prof = Object.keys(TAGGERS).filter((t) => g.taggers[t] && g.taggers[t].profanity);
  out.push(table(['profanity', 'F1', 'precision', 'recall', 'true pos', 'false pos', 'false neg'],
    prof.map((t) => {
      const p = g.taggers[t].profanity;
      return [TAGGERS[t], fmt(p.f1), fmt(p.precision), fmt(p.recall), p.tp, p.fp, p.fn];
    })));
  const c = g.taggers.chatpipe;
  if (c) {
    out.push('');
    out.push(table(["chatpipe's level", ...LEVELS.map((l) => `-> ${l}`)],
      LEVELS.map((l, k) => [`truth ${l} (${g.levels[l]})`, ...c.level.confusion[k].map(String)])));
    out.push(`\nchatpipe: strong F1 ${fmt(c.level.strong.f1)}, level agreement ${c.level.agree}/${c.level.both_profane}, ` +
      `language ${c.language.correct}/${c.language.messages}.`);
  }
  return out.join('\n');
}

function conditionsText(cond) {
  const lines = [`- date: ${cond.date}`];
  for (const [k, v] of Object.entries(cond.notes)) lines.push(`- ${k}: ${v}`);
  lines.push(`- chatpipe: ${cond.chatpipe.binary}; tagger version ${cond.chatpipe.version || 'not reported by `chatpipe tag`'}; word lists ${cond.chatpipe.data || 'unknown'}`);
  const v = cond.peers;
  lines.push(`- VADER: npm vader-sentiment ${v['vader-sentiment']}, compound >= 0.05 positive, <= -0.05 negative, else neutral (every language)`);
  lines.push(`- multilang-sentiment: npm ${v['multilang-sentiment']}, sign of its AFINN score, given the message's language; 0 neutral`);
  lines.push(`- LDNOOBW: npm naughty-words ${v['naughty-words']} (${LANGS.map((l) => `${l} ${cond.ldnoobw_words[l]}`).join(', ')} entries), ` +
    "the message's language's list, whole words or phrases, case-insensitive");
  if (cond.learned) {
    const s = cond.learned.settings;
    lines.push(`- learned: trained on ${cond.learned.trained_on} dev messages (all dev files), scored on each holdout; ` +
      `hashed char 1-4-grams + words in 2^18 buckets, multinomial logistic regression, AdaGrad, ${s.epochs} epochs, ` +
      `rate ${s.rate}, L2 ${s.l2}, seed ${s.seed}; combined: the same with chatpipe's tags as features`);
  }
  lines.push(`- node ${cond.node}`);
  lines.push(`- sets (messages, sha256 of the file): ${cond.sets.map((s) => `${s.file} (${s.messages}, ${s.sha256})`).join(', ')}`);
  return lines.join('\n');
}

function report(result) {
  const groups = result.groups;
  return [
    '## Tagger accuracy: chatpipe against its peers\n',
    conditionsText(result.conditions),
    '',
    summary(groups),
    '\n## Per set: confusion matrices (rows truth, columns predicted) and profanity counts\n',
    groups.map(details).join('\n\n'),
    '',
  ].join('\n');
}

// ---- main ---------------------------------------------------------------------------------------

function parseArgs(argv) {
  const o = { chatpipe: null, evalDir: null, tagData: null, out: null, learned: true, notes: {}, files: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) throw new Malformed(`${a} needs a value`);
      return argv[++i];
    };
    if (a === '--chatpipe') o.chatpipe = value();
    else if (a === '--eval') o.evalDir = value();
    else if (a === '--tag-data') o.tagData = value();
    else if (a === '--out') o.out = value();
    else if (a === '--no-learned') o.learned = false;
    else if (a === '--note') {
      const v = value();
      const eq = v.indexOf('=');
      if (eq < 1) throw new Malformed(`--note wants KEY=VALUE, got "${v}"`);
      o.notes[v.slice(0, eq)] = v.slice(eq + 1);
    } else if (a.startsWith('--')) throw new Malformed(`unknown option ${a}`);
    else o.files.push(a);
  }
  if (!o.chatpipe) throw new Malformed('--chatpipe BIN is required');
  if (!o.files.length && !o.evalDir) throw new Malformed('give --eval DIR or set files');
  return o;
}

// Groups to report: each kind's sets, then that kind's languages pooled when it has more than one.
function groupsOf(sets) {
  const groups = [];
  for (const kind of KINDS) {
    const of = sets.filter((s) => s.kind === kind);
    for (const s of of) groups.push({ name: s.name, kind, files: [s.file], rows: s.rows });
    if (of.length > 1) {
      groups.push({ name: `${kind} all`, kind, files: of.map((s) => s.file), rows: of.flatMap((s) => s.rows) });
    }
  }
  return groups;
}

function run(o) {
  const files = o.files.length ? o.files : findSets(o.evalDir);
  if (!files.length) throw new Malformed(`no dev_<lang>.tsv or holdout_<lang>.tsv in ${o.evalDir}`);
  const sets = [];
  for (const file of files) {
    const content = fs.readFileSync(file, 'utf8');
    const set = parseSet(file, content);
    set.sha256 = crypto.createHash('sha256').update(content).digest('hex').slice(0, 12);
    if (set.rows.length) sets.push(set);
    else process.stderr.write(`score.js: ${file} has no messages yet; left out\n`);
  }
  if (!sets.length) throw new Malformed('no messages in any set');
  const all = sets.flatMap((s) => s.rows);
  const { tags, version } = runChatpipe(o.chatpipe, all.map((r) => r.text), o.tagData);
  all.forEach((r, i) => { r.tags = tags[i]; });
  const peers = loadPeers();

  // Every tagger's prediction of every message, once; the groups share them.
  for (const r of all) {
    r.preds = {
      chatpipe: chatpipePrediction(r.tags),
      vader: peers.vader(r),
      multilang: peers.multilang(r),
      ldnoobw: peers.ldnoobw(r),
    };
  }
  // The learned models: trained once on every dev message, predicting every holdout message.
  const dev = sets.filter((s) => s.kind === 'dev').flatMap((s) => s.rows);
  const holdout = sets.filter((s) => s.kind !== 'dev').flatMap((s) => s.rows);
  const learnedOn = o.learned && dev.length > 0 && holdout.length > 0;
  if (learnedOn) {
    const preds = learned.experiment(dev, holdout);
    holdout.forEach((r, i) => Object.assign(r.preds, { learned: preds.learned[i], combined: preds.combined[i] }));
  }

  const groups = groupsOf(sets);
  for (const g of groups) {
    g.messages = g.rows.length;
    g.levels = Object.fromEntries(LEVELS.map((l) => [l, g.rows.filter((r) => r.profanity === l).length]));
    g.taggers = {};
    for (const t of Object.keys(TAGGERS)) {
      if (g.rows.every((r) => r.preds[t])) g.taggers[t] = scoreRows(g.rows, g.rows.map((r) => r.preds[t]));
    }
  }
  const conditions = {
    date: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    notes: o.notes,
    chatpipe: { binary: o.chatpipe, version: version.version, data: version.data },
    peers: peers.versions,
    ldnoobw_words: peers.listSizes,
    learned: learnedOn ? { trained_on: dev.length, settings: learned.SETTINGS } : null,
    node: process.version,
    sets: sets.map((s) => ({ file: s.file, kind: s.kind, lang: s.lang, messages: s.rows.length, sha256: s.sha256 })),
  };
  const result = {
    conditions,
    groups: groups.map((g) => ({ name: g.name, kind: g.kind, files: g.files, messages: g.messages, levels: g.levels, taggers: g.taggers })),
  };
  return { result, markdown: report(result) };
}

function main() {
  let o;
  try {
    o = parseArgs(process.argv.slice(2));
    const { result, markdown } = run(o);
    process.stdout.write(markdown);
    if (o.out) {
      fs.mkdirSync(o.out, { recursive: true });
      fs.writeFileSync(path.join(o.out, 'accuracy.md'), markdown);
      fs.writeFileSync(path.join(o.out, 'accuracy.json'), JSON.stringify(result, null, 1) + '\n');
    }
  } catch (e) {
    process.stderr.write(`score.js: ${e.message}\n`);
    process.exit(e instanceof Malformed ? 2 : 1);
  }
}

if (require.main === module) main();

module.exports = { parseSet, confusion, classFigures, binaryFigures, bootstrapInterval, scoreRows, chatpipePrediction, f1, Malformed };
