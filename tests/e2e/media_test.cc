// Images end to end (issue 17): an upload is checked, stripped and stored by content; a message
// carries it through Kafka, the persister and the fan-out into history; its objects are served with
// the headers a CDN needs, to whoever may read the room and to nobody else; and bad uploads are
// refused with a clear 4xx, leaving nothing behind.
#include <gtest/gtest.h>
#include <vips/vips.h>
#include <zlib.h>

#include <algorithm>
#include <filesystem>
#include <iterator>
#include <string>
#include <vector>

#include "storage/object_store.h"
#include "tests/support/raw_conn.h"
#include "tests/support/stack_test_base.h"

namespace chatpipe::test {
namespace {

// A width x height grey image encoded by libvips as `format` (".png", ".jpg", ".webp"): a gradient,
// or noise, which no encoder can shrink (for a body of a known size).
std::string MakeImage(int width, int height, const char* format, bool noise = false) {
  static bool started = VIPS_INIT("media_test") == 0;
  EXPECT_TRUE(started);
  VipsImage* source = nullptr;
  VipsImage* band = nullptr;
  VipsImage* pixels = nullptr;
  void* buf = nullptr;
  size_t len = 0;
  if (noise) {
    EXPECT_EQ(vips_gaussnoise(&source, width, height, "sigma", 80.0, nullptr), 0);
    EXPECT_EQ(vips_copy(source, &band, nullptr), 0);
  } else {
    EXPECT_EQ(vips_xyz(&source, width, height, nullptr), 0);
    EXPECT_EQ(vips_extract_band(source, &band, 0, nullptr), 0);
  }
  EXPECT_EQ(vips_cast_uchar(band, &pixels, nullptr), 0);
  EXPECT_EQ(vips_image_write_to_buffer(pixels, format, &buf, &len, nullptr), 0);
  std::string out(static_cast<const char*>(buf), len);
  g_free(buf);
  for (VipsImage* image : {pixels, band, source}) g_object_unref(image);
  return out;
}

void PutBigEndian16(std::string* out, size_t n) {
  out->push_back(static_cast<char>((n >> 8) & 0xff));
  out->push_back(static_cast<char>(n & 0xff));
}

// A JPEG with an EXIF segment whose camera make is "GPSCAM": a minimal TIFF header and one IFD entry,
// put right after the JPEG's SOI marker.
std::string JpegWithExif(int width, int height) {
  std::string jpeg = MakeImage(width, height, ".jpg");
  std::string tiff("II*\0\x08\0\0\0", 8);                  // little-endian, IFD0 at 8
  tiff += std::string("\x01\0", 2);                        // one entry
  tiff += std::string("\x0f\x01\x02\0\x07\0\0\0\x1a\0\0\0", 12);  // Make, ASCII, 7 bytes at 26
  tiff += std::string("\0\0\0\0", 4);                      // no next IFD
  tiff += std::string("GPSCAM\0", 7);
  std::string payload = std::string("Exif\0\0", 6) + tiff;
  std::string app1("\xff\xe1", 2);
  PutBigEndian16(&app1, payload.size() + 2);
  app1 += payload;
  return jpeg.substr(0, 2) + app1 + jpeg.substr(2);
}

// A PNG header that promises 60000 x 60000 pixels, and a few bytes of data: a decompression bomb.
std::string PngBomb() {
  std::string png = MakeImage(8, 8, ".png");
  // IHDR's width and height follow the 8-byte signature, the chunk length and "IHDR".
  const std::string big("\x00\x00\xea\x60", 4);  // 60000
  png.replace(16, 4, big);
  png.replace(20, 4, big);
  // The chunk's CRC covers its type and data (bytes 12 to 28), and decoders check it.
  uLong crc = crc32(0, reinterpret_cast<const Bytef*>(png.data() + 12), 17);
  for (int i = 0; i < 4; ++i) png[29 + i] = static_cast<char>((crc >> (24 - 8 * i)) & 0xff);
  return png;
}

// Dimensions of an encoded image, as libvips reads them (0 x 0 when it cannot).
std::pair<int, int> Dimensions(const std::string& bytes) {
  VipsImage* image = vips_image_new_from_buffer(bytes.data(), bytes.size(), "", nullptr);
  if (!image) {
    vips_error_clear();
    return {0, 0};
  }
  std::pair<int, int> wh{vips_image_get_width(image), vips_image_get_height(image)};
  g_object_unref(image);
  return wh;
}

size_t FilesUnder(const std::string& dir) {
  size_t n = 0;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir)) n += e.is_regular_file();
  return n;
}

