#include "bench/loadgen/run.h"

#include <arpa/inet.h>
#include <rapidjson/document.h>
#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <thread>

#include "bench/loadgen/placement.h"
#include "bench/loadgen/tls.h"
#include "bench/loadgen/worker.h"
#include "tests/support/http_client.h"

namespace chatpipe::bench {
namespace {

using std::chrono::milliseconds;

}  // namespace

Result<Target> ParseUrl(const std::string& url) {
  Status bad = Status::InvalidArgument("bad_url", "--url must be http://IPV4:PORT or https://IPV4:PORT, got " + url);
  const bool tls = url.rfind("https://", 0) == 0;
  if (!tls && url.rfind("http://", 0) != 0) return bad;
  std::string rest = url.substr(tls ? 8 : 7);
  while (!rest.empty() && rest.back() == '/') rest.pop_back();
  const size_t colon = rest.rfind(':');
  if (colon == std::string::npos) return bad;
  Target t;
  t.addr.sin_family = AF_INET;
  int port = 0;
  try {
    port = std::stoi(rest.substr(colon + 1));
  } catch (...) {
    return bad;
  }
  if (port <= 0 || port > 65535 || inet_pton(AF_INET, rest.substr(0, colon).c_str(), &t.addr.sin_addr) != 1) return bad;
  t.addr.sin_port = htons(static_cast<uint16_t>(port));
  t.host_port = rest;
  t.host = rest.substr(0, colon);
  t.tls = tls;
  return t;
}

namespace {

Result<rapidjson::Document> PostJson(const std::string& url, const std::string& body, const std::string& token,
                                     int expect) {
  std::vector<std::string> headers = {"Content-Type: application/json"};
  if (!token.empty()) headers.push_back("Authorization: Bearer " + token);
  auto r = test::HttpRequest("POST", url, body, headers, std::chrono::seconds(30));
  if (!r.ok()) return r.status();
  if (r->status != expect)
    return Status::Unavailable("http_" + std::to_string(r->status), "POST " + url + ": " + r->body);
  rapidjson::Document doc;
  doc.Parse(r->body.c_str());
  if (doc.HasParseError() || !doc.IsObject()) return Status::Internal("POST " + url + " answered no JSON object");
  return doc;
}

}  // namespace

Result<std::string> GuestToken(const std::string& url) {
  auto doc = PostJson(url + "/api/sessions/guest", "", "", 200);
  if (!doc.ok()) return doc.status();
  if (!doc->HasMember("token") || !(*doc)["token"].IsString()) return Status::Internal("guest session without token");
  return std::string((*doc)["token"].GetString());
}

namespace {

bool Exists(const std::string& path) { return std::filesystem::exists(path); }

// Writes via a temporary file, so a reader never sees half of it.
Status WriteFileAtomically(const std::string& path, const std::string& text) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << text;
    if (!out) return Status::Internal("cannot write " + tmp);
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) return Status::Internal("cannot rename " + tmp + ": " + ec.message());
  return Status::Ok();
}

// Polls for `path` (the barrier is files the scenario script writes); returns its text.
Result<std::string> WaitForFile(const std::string& path, double timeout_s) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_s);
  while (!Exists(path)) {
    if (std::chrono::steady_clock::now() > deadline)
      return Status::DeadlineExceeded("timeout", "no " + path + " after " + std::to_string(timeout_s) + " s");
    std::this_thread::sleep_for(milliseconds(10));
  }
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// Waits until pred() holds for every worker, or the deadline; true if it did.
template <typename Pred>
bool WaitAll(const std::vector<std::unique_ptr<Worker>>& workers, double timeout_s, Pred pred) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_s);
  for (;;) {
    bool all = true;
    for (const auto& w : workers) all = all && pred(*w);
    if (all) return true;
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(milliseconds(5));
  }
}

// `senders` and `rate` are this process's own: `report` adds them up.
std::string ResultJson(const RunOptions& o, int threads, int senders, double rate, int64_t start_ns,
                       const Stats& stats) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  w.StartObject();
  w.Key("run");
  w.String(o.run.c_str());
  w.Key("proc");
  w.Uint(o.proc);
  w.Key("config");
  w.StartObject();
  w.Key("peer");
  w.String(o.peer.c_str());
  w.Key("connections");
  w.Int(o.connections);
  w.Key("threads");  // event loops run, the senders' own among them
  w.Int(threads);
  w.Key("senders");
  w.Int(senders);
  w.Key("rate");
  w.Double(rate);
  w.Key("duration_s");
  w.Double(o.duration_s);
  w.Key("rooms");
  w.Uint64(o.rooms.size());
  w.Key("text_bytes");
  w.Uint64(o.text_bytes);
  w.Key("source_ips");
  w.Int(o.source_ips);
  w.EndObject();
  w.Key("start_ns");
  w.Int64(start_ns);
  w.Key("stats");
  stats.WriteJson(w);
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize()) + "\n";
}

}  // namespace

