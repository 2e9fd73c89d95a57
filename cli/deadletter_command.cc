#include "cli/deadletter_command.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <charconv>
#include <future>
#include <iostream>
#include <optional>
#include <set>

#include "common/utf8.h"
#include "storage/pg.h"

namespace chatpipe {
namespace {

constexpr auto kTimeout = std::chrono::seconds(30);

void WriteText(rapidjson::Writer<rapidjson::StringBuffer>& w, const std::string& s) {
  std::string text = ReplaceInvalidUtf8(s);
  w.String(text.data(), static_cast<rapidjson::SizeType>(text.size()));
}

// The headers DeadLetters adds: a retry leaves them out.
bool IsDeadLetterHeader(const std::string& name) {
  return name == "reason" || name == "source" || name == "topic" || name == "partition" || name == "offset" ||
         name == "truncated_from";
}

std::string Header(const KafkaMessage& m, const std::string& name) {
  for (const auto& [k, v] : m.headers)
    if (k == name) return v;
  return "";
}

// A topic's name as ids show it: without the namespace.
std::string ShortTopic(const CommonConfig& config, const std::string& topic) {
  const std::string prefix = config.Topic("");
  return topic.compare(0, prefix.size(), prefix) == 0 ? topic.substr(prefix.size()) : topic;
}

// The partition and offset of the dead-letter topic that `id` names; none when it is not such an id
// exactly as DeadLetterId writes it.
std::optional<std::pair<int32_t, int64_t>> ParseDeadLetterId(const CommonConfig& config, const std::string& id) {
  const std::string prefix = ShortTopic(config, config.Topic(kDeadLetterTopic)) + "/";
  if (id.compare(0, prefix.size(), prefix) != 0) return std::nullopt;
  const char* end = id.data() + id.size();
  int32_t partition = 0;
  int64_t offset = 0;
  auto [slash, bad_partition] = std::from_chars(id.data() + prefix.size(), end, partition);
  if (bad_partition != std::errc() || slash == end) return std::nullopt;
  auto [stop, bad_offset] = std::from_chars(slash + 1, end, offset);
  if (bad_offset != std::errc() || id != prefix + std::to_string(partition) + "/" + std::to_string(offset))
    return std::nullopt;
  return std::pair{partition, offset};
}

Status NoDeadLetter(const std::string& id) {
  return Status::NotFound("no_dead_letter", "no dead letter " + id + " (ids: `deadletter list`)");
}

// Produces one message and waits for the broker's report.
Status ProduceAndWait(KafkaProducer& producer, const std::string& topic, const KafkaMessage& m,
                      const std::vector<std::pair<std::string, std::string>>& headers) {
  auto report = std::make_shared<std::promise<Status>>();
  std::future<Status> done = report->get_future();
  producer.Produce(topic, m.key, m.payload, [report](Status s) { report->set_value(std::move(s)); }, headers);
  return done.get();  // the producer reports within message.timeout.ms
}

// Puts one dead letter back, recording it in the transaction that waits for the report.
Status RetryOne(const CommonConfig& config, PgConn& pg, KafkaProducer& producer, const KafkaMessage& m,
                std::ostream& out) {
  const std::string id = DeadLetterId(config, m);
  const std::string source = Header(m, "topic");
  if (source.empty()) {
    out << id << ": not retried: it names no source topic (reason: " << Header(m, "reason") << ")\n";
    return Status::Ok();
  }
  if (const std::string cut = Header(m, "truncated_from"); !cut.empty()) {
    out << id << ": not retried: it was cut to fit the dead-letter topic (key and payload were " << cut
        << " bytes); find it on " << source << " at partition " << Header(m, "partition") << ", offset "
        << Header(m, "offset") << "\n";
    return Status::Ok();
  }
  if (Status s = pg.ExecScript("BEGIN"); !s.ok()) return s;
  auto r = pg.Exec(
      "INSERT INTO dead_letter_retries (topic, part, \"offset\") VALUES ($1, $2, $3) "
      "ON CONFLICT DO NOTHING RETURNING 1",
      {m.topic, std::to_string(m.partition), std::to_string(m.offset)});
  if (!r.ok() || r->rows() == 0) {
    (void)pg.ExecScript("ROLLBACK");
    if (!r.ok()) return r.status();
    auto when = pg.Exec("SELECT retried_at::text FROM dead_letter_retries WHERE topic = $1 AND part = $2 AND \"offset\" = $3",
                        {m.topic, std::to_string(m.partition), std::to_string(m.offset)});
    out << id << ": already retried" << (when.ok() && when->rows() ? " at " + std::string(when->Text(0, 0)) : "")
        << ", not again\n";
    return Status::Ok();
  }
  std::vector<std::pair<std::string, std::string>> headers;
  for (const auto& h : m.headers)
    if (!IsDeadLetterHeader(h.first)) headers.push_back(h);
  if (Status s = ProduceAndWait(producer, source, m, headers); !s.ok()) {
    (void)pg.ExecScript("ROLLBACK");
    return s;
  }
  if (Status s = pg.ExecScript("COMMIT"); !s.ok()) return s;
  out << id << ": put back on " << source << " (was dead-lettered by " << Header(m, "source") << ": "
      << Header(m, "reason") << ")\n";
  return Status::Ok();
}

}  // namespace

std::string DeadLetterId(const CommonConfig& config, const KafkaMessage& m) {
  return ShortTopic(config, m.topic) + "/" + std::to_string(m.partition) + "/" + std::to_string(m.offset);
}

std::string DeadLetterJson(const CommonConfig& config, const KafkaMessage& m) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  w.StartObject();
  w.Key("id");
  WriteText(w, DeadLetterId(config, m));
  w.Key("partition");
  w.Int(m.partition);
  w.Key("offset");
  w.Int64(m.offset);
  w.Key("ts");
  w.Int64(m.timestamp_ms);
  w.Key("key");
  WriteText(w, m.key);
  w.Key("headers");
  w.StartObject();
  for (const auto& [name, value] : m.headers) {
    WriteText(w, name);
    WriteText(w, value);
  }
  w.EndObject();
  w.Key("payload");
  WriteText(w, m.payload);
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize());
}

