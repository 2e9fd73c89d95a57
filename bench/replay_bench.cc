// replay_bench: how fast `chatpipe replay` reads a topic into a file (bench/README.md, "replay").
//
// Fills a fresh topic of its own (4 partitions, keyed by room like chat.messages) with N chat events,
// then runs the replay in this process (RunReplay, the command's own code) into a file under /tmp:
// JSON Lines, CSV, JSON Lines with a room filter (read from the key) and with a user filter (parsed);
// `--dir` puts the file elsewhere (/dev/shm: no disk file system in the way).
// Prints the events per second of each and the conditions; deletes the topic at the end.
//   source /tmp/cp-x/env && build/bench/replay_bench --events 2000000
#include <CLI/CLI.hpp>
#include <librdkafka/rdkafka.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <random>
#include <thread>

#include "cli/replay_command.h"
#include "common/events.h"
#include "queue/kafka.h"

namespace {

using chatpipe::Status;

std::string LoadAverage() {
  std::ifstream in("/proc/loadavg");
  std::string one, five;
  in >> one >> five;
  return one + " (1 min), " + five + " (5 min)";
}

// CPU seconds (user + system) this process has used, all threads.
double OwnCpuSeconds() {
  rusage u {};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) + (u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

// CPU seconds the broker has used (CHATPIPE_KAFKA_PID, set by ops/services), or -1 when unknown.
double BrokerCpuSeconds() {
  const char* pid = std::getenv("CHATPIPE_KAFKA_PID");
  if (!pid) return -1;
  std::ifstream in(std::string("/proc/") + pid + "/stat");
  std::string field;
  long ticks = 0;
  for (int i = 1; i <= 15 && in >> field; ++i)
    if (i == 14 || i == 15) ticks += std::atol(field.c_str());  // utime, stime (the name has no spaces)
  return in ? static_cast<double>(ticks) / static_cast<double>(sysconf(_SC_CLK_TCK)) : -1;
}

void DeleteTopic(const std::string& brokers, const std::string& topic) {
  char err[256];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "bootstrap.servers", brokers.c_str(), err, sizeof err);
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
  rd_kafka_DeleteTopic_t* del = rd_kafka_DeleteTopic_new(topic.c_str());
  rd_kafka_queue_t* q = rd_kafka_queue_new(rk);
  rd_kafka_DeleteTopics(rk, &del, 1, nullptr, q);
  if (rd_kafka_event_t* ev = rd_kafka_queue_poll(q, 30000)) rd_kafka_event_destroy(ev);
  rd_kafka_DeleteTopic_destroy(del);
  rd_kafka_queue_destroy(q);
  rd_kafka_destroy(rk);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"replay_bench: events per second of `chatpipe replay` from a local broker into a file"};
  int64_t events = 2000000;
  std::string brokers = "127.0.0.1:9092";
  app.add_option("--events", events, "events to put in the topic")->capture_default_str();
  std::string dir = "/tmp";
  app.add_option("--dir", dir, "where the output file goes (its file system is part of what is measured)")
      ->capture_default_str();
  app.add_option("--kafka", brokers, "Kafka bootstrap servers")->envname("CHATPIPE_KAFKA")->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  std::mt19937_64 rng(std::random_device{}());
  const std::string ns = "replaybench" + std::to_string(rng() % 1000000);
  const std::string topic = ns + "." + chatpipe::kMessagesTopic;
  if (Status s = chatpipe::CreateTopics(brokers, {{topic, 4, 1}}, std::chrono::seconds(30)); !s.ok()) {
    std::fprintf(stderr, "create topic: %s\n", s.ToString().c_str());
    return 1;
  }