Status RunGenerator(const RunOptions& o) {
  auto target = ParseUrl(o.url);
  if (!target.ok()) return target.status();
  if (o.connections < 0 || o.threads < 1 || o.source_ips < 1 || o.source_ips > 250 || o.senders < 0 || o.rate < 0 ||
      o.window_s < 0 || (o.window_s > 0 && o.window_s < 0.1))
    return Status::InvalidArgument("bad_option",
                                   "connections, senders, rate >= 0; threads >= 1; source-ips 1..250; window 0 or >= 0.1 s");
  if (o.senders > 0 && o.rooms.empty()) return Status::InvalidArgument("bad_option", "senders need --rooms");
  if (o.visitors < 0 || o.visitors > o.connections || o.churn < 0 || (o.visitors > 0 && o.visitor_rooms.empty()) ||
      (o.churn > 0 && o.visitors == 0))
    return Status::InvalidArgument("bad_option",
                                   "visitors: 0 .. connections, with --visitor-rooms; churn >= 0, with visitors");
  const int first_visitor = o.connections - o.visitors;
  const Placement placement{o.members ? o.members : o.conn_base + first_visitor,
                            static_cast<int64_t>(o.rooms.size()), o.senders};
  if (o.conn_base < 0 || o.conn_base + first_visitor > placement.members || o.senders > placement.members)
    return Status::InvalidArgument("bad_option",
                                   "--members must hold this process's (from --conn-base on), and --senders at most --members");
  rlimit files{};
  getrlimit(RLIMIT_NOFILE, &files);
  if (files.rlim_cur < files.rlim_max) {  // raise the soft limit as far as allowed
    files.rlim_cur = files.rlim_max;
    setrlimit(RLIMIT_NOFILE, &files);
  }
  if (static_cast<rlim_t>(o.connections) + 64 > files.rlim_cur)
    return Status::InvalidArgument("too_many_connections", std::to_string(o.connections) + " connections need more than the " +
                                                          std::to_string(files.rlim_cur) +
                                                          " open files a process may have here; run more processes");

  Peer peer;
  if (o.peer == "chatpipe") peer = Peer::kChatpipe;
  else if (o.peer == "ws") peer = Peer::kWs;
  else if (o.peer == "socketio") peer = Peer::kSocketIo;
  else if (o.peer == "centrifugo") peer = Peer::kCentrifugo;
  else return Status::InvalidArgument("bad_option", "--peer must be chatpipe, ws, socketio or centrifugo, got " + o.peer);

  // Tokens first, with blocking HTTP: no loop runs yet. The peers take any token.
  const int users = o.clients_per_user > 0 ? (o.connections + o.clients_per_user - 1) / o.clients_per_user : 1;
  std::vector<std::string> tokens;
  for (int i = 0; i < users; ++i) {
    if (peer != Peer::kChatpipe) {
      tokens.push_back("peer");
      continue;
    }
    auto token = GuestToken(o.token_url.empty() ? o.url : o.token_url);
    if (!token.ok()) return token.status();
    tokens.push_back(*token);
  }
  SslCtx tls;  // outlives the workers, which are done with it before this returns
  if (target->tls) {
    auto ctx = ClientTlsContext(o.ca_file, target->host);
    if (!ctx.ok()) return ctx.status();
    tls = std::move(*ctx);
  }

  WorkerConfig base;
  base.run = o.run;
  base.peer = peer;
  base.proc = o.proc;
  base.server = target->addr;
  base.host_header = target->host_port;
  base.tls = tls.get();
  base.duration_ns = static_cast<int64_t>(o.duration_s * 1e9);
  base.drain_ns = static_cast<int64_t>(o.drain_s * 1e9);
  base.quiet_ns = int64_t{o.quiet_ms} * 1'000'000;
  base.window_ns = static_cast<int64_t>(o.window_s * 1e9);
  base.text_bytes = o.text_bytes;
  base.connect_concurrency = o.connect_concurrency;
  // Senders that are a few among many receivers get a thread of their own: the send schedule must
  // not wait behind a pass over every receiver's socket (in a hot room that pass is most of the
  // generator's work, and its length showed up as send lag).
  int senders = 0;
  for (int i = 0; i < first_visitor; ++i) senders += placement.IsSender(o.conn_base + i) ? 1 : 0;
  const bool sender_thread = senders > 0 && senders < o.connections;
  const int threads = o.threads + (sender_thread ? 1 : 0);
  std::vector<std::vector<ConnSpec>> specs(threads);
  std::vector<int> senders_per_thread(threads, 0), visitors_per_thread(threads, 0);
  for (int i = 0; i < o.connections; ++i) {
    ConnSpec s;
    s.index = static_cast<uint32_t>(i);
    const int global = o.conn_base + i;
    s.source.s_addr = htonl((127u << 24) | static_cast<uint32_t>(2 + global % o.source_ips));
    s.token = &tokens[o.clients_per_user > 0 ? i / o.clients_per_user : 0];
    s.visitor = i >= first_visitor;
    if (s.visitor)
      s.room = o.visitor_rooms[(o.proc + static_cast<size_t>(i - first_visitor)) % o.visitor_rooms.size()];
    else
      s.room = o.rooms.empty() ? 0 : o.rooms[static_cast<size_t>(global) % o.rooms.size()];
    s.sender = !s.visitor && placement.IsSender(global);
    const int thread = sender_thread && s.sender ? o.threads : i % o.threads;
    if (s.sender) ++senders_per_thread[thread];
    if (s.visitor) ++visitors_per_thread[thread];
    specs[thread].push_back(s);
  }
  // Every sender of the scenario sends rate / senders, so each room is offered its senders' share.
  const double per_sender_rate = o.senders ? o.rate / o.senders : 0;
  std::vector<std::unique_ptr<Worker>> workers;
  for (int t = 0; t < threads; ++t) {
    WorkerConfig c = base;
    c.rate = per_sender_rate * senders_per_thread[t];
    c.churn = o.visitors ? o.churn * visitors_per_thread[t] / o.visitors : 0;
    c.connect_rate = o.connections ? o.connect_rate * static_cast<double>(specs[t].size()) / o.connections : 0;
    workers.push_back(std::make_unique<Worker>(c, std::move(specs[t])));
  }
  for (auto& w : workers) w->Start();

  if (!WaitAll(workers, o.ready_timeout_s, [](const Worker& w) { return w.ready(); }))
    fprintf(stderr, "loadgen %u: not every connection opened and joined within %.0f s; starting anyway\n", o.proc,
            o.ready_timeout_s);
  int64_t start_ns = NowNs() + 200'000'000;
  if (!o.barrier_dir.empty()) {
    const std::string me = std::to_string(o.proc);
    if (Status s = WriteFileAtomically(o.barrier_dir + "/ready." + me, "ready\n"); !s.ok()) return s;
    auto go = WaitForFile(o.barrier_dir + "/go", o.barrier_timeout_s);
    if (!go.ok()) return go.status();
    try {
      start_ns = std::stoll(*go);
    } catch (...) {
      return Status::InvalidArgument("bad_barrier", o.barrier_dir + "/go must hold the start time in ns");
    }
  }
  for (auto& w : workers) w->Go(start_ns);
  const double budget = std::max(0.0, (start_ns - NowNs()) / 1e9) + o.duration_s + o.drain_s + 10;
  if (!WaitAll(workers, budget, [](const Worker& w) { return w.done(); }))
    return Status::Internal("a generator thread did not finish its run");

  Stats total;
  for (const auto& w : workers) total.Merge(w->stats());
  const std::string json = ResultJson(o, threads, senders, per_sender_rate * senders, start_ns, total);
  if (!o.out.empty()) {
    if (Status s = WriteFileAtomically(o.out, json); !s.ok()) return s;
  } else {
    fputs(json.c_str(), stdout);
  }
  fprintf(stderr,
          "loadgen %u: %lu/%d connected, %lu joined, sent %lu, acked %lu, delivered %lu, p99 delivery %.2f ms\n",
          o.proc, static_cast<unsigned long>(total.connected), o.connections, static_cast<unsigned long>(total.joined),
          static_cast<unsigned long>(total.sent), static_cast<unsigned long>(total.acked),
          static_cast<unsigned long>(total.delivered), total.delivery_us.ValueAt(99) / 1000.0);
  if (!o.barrier_dir.empty()) {
    const std::string me = std::to_string(o.proc);
    if (Status s = WriteFileAtomically(o.barrier_dir + "/done." + me, "done\n"); !s.ok()) return s;
    auto release = WaitForFile(o.barrier_dir + "/release", o.barrier_timeout_s);
    if (!release.ok()) return release.status();
  }
  for (auto& w : workers) w->Quit();
  return Status::Ok();
}

