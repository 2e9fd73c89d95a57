#include "common/log.h"

#include <gtest/gtest.h>
#include <rapidjson/document.h>
#include <spdlog/sinks/ostream_sink.h>

#include <sstream>

namespace chatpipe {
namespace {

// A logger writing through a LogFormatter into a string, as InstallLogger's writes to stderr.
class LogTest : public ::testing::Test {
 protected:
  void Use(LogFormat format) {
    auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(out_);
    auto logger = std::make_shared<spdlog::logger>("", sink);
    logger->set_formatter(std::make_unique<LogFormatter>(format, "worker persist", "host-42"));
    logger->set_level(spdlog::level::info);
    previous_ = spdlog::default_logger();
    spdlog::set_default_logger(logger);
  }
  void TearDown() override {
    if (previous_) spdlog::set_default_logger(previous_);
  }
  std::vector<std::string> Lines() {
    std::vector<std::string> lines;
    for (std::string line; std::getline(out_, line);) lines.push_back(line);
    return lines;
  }
  std::stringstream out_;
  std::shared_ptr<spdlog::logger> previous_;
};

TEST_F(LogTest, JsonLinesCarryTheCommonFieldsAndTheEventsIds) {
  Use(LogFormat::kJson);
  LogEvent(spdlog::level::info, "batch_committed", {{"group", "persist"}, {"partition", 3}, {"offset", int64_t{1234}}});
  spdlog::warn("plain text {}", 7);
  auto lines = Lines();
  ASSERT_EQ(lines.size(), 2u);
  rapidjson::Document d;
  ASSERT_FALSE(d.Parse(lines[0].c_str()).HasParseError()) << lines[0];
  EXPECT_STREQ(d["level"].GetString(), "info");
  EXPECT_STREQ(d["process"].GetString(), "worker persist");
  EXPECT_STREQ(d["instance"].GetString(), "host-42");
  EXPECT_STREQ(d["event"].GetString(), "batch_committed");
  EXPECT_STREQ(d["group"].GetString(), "persist");
  EXPECT_EQ(d["partition"].GetInt(), 3);
  EXPECT_EQ(d["offset"].GetInt64(), 1234);
  // RFC 3339, UTC, milliseconds: 2026-12-04T12:00:00.123Z
  std::string time = d["time"].GetString();
  EXPECT_EQ(time.size(), 24u) << time;
  EXPECT_EQ(time.back(), 'Z');
  EXPECT_EQ(time[19], '.');
  ASSERT_FALSE(d.Parse(lines[1].c_str()).HasParseError()) << lines[1];
  EXPECT_STREQ(d["event"].GetString(), "plain text 7");
  EXPECT_FALSE(d.HasMember("group"));  // fields belong to their LogEvent only
}

TEST_F(LogTest, AnyTextIsValidJsonOnOneLine) {
  Use(LogFormat::kJson);
  using namespace std::string_literals;
  const std::string hostile = "quote\" back\\ nl\n cr\r tab\t nul \0\x01\x1f bad\xff\xfe\xc3 end"s;
  spdlog::error("{}", hostile);
  LogEvent(spdlog::level::info, "refused", {{"room", hostile}});
  auto lines = Lines();
  ASSERT_EQ(lines.size(), 2u);  // a newline in the text does not split the line
  for (const auto& line : lines) {
    rapidjson::Document d;
    ASSERT_FALSE(d.Parse(line.c_str()).HasParseError()) << line;
    for (auto& m : d.GetObject()) EXPECT_TRUE(m.value.IsString() || m.value.IsNumber());
  }
  rapidjson::Document d;
  d.Parse(lines[0].c_str());
  std::string event(d["event"].GetString(), d["event"].GetStringLength());
  EXPECT_NE(event.find("quote\" back\\ nl\n"), std::string::npos);
  EXPECT_NE(event.find("\xEF\xBF\xBD"), std::string::npos);  // U+FFFD for the invalid bytes
  EXPECT_EQ(event.find('\xff'), std::string::npos);
}

TEST_F(LogTest, TextIsOneReadableLine) {
  Use(LogFormat::kText);
  LogEvent(spdlog::level::warn, "dead_letter", {{"topic", "chat.messages"}, {"offset", 9}});
  auto lines = Lines();
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_NE(lines[0].find(" warning dead_letter topic=chat.messages offset=9"), std::string::npos) << lines[0];
}

TEST(ParseLogFormat, KnowsTheThreeNames) {
  LogFormat f = LogFormat::kText;
  EXPECT_TRUE(ParseLogFormat("json", &f));
  EXPECT_EQ(f, LogFormat::kJson);
  EXPECT_TRUE(ParseLogFormat("text", &f));
  EXPECT_EQ(f, LogFormat::kText);
  EXPECT_TRUE(ParseLogFormat("auto", &f));
  EXPECT_FALSE(ParseLogFormat("xml", &f));
}

}  // namespace
}  // namespace chatpipe