class MediaTest : public StackTest {
 protected:
  MediaTest() : StackTest(Start::kIngressAndPersister) {}

  void SetUp() override {
    StackTest::SetUp();
    if (HasFatalFailure()) return;
    ASSERT_TRUE(RegisterWithRoom("ana", "photos", &ana, &room));
  }

  Result<HttpResponse> Upload(const TestUser& user, int64_t in_room, const std::string& bytes,
                              const std::string& type) {
    return HttpRequest("POST", stack->Url("/api/rooms/" + std::to_string(in_room) + "/uploads"), bytes,
                       {"Authorization: Bearer " + user.token, "Content-Type: " + type});
  }

  // Uploads and returns the answer's JSON, failing the test on any status but 201.
  Json UploadOk(const TestUser& user, int64_t in_room, const std::string& bytes, const std::string& type) {
    auto r = Upload(user, in_room, bytes, type);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    if (!r.ok()) return {};
    EXPECT_EQ(r->status, 201) << r->body;
    auto j = ParseJson(r->body);
    EXPECT_TRUE(j.ok()) << r->body;
    return j.ok() ? std::move(*j) : Json{};
  }

  Result<HttpResponse> Get(const std::string& path, std::vector<std::string> headers = {}) {
    return HttpRequest("GET", stack->Url(path), "", headers);
  }

  void ExpectRefused(const Result<HttpResponse>& r, long status, const std::string& code) {
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r->status, status) << r->body;
    auto j = ParseJson(r->body);
    ASSERT_TRUE(j.ok() && j->doc.HasMember("error")) << r->body;
    EXPECT_EQ(std::string(j->doc["error"]["code"].GetString()), code) << r->body;
  }

  TestUser ana;
  int64_t room = 0;
};

TEST_F(MediaTest, AnUploadIsStrippedStoredByContentAndServedForCaches) {
  const std::string original = JpegWithExif(640, 480);
  ASSERT_NE(original.find("GPSCAM"), std::string::npos);  // the fixture really has its metadata
  Json up = UploadOk(ana, room, original, "image/jpeg");
  ASSERT_TRUE(up.doc.IsObject()) << up.text;
  EXPECT_EQ(up.doc["width"].GetInt(), 640);
  EXPECT_EQ(up.doc["height"].GetInt(), 480);
  EXPECT_EQ(std::string(up.doc["type"].GetString()), "image/jpeg");
  const std::string url = up.doc["url"].GetString();
  const std::string sha = up.doc["sha256"].GetString();
  EXPECT_EQ(url, ObjectPath(room, sha));

  // A public room's object: no token needed, immutable, named by its hash.
  auto image = Get(url);
  ASSERT_TRUE(image.ok());
  ASSERT_EQ(image->status, 200) << image->body;
  EXPECT_EQ(image->headers["content-type"], "image/jpeg");
  EXPECT_EQ(image->headers["etag"], "\"" + sha + "\"");
  EXPECT_NE(image->headers["cache-control"].find("immutable"), std::string::npos);
  EXPECT_NE(image->headers["cache-control"].find("public"), std::string::npos);
  EXPECT_EQ(ObjectKey(image->body), sha);
  EXPECT_EQ(static_cast<int64_t>(image->body.size()), up.doc["bytes"].GetInt64());
  EXPECT_EQ(Dimensions(image->body), std::make_pair(640, 480));
  EXPECT_EQ(image->body.find("GPSCAM"), std::string::npos);
  EXPECT_EQ(image->body.find("Exif"), std::string::npos);

  auto thumb = Get(up.doc["thumbnail_url"].GetString());
  ASSERT_TRUE(thumb.ok());
  ASSERT_EQ(thumb->status, 200);
  auto [tw, th] = Dimensions(thumb->body);
  EXPECT_GT(tw, 0);
  EXPECT_LE(std::max(tw, th), 320);
  EXPECT_NEAR(tw * 480.0 / 640.0, th, 1.0);

  // Revalidation and ranges, as a CDN or a media player asks.
  auto same = Get(url, {"If-None-Match: \"" + sha + "\""});
  ASSERT_TRUE(same.ok());
  EXPECT_EQ(same->status, 304);
  EXPECT_TRUE(same->body.empty());
  auto part = Get(url, {"Range: bytes=10-19"});
  ASSERT_TRUE(part.ok());
  EXPECT_EQ(part->status, 206);
  EXPECT_EQ(part->body, image->body.substr(10, 10));
  EXPECT_EQ(part->headers["content-range"], "bytes 10-19/" + std::to_string(image->body.size()));
  auto past = Get(url, {"Range: bytes=" + std::to_string(image->body.size()) + "-"});
  ASSERT_TRUE(past.ok());
  EXPECT_EQ(past->status, 416);

  // The same bytes again: one object, a second upload row.
  const size_t files = FilesUnder(stack->objects_dir());
  Json again = UploadOk(ana, room, original, "image/jpeg");
  EXPECT_EQ(std::string(again.doc["sha256"].GetString()), sha);
  EXPECT_NE(std::string(again.doc["id"].GetString()), std::string(up.doc["id"].GetString()));
  EXPECT_EQ(FilesUnder(stack->objects_dir()), files);
}

