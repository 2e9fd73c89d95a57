#include "bench/hotpath/ops.h"

#include <event2/buffer.h>
#include <fcntl.h>
#include <rapidjson/document.h>
#include <unistd.h>

#include <hiredis/hiredis.h>

#include <cstring>
#include <iterator>

#include "common/events.h"
#include "common/message_id.h"
#include "ingress/json_input.h"
#include "ingress/rate_limits.h"
#include "ingress/redis_links.h"
#include "storage/redis_keys.h"
#include "ingress/shared_frame.h"
#include "ingress/websocket.h"
#include "analysis/tagger.h"

namespace chatpipe::hotpath {
namespace {

// One typical chat message, the same in every op: 61 bytes of Spanish text.
constexpr int64_t kRoom = 4217;
constexpr std::string_view kText = "hola a todos, ¿alguien sabe a qué hora empieza la reunión?";
constexpr std::string_view kClientMsgId = "m-1718000000-000042";
const UserRef kUser{1042, "mariana.lopez"};
constexpr int64_t kPos = 123456;

std::string SendJson() {
  return R"({"type":"send","room":)" + std::to_string(kRoom) + R"(,"text":")" + std::string(kText) +
         R"(","client_msg_id":")" + std::string(kClientMsgId) + R"("})";
}

ChatEvent FixedEvent() {
  ChatEvent e;
  e.id = 1234567890123456789ULL;
  e.room = kRoom;
  e.user = kUser;
  e.text = kText;
  e.ts_ms = 1718000000000;
  e.client_msg_id = kClientMsgId;
  return e;
}

// Ingress reading one client frame: the WebSocket decoder (one per connection, warm) unmasks a text
// frame, then the JSON goes through the calls ws_session.cc and message_intake.cc make for a "send"
// (parse with the members any frame may have, the type, the members a send may have, room, text,
// client_msg_id, then the text and id checks of AcceptMessage).
class IngressFrame : public Op {
 public:
  IngressFrame() : decoder_(ws::Role::kServer) {
    const uint8_t mask[4] = {0x37, 0xfa, 0x21, 0x3d};
    frame_ = ws::EncodeFrame(ws::Opcode::kText, SendJson(), mask);
  }
  bool Once() override {
    ws::Event ev;
    const char* p = frame_.data();
    size_t left = frame_.size();
    while (left > 0 && ev.type == ws::Event::Type::kNone) {
      size_t n = decoder_.Feed(p, left, &ev);
      p += n;
      left -= n;
    }
    if (ev.type != ws::Event::Type::kText) return false;
    rapidjson::Document doc;
    if (!ParseObject(ev.payload, {"type", "room", "after", "text", "client_msg_id"}, &doc).ok()) return false;
    auto type = StringField(doc, "type");
    if (!type.ok() || !*type || **type != "send") return false;
    if (!CheckMembers(doc, {"type", "room", "text", "client_msg_id"}).ok()) return false;
    auto room = IntField(doc, "room");
    auto text = StringField(doc, "text");
    auto cmid = StringField(doc, "client_msg_id");
    if (!room.ok() || !*room || !text.ok() || !*text || !cmid.ok() || !*cmid) return false;
    if (!CheckMessageText(**text).ok() || !CheckClientMessageId(**cmid).ok()) return false;
    checksum_ += **room + (*text)->size() + (*cmid)->size();
    return true;
  }

 private:
  ws::FrameDecoder decoder_;
  std::string frame_;
};

// Ingress stamping the accepted message and encoding the Kafka event (AcceptMessage after the
// checks, in a "tag" room): an id from the shared generator, its timestamp, the fields, the key.
class StampEncode : public Op {
 public:
  bool Once() override {
    ChatEvent e;
    e.client_msg_id = kClientMsgId;
    e.id = ids_.Next();
    e.ts_ms = static_cast<int64_t>(MessageIdGenerator::TimestampMs(e.id));
    e.room = kRoom;
    e.user = kUser;
    e.text = kText;
    std::string key = std::to_string(e.room);
    std::string json = EncodeChatEvent(e);
    checksum_ += key.size() + json.size();
    return !json.empty();
  }

