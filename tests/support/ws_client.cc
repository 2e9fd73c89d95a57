#include "tests/support/ws_client.h"

#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/evp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace chatpipe::test {

namespace {

using Clock = std::chrono::steady_clock;

constexpr auto kSendTimeout = std::chrono::seconds(5);
constexpr size_t kMaxResponseHeader = 65536;

// The kind of a refused upgrade, from the HTTP status the server answered with.
StatusCode RefusalCode(int http_status) {
  switch (http_status) {
    case 400: return StatusCode::kInvalidArgument;
    case 401: return StatusCode::kUnauthenticated;
    case 403: return StatusCode::kPermissionDenied;
    case 404: return StatusCode::kNotFound;
    case 429: return StatusCode::kResourceExhausted;
    case 503: return StatusCode::kUnavailable;
    default: return StatusCode::kInternal;
  }
}

Status Timeout(const std::string& what) { return Status::DeadlineExceeded("timeout", "timed out " + what); }
Status SocketError(const std::string& what) {
  return Status::Unavailable("socket_error", what + ": " + std::strerror(errno));
}

// Waits until fd is ready for `events` or the deadline passes.
Status PollReady(int fd, short events, Clock::time_point deadline, const char* what) {
  for (;;) {
    // Rounded up: poll must not wake before the deadline and report a timeout early.
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) return Timeout(what);
    pollfd p{fd, events, 0};
    const int n = ::poll(&p, 1, static_cast<int>(left));
    if (n > 0) return Status::Ok();
    if (n < 0 && errno != EINTR) return SocketError("poll");
  }
}

Status WriteAll(int fd, std::string_view data, Clock::time_point deadline) {
  while (!data.empty()) {
    const ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n >= 0) {
      data.remove_prefix(static_cast<size_t>(n));
    } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
      Status s = PollReady(fd, POLLOUT, deadline, "sending");
      if (!s.ok()) return s;
    } else if (errno != EINTR) {
      return SocketError("send");
    }
  }
  return Status::Ok();
}

// Appends whatever arrives next to *buffer. The peer closing the connection is "eof".
Status ReadSome(int fd, std::string* buffer, Clock::time_point deadline) {
  for (;;) {
    Status s = PollReady(fd, POLLIN, deadline, "receiving");
    if (!s.ok()) return s;
    char chunk[65536];
    const ssize_t n = ::recv(fd, chunk, sizeof(chunk), 0);
    if (n > 0) {
      buffer->append(chunk, static_cast<size_t>(n));
      return Status::Ok();
    }
    if (n == 0) return Status::Unavailable("eof", "the server closed the connection");
    if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) return SocketError("recv");
  }
}

// A non-blocking TCP connection to the first address of host that accepts one.
Result<int> ConnectTcp(const std::string& host, uint16_t port, Clock::time_point deadline) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* addrs = nullptr;
  const int rc = ::getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &addrs);
  if (rc != 0) return Status::Unavailable("connect_failed", host + ": " + ::gai_strerror(rc));
  Status last = Status::Unavailable("connect_failed", "no address for " + host);
  for (addrinfo* a = addrs; a != nullptr; a = a->ai_next) {
    const int fd = ::socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) continue;
    int err = ::connect(fd, a->ai_addr, a->ai_addrlen) == 0 ? 0 : errno;
    if (err == EINPROGRESS) {
      Status wait = PollReady(fd, POLLOUT, deadline, "connecting");
      if (!wait.ok()) {  // out of time: no point trying the other addresses
        ::close(fd);
        last = wait;
        break;
      }
      socklen_t len = sizeof(err);
      ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
    }
    if (err == 0) {
      const int one = 1;
      ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
      ::freeaddrinfo(addrs);
      return fd;
    }
    ::close(fd);
    last = Status::Unavailable("connect_failed", host + ":" + std::to_string(port) + ": " + std::strerror(err));
  }
  ::freeaddrinfo(addrs);
  return last;
}