TEST_F(MediaTest, AMessageCarriesItsImageLiveAndInHistory) {
  Json up = UploadOk(ana, room, MakeImage(300, 200, ".png"), "image/png");
  const std::string upload_id = up.doc["id"].GetString();
  auto bea = stack->Register("bea");
  ASSERT_TRUE(bea.ok());
  auto ws = stack->Connect(*bea);
  ASSERT_TRUE(ws.ok());
  ASSERT_TRUE((*ws)->SendText("{\"type\":\"join\",\"room\":" + std::to_string(room) + "}").ok());
  ASSERT_TRUE(ReceiveType(**ws, "joined").ok());

  auto sent = stack->Call("POST", "/api/rooms/" + std::to_string(room) + "/messages", ana,
                          "{\"image\":\"" + upload_id + "\",\"text\":\"my cat\"}");
  ASSERT_TRUE(sent.ok());
  ASSERT_EQ(sent->status, 202) << sent->body;
  auto frame = ReceiveType(**ws, "message");
  ASSERT_TRUE(frame.ok()) << frame.status().ToString();
  const auto& f = frame->doc;
  EXPECT_EQ(std::string(f["kind"].GetString()), "image") << frame->text;
  EXPECT_EQ(std::string(f["text"].GetString()), "my cat");
  EXPECT_EQ(std::string(f["image"]["id"].GetString()), upload_id);
  EXPECT_EQ(std::string(f["image"]["url"].GetString()), std::string(up.doc["url"].GetString()));
  EXPECT_EQ(f["image"]["width"].GetInt(), 300);
  EXPECT_EQ(std::string(f["image"]["type"].GetString()), "image/png");
  EXPECT_TRUE(f.HasMember("tags"));  // the caption is tagged like any text

  // History gives it back: from Redis (the newest) the very frame; from PostgreSQL (a limit past the
  // cache) the same image, byte for byte (the tags are the tag worker's to store, not running here).
  auto image_text = [](const rapidjson::Value& v) {
    rapidjson::StringBuffer buf;
    rapidjson::Writer<rapidjson::StringBuffer> w(buf);
    v.Accept(w);
    return std::string(buf.GetString());
  };
  const std::string history = "/api/rooms/" + std::to_string(room) + "/messages";
  for (const std::string& query : {std::string("?limit=1"), std::string("?limit=100")}) {
    auto h = stack->Call("GET", history + query, ana);
    ASSERT_TRUE(h.ok());
    auto j = ParseJson(h->body);
    ASSERT_TRUE(j.ok() && j->doc["messages"].Size() == 1) << h->body;
    const auto& m = j->doc["messages"][0];
    if (query == "?limit=1") {
      EXPECT_EQ(image_text(m), frame->text);
    }
    EXPECT_EQ(std::string(m["kind"].GetString()), "image") << query;
    EXPECT_EQ(image_text(m["image"]), image_text(f["image"])) << query;
  }

  // Over the WebSocket too, and without a caption.
  auto ana_ws = stack->Connect(ana);
  ASSERT_TRUE(ana_ws.ok());
  const std::string send = "{\"type\":\"send\",\"room\":" + std::to_string(room) + ",\"image\":\"" + upload_id + "\"";
  ASSERT_TRUE((*ana_ws)->SendText("{\"type\":\"join\",\"room\":" + std::to_string(room) + "}").ok());
  ASSERT_TRUE(ReceiveType(**ana_ws, "joined").ok());
  ASSERT_TRUE((*ana_ws)->SendText(send + ",\"client_msg_id\":\"c-1\"}").ok());
  ASSERT_TRUE(ReceiveType(**ana_ws, "ack").ok());
  auto bare = ReceiveType(**ws, "message");
  ASSERT_TRUE(bare.ok());
  EXPECT_EQ(std::string(bare->doc["text"].GetString()), "");
  EXPECT_EQ(std::string(bare->doc["kind"].GetString()), "image");
  // bea may not post ana's upload: refused before Kafka.
  ASSERT_TRUE((*ws)->SendText(send + ",\"client_msg_id\":\"c-2\"}").ok());
  auto refused = ReceiveType(**ws, "error");
  ASSERT_TRUE(refused.ok());
  EXPECT_EQ(std::string(refused->doc["code"].GetString()), "upload_not_found") << refused->text;
}

