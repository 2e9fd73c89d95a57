// WaitFor: the one way a test waits, always with a deadline, so a broken system fails the test
// instead of hanging it.
//
// Two forms. The polling one checks a condition every few milliseconds, for things with no event to
// wait on (a row another process writes). The event one hands each step the time left, and the step
// blocks on its event (a frame, a Kafka poll) for at most that long, so nothing sleeps in between.
#pragma once

#include <chrono>
#include <functional>

namespace chatpipe::test {

// How long a test waits for something that should happen, unless it says otherwise.
inline constexpr std::chrono::milliseconds kWaitTimeout = std::chrono::seconds(30);

// Calls `step(left)` until it returns true or `timeout` has passed; it is called once more when the
// time is up (with 0 left). True when a step returned true.
bool WaitFor(const std::function<bool(std::chrono::milliseconds left)>& step, std::chrono::milliseconds timeout);

// Checks `done` every 20 ms until it holds or `timeout` has passed (checking once more then); true
// when it held.
bool WaitFor(const std::function<bool()>& done, std::chrono::milliseconds timeout = kWaitTimeout);

}  // namespace chatpipe::test