std::string ToLower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

struct HandshakeResponse {
  int status = 0;
  std::map<std::string, std::string> headers;  // lower-case names
  size_t header_bytes = 0;                     // where the body (or the first frame) starts
};

// Parses the status line and headers at the front of `data`; false if they are malformed.
bool ParseResponseHead(std::string_view data, HandshakeResponse* out) {
  const size_t end = data.find("\r\n\r\n");
  if (end == std::string_view::npos || data.substr(0, 9) != "HTTP/1.1 " || data.size() < 12) return false;
  out->status = std::atoi(std::string(data.substr(9, 3)).c_str());  // 0 if not a number
  out->header_bytes = end + 4;
  std::string_view rest = data.substr(0, end + 2);
  rest.remove_prefix(rest.find("\r\n") + 2);
  while (!rest.empty()) {
    const size_t eol = rest.find("\r\n");
    const std::string_view line = rest.substr(0, eol);
    rest.remove_prefix(eol + 2);
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos) return false;
    std::string_view value = line.substr(colon + 1);
    while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    out->headers[ToLower(std::string(line.substr(0, colon)))] = std::string(value);
  }
  return out->status >= 100;
}

std::string Base64(const uint8_t* data, size_t len) {
  std::string out(4 * ((len + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), data, static_cast<int>(len));
  out.resize(static_cast<size_t>(n));
  return out;
}

}  // namespace

WsClient::WsClient(int fd) : fd_(fd), rng_(std::random_device()()) {}

WsClient::~WsClient() {
  if (fd_ >= 0) ::close(fd_);
}

Result<std::unique_ptr<WsClient>> WsClient::Connect(const std::string& host, uint16_t port,
                                                    const std::string& path_and_query,
                                                    const std::vector<std::string>& extra_headers,
                                                    std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  Result<int> fd = ConnectTcp(host, port, deadline);
  if (!fd.ok()) return fd.status();
  std::unique_ptr<WsClient> client(new WsClient(*fd));

  uint8_t nonce[16];
  for (uint8_t& b : nonce) b = static_cast<uint8_t>(client->rng_());  // need not be secret, only fresh
  const std::string key = Base64(nonce, sizeof(nonce));
  std::string request = "GET " + path_and_query + " HTTP/1.1\r\nHost: " + host + ":" + std::to_string(port) +
                        "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: " + key +
                        "\r\nSec-WebSocket-Version: 13\r\n";
  for (const std::string& line : extra_headers) request += line + "\r\n";
  request += "\r\n";
  Status s = WriteAll(client->fd_, request, deadline);
  if (!s.ok()) return s;

  std::string& in = client->pending_;
  HandshakeResponse response;
  while (!ParseResponseHead(in, &response)) {
    if (in.find("\r\n\r\n") != std::string::npos || in.size() > kMaxResponseHeader) {
      return Status::Internal("bad_handshake", "malformed handshake response");
    }
    s = ReadSome(client->fd_, &in, deadline);
    if (!s.ok()) return s;
  }
  if (response.status != 101) {
    // Read the body, if it says how long it is, so the test can see why it was refused.
    const auto length = response.headers.find("content-length");
    const size_t body_len = length == response.headers.end() ? 0 : std::strtoul(length->second.c_str(), nullptr, 10);
    while (in.size() < response.header_bytes + body_len && ReadSome(client->fd_, &in, deadline).ok()) {
    }
    return Status(RefusalCode(response.status), "upgrade_refused", in.substr(response.header_bytes, body_len));
  }
  const auto accept = response.headers.find("sec-websocket-accept");
  if (accept == response.headers.end() || accept->second != ws::AcceptKey(key)) {
    return Status::Internal("bad_handshake", "wrong or missing Sec-WebSocket-Accept");
  }
  client->handshake_headers_ = std::move(response.headers);
  client->pending_pos_ = response.header_bytes;  // anything after the head is already WebSocket frames
  return client;
}

