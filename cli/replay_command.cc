#include "cli/replay_command.h"

#include <rapidjson/document.h>
#include <spdlog/spdlog.h>

#include <charconv>
#include <cstdio>

#include "cli/deadletter_command.h"
#include "cli/replay_fallback.h"
#include "cli/replay_filter.h"
#include "cli/replay_format.h"
#include "cli/replay_output.h"
#include "cli/replay_progress.h"
#include "common/message_id.h"
#include "common/rfc3339.h"
#include "common/signals.h"

namespace chatpipe {
namespace {

constexpr auto kKafkaTimeout = std::chrono::seconds(30);

// A dead letter as `chatpipe deadletter list` shows it: the headers say why and where from.
std::string DeadLetterEvent(const CommonConfig& config, const rd_kafka_message_t& m, const std::string& topic) {
  KafkaMessage km;
  km.topic = topic;
  km.partition = m.partition;
  km.offset = m.offset;
  km.timestamp_ms = rd_kafka_message_timestamp(&m, nullptr);
  if (m.key) km.key.assign(static_cast<const char*>(m.key), m.key_len);
  if (m.payload) km.payload.assign(static_cast<const char*>(m.payload), m.len);
  rd_kafka_headers_t* hdrs = nullptr;
  if (!rd_kafka_message_headers(&m, &hdrs)) {
    const char* name;
    const void* value;
    size_t size;
    for (size_t i = 0; !rd_kafka_header_get_all(hdrs, i, &name, &value, &size); ++i)
      km.headers.emplace_back(name, std::string(static_cast<const char*>(value), size));
  }
  return DeadLetterJson(config, km);
}

// The "id" of a chat event.
std::optional<uint64_t> EventId(std::string_view json) {
  rapidjson::Document doc;
  doc.Parse(json.data(), json.size());
  if (doc.HasParseError() || !doc.IsObject()) return std::nullopt;
  auto it = doc.FindMember("id");
  if (it == doc.MemberEnd() || !it->value.IsString()) return std::nullopt;
  uint64_t id = 0;
  const char* s = it->value.GetString();
  auto [end, ec] = std::from_chars(s, s + it->value.GetStringLength(), id);
  if (ec != std::errc() || end != s + it->value.GetStringLength()) return std::nullopt;
  return id;
}

std::string_view View(const void* p, size_t n) {
  return p ? std::string_view(static_cast<const char*>(p), n) : std::string_view();
}

// Per partition that retention cut: the id of the first event it keeps (none when it keeps nothing).
Result<DbFallback> PlanFallback(TopicReplayer& replayer, const ReplayPlan& plan, const RangeBound& from,
                                const std::optional<RangeBound>& to, int64_t started_ms) {
  DbFallback part;
  part.from_ms = from.time_ms;
  part.to_ms = to && to->kind == RangeBound::Kind::kTime ? to->time_ms : started_ms;
  for (const auto& p : plan.partitions) {
    if (!p.before_retention) continue;
    std::optional<uint64_t> cut;
    if (p.low < p.high) {
      auto first = replayer.ReadPayloadAt(p.partition, p.low, kKafkaTimeout);
      if (!first.ok()) return first.status();
      cut = EventId(*first);
      if (!cut)
        return Status::InvalidArgument("bad_event", "partition " + std::to_string(p.partition) + " offset " +
                                                        std::to_string(p.low) + " holds no chat event with an id");
    }
    part.cuts[p.partition] = cut;
  }
  return part;
}

}  // namespace

TopicNames ResolveTopic(const CommonConfig& common, const std::string& topic) {
  if (!common.ns.empty() && topic.rfind(common.ns + ".", 0) == 0) return {topic, topic.substr(common.ns.size() + 1)};
  return {common.Topic(topic), topic};
}

Result<ReplaySummary> RunReplay(const ReplayOptions& o, const std::atomic<bool>& stop) {
  const auto started = std::chrono::steady_clock::now();
  const int64_t started_ms = static_cast<int64_t>(NowMs());
  if (o.format != "jsonl" && o.format != "csv")
    return Status::InvalidArgument("bad_format", "--format is jsonl or csv, not " + o.format);
  auto from = ParseRangeBound(o.from);
  if (!from.ok()) return from.status();
  std::optional<RangeBound> to;
  if (!o.to.empty()) {
    auto t = ParseRangeBound(o.to);
    if (!t.ok()) return t.status();
    if (Status s = CheckRange(*from, *t); !s.ok()) return s;
    to = *t;
  }
  const TopicNames names = ResolveTopic(o.common, o.topic);
  auto replayer = TopicReplayer::Create(o.common.kafka_brokers, names.full);
  if (!replayer.ok()) return replayer.status();
  auto plan = (*replayer)->Plan(*from, to, kKafkaTimeout);
  if (!plan.ok()) return plan.status();
  ReplaySummary summary;
  summary.plan = std::move(*plan);

  std::optional<DbFallback> db_part;
  for (const auto& p : summary.plan.partitions) {
    if (!p.before_retention) continue;
    spdlog::warn("replay: partition {} keeps offsets from {} on (older records are gone); the range from {} may "
                 "reach before them{}",
                 p.partition, p.low, FormatRfc3339(from->time_ms),
                 o.fallback_db ? ": reading that part from PostgreSQL" : "; --fallback-db reads it from PostgreSQL");
  }
  if (o.fallback_db) {
    if (names.logical != kMessagesTopic)
      return Status::InvalidArgument("no_fallback", "--fallback-db rebuilds chat.messages only, not " + names.logical);
    if (from->kind != RangeBound::Kind::kTime)
      spdlog::warn("replay: --fallback-db reads from PostgreSQL only for a --from time (it has no offsets)");
    auto part = PlanFallback(**replayer, summary.plan, *from, to, started_ms);
    if (!part.ok()) return part.status();
    part->rooms = o.rooms;
    if (!part->cuts.empty()) db_part = std::move(*part);
  }

  auto writer = RecordWriter::Open(o.output);
  if (!writer.ok()) return writer.status();
  EventFormatter formatter(o.format == "csv" ? ReplayFormat::kCsv : ReplayFormat::kJsonl,
                           KnownCsvColumns(names.logical));
  (*writer)->buffer() += formatter.Start();
  const ReplayFilter filter(o.rooms, o.users);
  const bool key_is_room = names.logical == kMessagesTopic;
  const bool dead_letters = names.logical == kDeadLetterTopic;
  Status write_status = Status::Ok();
  // Filters look at `inspect` (the event itself; a dead letter's payload); `event` is what is written.
  auto emit = [&](std::string_view key, std::string_view event, std::string_view inspect) {
    if (!filter.Keep(key, inspect, key_is_room)) return false;
    if (!formatter.Append(event, &(*writer)->buffer())) {
      ++summary.unwritable;
      return false;
    }
    if (write_status.ok()) write_status = (*writer)->Written();
    return true;
  };

  if (db_part) {
    PgConn pg(o.common.pg_conninfo);
    const TopicReplayer& r = **replayer;
    const int32_t partitions = summary.plan.partition_count;
    db_part->partition_of = [&r, partitions](int64_t room) { return r.PartitionOf(std::to_string(room), partitions); };
    auto n = ReplayFromDb(
        pg, *db_part,
        [&](int64_t room, std::string_view event) {
          if (emit(std::to_string(room), event, event)) ++summary.from_db;
        },
        stop);
    if (!n.ok()) return n.status();
  }

  std::optional<ReplayProgress> progress;
  if (o.progress) progress.emplace(summary.plan.Total());
  std::atomic<bool> halt{stop.load()};  // a stop request, or the output failing
  Status run = (*replayer)->Run(
      &summary.plan,
      [&](const rd_kafka_message_t& m) {
        std::string_view key = View(m.key, m.key_len), payload = View(m.payload, m.len);
        bool written = dead_letters ? emit(key, DeadLetterEvent(o.common, m, names.full), payload) : emit(key, payload, payload);
        if (written) ++summary.events;
      },
      [&] {
        if (stop.load(std::memory_order_relaxed) || !write_status.ok()) halt = true;
        if (progress) progress->Update(summary.plan.Done(), summary.events + summary.from_db);
      },
      halt);
  if (progress) progress->Finish();
  // A failed replay leaves the output file as it was; what it read stays in PATH.partial.
  auto failed = [&](Status s) {
    if (!(*writer)->partial_path().empty()) spdlog::warn("replay: what was read is in {}", (*writer)->partial_path());
    return s;
  };
  if (!write_status.ok()) return failed(write_status);
  if (!run.ok()) return failed(run);
  if (Status finished = (*writer)->Finish(); !finished.ok()) return failed(finished);
  if (formatter.unplaced_fields() > 0)
    spdlog::warn("replay: {} fields had no CSV column and were left out", formatter.unplaced_fields());
  // A stop during the PostgreSQL part leaves the file short even when the Kafka part is empty.
  summary.stopped = summary.plan.Done() < summary.plan.Total() || (db_part && stop.load());
  summary.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return summary;
}

void AddReplayCommand(CLI::App& app) {
  auto o = std::make_shared<ReplayOptions>();
  CLI::App* cmd = app.add_subcommand(
      "replay", "write a range of a topic as JSON Lines or CSV, without joining a consumer group (docs/replay.md)");
  AddCommonOptions(cmd, &o->common);
  cmd->add_option("--topic", o->topic, "chat.messages, chat.notify, chat.deadletter, ... (the namespace is added)")
      ->required();
  cmd->add_option("--from", o->from,
                  "first event: earliest, latest, an RFC 3339 time (2026-12-03T10:00:00Z) or partition:offset,... "
                  "(only those partitions)")
      ->capture_default_str();
  cmd->add_option("--to", o->to,
                  "end, excluded: latest, an RFC 3339 time or partition:offset,... (default: the ends at start)");
  cmd->add_option("--room", o->rooms, "only this room (repeatable)")->delimiter(',');
  cmd->add_option("--user", o->users, "only by this user name (repeatable)")->delimiter(',');
  cmd->add_option("--format", o->format, "jsonl (the events as in the topic) or csv (docs/replay.md: columns)")
      ->check(CLI::IsMember({"jsonl", "csv"}))
      ->capture_default_str();
  cmd->add_option("--output", o->output, "file to write (default: stdout)");
  cmd->add_flag("--fallback-db", o->fallback_db,
                "read the part of a chat.messages range that retention removed from PostgreSQL (--pg)");
  cmd->callback([o] {
    ApplyLogLevel(o->common);
    const std::atomic<bool>& stop = StopRequested();
    auto summary = RunReplay(*o, stop);
    if (!summary.ok()) {
      spdlog::error("replay: {}", summary.status().ToString());
      throw CLI::RuntimeError(1);
    }
    const ReplaySummary& s = *summary;
    std::fprintf(stderr, "replay: %lld events written (%lld of them from PostgreSQL) in %.1f s, %.0f events/s\n",
                 static_cast<long long>(s.events + s.from_db), static_cast<long long>(s.from_db), s.seconds,
                 s.seconds > 0 ? (s.events + s.from_db) / s.seconds : 0.0);
    if (s.unwritable > 0)
      std::fprintf(stderr, "replay: %lld events left out: not writable whole (not one JSON line / not a JSON object)\n",
                   static_cast<long long>(s.unwritable));
    if (!s.stopped) return;
    std::fprintf(stderr, "replay: stopped before the end of the range; how far each partition got:\n");
    for (const auto& p : s.plan.partitions)
      std::fprintf(stderr, "replay:   partition %d: offsets %lld..%lld done of %lld..%lld\n", p.partition,
                   static_cast<long long>(p.start), static_cast<long long>(p.next - 1),
                   static_cast<long long>(p.start), static_cast<long long>(p.end - 1));
    throw CLI::RuntimeError(130);
  });
}

}  // namespace chatpipe
