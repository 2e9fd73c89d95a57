#include "workers/speech/speech_worker.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <map>
#include <set>
#include <unordered_map>

#include "common/metrics.h"
#include "storage/redis_keys.h"

namespace chatpipe {
namespace {

Metric& synthesized = Counter("chatpipe_speech_synthesized_total", "messages synthesised and stored");
Metric& missing = Counter("chatpipe_speech_missing_total",
                          "requests skipped: no such message, or not in the request's room");
Metric& unspeakable = Counter("chatpipe_speech_unspeakable_total",
                              "messages skipped: nothing to say once read, or longer than --max-text-bytes");
Metric& failed = Counter("chatpipe_speech_failed_total", "syntheses that failed in espeak-ng or the encoder");
Metric& frames = Counter("chatpipe_speech_frames_total", "speech frames published to askers");
Metric& audio_ms = Counter("chatpipe_speech_audio_ms_total", "milliseconds of speech synthesised");
LatencyHistogram& synthesis = Histogram("chatpipe_speech_synthesis_seconds", "one message's synthesis and encoding");

// A PostgreSQL array literal of ids, for $n::bigint[].
std::string IdArray(const std::map<uint64_t, size_t>& ids) {
  std::string out = "{";
  for (const auto& [id, index] : ids) {
    if (out.size() > 1) out += ',';
    out += std::to_string(id);
  }
  return out + "}";
}

// The language spoken: the tag's, when it is one with a voice of its own; else English.
std::string SpokenLang(std::string_view lang) {
  return lang == "es" || lang == "pt" ? std::string(lang) : std::string("en");
}

}  // namespace

Result<SpeechRequest> DecodeSpeechEvent(const KafkaMessage& m) { return DecodeSpeechRequest(m.payload); }

struct SpeechWorker::Item {
  uint64_t message = 0;
  bool found = false;
  int64_t room = 0;  // the message's own
  std::string body;
  std::string lang;  // the tag worker's, else empty until Speak
  bool spoken = false;  // has a speech row, or audio made in this batch
  bool made = false;    // made in this batch: Record inserts it
  std::string sha256;
  int64_t duration_ms = 0;
  int64_t bytes = 0;
};

SpeechWorker::SpeechWorker(CommonConfig config, ObjectStore& store, const Tagger& tagger, SpeechWorkerOptions options)
    : config_(std::move(config)),
      store_(store),
      tagger_(tagger),
      options_(std::move(options)),
      pg_(config_.pg_conninfo),
      redis_(config_.RedisShards()),
      loop_(config_,
            {.worker = "speech",
             .group = options_.group,
             .topics = {kSpeechTopic},
             .batch_max = options_.batch,
             .range = options_.range},
            DecodeSpeechEvent, [this](const std::vector<SpeechRequest>& requests) { return Apply(requests); }) {}

Status SpeechWorker::Start() { return loop_.Start(); }

void SpeechWorker::Run(const std::atomic<bool>& stop) { loop_.Run(stop); }

Status SpeechWorker::Apply(const std::vector<SpeechRequest>& requests) {
  std::set<uint64_t> seen;
  std::vector<Item> items;  // one per distinct message
  for (const auto& r : requests) {
    if (!seen.insert(r.message).second) continue;
    items.emplace_back();
    items.back().message = r.message;
  }
  if (items.empty()) return Status::Ok();
  if (Status s = Load(items); !s.ok()) return s;
  Status synth_failure;
  if (Status s = Speak(items, &synth_failure); !s.ok()) return s;
  if (Status s = Record(items); !s.ok()) return s;
  if (Status s = Publish(requests, items); !s.ok()) return s;
  // What was made is recorded and told; the loop now redoes the batch one event at a time, which
  // dead-letters the failing event and only re-tells the others.
  return synth_failure;
}

// Step 1: the messages' text, language and speech rows.
Status SpeechWorker::Load(std::vector<Item>& items) {
  std::map<uint64_t, size_t> index;
  for (size_t i = 0; i < items.size(); ++i) index[items[i].message] = i;
  auto r = pg_.Exec(
      "SELECT m.id, m.room_id, m.body, t.tags->>'lang', s.sha256, s.duration_ms "
      "FROM messages m LEFT JOIN message_tags t ON t.message_id = m.id "
      "LEFT JOIN speech s ON s.message_id = m.id WHERE m.id = ANY($1::bigint[])",
      {IdArray(index)});
  if (!r.ok()) return r.status();
  for (int row = 0; row < r->rows(); ++row) {
    Item& item = items[index[static_cast<uint64_t>(r->Int(row, 0))]];
    item.found = true;
    item.room = r->Int(row, 1);
    if (!r->IsNull(row, 4)) {
      item.spoken = true;
      item.sha256 = std::string(r->Text(row, 4));
      item.duration_ms = r->Int(row, 5);
      continue;
    }
    item.body = std::string(r->Text(row, 2));
    if (!r->IsNull(row, 3)) item.lang = std::string(r->Text(row, 3));
  }
  for (const auto& item : items)
    if (!item.found) spdlog::warn("speech: message {} does not exist; its requests are skipped", item.message);
  return Status::Ok();
}

// Step 2: synthesises what has no speech yet and stores the audio. The synthesiser's first failure goes
// to *synth_failure and the rest is still done; the store's failure is returned at once.
Status SpeechWorker::Speak(std::vector<Item>& items, Status* synth_failure) {
  for (auto& item : items) {
    if (!item.found || item.spoken) continue;
    const std::string lang = SpokenLang(item.lang.empty() ? tagger_.Analyze(item.body).lang : item.lang);
    const auto start = std::chrono::steady_clock::now();
    auto audio = Synthesize(item.body, lang, options_.limits);
    synthesis.Observe(std::chrono::steady_clock::now() - start);
    if (!audio.ok()) {
      const StatusCode code = audio.status().code();
      if (code == StatusCode::kInvalidArgument || code == StatusCode::kTooLarge) {
        spdlog::warn("speech: message {} is not spoken: {}", item.message, audio.status().ToString());
        unspeakable.Add();
      } else {
        spdlog::error("speech: message {}: {}", item.message, audio.status().ToString());
        failed.Add();
        if (synth_failure->ok()) *synth_failure = audio.status();
      }
      continue;
    }
    const std::string key = ObjectKey(audio->ogg);
    if (Status s = store_.Put(key, audio->ogg, "audio/ogg"); !s.ok()) return s;
    item.lang = lang;
    item.spoken = item.made = true;
    item.sha256 = key;
    item.duration_ms = audio->duration_ms;
    item.bytes = static_cast<int64_t>(audio->ogg.size());
    item.body.clear();
    synthesized.Add();
    audio_ms.Add(audio->duration_ms);
  }
  return Status::Ok();
}

// Step 3: the rows for what was made, in one statement. Where another worker's speech row came first
// (a race on a rebalance), its audio is the message's and is what the frames point at.
Status SpeechWorker::Record(std::vector<Item>& items) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  w.StartArray();
  size_t made = 0;
  for (const auto& item : items) {
    if (!item.made) continue;
    ++made;
    w.StartObject();
    w.Key("message_id");
    w.Uint64(item.message);
    w.Key("room_id");
    w.Int64(item.room);
    w.Key("sha256");
    w.String(item.sha256.data(), item.sha256.size());
    w.Key("bytes");
    w.Int64(item.bytes);
    w.Key("duration_ms");
    w.Int64(item.duration_ms);
    w.Key("lang");
    w.String(item.lang.data(), item.lang.size());
    w.EndObject();
  }
  w.EndArray();
  if (made == 0) return Status::Ok();
  auto r = pg_.Exec(
      "WITH input AS ("
      "  SELECT * FROM jsonb_to_recordset($1::jsonb) "
      "    AS x(message_id bigint, room_id bigint, sha256 text, bytes bigint, duration_ms int, lang text)), "
      "obj AS ("
      "  INSERT INTO objects (sha256, type, bytes) SELECT DISTINCT sha256, 'audio/ogg', bytes FROM input "
      "  ON CONFLICT DO NOTHING), "
      "ro AS ("
      "  INSERT INTO room_objects (room_id, sha256) SELECT DISTINCT room_id, sha256 FROM input "
      "  ON CONFLICT DO NOTHING), "
      "ins AS ("
      "  INSERT INTO speech (message_id, sha256, duration_ms, lang) "
      "  SELECT message_id, sha256, duration_ms, lang FROM input "
      "  ON CONFLICT DO NOTHING RETURNING message_id) "
      "SELECT s.message_id, s.sha256, s.duration_ms FROM speech s JOIN input i USING (message_id) "
      "WHERE s.message_id NOT IN (SELECT message_id FROM ins)",
      {std::string(buf.GetString(), buf.GetSize())});
  if (!r.ok()) return r.status();
  std::unordered_map<uint64_t, Item*> by_id;
  for (auto& item : items) by_id[item.message] = &item;
  for (int row = 0; row < r->rows(); ++row) {
    Item* item = by_id[static_cast<uint64_t>(r->Int(row, 0))];
    item->sha256 = std::string(r->Text(row, 1));
    item->duration_ms = r->Int(row, 2);
  }
  return Status::Ok();
}

