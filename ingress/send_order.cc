#include "ingress/send_order.h"

#include <utility>

namespace chatpipe {

bool SendOrder::Take(uint64_t* place) {
  if (ends_.size() >= kMaxOpen) return false;
  *place = first_ + ends_.size();
  ends_.emplace_back();
  return true;
}

void SendOrder::End(uint64_t place, std::function<void()> end) {
  ends_[place - first_] = std::move(end);
  if (ending_) return;
  ending_ = true;
  while (!ends_.empty() && ends_.front()) {
    std::function<void()> next = std::move(ends_.front());
    ends_.pop_front();
    ++first_;
    next();
  }
  ending_ = false;
}

}  // namespace chatpipe
