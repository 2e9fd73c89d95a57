#!/usr/bin/env node
// compare.js: the side-by-side table of `bench/run compare`. Reads the report.json of each server's
// run of one scenario (chatpipe first), prints a Markdown table with every figure and the
// chatpipe/peer ratio of each, and writes it as OUT/compare.json, with a bar chart of the headline
// figures in OUT/compare.svg.
//
// Usage: node compare.js --scenario capacity|fanout|ingest --out DIR chatpipe=PATH [PEER=PATH ...]
//
// A ratio is chatpipe's figure divided by the peer's: above 1 is better for chatpipe where more is
// better (deliveries/s), below 1 where less is better (latency, memory); each row says which. In ingest
// only chatpipe persists: the peers' and the floor's acks mean "taken", not "stored".
'use strict';

const fs = require('fs');
const path = require('path');

function fail(message) {
  console.error(`compare: ${message}`);
  process.exit(2);
}

const args = process.argv.slice(2);
let scenario = '';
let out = '';
const runs = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--scenario') scenario = args[++i];
  else if (args[i] === '--out') out = args[++i];
  else {
    const eq = args[i].indexOf('=');
    if (eq < 1) fail(`expected SERVER=PATH, got ${args[i]}`);
    const file = args[i].slice(eq + 1);
    let report;
    try {
      report = JSON.parse(fs.readFileSync(file, 'utf8'));
    } catch (e) {
      fail(`cannot read ${file}: ${e.message}`);
    }
    runs.push({ server: args[i].slice(0, eq), report });
  }
}
if (!['capacity', 'fanout', 'ingest'].includes(scenario)) fail('--scenario must be capacity, fanout or ingest');
if (!out) fail('--out DIR is required');
if (!runs.length || runs[0].server !== 'chatpipe') fail('the first run must be chatpipe=PATH');

const serverCpu = { chatpipe: 'ingress', 'chatpipe-floor': 'ingress' };
const ms = (us) => (us === undefined ? undefined : us / 1000);
// Every row: label, how to read it from a report, which way is better, shown for which scenarios,
// and 'optional' when it is left out unless some run has it.
const rows = [
  ['connections', (r) => r.stats.connected, null, ['capacity', 'fanout', 'ingest']],
  ['connect all (s)', (r) => r.figures.connect_all_s, 'lower', ['capacity']],
  ['connect p99 (ms)', (r) => ms(r.figures.connect_us.p99), 'lower', ['capacity']],
  ['server memory per connection (B)', (r) => r.figures.ingress_rss_bytes_per_connection, 'lower', ['capacity']],
  ['sent (msg/s)', (r) => r.figures.sent_per_s, null, ['fanout', 'ingest']],
  ['accepted (msg/s)', (r) => r.figures.accepted_per_s, 'higher', ['fanout', 'ingest']],
  ['deliveries/s', (r) => r.figures.deliveries_per_s, 'higher', ['fanout', 'ingest']],
  ['lost', (r) => r.figures.lost, null, ['fanout', 'ingest']],
  ['persisted (msg)', (r) => r.server.persisted, null, ['ingest']],
  ['send->ack p50 (ms)', (r) => ms(r.figures.ack_us.p50), 'lower', ['fanout', 'ingest']],
  ['send->ack p99 (ms)', (r) => ms(r.figures.ack_us.p99), 'lower', ['fanout', 'ingest']],
  ['send->deliv p50 (ms)', (r) => ms(r.figures.delivery_us.p50), 'lower', ['fanout', 'ingest']],
  ['send->deliv p99 (ms)', (r) => ms(r.figures.delivery_us.p99), 'lower', ['fanout', 'ingest']],
  ['send->deliv max (ms)', (r) => ms(r.figures.delivery_us.max), 'lower', ['fanout', 'ingest']],
  ['send->deliv at senders p99 (ms)', (r) => ms(r.figures.sender_delivery_us?.p99), 'lower', ['fanout', 'ingest']],
  // Many rooms only (report.json has them with two rooms or more): each room's own percentiles.
  ['room p50, median room (ms)', (r) => ms(r.figures.room_p50_median_us), 'lower', ['fanout'], 'optional'],
  ['room p99, median room (ms)', (r) => ms(r.figures.room_p99_median_us), 'lower', ['fanout'], 'optional'],
  ['room p99, worst room (ms)', (r) => ms(r.figures.room_p99_worst_us), 'lower', ['fanout'], 'optional'],
  ['rooms without a message', (r) => r.figures.rooms_without_messages, null, ['fanout'], 'optional'],
  ['generator lag p99 (ms)', (r) => ms(r.figures.lag_us.p99), null, ['fanout', 'ingest']],
  ['server process cpu (% of a core)', (r, s) => r.cpu_percent[serverCpu[s] || `${s}-server`], 'lower', ['fanout', 'ingest']],
  ['whole stack cpu (% of a core)', (r) => stackCpu(r), 'lower', ['fanout', 'ingest']],
  ['rest of the machine cpu (%)', (r) => r.cpu_percent.others, null, ['fanout', 'ingest']],
].filter((row) => row[3].includes(scenario) && (row[4] !== 'optional' || runs.some((run) => value(row, run) !== undefined)));

