#include "enrich/proc_reader.h"

#include <dirent.h>
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <fstream>
#include <sstream>

namespace recorder::enrich {

namespace {

constexpr std::string_view kDeletedSuffix = " (deleted)";

bool ReadFile(const std::string& path, std::string* out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::ostringstream buffer;
  buffer << in.rdbuf();
  *out = std::move(buffer).str();
  return true;
}

template <typename T>
bool ToInt(std::string_view text, T* out) {
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), *out);
  return ec == std::errc() && end == text.data() + text.size();
}

std::string StripDeleted(std::string exe) {
  if (exe.size() > kDeletedSuffix.size() &&
      std::string_view(exe).substr(exe.size() - kDeletedSuffix.size()) == kDeletedSuffix) {
    exe.resize(exe.size() - kDeletedSuffix.size());
  }
  return exe;
}

std::string FirstLine(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  return text;
}

// "Uid:\t1000\t1000\t1000\t1000" -> the first two numbers.
void ParseIdLine(std::string_view line, int64_t* real, int64_t* effective) {
  size_t pos = line.find(':');
  if (pos == std::string_view::npos) return;
  line.remove_prefix(pos + 1);
  int64_t values[2] = {kUnsetId, kUnsetId};
  for (int i = 0; i < 2; ++i) {
    size_t start = line.find_first_not_of(" \t");
    if (start == std::string_view::npos) break;
    line.remove_prefix(start);
    size_t stop = line.find_first_of(" \t");
    std::string_view token = line.substr(0, stop);
    int64_t v;
    if (ToInt(token, &v)) values[i] = v;
    if (stop == std::string_view::npos) break;
    line.remove_prefix(stop);
  }
  *real = values[0];
  *effective = values[1];
}

}  // namespace

int64_t NormalizeId(int64_t id) { return id == 4294967295LL ? kUnsetId : id; }

int64_t ProcReader::BootTimeMs() const {
  std::string stat;
  if (!ReadFile(root_ + "/stat", &stat)) return -1;
  std::istringstream lines(stat);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.rfind("btime ", 0) == 0) {
      int64_t seconds;
      if (ToInt(std::string_view(line).substr(6), &seconds)) return seconds * 1000;
    }
  }
  return -1;
}

std::string ProcReader::BootId() const {
  std::string id;
  if (!ReadFile(root_ + "/sys/kernel/random/boot_id", &id)) return "";
  return FirstLine(std::move(id));
}

std::string ProcReader::Hostname() const {
  std::string name;
  if (!ReadFile(root_ + "/sys/kernel/hostname", &name)) return "";
  return FirstLine(std::move(name));
}

bool ProcReader::Pids(std::vector<int32_t>* out) const {
  DIR* dir = opendir(root_.c_str());
  if (dir == nullptr) return false;
  out->clear();
  while (dirent* entry = readdir(dir)) {
    int32_t pid;
    if (ToInt(std::string_view(entry->d_name), &pid) && pid > 0) out->push_back(pid);
  }
  closedir(dir);
  std::sort(out->begin(), out->end());
  return true;
}

bool ProcReader::Read(int32_t pid, ProcEntry* out) const {
  const std::string dir = fmt::format("{}/{}", root_, pid);
  std::string stat;
  if (!ReadFile(dir + "/stat", &stat)) return false;
  // comm may hold spaces and ')': the fields start after the last ')'.
  size_t close = stat.rfind(')');
  if (close == std::string::npos) return false;
  std::string_view rest = std::string_view(stat).substr(close + 1);
  // rest = " S ppid ...": token 0 is field 3 (state), field N is token N-3.
  std::vector<std::string_view> tokens;
  while (!rest.empty() && tokens.size() < 20) {
    size_t start = rest.find_first_not_of(' ');
    if (start == std::string_view::npos) break;
    rest.remove_prefix(start);
    size_t stop = rest.find(' ');
    tokens.push_back(rest.substr(0, stop));
    if (stop == std::string_view::npos) break;
    rest.remove_prefix(stop);
  }
  if (tokens.size() < 20) return false;
  if (!ToInt(tokens[1], &out->ppid) || !ToInt(tokens[19], &out->start_ticks)) return false;

  char link[4096];
  ssize_t n = readlink((dir + "/exe").c_str(), link, sizeof(link));
  out->exe = n > 0 ? StripDeleted(std::string(link, static_cast<size_t>(n))) : std::string();

  std::string cmdline;
  out->argv.clear();
  if (ReadFile(dir + "/cmdline", &cmdline)) {
    std::string_view view = cmdline;
    while (!view.empty()) {
      size_t nul = view.find('\0');
      out->argv.emplace_back(view.substr(0, nul));
      if (nul == std::string_view::npos) break;
      view.remove_prefix(nul + 1);
    }
  }
  std::string status;
  if (ReadFile(dir + "/status", &status)) {
    std::istringstream lines(status);
    std::string line;
    while (std::getline(lines, line)) {
      if (line.rfind("Uid:", 0) == 0) ParseIdLine(line, &out->uid, &out->euid);
      if (line.rfind("Gid:", 0) == 0) ParseIdLine(line, &out->gid, &out->egid);
    }
  }
  std::string loginuid;
  if (ReadFile(dir + "/loginuid", &loginuid)) {
    while (!loginuid.empty() && loginuid.back() == '\n') loginuid.pop_back();
    int64_t auid;
    if (ToInt(std::string_view(loginuid), &auid)) out->auid = NormalizeId(auid);
  }
  return true;
}

}  // namespace recorder::enrich