Status WsClient::SendText(std::string_view text) { return SendFrame(ws::Opcode::kText, text); }
Status WsClient::SendBinary(std::string_view data) { return SendFrame(ws::Opcode::kBinary, data); }
Status WsClient::SendPing(std::string_view data) { return SendFrame(ws::Opcode::kPing, data); }

Status WsClient::SendRaw(std::string_view bytes) {
  if (fd_ < 0) return Status::Unavailable("closed", "the client is closed");
  return WriteAll(fd_, bytes, Clock::now() + kSendTimeout);
}

void WsClient::NewMask(uint8_t mask[4]) {
  for (int i = 0; i < 4; ++i) mask[i] = static_cast<uint8_t>(rng_());
}

Status WsClient::SendFrame(ws::Opcode opcode, std::string_view payload) {
  uint8_t mask[4];
  NewMask(mask);
  return SendRaw(ws::EncodeFrame(opcode, payload, mask));
}

Status WsClient::SendClose(uint16_t code, std::string_view reason) {
  close_sent_ = true;
  uint8_t mask[4];
  NewMask(mask);
  return SendRaw(ws::EncodeCloseFrame(code, reason, mask));
}

Status WsClient::NextEvent(Clock::time_point deadline, ws::Event* event) {
  for (;;) {
    while (pending_pos_ < pending_.size()) {
      pending_pos_ += decoder_.Feed(pending_.data() + pending_pos_, pending_.size() - pending_pos_, event);
      if (decoder_.failed()) return Status::Internal("protocol_error", decoder_.error_reason());
      if (event->type != ws::Event::Type::kNone) return Status::Ok();
    }
    pending_.clear();
    pending_pos_ = 0;
    if (fd_ < 0) return Status::Unavailable("closed", "the client is closed");
    Status s = ReadSome(fd_, &pending_, deadline);
    if (s.name() == "eof" && close_code_ == 0) close_code_ = 1006;
    if (!s.ok()) return s;
  }
}

Result<std::string> WsClient::ReceiveText(std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    if (close_code_ != 0) {
      return Status::Unavailable("closed", "closed with " + std::to_string(close_code_) + " " + close_reason_);
    }
    ws::Event event;
    Status s = NextEvent(deadline, &event);
    if (!s.ok() && close_code_ == 0) return s;
    if (!s.ok()) continue;  // the connection dropped: reported as closed above
    switch (event.type) {
      case ws::Event::Type::kText:
        return std::string(event.payload);
      case ws::Event::Type::kBinary:
        return Status::Internal("unexpected_binary", "received a binary message");
      case ws::Event::Type::kPing:
        ++pings_;
        if (!answer_pings_) break;
        s = SendFrame(ws::Opcode::kPong, event.payload);
        if (!s.ok()) return s;
        break;
      case ws::Event::Type::kPong:
        ++pongs_;
        break;
      case ws::Event::Type::kClose: {
        close_code_ = event.close_code;
        close_reason_ = std::string(event.payload);
        // Echo the code, as RFC 6455 asks. Failing to is not the test's concern: it asked to receive.
        if (!close_sent_) SendClose(close_code_, "");
        break;  // reported at the top of the loop
      }
      case ws::Event::Type::kNone:
        break;
    }
  }
}

Status WsClient::Close(uint16_t code, std::string_view reason, std::chrono::milliseconds timeout) {
  if (fd_ < 0) return Status::Ok();
  const auto deadline = Clock::now() + timeout;
  Status result;
  if (!close_sent_) result = SendClose(code, reason);
  while (result.ok() && close_code_ == 0) {
    ws::Event event;
    result = NextEvent(deadline, &event);
    if (result.ok() && event.type == ws::Event::Type::kClose) {
      close_code_ = event.close_code;
      close_reason_ = std::string(event.payload);
    }
  }
  ::close(fd_);
  fd_ = -1;
  return result;
}

}  // namespace chatpipe::test
