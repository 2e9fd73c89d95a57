#include "bench/loadgen/files.h"

#include <fstream>
#include <iterator>

namespace chatpipe::bench {

Result<std::string> ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) return Status::NotFound("no_file", "cannot read " + path.string());
  return std::string(std::istreambuf_iterator<char>(in), {});
}

Status WriteFile(const std::filesystem::path& path, const std::string& content) {
  std::ofstream out(path, std::ios::trunc);
  out << content;
  out.close();
  if (!out) return Status::Internal("cannot write " + path.string());
  return Status::Ok();
}

}  // namespace chatpipe::bench
