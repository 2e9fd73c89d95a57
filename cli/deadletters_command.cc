#include "cli/deadletters_command.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <spdlog/spdlog.h>

#include <iostream>

#include "common/config.h"
#include "common/utf8.h"

namespace chatpipe {
namespace {

void WriteText(rapidjson::Writer<rapidjson::StringBuffer>& w, const std::string& s) {
  std::string text = ReplaceInvalidUtf8(s);
  w.String(text.data(), static_cast<rapidjson::SizeType>(text.size()));
}

}  // namespace

std::string DeadLetterJson(const KafkaMessage& m) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  w.StartObject();
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

void AddDeadLettersCommand(CLI::App& app) {
  struct Options {
    CommonConfig common;
    int64_t last = 0;
  };
  auto o = std::make_shared<Options>();
  CLI::App* cmd = app.add_subcommand("deadletters", "print the dead letters (chat.deadletter), one JSON object a line");
  AddCommonOptions(cmd, &o->common);
  cmd->add_option("--last", o->last, "only the newest N (0: all)")->capture_default_str();
  cmd->callback([o] {
    ApplyLogLevel(o->common);
    auto letters = ReadTopic(o->common.kafka_brokers, o->common.Topic(kDeadLetterTopic), o->last,
                             std::chrono::seconds(30));
    if (!letters.ok()) {
      spdlog::error("deadletters: {}", letters.status().ToString());
      throw CLI::RuntimeError(1);
    }
    for (const auto& m : *letters) std::cout << DeadLetterJson(m) << '\n';
    std::cout.flush();
  });
}

}  // namespace chatpipe
