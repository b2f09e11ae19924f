#include "daemon/live_line.h"

#include <fmt/format.h>
#include <spdlog/sinks/sink.h>

#include <cstdio>
#include <utility>
#include <vector>

namespace recorder::daemon {
namespace {

constexpr std::string_view kEraseLine = "\r\033[K";

}  // namespace

// One of the logger's sinks, with the live line taken off the terminal
// while it writes.
class LiveLineSink : public spdlog::sinks::sink {
 public:
  LiveLineSink(std::shared_ptr<LiveLine> line, spdlog::sink_ptr inner)
      : line_(std::move(line)), inner_(std::move(inner)) {}

  void log(const spdlog::details::log_msg& msg) override {
    if (!inner_->should_log(msg.level)) return;
    std::lock_guard<std::mutex> lock(line_->mutex_);
    line_->ClearLocked();
    inner_->log(msg);
    inner_->flush();
    line_->RedrawLocked();
  }
  void flush() override { inner_->flush(); }
  void set_pattern(const std::string& pattern) override { inner_->set_pattern(pattern); }
  void set_formatter(std::unique_ptr<spdlog::formatter> formatter) override {
    inner_->set_formatter(std::move(formatter));
  }

 private:
  std::shared_ptr<LiveLine> line_;
  spdlog::sink_ptr inner_;
};

std::string LiveLineText(const LiveLineCounts& c) {
  // Every kind a live recording makes; registry changes (index 9) come
  // only from imported Windows logs.
  static_assert(kEventKinds == 10, "one count per event kind on the line");
  const auto& s = c.per_second;
  return fmt::format(
      "{}: proc {}/s exit {}/s file {}/s net {}/s sec {}/s mod {}/s img {}/s failexec {}/s "
      "dns {}/s | total {} | kernel lost {} | drops {}",
      c.source, s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7], s[8], c.total, c.kernel_lost,
      c.drops);
}

uint64_t LostSinceStart(std::optional<uint64_t> at_start, std::optional<uint64_t> now) {
  if (!at_start || !now || *now < *at_start) return 0;
  return *now - *at_start;
}

LiveLine::LiveLine(std::function<void(std::string_view)> write) : write_(std::move(write)) {
  if (!write_) {
    write_ = [](std::string_view text) {
      std::fwrite(text.data(), 1, text.size(), stderr);
      std::fflush(stderr);
    };
  }
}

void LiveLine::Show(std::string text) {
  std::lock_guard<std::mutex> lock(mutex_);
  text_ = std::move(text);
  shown_ = true;
  RedrawLocked();
}

void LiveLine::Finish() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (shown_) write_("\n");
  shown_ = false;
}

void LiveLine::ClearLocked() {
  if (shown_) write_(kEraseLine);
}

void LiveLine::RedrawLocked() {
  if (shown_) write_(fmt::format("{}{}", kEraseLine, text_));
}

void LiveLine::WrapSinks(const std::shared_ptr<LiveLine>& line, spdlog::logger* logger) {
  std::vector<spdlog::sink_ptr>& sinks = logger->sinks();
  for (spdlog::sink_ptr& sink : sinks) sink = std::make_shared<LiveLineSink>(line, sink);
}

}  // namespace recorder::daemon
