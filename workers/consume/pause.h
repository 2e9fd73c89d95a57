// A worker's waits between attempts: a sleep that ends early when the worker is asked to stop.
#pragma once

#include <atomic>
#include <chrono>

namespace chatpipe {

// Sleeps for `d`, or less when `stop` is set meanwhile (looking every 50 ms); false when stopped.
bool PauseUnlessStopped(std::chrono::milliseconds d, const std::atomic<bool>& stop);

}  // namespace chatpipe
