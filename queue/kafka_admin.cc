#include "queue/kafka_admin.h"

#include <algorithm>
#include <string_view>
#include <thread>

#include "queue/kafka.h"

namespace chatpipe {
namespace {

Status KafkaError(std::string_view what, rd_kafka_resp_err_t err) {
  return Status::Unavailable("queue_unavailable", "Kafka " + std::string(what) + ": " + rd_kafka_err2str(err));
}

// The group coordinator moves or is still loading (a new broker, a new group): asked again, it answers.
bool CoordinatorNotReady(rd_kafka_resp_err_t err) {
  return err == RD_KAFKA_RESP_ERR_NOT_COORDINATOR || err == RD_KAFKA_RESP_ERR_COORDINATOR_LOAD_IN_PROGRESS ||
         err == RD_KAFKA_RESP_ERR_COORDINATOR_NOT_AVAILABLE;
}

Status GroupError(std::string_view what, const rd_kafka_error_t* e) {
  return Status::Unavailable(CoordinatorNotReady(rd_kafka_error_code(e)) ? "coordinator_not_ready" : "queue_unavailable",
                             "Kafka " + std::string(what) + ": " + rd_kafka_error_string(e));
}

const Status& StatusOf(const Status& s) { return s; }
template <typename T>
const Status& StatusOf(const Result<T>& r) {
  return r.status();
}

// Calls `ask` again (after 100 ms, then 200, ...) while the group coordinator is not ready, for up to
// `timeout_ms`.
template <typename Ask>
auto AskCoordinator(int timeout_ms, Ask ask) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  auto backoff = std::chrono::milliseconds(100);
  for (;;) {
    auto answer = ask();
    if (StatusOf(answer).name() != "coordinator_not_ready" ||
        std::chrono::steady_clock::now() + backoff > deadline)
      return answer;
    std::this_thread::sleep_for(backoff);
    backoff = std::min(backoff * 2, std::chrono::milliseconds(1000));
  }
}

// Owns an admin request's queue, options and result event.
class Request {
 public:
  Request(rd_kafka_t* rk, rd_kafka_admin_op_t op, int timeout_ms)
      : queue_(rd_kafka_queue_new(rk)), options_(rd_kafka_AdminOptions_new(rk, op)), timeout_ms_(timeout_ms) {
    char err[256];
    rd_kafka_AdminOptions_set_request_timeout(options_, timeout_ms, err, sizeof err);
  }
  ~Request() {
    if (event_) rd_kafka_event_destroy(event_);
    rd_kafka_AdminOptions_destroy(options_);
    rd_kafka_queue_destroy(queue_);
  }
  rd_kafka_queue_t* queue() { return queue_; }
  const rd_kafka_AdminOptions_t* options() { return options_; }
  // Waits for the answer; the event stays owned here.
  Result<rd_kafka_event_t*> Wait(std::string_view what) {
    event_ = rd_kafka_queue_poll(queue_, timeout_ms_ + 1000);
    if (!event_) return Status::Unavailable("queue_unavailable", "Kafka: no answer to " + std::string(what));
    // A fresh broker's NOT_COORDINATOR can come as the whole request's error, not the group's: the
    // caller's AskCoordinator asks again either way.
    if (const rd_kafka_resp_err_t err = rd_kafka_event_error(event_))
      return Status::Unavailable(CoordinatorNotReady(err) ? "coordinator_not_ready" : "queue_unavailable",
                                 "Kafka " + std::string(what) + ": " + rd_kafka_event_error_string(event_));
    return event_;
  }

 private:
  rd_kafka_queue_t* queue_;
  rd_kafka_AdminOptions_t* options_;
  int timeout_ms_;
  rd_kafka_event_t* event_ = nullptr;
};

// Reads a group's (topic, partition, offset) list, failing on the first partition error.
Result<PartitionOffsets> ReadOffsets(const rd_kafka_group_result_t* group, std::string_view what) {
  if (const rd_kafka_error_t* e = rd_kafka_group_result_error(group)) return GroupError(what, e);
  PartitionOffsets out;
  const rd_kafka_topic_partition_list_t* parts = rd_kafka_group_result_partitions(group);
  for (int i = 0; parts && i < parts->cnt; ++i) {
    const auto& p = parts->elems[i];
    if (p.err)
      return Status::Unavailable(CoordinatorNotReady(p.err) ? "coordinator_not_ready" : "queue_unavailable",
                                 "Kafka " + std::string(what) + " " + p.topic + ": " + rd_kafka_err2str(p.err));
    out[{p.topic, p.partition}] = p.offset < 0 ? -1 : p.offset;
  }
  return out;
}

}  // namespace

