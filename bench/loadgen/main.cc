// chatpipe-loadgen: a WebSocket load generator for chatpipe's ingress (see bench/README.md).
//
//   chatpipe-loadgen setup --url URL --rooms N --prefix P     rooms for a scenario; prints their ids
//   chatpipe-loadgen run --url URL --connections N ...         one generator process; JSON result
//   chatpipe-loadgen report --scenario S FILES...              merge results, print figures
//   chatpipe-loadgen soak --report R --memory M                memory and latency over time, verdict
//   chatpipe-loadgen ramp --samples ramp.csv                  connections and memory over a capacity run
//   chatpipe-loadgen board --url URL --rate P ...              the pixel board: placements, subscribers, reads
//
// A process may hold at most `ulimit -Hn` files, so a scenario runs several `run` processes (bench/run
// does) and merges their results with `report`.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <sstream>

#include "bench/loadgen/board_run.h"
#include "bench/loadgen/hops.h"
#include "bench/loadgen/ramp.h"
#include "bench/loadgen/report.h"
#include "bench/loadgen/run.h"
#include "bench/loadgen/soak.h"

namespace {

using chatpipe::Status;

int Fail(const Status& s) {
  fprintf(stderr, "chatpipe-loadgen: %s\n", s.ToString().c_str());
  return 1;
}

// "1,2,3" -> ids; empty string -> none.
bool ParseIds(const std::string& text, std::vector<int64_t>* ids) {
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) {
    if (item.empty()) continue;
    try {
      size_t used = 0;
      ids->push_back(std::stoll(item, &used));
      if (used != item.size() || ids->back() <= 0) return false;
    } catch (...) {
      return false;
    }
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app("chatpipe-loadgen: WebSocket load generator for chatpipe ingress");
  app.require_subcommand(1);

  std::string setup_url = "http://127.0.0.1:8080", prefix = "lg";
  int room_count = 1;
  double setup_timeout = 60;
  CLI::App* setup = app.add_subcommand("setup", "create rooms, check the pipeline end to end, print the room ids");
  setup->add_option("--url", setup_url, "ingress base URL (http://IPV4:PORT)")->capture_default_str();
  setup->add_option("--rooms", room_count, "rooms to create")->capture_default_str();
  setup->add_option("--prefix", prefix, "room name prefix (a-z, 0-9; unique per run)")->capture_default_str();
  setup->add_option("--timeout", setup_timeout, "seconds to wait for the warm-up message (0: no pipeline check, for --short-circuit)")->capture_default_str();

  chatpipe::bench::RunOptions r;
  std::string rooms_text;
  CLI::App* run = app.add_subcommand("run", "one generator process");
  run->add_option("--url", r.url, "ingress base URL (http://IPV4:PORT), or https://IPV4:PORT for wss:// (through nginx)")
      ->capture_default_str();
  run->add_option("--ca-file", r.ca_file, "https: PEM file of the CA the server's certificate must chain to (default: the system's)");
  run->add_option("--token-url", r.token_url, "base URL (http://) that guest tokens are asked of (default: --url)");
  run->add_option("--connections", r.connections, "WebSocket clients of this process")->capture_default_str();
  run->add_option("--threads", r.threads, "event loops (one event_base each); senders that are a few among receivers get one more of their own")->capture_default_str();
  run->add_option("--peer", r.peer, "server kind: chatpipe, or a peer: ws, socketio (bench/peers/), centrifugo (Centrifugo itself)")
      ->check(CLI::IsMember({"chatpipe", "ws", "socketio", "centrifugo"}))
      ->capture_default_str();
  run->add_option("--source-ips", r.source_ips, "bind 127.0.0.2 .. 127.0.0.(1+N) round robin")->capture_default_str();
  run->add_option("--rooms", rooms_text, "room ids, comma-separated; member g (--conn-base + i) joins rooms[g % n]");
  run->add_option("--conn-base", r.conn_base, "number of this process's first member in the scenario")
      ->capture_default_str();
  run->add_option("--members", r.members, "members (connections less visitors) in the whole scenario (0: --conn-base + this process's)")
      ->capture_default_str();
  run->add_option("--senders", r.senders, "senders in the whole scenario, spread over its rooms; this process runs those among its members")
      ->capture_default_str();
  std::string visitor_rooms_text;
  run->add_option("--visitors", r.visitors, "the last N connections of this process come and go (see --churn)")
      ->capture_default_str();
  run->add_option("--visitor-rooms", visitor_rooms_text, "room ids the visitors join, comma-separated (no senders there)");
  run->add_option("--churn", r.churn, "visitors that leave and come back per second while sending, this process in all")
      ->capture_default_str();
  run->add_option("--rate", r.rate, "messages per second in the whole scenario; this process sends its senders' share")
      ->capture_default_str();
  run->add_option("--duration", r.duration_s, "seconds of sending")->capture_default_str();
  run->add_option("--drain", r.drain_s, "at most this many seconds after sending to wait for acks and deliveries")
      ->capture_default_str();
  run->add_option("--quiet", r.quiet_ms, "drain ends early after this many ms with every ack in and nothing arriving")
      ->capture_default_str();
  run->add_option("--window", r.window_s, "count sends, acks, deliveries and latency per window of this many seconds of the schedule (0: none)")
      ->capture_default_str();
  run->add_option("--text-bytes", r.text_bytes, "pad each message text to at least this size")->capture_default_str();
  run->add_option("--clients-per-user", r.clients_per_user, "connections per guest user (0: one user in all)")
      ->capture_default_str();
  run->add_option("--connect-concurrency", r.connect_concurrency, "handshakes in flight per thread")
      ->capture_default_str();
  run->add_option("--connect-rate", r.connect_rate,
                  "connections this process opens per second at most, spread over its threads (0: as fast as the handshakes go)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  run->add_option("--ready-timeout", r.ready_timeout_s, "seconds to connect and join before starting anyway")
      ->capture_default_str();
  run->add_option("--run", r.run, "run id stamped on every message (letters and digits)")->capture_default_str();
  run->add_option("--proc", r.proc, "this process's number in the scenario")->capture_default_str();
  run->add_option("--barrier", r.barrier_dir, "directory of the scenario's start/stop files (see bench/README.md)");
  run->add_option("--barrier-timeout", r.barrier_timeout_s, "seconds to wait at a barrier")->capture_default_str();
  run->add_option("--out", r.out, "write the JSON result here (default: stdout)");

  chatpipe::bench::ReportOptions rep;
  CLI::App* report = app.add_subcommand("report", "merge generator results and print the figures");
  report->add_option("--scenario", rep.scenario, "capacity, fanout, ingest or soak (chooses the targets shown; soak has none)")->required();
  // One value per occurrence, so that the result files after the last option stay positional.
  report->add_option("--note", rep.notes, "condition key=value to print and record (repeatable)")
      ->allow_extra_args(false);
  report->add_option("--server", rep.server, "server-side figure key=number (repeatable; see bench/README.md)")
      ->allow_extra_args(false);
  report->add_option("--cpu", rep.cpu, "process=percent of a core during the window (repeatable)")
      ->allow_extra_args(false);
  report->add_option("--out", rep.out, "write the merged JSON here, and report.md and report.svg beside it");
  report->add_option("files", rep.files, "generator result files")->required();

  chatpipe::bench::SoakOptions soak_options;
  CLI::App* soak = app.add_subcommand(
      "soak", "memory and latency over time of a soak run; exit 3 when its checks did not hold (bench/README.md)");
  soak->add_option("--report", soak_options.report, "report.json of `report` (generators run with --window)")
      ->required();
  soak->add_option("--memory", soak_options.memory, "memory samples: unix_ms,process,chatpipe|service,metric,value")
      ->required();
  soak->add_option("--flat-percent", soak_options.rule.percent,
                   "memory is flat when its fitted line rises at most this % of its mean over the second half...")
      ->check(CLI::Range(0.0, 100.0))
      ->capture_default_str();
  soak->add_option("--flat-floor-kib", soak_options.rule.floor_kib, "...or at most this many KiB, whichever is more")
      ->check(CLI::Range(0.0, 1048576.0))
      ->capture_default_str();

  chatpipe::bench::RampOptions ramp_options;
  CLI::App* ramp = app.add_subcommand("ramp", "connections and memory over time of a capacity run (ramp-*.svg)");
  ramp->add_option("--samples", ramp_options.samples, "ramp.csv: unix_ms,process,kind,metric,value (bench/loadgen/ramp.h)")
      ->required();
  ramp->add_option("--mark", ramp_options.marks, "UNIX_MS=label: a dashed mark (repeatable)")->allow_extra_args(false);
  ramp->add_option("--title", ramp_options.title, "a line under the plot's title (repeatable)")->allow_extra_args(false);

  chatpipe::bench::HopsOptions hops_options;
  CLI::App* hops = app.add_subcommand("hops", "where a run's time went: the per-hop histograms of its processes' /metrics");
  hops->add_option("--dir", hops_options.dir, "PROCESS.start.txt and PROCESS.end.txt /metrics scrapes")->required();
  hops->add_option("--report", hops_options.report, "the run's report.json, for the end-to-end figures");
  hops->add_option("--out", hops_options.out, "write hops.md and hops.json here");

  chatpipe::bench::BoardOptions board_options;
  CLI::App* board = app.add_subcommand(
      "board", "the pixel board: placements per second to subscribers, then GET /api/board per second (bench/README.md)");
  board->add_option("--url", board_options.url, "ingress base URL (http://IPV4:PORT)")->capture_default_str();
  board->add_option("--connections", board_options.connections,
                    "connections placing pixels (HTTP keep-alive or WebSockets, see --via), one guest user each")
      ->capture_default_str();
  board->add_option("--via", board_options.via,
                    "how placements are sent: http (PUT /api/board/pixels) or ws (a {\"type\":\"place\"} frame on each "
                    "connection's own WebSocket); one at a time per connection either way")
      ->check(CLI::IsMember({"http", "ws"}))
      ->capture_default_str();
  board->add_option("--threads", board_options.threads, "event loops placing (and reading); the subscribers have one more")
      ->capture_default_str();
  board->add_option("--subscribers", board_options.subscribers, "WebSockets subscribed to the board")->capture_default_str();
  board->add_option("--rate", board_options.rate, "placements per second offered, in all (open loop)")->capture_default_str();
  board->add_option("--duration", board_options.duration_s, "seconds of placing")->capture_default_str();
  board->add_option("--drain", board_options.drain_s, "at most this many seconds after the window for answers and frames")
      ->capture_default_str();
  board->add_option("--read-connections", board_options.read_connections, "keep-alive connections reading GET /api/board")
      ->capture_default_str();
  board->add_option("--read-duration", board_options.read_duration_s, "seconds of each read window (full, If-None-Match); 0: none")
      ->capture_default_str();
  board->add_option("--source-ips", board_options.source_ips, "bind 127.0.0.2 .. 127.0.0.(1+N) round robin")->capture_default_str();
  board->add_option("--note", board_options.notes, "condition key=value to print and record (repeatable)")->allow_extra_args(false);
  board->add_option("--cpu", board_options.cpu_groups, "name=PID,PID: processes whose CPU is reported (repeatable)")
      ->allow_extra_args(false);
  board->add_option("--out", board_options.out, "write the figures as JSON here");

  CLI11_PARSE(app, argc, argv);

  if (*board) {
    Status s = chatpipe::bench::RunBoard(board_options);
    return s.ok() ? 0 : Fail(s);
  }

  if (*setup) {
    auto ids = chatpipe::bench::SetUpRooms(setup_url, room_count, prefix, setup_timeout);
    if (!ids.ok()) return Fail(ids.status());
    std::string line;
    for (int64_t id : *ids) line += (line.empty() ? "" : ",") + std::to_string(id);
    printf("%s\n", line.c_str());
    return 0;
  }
  if (*run) {
    if (!ParseIds(rooms_text, &r.rooms) || !ParseIds(visitor_rooms_text, &r.visitor_rooms))
      return Fail(Status::InvalidArgument("bad_rooms", "--rooms and --visitor-rooms must be positive ids"));
    Status s = chatpipe::bench::RunGenerator(r);
    return s.ok() ? 0 : Fail(s);
  }
  if (*ramp) {
    Status s = chatpipe::bench::PlotRamp(ramp_options);
    return s.ok() ? 0 : Fail(s);
  }
  if (*hops) {
    Status s = chatpipe::bench::PrintHops(hops_options);
    return s.ok() ? 0 : Fail(s);
  }
  if (*soak) {
    auto held = chatpipe::bench::Soak(soak_options);
    if (!held.ok()) return Fail(held.status());
    return *held ? 0 : 3;
  }
  Status s = chatpipe::bench::Report(rep);
  return s.ok() ? 0 : Fail(s);
}
