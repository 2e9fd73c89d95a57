#include "tests/support/smtp_sink.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "tests/support/wait.h"

namespace chatpipe::test {
namespace {

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string DecodeBase64(const std::string& in) {
  static const std::string kChars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    size_t v = kChars.find(c);
    if (v == std::string::npos) continue;  // line breaks, padding
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xFF);
    }
  }
  return out;
}

std::string HeaderOf(const std::string& head, const std::string& name) {
  std::string key = "\r\n" + name + ": ";
  std::string h = "\r\n" + head;
  size_t at = h.find(key);
  if (at == std::string::npos) return "";
  size_t start = at + key.size();
  return h.substr(start, h.find("\r\n", start) - start);
}

// The decoded body of the part with this content type (base64, as the mailer writes them).
std::string PartOf(const std::string& msg, const std::string& type) {
  size_t at = msg.find("Content-Type: " + type);
  if (at == std::string::npos) return "";
  size_t body = msg.find("\r\n\r\n", at);
  if (body == std::string::npos) return "";
  body += 4;
  size_t end = msg.find("\r\n--", body);
  return DecodeBase64(msg.substr(body, end == std::string::npos ? std::string::npos : end - body));
}

}  // namespace

Result<std::unique_ptr<SmtpSink>> SmtpSink::Start(const std::string& dir, const std::string& reject,
                                                  const std::string& defer, const std::string& refuse_content) {
  std::unique_ptr<SmtpSink> sink(new SmtpSink());
  sink->mail_dir_ = dir + "/mail";
  sink->log_ = dir + "/sink.log";
  const std::string port_file = dir + "/sink.port";
  std::vector<std::string> argv = {CHATPIPE_SOURCE_DIR "/ops/smtp-sink", "--dir", sink->mail_dir_,
                                   "--port", "0", "--port-file", port_file};
  if (!reject.empty()) argv.insert(argv.end(), {"--reject", reject});
  if (!defer.empty()) argv.insert(argv.end(), {"--defer", defer});
  if (!refuse_content.empty()) argv.insert(argv.end(), {"--refuse-content", refuse_content});
  auto child = ChildProcess::Spawn(argv, sink->log_);
  if (!child.ok()) return child.status();
  sink->process_ = std::move(*child);
  // The sink writes the port file (atomically) once it accepts connections.
  if (!WaitFor([&] {
        std::ifstream in(port_file);
        return static_cast<bool>(in >> sink->port_);
      }, std::chrono::seconds(20)))
    return Status::Internal("ops/smtp-sink did not start: " + sink->Log());
  return sink;
}

std::vector<SinkMail> SmtpSink::Mails() const {
  std::vector<SinkMail> out;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(mail_dir_, ec)) {
    std::string name = entry.path().filename();
    if (name[0] == '.' || entry.path().extension() != ".eml") continue;  // .NAME.tmp: still being written
    std::string raw = ReadAll(entry.path());
    std::string head = raw.substr(0, raw.find("\r\n\r\n"));
    SinkMail m;
    m.file = name;
    m.received_ms = std::atoll(HeaderOf(head, "X-Sink-Received-At").c_str());
    m.rcpt = HeaderOf(head, "X-Sink-Rcpt-To");
    m.message_id = HeaderOf(head, "Message-ID");
    if (m.message_id.size() >= 2) m.message_id = m.message_id.substr(1, m.message_id.size() - 2);
    m.subject = HeaderOf(head, "Subject");
    m.text = PartOf(raw, "text/plain");
    m.html = PartOf(raw, "text/html");
    out.push_back(std::move(m));
  }
  std::sort(out.begin(), out.end(), [](const SinkMail& a, const SinkMail& b) {
    return a.received_ms != b.received_ms ? a.received_ms < b.received_ms : a.file < b.file;
  });
  return out;
}

std::string SmtpSink::Log() const { return ReadAll(log_); }

}  // namespace chatpipe::test
