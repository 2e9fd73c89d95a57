#include "workers/mail/dead_letters.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <spdlog/spdlog.h>

#include <future>
#include <thread>

#include "common/metrics.h"

namespace chatpipe::mail {
namespace {

Metric& dead_letters = Counter("chatpipe_mail_dead_letters_total", "notifications sent to the dead-letter topic");

}  // namespace

std::string EncodeDeadLetter(const DeadLetter& d) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  auto str = [&w](const std::string& s) { w.String(s.data(), static_cast<rapidjson::SizeType>(s.size())); };
  w.StartObject();
  w.Key("source");
  w.String("mail");
  w.Key("code");
  str(d.code);
  w.Key("reason");
  str(d.reason);
  w.Key("outbox_id");
  w.Int64(d.outbox_id);
  w.Key("user_id");
  w.Int64(d.user_id);
  w.Key("to");
  str(d.to);
  w.Key("message_id");
  str(d.message_id);
  w.Key("mention_ids");
  w.StartArray();
  for (int64_t id : d.mention_ids) w.Int64(id);
  w.EndArray();
  w.Key("mentions");
  w.StartArray();
  for (const auto& e : d.events) w.RawValue(e.data(), e.size(), rapidjson::kObjectType);
  w.EndArray();
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize());
}

Status ProduceDeadLetter(KafkaProducer* producer, const std::string& topic, const std::string& key,
                         const std::string& payload, const std::string& reason, const std::atomic<bool>& stop) {
  auto backoff = std::chrono::milliseconds(100);
  for (;;) {
    auto delivered = std::make_shared<std::promise<Status>>();
    auto result = delivered->get_future();
    producer->Produce(topic, key, payload, [delivered](Status s) { delivered->set_value(s); },
                      {{"reason", reason}, {"source", "mail"}});
    Status s = result.get();
    if (s.ok()) {
      dead_letters.Add();
      return s;
    }
    spdlog::warn("mail: dead letter not delivered, retrying: {}", s.ToString());
    if (stop) return s;
    std::this_thread::sleep_for(backoff);
    backoff = std::min(backoff * 2, std::chrono::milliseconds(2000));
  }
}

}  // namespace chatpipe::mail
