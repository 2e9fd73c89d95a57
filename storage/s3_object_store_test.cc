// The object stores' shared behaviour, run on both (the local directory and S3 on the suite's SeaweedFS,
// which ops/services starts and exports as CHATPIPE_TEST_S3_*), then what only S3 has: its bucket, its
// credentials (SigV4 checked by the server), its config file, and its answers when S3 is away or odd.
#include "storage/s3_object_store.h"

#include <curl/curl.h>
#include <gtest/gtest.h>
#include <sodium.h>
#include <stdlib.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

#include "storage/local_object_store.h"
#include "tests/support/loopback_server.h"

namespace chatpipe {
namespace {

std::string RandomHex(size_t bytes) {
  EXPECT_GE(sodium_init(), 0);
  std::string raw(bytes, '\0');
  randombytes_buf(raw.data(), raw.size());
  std::string hex(bytes * 2 + 1, '\0');
  sodium_bin2hex(hex.data(), hex.size(), reinterpret_cast<const unsigned char*>(raw.data()), raw.size());
  hex.pop_back();
  return hex;
}

// Bytes with every byte value (NULs too) that no other test stores.
std::string Binary(size_t size) {
  std::string bytes = RandomHex(8);
  while (bytes.size() < size) bytes.push_back(static_cast<char>(bytes.size() % 256));
  return bytes.substr(0, size);
}

// The suite's S3 server with a bucket no test has used yet (so not created yet either).
Result<ObjectStoreConfig> TestS3Config() {
  ObjectStoreConfig c;
  const char* endpoint = std::getenv("CHATPIPE_TEST_S3_ENDPOINT");
  const char* key = std::getenv("CHATPIPE_TEST_S3_ACCESS_KEY_ID");
  const char* secret = std::getenv("CHATPIPE_TEST_S3_SECRET_ACCESS_KEY");
  const char* region = std::getenv("CHATPIPE_TEST_S3_REGION");
  if (!endpoint || !key || !secret)
    return Status::Internal("no_s3",
                            "CHATPIPE_TEST_S3_ENDPOINT, _ACCESS_KEY_ID and _SECRET_ACCESS_KEY are not set: run the tests "
                            "with ops/test (or `ops/services start DIR` and source DIR/env)");
  c.s3_endpoint = endpoint;
  c.s3_access_key = key;
  c.s3_secret_key = secret;
  c.s3_region = region ? region : "";
  c.s3_bucket = "cp-test-" + RandomHex(6);
  return c;
}

// A request made here with libcurl, not through the store: to see what the server holds.
struct Raw {
  long status = 0;
  std::string content_type;
};
Raw RawRequest(const ObjectStoreConfig& c, const char* method, const std::string& key, bool sign = true) {
  Raw raw;
  CURL* h = curl_easy_init();
  std::string url = c.s3_endpoint + "/" + c.s3_bucket + (key.empty() ? "" : "/" + key);
  std::string sigv4 = "aws:amz:" + (c.s3_region.empty() ? std::string(kDefaultS3Region) : c.s3_region) + ":s3";
  curl_slist* headers = curl_slist_append(nullptr, ("x-amz-content-sha256: " + ObjectKey("")).c_str());
  curl_easy_setopt(h, CURLOPT_URL, url.c_str());
  curl_easy_setopt(h, CURLOPT_NOBODY, std::string(method) == "HEAD" ? 1L : 0L);
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
  if (sign) {
    curl_easy_setopt(h, CURLOPT_AWS_SIGV4, sigv4.c_str());
    curl_easy_setopt(h, CURLOPT_USERNAME, c.s3_access_key.c_str());
    curl_easy_setopt(h, CURLOPT_PASSWORD, c.s3_secret_key.c_str());
  }
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 10'000L);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, +[](char*, size_t size, size_t n, void*) { return size * n; });
  if (curl_easy_perform(h) == CURLE_OK) {
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &raw.status);
    char* type = nullptr;
    curl_easy_getinfo(h, CURLINFO_CONTENT_TYPE, &type);
    raw.content_type = type ? type : "";
  }
  curl_slist_free_all(headers);
  curl_easy_cleanup(h);
  return raw;
}

// ---- both stores -------------------------------------------------------------------------------

class LocalStoreMaker {
 public:
  ~LocalStoreMaker() {
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }
  Result<std::unique_ptr<ObjectStore>> Make() {
    char tmpl[] = "/tmp/objects-test-XXXXXX";
    if (!::mkdtemp(tmpl)) return Status::Internal("mkdtemp failed");
    dir_ = tmpl;
    ObjectStoreConfig c;
    c.dir = dir_ + "/objects";
    return OpenObjectStore(c);
  }

