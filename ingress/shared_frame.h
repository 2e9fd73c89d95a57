// SharedFrame: encoded WebSocket frames sent to many connections of a loop without re-encoding.
//
// A broadcast is encoded once and appended to each subscriber's output evbuffer. It may hold one frame
// or several back to back (a room's frames of one loop iteration, RoomHub). Small ones (a chat message
// or a few) are copied into the buffer's last chunk: a memcpy of a few hundred bytes costs less than
// the chain a reference needs (a malloc and a free per delivery), and one write then carries many
// frames in few iovecs. Larger ones are appended by reference; the last evbuffer to let go frees them.
// Loop-local: the count is not atomic because a frame never leaves the loop that made it.
#pragma once

#include <event2/buffer.h>

#include <cstddef>
#include <string_view>

namespace chatpipe {

class SharedFrame {
 public:
  static constexpr size_t kCopyMax = 1024;  // larger buffers are appended by reference

  static SharedFrame* MakeText(std::string_view payload);  // one text frame; refs = 1, held by the caller
  static SharedFrame* Copy(std::string_view frames);       // frames already encoded; refs = 1
  void Ref() { ++refs_; }
  void Unref() {
    if (--refs_ == 0) Destroy();
  }
  // Appends the frames to `out`: a copy, or for a large buffer a reference released by libevent.
  void AppendTo(evbuffer* out);
  std::string_view bytes() const { return {data_, size_}; }

 private:
  static SharedFrame* Allocate(size_t size);
  void Destroy();
  size_t refs_ = 1;
  size_t size_ = 0;
  char data_[1];  // allocated to size_
};

}  // namespace chatpipe