  // Events like ingress's: 1000 rooms, 50 users, texts of 20 to 120 characters.
  auto fill_start = std::chrono::steady_clock::now();
  {
    auto producer = chatpipe::KafkaProducer::Create(
        brokers, {{"linger.ms", "50"}, {"batch.num.messages", "10000"}, {"queue.buffering.max.messages", "1000000"}},
        /*prompt_below=*/0);  // a bulk fill: always batch
    if (!producer.ok()) return 1;
    std::atomic<int64_t> failed{0};
    chatpipe::ChatEvent e;
    int64_t bytes = 0;
    for (int64_t i = 0; i < events; ++i) {
      e.id = (1ULL << 40) + static_cast<uint64_t>(i);
      e.room = static_cast<int64_t>(rng() % 1000);
      e.user = {static_cast<int64_t>(i % 50), "user" + std::to_string(i % 50)};
      e.ts_ms = 1796292000000 + i / 100;
      e.text = std::string(20 + rng() % 100, 'x');
      std::string payload = chatpipe::EncodeChatEvent(e);
      bytes += static_cast<int64_t>(payload.size());
      (*producer)->Produce(topic, std::to_string(e.room), payload, [&failed](Status s) {
        if (!s.ok()) ++failed;
      });
      while ((*producer)->QueueLength() > 900000) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    if (!(*producer)->Flush(std::chrono::seconds(120)).ok() || failed > 0) {
      std::fprintf(stderr, "fill: %lld events failed\n", static_cast<long long>(failed.load()));
      return 1;
    }
    std::printf("topic %s: %lld events, %.0f bytes each on average, filled in %.1f s\n", topic.c_str(),
                static_cast<long long>(events), static_cast<double>(bytes) / static_cast<double>(events),
                std::chrono::duration<double>(std::chrono::steady_clock::now() - fill_start).count());
  }

  struct Case {
    const char* name;
    std::string format;
    std::vector<int64_t> rooms;
    std::vector<std::string> users;
  };
  const Case cases[] = {{"jsonl", "jsonl", {}, {}},
                        {"csv", "csv", {}, {}},
                        {"jsonl --room (10 rooms, key only)", "jsonl", {1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, {}},
                        {"jsonl --user (parses every event)", "jsonl", {}, {"user7"}}};
  const std::string out = dir + "/" + ns + ".out";
  std::printf("machine: %u cores, load average %s before the replays\n", std::thread::hardware_concurrency(),
              LoadAverage().c_str());
  // Besides the rate, the CPU each case took, of this process (the replay and librdkafka's threads) and
  // of the broker: on a loaded machine the rate says how much CPU the replay was given, the CPU per
  // event what it needs.
  std::printf("%-36s %10s %8s %10s %8s %12s %12s\n", "case", "written", "seconds", "offsets/s", "MB/s",
              "replay cpu s", "broker cpu s");
  std::atomic<bool> stop{false};
  for (const Case& c : cases) {
    chatpipe::ReplayOptions o;
    o.common.kafka_brokers = brokers;
    o.common.ns = ns;
    o.topic = chatpipe::kMessagesTopic;
    o.format = c.format;
    o.rooms = c.rooms;
    o.users = c.users;
    o.output = out;
    o.progress = false;
    const double cpu0 = OwnCpuSeconds(), broker0 = BrokerCpuSeconds();
    auto s = chatpipe::RunReplay(o, stop);
    const double cpu = OwnCpuSeconds() - cpu0, broker = broker0 < 0 ? -1 : BrokerCpuSeconds() - broker0;
    if (!s.ok()) {
      std::fprintf(stderr, "%s: %s\n", c.name, s.status().ToString().c_str());
      return 1;
    }
    struct stat st {};
    ::stat(out.c_str(), &st);
    // Rate of the range read (every offset passes, filtered or not), and of the bytes written.
    std::printf("%-36s %10lld %8.2f %10.0f %8.1f %12.2f %12.2f\n", c.name, static_cast<long long>(s->events),
                s->seconds, static_cast<double>(s->plan.Total()) / s->seconds,
                static_cast<double>(st.st_size) / 1e6 / s->seconds, cpu, broker);
    std::fflush(stdout);
  }
  std::printf("load average after: %s\n", LoadAverage().c_str());
  ::unlink(out.c_str());
  DeleteTopic(brokers, topic);
  return 0;
}
