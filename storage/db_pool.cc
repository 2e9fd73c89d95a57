#include "storage/db_pool.h"

namespace chatpipe {
namespace {

thread_local PgConn* thread_conn = nullptr;  // the connection of the DbPool thread running here

}  // namespace

DbPool::DbPool(const std::string& conninfo, int threads, size_t max_queued) {
  for (int i = 0; i < threads; ++i) conns_.push_back(std::make_unique<PgConn>(conninfo));
  pool_ = std::make_unique<WorkPool>(threads, max_queued, [this](int thread) { thread_conn = conns_[thread].get(); });
}

bool DbPool::Submit(Job job) {
  return pool_->Submit([job = std::move(job)] { job(*thread_conn); });
}

}  // namespace chatpipe