// An image is looked up in PostgreSQL before Kafka, a text is not: the text sent right after must
// still come after it (SendOrder), and so must a text after an image that is refused.
TEST_F(MediaTest, SendsAfterAnImageWaitForItsLookup) {
  Json up = UploadOk(ana, room, MakeImage(64, 64, ".png"), "image/png");
  auto ws = stack->Connect(ana);
  ASSERT_TRUE(ws.ok());
  ASSERT_TRUE((*ws)->SendText("{\"type\":\"join\",\"room\":" + std::to_string(room) + "}").ok());
  ASSERT_TRUE(ReceiveType(**ws, "joined").ok());
  const std::string send = "{\"type\":\"send\",\"room\":" + std::to_string(room);
  ASSERT_TRUE((*ws)->SendText(send + ",\"image\":\"" + up.doc["id"].GetString() + "\",\"client_msg_id\":\"i\"}").ok());
  ASSERT_TRUE((*ws)->SendText(send + ",\"text\":\"after the image\",\"client_msg_id\":\"t1\"}").ok());
  ASSERT_TRUE((*ws)->SendText(send + ",\"image\":\"12345\",\"client_msg_id\":\"bad\"}").ok());
  ASSERT_TRUE((*ws)->SendText(send + ",\"text\":\"after the refusal\",\"client_msg_id\":\"t2\"}").ok());
  std::vector<std::string> answers, delivered;
  while (answers.size() < 4 || delivered.size() < 3) {
    auto f = ReceiveUntil(**ws, [](const Json& j) {
      return j.Type() == "ack" || j.Type() == "error" || j.Type() == "message";
    });
    ASSERT_TRUE(f.ok()) << f.status().ToString();
    if (f->Type() == "message")
      delivered.push_back(std::string(f->doc.HasMember("kind") ? "image:" : "text:") + f->doc["text"].GetString());
    else answers.push_back(f->Type() + ":" + f->doc["client_msg_id"].GetString());
  }
  EXPECT_EQ(delivered, (std::vector<std::string>{"image:", "text:after the image", "text:after the refusal"}));
  // Acks come once Kafka has the message; the refusal needs nothing of Kafka and may come first.
  std::vector<std::string> acks;
  std::copy_if(answers.begin(), answers.end(), std::back_inserter(acks), [](const std::string& a) { return a.rfind("ack:", 0) == 0; });
  EXPECT_EQ(acks, (std::vector<std::string>{"ack:i", "ack:t1", "ack:t2"}));
  EXPECT_NE(std::find(answers.begin(), answers.end(), "error:bad"), answers.end());
}