// Step 4: one frame per asker and message, all in one pipeline.
Status SpeechWorker::Publish(const std::vector<SpeechRequest>& requests, const std::vector<Item>& items) {
  std::unordered_map<uint64_t, const Item*> by_id;
  for (const auto& item : items) by_id[item.message] = &item;
  const std::string prefix = config_.RedisPrefix();
  std::set<std::pair<int64_t, uint64_t>> told;
  for (const auto& r : requests) {
    const Item& item = *by_id[r.message];
    if (item.found && item.room != r.room) {
      spdlog::warn("speech: message {} is in room {}, not {} as asked; skipped", r.message, item.room, r.room);
      missing.Add();
      continue;
    }
    if (!item.found) missing.Add();
    if (!item.spoken || !told.insert({r.user, r.message}).second) continue;
    const std::string frame =
        EncodeSpeechFrame({item.room, item.message, ObjectPath(item.room, item.sha256), item.duration_ms});
    redis_.Append({"PUBLISH", UserChannel(prefix, r.user), frame});
  }
  if (told.empty()) return Status::Ok();
  std::vector<RedisReply> replies;
  if (Status s = redis_.Flush(&replies); !s.ok()) return s;
  for (const auto& reply : replies)
    if (reply.type == REDIS_REPLY_ERROR) return Status::Unavailable("redis_unavailable", "Redis: " + reply.str);
  frames.Add(static_cast<int64_t>(told.size()));
  return Status::Ok();
}

}  // namespace chatpipe
