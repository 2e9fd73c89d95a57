#!/usr/bin/python3
"""ctest's cluster_test: `ops/cluster start` in a throw-away directory on free ports, then, through nginx:

- plain HTTP answers a redirect to the same path and query over HTTPS;
- two clients chat over wss:// (the certificate verified against the development CA), each on its own
  ingress (least_conn: the second socket goes to the idle one; the 101 answers' X-Instance-Id differ),
  and each sees the other's message;
- every topic has replication factor 3 and min.insync.replicas 2 (Kafka's TopicCommand);
- `ops/rolling-restart` of every chatpipe process (both ingresses, then each worker copy) while
  several WebSocket clients send a steady stream into a few rooms: each process is replaced under its
  name, the clients are closed by the drains and come back (joining with `after`, sending again what
  was refused or left unanswered under the same client_msg_id), every acknowledged message is stored
  once, every client gets every message of its rooms once and in order, and sends are acknowledged
  after the restart too;
- one of the two Redis shards SIGKILLed and started again, empty, with two clients in a room it holds
  and in one the other shard holds: the sends made meanwhile reach both clients once and in order
  with nobody rejoining, and both rooms are live again;
- one broker SIGKILLed under a steady stream of sends: the sends go on being accepted, and every
  acknowledged message is stored once (no false ack, no duplicate).

Standard library only: a WebSocket client is a handshake and a frame codec. Bounded: every wait has a
deadline; the cluster is stopped however the test ends.
"""
import base64
import http.client
import json
import os
import shutil
import socket
import ssl
import struct
import subprocess
import sys
import tempfile
import threading
import time
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CLUSTER = {}  # the started cluster's env (cluster.env) and directory


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def read_env(path):
    env = {}
    with open(path) as f:
        for line in f:
            name, _, value = line.strip().removeprefix("export ").partition("=")
            env[name] = value.strip("'")
    return env


def tls_context():
    return ssl.create_default_context(cafile=CLUSTER["CHATPIPE_CA_FILE"])


def https_port():
    return int(CLUSTER["CHATPIPE_URL"].rstrip("/").rsplit(":", 1)[1])


class Https:
    """One keep-alive HTTPS connection to nginx."""

    def __init__(self):
        self.conn = http.client.HTTPSConnection("127.0.0.1", https_port(), context=tls_context(), timeout=15)

    def call(self, method, path, body=None, token=None):
        headers = {"Content-Type": "application/json"} if body is not None else {}
        if token:
            headers["Authorization"] = "Bearer " + token
        self.conn.request(method, path, body=None if body is None else json.dumps(body), headers=headers)
        r = self.conn.getresponse()
        data = r.read()
        return r.status, r.getheader("X-Instance-Id"), json.loads(data) if data else None


class Closed(AssertionError):
    """The WebSocket ended: a close frame from the server (its code, or None without one) or EOF."""

    def __init__(self, code, what):
        super().__init__(what)
        self.code = code