Result<std::vector<int64_t>> SetUpRooms(const std::string& url, int count, const std::string& prefix,
                                        double timeout_s) {
  auto token = GuestToken(url);
  if (!token.ok()) return token.status();
  std::vector<int64_t> ids;
  for (int i = 0; i < count; ++i) {
    auto room = PostJson(url + "/api/rooms", "{\"name\":\"" + prefix + "-" + std::to_string(i) + "\"}", *token, 201);
    if (!room.ok()) return room.status();
    if (!room->HasMember("id") || !(*room)["id"].IsInt64()) return Status::Internal("room created without an id");
    ids.push_back((*room)["id"].GetInt64());
  }
  if (ids.empty() || timeout_s <= 0) return ids;
  // The whole pipeline, once: a message posted must come back in the room's history.
  const std::string room_url = url + "/api/rooms/" + std::to_string(ids[0]) + "/messages";
  auto posted = PostJson(room_url, "{\"text\":\"warm-up\"}", *token, 202);
  if (!posted.ok()) return posted.status();
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_s);
  for (;;) {
    auto history = test::HttpRequest("GET", room_url + "?limit=1", "", {"Authorization: Bearer " + *token});
    if (history.ok() && history->status == 200 && history->body.find("warm-up") != std::string::npos) return ids;
    if (std::chrono::steady_clock::now() > deadline)
      return Status::DeadlineExceeded("timeout", "the warm-up message did not reach the room's history within " +
                                               std::to_string(timeout_s) + " s: is `chatpipe worker persist` running?");
    std::this_thread::sleep_for(milliseconds(50));
  }
}

}  // namespace chatpipe::bench
