// chatpipe-epoll-peer: the hardware reference for the fan-out scenarios, the design the issue names
// as the floor of this machine: one thread, one epoll set, each connection's frames appended to its
// own byte queue, and every connection with output written once per loop iteration (corking).
//
// It speaks the subset of chatpipe's WebSocket protocol chatpipe-loadgen uses (as ws-server.js
// does): GET /ws; {"type":"join","room":R} -> {"type":"joined",...}; {"type":"send",...} -> an
// ack to the sender and one "message" frame, encoded once, copied to every member's queue. Nothing
// is stored, nothing is checked beyond what the generator needs, and nothing leaves the process.
//
// Usage: chatpipe-epoll-peer --port N   (0: a free port; prints "listening on 0.0.0.0:PORT")
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "ingress/websocket.h"

namespace {

using chatpipe::ws::Event;

struct Conn {
  int fd = -1;
  int user = 0;
  bool upgraded = false;
  bool dirty = false;    // on the flush list of this iteration
  bool blocked = false;  // the socket held output back: EPOLLOUT is on
  std::string in;        // the HTTP request until the upgrade
  std::string out;       // queued bytes, written at the end of the iteration
  chatpipe::ws::FrameDecoder decoder{chatpipe::ws::Role::kServer};
};

struct Room {
  long head = 0;
  std::vector<Conn*> members;
};

int epoll_fd;
std::unordered_map<long, Room> rooms;
std::vector<Conn*> dirty;
long next_message = 1;

void Queue(Conn* c, const std::string& frame) {
  c->out += frame;
  if (!c->dirty) {
    c->dirty = true;
    dirty.push_back(c);
  }
}

std::string TextFrame(const std::string& payload) {
  uint8_t header[chatpipe::ws::kMaxFrameHeader];
  const size_t n = chatpipe::ws::EncodeFrameHeader(chatpipe::ws::Opcode::kText, payload.size(), true, nullptr, header);
  return std::string(reinterpret_cast<char*>(header), n) + payload;
}

std::string Quoted(const rapidjson::Value& v) {
  rapidjson::StringBuffer sb;
  rapidjson::Writer<rapidjson::StringBuffer> w(sb);
  v.Accept(w);
  return sb.GetString();
}

void OnText(Conn* c, std::string_view payload) {
  rapidjson::Document d;
  d.Parse(payload.data(), payload.size());
  if (d.HasParseError() || !d.IsObject() || !d.HasMember("type") || !d.HasMember("room") || !d["room"].IsInt64())
    return Queue(c, TextFrame(R"({"type":"error","code":"bad_request","reason":"type and room"})"));
  const long id = d["room"].GetInt64();
  const std::string type = d["type"].IsString() ? d["type"].GetString() : "";
  Room& room = rooms[id];
  if (type == "join") {
    room.members.push_back(c);
    return Queue(c, TextFrame(R"({"type":"joined","room":)" + std::to_string(id) + R"(,"pos":)" +
                              std::to_string(room.head) + "}"));
  }
  if (type != "send" || !d.HasMember("text") || !d["text"].IsString() || !d.HasMember("client_msg_id"))
    return Queue(c, TextFrame(R"({"type":"error","code":"bad_request","reason":"send needs text and client_msg_id"})"));
  const std::string msg_id = std::to_string(next_message++);
  const std::string ts = std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(
                                            std::chrono::system_clock::now().time_since_epoch()).count());
  const std::string client_msg_id = Quoted(d["client_msg_id"]);
  Queue(c, TextFrame(R"({"type":"ack","room":)" + std::to_string(id) + R"(,"id":")" + msg_id +
                     R"(","client_msg_id":)" + client_msg_id + R"(,"ts":)" + ts + "}"));
  const std::string frame = TextFrame(
      R"({"type":"message","room":)" + std::to_string(id) + R"(,"pos":)" + std::to_string(++room.head) +
      R"(,"id":")" + msg_id + R"(","user":{"id":)" + std::to_string(c->user) + R"(,"name":"u)" +
      std::to_string(c->user) + R"("},"text":)" + Quoted(d["text"]) + R"(,"client_msg_id":)" + client_msg_id +
      R"(,"ts":)" + ts + "}");
  for (Conn* member : room.members) Queue(member, frame);
}

