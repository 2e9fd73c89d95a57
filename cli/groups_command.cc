#include "cli/groups_command.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <iostream>
#include <map>
#include <set>

#include "common/config.h"
#include "common/rfc3339.h"

namespace chatpipe {
namespace {

constexpr auto kTimeout = std::chrono::seconds(30);

// A name without the deployment's namespace prefix ("prod.tag" -> "tag").
std::string Bare(const CommonConfig& c, const std::string& name) {
  const std::string prefix = c.Group("");
  return name.compare(0, prefix.size(), prefix) == 0 ? name.substr(prefix.size()) : name;
}

struct PartitionLag {
  std::string topic;
  int32_t partition = 0;
  int64_t committed = -1;
  int64_t end = 0;
  int64_t lag = 0;  // from the committed offset, or from the start when none is
};

struct GroupReport {
  GroupDescription description;
  std::vector<PartitionLag> partitions;
};

// The group's members and, for every partition of the topics it has committed to or is assigned, its lag.
Result<GroupReport> Report(KafkaAdmin& admin, const std::string& group) {
  GroupReport report;
  auto d = admin.DescribeGroup(group);
  if (!d.ok()) return d.status();
  report.description = std::move(*d);
  auto committed = admin.CommittedOffsets(group);
  if (!committed.ok()) return committed.status();
  std::set<std::string> topics;
  for (const auto& [tp, offset] : *committed) topics.insert(tp.first);
  for (const auto& m : report.description.members)
    for (const auto& tp : m.partitions) topics.insert(tp.first);
  for (const auto& topic : topics) {
    auto marks = admin.Watermarks(topic);
    if (!marks.ok()) return marks.status();
    for (size_t p = 0; p < marks->size(); ++p) {
      PartitionLag lag{topic, static_cast<int32_t>(p)};
      auto c = committed->find({topic, lag.partition});
      lag.committed = c == committed->end() ? -1 : c->second;
      lag.end = (*marks)[p].high;
      lag.lag = lag.end - (lag.committed >= 0 ? lag.committed : (*marks)[p].low);
      report.partitions.push_back(lag);
    }
  }
  return report;
}

std::string Offset(int64_t o) { return o >= 0 ? std::to_string(o) : "-"; }

void PrintText(const CommonConfig& c, const GroupReport& r) {
  const auto& d = r.description;
  std::cout << Bare(c, d.name) << " (" << d.state << ", " << d.members.size() << " live member(s))\n";
  for (const auto& m : d.members) {
    std::cout << "  member " << m.client_id << " on " << m.host << ":";
    for (const auto& [topic, partition] : m.partitions) std::cout << ' ' << Bare(c, topic) << '/' << partition;
    std::cout << '\n';
  }
  for (const auto& p : r.partitions)
    std::cout << "  " << Bare(c, p.topic) << '/' << p.partition << "  committed " << Offset(p.committed) << "  end "
              << p.end << "  lag " << p.lag << '\n';
}

void PrintJson(const CommonConfig& c, const GroupReport& r) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  auto str = [&](const std::string& s) { w.String(s.data(), static_cast<rapidjson::SizeType>(s.size())); };
  w.StartObject();
  w.Key("group");
  str(Bare(c, r.description.name));
  w.Key("state");
  str(r.description.state);
  w.Key("members");
  w.StartArray();
  for (const auto& m : r.description.members) {
    w.StartObject();
    w.Key("client_id");
    str(m.client_id);
    w.Key("host");
    str(m.host);
    w.Key("partitions");
    w.StartArray();
    for (const auto& [topic, partition] : m.partitions) str(Bare(c, topic) + "/" + std::to_string(partition));
    w.EndArray();
    w.EndObject();
  }
  w.EndArray();
  w.Key("partitions");
  w.StartArray();
  for (const auto& p : r.partitions) {
    w.StartObject();
    w.Key("topic");
    str(Bare(c, p.topic));
    w.Key("partition");
    w.Int(p.partition);
    w.Key("committed");
    w.Int64(p.committed);
    w.Key("end");
    w.Int64(p.end);
    w.Key("lag");
    w.Int64(p.lag);
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  std::cout << buf.GetString() << '\n';
}

struct ListOptions {
  CommonConfig common;
  std::string group;
  bool json = false;
};

Status List(const ListOptions& o) {
  auto admin = KafkaAdmin::Create(o.common.kafka_brokers, kTimeout);
  if (!admin.ok()) return admin.status();
  std::vector<std::string> groups;
  if (!o.group.empty()) {
    groups.push_back(o.common.Group(o.group));
  } else {
    auto all = (*admin)->ListGroups();
    if (!all.ok()) return all.status();
    const std::string prefix = o.common.Group("");
    for (auto& g : *all)
      if (g.compare(0, prefix.size(), prefix) == 0) groups.push_back(std::move(g));
    std::sort(groups.begin(), groups.end());
  }
  for (const auto& g : groups) {
    auto report = Report(**admin, g);
    if (!report.ok()) return report.status();
    if (o.json)
      PrintJson(o.common, *report);
    else
      PrintText(o.common, *report);
  }
  std::cout.flush();
  return Status::Ok();
}

struct ResetOptions {
  CommonConfig common;
  std::string group;
  std::vector<std::string> topics;
  std::string to_datetime;
  bool to_earliest = false, to_latest = false;
  int64_t shift = 0;
  bool execute = false;
};

Status Reset(const ResetOptions& o, const ResetTarget& target) {
  auto admin = KafkaAdmin::Create(o.common.kafka_brokers, kTimeout);
  if (!admin.ok()) return admin.status();
  const std::string group = o.common.Group(o.group);
  auto d = (*admin)->DescribeGroup(group);
  if (!d.ok()) return d.status();
  if (!d->members.empty()) {
    std::string who;
    for (const auto& m : d->members) who += (who.empty() ? "" : ", ") + m.client_id + " on " + m.host;
    return Status::Refused("group_active", "group " + o.group + " has " + std::to_string(d->members.size()) +
                                               " live member(s) (" + who + "): stop them, then reset");
  }
  auto committed = (*admin)->CommittedOffsets(group);
  if (!committed.ok()) return committed.status();
  std::set<std::string> topics;
  for (const auto& t : o.topics) topics.insert(o.common.Topic(t));
  if (topics.empty())
    for (const auto& [tp, offset] : *committed) topics.insert(tp.first);
  if (topics.empty())
    return Status::InvalidArgument("no_topic", "group " + o.group + " has committed nothing: name the --topic");
  PartitionOffsets next;
  std::cout << "group " << o.group << ":\n";
  for (const auto& topic : topics) {
    auto marks = (*admin)->Watermarks(topic);
    if (!marks.ok()) return marks.status();
    std::vector<int64_t> at_time;
    if (target.kind == ResetTarget::kDatetime) {
      auto t = (*admin)->OffsetsForTime(topic, target.value);
      if (!t.ok()) return t.status();
      at_time = std::move(*t);
    }
    for (const auto& p : PlanReset(topic, *marks, *committed, target, at_time)) {
      std::cout << "  " << Bare(o.common, topic) << '/' << p.partition << "  " << Offset(p.current) << " -> "
                << p.next << (p.current == p.next ? "  (unchanged)" : "") << '\n';
      next[{topic, p.partition}] = p.next;
    }
  }
  if (!o.execute) {
    std::cout << "dry run: nothing changed (--execute applies it)\n";
    return Status::Ok();
  }
  if (Status s = (*admin)->AlterOffsets(group, next); !s.ok()) return s;
  std::cout << "applied\n";
  return Status::Ok();
}

}  // namespace

std::vector<PartitionReset> PlanReset(const std::string& topic, const std::vector<Watermark>& marks,
                                      const PartitionOffsets& committed, const ResetTarget& target,
                                      const std::vector<int64_t>& at_time) {
  std::vector<PartitionReset> out;
  for (size_t p = 0; p < marks.size(); ++p) {
    PartitionReset r;
    r.partition = static_cast<int32_t>(p);
    auto c = committed.find({topic, r.partition});
    r.current = c == committed.end() || c->second < 0 ? -1 : c->second;
    switch (target.kind) {
      case ResetTarget::kDatetime: r.next = at_time.at(p); break;
      case ResetTarget::kEarliest: r.next = marks[p].low; break;
      case ResetTarget::kLatest: r.next = marks[p].high; break;
      case ResetTarget::kShift: r.next = (r.current >= 0 ? r.current : marks[p].low) + target.value; break;
    }
    r.next = std::clamp(r.next, marks[p].low, marks[p].high);
    out.push_back(r);
  }
  return out;
}

void AddGroupsCommand(CLI::App& app) {
  auto list = std::make_shared<ListOptions>();
  CLI::App* cmd = app.add_subcommand(
      "groups", "the consumer groups: live members and lag per partition; `groups reset` moves a group's offsets");
  AddCommonOptions(cmd, &list->common);
  cmd->add_option("--group", list->group, "only this group (without the namespace)");
  cmd->add_flag("--json", list->json, "one JSON object per group instead of text");
  cmd->callback([list, cmd] {
    if (!cmd->get_subcommands().empty()) return;  // `groups reset`
    ApplyLogLevel(list->common);
    if (Status s = List(*list); !s.ok()) {
      spdlog::error("groups: {}", s.ToString());
      throw CLI::RuntimeError(1);
    }
  });

  auto reset = std::make_shared<ResetOptions>();
  CLI::App* r = cmd->add_subcommand(
      "reset", "print (and with --execute, commit) new offsets for a group that has no live members");
  // The common options are `groups`'s, before `reset` or after it: one set, never two that disagree
  // (with a set of its own, `groups --namespace prod reset` reset the default namespace's group).
  r->fallthrough();
  r->footer("The connection options (--kafka, --namespace, --config, ...) are those of `chatpipe groups --help`, "
            "given before or after `reset`.");
  r->add_option("group", reset->group, "the group, without the namespace")->required();
  auto* datetime = r->add_option("--to-datetime", reset->to_datetime, "the first offsets at or after this RFC 3339 time");
  auto* earliest = r->add_flag("--to-earliest", reset->to_earliest, "the start of each partition");
  auto* latest = r->add_flag("--to-latest", reset->to_latest, "the end of each partition (skip everything)");
  auto* shift = r->add_option("--shift", reset->shift, "N events forward (negative: back) from the committed offsets");
  r->add_option("--topic", reset->topics,
                "topic(s) to reset, without the namespace (default: those the group has committed to)");
  r->add_flag("--execute", reset->execute, "apply it (without: print what would change, change nothing)");
  datetime->excludes(earliest, latest, shift);
  earliest->excludes(latest, shift);
  latest->excludes(shift);
  r->callback([list, reset, datetime, earliest, latest, shift] {
    reset->common = list->common;
    ApplyLogLevel(reset->common);
    ResetTarget target;
    if (datetime->count()) {
      auto t = ParseRfc3339(reset->to_datetime);
      if (!t.ok()) {
        spdlog::error("groups reset: {}", t.status().ToString());
        throw CLI::RuntimeError(2);
      }
      target = {ResetTarget::kDatetime, *t};
    } else if (earliest->count()) {
      target = {ResetTarget::kEarliest, 0};
    } else if (latest->count()) {
      target = {ResetTarget::kLatest, 0};
    } else if (shift->count()) {
      target = {ResetTarget::kShift, reset->shift};
    } else {
      spdlog::error("groups reset: say where to: --to-datetime, --to-earliest, --to-latest or --shift");
      throw CLI::RuntimeError(2);
    }
    if (Status s = Reset(*reset, target); !s.ok()) {
      spdlog::error("groups reset: {}", s.ToString());
      throw CLI::RuntimeError(1);
    }
  });
}

}  // namespace chatpipe
