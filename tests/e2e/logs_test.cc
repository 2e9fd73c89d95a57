// `chatpipe ingress` as a child process, its stderr a file: every line is a JSON object with the
// common fields, and neither the PostgreSQL password nor a client's token shows in any of them.
#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <unistd.h>

#include <csignal>
#include <fstream>
#include <string>
#include <vector>

#include "tests/support/stack_test_base.h"

namespace chatpipe::test {
namespace {

class LogsTest : public StackTest {};

std::vector<std::string> ReadLines(const std::string& path) {
  std::vector<std::string> lines;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

TEST_F(LogsTest, JsonLinesWithoutSecrets) {
  const std::string password = "Pw-sEcReT-" + std::to_string(getpid());
  auto dir = TempDir::Create("chatpipe-logs");
  ASSERT_TRUE(dir.ok());
  const std::string log = (*dir)->path() + "/ingress.log";
  // Trust authentication ignores the password; what matters is that ingress was given one.
  const std::string conninfo = stack->config().pg_conninfo + " password=" + password;
  // No --log-format: stderr is a file, so "auto" is JSON. Debug shows the per-message lines too.
  ASSERT_TRUE(stack->StartIngressProcess({"--pg", conninfo, "--log-level", "debug"}, log).ok());
  auto user = stack->Register("logan");
  ASSERT_TRUE(user.ok()) << user.status().ToString();
  auto room = stack->CreateRoom(*user, "logs");
  ASSERT_TRUE(room.ok()) << room.status().ToString();
  auto ws = WsClient::Connect("127.0.0.1", stack->port(), "/ws?token=" + user->token, {});
  auto post = stack->Call("POST", "/api/rooms/" + std::to_string(*room) + "/messages", *user, "{\"text\":\"hello\"}");
  ASSERT_TRUE(post.ok()) << post.status().ToString();
  // The acceptance line is written when Kafka confirms, before the reply; the file may lag the reply.
  bool accepted = WaitFor([&] {
    for (const auto& line : ReadLines(log))
      if (line.find("\"message_accepted\"") != std::string::npos) return true;
    return false;
  }, std::chrono::seconds(10));
  stack->ingress_process()->Signal(SIGTERM);
  EXPECT_EQ(stack->ingress_process()->Wait(std::chrono::seconds(15)), 0);

  const auto lines = ReadLines(log);
  ASSERT_FALSE(lines.empty());
  EXPECT_TRUE(accepted);
  bool listening = false;
  for (const auto& line : lines) {
    EXPECT_EQ(line.find(password), std::string::npos) << line;
    EXPECT_EQ(line.find(user->token), std::string::npos) << line;
    rapidjson::Document d;
    ASSERT_FALSE(d.Parse(line.c_str()).HasParseError()) << line;
    for (const char* field : {"time", "level", "process", "instance", "event"})
      ASSERT_TRUE(d.HasMember(field) && d[field].IsString()) << field << " missing in " << line;
    EXPECT_STREQ(d["process"].GetString(), "ingress");
    const std::string event = d["event"].GetString();
    if (event.find("listening on") != std::string::npos) {
      listening = true;
      // The instance id the ingress took, as in its X-Instance-Id, once it has one.
      EXPECT_NE(event.find(d["instance"].GetString()), std::string::npos) << line;
    }
    if (event == "message_accepted") {
      EXPECT_EQ(d["room"].GetInt64(), *room) << line;
      EXPECT_EQ(d["user"].GetInt64(), user->id) << line;
      EXPECT_TRUE(d.HasMember("message_id")) << line;
    }
  }
  EXPECT_TRUE(listening);
}

}  // namespace
}  // namespace chatpipe::test