 private:
  MessageIdGenerator ids_{7};
};

// The persist worker's share of one message: decode the Kafka event (DecodeChatMessage, workers/consume) and encode
// the frame that is stored, published and sent to clients (persister.cc).
class WorkerDecodeEncode : public Op {
 public:
  WorkerDecodeEncode() : event_json_(EncodeChatEvent(FixedEvent())) {}
  bool Once() override {
    auto e = DecodeChatEvent(event_json_);
    if (!e.ok()) return false;
    StoredMessage m{std::move(*e), kPos};
    std::string frame = EncodeMessageFrame(m);
    checksum_ += frame.size();
    return !frame.empty();
  }

 private:
  std::string event_json_;
};

// Fan-out to the 1000 subscribers of a hot room on one loop: each of `burst` messages becomes a
// SharedFrame appended to every connection's output evbuffer, then every evbuffer is written out (to
// /dev/null, so the kernel's share is tiny and only the user-space cost shows). burst 1 is a quiet
// room, where each write carries one frame; a busy room's frames queue up between writes. One unit =
// one delivery of one frame.
class Fanout : public Op {
 public:
  static constexpr size_t kSubscribers = 1000;
  explicit Fanout(size_t burst) : burst_(burst), payload_(EncodeMessageFrame(StoredMessage{FixedEvent(), kPos})) {
    fd_ = open("/dev/null", O_WRONLY | O_CLOEXEC);
    for (size_t i = 0; i < kSubscribers; ++i) out_.push_back(evbuffer_new());
  }
  ~Fanout() override {
    for (evbuffer* b : out_) evbuffer_free(b);
    if (fd_ >= 0) close(fd_);
  }
  bool Once() override {
    size_t size = 0;
    for (size_t m = 0; m < burst_; ++m) {
      SharedFrame* frame = SharedFrame::MakeText(payload_);
      size = frame->bytes().size();
      for (evbuffer* b : out_) frame->AppendTo(b);
      frame->Unref();
    }
    bool ok = fd_ >= 0;
    for (evbuffer* b : out_) ok &= evbuffer_write(b, fd_) == static_cast<int>(size * burst_);
    checksum_ += size;
    return ok;
  }

 private:
  const size_t burst_;
  std::string payload_;
  int fd_ = -1;
  std::vector<evbuffer*> out_;
};

// Tagger::Analyze, as the tag worker runs it for every message and ingress runs it inline for mask
// and block rooms.
class Tag : public Op {
 public:
  Tag(std::unique_ptr<Tagger> tagger, std::string text) : tagger_(std::move(tagger)), text_(std::move(text)) {}
  bool Once() override {
    Tags tags = tagger_->Analyze(text_);
    checksum_ += tags.masked.size() + tags.terms.size();
    return !tags.lang.empty();
  }

 private:
  std::unique_ptr<Tagger> tagger_;
  std::string text_;
};

// A message at the 4,000-character limit: chat sentences (one profane word among them) repeated, cut
// at a space.
std::string LongText() {
  static const char* const kSentences[] = {
      "hola a todos, ¿alguien sabe a qué hora empieza la reunión?",
      "no está mal, pero la última versión me gustó mucho más que esta.",
      "la verdad es que el concierto de anoche fue increíble!!",
      "qué mierda de tráfico hay hoy en el centro, llegué tardísimo.",
      "mañana traigo el pastel y las bebidas, ustedes pongan la música :)",
      "no sé si podré ir, tengo mucho trabajo pendiente esta semana.",
  };
  std::string text;
  size_t chars = 0;
  for (size_t i = 0;; ++i) {
    std::string_view s = kSentences[i % std::size(kSentences)];
    size_t n = 1;  // the space before it
    for (unsigned char c : s) n += (c & 0xC0) != 0x80;
    if (chars + n > kMaxTextChars) break;
    if (!text.empty()) text += ' ';
    text += s;
    chars += n;
  }
  return text;
}

