#!/usr/bin/python3
"""ctest's cluster_test: `ops/cluster start` in a throw-away directory on free ports, then, through nginx:

- plain HTTP answers a redirect to the same path and query over HTTPS;
- two clients chat over wss:// (the certificate verified against the development CA), each on its own
  ingress (least_conn: the second socket goes to the idle one; the 101 answers' X-Instance-Id differ),
  and each sees the other's message;
- every topic has replication factor 3 and min.insync.replicas 2 (Kafka's TopicCommand);
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
                raise AssertionError("the WebSocket closed")
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
                raise AssertionError("the server closed the WebSocket: %r" % payload)
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
                frame = a.wait_for(lambda f: f.get("client_msg_id") == text and f["type"] in ("ack", "error"))
                self.assertEqual(frame["type"], "ack", frame)

            send(lost, "before")
            send(kept, "before")
            want = {(lost, "before"), (kept, "before")}
            collect(b, want)
            subprocess.run([os.path.join(ROOT, "ops/services"), "kill", CLUSTER["dir"], "redis"], check=True,
                           capture_output=True, timeout=30)
            # Kafka still takes the sends: they are acknowledged with the shard away.
            for i in range(3):
                send(lost, "while away %d" % i)
            subprocess.run([os.path.join(ROOT, "ops/services"), "start", CLUSTER["dir"], "redis"], check=True,
                           capture_output=True, timeout=60)
            want |= {(lost, "while away %d" % i) for i in range(3)}
            collect(b, want)
            # Live again on both shards, with nobody rejoining.
            send(lost, "after")
            send(kept, "after")
            want |= {(lost, "after"), (kept, "after")}
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


class BrokerLossTest(unittest.TestCase):
    """Runs after ClusterTest: it leaves the cluster one broker short."""

    def test_a_broker_killed_under_load_loses_and_duplicates_nothing(self):
        https = Https()
        token, _, _ = guest(https)
        # Every partition has all three brokers in its in-sync set, so whichever broker dies, acks=all
        # writes to every partition wait until the quorum fences it (3 s); several rooms spread the sends
        # over several partitions, some led by the broker killed (its leadership moves too).
        rooms = []
        for r in range(4):
            status, _, room = https.call("POST", "/api/rooms", {"name": "cluster-kill-%d-%d" % (os.getpid(), r)}, token)
            self.assertEqual(status, 201, room)
            rooms.append(room["id"])
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
        suite = unittest.TestSuite([loader.loadTestsFromTestCase(ClusterTest),
                                    loader.loadTestsFromTestCase(RedisShardLossTest),
                                    loader.loadTestsFromTestCase(BrokerLossTest)])
        result = unittest.TextTestRunner(verbosity=2, stream=sys.stdout).run(suite)
        return 0 if result.wasSuccessful() else 1
    finally:
        subprocess.run([ops, "stop", tmp], timeout=120)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
