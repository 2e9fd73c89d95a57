// Whole-file reads and writes for chatpipe-loadgen's result files, with the error as a Status.
#pragma once

#include <filesystem>
#include <string>

#include "common/status.h"

namespace chatpipe::bench {

Result<std::string> ReadFile(const std::filesystem::path& path);
Status WriteFile(const std::filesystem::path& path, const std::string& content);  // replaces it

}  // namespace chatpipe::bench
