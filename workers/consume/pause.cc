#include "workers/consume/pause.h"

#include <algorithm>
#include <thread>

namespace chatpipe {

bool PauseUnlessStopped(std::chrono::milliseconds d, const std::atomic<bool>& stop) {
  const auto until = std::chrono::steady_clock::now() + d;
  while (!stop) {
    const auto now = std::chrono::steady_clock::now();
    if (now >= until) return true;
    std::this_thread::sleep_for(
        std::min<std::chrono::steady_clock::duration>(std::chrono::milliseconds(50), until - now));
  }
  return false;
}

}  // namespace chatpipe
