// chatpipe-hotpath: the per-message hot paths (bench/hotpath/ops.h), each run N times on fixed inputs.
//
// Under `valgrind --tool=callgrind --collect-atstart=no` only the measured loops are collected
// (CALLGRIND_TOGGLE_COLLECT around each), so callgrind's total divided by the units printed here is
// the instruction count per message or delivery: repeatable on a busy machine, unlike time.
// bench/callgrind runs one op per callgrind run and makes the tables. Outside valgrind the same loops
// are timed and ns per unit is printed as a side figure. Prints figures, asserts nothing.
#include <CLI/CLI.hpp>
#include <valgrind/callgrind.h>

#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "bench/hotpath/ops.h"
#include "analysis/tagger.h"

namespace {

using chatpipe::hotpath::Op;
using chatpipe::hotpath::OpInfo;

// Runs `calls` calls of the op; returns how many went the unexpected way.
size_t Loop(Op& op, size_t calls) {
  size_t failed = 0;
  for (size_t i = 0; i < calls; ++i) failed += !op.Once();
  return failed;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app("The per-message hot paths, for instruction counts under callgrind (bench/callgrind)");
  std::vector<std::string> names;
  size_t calls = 0;
  double seconds = 0.5;
  std::string data = chatpipe::DefaultTagDataDir();
  bool list = false;
  app.add_option("--op", names, "Operations to run (default: all; see --list)");
  app.add_option("--calls", calls, "Calls per measured loop (default: each op's own)");
  app.add_option("--seconds", seconds, "Outside valgrind: how long each op is timed");
  app.add_option("--data", data, "Directory of the tagger's word lists")->envname("CHATPIPE_TAG_DATA");
  app.add_flag("--list", list, "List the operations and exit");
  CLI11_PARSE(app, argc, argv);

  if (list) {
    for (const OpInfo& op : chatpipe::hotpath::AllOps())
      std::printf("%-22s %-9s x%-5zu %s\n", op.name, op.unit, op.units, op.what);
    return 0;
  }
  if (names.empty())
    for (const OpInfo& op : chatpipe::hotpath::AllOps()) names.push_back(op.name);

  const bool valgrind = RUNNING_ON_VALGRIND;
  for (const std::string& name : names) {
    const OpInfo* info = chatpipe::hotpath::FindOp(name);
    auto op = chatpipe::hotpath::MakeOp(name, data);
    if (!info || !op.ok()) {
      std::fprintf(stderr, "chatpipe-hotpath: %s\n", op.status().ToString().c_str());
      return 2;
    }
    const size_t n = calls ? calls : info->calls;
    // Warm-up: first calls resolve PLT symbols, grow buffers and fill the allocator's free lists.
    size_t failed = Loop(**op, n / 10 + 1);
    double ns = 0;
    if (valgrind) {
      CALLGRIND_TOGGLE_COLLECT;
      failed += Loop(**op, n);
      CALLGRIND_TOGGLE_COLLECT;
    } else {
      using Clock = std::chrono::steady_clock;
      size_t done = 0;
      const auto start = Clock::now();
      double elapsed = 0;
      while (elapsed < seconds) {
        failed += Loop(**op, n);
        done += n;
        elapsed = std::chrono::duration<double>(Clock::now() - start).count();
      }
      ns = elapsed * 1e9 / (static_cast<double>(done) * info->units);
    }
    if (failed) {
      std::fprintf(stderr, "chatpipe-hotpath: %s: %zu calls went the unexpected way\n", name.c_str(), failed);
      return 1;
    }
    // One line per op, key=value, for bench/callgrind; ns_per_unit is 0 under valgrind.
    std::printf("op=%s calls=%zu units=%zu unit=%s ns_per_unit=%.1f checksum=%llu\n", name.c_str(), n,
                n * info->units, info->unit, ns, static_cast<unsigned long long>((*op)->checksum()));
    std::fflush(stdout);
  }
  return 0;
}