TEST_F(MediaTest, AnUploadIsPostedOnlyByItsUploaderInItsRoom) {
  Json up = UploadOk(ana, room, MakeImage(40, 40, ".png"), "image/png");
  const std::string body = "{\"image\":\"" + std::string(up.doc["id"].GetString()) + "\"}";
  auto other_room = stack->CreateRoom(ana, "elsewhere");
  ASSERT_TRUE(other_room.ok());
  ExpectRefused(stack->Call("POST", "/api/rooms/" + std::to_string(*other_room) + "/messages", ana, body), 404,
                "upload_not_found");
  ExpectRefused(stack->Call("POST", "/api/rooms/" + std::to_string(room) + "/messages", ana,
                            "{\"image\":\"999999999\"}"), 404, "upload_not_found");
  ExpectRefused(stack->Call("POST", "/api/rooms/" + std::to_string(room) + "/messages", ana,
                            "{\"image\":12}"), 400, "bad_field");
  // An object is served only under a room it was posted in.
  ExpectRefused(Get(ObjectPath(*other_room, up.doc["sha256"].GetString())), 404, "object_not_found");
  ExpectRefused(Get("/api/rooms/" + std::to_string(room) + "/objects/" + std::string(64, 'A')), 404, "object_not_found");
}

TEST_F(MediaTest, APrivateRoomsImagesAreServedToItsMembersOnly) {
  auto secret = stack->CreateRoom(ana, "secret", /*is_private=*/true);
  ASSERT_TRUE(secret.ok());
  Json up = UploadOk(ana, *secret, MakeImage(64, 64, ".webp"), "image/webp");
  const std::string url = up.doc["url"].GetString();
  ExpectRefused(Get(url), 401, "unauthorized");
  auto eve = stack->Register("eve");
  ASSERT_TRUE(eve.ok());
  ExpectRefused(Get(url, {"Authorization: Bearer " + eve->token}), 403, "forbidden");
  ExpectRefused(Upload(*eve, *secret, MakeImage(8, 8, ".png"), "image/png"), 403, "forbidden");
  auto mine = Get(url, {"Authorization: Bearer " + ana.token});
  ASSERT_TRUE(mine.ok());
  EXPECT_EQ(mine->status, 200);
  EXPECT_EQ(Dimensions(mine->body), std::make_pair(64, 64));
  EXPECT_NE(mine->headers["cache-control"].find("private"), std::string::npos);
}

TEST_F(MediaTest, BadUploadsAreRefusedAndLeaveNothingBehind) {
  const std::string png = MakeImage(200, 100, ".png");
  const std::string jpeg = MakeImage(200, 100, ".jpg");
  ExpectRefused(Upload(ana, room, png, "image/jpeg"), 415, "type_mismatch");
  ExpectRefused(Upload(ana, room, "just some text, not an image", "image/png"), 415, "type_mismatch");
  ExpectRefused(Upload(ana, room, png, "text/plain"), 415, "unsupported_type");
  ExpectRefused(Upload(ana, room, png, "image/svg+xml"), 415, "unsupported_type");
  ExpectRefused(Upload(ana, room, "", "image/png"), 400, "empty_body");
  ExpectRefused(Upload(ana, room, png.substr(0, png.size() * 6 / 10), "image/png"), 400, "bad_image");
  ExpectRefused(Upload(ana, room, jpeg.substr(0, jpeg.size() * 6 / 10), "image/jpeg"), 400, "bad_image");
  ExpectRefused(Upload(ana, room, PngBomb(), "image/png"), 413, "too_many_pixels");

  // Too large: refused from Content-Length alone, before a byte of the body is sent.
  RawConn conn(stack->port());
  ASSERT_TRUE(conn.connected());
  ASSERT_TRUE(conn.Send("POST /api/rooms/" + std::to_string(room) + "/uploads HTTP/1.1\r\nHost: t\r\n"
                        "Authorization: Bearer " + ana.token + "\r\nContent-Type: image/png\r\n"
                        "Content-Length: " + std::to_string((5 << 20) + 1) + "\r\n\r\n"));
  conn.ReadUntil([](const std::string& in) { return in.find("\r\n\r\n") != std::string::npos; },
                 std::chrono::seconds(5));
  EXPECT_EQ(conn.in().rfind("HTTP/1.1 413", 0), 0u) << conn.in();

  auto uploads = stack->pg().Exec("SELECT count(*) FROM uploads");
  ASSERT_TRUE(uploads.ok());
  EXPECT_EQ(uploads->Int(0, 0), 0);
  EXPECT_EQ(FilesUnder(stack->objects_dir()), 0u);
}