 private:
  std::string dir_;
};

class S3StoreMaker {
 public:
  Result<std::unique_ptr<ObjectStore>> Make() {
    Result<ObjectStoreConfig> c = TestS3Config();
    if (!c.ok()) return c.status();
    return OpenObjectStore(*c);
  }
};

template <typename Maker>
class ObjectStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = maker_.Make();
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(*store);
  }
  Maker maker_;
  std::unique_ptr<ObjectStore> store_;
};

struct StoreNames {
  template <typename T>
  static std::string GetName(int) {
    return std::is_same_v<T, LocalStoreMaker> ? "Local" : "S3";
  }
};
using Stores = ::testing::Types<LocalStoreMaker, S3StoreMaker>;
TYPED_TEST_SUITE(ObjectStoreTest, Stores, StoreNames);

TYPED_TEST(ObjectStoreTest, StoresReadsAndReadsRanges) {
  std::string bytes = Binary(1000);
  std::string key = ObjectKey(bytes);
  ASSERT_TRUE(this->store_->Put(key, bytes, "application/octet-stream").ok());
  auto all = this->store_->Get(key, std::nullopt);
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  EXPECT_EQ(*all, bytes);
  auto middle = this->store_->Get(key, ByteRange{2, 4});
  ASSERT_TRUE(middle.ok()) << middle.status().ToString();
  EXPECT_EQ(*middle, bytes.substr(2, 3));
  auto tail = this->store_->Get(key, ByteRange{990, 5000});  // clamped to the end
  ASSERT_TRUE(tail.ok()) << tail.status().ToString();
  EXPECT_EQ(*tail, bytes.substr(990));
  auto past = this->store_->Get(key, ByteRange{1000, 1010});  // starts past the end: nothing
  ASSERT_TRUE(past.ok()) << past.status().ToString();
  EXPECT_EQ(*past, "");
  auto reversed = this->store_->Get(key, ByteRange{5, 2});
  ASSERT_TRUE(reversed.ok()) << reversed.status().ToString();
  EXPECT_EQ(*reversed, "");
}

// Past a MiB, curl sends a PUT's body after a 100-continue, still signed with its hash.
TYPED_TEST(ObjectStoreTest, StoresLargeAndEmptyObjects) {
  for (const std::string& bytes : {Binary(3 << 20), std::string()}) {
    std::string key = ObjectKey(bytes);
    ASSERT_TRUE(this->store_->Put(key, bytes, "image/png").ok()) << bytes.size();
    auto got = this->store_->Get(key, std::nullopt);
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    EXPECT_EQ(got->size(), bytes.size());
    EXPECT_TRUE(*got == bytes);
  }
}

// Content-addressed: a stored key's bytes are known, so a second Put succeeds without writing. Putting
// other bytes under the key shows it (a caller never does that: the key is the bytes' hash).
TYPED_TEST(ObjectStoreTest, PutOfAStoredKeyWritesNothing) {
  std::string bytes = Binary(100), key = ObjectKey(bytes);
  ASSERT_TRUE(this->store_->Put(key, bytes, "").ok());
  ASSERT_TRUE(this->store_->Put(key, bytes, "").ok());
  ASSERT_TRUE(this->store_->Put(key, "other bytes", "").ok());
  auto got = this->store_->Get(key, std::nullopt);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(*got, bytes);
}

