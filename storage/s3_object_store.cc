#include "storage/s3_object_store.h"

#include <curl/curl.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <fstream>
#include <mutex>
#include <sstream>
#include <utility>
#include <vector>

#include "common/redact.h"

namespace chatpipe {
namespace {

// A dead or unreachable S3 must not hold a worker for long: connecting gets a few seconds; a whole
// request (an object is at most a few MiB) a minute, and is dropped sooner when it stalls.
constexpr long kConnectTimeoutMs = 5'000;
constexpr long kRequestTimeoutMs = 60'000;
constexpr long kStallSeconds = 15;  // below 1 KiB/s for this long: the link is dead
// Idle handles kept for their open connections; more threads than this just make new ones.
constexpr size_t kMaxIdleHandles = 16;

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

std::string_view Unquote(std::string_view v) {
  if (v.size() >= 2 && (v.front() == '"' || v.front() == '\'') && v.back() == v.front()) return v.substr(1, v.size() - 2);
  return v;
}

Status BadConfig(std::string detail) { return Status::InvalidArgument("bad_config", std::move(detail)); }

// Bucket names as S3 allows them (3-63 of a-z 0-9 . -): one goes into every URL unescaped.
bool IsBucketName(std::string_view b) {
  if (b.size() < 3 || b.size() > 63) return false;
  return std::all_of(b.begin(), b.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-';
  });
}

// The <Code> of an S3 error body ("SignatureDoesNotMatch", "NoSuchBucket"), or "".
std::string ErrorCode(const std::string& body) {
  size_t begin = body.find("<Code>"), end = body.find("</Code>");
  if (begin == std::string::npos || end == std::string::npos || end < begin) return "";
  return body.substr(begin + 6, end - begin - 6);
}

void GlobalInit() {
  // curl_global_init is not thread-safe itself: the first store of the process calls it, once.
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

size_t OnBody(char* data, size_t size, size_t count, void* out) {
  static_cast<std::string*>(out)->append(data, size * count);
  return size * count;
}

class S3ObjectStore : public ObjectStore {
 public:
  explicit S3ObjectStore(ObjectStoreConfig config);
  ~S3ObjectStore() override;
  // Checks the bucket with the credentials; creates it when it is missing.
  Status Open();
  Status Put(std::string_view key, std::string_view bytes, std::string_view content_type) override;
  Result<std::string> Get(std::string_view key, std::optional<ByteRange> range) override;
  std::string Describe() const override { return "s3 " + RedactUrl(config_.s3_endpoint) + "/" + config_.s3_bucket; }

 private:
  struct Response {
    long status = 0;
    std::string body;
  };
  // One request to ENDPOINT/BUCKET[/KEY], signed; fails only when no HTTP answer came.
  Result<Response> Send(const char* method, std::string_view key, std::string_view body,
                        const std::vector<std::string>& headers);
  // The Status of an answer the caller did not expect.
  Status Failure(const char* method, std::string_view key, const Response& r) const;
  CURL* TakeHandle();
  void ReturnHandle(CURL* handle);

  const ObjectStoreConfig config_;
  const std::string sigv4_;  // "aws:amz:REGION:s3"
  std::mutex mu_;
  std::vector<CURL*> idle_;  // guarded by mu_
};

S3ObjectStore::S3ObjectStore(ObjectStoreConfig config)
    : config_(std::move(config)), sigv4_("aws:amz:" + config_.s3_region + ":s3") {
  GlobalInit();
}

S3ObjectStore::~S3ObjectStore() {
  for (CURL* h : idle_) curl_easy_cleanup(h);
}

CURL* S3ObjectStore::TakeHandle() {
  {
    std::lock_guard lock(mu_);
    if (!idle_.empty()) {
      CURL* h = idle_.back();
      idle_.pop_back();
      return h;
    }
  }
  return curl_easy_init();
}

void S3ObjectStore::ReturnHandle(CURL* handle) {
  {
    std::lock_guard lock(mu_);
    if (idle_.size() < kMaxIdleHandles) {
      idle_.push_back(handle);
      return;
    }
  }
  curl_easy_cleanup(handle);
}

Result<S3ObjectStore::Response> S3ObjectStore::Send(const char* method, std::string_view key, std::string_view body,
                                                    const std::vector<std::string>& headers) {
  CURL* c = TakeHandle();
  if (!c) return Status::Internal("curl_easy_init failed");
  curl_easy_reset(c);  // keeps the handle's connections, forgets the last request's options
  std::string url = config_.s3_endpoint + "/" + config_.s3_bucket;
  if (!key.empty()) url += "/" + std::string(key);
  // curl 7.88 signs the hash of the POSTFIELDS body but sends no x-amz-content-sha256, which S3 requires
  // and checks against the body. So the body goes as POSTFIELDS (PUT, not a read callback, whose bytes
  // curl would not hash) and the header carries the same hash: the server verifies the bytes too.
  curl_slist* list = curl_slist_append(nullptr, ("x-amz-content-sha256: " + ObjectKey(body)).c_str());
  for (const std::string& h : headers) list = curl_slist_append(list, h.c_str());
  std::string method_name = method;
  if (method_name == "HEAD") {
    curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
  } else if (method_name == "PUT") {
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, "PUT");
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body.empty() ? "" : body.data());  // null would mean "no body"
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
  }
  Response response;
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, list);
  curl_easy_setopt(c, CURLOPT_AWS_SIGV4, sigv4_.c_str());
  // Name and secret apart rather than CURLOPT_USERPWD's "name:secret", which a ':' would split wrongly.
  curl_easy_setopt(c, CURLOPT_USERNAME, config_.s3_access_key.c_str());
  curl_easy_setopt(c, CURLOPT_PASSWORD, config_.s3_secret_key.c_str());
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, kConnectTimeoutMs);
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, kRequestTimeoutMs);
  curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1024L);
  curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, kStallSeconds);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);  // threads: no SIGALRM for timeouts
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, OnBody);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &response.body);
  CURLcode rc = curl_easy_perform(c);
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &response.status);
  curl_slist_free_all(list);
  ReturnHandle(c);
  if (rc != CURLE_OK)
    return Status::Unavailable("s3_unavailable", method_name + " " + url + ": " + curl_easy_strerror(rc));
  return response;
}

