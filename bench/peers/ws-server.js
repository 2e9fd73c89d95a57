#!/usr/bin/env node
// ws-server.js: the bare `ws` broadcast server bench/run compares chatpipe with (the socket-layer peer).
//
// It speaks the subset of chatpipe's WebSocket protocol chatpipe-loadgen uses, with the same frames
// and key order, so the generator reads it unchanged: GET /ws?token=ANY; {"type":"join","room":R} ->
// {"type":"joined","room":R,"pos":HEAD}; {"type":"send","room":R,"text":..,"client_msg_id":..} ->
// {"type":"ack",...} to the sender and {"type":"message",...} to every member of the room (the sender
// too). Nothing is stored and nothing leaves the process: one JSON.stringify per message, then one
// ws.send per member, which is how a bare `ws` chat server is usually written.
//
// Usage: node ws-server.js [--port N]   (0: a free port; prints "listening on 0.0.0.0:PORT")
'use strict';

const http = require('http');
const { WebSocketServer } = require('ws');

function option(name, fallback) {
  const i = process.argv.indexOf(name);
  return i > 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}

const port = Number(option('--port', '0'));
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`ws-server: --port must be 0..65535, got ${option('--port')}`);
  process.exit(2);
}

const rooms = new Map();  // room id -> {head, members: Set<WebSocket>}
let nextUser = 1;
let nextMessage = 1;

function room(id) {
  let r = rooms.get(id);
  if (!r) {
    r = { head: 0, members: new Set() };
    rooms.set(id, r);
  }
  return r;
}

function error(ws, code, reason, clientMsgId) {
  const frame = { type: 'error', code, reason };
  if (clientMsgId !== undefined) frame.client_msg_id = clientMsgId;
  ws.send(JSON.stringify(frame));
}

const server = http.createServer((req, res) => {
  res.writeHead(404, { 'Content-Type': 'application/json' });
  res.end('{"error":{"code":"not_found","reason":"only /ws"}}');
});
const wss = new WebSocketServer({ server, path: '/ws', perMessageDeflate: false });

wss.on('connection', (ws) => {
  const user = { id: nextUser, name: `u${nextUser}` };
  nextUser++;
  const joined = new Set();
  ws.on('message', (data, isBinary) => {
    let m;
    try {
      m = JSON.parse(isBinary ? data.toString() : data);
    } catch {
      return error(ws, 'bad_json', 'frame is not JSON');
    }
    if (!m || typeof m !== 'object' || !Number.isInteger(m.room) || m.room <= 0)
      return error(ws, 'bad_request', 'room must be a positive integer', m && m.client_msg_id);
    if (m.type === 'join') {
      const r = room(m.room);
      r.members.add(ws);
      joined.add(m.room);
      ws.send(`{"type":"joined","room":${m.room},"pos":${r.head}}`);
    } else if (m.type === 'leave') {
      const r = rooms.get(m.room);
      if (r) r.members.delete(ws);
      joined.delete(m.room);
    } else if (m.type === 'send') {
      if (typeof m.text !== 'string') return error(ws, 'bad_request', 'text must be a string', m.client_msg_id);
      if (!joined.has(m.room)) return error(ws, 'not_member', 'join the room first', m.client_msg_id);
      const r = room(m.room);
      const id = String(nextMessage++);
      const ts = Date.now();
      const frame = { type: 'message', room: m.room, pos: ++r.head, id, user, text: m.text, ts };
      const ack = { type: 'ack', room: m.room, id, ts };
      if (typeof m.client_msg_id === 'string') frame.client_msg_id = ack.client_msg_id = m.client_msg_id;
      ws.send(JSON.stringify(ack));
      const text = JSON.stringify(frame);
      for (const member of r.members) member.send(text);
    } else {
      error(ws, 'bad_request', 'type must be join, leave or send', m.client_msg_id);
    }
  });
  ws.on('close', () => {
    for (const id of joined) {
      const r = rooms.get(id);
      if (r) r.members.delete(ws);
    }
  });
  ws.on('error', () => {});  // a client reset: 'close' follows
});

server.listen(port, '0.0.0.0', () => {
  console.log(`ws-server ${process.pid} listening on 0.0.0.0:${server.address().port}`);
});
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => process.exit(0));
