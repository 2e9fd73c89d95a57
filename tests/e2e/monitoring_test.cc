// The names ops/monitoring queries exist: every chatpipe_* metric that its alert rules and its Grafana
// dashboard name is served, with a help text, by a running ingress or worker. A metric renamed in the
// code but not in those files (or a typo in them) fails here rather than as an operator's empty panel
// or an alert that can never fire. That the files load and the rules behave is ops/monitoring/check's
// job (ctest: monitoring_rules_test).
#include <gtest/gtest.h>

#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include "tests/support/http_client.h"
#include "tests/support/stack_test_base.h"
#include "tests/support/wait.h"

namespace chatpipe::test {
namespace {

using namespace std::chrono_literals;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// The metric names of a /metrics text that have a "# HELP name text" line with some text.
std::set<std::string> HelpedNames(const std::string& metrics) {
  std::set<std::string> names;
  static const std::regex help(R"(^# HELP (\w+) \S)", std::regex::multiline);
  for (std::sregex_iterator it(metrics.begin(), metrics.end(), help), end; it != end; ++it) names.insert((*it)[1]);
  return names;
}

// The chatpipe_* names a monitoring file queries; a histogram's series name its family.
std::set<std::string> QueriedNames(const std::string& text) {
  std::set<std::string> names;
  static const std::regex name(R"(chatpipe_[a-z0-9_]+)");
  static const std::regex series_suffix(R"(_(bucket|sum|count)$)");
  for (std::sregex_iterator it(text.begin(), text.end(), name), end; it != end; ++it) {
    std::string n = it->str();
    if (n.rfind("chatpipe_latency_seconds", 0) == 0) n = std::regex_replace(n, series_suffix, "");
    names.insert(n);
  }
  return names;
}

class MonitoringTest : public StackTest {};

TEST_F(MonitoringTest, EveryMetricTheAlertsAndTheDashboardQueryIsServedWithHelp) {
  ASSERT_TRUE(stack->StartIngressProcess().ok());
  const int worker_port = FreeLoopbackPort();
  ASSERT_TRUE(stack->StartWorkerProcess("persist", {"--status-port", std::to_string(worker_port)}).ok());
  std::set<std::string> served;
  for (int port : {stack->ingress_process_port(), worker_port}) {
    std::string body;
    ASSERT_TRUE(WaitFor([&] {
      auto r = HttpRequest("GET", "http://127.0.0.1:" + std::to_string(port) + "/metrics");
      if (!r.ok() || r->status != 200) return false;
      body = r->body;
      return true;
    })) << "no /metrics on port " << port;
    served.merge(HelpedNames(body));
  }
  ASSERT_TRUE(served.count("chatpipe_worker_consumer_lag")) << "the worker's metrics were not read";
  for (const char* file : {"alerts.yml", "grafana-dashboard.json"}) {
    const std::set<std::string> queried = QueriedNames(ReadFile(std::string(CHATPIPE_SOURCE_DIR "/ops/monitoring/") + file));
    EXPECT_GE(queried.size(), 8u) << file << " was not read";
    for (const auto& name : queried) EXPECT_TRUE(served.count(name)) << file << " queries " << name << ", which nothing serves";
  }
}

}  // namespace
}  // namespace chatpipe::test
