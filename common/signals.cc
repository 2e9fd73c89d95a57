#include "common/signals.h"

#include <csignal>

namespace chatpipe {
namespace {

std::atomic<bool> stop_flag{false};

void OnSignal(int) { stop_flag.store(true); }

}  // namespace

const std::atomic<bool>& StopRequested() {
  static bool installed = [] {
    struct sigaction sa {};
    sa.sa_handler = OnSignal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, nullptr);
    sigaction(SIGTERM, &sa, nullptr);
    std::signal(SIGPIPE, SIG_IGN);
    return true;
  }();
  (void)installed;
  return stop_flag;
}

}  // namespace chatpipe
