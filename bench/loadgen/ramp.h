// The `ramp` subcommand of chatpipe-loadgen: connections and memory over time while bench/run's
// capacity scenario opens its connections and holds them (a million, in bench/README.md).
//
// bench/run samples once a second into ramp.csv, in memory.csv's form (soak.h):
//   unix_ms,ingress,chatpipe,rss_kb,N      every ingress process's VmRSS, summed
//   unix_ms,loadgen,loadgen,rss_kb,N       every generator process's, summed
//   unix_ms,kernel,machine,slab_kb,N       /proc/meminfo Slab (the sockets' kernel objects)
//   unix_ms,kernel,machine,tcp_mem_kb,N    /proc/net/sockstat TCP mem (buffers of queued bytes)
//   unix_ms,kernel,machine,tcp_sockets,N   /proc/net/sockstat TCP inuse (both ends of each connection)
// and this draws ramp-connections.svg and ramp-memory.svg beside it, with dashed marks for the
// scenario's moments (all connected, the hold's end).
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "bench/loadgen/plot.h"
#include "bench/loadgen/soak.h"
#include "common/status.h"

namespace chatpipe::bench {

struct RampOptions {
  std::string samples;                // ramp.csv
  std::vector<std::string> marks;     // "UNIX_MS=label"
  std::vector<std::string> title;     // lines under the plots' first (the conditions)
};

// The two plots of `samples`; times are seconds from the first sample, `marks` (unix ms, label) too.
struct RampPlots {
  TimePlot connections;
  TimePlot memory;
};
RampPlots MakeRampPlots(const std::vector<MemorySample>& samples,
                        const std::vector<std::pair<int64_t, std::string>>& marks,
                        const std::vector<std::string>& title);

// Reads o.samples and writes ramp-connections.svg and ramp-memory.svg in its folder.
Status PlotRamp(const RampOptions& o);

}  // namespace chatpipe::bench