Status TopicWatermarks(rd_kafka_t* rk, const std::string& topic, int timeout_ms, std::vector<Watermark>* out) {
  rd_kafka_topic_t* rkt = rd_kafka_topic_new(rk, topic.c_str(), nullptr);
  const rd_kafka_metadata_t* md = nullptr;
  rd_kafka_resp_err_t err = rd_kafka_metadata(rk, 0, rkt, &md, timeout_ms);
  rd_kafka_topic_destroy(rkt);
  if (err) return KafkaError("metadata", err);
  Status status = Status::Ok();
  if (md->topic_cnt != 1 || md->topics[0].err) status = Status::NotFound("no_topic", "Kafka has no topic " + topic);
  for (int i = 0; status.ok() && i < md->topics[0].partition_cnt; ++i) {
    Watermark w;
    err = rd_kafka_query_watermark_offsets(rk, topic.c_str(), md->topics[0].partitions[i].id, &w.low, &w.high,
                                           timeout_ms);
    if (err) status = KafkaError("offsets", err);
    out->push_back(w);
  }
  rd_kafka_metadata_destroy(md);
  return status;
}

Result<std::unique_ptr<KafkaAdmin>> KafkaAdmin::Create(const std::string& brokers, std::chrono::milliseconds timeout) {
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  LogKafkaThroughSpdlog(conf);
  char err[512];
  if (rd_kafka_conf_set(conf, "bootstrap.servers", brokers.c_str(), err, sizeof err) != RD_KAFKA_CONF_OK) {
    rd_kafka_conf_destroy(conf);
    return Status::InvalidArgument("bad_kafka_config", err);
  }
  // A consumer handle: offsets-for-times needs one, and the admin API takes any. It gets a group id
  // although it never subscribes, so never joins: librdkafka (up to 2.4 at least, issue #5040) answers
  // a NOT_COORDINATOR to ListConsumerGroupOffsets, as a fresh broker gives, by handing a coordinator
  // query to the handle's own group, and crashes when the handle has none.
  if (rd_kafka_conf_set(conf, "group.id", "chatpipe-admin", err, sizeof err) != RD_KAFKA_CONF_OK) {
    rd_kafka_conf_destroy(conf);
    return Status::InvalidArgument("bad_kafka_config", err);
  }
  std::unique_ptr<KafkaAdmin> admin(new KafkaAdmin());
  admin->rk_ = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
  if (!admin->rk_) {
    rd_kafka_conf_destroy(conf);
    return Status::Internal(std::string("kafka admin: ") + err);
  }
  admin->timeout_ms_ = static_cast<int>(timeout.count());
  return admin;
}

KafkaAdmin::~KafkaAdmin() {
  if (rk_) rd_kafka_destroy(rk_);
}

Result<std::vector<std::string>> KafkaAdmin::ListGroups() {
  Request req(rk_, RD_KAFKA_ADMIN_OP_LISTCONSUMERGROUPS, timeout_ms_);
  rd_kafka_ListConsumerGroups(rk_, req.options(), req.queue());
  auto ev = req.Wait("ListConsumerGroups");
  if (!ev.ok()) return ev.status();
  const rd_kafka_ListConsumerGroups_result_t* result = rd_kafka_event_ListConsumerGroups_result(*ev);
  size_t n = 0;
  const rd_kafka_error_t** errors = rd_kafka_ListConsumerGroups_result_errors(result, &n);
  if (n > 0) return Status::Unavailable("queue_unavailable", std::string("Kafka ListConsumerGroups: ") +
                                                                 rd_kafka_error_string(errors[0]));
  const rd_kafka_ConsumerGroupListing_t** groups = rd_kafka_ListConsumerGroups_result_valid(result, &n);
  std::vector<std::string> names;
  for (size_t i = 0; i < n; ++i) names.emplace_back(rd_kafka_ConsumerGroupListing_group_id(groups[i]));
  return names;
}

Result<GroupDescription> KafkaAdmin::DescribeGroup(const std::string& group) {
  return AskCoordinator(timeout_ms_, [&] { return DescribeGroupOnce(group); });
}

Result<GroupDescription> KafkaAdmin::DescribeGroupOnce(const std::string& group) {
  Request req(rk_, RD_KAFKA_ADMIN_OP_DESCRIBECONSUMERGROUPS, timeout_ms_);
  const char* names[] = {group.c_str()};
  rd_kafka_DescribeConsumerGroups(rk_, names, 1, req.options(), req.queue());
  auto ev = req.Wait("DescribeConsumerGroups");
  if (!ev.ok()) return ev.status();
  size_t n = 0;
  const rd_kafka_ConsumerGroupDescription_t** groups =
      rd_kafka_DescribeConsumerGroups_result_groups(rd_kafka_event_DescribeConsumerGroups_result(*ev), &n);
  if (n != 1) return Status::Internal("Kafka DescribeConsumerGroups: " + std::to_string(n) + " answers for one group");
  const rd_kafka_ConsumerGroupDescription_t* g = groups[0];
  if (const rd_kafka_error_t* e = rd_kafka_ConsumerGroupDescription_error(g))
    return GroupError("DescribeConsumerGroups " + group, e);
  GroupDescription d;
  d.name = group;
  d.state = rd_kafka_consumer_group_state_name(rd_kafka_ConsumerGroupDescription_state(g));
  for (size_t i = 0; i < rd_kafka_ConsumerGroupDescription_member_count(g); ++i) {
    const rd_kafka_MemberDescription_t* m = rd_kafka_ConsumerGroupDescription_member(g, i);
    GroupMember member;
    member.client_id = rd_kafka_MemberDescription_client_id(m);
    member.host = rd_kafka_MemberDescription_host(m);
    const rd_kafka_topic_partition_list_t* parts =
        rd_kafka_MemberAssignment_partitions(rd_kafka_MemberDescription_assignment(m));
    for (int p = 0; parts && p < parts->cnt; ++p) member.partitions.emplace_back(parts->elems[p].topic, parts->elems[p].partition);
    d.members.push_back(std::move(member));
  }
  return d;
}

