// SharedFrame: one encoded WebSocket frame sent to many connections of a loop without copying.
//
// A broadcast is encoded once (header + payload in one allocation) and appended to each subscriber's
// output evbuffer. A small frame (a chat message) is copied into the buffer's last chunk: a memcpy of
// a few hundred bytes costs less than the chain a reference needs (a malloc and a free per delivery),
// and one write then carries many frames in few iovecs. A large frame is appended by reference; the
// last evbuffer to let go frees it. Loop-local: the count is not atomic because a frame never leaves
// the loop that made it.
#pragma once

#include <event2/buffer.h>

#include <cstddef>
#include <string_view>

namespace chatpipe {

class SharedFrame {
 public:
  static constexpr size_t kCopyMax = 1024;  // larger frames are appended by reference

  static SharedFrame* MakeText(std::string_view payload);  // refs = 1, held by the caller
  void Ref() { ++refs_; }
  void Unref() {
    if (--refs_ == 0) Destroy();
  }
  // Appends the frame to `out`: a copy, or for a large frame a reference released by libevent.
  void AppendTo(evbuffer* out);
  std::string_view bytes() const { return {data_, size_}; }

 private:
  void Destroy();
  size_t refs_ = 1;
  size_t size_ = 0;
  char data_[1];  // allocated to size_
};

}  // namespace chatpipe
