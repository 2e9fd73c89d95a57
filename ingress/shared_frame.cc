#include "ingress/shared_frame.h"

#include <cstdlib>
#include <cstring>
#include <new>

#include "ingress/websocket.h"

namespace chatpipe {

SharedFrame* SharedFrame::Allocate(size_t size) {
  void* mem = std::malloc(offsetof(SharedFrame, data_) + size);
  if (!mem) throw std::bad_alloc();
  auto* frame = new (mem) SharedFrame();
  frame->size_ = size;
  return frame;
}

SharedFrame* SharedFrame::MakeText(std::string_view payload) {
  uint8_t header[ws::kMaxFrameHeader];
  size_t header_len = ws::EncodeFrameHeader(ws::Opcode::kText, payload.size(), true, nullptr, header);
  SharedFrame* frame = Allocate(header_len + payload.size());
  std::memcpy(frame->data_, header, header_len);
  std::memcpy(frame->data_ + header_len, payload.data(), payload.size());
  return frame;
}

SharedFrame* SharedFrame::Copy(std::string_view frames) {
  SharedFrame* frame = Allocate(frames.size());
  std::memcpy(frame->data_, frames.data(), frames.size());
  return frame;
}

void SharedFrame::AppendTo(evbuffer* out) {
  if (size_ <= kCopyMax) {
    evbuffer_add(out, data_, size_);
    return;
  }
  Ref();
  evbuffer_add_reference(
      out, data_, size_, [](const void*, size_t, void* arg) { static_cast<SharedFrame*>(arg)->Unref(); }, this);
}

void SharedFrame::Destroy() {
  this->~SharedFrame();
  std::free(this);
}

}  // namespace chatpipe