Result<PartitionOffsets> KafkaAdmin::CommittedOffsets(const std::string& group) {
  return AskCoordinator(timeout_ms_, [&] { return CommittedOffsetsOnce(group); });
}

Result<PartitionOffsets> KafkaAdmin::CommittedOffsetsOnce(const std::string& group) {
  Request req(rk_, RD_KAFKA_ADMIN_OP_LISTCONSUMERGROUPOFFSETS, timeout_ms_);
  rd_kafka_ListConsumerGroupOffsets_t* list = rd_kafka_ListConsumerGroupOffsets_new(group.c_str(), nullptr);
  rd_kafka_ListConsumerGroupOffsets(rk_, &list, 1, req.options(), req.queue());
  rd_kafka_ListConsumerGroupOffsets_destroy(list);
  auto ev = req.Wait("ListConsumerGroupOffsets");
  if (!ev.ok()) return ev.status();
  size_t n = 0;
  const rd_kafka_group_result_t** groups =
      rd_kafka_ListConsumerGroupOffsets_result_groups(rd_kafka_event_ListConsumerGroupOffsets_result(*ev), &n);
  if (n != 1) return Status::Internal("Kafka ListConsumerGroupOffsets: " + std::to_string(n) + " answers");
  return ReadOffsets(groups[0], "ListConsumerGroupOffsets");
}

Status KafkaAdmin::AlterOffsets(const std::string& group, const PartitionOffsets& offsets) {
  if (offsets.empty()) return Status::Ok();
  return AskCoordinator(timeout_ms_, [&] { return AlterOffsetsOnce(group, offsets); });
}

Status KafkaAdmin::AlterOffsetsOnce(const std::string& group, const PartitionOffsets& offsets) {
  rd_kafka_topic_partition_list_t* parts = rd_kafka_topic_partition_list_new(static_cast<int>(offsets.size()));
  for (const auto& [tp, offset] : offsets) rd_kafka_topic_partition_list_add(parts, tp.first.c_str(), tp.second)->offset = offset;
  Request req(rk_, RD_KAFKA_ADMIN_OP_ALTERCONSUMERGROUPOFFSETS, timeout_ms_);
  rd_kafka_AlterConsumerGroupOffsets_t* alter = rd_kafka_AlterConsumerGroupOffsets_new(group.c_str(), parts);
  rd_kafka_topic_partition_list_destroy(parts);
  rd_kafka_AlterConsumerGroupOffsets(rk_, &alter, 1, req.options(), req.queue());
  rd_kafka_AlterConsumerGroupOffsets_destroy(alter);
  auto ev = req.Wait("AlterConsumerGroupOffsets");
  if (!ev.ok()) return ev.status();
  size_t n = 0;
  const rd_kafka_group_result_t** groups =
      rd_kafka_AlterConsumerGroupOffsets_result_groups(rd_kafka_event_AlterConsumerGroupOffsets_result(*ev), &n);
  if (n != 1) return Status::Internal("Kafka AlterConsumerGroupOffsets: " + std::to_string(n) + " answers");
  return ReadOffsets(groups[0], "AlterConsumerGroupOffsets").status();
}

Result<std::vector<Watermark>> KafkaAdmin::Watermarks(const std::string& topic) {
  std::vector<Watermark> out;
  if (Status s = TopicWatermarks(rk_, topic, timeout_ms_, &out); !s.ok()) return s;
  return out;
}

Result<std::vector<int64_t>> KafkaAdmin::OffsetsForTime(const std::string& topic, int64_t ts_ms) {
  auto marks = Watermarks(topic);
  if (!marks.ok()) return marks.status();
  rd_kafka_topic_partition_list_t* parts = rd_kafka_topic_partition_list_new(static_cast<int>(marks->size()));
  for (size_t p = 0; p < marks->size(); ++p)
    rd_kafka_topic_partition_list_add(parts, topic.c_str(), static_cast<int32_t>(p))->offset = ts_ms;
  rd_kafka_resp_err_t err = rd_kafka_offsets_for_times(rk_, parts, timeout_ms_);
  std::vector<int64_t> out;
  for (int i = 0; !err && i < parts->cnt; ++i) {
    const auto& p = parts->elems[i];
    if (p.err) {
      err = p.err;
      break;
    }
    // -1: no message at or after the time, so the range starts (or ends) at the partition's end.
    out.push_back(p.offset >= 0 ? p.offset : (*marks)[static_cast<size_t>(p.partition)].high);
  }
  rd_kafka_topic_partition_list_destroy(parts);
  if (err) return KafkaError("offsets for times", err);
  return out;
}

}  // namespace chatpipe
