// ReplayProgress: what `chatpipe replay` says about itself on stderr while it runs.
//
// On a terminal, one line redrawn in place: a bar, the percentage of the range, events written,
// events a second and the time left. The redraw uses the terminal's own capabilities from ncurses'
// terminfo (carriage return `cr` and clear-to-end-of-line `el`, emitted with tputs), not escape codes
// of our own. Elsewhere (a log, a pipe), a plain line every few seconds.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace chatpipe {

class ReplayProgress {
 public:
  // `total`: the offsets of the range (what 100% is).
  explicit ReplayProgress(int64_t total);

  // Shows how far the replay is: `done` offsets of the range passed, `events` written. Cheap to call
  // often: it draws at most every 200 ms on a terminal, every 5 s otherwise.
  void Update(int64_t done, int64_t events);
  // Clears the bar, so that the last words are printed on a clean line.
  void Finish();

  // The words of one update, e.g. "42% 1234567 events 612345 ev/s ETA 0:12" (tests, plain lines).
  static std::string Describe(int64_t total, int64_t done, int64_t events, double seconds);

 private:
  void Draw(const std::string& text, int64_t done);
  int64_t total_;
  bool terminal_ = false;
  const char* cr_ = nullptr;
  const char* el_ = nullptr;
  int columns_ = 80;
  bool drawn_ = false;
  std::chrono::steady_clock::time_point start_, last_;
};

}  // namespace chatpipe