void Close(Conn* c) {
  for (auto& [id, room] : rooms) std::erase(room.members, c);
  std::erase(dirty, c);
  close(c->fd);
  delete c;
}

// Returns false when the connection is gone.
bool OnReadable(Conn* c, char* buf, size_t size) {
  for (;;) {
    const ssize_t n = read(c->fd, buf, size);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) return Close(c), false;
    if (n < 0) return true;
    std::string_view data(buf, static_cast<size_t>(n));
    if (!c->upgraded) {
      c->in.append(data);
      const size_t end = c->in.find("\r\n\r\n");
      if (end == std::string::npos) continue;
      const size_t at = c->in.find("Sec-WebSocket-Key: ");
      if (at == std::string::npos) return Close(c), false;
      const size_t from = at + 19;
      const std::string key = c->in.substr(from, c->in.find("\r\n", from) - from);
      Queue(c, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
               "Sec-WebSocket-Accept: " + chatpipe::ws::AcceptKey(key) + "\r\n\r\n");
      c->upgraded = true;
      data = std::string_view(c->in).substr(end + 4);
    }
    while (!data.empty()) {
      Event event;
      data.remove_prefix(c->decoder.Feed(data.data(), data.size(), &event));
      if (c->decoder.failed() || event.type == Event::Type::kClose) return Close(c), false;
      if (event.type == Event::Type::kText) OnText(c, event.payload);
    }
    if (c->upgraded && !c->in.empty()) std::string().swap(c->in);
  }
}

void Flush() {
  for (size_t i = 0; i < dirty.size(); ++i) {
    Conn* c = dirty[i];
    c->dirty = false;
    const ssize_t n = write(c->fd, c->out.data(), c->out.size());
    if (n > 0) c->out.erase(0, static_cast<size_t>(n));
    const bool blocked = !c->out.empty();
    if (blocked != c->blocked) {
      c->blocked = blocked;
      epoll_event ev{EPOLLIN | (blocked ? EPOLLOUT : 0u), {.ptr = c}};
      epoll_ctl(epoll_fd, EPOLL_CTL_MOD, c->fd, &ev);
    }
  }
  dirty.clear();
}

}  // namespace

int main(int argc, char** argv) {
  int port = 0;
  for (int i = 1; i + 1 < argc; i += 2)
    if (std::strcmp(argv[i], "--port") == 0) port = std::atoi(argv[i + 1]);
  const int listener = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  const int one = 1;
  setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  socklen_t len = sizeof addr;
  if (bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || listen(listener, 4096) != 0 ||
      getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    std::perror("chatpipe-epoll-peer: listen");
    return 1;
  }
  std::printf("chatpipe-epoll-peer %d listening on 0.0.0.0:%d\n", getpid(), ntohs(addr.sin_port));
  std::fflush(stdout);
  epoll_fd = epoll_create1(0);
  epoll_event lev{EPOLLIN, {.ptr = nullptr}};
  epoll_ctl(epoll_fd, EPOLL_CTL_ADD, listener, &lev);
  std::vector<epoll_event> events(1024);
  auto buf = std::make_unique<char[]>(65536);
  int next_user = 1;
  for (;;) {
    const int n = epoll_wait(epoll_fd, events.data(), static_cast<int>(events.size()), -1);
    for (int i = 0; i < n; ++i) {
      if (events[i].events == 0) continue;  // its connection closed earlier in this batch
      auto* c = static_cast<Conn*>(events[i].data.ptr);
      if (!c) {
        for (int fd; (fd = accept4(listener, nullptr, nullptr, SOCK_NONBLOCK)) >= 0;) {
          setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
          auto* conn = new Conn;
          conn->fd = fd;
          conn->user = next_user++;
          epoll_event ev{EPOLLIN, {.ptr = conn}};
          epoll_ctl(epoll_fd, EPOLL_CTL_ADD, fd, &ev);
        }
        continue;
      }
      if ((events[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP)) && !OnReadable(c, buf.get(), 65536)) {
        for (int j = i + 1; j < n; ++j)  // the rest of this batch must not touch the freed connection
          if (events[j].data.ptr == c) events[j].events = 0;
        continue;
      }
      if ((events[i].events & EPOLLOUT) && !c->dirty) {
        c->dirty = true;
        dirty.push_back(c);
      }
    }
    Flush();
  }
}