TYPED_TEST(ObjectStoreTest, MissingObjectsAndBadKeysAreRefused) {
  auto missing = this->store_->Get(ObjectKey("never stored " + RandomHex(8)), std::nullopt);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(missing.status().name(), "object_not_found");
  auto missing_range = this->store_->Get(ObjectKey("never stored " + RandomHex(8)), ByteRange{0, 10});
  EXPECT_EQ(missing_range.status().name(), "object_not_found");
  auto missing_reversed = this->store_->Get(ObjectKey("never stored " + RandomHex(8)), ByteRange{10, 0});
  EXPECT_EQ(missing_reversed.status().name(), "object_not_found");
  EXPECT_EQ(this->store_->Get("../../etc/passwd", std::nullopt).status().name(), "bad_key");
  EXPECT_EQ(this->store_->Put("x/../y", "b", "").name(), "bad_key");
}

TYPED_TEST(ObjectStoreTest, ThreadsShareAStore) {
  std::vector<std::thread> threads;
  std::vector<int> failures(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 10; ++i) {
        std::string bytes = Binary(100 + i), key = ObjectKey(bytes);
        Status put = this->store_->Put(key, bytes, "text/plain");
        auto got = this->store_->Get(key, std::nullopt);
        if (!put.ok() || !got.ok() || *got != bytes) ++failures[t];
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(failures, std::vector<int>(4, 0));
}

// ---- S3 only, on the suite's server -------------------------------------------------------------

class S3ObjectStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto c = TestS3Config();
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    config_ = *c;
  }
  ObjectStoreConfig config_;
};

TEST_F(S3ObjectStoreTest, OpenCreatesAMissingBucketAndKeepsAnExistingOne) {
  EXPECT_EQ(RawRequest(config_, "HEAD", "").status, 404);
  auto store = OpenS3ObjectStore(config_);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  EXPECT_EQ((*store)->Describe(), "s3 " + config_.s3_endpoint + "/" + config_.s3_bucket);
  EXPECT_EQ(RawRequest(config_, "HEAD", "").status, 200);
  std::string key = ObjectKey("kept");
  ASSERT_TRUE((*store)->Put(key, "kept", "image/webp").ok());
  // A second process opening the same bucket sees the same objects.
  auto again = OpenS3ObjectStore(config_);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  auto got = (*again)->Get(key, std::nullopt);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(*got, "kept");
}

TEST_F(S3ObjectStoreTest, ObjectsKeepTheirContentTypeAndNeedASignature) {
  auto store = OpenS3ObjectStore(config_);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  std::string key = ObjectKey("typed " + RandomHex(4));
  ASSERT_TRUE((*store)->Put(key, "typed", "image/webp").ok());
  Raw signed_head = RawRequest(config_, "HEAD", key);
  EXPECT_EQ(signed_head.status, 200);
  EXPECT_EQ(signed_head.content_type, "image/webp");
  EXPECT_EQ(RawRequest(config_, "GET", key, /*sign=*/false).status, 403);  // no anonymous reads
}

// SigV4 is really checked: a wrong secret (or an unknown key id) signs differently and is refused.
TEST_F(S3ObjectStoreTest, WrongCredentialsAreRefused) {
  ASSERT_TRUE(OpenS3ObjectStore(config_).ok());  // the bucket exists: the refusal is about the signature
  ObjectStoreConfig wrong_secret = config_;
  wrong_secret.s3_secret_key += "x";
  auto refused = OpenS3ObjectStore(wrong_secret);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().name(), "s3_bad_credentials") << refused.status().ToString();
  // The store's state, not an object's: a worker waits for an operator to put it right.
  EXPECT_EQ(refused.status().code(), StatusCode::kUnavailable);
  ObjectStoreConfig wrong_key = config_;
  wrong_key.s3_access_key = "nobody" + RandomHex(4);
  EXPECT_EQ(OpenS3ObjectStore(wrong_key).status().name(), "s3_bad_credentials");
}

