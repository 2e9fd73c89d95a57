// Steps: a count of the work the tagger and the mention parser do, one step per byte read or entry
// tried, so that a test can bound the work per character of any text without timing anything
// (analysis/steps_test.cc). Compiled in only when CHATPIPE_COUNT_STEPS is defined, which only the
// test's own build of the library does; elsewhere CHATPIPE_STEPS(n) is nothing. The count is per thread.
#pragma once

#include <cstdint>

#ifdef CHATPIPE_COUNT_STEPS
namespace chatpipe::analysis {
inline thread_local uint64_t steps = 0;
}  // namespace chatpipe::analysis
#define CHATPIPE_STEPS(n) (::chatpipe::analysis::steps += (n))
#else
#define CHATPIPE_STEPS(n) ((void)0)
#endif
