// The per-message hot paths that chatpipe-hotpath measures: each an operation that runs the
// project's own code (linked, never copied) on fixed inputs, so that its instruction count under
// callgrind is the same from run to run and a change in the count means a change in the code.
//
// An Op owns its inputs and whatever state the path keeps between messages (a warmed-up decoder,
// the subscribers' output buffers). Once() runs the path one time and says whether it went the
// expected way; OpInfo::units says how many units of work (messages, deliveries) one call is, so
// counts are reported per unit.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"

namespace chatpipe::hotpath {

class Op {
 public:
  virtual ~Op() = default;
  virtual bool Once() = 0;
  // Folds every result in, so that the compiler cannot drop the work; printed by main.
  uint64_t checksum() const { return checksum_; }

 protected:
  uint64_t checksum_ = 0;
};

struct OpInfo {
  const char* name;
  const char* what;  // one line for --list and the tables
  const char* unit;  // what one count is for: "message", "delivery"
  size_t units;      // units per Once()
  size_t calls;      // default calls per measurement: enough that the loop's own cost is noise
};

const std::vector<OpInfo>& AllOps();
const OpInfo* FindOp(const std::string& name);

// Builds the op and checks once that its path succeeds on the fixed input (a path that fails early
// would count the wrong instructions). tag_data is the tagger's data dir, used by the tag ops only.
Result<std::unique_ptr<Op>> MakeOp(const std::string& name, const std::string& tag_data);

}  // namespace chatpipe::hotpath