TEST_F(S3ObjectStoreTest, EverySettingCanComeFromTheConfigFile) {
  char tmpl[] = "/tmp/s3-config-XXXXXX";
  int fd = ::mkstemp(tmpl);
  ASSERT_GE(fd, 0);
  ::close(fd);
  {
    std::ofstream out(tmpl);
    out << "# the suite's SeaweedFS\n"
        << "export CHATPIPE_S3_ENDPOINT='" << config_.s3_endpoint << "'\n"
        << "CHATPIPE_S3_BUCKET = " << config_.s3_bucket << "\n"
        << "CHATPIPE_S3_REGION=" << config_.s3_region << "\n\n"
        << "CHATPIPE_S3_ACCESS_KEY_ID=\"" << config_.s3_access_key << "\"\n"
        << "CHATPIPE_S3_SECRET_ACCESS_KEY=" << config_.s3_secret_key << "\n";
  }
  ObjectStoreConfig only_file;
  only_file.s3_config_file = tmpl;
  auto store = OpenObjectStore(only_file);  // a config file alone selects S3
  std::filesystem::remove(tmpl);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  EXPECT_EQ((*store)->Describe(), "s3 " + config_.s3_endpoint + "/" + config_.s3_bucket);
  std::string key = ObjectKey("from the file");
  ASSERT_TRUE((*store)->Put(key, "from the file", "text/plain").ok());
  EXPECT_EQ(RawRequest(config_, "HEAD", key).status, 200);
}

// ---- S3 only, no server needed ------------------------------------------------------------------

TEST(S3ConfigTest, TheFileFillsOnlyWhatIsUnset) {
  ObjectStoreConfig c;
  c.s3_bucket = "from-a-flag";
  Status s = ParseS3Config("# comment\n\n  CHATPIPE_S3_ENDPOINT = http://s3.local:8333 \r\n"
                           "export CHATPIPE_S3_BUCKET=from-the-file\n"
                           "CHATPIPE_S3_ACCESS_KEY_ID='AKID'\n"
                           "CHATPIPE_S3_SECRET_ACCESS_KEY=\"se=cr/et+\"\n"
                           "CHATPIPE_S3_REGION=eu-west-1",
                           "test", &c);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(c.s3_endpoint, "http://s3.local:8333");
  EXPECT_EQ(c.s3_bucket, "from-a-flag");
  EXPECT_EQ(c.s3_access_key, "AKID");
  EXPECT_EQ(c.s3_secret_key, "se=cr/et+");
  EXPECT_EQ(c.s3_region, "eu-west-1");
}

// Flag, then environment, then file, then default: each setting from the first place that has it.
TEST(S3ConfigTest, FlagsThenEnvironmentThenFileThenDefaults) {
  char path[] = "/tmp/s3-config-XXXXXX";
  int fd = ::mkstemp(path);
  ASSERT_GE(fd, 0);
  ::close(fd);
  std::ofstream(path) << "CHATPIPE_S3_ENDPOINT=http://from-the-file:8333\nCHATPIPE_S3_BUCKET=from-the-file\n"
                         "CHATPIPE_S3_REGION=from-the-file\nCHATPIPE_S3_ACCESS_KEY_ID=file-key\n"
                         "CHATPIPE_S3_SECRET_ACCESS_KEY=file-secret\n";
  // This test's own process (ctest runs each test alone): only what it sets is in the environment.
  for (const char* name : {"CHATPIPE_S3_ENDPOINT", "CHATPIPE_S3_BUCKET", "CHATPIPE_S3_SECRET_ACCESS_KEY", "CHATPIPE_S3_CONFIG",
                           "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"})
    ::unsetenv(name);
  ::setenv("CHATPIPE_S3_REGION", "eu-central-1", 1);
  ::setenv("CHATPIPE_S3_ACCESS_KEY_ID", "env-key", 1);
  CLI::App app;
  ObjectStoreConfig c;
  AddObjectStoreOptions(&app, &c);
  const char* argv[] = {"chatpipe", "--s3-bucket", "from-a-flag", "--s3-config", path};
  app.parse(5, argv);
  ::unsetenv("CHATPIPE_S3_REGION");
  ::unsetenv("CHATPIPE_S3_ACCESS_KEY_ID");
  auto resolved = ResolveS3Config(c);
  std::filesystem::remove(path);
  ASSERT_TRUE(resolved.ok()) << resolved.status().ToString();
  EXPECT_EQ(resolved->s3_bucket, "from-a-flag");
  EXPECT_EQ(resolved->s3_region, "eu-central-1");
  EXPECT_EQ(resolved->s3_access_key, "env-key");
  EXPECT_EQ(resolved->s3_endpoint, "http://from-the-file:8333");
  EXPECT_EQ(resolved->s3_secret_key, "file-secret");
}

