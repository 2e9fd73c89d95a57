#!/usr/bin/env node
// socketio-server.js: the Socket.IO 4 peer bench/run compares chatpipe with, on
// @socket.io/redis-adapter against the bench stack's Redis (the stack a Socket.IO chat would scale
// out on: every broadcast is also published to Redis for the other nodes).
//
// Events mirror chatpipe's frames, and each payload is chatpipe's frame object itself (same keys and
// order), so chatpipe-loadgen --peer socketio reads it with the same code: client emits
// "join" {room} -> server emits "joined" {type:"joined",room,pos}; client emits "send"
// {room,text,client_msg_id} -> "ack" {type:"ack",...} to the sender and "message"
// {type:"message",room,pos,id,user,text,ts,client_msg_id} to the room (io.to(room), the sender too).
// Nothing is stored. Clients connect to /socket.io/?EIO=4&transport=websocket (no polling needed).
//
// Usage: node socketio-server.js --redis HOST:PORT [--port N] [--prefix P]
//   (--port 0: a free port; prints "listening on 0.0.0.0:PORT"; --prefix: the adapter's Redis
//   channel prefix, so runs sharing a Redis do not see each other)
'use strict';

const http = require('http');
const { Server } = require('socket.io');
const { createAdapter } = require('@socket.io/redis-adapter');
const { createClient } = require('redis');

function option(name, fallback) {
  const i = process.argv.indexOf(name);
  return i > 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}

function fail(message) {
  console.error(`socketio-server: ${message}`);
  process.exit(2);
}

const port = Number(option('--port', '0'));
if (!Number.isInteger(port) || port < 0 || port > 65535) fail(`--port must be 0..65535, got ${option('--port')}`);
const redis = option('--redis', process.env.CHATPIPE_REDIS);
if (!redis || !/^[^:]+:\d+$/.test(redis)) fail('--redis HOST:PORT (or CHATPIPE_REDIS) is required');
const prefix = option('--prefix', 'socket.io');

const heads = new Map();  // room id -> last position
let nextUser = 1;
let nextMessage = 1;

function error(socket, code, reason, clientMsgId) {
  const frame = { type: 'error', code, reason };
  if (clientMsgId !== undefined) frame.client_msg_id = clientMsgId;
  socket.emit('error', frame);
}

async function main() {
  const pub = createClient({ url: `redis://${redis}` });
  const sub = pub.duplicate();
  for (const c of [pub, sub]) c.on('error', (e) => console.error(`socketio-server: redis: ${e.message}`));
  await Promise.all([pub.connect(), sub.connect()]);

  const server = http.createServer();
  const io = new Server(server, {
    transports: ['websocket'],
    perMessageDeflate: false,
    serveClient: false,
    adapter: createAdapter(pub, sub, { key: prefix }),
  });

  io.on('connection', (socket) => {
    const user = { id: nextUser, name: `u${nextUser}` };
    nextUser++;
    socket.on('join', (m) => {
      if (!m || !Number.isInteger(m.room) || m.room <= 0) return error(socket, 'bad_request', 'room must be a positive integer');
      socket.join(String(m.room));
      socket.emit('joined', { type: 'joined', room: m.room, pos: heads.get(m.room) || 0 });
    });
    socket.on('leave', (m) => {
      if (m && Number.isInteger(m.room)) socket.leave(String(m.room));
    });
    socket.on('send', (m) => {
      const cid = m && m.client_msg_id;
      if (!m || !Number.isInteger(m.room) || m.room <= 0) return error(socket, 'bad_request', 'room must be a positive integer', cid);
      if (typeof m.text !== 'string') return error(socket, 'bad_request', 'text must be a string', cid);
      if (!socket.rooms.has(String(m.room))) return error(socket, 'not_member', 'join the room first', cid);
      const pos = (heads.get(m.room) || 0) + 1;
      heads.set(m.room, pos);
      const id = String(nextMessage++);
      const ts = Date.now();
      const frame = { type: 'message', room: m.room, pos, id, user, text: m.text, ts };
      const ack = { type: 'ack', room: m.room, id, ts };
      if (typeof cid === 'string') frame.client_msg_id = ack.client_msg_id = cid;
      socket.emit('ack', ack);
      io.to(String(m.room)).emit('message', frame);
    });
  });

  server.listen(port, '0.0.0.0', () => {
    console.log(`socketio-server ${process.pid} listening on 0.0.0.0:${server.address().port} (redis ${redis}, prefix ${prefix})`);
  });
}

main().catch((e) => fail(e.stack || String(e)));
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => process.exit(0));
