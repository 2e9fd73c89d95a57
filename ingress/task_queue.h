// TaskQueue: how other threads hand work back to one loop, and the bound on what the loop may owe.
//
// Work a loop starts on another thread (a job on the DbPool, a message's Kafka delivery report) comes
// back as a task that the loop runs on its own thread. The bound is taken at admission, not when the
// answer is posted: before the loop starts such work it calls Admit(), which reserves a place for the
// answer and refuses once max_owed answers are outstanding; the caller then answers its client Busy()
// (503) at once, as it does when the DbPool's queue is full. An answer to admitted work is always
// accepted, since its place was reserved: the delivery poller and the pool threads never block on the
// queue and never drop a client's answer, and the queue never holds more than max_owed answers.
//
// Post() takes the tasks that answer no admitted work, unbounded: a callback the loop defers to its
// next turn (one per Redis command or connection it already holds), Stop(), and ShortCircuit's frames
// (one per message some loop admitted). Tasks run in the order they were queued.
//
// Thread-safety: Answer() and Post() from any thread; Admit(), Withdraw() and RunPending() on the
// loop's thread only. The loop owns its TaskQueue; the queue owns the eventfd that is readable while
// tasks wait (the loop watches fd() and calls RunPending()).
#pragma once

#include <cstddef>
#include <functional>
#include <mutex>
#include <vector>

#include "common/status.h"

namespace chatpipe {

// The answer to work refused for lack of room: a loop owing too much, or a full DbPool queue.
Status Busy();

class TaskQueue {
 public:
  using Task = std::function<void()>;

  explicit TaskQueue(size_t max_owed);
  ~TaskQueue();
  TaskQueue(const TaskQueue&) = delete;
  TaskQueue& operator=(const TaskQueue&) = delete;

  // Reserves the place of one answer; false (and nothing reserved) when max_owed are outstanding.
  bool Admit();
  // Gives back a reservation whose work will never answer (the DbPool refused the job).
  void Withdraw();
  // The answer to admitted work, exactly one per Admit(): always queued.
  void Answer(Task task);
  // A task that answers no admitted work: always queued.
  void Post(Task task);
  // Runs every task queued so far, oldest first; their reservations are free again.
  void RunPending();

  int fd() const { return wake_fd_; }
  size_t owed() const { return owed_; }
  size_t max_owed() const { return max_owed_; }

 private:
  void Push(Task task, bool answer);

  const size_t max_owed_;
  size_t owed_ = 0;  // answers reserved and not yet run (loop thread)
  int wake_fd_ = -1;  // eventfd
  std::mutex mu_;
  std::vector<Task> tasks_;  // under mu_
  size_t answers_ = 0;       // how many of tasks_ are answers, under mu_
  std::vector<Task> running_;  // the batch RunPending() runs, kept for its capacity
};

}  // namespace chatpipe