TEST(S3ConfigTest, UnknownKeysAndOtherLinesAreRefusedWithTheirLine) {
  ObjectStoreConfig c;
  Status typo = ParseS3Config("CHATPIPE_S3_ENDPOINT=http://x\nCHATPIPE_S3_BUKET=b\n", "s3.conf", &c);
  EXPECT_EQ(typo.name(), "bad_config");
  EXPECT_NE(typo.detail().find("s3.conf:2: unknown key CHATPIPE_S3_BUKET"), std::string::npos) << typo.detail();
  Status no_equals = ParseS3Config("\n\nhttp://x\n", "s3.conf", &c);
  EXPECT_EQ(no_equals.name(), "bad_config");
  EXPECT_NE(no_equals.detail().find("s3.conf:3"), std::string::npos) << no_equals.detail();
}

TEST(S3ConfigTest, ResolvingAppliesDefaultsAndRequiresEndpointBucketAndCredentials) {
  ObjectStoreConfig c;
  c.s3_endpoint = "http://127.0.0.1:8333/";
  c.s3_access_key = "a";
  c.s3_secret_key = "s";
  auto resolved = ResolveS3Config(c);
  ASSERT_TRUE(resolved.ok()) << resolved.status().ToString();
  EXPECT_EQ(resolved->s3_endpoint, "http://127.0.0.1:8333");
  EXPECT_EQ(resolved->s3_bucket, "chatpipe");
  EXPECT_EQ(resolved->s3_region, "us-east-1");

  auto without = [&](std::string ObjectStoreConfig::*field, std::string value = "") {
    ObjectStoreConfig changed = c;
    changed.*field = value;
    return ResolveS3Config(changed).status();
  };
  EXPECT_NE(without(&ObjectStoreConfig::s3_endpoint).detail().find("no S3 endpoint"), std::string::npos);
  EXPECT_NE(without(&ObjectStoreConfig::s3_access_key).detail().find("no S3 credentials"), std::string::npos);
  EXPECT_NE(without(&ObjectStoreConfig::s3_secret_key).detail().find("no S3 credentials"), std::string::npos);
  EXPECT_EQ(without(&ObjectStoreConfig::s3_endpoint, "s3.local:8333").name(), "bad_config");
  EXPECT_EQ(without(&ObjectStoreConfig::s3_bucket, "Bad_Bucket").name(), "bad_config");
  EXPECT_EQ(without(&ObjectStoreConfig::s3_config_file, "/nonexistent/s3.conf").name(), "bad_config");
}

TEST(S3ConfigTest, AnUnreachableEndpointIsUnavailable) {
  // A port nothing listens on: the connection is refused at once.
  int port;
  {
    test::LoopbackServer closed([](int) {});
    port = closed.port();
  }
  ObjectStoreConfig c;
  c.s3_endpoint = "http://127.0.0.1:" + std::to_string(port);
  c.s3_access_key = "a";
  c.s3_secret_key = "s";
  auto store = OpenS3ObjectStore(c);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(store.status().name(), "s3_unavailable");
}

