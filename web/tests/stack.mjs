// A chatpipe stack of its own for the browser tests, on the services ops/test runs (CHATPIPE_PG,
// CHATPIPE_REDIS, CHATPIPE_KAFKA): a fresh database, a fresh namespace, migrate, the persist, tag and
// mention workers and ingress instances serving web/dist. Ingress can be killed and started again on its port, to
// test what the client does when the server drops it. stop() ends every process it started and
// drops the database.
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const START_TIMEOUT_MS = 20_000;

export function sleepUntil(deadline) {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, Math.min(50, deadline - Date.now()))));
}

// Polls `check` (sync or async, truthy = done) until it holds or `timeoutMs` passes.
export async function waitFor(what, check, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    try {
      const v = await check();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${last.message}` : ''}`);
    await sleepUntil(deadline);
  }
}

function requireEnv(name) {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set: run web/tests/run through ops/test, or source the env of ops/services start`);
  return v;
}

function psql(conninfo, sql) {
  const r = spawnSync('psql', [conninfo, '-v', 'ON_ERROR_STOP=1', '-qAtc', sql], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`psql failed (${sql}): ${r.stderr || r.error}`);
  return r.stdout;
}

// A child process whose output goes to a log file and is scanned for a line.
class Child {
  constructor(name, bin, args, env, logDir) {
    this.name = name;
    this.logPath = join(logDir, `${name}.log`);
    this.output = '';
    const log = createWriteStream(this.logPath, { flags: 'a' });
    this.proc = spawn(bin, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    this.exited = new Promise((resolve) => this.proc.on('exit', (code, signal) => resolve({ code, signal })));
    this.done = false;
    this.exited.then(() => (this.done = true));
    for (const stream of [this.proc.stdout, this.proc.stderr])
      stream.on('data', (chunk) => {
        log.write(chunk);
        if (this.output.length < 1 << 20) this.output += chunk.toString();
      });
    this.proc.on('exit', () => log.end());
  }

  async waitForLine(what, pattern) {
    return waitFor(`${this.name} to log ${what}`, () => {
      if (this.done) throw new Error(`${this.name} exited early; log: ${this.logPath}\n${this.output.slice(-2000)}`);
      return pattern.exec(this.output);
    }, START_TIMEOUT_MS);
  }

  async stop(signal = 'SIGTERM') {
    if (this.done) return;
    this.proc.kill(signal);
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), 10_000);
    await this.exited;
    clearTimeout(timer);
  }
}

export class Stack {
  static async start({ binary, webRoot, tagData }) {
    const stack = new Stack(binary, webRoot, tagData);
    // An interrupted run still drops its database (its processes get the signal too).
    for (const signal of ['SIGINT', 'SIGTERM'])
      process.once(signal, () => void stack.stop().finally(() => process.exit(128 + (signal === 'SIGINT' ? 2 : 15))));
    try {
      await stack.init();
    } catch (e) {
      await stack.stop();
      throw e;
    }
    return stack;
  }

  constructor(binary, webRoot, tagData) {
    this.binary = binary;
    this.webRoot = webRoot;
    this.tagData = tagData;
    const suffix = randomBytes(5).toString('hex');
    this.namespace = `web${suffix}`;
    this.database = `web_${suffix}`;
    this.adminPg = requireEnv('CHATPIPE_PG');
    this.pg = `${this.adminPg} dbname=${this.database}`;
    this.logDir = mkdtempSync(join(tmpdir(), 'chatpipe-web-'));
    this.env = {
      ...process.env,
      CHATPIPE_PG: this.pg,
      CHATPIPE_REDIS: requireEnv('CHATPIPE_REDIS'),
      CHATPIPE_KAFKA: requireEnv('CHATPIPE_KAFKA'),
      CHATPIPE_NAMESPACE: this.namespace,
      CHATPIPE_TOKEN_SECRET: randomBytes(32).toString('hex'),
      CHATPIPE_LOG_LEVEL: 'info',
    };
    this.children = [];
    this.ingresses = []; // { child, port }
    this.failed = false;
  }

  async init() {
    psql(this.adminPg, `CREATE DATABASE ${this.database}`);
    this.createdDb = true;
    const migrate = spawnSync(this.binary, ['migrate', '--partitions', '2'], { env: this.env, encoding: 'utf8' });
    if (migrate.status !== 0) throw new Error(`chatpipe migrate failed:\n${migrate.stdout}${migrate.stderr}`);
    const workers = [
      this.spawn('persist', ['worker', 'persist', '--status-port', '0']),
      this.spawn('tag', ['worker', 'tag', '--status-port', '0', '--data', this.tagData]),
      this.spawn('mention', ['worker', 'mention', '--status-port', '0']),
    ];
    await Promise.all(workers.map((w) => w.waitForLine('its status port', /healthz and \/metrics on/)));
    await this.startIngress(0);
  }

  spawn(name, args) {
    const child = new Child(`${name}-${this.children.length}`, this.binary, args, this.env, this.logDir);
    this.children.push(child);
    return child;
  }

  // Starts an ingress on `port` (0: a free one) and returns its index; ingress 0 is the main one.
  async startIngress(port, index = this.ingresses.length) {
    const child = this.spawn(`ingress${index}`, [
      'ingress', '--host', '127.0.0.1', '--port', String(port), '--threads', '1', '--db-threads', '2',
      '--web-root', this.webRoot,
    ]);
    const m = await child.waitForLine('its port', /listening on [0-9.]+:(\d+)/);
    const entry = { child, port: Number(m[1]) };
    this.ingresses[index] = entry;
    const url = `http://127.0.0.1:${entry.port}`;
    await waitFor(`${url}/healthz`, async () => (await fetch(`${url}/healthz`)).ok, START_TIMEOUT_MS);
    return index;
  }

  url(index = 0) {
    return `http://127.0.0.1:${this.ingresses[index].port}`;
  }

  // Kills ingress `index` at once (no goodbye to its clients), as a crash would.
  async killIngress(index = 0) {
    await this.ingresses[index].child.stop('SIGKILL');
  }

  async restartIngress(index = 0) {
    await this.startIngress(this.ingresses[index].port, index);
  }

  // --- the HTTP API, for setting scenes up quickly ---

  async call(method, path, { token, body, index = 0, expect } = {}) {
    const headers = {};
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    if (token) headers.Authorization = `Bearer ${token}`;
    const r = await fetch(this.url(index) + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await r.text();
    if (expect !== undefined && r.status !== expect) throw new Error(`${method} ${path}: ${r.status} ${text}`);
    return { status: r.status, json: text ? JSON.parse(text) : null };
  }

  async register(name, password = 'correct horse battery') {
    await this.call('POST', '/api/users', { body: { name, email: `${name}@example.test`, password }, expect: 201 });
    const s = await this.call('POST', '/api/sessions', { body: { name, password }, expect: 200 });
    return { name, password, token: s.json.token, id: s.json.user.id };
  }

  async createRoom(user, name, isPrivate = false) {
    return (await this.call('POST', '/api/rooms', { token: user.token, body: { name, private: isPrivate }, expect: 201 })).json;
  }

  async post(user, room, text, index = 0) {
    return (await this.call('POST', `/api/rooms/${room}/messages`, { token: user.token, body: { text }, index, expect: 202 })).json;
  }

  async history(user, room, index = 0) {
    return (await this.call('GET', `/api/rooms/${room}/messages?limit=100`, { token: user.token, index, expect: 200 })).json.messages;
  }

  // Waits until the persister has stored a message with this text (the pipeline is through).
  async waitStored(user, room, text, index = 0) {
    return waitFor(`"${text}" to be stored`, async () => (await this.history(user, room, index)).find((m) => m.text === text));
  }

  async stop() {
    if (this.stopping) return this.stopping;
    this.stopping = this.stopNow();
    return this.stopping;
  }

  async stopNow() {
    await Promise.all(this.children.map((c) => c.stop()));
    if (this.createdDb) {
      try {
        psql(this.adminPg, `DROP DATABASE IF EXISTS ${this.database} WITH (FORCE)`);
      } catch (e) {
        console.error(`could not drop ${this.database}: ${e.message}`);
      }
    }
    if (this.failed) {
      console.error(`logs of the stack kept in ${this.logDir}`);
      for (const c of this.children) console.error(`--- ${c.name} (last lines) ---\n${readFileSync(c.logPath, 'utf8').slice(-1500)}`);
    } else {
      rmSync(this.logDir, { recursive: true, force: true });
    }
  }
}
