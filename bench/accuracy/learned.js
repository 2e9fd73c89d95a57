// bench/accuracy/learned.js: the small learned model of issue 19, an experiment for the report, not
// part of the tagger. score.js trains it on every dev file and scores it on each holdout beside the
// lexicon tagger (bench/README.md, "accuracy").
//
// Features: hashed character 1-4-grams of the lowercased text (space-padded, counted in code points so
// an emoji is one character) and its word unigrams, in 2^18 buckets, scaled to unit length; a bias;
// and for the "combined" model chatpipe's own tags as a few more features (its sentiment score and
// label, its profanity flag and level). Model: multinomial logistic regression, trained by AdaGrad
// SGD with an L2 penalty on the weights an example touches. Settings are fixed here, chosen before any
// holdout was scored; the shuffle's seed is fixed, so a run on the same files gives the same figures.
// Plain node, no packages.
'use strict';

const BUCKETS = 1 << 18;
const BIAS = BUCKETS;
const EXTRA_BASE = BUCKETS + 1;
// chatpipe's tags as features (combined model only), one index each after the bias.
const EXTRAS = ['score', 'positive', 'negative', 'neutral', 'profane', 'mild', 'strong'];
const DIM = EXTRA_BASE + EXTRAS.length;
const SETTINGS = { epochs: 20, rate: 0.5, l2: 1e-5, seed: 19 };

// 32-bit FNV-1a over UTF-16 code units: cheap, stable across runs and platforms.
function hash(s) {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

// Sparse features of one text: {idx: [...], val: [...]}; tags (chatpipe's JSON) adds the extras.
function featurize(text, tags) {
  const lower = text.toLowerCase();
  const counts = new Map();
  const add = (key) => {
    const i = hash(key) % BUCKETS;
    counts.set(i, (counts.get(i) || 0) + 1);
  };
  const chars = Array.from(` ${lower} `);
  for (let n = 1; n <= 4; n++) {
    for (let i = 0; i + n <= chars.length; i++) add(`c${chars.slice(i, i + n).join('')}`);
  }
  for (const word of lower.match(/[\p{L}\p{M}\p{N}]+/gu) || []) add(`w${word}`);
  let norm = 0;
  for (const v of counts.values()) norm += v * v;
  norm = Math.sqrt(norm) || 1;
  const idx = [];
  const val = [];
  for (const [i, v] of counts) {
    idx.push(i);
    val.push(v / norm);
  }
  idx.push(BIAS);
  val.push(1);
  if (tags) {
    const extra = tagFeatures(tags);
    EXTRAS.forEach((name, k) => {
      if (extra[name] !== 0) {
        idx.push(EXTRA_BASE + k);
        val.push(extra[name]);
      }
    });
  }
  return { idx, val };
}

// chatpipe's tags as numbers; a flag without a level counts as strong (the level is optional).
function tagFeatures(tags) {
  const label = tags.sentiment.label;
  const flagged = tags.profanity.flagged === true;
  const level = flagged ? tags.profanity.level || 'strong' : 'none';
  return {
    score: tags.sentiment.score,
    positive: label === 'positive' ? 1 : 0,
    negative: label === 'negative' ? 1 : 0,
    neutral: label === 'neutral' ? 1 : 0,
    profane: flagged ? 1 : 0,
    mild: level === 'mild' ? 1 : 0,
    strong: level === 'strong' ? 1 : 0,
  };
}

// mulberry32: a small seeded generator, so the shuffles (and the model) are the same every run.
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function probabilities(model, x) {
  const k = model.classes;
  const z = new Float64Array(k);
  for (let c = 0; c < k; c++) {
    const w = model.w.subarray(c * DIM, (c + 1) * DIM);
    let s = 0;
    for (let j = 0; j < x.idx.length; j++) s += w[x.idx[j]] * x.val[j];
    z[c] = s;
  }
  const max = Math.max(...z);
  let sum = 0;
  for (let c = 0; c < k; c++) sum += (z[c] = Math.exp(z[c] - max));
  for (let c = 0; c < k; c++) z[c] /= sum;
  return z;
}

// xs: featurized examples, ys: class numbers 0..classes-1.
function train(xs, ys, classes, settings = SETTINGS) {
  const model = { classes, w: new Float64Array(classes * DIM) };
  const g2 = new Float64Array(classes * DIM);
  const next = rng(settings.seed);
  const order = xs.map((_, i) => i);
  for (let epoch = 0; epoch < settings.epochs; epoch++) {
    for (let i = order.length - 1; i > 0; i--) {  // Fisher-Yates
      const j = Math.floor(next() * (i + 1));
      [order[i], order[j]] = [order[j], order[i]];
    }
    for (const e of order) {
      const x = xs[e];
      const p = probabilities(model, x);
      for (let c = 0; c < classes; c++) {
        const err = p[c] - (ys[e] === c ? 1 : 0);
        const base = c * DIM;
        for (let j = 0; j < x.idx.length; j++) {
          const at = base + x.idx[j];
          const grad = err * x.val[j] + settings.l2 * model.w[at];
          g2[at] += grad * grad;
          model.w[at] -= (settings.rate * grad) / Math.sqrt(g2[at] + 1e-12);
        }
      }
    }
  }
  return model;
}

function predict(model, x) {
  const p = probabilities(model, x);
  let best = 0;
  for (let c = 1; c < p.length; c++) if (p[c] > p[best]) best = c;
  return best;
}

const SENTIMENTS = ['positive', 'negative', 'neutral'];

// The experiment: train on train rows ({text, sentiment, profanity, tags}), predict test rows. Returns
// {learned, combined}, each an array of {sentiment, profane} per test row (combined adds chatpipe's
// tags as features).
function experiment(trainRows, testRows) {
  const out = {};
  for (const [name, withTags] of [['learned', false], ['combined', true]]) {
    const xs = trainRows.map((r) => featurize(r.text, withTags ? r.tags : null));
    const sentiment = train(xs, trainRows.map((r) => SENTIMENTS.indexOf(r.sentiment)), 3);
    const profane = train(xs, trainRows.map((r) => (r.profanity === 'none' ? 0 : 1)), 2);
    out[name] = testRows.map((r) => {
      const x = featurize(r.text, withTags ? r.tags : null);
      return { sentiment: SENTIMENTS[predict(sentiment, x)], profane: predict(profane, x) === 1 };
    });
  }
  return out;
}

module.exports = { SETTINGS, featurize, train, predict, experiment, rng };