Status S3ObjectStore::Failure(const char* method, std::string_view key, const Response& r) const {
  std::string what = std::string(method) + " " + config_.s3_endpoint + "/" + config_.s3_bucket +
                     (key.empty() ? "" : "/" + std::string(key)) + ": HTTP " + std::to_string(r.status);
  const std::string code = ErrorCode(r.body);
  if (!code.empty()) what += " " + code;
  // Retrying later may pass: the service is down, overloaded or throttling, or says to try again.
  if (r.status >= 500 || r.status == 429 || code == "RequestTimeout" || code == "OperationAborted" ||
      code == "SlowDown")
    return Status::Unavailable("s3_unavailable", what);
  // The store's state, not the object's: the access key, secret, region, or clock must be put right
  // by an operator. Unavailable, so a worker waits for that (and then goes on) rather than
  // dead-letter every event meanwhile.
  if (r.status == 401 || r.status == 403 || code == "RequestTimeTooSkewed" || code == "ExpiredToken")
    return Status::Unavailable("s3_bad_credentials",
                               what + ": S3 refused the credentials (access key, secret, region, or this clock)");
  return Status::Internal("s3_error", what);
}

Status S3ObjectStore::Open() {
  auto head = Send("HEAD", "", "", {});
  if (!head.ok()) return head.status();
  if (head->status == 200) return Status::Ok();
  if (head->status != 404) return Failure("HEAD", "", *head);
  // Outside us-east-1, AWS wants the bucket's region in the body; elsewhere no body at all.
  std::string body;
  if (config_.s3_region != kDefaultS3Region)
    body = "<CreateBucketConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><LocationConstraint>" +
           config_.s3_region + "</LocationConstraint></CreateBucketConfiguration>";
  auto create = Send("PUT", "", body, {"Content-Type: application/xml"});
  if (!create.ok()) return create.status();
  // Another process may have created it since our HEAD: that is as good.
  if (create->status == 200 || ErrorCode(create->body) == "BucketAlreadyOwnedByYou") {
    spdlog::info("object store: created the bucket {}", Describe());
    return Status::Ok();
  }
  return Failure("PUT", "", *create);
}

Status S3ObjectStore::Put(std::string_view key, std::string_view bytes, std::string_view content_type) {
  if (!IsObjectKey(key)) return Status::InvalidArgument("bad_key", "not an object key");
  // A HEAD first: a stored key holds these bytes already, so a repeated upload costs one small request
  // instead of sending the bytes again (and, in a versioned bucket, keeping a second copy). A new object
  // pays one extra round trip; two racing Puts of a new key both write, the same bytes.
  auto head = Send("HEAD", key, "", {});
  if (!head.ok()) return head.status();
  if (head->status == 200) return Status::Ok();
  if (head->status != 404) return Failure("HEAD", key, *head);
  std::string type(content_type.empty() ? "application/octet-stream" : content_type);
  auto put = Send("PUT", key, bytes, {"Content-Type: " + type});
  if (!put.ok()) return put.status();
  return put->status == 200 ? Status::Ok() : Failure("PUT", key, *put);
}

