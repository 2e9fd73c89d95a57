#include "ingress/task_queue.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cstdint>

namespace chatpipe {

Status Busy() { return Status::Unavailable("busy", "the server is overloaded; try again"); }

TaskQueue::TaskQueue(size_t max_owed) : max_owed_(max_owed), wake_fd_(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {}

TaskQueue::~TaskQueue() { close(wake_fd_); }

bool TaskQueue::Admit() {
  if (owed_ >= max_owed_) return false;
  ++owed_;
  return true;
}

void TaskQueue::Withdraw() { --owed_; }

void TaskQueue::Answer(Task task) { Push(std::move(task), true); }

void TaskQueue::Post(Task task) { Push(std::move(task), false); }

void TaskQueue::Push(Task task, bool answer) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    tasks_.push_back(std::move(task));
    answers_ += answer;
    // A queue that was not empty has a wake-up pending (RunPending takes the queue after reading the
    // eventfd), so only the first task of a batch pays for the write.
    if (tasks_.size() > 1) return;
  }
  uint64_t one = 1;
  ssize_t n = write(wake_fd_, &one, sizeof one);  // a full eventfd counter already means "wake up"
  (void)n;
}

void TaskQueue::RunPending() {
  uint64_t count;
  ssize_t n = read(wake_fd_, &count, sizeof count);
  (void)n;
  {
    std::lock_guard<std::mutex> lock(mu_);
    running_.swap(tasks_);
    owed_ -= answers_;
    answers_ = 0;
  }
  for (Task& task : running_) task();
  running_.clear();
}

}  // namespace chatpipe