class WebSocket:
    """A minimal RFC 6455 client over TLS: masked text frames out, pings answered."""

    def __init__(self, token):
        raw = socket.create_connection(("127.0.0.1", https_port()), timeout=10)
        self.sock = tls_context().wrap_socket(raw, server_hostname="127.0.0.1")
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall((f"GET /ws?token={token} HTTP/1.1\r\nHost: 127.0.0.1:{https_port()}\r\n"
                           f"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                           "Sec-WebSocket-Version: 13\r\n\r\n").encode())
        self.buf = b""
        while b"\r\n\r\n" not in self.buf:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise AssertionError("connection closed during the WebSocket handshake")
            self.buf += chunk
        head, _, self.buf = self.buf.partition(b"\r\n\r\n")
        lines = head.decode().split("\r\n")
        if not lines[0].startswith("HTTP/1.1 101"):
            raise AssertionError("upgrade refused: " + lines[0])
        headers = {k.lower(): v.strip() for k, _, v in (l.partition(":") for l in lines[1:])}
        self.instance = headers.get("x-instance-id")

    def send(self, obj):
        payload = json.dumps(obj).encode()
        self._frame(0x1, payload)

    def _frame(self, opcode, payload):
        mask = os.urandom(4)
        n = len(payload)
        head = bytes([0x80 | opcode])
        if n < 126:
            head += bytes([0x80 | n])
        elif n < 65536:
            head += bytes([0x80 | 126]) + struct.pack("!H", n)
        else:
            head += bytes([0x80 | 127]) + struct.pack("!Q", n)
        self.sock.sendall(head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload)))

    def _need(self, n, deadline):
        while len(self.buf) < n:
            self.sock.settimeout(max(0.05, deadline - time.monotonic()))
            try:
                chunk = self.sock.recv(65536)
            except (socket.timeout, TimeoutError):
                return False
            if not chunk:
                raise Closed(None, "the WebSocket closed")
            self.buf += chunk
        return True

    def recv(self, deadline):
        """The next text frame as an object, or None at the deadline."""
        while time.monotonic() < deadline:
            if not self._need(2, deadline):
                return None
            opcode, n = self.buf[0] & 0x0F, self.buf[1] & 0x7F
            at = 2
            if n == 126:
                if not self._need(4, deadline):
                    return None
                n, at = struct.unpack("!H", self.buf[2:4])[0], 4
            elif n == 127:
                if not self._need(10, deadline):
                    return None
                n, at = struct.unpack("!Q", self.buf[2:10])[0], 10
            if not self._need(at + n, deadline):
                return None
            payload, self.buf = self.buf[at:at + n], self.buf[at + n:]
            if opcode == 0x9:
                self._frame(0xA, payload)
            elif opcode == 0x8:
                code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else None
                raise Closed(code, "the server closed the WebSocket: %r" % payload)
            elif opcode == 0x1:
                return json.loads(payload)
        return None

    def wait_for(self, match, seconds=15):
        deadline = time.monotonic() + seconds
        while True:
            frame = self.recv(deadline)
            if frame is None:
                raise AssertionError("no matching frame within %d s" % seconds)
            if match(frame):
                return frame

    def close(self):
        self.sock.close()


def make_rooms(https, token, name, n):
    """The ids of `n` new public rooms named after `name` and this process."""
    rooms = []
    for r in range(n):
        status, _, room = https.call("POST", "/api/rooms", {"name": "%s-%d-%d" % (name, os.getpid(), r)}, token)
        assert status == 201, (status, room)
        rooms.append(room["id"])
    return rooms


def guest(https):
    status, instance, body = https.call("POST", "/api/sessions/guest")
    assert status == 200, (status, body)
    return body["token"], body["user"], instance


