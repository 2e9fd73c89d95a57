// Settings shared by every subcommand: where Kafka, PostgreSQL and Redis are, and the namespace that
// isolates one deployment (or one test) from another on the same engines.
//
// Each value comes from a flag, else the environment variable named beside it, else the config file
// (--config, a TOML file whose keys are the long flag names; ops/chatpipe.example.toml), else the default.
// The namespace prefixes every topic, consumer group, Redis key and Redis channel, so two stacks (or
// two tests) can share one broker and one Redis without seeing each other.
#pragma once

#include <CLI/CLI.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"

namespace chatpipe {

// One Redis instance: a shard when --redis names several (storage/redis_shards.h).
struct RedisAddress {
  std::string host;
  int port = 6379;
};

struct CommonConfig {
  std::string kafka_brokers = "127.0.0.1:9092";     // --kafka, CHATPIPE_KAFKA
  std::string pg_conninfo = "dbname=chatpipe";       // --pg, CHATPIPE_PG
  std::string redis_addr = "127.0.0.1:6379";         // --redis, CHATPIPE_REDIS (host:port[,host:port...])
  std::string ns;                                    // --namespace, CHATPIPE_NAMESPACE
  std::string log_level = "info";                    // --log-level, CHATPIPE_LOG_LEVEL
  std::string log_format = "auto";                   // --log-format, CHATPIPE_LOG_FORMAT: auto, json, text
  std::string config_file;                           // --config, CHATPIPE_CONFIG
  std::string process;                               // the subcommand ("worker persist"), for log lines

  std::string Topic(const std::string& name) const { return ns.empty() ? name : ns + "." + name; }
  std::string Group(const std::string& name) const { return ns.empty() ? name : ns + "." + name; }
  std::string RedisPrefix() const { return ns.empty() ? std::string() : ns + ":"; }
  // The Redis shards, in the order given (the order places keys: keep it, and add new shards at the
  // end). --redis is checked when parsed, so this never fails on a parsed config.
  std::vector<RedisAddress> RedisShards() const;
};

// "host:port,host:port..." (a port may be left out: 6379); an error names what is wrong.
bool ParseRedisAddresses(const std::string& list, std::vector<RedisAddress>* out, std::string* error);

// Topic names (before namespacing).
inline constexpr const char* kMessagesTopic = "chat.messages";
inline constexpr const char* kDeadLetterTopic = "chat.deadletter";
// Mentions of users who were offline, for the mailer (docs/events.md).
inline constexpr const char* kNotifyTopic = "chat.notify";
// Requests to hear a message, for the speech worker (docs/events.md).
inline constexpr const char* kSpeechTopic = "chat.speech";
// Placements on the pixel board, for the board worker (docs/board.md).
inline constexpr const char* kBoardTopic = "board.pixels";

// Adds the common options to a subcommand, and reads its --config file once its command line is parsed.
void AddCommonOptions(CLI::App* app, CommonConfig* config);
// Sets the values of `app`'s options that neither a flag nor an environment variable gave from the
// TOML file at `path`: top-level keys, then (winning over them) the keys of the section named after the
// subcommand ([ingress], [worker.persist]). A key or section no subcommand knows is an error naming it.
Status ApplyConfigFile(CLI::App* app, const std::string& path);
// Applies log_level and log_format to spdlog (common/log.h); call once the command line is parsed.
void ApplyLogLevel(const CommonConfig& config);

}  // namespace chatpipe
