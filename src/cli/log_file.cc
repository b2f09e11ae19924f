#include "cli/log_file.h"

#include <spdlog/sinks/rotating_file_sink.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstdio>

#include "util/file_util.h"

namespace recorder::cli {

Result<std::shared_ptr<spdlog::logger>> OpenRotatingLog(const std::string& name,
                                                        const std::string& path, int64_t max_bytes,
                                                        int rotations) {
  Status checked = PreparePrivateFile(path);
  if (!checked.ok()) return checked;
  spdlog::file_event_handlers handlers;
  // spdlog creates the file again after each rotation (fopen: 0666 less
  // the umask). Made 0600 before it opens it, and checked again: a link
  // planted at the path in between is refused (the throw reaches
  // spdlog's error handler, which reports it on stderr).
  handlers.before_open = [](const spdlog::filename_t& file) {
    Status prepared = PreparePrivateFile(file);
    if (!prepared.ok()) throw spdlog::spdlog_ex(prepared.message());
  };
  handlers.after_open = [](const spdlog::filename_t&, std::FILE* stream) {
    (void)fchmod(fileno(stream), kPrivateFileMode);
  };
  try {
    auto sink = std::make_shared<spdlog::sinks::rotating_file_sink_mt>(
        path, static_cast<size_t>(std::max<int64_t>(max_bytes, 1)),
        static_cast<size_t>(std::max(rotations, 0)), false, handlers);
    return std::make_shared<spdlog::logger>(name, std::move(sink));
  } catch (const spdlog::spdlog_ex& e) {
    return Status::Errorf(StatusCode::kIo, "cannot log to {}: {}", path, e.what());
  }
}

}  // namespace recorder::cli