// Ingress asking Redis for a send's token (the per-user bucket): the script's arguments
// (TokenBucketArgs) and the command in Redis's wire format, as hiredis writes it to the command link
// (redisFormatCommandArgv, what redisAsyncCommandArgv calls): with the script's text (EVAL) or its
// digest (EVALSHA). Redis's own cost per call is not here (bench/README.md has it).
class SharedBucketCommand : public Op {
 public:
  explicit SharedBucketCommand(bool by_digest) : by_digest_(by_digest) {}
  bool Once() override {
    static const RedisScript script(kTokenBucketScript);
    std::vector<SharedBucket> buckets{{"cp:limit:sends:user:" + std::to_string(kUser.id), BucketSpec{100, 10000}}};
    std::vector<std::string> args = TokenBucketArgs(buckets, 1718000000000, 1);
    std::vector<const char*> argv{by_digest_ ? "EVALSHA" : "EVAL", by_digest_ ? script.sha1.c_str() : script.body};
    std::vector<size_t> lens{argv[0] == std::string_view("EVAL") ? 4u : 7u, std::strlen(argv[1])};
    for (const auto& a : args) {
      argv.push_back(a.data());
      lens.push_back(a.size());
    }
    char* wire = nullptr;
    long long n = redisFormatCommandArgv(&wire, static_cast<int>(argv.size()), argv.data(), lens.data());
    if (n <= 0) return false;
    checksum_ += static_cast<uint64_t>(n) + static_cast<uint8_t>(wire[n - 1]);
    redisFreeCommand(wire);
    return true;
  }

 private:
  const bool by_digest_;
};

}  // namespace

const std::vector<OpInfo>& AllOps() {
  static const std::vector<OpInfo> ops = {
      {"ingress_frame", "ws::FrameDecoder + JSON parse/validation of a client \"send\" frame", "message", 1, 20000},
      {"stamp_encode", "message id + EncodeChatEvent (ingress -> Kafka)", "message", 1, 20000},
      {"worker_decode_encode", "DecodeChatEvent + EncodeMessageFrame (persist worker)", "message", 1, 20000},
      {"fanout", "a 244-byte frame: SharedFrame::MakeText + AppendTo x1000 + evbuffer_write x1000", "delivery",
       Fanout::kSubscribers, 50},
      {"fanout_burst10", "10 such frames appended to each of 1000 evbuffers, then one write each", "delivery",
       10 * Fanout::kSubscribers, 10},
      {"bucket_eval", "a shared token bucket command to Redis (TakeShared, for the costly actions), by script text (EVAL)", "message", 1, 20000},
      {"bucket_evalsha", "the same by the script's digest (EVALSHA)", "message", 1, 20000},
      {"tag_60", "Tagger::Analyze, 61-byte chat message", "message", 1, 20000},
      {"tag_4000", "Tagger::Analyze, 4,000-character message", "message", 1, 200},
  };
  return ops;
}

const OpInfo* FindOp(const std::string& name) {
  for (const OpInfo& op : AllOps())
    if (name == op.name) return &op;
  return nullptr;
}

Result<std::unique_ptr<Op>> MakeOp(const std::string& name, const std::string& tag_data) {
  std::unique_ptr<Op> op;
  if (name == "ingress_frame") op = std::make_unique<IngressFrame>();
  if (name == "stamp_encode") op = std::make_unique<StampEncode>();
  if (name == "worker_decode_encode") op = std::make_unique<WorkerDecodeEncode>();
  if (name == "fanout") op = std::make_unique<Fanout>(1);
  if (name == "fanout_burst10") op = std::make_unique<Fanout>(10);
  if (name == "bucket_eval" || name == "bucket_evalsha") op = std::make_unique<SharedBucketCommand>(name == "bucket_evalsha");
  if (name == "tag_60" || name == "tag_4000") {
    auto tagger = Tagger::Load(tag_data);
    if (!tagger.ok()) return tagger.status();
    op = std::make_unique<Tag>(std::move(*tagger), name == "tag_60" ? std::string(kText) : LongText());
  }
  if (!op) return Status::InvalidArgument("unknown_op", "no operation named \"" + name + "\" (see --list)");
  if (!op->Once()) return Status::Internal(name + " failed on its fixed input");
  return op;
}

}  // namespace chatpipe::hotpath