// Everything the run started on the server side: not the generators, not the rest of the machine.
function stackCpu(r) {
  return Object.entries(r.cpu_percent || {})
    .filter(([k]) => k !== 'loadgen' && k !== 'others')
    .reduce((sum, [, v]) => sum + v, 0);
}

function fmt(v) {
  if (v === undefined || v === null || Number.isNaN(v)) return '-';
  if (Number.isInteger(v)) return v.toLocaleString('en-US');
  if (Math.abs(v) >= 100) return Math.round(v).toLocaleString('en-US');
  if (Math.abs(v) >= 10) return v.toFixed(1);
  return v.toFixed(2);
}

function value(row, run) {
  try {
    const v = row[1](run.report, run.server);
    return typeof v === 'number' ? v : undefined;
  } catch {
    return undefined;
  }
}

const peers = runs.slice(1);
const table = [];
const json = { scenario, conditions: {}, servers: {}, ratios: {} };
for (const run of runs) {
  json.servers[run.server] = {};
  json.conditions[run.server] = run.report.conditions;
}
for (const peer of peers) json.ratios[`chatpipe/${peer.server}`] = {};

const header = ['figure', ...runs.map((r) => r.server), ...peers.map((p) => `chatpipe/${p.server}`), 'better'];
table.push(`| ${header.join(' | ')} |`);
table.push(`| ${header.map(() => '---').join(' | ')} |`);
for (const row of rows) {
  const values = runs.map((run) => value(row, run));
  runs.forEach((run, i) => (json.servers[run.server][row[0]] = values[i] ?? null));
  const ratios = peers.map((peer, i) => {
    const ours = values[0];
    const theirs = values[i + 1];
    const ratio = row[2] && ours !== undefined && theirs ? ours / theirs : undefined;
    json.ratios[`chatpipe/${peer.server}`][row[0]] = ratio ?? null;
    return ratio === undefined ? '-' : `${ratio >= 100 ? fmt(ratio) : ratio.toFixed(2)}x`;
  });
  const better = row[2] === 'higher' ? 'ratio > 1' : row[2] === 'lower' ? 'ratio < 1' : '';
  table.push(`| ${[row[0], ...values.map(fmt), ...ratios, better].join(' | ')} |`);
}

// compare.svg: one bar chart per headline figure, a bar per server, chatpipe first.
function plot() {
  const panels = scenario === 'capacity'
    ? ['server memory per connection (B)', 'connect all (s)']
    : ['deliveries/s', 'send->deliv p50 (ms)', 'send->deliv p99 (ms)', 'whole stack cpu (% of a core)'];
  const colors = ['#2b6cb0', '#dd6b20', '#718096', '#38a169', '#805ad5', '#d53f8c', '#b7791f'];
  // A panel is as wide as its bars, each with room for its server's name under it.
  const ph = 220, top = 52, bar = 44, gap = 46, pw = 20 + runs.length * (bar + gap);
  const esc = (t) => String(t).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  const parts = [];
  panels.forEach((label, k) => {
    const x0 = 20 + k * (pw + 20);
    const values = runs.map((run) => json.servers[run.server][label] || 0);
    const max = Math.max(...values, 1e-9);
    parts.push(`<text x="${x0}" y="${top - 15}" font-size="13" font-weight="bold">${esc(label)}</text>`);
    values.forEach((v, i) => {
      const h = (v / max) * (ph - 50);
      const x = x0 + 10 + i * (bar + gap);
      const y = top + ph - 30 - h;
      parts.push(`<rect x="${x}" y="${y}" width="${bar}" height="${h}" fill="${colors[i % colors.length]}"/>`);
      parts.push(`<text x="${x + bar / 2}" y="${y - 4}" font-size="11" text-anchor="middle">${esc(fmt(v))}</text>`);
      parts.push(`<text x="${x + bar / 2}" y="${top + ph - 14}" font-size="11" text-anchor="middle">${esc(runs[i].server)}</text>`);
    });
  });
  const width = 40 + panels.length * (pw + 20);
  const c = runs[0].report.conditions;
  const title = `${scenario}: ${c.connections} connections, ${c.rooms} rooms, ${c.rate} msg/s for ${c.duration_s} s; commit ${c.commit}`;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${top + ph + 10}" font-family="sans-serif">\n` +
    `<rect width="100%" height="100%" fill="white"/>\n<text x="20" y="16" font-size="12">${esc(title)}</text>\n` +
    parts.join('\n') + '\n</svg>\n';
}

const c = runs[0].report.conditions;
const lines = [
  `### ${scenario}: chatpipe beside ${peers.map((p) => p.server).join(', ') || 'no peer'}`,
  '',
  `${c.connections} connections, ${c.rooms} rooms, ${c.senders} senders, ${c.rate} msg/s for ${c.duration_s} s; ` +
    `machine ${c.cpus} cpus (${c.cpu_model}), ${c.kernel}; commit ${c.commit}.`,
  `1-minute load average at the start of each run: ${runs
    .map((r) => `${r.server} ${(r.report.conditions['load avg'] || '-').split(' ')[0]}`)
    .join(', ')}.`,
  '',
  ...table,
  '',
];
fs.writeFileSync(path.join(out, 'compare.json'), JSON.stringify(json, null, 2) + '\n');
fs.writeFileSync(path.join(out, 'compare.svg'), plot());
process.stdout.write(lines.join('\n'));