// Upload bodies are bounded per process: past --upload-memory an upload is refused at its headers.
TEST(MediaBudgetTest, UploadsPastTheMemoryBudgetAreRefusedBeforeTheirBodies) {
  // Larger than a plain request may be (64 KiB), so it takes a claim; the budget holds one, not two.
  const std::string png = MakeImage(400, 400, ".png", /*noise=*/true);
  ASSERT_GT(png.size(), 100u * 1024);
  const size_t length = png.size();
  auto s = TestStack::Create();
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  auto& stack = *s;
  ASSERT_TRUE(stack->StartIngress([&](IngressConfig& c) { c.media.upload_memory = length * 3 / 2; }).ok());
  auto ana = stack->Register("ana");
  ASSERT_TRUE(ana.ok());
  auto room = stack->CreateRoom(*ana, "photos");
  ASSERT_TRUE(room.ok());
  const std::string head = "POST /api/rooms/" + std::to_string(*room) + "/uploads HTTP/1.1\r\nHost: t\r\n"
                           "Authorization: Bearer " + ana->token + "\r\nContent-Type: image/png\r\n";
  RawConn first(stack->port());
  ASSERT_TRUE(first.Send(head + "Content-Length: " + std::to_string(length) + "\r\n\r\n"));
  // The first holds its claim (its headers were read) before any second one asks.
  ASSERT_TRUE(WaitFor([&] { return stack->upload_bytes_claimed() >= length; }));
  // The second claim would pass the budget while the first is held.
  bool refused = WaitFor([&] {
    RawConn second(stack->port());
    second.Send(head + "Content-Length: " + std::to_string(length) + "\r\n\r\n");
    second.ReadUntil([](const std::string& in) { return in.find("\r\n\r\n") != std::string::npos; },
                     std::chrono::seconds(2));
    return second.in().rfind("HTTP/1.1 503", 0) == 0 && second.in().find("Retry-After: 1") != std::string::npos;
  });
  EXPECT_TRUE(refused);
  // The first, held meanwhile, completes and is stored.
  ASSERT_TRUE(first.Send(png));
  first.ReadUntil([](const std::string& in) { return in.find("\r\n\r\n") != std::string::npos; },
                  std::chrono::seconds(10));
  EXPECT_EQ(first.in().rfind("HTTP/1.1 201", 0), 0u) << first.in().substr(0, 400);
}