Result<std::string> S3ObjectStore::Get(std::string_view key, std::optional<ByteRange> range) {
  if (!IsObjectKey(key)) return Status::InvalidArgument("bad_key", "not an object key");
  auto not_found = [&] { return Status::NotFound("object_not_found", "no object " + std::string(key)); };
  // "bytes=5-2" is no range to HTTP (the whole object would come back): as the local store, an empty
  // read of an object that exists.
  if (range && range->last < range->first) {
    auto head = Send("HEAD", key, "", {});
    if (!head.ok()) return head.status();
    if (head->status == 404) return not_found();
    if (head->status != 200) return Failure("HEAD", key, *head);
    return std::string();
  }
  std::vector<std::string> headers;
  if (range) headers.push_back("Range: bytes=" + std::to_string(range->first) + "-" + std::to_string(range->last));
  auto got = Send("GET", key, "", headers);
  if (!got.ok()) return got.status();
  switch (got->status) {
    case 206: return std::move(got->body);
    case 404: return not_found();
    case 416: return std::string();  // the range starts past the end: nothing of it exists
    case 200:
      // A server that ignores Range sends the whole object: cut the range out here.
      if (range) {
        const std::string& all = got->body;
        if (range->first >= all.size()) return std::string();
        return all.substr(range->first, std::min<uint64_t>(range->last, all.size() - 1) - range->first + 1);
      }
      return std::move(got->body);
    default: return Failure("GET", key, *got);
  }
}

// The name of each setting in the environment and the config file, and where it goes.
std::vector<std::pair<std::string_view, std::string*>> Fields(ObjectStoreConfig* c) {
  return {{"CHATPIPE_S3_ENDPOINT", &c->s3_endpoint},       {"CHATPIPE_S3_BUCKET", &c->s3_bucket},
          {"CHATPIPE_S3_REGION", &c->s3_region},           {"CHATPIPE_S3_ACCESS_KEY_ID", &c->s3_access_key},
          {"CHATPIPE_S3_SECRET_ACCESS_KEY", &c->s3_secret_key}};
}

}  // namespace

Status ParseS3Config(std::string_view text, std::string_view source, ObjectStoreConfig* config) {
  int number = 0;
  while (!text.empty()) {
    size_t end = text.find('\n');
    std::string_view line = Trim(text.substr(0, end));
    text = end == std::string_view::npos ? std::string_view() : text.substr(end + 1);
    ++number;
    if (line.empty() || line.front() == '#') continue;
    std::string where = std::string(source) + ":" + std::to_string(number);
    if (line.substr(0, 7) == "export ") line = Trim(line.substr(7));
    size_t eq = line.find('=');
    if (eq == std::string_view::npos) return BadConfig(where + ": not a KEY=VALUE line");
    std::string_view name = Trim(line.substr(0, eq));
    std::string_view value = Unquote(Trim(line.substr(eq + 1)));
    auto fields = Fields(config);
    auto field = std::find_if(fields.begin(), fields.end(), [&](const auto& f) { return f.first == name; });
    if (field == fields.end())
      return BadConfig(where + ": unknown key " + std::string(name) +
                       " (CHATPIPE_S3_ENDPOINT, _BUCKET, _REGION, _ACCESS_KEY_ID or _SECRET_ACCESS_KEY)");
    if (field->second->empty()) *field->second = std::string(value);
  }
  return Status::Ok();
}

Result<ObjectStoreConfig> ResolveS3Config(const ObjectStoreConfig& given) {
  ObjectStoreConfig c = given;
  if (!c.s3_config_file.empty()) {
    std::ifstream in(c.s3_config_file);
    if (!in) return BadConfig("cannot read the S3 config file " + c.s3_config_file);
    std::stringstream text;
    text << in.rdbuf();
    if (Status s = ParseS3Config(text.str(), c.s3_config_file, &c); !s.ok()) return s;
  }
  if (c.s3_bucket.empty()) c.s3_bucket = kDefaultS3Bucket;
  if (c.s3_region.empty()) c.s3_region = kDefaultS3Region;
  while (!c.s3_endpoint.empty() && c.s3_endpoint.back() == '/') c.s3_endpoint.pop_back();
  if (c.s3_endpoint.empty())
    return BadConfig("no S3 endpoint: set --s3-endpoint, CHATPIPE_S3_ENDPOINT or CHATPIPE_S3_ENDPOINT in the --s3-config file");
  if (c.s3_endpoint.rfind("http://", 0) != 0 && c.s3_endpoint.rfind("https://", 0) != 0)
    return BadConfig("the S3 endpoint must be an http:// or https:// URL, not " + c.s3_endpoint);
  if (!IsBucketName(c.s3_bucket))
    return BadConfig("bad S3 bucket name " + c.s3_bucket + ": 3 to 63 of a-z, 0-9, '.', '-'");
  if (c.s3_access_key.empty() || c.s3_secret_key.empty())
    return BadConfig("no S3 credentials: set CHATPIPE_S3_ACCESS_KEY_ID and CHATPIPE_S3_SECRET_ACCESS_KEY (or AWS_*), "
                     "in the environment or the --s3-config file");
  return c;
}

Result<std::unique_ptr<ObjectStore>> OpenS3ObjectStore(const ObjectStoreConfig& config) {
  Result<ObjectStoreConfig> resolved = ResolveS3Config(config);
  if (!resolved.ok()) return resolved.status();
  auto store = std::make_unique<S3ObjectStore>(std::move(*resolved));
  if (Status s = store->Open(); !s.ok()) return s;
  return std::unique_ptr<ObjectStore>(std::move(store));
}

}  // namespace chatpipe