Result<ReadOptions> DeadLetterRange(const CommonConfig& config, const std::vector<std::string>& ids,
                                    const std::vector<Watermark>& held) {
  ReadOptions options;
  for (const std::string& id : std::set<std::string>(ids.begin(), ids.end())) {
    auto at = ParseDeadLetterId(config, id);
    if (!at || at->first < 0 || static_cast<size_t>(at->first) >= held.size()) return NoDeadLetter(id);
    const Watermark& marks = held[static_cast<size_t>(at->first)];
    if (at->second < marks.low || at->second >= marks.high) return NoDeadLetter(id);
    OffsetRange& range = options.partitions.try_emplace(at->first, OffsetRange{at->second, at->second}).first->second;
    range.begin = std::min(range.begin, at->second);
    range.end = std::max(range.end, at->second + 1);
  }
  return options;
}

Status RetryDeadLetters(const CommonConfig& config, const std::vector<std::string>& ids, std::ostream& out) {
  const std::string topic = config.Topic(kDeadLetterTopic);
  ReadOptions options;
  if (!ids.empty()) {
    // The ids are checked against the topic's watermarks first, so that a wrong one fails the command
    // before anything is put back.
    auto admin = KafkaAdmin::Create(config.kafka_brokers, kTimeout);
    if (!admin.ok()) return admin.status();
    auto held = (*admin)->Watermarks(topic);
    if (!held.ok()) return held.status();
    auto range = DeadLetterRange(config, ids, *held);
    if (!range.ok()) return range.status();
    options = *range;
  }
  PgConn pg(config.pg_conninfo);
  auto producer = KafkaProducer::Create(config.kafka_brokers);
  if (!producer.ok()) return producer.status();
  std::set<std::string> wanted(ids.begin(), ids.end());
  Status s = ForEachRecord(config.kafka_brokers, topic, options, [&](const KafkaMessage& m) {
    if (!ids.empty() && !wanted.erase(DeadLetterId(config, m))) return Status::Ok();
    Status one = RetryOne(config, pg, **producer, m, out);
    out.flush();  // an operator watching, or a retry killed midway, sees every letter already put back
    return one;
  });
  if (!s.ok()) return s;
  if (!wanted.empty()) return NoDeadLetter(*wanted.begin());  // gone to retention since the check
  return Status::Ok();
}

void AddDeadLetterCommand(CLI::App& app) {
  CLI::App* cmd = app.add_subcommand("deadletter", "the dead letters (chat.deadletter): list them, put them back");
  cmd->require_subcommand(1);

  struct ListOptions {
    CommonConfig common;
    int64_t last = 0;
  };
  auto list = std::make_shared<ListOptions>();
  CLI::App* l = cmd->add_subcommand("list", "print the dead letters, one JSON object a line, oldest first");
  AddCommonOptions(l, &list->common);
  l->add_option("--last", list->last, "only the newest N (0: all)")->capture_default_str();
  l->callback([list] {
    ApplyLogLevel(list->common);
    ReadOptions options;
    options.last = list->last;
    Status s = ForEachRecord(list->common.kafka_brokers, list->common.Topic(kDeadLetterTopic), options,
                             [&](const KafkaMessage& m) {
                               std::cout << DeadLetterJson(list->common, m) << '\n';
                               return Status::Ok();
                             });
    std::cout.flush();
    if (!s.ok()) {
      spdlog::error("deadletter list: {}", s.ToString());
      throw CLI::RuntimeError(1);
    }
  });

  struct RetryOptions {
    CommonConfig common;
    std::vector<std::string> ids;
  };
  auto retry = std::make_shared<RetryOptions>();
  CLI::App* r = cmd->add_subcommand(
      "retry", "produce dead letters back to the topic they came from, each once (once their cause is fixed)");
  AddCommonOptions(r, &retry->common);
  r->add_option("--id", retry->ids, "the dead letters to put back (ids from `deadletter list`; default: all)");
  r->callback([retry] {
    ApplyLogLevel(retry->common);
    Status s = RetryDeadLetters(retry->common, retry->ids, std::cout);
    std::cout.flush();
    if (!s.ok()) {
      spdlog::error("deadletter retry: {}", s.ToString());
      throw CLI::RuntimeError(1);
    }
  });
}

}  // namespace chatpipe