// Memory is set aside for a body only for a signed-in user, and one client address holds at most its
// share of the budget (a quarter, or one largest upload): a client starting uploads it never finishes
// keeps neither strangers nor everyone else's uploads out.
TEST(MediaBudgetTest, UploadClaimsNeedATokenAndOneAddressHoldsItsShareAtMost) {
  const std::string png = MakeImage(400, 400, ".png", /*noise=*/true);
  const size_t length = png.size();
  ASSERT_GT(length, 100u * 1024);
  auto s = TestStack::Create();
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  auto& stack = *s;
  ASSERT_TRUE(stack->StartIngress([&](IngressConfig& c) {
    c.media.max_upload_bytes = length;
    c.media.upload_memory = (length + 4096) * 8;  // a share of two uploads (body and head) an address
  }).ok());
  auto ana = stack->Register("ana");
  ASSERT_TRUE(ana.ok());
  auto room = stack->CreateRoom(*ana, "photos");
  ASSERT_TRUE(room.ok());
  auto head = [&](const std::string& token) {
    return "POST /api/rooms/" + std::to_string(*room) + "/uploads HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer " +
           token + "\r\nContent-Type: image/png\r\nContent-Length: " + std::to_string(length) + "\r\n\r\n";
  };
  auto answer = [](RawConn& conn) {
    conn.ReadUntil([](const std::string& in) { return in.find("\r\n\r\n") != std::string::npos; },
                   std::chrono::seconds(5));
    return conn.in().substr(0, 12);
  };

  // No token, or a forged one: 401 at the headers, nothing claimed.
  for (const std::string& token : {std::string(), ana->token + "x"}) {
    RawConn stranger(stack->port());
    ASSERT_TRUE(stranger.Send(head(token)));
    EXPECT_EQ(answer(stranger), "HTTP/1.1 401");
    EXPECT_EQ(stack->upload_bytes_claimed(), 0u);
  }

  // From one address: two uploads held, the third refused though the budget has room for six more.
  RawConn first(stack->port()), second(stack->port());
  ASSERT_TRUE(first.Send(head(ana->token)) && second.Send(head(ana->token)));
  ASSERT_TRUE(WaitFor([&] { return stack->upload_bytes_claimed() > 2 * length; }));  // a claim is body and head
  RawConn third(stack->port());
  ASSERT_TRUE(third.Send(head(ana->token)));
  EXPECT_EQ(answer(third), "HTTP/1.1 503");
  // Another address still gets its own.
  RawConn elsewhere(stack->port(), 0, "127.0.0.2");
  ASSERT_TRUE(elsewhere.Send(head(ana->token)));
  ASSERT_TRUE(WaitFor([&] { return stack->upload_bytes_claimed() > 3 * length; }));
  ASSERT_TRUE(elsewhere.Send(png));
  EXPECT_EQ(answer(elsewhere), "HTTP/1.1 201");
}

// The same upload path on the real S3-compatible server ops/services starts (SeaweedFS, SigV4).
TEST(MediaS3Test, UploadsAreStoredInS3AndServedFromIt) {
  const char* endpoint = std::getenv("CHATPIPE_TEST_S3_ENDPOINT");
  ASSERT_NE(endpoint, nullptr) << "no S3 server: run through ops/test (ops/services start --s3)";
  auto s = TestStack::Create();
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  auto& stack = *s;
  const std::string bucket = "media-" + RandomHex(6);
  Status started = stack->StartIngress([&](IngressConfig& c) {
    c.media.objects.s3_endpoint = endpoint;
    c.media.objects.s3_bucket = bucket;
    c.media.objects.s3_region = std::getenv("CHATPIPE_TEST_S3_REGION");
    c.media.objects.s3_access_key = std::getenv("CHATPIPE_TEST_S3_ACCESS_KEY_ID");
    c.media.objects.s3_secret_key = std::getenv("CHATPIPE_TEST_S3_SECRET_ACCESS_KEY");
  });
  ASSERT_TRUE(started.ok()) << started.ToString();
  auto ana = stack->Register("ana");
  ASSERT_TRUE(ana.ok());
  auto room = stack->CreateRoom(*ana, "photos");
  ASSERT_TRUE(room.ok());
  auto up = HttpRequest("POST", stack->Url("/api/rooms/" + std::to_string(*room) + "/uploads"),
                        JpegWithExif(320, 200), {"Authorization: Bearer " + ana->token, "Content-Type: image/jpeg"});
  ASSERT_TRUE(up.ok());
  ASSERT_EQ(up->status, 201) << up->body;
  auto j = ParseJson(up->body);
  ASSERT_TRUE(j.ok());
  const std::string sha = j->doc["sha256"].GetString();
  auto image = HttpRequest("GET", stack->Url(j->doc["url"].GetString()));
  ASSERT_TRUE(image.ok());
  ASSERT_EQ(image->status, 200);
  EXPECT_EQ(ObjectKey(image->body), sha);
  EXPECT_EQ(Dimensions(image->body), std::make_pair(320, 200));
  EXPECT_EQ(image->body.find("GPSCAM"), std::string::npos);
  auto part = HttpRequest("GET", stack->Url(j->doc["url"].GetString()), "", {"Range: bytes=-16"});
  ASSERT_TRUE(part.ok());
  EXPECT_EQ(part->status, 206);
  EXPECT_EQ(part->body, image->body.substr(image->body.size() - 16));
  EXPECT_EQ(FilesUnder(stack->objects_dir()), 0u);  // nothing went to the local directory
}

}  // namespace
}  // namespace chatpipe::test
