#include "cli/replay_progress.h"

#include <curses.h>
#include <term.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>

namespace chatpipe {
namespace {

int PutStderr(int c) { return std::fputc(c, stderr); }

std::string Duration(double seconds) {
  long s = static_cast<long>(seconds + 0.5);
  char buf[32];
  if (s >= 3600) std::snprintf(buf, sizeof buf, "%ld:%02ld:%02ld", s / 3600, s / 60 % 60, s % 60);
  else std::snprintf(buf, sizeof buf, "%ld:%02ld", s / 60, s % 60);
  return buf;
}

}  // namespace

ReplayProgress::ReplayProgress(int64_t total) : total_(total), start_(std::chrono::steady_clock::now()), last_(start_) {
  int err = 0;
  if (isatty(STDERR_FILENO) && setupterm(nullptr, STDERR_FILENO, &err) == OK) {
    char cr[] = "cr", el[] = "el", cols[] = "cols";
    const char* c = tigetstr(cr);
    const char* e = tigetstr(el);
    // tigetstr answers (char*)-1 for a name that is not a string capability, and null for one the
    // terminal lacks: both mean no redraw, and plain lines instead.
    if (c && c != reinterpret_cast<char*>(-1) && e && e != reinterpret_cast<char*>(-1)) {
      terminal_ = true;
      cr_ = c;
      el_ = e;
      columns_ = std::max(40, tigetnum(cols));
    }
  }
}

std::string ReplayProgress::Describe(int64_t total, int64_t done, int64_t events, double seconds) {
  double rate = seconds > 0 ? events / seconds : 0;
  double offsets_rate = seconds > 0 ? done / seconds : 0;
  int percent = total > 0 ? static_cast<int>(100 * done / total) : 100;
  std::string eta = offsets_rate > 0 ? Duration(static_cast<double>(total - done) / offsets_rate) : "?";
  char buf[160];
  std::snprintf(buf, sizeof buf, "%3d%% %lld events %.0f ev/s ETA %s", percent, static_cast<long long>(events), rate,
                eta.c_str());
  return buf;
}

void ReplayProgress::Update(int64_t done, int64_t events) {
  auto now = std::chrono::steady_clock::now();
  if (now - last_ < (terminal_ ? std::chrono::milliseconds(200) : std::chrono::milliseconds(5000))) return;
  last_ = now;
  Draw(Describe(total_, done, events, std::chrono::duration<double>(now - start_).count()), done);
}

void ReplayProgress::Draw(const std::string& text, int64_t done) {
  if (!terminal_) {
    std::fprintf(stderr, "replay: %s\n", text.c_str());
    return;
  }
  // [#####.....] then the words, cut to the terminal's width; the bar's width is the same every time.
  const int width = std::clamp(columns_ - 60, 10, 40);
  int filled = total_ > 0 ? static_cast<int>(static_cast<double>(width) * done / total_) : width;
  std::string line = "[" + std::string(filled, '#') + std::string(width - filled, '.') + "] " + text;
  line.resize(std::min(line.size(), static_cast<size_t>(columns_ - 1)));
  tputs(cr_, 1, PutStderr);
  std::fputs(line.c_str(), stderr);
  tputs(el_, 1, PutStderr);
  std::fflush(stderr);
  drawn_ = true;
}

void ReplayProgress::Finish() {
  if (!drawn_) return;
  tputs(cr_, 1, PutStderr);
  tputs(el_, 1, PutStderr);
  std::fflush(stderr);
  drawn_ = false;
}

}  // namespace chatpipe
