// A chatpipe stack of its own for the browser tests, on the services ops/test runs (CHATPIPE_PG,
// CHATPIPE_REDIS, CHATPIPE_KAFKA), started the way ops/up starts one: through ops/procs, with a
// fresh database and namespace (migrate, the persist, tag and mention workers, an ingress serving
// web/dist). More ingresses can be started, and one killed and started again on its port, to test
// what the client does when the server drops it. stop() ends every process and drops the database.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const OPS_PROCS = new URL('../../ops/procs', import.meta.url).pathname;
const run = promisify(execFile);

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

export class Stack {
  static async start({ webRoot }) {
    const stack = new Stack(webRoot);
    // An interrupted run still drops its database (its processes get the signal too).
    for (const signal of ['SIGINT', 'SIGTERM'])
      process.once(signal, () => void stack.stop().finally(() => process.exit(128 + (signal === 'SIGINT' ? 2 : 15))));
    try {
      await stack.init();
    } catch (e) {
      stack.failed = true;
      await stack.stop();
      throw e;
    }
    return stack;
  }

  constructor(webRoot) {
    this.webRoot = webRoot;
    const suffix = randomBytes(5).toString('hex');
    this.namespace = `web${suffix}`;
    this.database = `web_${suffix}`;
    for (const name of ['CHATPIPE_PG', 'CHATPIPE_REDIS', 'CHATPIPE_KAFKA']) requireEnv(name);
    // ops/procs keeps the processes' pid and log files here.
    this.dir = mkdtempSync(join(tmpdir(), 'chatpipe-web-'));
    this.env = { ...process.env, CHATPIPE_LOG_LEVEL: 'info' };
    this.ports = []; // by ingress index
    this.failed = false;
  }

  // ops/procs COMMAND this.dir ARGS...: its output (the port, for the commands that start an ingress).
  async procs(command, ...args) {
    try {
      const { stdout } = await run(OPS_PROCS, [command, this.dir, ...args], { env: this.env });
      return stdout.trim();
    } catch (e) {
      throw new Error(`ops/procs ${command} failed:\n${e.stderr || e.message}`);
    }
  }

  async init() {
    const port = await this.procs('start', '--db', this.database, '--namespace', this.namespace, '--partitions', '2',
      '--in-group', '--', '--host', '127.0.0.1', '--threads', '1', '--db-threads', '2', '--web-root', this.webRoot);
    this.ports[0] = Number(port);
  }

  // The name ops/procs knows ingress `index` by; ingress 0 is the main one.
  static ingressName(index) {
    return index === 0 ? 'ingress' : `ingress-${index}`;
  }

  // Starts an ingress on `port` (0: a free one) and returns its index.
  async startIngress(port, index = this.ports.length) {
    this.ports[index] = Number(await this.procs('ingress', Stack.ingressName(index), '--port', String(port)));
    return index;
  }

  url(index = 0) {
    return `http://127.0.0.1:${this.ports[index]}`;
  }

  // Kills ingress `index` at once (no goodbye to its clients), as a crash would.
  async killIngress(index = 0) {
    await this.procs('kill', Stack.ingressName(index));
  }

  async restartIngress(index = 0) {
    await this.startIngress(this.ports[index], index);
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

  // SQL run in the stack's database (psql), for scenes the API's rate limits would not allow.
  async sql(statement) {
    await run('psql', ['-v', 'ON_ERROR_STOP=1', '-qc', statement, `${process.env.CHATPIPE_PG} dbname=${this.database}`]);
  }

  async post(user, room, text, index = 0) {
    return (await this.call('POST', `/api/rooms/${room}/messages`, { token: user.token, body: { text }, index, expect: 202 })).json;
  }

  async addMember(owner, room, user) {
    return (await this.call('POST', `/api/rooms/${room}/members`, { token: owner.token, body: { user: user.name }, expect: 201 })).json;
  }

  // POST /api/rooms/{room}/uploads with the raw bytes: { status, json } (the upload, or the error).
  async upload(user, room, bytes, type, index = 0) {
    const r = await fetch(`${this.url(index)}/api/rooms/${room}/uploads`, {
      method: 'POST',
      headers: { 'Content-Type': type, Authorization: `Bearer ${user.token}` },
      body: bytes,
    });
    const text = await r.text();
    return { status: r.status, json: text ? JSON.parse(text) : null };
  }

  async postImage(user, room, image, text = '', index = 0) {
    return (await this.call('POST', `/api/rooms/${room}/messages`, { token: user.token, body: { image, text }, index, expect: 202 })).json;
  }

  // The names of the processes ops/procs runs ("ingress", "worker-persist", ...).
  async processes() {
    return (await this.procs('status')).split('\n').map((line) => line.trim().split(/\s+/)[0]);
  }

  async history(user, room, index = 0) {
    return (await this.call('GET', `/api/rooms/${room}/messages?limit=100`, { token: user.token, index, expect: 200 })).json.messages;
  }

  // Waits until the persister has stored a message with this text (the pipeline is through).
  async waitStored(user, room, text, index = 0) {
    return waitFor(`"${text}" to be stored`, async () => (await this.history(user, room, index)).find((m) => m.text === text));
  }

  // The message stored with its tags: the tag worker stores them apart from the persister, gathering
  // its batches for up to 100 ms (--gather-ms), so they may come after the message.
  async waitTagged(user, room, text, index = 0) {
    return waitFor(`"${text}" to be stored with its tags`, async () =>
      (await this.history(user, room, index)).find((m) => m.text === text && m.tags));
  }

  async stop() {
    if (this.stopping) return this.stopping;
    this.stopping = this.stopNow();
    return this.stopping;
  }

  async stopNow() {
    try {
      await this.procs('stop', '--drop-db');
    } catch (e) {
      console.error(`could not stop the stack in ${this.dir}: ${e.message}`);
    }
    if (this.failed) {
      console.error(`logs of the stack kept in ${this.dir}`);
      for (const log of readdirSync(this.dir).filter((f) => f.endsWith('.log')))
        console.error(`--- ${log} (last lines) ---\n${readFileSync(join(this.dir, log), 'utf8').slice(-1500)}`);
    } else {
      rmSync(this.dir, { recursive: true, force: true });
    }
  }
}