class ClusterTest(unittest.TestCase):
    def test_http_redirects_to_https(self):
        port = int(CLUSTER["CHATPIPE_HTTP_URL"].rstrip("/").rsplit(":", 1)[1])
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        conn.request("GET", "/api/rooms?limit=5&x=%C3%B1")
        r = conn.getresponse()
        r.read()
        self.assertIn(r.status, (301, 308))
        self.assertEqual(r.getheader("Location"), "https://127.0.0.1:%d/api/rooms?limit=5&x=%%C3%%B1" % https_port())

    def test_two_clients_on_two_ingresses_chat_over_wss(self):
        https = Https()
        token_a, user_a, _ = guest(https)
        token_b, user_b, _ = guest(https)
        status, _, room = https.call("POST", "/api/rooms", {"name": "cluster-%d" % os.getpid()}, token_a)
        self.assertEqual(status, 201, room)
        a = WebSocket(token_a)
        # least_conn counts per nginx worker process, so b's first socket may land beside a's: open
        # again (a few times at most) until b is on the other ingress.
        b = WebSocket(token_b)
        for _ in range(10):
            if b.instance != a.instance:
                break
            b.close()
            b = WebSocket(token_b)
        try:
            self.assertTrue(a.instance and b.instance)
            self.assertNotEqual(a.instance, b.instance)
            for ws in (a, b):
                ws.send({"type": "join", "room": room["id"]})
                ws.wait_for(lambda f: f["type"] == "joined")
            a.send({"type": "send", "room": room["id"], "text": "hola from a", "client_msg_id": "a-1"})
            a.wait_for(lambda f: f["type"] == "ack" and f.get("client_msg_id") == "a-1")
            got = b.wait_for(lambda f: f["type"] == "message" and f.get("text") == "hola from a")
            self.assertEqual(got["user"]["id"], user_a["id"])
            b.send({"type": "send", "room": room["id"], "text": "hi from b", "client_msg_id": "b-1"})
            got = a.wait_for(lambda f: f["type"] == "message" and f.get("text") == "hi from b")
            self.assertEqual(got["user"]["id"], user_b["id"])
        finally:
            a.close()
            b.close()

    def test_topics_are_replicated_three_times_with_two_in_sync(self):
        libs = CLUSTER["CHATPIPE_KAFKA_LIBS"]
        out = subprocess.run(["java", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Xmx256m", "-cp", libs + "/*",
                              "org.apache.kafka.tools.TopicCommand", "--bootstrap-server", CLUSTER["CHATPIPE_KAFKA"],
                              "--describe"], capture_output=True, text=True, timeout=60, check=True).stdout
        summaries = [l for l in out.splitlines() if l.startswith("Topic:") and "PartitionCount" in l]
        names = {l.split()[1] for l in summaries}
        for topic in ("chat.messages", "chat.notify", "chat.speech", "board.pixels", "chat.deadletter"):
            self.assertIn(topic, names)
        for line in summaries:
            if line.split()[1].startswith("__"):
                continue  # Kafka's own (__consumer_offsets) follow offsets.topic.replication.factor
            self.assertIn("ReplicationFactor: 3", line)
            self.assertIn("min.insync.replicas=2", line)



def redis_shards():
    """The cluster's Redis shards as (host, port), in CHATPIPE_REDIS order."""
    return [(a.rsplit(":", 1)[0], int(a.rsplit(":", 1)[1])) for a in CLUSTER["CHATPIPE_REDIS"].split(",")]


def redis_cli(shard, *args):
    host, port = redis_shards()[shard]
    return subprocess.run(["redis-cli", "-h", host, "-p", str(port), *args], capture_output=True, text=True,
                          timeout=10).stdout.strip()


class RedisShardLossTest(unittest.TestCase):
    """Runs after ClusterTest: one Redis shard killed and started again (empty) while two clients are in
    a room it holds and in a room the other shard holds."""

    def room_on_each_shard(self, https, token, ws):
        """Rooms, created and joined by `ws`, until each shard holds one: the shard whose Redis counts a
        subscriber of the room's channel (the ingress subscribes before it answers "joined")."""
        found = {}
        for n in range(16):  # a room lands on either of two shards by a hash: 16 tries miss with p = 2^-15
            status, _, room = https.call("POST", "/api/rooms", {"name": "shard-%d-%d" % (os.getpid(), n)}, token)
            self.assertEqual(status, 201, room)
            ws.send({"type": "join", "room": room["id"]})
            ws.wait_for(lambda f: f["type"] == "joined" and f.get("room") == room["id"])
            channel = "room:{%d}" % room["id"]  # the cluster runs without a namespace
            counts = [redis_cli(i, "PUBSUB", "NUMSUB", channel).split("\n")[-1] for i in range(len(redis_shards()))]
            holders = [i for i, c in enumerate(counts) if c not in ("", "0")]
            self.assertEqual(len(holders), 1, "room %d subscribed on shards %s" % (room["id"], counts))
            found.setdefault(holders[0], room["id"])
            if len(found) == len(redis_shards()):
                return found
        self.fail("16 rooms, all on one shard: %s" % found)

    def test_a_restarted_shard_recovers_its_rooms_by_itself(self):
        self.assertEqual(len(redis_shards()), 2, "the cluster runs two Redis shards")
        https = Https()
        token_a, _, _ = guest(https)
        token_b, _, _ = guest(https)
        a, b = WebSocket(token_a), WebSocket(token_b)
        try:
            rooms = self.room_on_each_shard(https, token_a, a)
            for room in rooms.values():
                b.send({"type": "join", "room": room})
                b.wait_for(lambda f, room=room: f["type"] == "joined" and f.get("room") == room)
            lost, kept = rooms[0], rooms[1]  # shard 0 ("redis") goes; shard 1 ("redis-2") stays
            seen = {a: {}, b: {}}  # socket -> room -> [(pos, id, text)]

            def collect(ws, want, seconds=60):
                """Reads `ws` until it has seen every (room, text) in `want`; keeps every message frame."""
                deadline = time.monotonic() + seconds
                while not want <= {(r, t) for r, ms in seen[ws].items() for _, _, t in ms}:
                    frame = ws.recv(deadline)
                    self.assertIsNotNone(frame, "missing after %d s: %s" % (seconds, sorted(
                        want - {(r, t) for r, ms in seen[ws].items() for _, _, t in ms})))
                    if frame["type"] == "message":
                        seen[ws].setdefault(frame["room"], []).append((frame["pos"], frame["id"], frame["text"]))

            def send(room, text):
                a.send({"type": "send", "room": room, "text": text, "client_msg_id": text})
                def answer(f):  # the messages a sees meanwhile are kept too
                    if f["type"] == "message":
                        seen[a].setdefault(f["room"], []).append((f["pos"], f["id"], f["text"]))
                    return f.get("client_msg_id") == text and f["type"] in ("ack", "error")
                frame = a.wait_for(answer)
                self.assertEqual(frame["type"], "ack", frame)

            # Every text is its own client_msg_id: distinct, or the second would be a resend of the first.
            send(lost, "before-lost")
            send(kept, "before-kept")
            want = {(lost, "before-lost"), (kept, "before-kept")}
            collect(b, want)
            subprocess.run([os.path.join(ROOT, "ops/services"), "kill", CLUSTER["dir"], "redis"], check=True,
                           capture_output=True, timeout=30)
            # Kafka still takes the sends: they are acknowledged with the shard away.
            for i in range(3):
                send(lost, "away-%d" % i)
            subprocess.run([os.path.join(ROOT, "ops/services"), "start", CLUSTER["dir"], "redis"], check=True,
                           capture_output=True, timeout=60)
            want |= {(lost, "away-%d" % i) for i in range(3)}
            collect(b, want)
            # Live again on both shards, with nobody rejoining.
            send(lost, "after-lost")
            send(kept, "after-kept")
            want |= {(lost, "after-lost"), (kept, "after-kept")}
            for ws in (a, b):
                collect(ws, want)
                for room, got in seen[ws].items():
                    ids = [m[1] for m in got]
                    self.assertEqual(len(ids), len(set(ids)), "room %d delivered twice: %s" % (room, got))
                    positions = [m[0] for m in got]
                    self.assertEqual(positions, sorted(positions), "room %d out of order: %s" % (room, got))
        finally:
            a.close()
            b.close()


# Refusals that mean "send it again, unchanged, under the same client_msg_id" (docs/protocol.md).
RESEND_CODES = {"draining", "queue_unavailable", "unavailable", "busy", "not_joined", "rate_limited"}


class StreamClient(threading.Thread):
    """One user on one WebSocket through nginx, joined to every room of `rooms`, sending one message
    every `every` s round the rooms until `restarted` is set and `after` messages made after it were
    acknowledged; then it only reads, until it holds what `expect` (set by the test) says each room
    has. Whenever the socket ends (1012 from a drain, or any close) it reconnects, joins each room
    again with `after` = the last position it saw, and once joined sends again, under the same
    client_msg_id, what was refused with a resend code or left unanswered by the close (after a
    `draining`, nothing more goes on that socket: it is about to close with 1012). Bounded: at
    most `most` messages and 50 connections, and nothing past `deadline` (a hang, not a pace)."""

    def __init__(self, name, token, rooms, restarted, deadline, every=0.25, after=5, most=600):
        super().__init__(name=name, daemon=True)
        self.token, self.rooms, self.restarted, self.deadline = token, rooms, restarted, deadline
        self.every, self.after, self.most = every, after, most
        self.ws = None
        self.joining = set()
        self.draining = False  # this socket's ingress said `draining`: send nothing more on it
        self.seen = {room: [] for room in rooms}  # room -> (pos, id) of each message frame, as they came
        self.last_pos = {room: 0 for room in rooms}
        self.made = 0
        self.made_after_restart = set()  # client_msg_ids first sent after the restart was over
        self.to_send = []  # (client_msg_id, room, text), sent once connected and joined
        self.in_flight = {}  # client_msg_id -> (room, text): sent on this socket, not answered yet
        self.not_before = 0.0  # after a rate_limited refusal: no send before this (monotonic)
        self.acked = {}  # client_msg_id -> (room, text)
        self.connections = 0
        self.closes = []  # how each socket ended: the server's close code, or None
        self.resent = {}  # why messages were sent again: refusal code or "unanswered" -> count
        self.loaded = threading.Event()  # a first message acknowledged
        self.sending_done = threading.Event()  # every message made is acknowledged; no more are made
        self.expect = None  # room -> the stored ids in position order
        self.error = None

    def run(self):
        try:
            self._run()
        except BaseException as e:  # noqa: B902 -- handed to the test, which fails with it
            self.error = e
        finally:
            if self.ws:
                self.ws.close()

    def _connect(self):
        self.connections += 1
        if self.connections > 50:
            raise AssertionError("%s: more than 50 connections" % self.name)
        try:
            self.ws = WebSocket(self.token)
        except (OSError, AssertionError):
            self.ws = None
            return
        self.joining = set(self.rooms)
        self.draining = False
        for room in self.rooms:
            self.ws.send({"type": "join", "room": room, "after": self.last_pos[room]})

    def _lost(self, code):
        """The socket ended: what it left unanswered goes again on the next one."""
        self.closes.append(code)
        self.ws.close()
        self.ws = None
        self.to_send[:0] = [(cid, room, text) for cid, (room, text) in self.in_flight.items()]
        self.resent["unanswered"] = self.resent.get("unanswered", 0) + len(self.in_flight)
        self.in_flight.clear()

    def _next_message(self):
        if self.to_send:
            return self.to_send.pop(0)
        if self.made >= self.most or (self.restarted.is_set() and len(self.made_after_restart & set(self.acked)) >= self.after):
            return None
        self.made += 1
        cid = "%s-%d" % (self.name, self.made)
        if self.restarted.is_set():
            self.made_after_restart.add(cid)
        return cid, self.rooms[self.made % len(self.rooms)], "rolling %s" % cid

    def _send_one(self):
        message = self._next_message()
        if message is None:
            if not self.in_flight:
                self.sending_done.set()
            return
        cid, room, text = message
        self.in_flight[cid] = (room, text)
        self.ws.send({"type": "send", "room": room, "text": text, "client_msg_id": cid})

    def _handle(self, frame):
        kind = frame["type"]
        if kind == "joined":
            self.joining.discard(frame["room"])
        elif kind == "message" and frame["room"] in self.seen:
            self.seen[frame["room"]].append((frame["pos"], frame["id"]))
            self.last_pos[frame["room"]] = max(self.last_pos[frame["room"]], frame["pos"])
        elif kind == "ack":
            self.acked[frame["client_msg_id"]] = self.in_flight.pop(frame["client_msg_id"])
            self.loaded.set()
        elif kind == "error":
            cid = frame.get("client_msg_id")
            if frame["code"] not in RESEND_CODES or cid not in self.in_flight:
                raise AssertionError("%s: refused: %r" % (self.name, frame))
            self.to_send.insert(0, (cid,) + self.in_flight.pop(cid))
            self.resent[frame["code"]] = self.resent.get(frame["code"], 0) + 1
            self.draining = self.draining or frame["code"] == "draining"
            if frame["code"] == "rate_limited":
                self.not_before = time.monotonic() + frame.get("retry_after_ms", 100) / 1000

    def _has_everything(self):
        return self.expect is not None and all(len(self.seen[r]) >= len(self.expect[r]) for r in self.rooms)

    def _run(self):
        next_send = time.monotonic()
        while not (self.sending_done.is_set() and self._has_everything()):
            now = time.monotonic()
            if now > self.deadline:
                raise AssertionError("%s: still running at the deadline (made %d, %d unanswered, %d to send)"
                                     % (self.name, self.made, len(self.in_flight), len(self.to_send)))
            if self.ws is None:
                self._connect()
                if self.ws is None:
                    time.sleep(0.1)  # refused (no ingress took it): a moment before the next try
                continue
            sending = not self.joining and not self.draining and not self.sending_done.is_set()
            try:
                if sending and now >= max(next_send, self.not_before):
                    next_send = max(next_send + self.every, now)
                    self._send_one()
                # Reads until the next send is due (at most 0.5 s, so the deadline is seen).
                frame = self.ws.recv(min(max(next_send, self.not_before), now + 0.5) if sending else now + 0.5)
            except Closed as e:
                self._lost(e.code)
                continue
            except OSError:
                self._lost(None)
                continue
            if frame is not None:
                self._handle(frame)


def procs_status():
    """name -> pid of each chatpipe process the cluster's directory runs (ops/procs status)."""
    out = subprocess.run([os.path.join(ROOT, "ops/procs"), "status", CLUSTER["dir"]], capture_output=True,
                         text=True, timeout=30).stdout
    return {name: pid for name, pid, state in (l.split() for l in out.splitlines()) if state == "running"}


def stored_history(https, token, room):
    """Every message stored in the room, by position (paging back through the history API). Pages
    before the newest are database reads, limited per user: past the limit it waits as told (429)."""
    out, before = [], None
    while True:
        status, _, page = https.call("GET", "/api/rooms/%d/messages?limit=100%s"
                                     % (room, "" if before is None else "&before=%d" % before), token=token)
        if status == 429:
            time.sleep(page["error"]["retry_after_ms"] / 1000)
            continue
        assert status == 200, (status, page)
        out += page["messages"]
        before = page["next_before"]
        if before is None:
            return sorted(out, key=lambda m: m["pos"])


class RollingRestartTest(unittest.TestCase):
    """Runs after ClusterTest and before BrokerLossTest (which leaves a broker down)."""

    def test_a_rolling_restart_of_every_process_under_load_loses_and_repeats_nothing(self):
        https = Https()
        token, _, _ = guest(https)
        rooms = make_rooms(https, token, "rolling", 3)
        restarted = threading.Event()
        deadline = time.monotonic() + 180  # against a hang only: the test ends on counts
        clients = [StreamClient("c%d" % i, guest(https)[0], rooms, restarted, deadline) for i in range(4)]
        for c in clients:
            c.start()
        try:
            for c in clients:
                self.assertTrue(c.loaded.wait(max(0, deadline - time.monotonic())), c.error or "%s: no ack" % c.name)
            before = procs_status()
            r = subprocess.run([os.path.join(ROOT, "ops/rolling-restart"), CLUSTER["dir"]], capture_output=True,
                               text=True, timeout=150)
            restarted.set()
            self.assertEqual(r.returncode, 0, r.stderr[-4000:])
            after = procs_status()
            for c in clients:
                self.assertTrue(c.sending_done.wait(max(0, deadline - time.monotonic())), c.error or c.name)
            self.assertEqual(sorted(after), sorted(before))
            replaced = [n for n in before if n != "smtp-sink"]
            self.assertGreaterEqual(len(replaced), 14)  # two ingresses, two copies of six workers
            self.assertEqual([n for n in replaced if after[n] == before[n]], [], "not restarted")
            self.assertEqual(after["smtp-sink"], before["smtp-sink"])

            acked = {}  # client_msg_id -> (room, text), over all clients
            for c in clients:
                acked.update(c.acked)
            https = Https()  # nginx may have closed the first one while it idled
            while True:
                stored = {room: stored_history(https, token, room) for room in rooms}
                stored_ids = {m["client_msg_id"] for ms in stored.values() for m in ms}
                if set(acked) <= stored_ids or time.monotonic() > deadline:
                    break
                time.sleep(0.2)
            for c in clients:
                c.expect = {room: [m["id"] for m in stored[room]] for room in rooms}
            for c in clients:
                c.join(max(0, deadline - time.monotonic()))
        finally:
            restarted.set()
            for c in clients:
                c.deadline = 0  # ends a client still running, at its next turn
        print("%s\n%d messages acknowledged, %d made after the restart; closes per client: %s; sent again: %s" % (
            r.stderr.strip().splitlines()[-1] if r.stderr.strip() else "", len(acked),
            sum(len(c.made_after_restart) for c in clients), [c.closes for c in clients], [c.resent for c in clients]))
        for c in clients:
            self.assertIsNone(c.error, "%s: %s" % (c.name, c.error))
        # Stored once each: positions and ids unique, every acknowledged message there, once, and
        # nothing that was not sent.
        for room in rooms:
            positions = [m["pos"] for m in stored[room]]
            self.assertEqual(positions, sorted(set(positions)), "room %d: a position twice" % room)
            self.assertEqual(len({m["id"] for m in stored[room]}), len(stored[room]))
        cids = [m["client_msg_id"] for ms in stored.values() for m in ms]
        self.assertEqual(len(cids), len(set(cids)), "a message was stored twice")
        self.assertEqual(set(cids) - set(acked), set(), "stored but never acknowledged")
        self.assertEqual(set(acked) - set(cids), set(), "acknowledged but never stored")
        where = {m["client_msg_id"]: (room, m["text"]) for room, ms in stored.items() for m in ms}
        self.assertEqual(where, acked, "stored in another room, or with another text")
        # Every client got every message of its rooms, once, in order.
        for c in clients:
            for room in rooms:
                self.assertEqual([i for _, i in c.seen[room]], [m["id"] for m in stored[room]],
                                 "%s, room %d: not every message once and in order" % (c.name, room))
        # The drains closed every client at least once, and the stream went on after the restart.
        self.assertTrue(all(c.closes for c in clients), [c.closes for c in clients])
        for c in clients:
            self.assertGreaterEqual(len(c.made_after_restart & set(c.acked)), c.after, c.name)


class BrokerLossTest(unittest.TestCase):
    """Runs after ClusterTest: it leaves the cluster one broker short."""

    def test_a_broker_killed_under_load_loses_and_duplicates_nothing(self):
        https = Https()
        token, _, _ = guest(https)
        # Every partition has all three brokers in its in-sync set, so whichever broker dies, acks=all
        # writes to every partition wait until the quorum fences it (3 s); several rooms spread the sends
        # over several partitions, some led by the broker killed (its leadership moves too).
        rooms = make_rooms(https, token, "cluster-kill", 4)
        # Counted, not timed: a loaded machine may take a while to fence the broker, so the stream runs
        # until 20 sends were acknowledged after the kill, with a deadline only against a hang.
        acked, refused, after_kill = {}, 0, 0
        start = time.monotonic()
        killed_at = None
        i = 0
        while after_kill < 20 and time.monotonic() - start < 90:
            if killed_at is None and i == 12:
                subprocess.run([os.path.join(ROOT, "ops/services"), "kill", CLUSTER["dir"], "kafka-2"],
                               check=True, capture_output=True, timeout=30)
                killed_at = time.monotonic()
            room = rooms[i % len(rooms)]
            text = "load %d" % i
            status, _, body = https.call("POST", "/api/rooms/%d/messages" % room,
                                         {"text": text, "client_msg_id": "k-%d" % i}, token)
            if status == 202:
                acked[body["id"]] = (room, text)
                if killed_at is not None:
                    after_kill += 1
            else:
                self.assertEqual(status, 503, body)  # refused in so many words, never a false ack
                refused += 1
            i += 1
            time.sleep(0.25)  # 4 sends a second: under the 50/10s per-connection limit
        print("sent %d: %d acknowledged (%d after the kill), %d refused" % (i, len(acked), after_kill, refused))
        self.assertEqual(after_kill, 20, "the cluster stopped accepting sends after losing one broker")
        # Every acknowledged message is stored, once.
        deadline = time.monotonic() + 30
        while True:
            stored = []
            for room in rooms:
                status, _, page = https.call("GET", "/api/rooms/%d/messages?limit=100" % room, token=token)
                self.assertEqual(status, 200, page)
                stored += page["messages"]
            if set(acked) <= {m["id"] for m in stored} or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        ids = [m["id"] for m in stored]
        texts = [m["text"] for m in stored]
        self.assertEqual(len(ids), len(set(ids)))
        self.assertEqual(len(texts), len(set(texts)), "a message was stored twice")
        missing = set(acked) - set(ids)
        self.assertFalse(missing, "acknowledged but never stored: %s" % sorted(acked[m] for m in missing))


def main():
    tmp = tempfile.mkdtemp(prefix="chatpipe-cluster-")
    # mkdtemp's 0700 would keep PostgreSQL (its own user when we are root) out, and ops/services would
    # put its data under /var/tmp instead, where removing tmp would not reach it.
    os.chmod(tmp, 0o755)
    ops = os.path.join(ROOT, "ops/cluster")
    try:
        t0 = time.monotonic()
        r = subprocess.run([ops, "start", tmp, "--fast", "--https-port", str(free_port()),
                            "--http-port", str(free_port())], timeout=240)
        if r.returncode != 0:
            print("ops/cluster start failed", file=sys.stderr)
            return 1
        print("cluster started in %.1f s" % (time.monotonic() - t0), flush=True)
        CLUSTER.update(read_env(os.path.join(tmp, "cluster.env")))
        CLUSTER["dir"] = tmp
        loader = unittest.TestLoader()
        # In this order, not the loader's by name: BrokerLossTest leaves a broker down.
        suite = unittest.TestSuite([loader.loadTestsFromTestCase(ClusterTest),
                                    loader.loadTestsFromTestCase(RollingRestartTest),
                                    loader.loadTestsFromTestCase(RedisShardLossTest),
                                    loader.loadTestsFromTestCase(BrokerLossTest)])
        result = unittest.TextTestRunner(verbosity=2, stream=sys.stdout).run(suite)
        return 0 if result.wasSuccessful() else 1
    finally:
        subprocess.run([ops, "stop", tmp], timeout=120)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
