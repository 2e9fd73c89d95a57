// ProcessGroup: one command run as several processes that share what was loaded before they were
// forked (`chatpipe ingress --processes N`).
//
// A process may hold only so many descriptors (20,000 here), so a host that holds a million
// connections runs dozens of ingress processes. Started one by one, each loads the libraries (whose
// relocated data is each process's own), the word lists and the secret again; forked from one parent
// after loading them, the children share those pages copy-on-write.
//
// The parent only supervises: it starts no thread (so it may fork again at any time). A child that
// ends unasked, after it said it serves, is started again, at most once a second per slot. A child
// that ends before it said so (a port in use, a refused setting) stops the group, since starting it
// again would fail the same way. On stop every child gets SIGTERM and the parent waits for all of
// them. Each child asks for SIGTERM should the parent die (PR_SET_PDEATHSIG), so none outlives it.
#pragma once

#include <atomic>
#include <functional>

namespace chatpipe {

class ProcessGroup {
 public:
  // What a child runs, given its index (0..count-1) and `started`, which it calls once it serves. Its
  // return is the child's exit code.
  using Child = std::function<int(int index, const std::function<void()>& started)>;

  // Forks `count` children running `child` and supervises them until `stop` is set (the parent's
  // signal handler sets it) and all have exited, or until one ended before it started. Returns 0 when
  // every child started and exited 0 on the stop; 1 otherwise.
  static int Run(int count, const Child& child, const std::atomic<bool>& stop);
};

}  // namespace chatpipe
