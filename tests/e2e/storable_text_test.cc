// Nothing acknowledged is lost, for any text: a generated corpus over every class of code point and
// size is sent over WebSocket and HTTP to a real stack; every acknowledged text is in PostgreSQL and
// in the history API exactly once, byte for byte, and every refused one got the error it should.
//
// The corpus comes from a seed, printed; CHATPIPE_TEST_SEED=<n> replays one.
#include <gtest/gtest.h>

#include <cstdlib>
#include <iostream>
#include <map>
#include <random>

#include "ingress/json_input.h"
#include "tests/support/stack_test_base.h"

namespace chatpipe::test {
namespace {

constexpr int kCases = 240;

struct Case {
  std::string id;         // its client_msg_id
  std::string json;       // the text as a JSON string literal, quotes included
  std::string stored;     // the bytes stored when it is accepted
  std::string refusal;    // empty: must be acknowledged; else the code it must be refused with
  bool http_only = false;  // raw bytes that are not UTF-8: a WebSocket closes on them, by RFC 6455
  std::string what;       // its class, for failure messages
};

void AppendUtf8(std::string* out, char32_t cp) {
  if (cp < 0x80) {
    *out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    *out += static_cast<char>(0xC0 | cp >> 6);
    *out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    *out += static_cast<char>(0xE0 | cp >> 12);
    *out += static_cast<char>(0x80 | (cp >> 6 & 0x3F));
    *out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    *out += static_cast<char>(0xF0 | cp >> 18);
    *out += static_cast<char>(0x80 | (cp >> 12 & 0x3F));
    *out += static_cast<char>(0x80 | (cp >> 6 & 0x3F));
    *out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

void AppendEscape(std::string* out, unsigned unit) {
  char buf[16];
  snprintf(buf, sizeof buf, "\\u%04x", unit & 0xFFFF);
  *out += buf;
}

// One code point into a JSON string literal: as UTF-8 (escaping only what JSON requires) or as
// \u escapes (a surrogate pair above the BMP).
void AppendJson(std::string* out, char32_t cp, bool escape) {
  if (cp == '"' || cp == '\\') {
    *out += '\\';
    *out += static_cast<char>(cp);
  } else if (cp < 0x20 || (escape && cp >= 0x80 && cp < 0x10000)) {
    AppendEscape(out, cp);
  } else if (escape && cp >= 0x10000) {
    AppendEscape(out, 0xD800 + ((cp - 0x10000) >> 10));
    AppendEscape(out, 0xDC00 + ((cp - 0x10000) & 0x3FF));
  } else {
    AppendUtf8(out, cp);
  }
}

// The code points of a text, by class. A class may add several at once (a ZWJ sequence, a base and
// its combining marks): the generator cuts the text to its length in code points.
class Corpus {
 public:
  explicit Corpus(uint64_t seed) : rng_(seed) {}

  using Class = std::pair<const char*, std::vector<char32_t> (Corpus::*)()>;
  static const std::vector<Class>& Classes() {
    static const std::vector<Class> classes = {
        {"ascii", &Corpus::Ascii},         {"C0 controls", &Corpus::C0},    {"U+007F", &Corpus::Del},
        {"Latin-1", &Corpus::Latin1},      {"BMP", &Corpus::Bmp},           {"astral", &Corpus::Astral},
        {"emoji", &Corpus::Emoji},         {"combining", &Corpus::Combining}, {"RTL", &Corpus::Rtl},
        {"ZWJ sequences", &Corpus::Zwj},   {"U+FEFF", &Corpus::Bom},        {"noncharacters", &Corpus::Nonchar},
        {"separators", &Corpus::Separators},
    };
    return classes;
  }

  // A text of `chars` code points, mostly of class `main`, some of any class.
  std::vector<char32_t> Text(size_t main, size_t chars) {
    std::vector<char32_t> cps;
    while (cps.size() < chars) {
      size_t c = Pick(4) == 0 ? Pick(Classes().size()) : main;
      for (char32_t cp : (this->*Classes()[c].second)()) cps.push_back(cp);
    }
    cps.resize(chars);
    return cps;
  }

  // Sizes: one character, short, medium, the longest accepted, one over.
  size_t Size() {
    switch (Pick(10)) {
      case 0: return 1;
      case 1: return kMaxTextChars;
      case 2: return kMaxTextChars + 1;
      case 3: case 4: return 1 + Pick(500);
      default: return 1 + Pick(40);
    }
  }
  size_t Pick(size_t n) { return std::uniform_int_distribution<size_t>(0, n - 1)(rng_); }
  char32_t In(char32_t lo, char32_t hi) { return std::uniform_int_distribution<char32_t>(lo, hi)(rng_); }

 private:
  std::vector<char32_t> Ascii() { return {In(0x20, 0x7E)}; }
  std::vector<char32_t> C0() { return {In(0x01, 0x1F)}; }  // U+0000 is a case of its own
  std::vector<char32_t> Del() { return {0x7F}; }
  std::vector<char32_t> Latin1() { return {In(0x80, 0xFF)}; }
  std::vector<char32_t> Bmp() {
    char32_t cp = In(0x100, 0xFFFD);
    return {cp >= 0xD800 && cp <= 0xDFFF ? cp - 0x800 : cp};
  }
  std::vector<char32_t> Astral() { return {In(0x10000, 0x10FFFF)}; }
  std::vector<char32_t> Emoji() { return {In(0x1F300, 0x1FAFF)}; }
  std::vector<char32_t> Combining() { return {In('a', 'z'), In(0x300, 0x36F), In(0x300, 0x36F)}; }
  std::vector<char32_t> Rtl() {
    static const char32_t kMarks[] = {0x200F, 0x202B, 0x202E, 0x2067};
    switch (Pick(3)) {
      case 0: return {In(0x5D0, 0x5EA)};  // Hebrew
      case 1: return {In(0x627, 0x64A)};  // Arabic
      default: return {kMarks[Pick(4)]};
    }
  }
  std::vector<char32_t> Zwj() {
    if (Pick(2)) return {0x1F469, 0x200D, 0x1F4BB};                    // woman technologist
    return {0x1F468, 0x200D, 0x1F469, 0x200D, 0x1F467, 0x200D, 0x1F466};  // family
  }
  std::vector<char32_t> Bom() { return {0xFEFF}; }
  std::vector<char32_t> Nonchar() {
    if (Pick(2)) return {In(0xFDD0, 0xFDEF)};
    return {static_cast<char32_t>(Pick(17) << 16 | 0xFFFE | Pick(2))};
  }
  std::vector<char32_t> Separators() {
    static const char32_t kSeps[] = {0x85, 0xA0, 0x2028, 0x2029, 0x3000};
    return {kSeps[Pick(5)]};
  }

  std::mt19937_64 rng_;
};

bool Blank(const std::vector<char32_t>& cps) {
  for (char32_t cp : cps)
    if (cp != ' ' && cp != '\t' && cp != '\n' && cp != '\r') return false;
  return true;
}

std::vector<Case> MakeCases(uint64_t seed) {
  Corpus corpus(seed);
  std::vector<Case> cases;
  for (int i = 0; i < kCases; ++i) {
    size_t main = static_cast<size_t>(i) % Corpus::Classes().size();
    Case c;
    c.id = "t" + std::to_string(i);
    c.what = Corpus::Classes()[main].first;
    std::vector<char32_t> cps = corpus.Text(main, corpus.Size());
    const int style = static_cast<int>(corpus.Pick(3));  // raw, escaped, or mixed per code point
    c.json = "\"";
    for (char32_t cp : cps) {
      AppendUtf8(&c.stored, cp);
      AppendJson(&c.json, cp, style == 1 || (style == 2 && corpus.Pick(2)));
    }
    c.json += "\"";
    if (Blank(cps)) c.refusal = "empty_text";
    if (cps.size() > kMaxTextChars) c.refusal = "text_too_long";
    cases.push_back(std::move(c));
  }
  // What storage could not keep, each refused at intake.
  auto refused = [&](std::string what, std::string json, std::string code, bool http_only = false) {
    Case c;
    c.id = "r" + std::to_string(cases.size());
    c.what = std::move(what);
    c.json = std::move(json);
    c.refusal = std::move(code);
    c.http_only = http_only;
    cases.push_back(std::move(c));
  };
  refused("U+0000", "\"a\\u0000b\"", "bad_field");
  refused("U+0000 only", "\"\\u0000\"", "bad_field");
  refused("U+0000 in a long text", "\"" + std::string(3000, 'x') + "\\u0000\"", "bad_field");
  refused("lone low surrogate", "\"a\\udc00b\"", "bad_json");
  refused("lone high surrogate", "\"a\\ud800b\"", "bad_json");
  refused("reversed surrogate pair", "\"\\ude00\\ud83d\"", "bad_json");
  refused("empty", "\"\"", "empty_text");
  refused("overlong NUL", "\"a\xC0\x80\"", "bad_json", true);
  refused("raw surrogate", "\"\xED\xA0\x80\"", "bad_json", true);
  refused("truncated sequence", "\"\xE2\x82\"", "bad_json", true);
  refused("byte FF", "\"\xFF\"", "bad_json", true);
  return cases;
}

uint64_t Seed() {
  if (const char* s = std::getenv("CHATPIPE_TEST_SEED")) return std::strtoull(s, nullptr, 10);
  return std::random_device{}() * 0x100000000ull + std::random_device{}();
}

class StorableTextTest : public StackTest {
 protected:
  void SetUp() override {
    StackTest::SetUp();
    // One user sends the whole corpus at once: past the send limits, which are not tested here.
    ASSERT_TRUE(stack->StartIngress([](IngressConfig& c) {
      c.limits.sends_per_connection = c.limits.sends_per_user = BucketSpec{};
      c.limits.sends_in_flight = 0;
    }).ok());
    ASSERT_TRUE(stack->StartPersister().ok());
  }

  // The client's answer to one case: the acknowledged id, or the refusal's code.
  struct Answer {
    std::string id;
    std::string refusal;
    std::string text;  // the answer as received, for failure messages
  };

  Answer OverHttp(const Case& c) {
    auto r = stack->Call("POST", "/api/rooms/" + std::to_string(room) + "/messages", ana,
                         "{\"text\":" + c.json + ",\"client_msg_id\":\"" + c.id + "\"}");
    if (!r.ok()) return {"", "transport: " + r.status().ToString(), ""};
    auto body = ParseJson(r->body);
    if (!body.ok()) return {"", "unreadable", r->body};
    if (r->status == 202) return {body->doc["id"].GetString(), "", r->body};
    if (!body->doc.HasMember("error")) return {"", "no error object", r->body};
    return {"", body->doc["error"]["code"].GetString(), r->body};
  }

  Answer OverWebSocket(const Case& c) {
    Status sent = ws->SendText("{\"type\":\"send\",\"room\":" + std::to_string(room) + ",\"text\":" + c.json +
                               ",\"client_msg_id\":\"" + c.id + "\"}");
    if (!sent.ok()) return {"", "transport: " + sent.ToString(), ""};
    auto reply = ReceiveUntil(*ws, [](const Json& j) { return j.Type() == "ack" || j.Type() == "error"; });
    if (!reply.ok()) return {"", "transport: " + reply.status().ToString(), ""};
    if (reply->Type() == "ack") return {reply->doc["id"].GetString(), "", reply->text};
    return {"", reply->doc["code"].GetString(), reply->text};
  }

  TestUser ana;
  int64_t room = 0;
  std::unique_ptr<WsClient> ws;
};

TEST_F(StorableTextTest, EveryAcknowledgedTextIsStoredOnceByteForByte) {
  const uint64_t seed = Seed();
  std::cout << "corpus seed " << seed << " (CHATPIPE_TEST_SEED=" << seed << " replays it)" << std::endl;
  RecordProperty("seed", std::to_string(seed));
  ASSERT_TRUE(RegisterWithRoom("ana", "corpus", &ana, &room));
  auto conn = stack->Connect(ana);
  ASSERT_TRUE(conn.ok()) << conn.status().ToString();
  ws = std::move(*conn);
  ASSERT_TRUE(ws->SendText("{\"type\":\"join\",\"room\":" + std::to_string(room) + "}").ok());
  ASSERT_TRUE(ReceiveType(*ws, "joined").ok());

  const std::vector<Case> cases = MakeCases(seed);
  std::map<std::string, const Case*> acked;  // message id -> its case
  for (size_t i = 0; i < cases.size(); ++i) {
    const Case& c = cases[i];
    const bool http = c.http_only || i % 2 == 1;
    Answer a = http ? OverHttp(c) : OverWebSocket(c);
    SCOPED_TRACE(c.what + " " + c.id + " over " + (http ? "HTTP" : "WebSocket") + ": " + c.json.substr(0, 200));
    if (c.refusal.empty()) {
      ASSERT_FALSE(a.id.empty()) << "refused with " << a.refusal << ": " << a.text;
      acked[a.id] = &c;
    } else {
      EXPECT_EQ(a.refusal, c.refusal) << a.text;
    }
  }
  ASSERT_GT(acked.size(), cases.size() / 2);

  // Stored once each, byte for byte, and nothing else.
  ASSERT_TRUE(WaitFor([&] { return stack->CountMessages(room).value_or(0) >= int64_t(acked.size()); }))
      << "stored " << stack->CountMessages(room).value_or(-1) << " of " << acked.size();
  auto rows = stack->pg().Exec("SELECT id, body, client_msg_id FROM messages WHERE room_id = $1", {std::to_string(room)});
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  EXPECT_EQ(rows->rows(), int(acked.size()));
  for (int i = 0; i < rows->rows(); ++i) {
    auto it = acked.find(std::string(rows->Text(i, 0)));
    ASSERT_NE(it, acked.end()) << "stored but never acknowledged: " << rows->Text(i, 0);
    EXPECT_EQ(std::string(rows->Text(i, 1)), it->second->stored) << it->second->what << " " << it->second->id;
    EXPECT_EQ(std::string(rows->Text(i, 2)), it->second->id);
  }

  // And the history API gives them back the same, each once, page by page.
  std::map<std::string, int> seen;
  int64_t before = 0;
  do {
    auto r = stack->Call("GET", "/api/rooms/" + std::to_string(room) + "/messages?limit=100" +
                                    (before ? "&before=" + std::to_string(before) : ""), ana);
    ASSERT_TRUE(r.ok() && r->status == 200) << (r.ok() ? r->body : r.status().ToString());
    auto page = ParseJson(r->body);
    ASSERT_TRUE(page.ok()) << r->body.substr(0, 300);
    for (const auto& m : page->doc["messages"].GetArray()) {
      std::string id = m["id"].GetString();
      auto it = acked.find(id);
      ASSERT_NE(it, acked.end()) << "in history but never acknowledged: " << id;
      EXPECT_EQ(std::string(m["text"].GetString(), m["text"].GetStringLength()), it->second->stored)
          << it->second->what << " " << it->second->id;
      ++seen[id];
    }
    before = page->doc["next_before"].IsInt64() ? page->doc["next_before"].GetInt64() : 0;
  } while (before > 0);
  EXPECT_EQ(seen.size(), acked.size());
  for (const auto& [id, n] : seen) EXPECT_EQ(n, 1) << id;
}

}  // namespace
}  // namespace chatpipe::test
