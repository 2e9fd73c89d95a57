// The `board` subcommand of chatpipe-loadgen: the pixel board's benchmark (issue 18, bench/README.md
// "board"), one process from start to finish.
//
// 1. Placements through the whole path: `connections` connections, each a guest user of its own and
//    one placement at a time, place on an open-loop schedule of `rate` placements a second for
//    `duration_s` (placement k is due at start + k / rate and paints pixel k, board.h; a due placement
//    waits for a free connection, so a slow server shows as latency). With `via` "http" they are
//    keep-alive HTTP connections sending PUT /api/board/pixels (answered 202); with "ws" WebSockets
//    sending {"type":"place"} frames (answered `placed`). Refusals are counted by HTTP status, or by
//    the error frame's code. Meanwhile `subscribers` WebSockets that sent {"type":"board_subscribe"}
//    read the `pixels` frames and time, for every placement, its due time to the frame that carries
//    it. Then every accepted placement (202, `placed`) must have reached every subscriber: it waits
//    until it has, or the drain ends.
// 2. GET /api/board: `read_connections` keep-alive connections, each sending its next request when the
//    last answer is in, for `read_duration_s`, without and then with If-None-Match (the 304 path).
// It samples the CPU of the `cpu_groups` (name=PID,PID) and of the rest of the machine over each
// window, prints the figures with their conditions and writes them as JSON to `out`.
#pragma once

#include <string>
#include <vector>

#include "common/status.h"

namespace chatpipe::bench {

struct BoardOptions {
  std::string url = "http://127.0.0.1:8080";
  int connections = 2000;   // placing connections, one guest user each
  std::string via = "http"; // how they place: "http" (PUT /api/board/pixels) or "ws" (`place` frames)
  int threads = 1;          // placing (and reading) event loops; the subscribers have one more
  int subscribers = 10;
  double rate = 50000;      // placements a second offered, in all
  double duration_s = 8;
  double drain_s = 10;      // after the window: the last answers, and the subscribers catching up
  int read_connections = 64;
  double read_duration_s = 8;  // 0: no reads
  int source_ips = 8;       // bind 127.0.0.2 .. 127.0.0.(1+N) round robin
  std::vector<std::string> notes;       // key=value conditions printed and recorded
  std::vector<std::string> cpu_groups;  // name=PID,PID: processes whose CPU is reported
  std::string out;                      // report.json
};

Status RunBoard(const BoardOptions& options);

}  // namespace chatpipe::bench