// A fake S3 answering every request with `answer(first request line)`, over kept-alive connections.
class FakeS3 {
 public:
  explicit FakeS3(std::function<std::string(const std::string&)> answer)
      : server_([answer](int fd) {
          std::string in;
          while (true) {
            size_t end;
            while ((end = in.find("\r\n\r\n")) == std::string::npos)
              if (!test::RecvSome(fd, &in)) return;
            std::string line = in.substr(0, in.find("\r\n"));
            in.erase(0, end + 4);  // requests here have no body
            if (!test::SendAll(fd, answer(line))) return;
          }
        }) {}
  std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(server_.port()); }

 private:
  test::LoopbackServer server_;
};

std::string Answer(int status, const std::string& body) {
  return "HTTP/1.1 " + std::to_string(status) + " X\r\nContent-Length: " + std::to_string(body.size()) +
         "\r\n\r\n" + body;
}

TEST(S3FakeServerTest, PassingRefusalsAreUnavailableAndOtherRefusalsNamed) {
  FakeS3 busy([](const std::string&) { return Answer(503, "<Error><Code>SlowDown</Code></Error>"); });
  ObjectStoreConfig c;
  c.s3_endpoint = busy.endpoint();
  c.s3_access_key = "a";
  c.s3_secret_key = "s";
  auto store = OpenS3ObjectStore(c);
  EXPECT_EQ(store.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(store.status().name(), "s3_unavailable");

  // A HEAD's answer has no body; a GET's names the error.
  FakeS3 odd([](const std::string& line) {
    return line.rfind("HEAD", 0) == 0 ? Answer(200, "") : Answer(400, "<Error><Code>InvalidRequest</Code></Error>");
  });
  c.s3_endpoint = odd.endpoint();
  store = OpenS3ObjectStore(c);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  auto got = (*store)->Get(ObjectKey("x"), std::nullopt);
  EXPECT_EQ(got.status().name(), "s3_error");
  EXPECT_EQ(got.status().code(), StatusCode::kInternal);
  EXPECT_NE(got.status().detail().find("HTTP 400 InvalidRequest"), std::string::npos) << got.status().ToString();

  // Refusals about the store's state or a passing condition, not the object: retried, never dead-lettered.
  const struct {
    int status;
    const char* code;
    const char* name;
  } passing[] = {{400, "RequestTimeout", "s3_unavailable"},
                 {409, "OperationAborted", "s3_unavailable"},
                 {403, "RequestTimeTooSkewed", "s3_bad_credentials"},
                 {400, "ExpiredToken", "s3_bad_credentials"},
                 {401, "", "s3_bad_credentials"}};
  for (const auto& p : passing) {
    FakeS3 refusing([&](const std::string& line) {
      return line.rfind("HEAD", 0) == 0 ? Answer(200, "")
                                         : Answer(p.status, std::string("<Error><Code>") + p.code + "</Code></Error>");
    });
    c.s3_endpoint = refusing.endpoint();
    store = OpenS3ObjectStore(c);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    auto refused = (*store)->Get(ObjectKey("x"), std::nullopt);
    EXPECT_EQ(refused.status().code(), StatusCode::kUnavailable) << p.status << " " << p.code;
    EXPECT_EQ(refused.status().name(), p.name) << p.status << " " << p.code;
  }
}

// A server that ignores Range sends the whole object: the store cuts the range out.
TEST(S3FakeServerTest, ARangeIgnoredByTheServerIsCutOutHere) {
  FakeS3 ignores_ranges([](const std::string& line) {
    return line.rfind("HEAD", 0) == 0 ? Answer(200, "") : Answer(200, "0123456789");
  });
  ObjectStoreConfig c;
  c.s3_endpoint = ignores_ranges.endpoint();
  c.s3_access_key = "a";
  c.s3_secret_key = "s";
  auto store = OpenS3ObjectStore(c);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  std::string key = ObjectKey("0123456789");
  EXPECT_EQ((*store)->Get(key, ByteRange{2, 4}).value(), "234");
  EXPECT_EQ((*store)->Get(key, ByteRange{8, 100}).value(), "89");
  EXPECT_EQ((*store)->Get(key, ByteRange{10, 100}).value(), "");
  EXPECT_EQ((*store)->Get(key, std::nullopt).value(), "0123456789");
}

}  // namespace
}  // namespace chatpipe
