// Test helper: a fresh directory under /tmp, removed with everything in it
// when the object goes (also when the test failed). The one TempDir of the
// tests: unit, CLI and live tests all use it.
#pragma once

#include <stdlib.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <system_error>

namespace recorder {

class TempDir {
 public:
  // /tmp/PREFIX.XXXXXX, mode 0755: live tests run programs as other users
  // (auditd, `runuser -u nobody`) that must reach files inside it.
  explicit TempDir(const std::string& prefix = "recorder-test") {
    std::string pattern = "/tmp/" + prefix + ".XXXXXX";
    if (mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed: " + pattern);
    path_ = pattern;
    chmod(path_.c_str(), 0755);
  }
  ~TempDir() {
    std::error_code error;
    std::filesystem::remove_all(path_, error);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  // `name` inside the directory.
  std::string File(const std::string& name) const { return path_ + "/" + name; }
  std::string operator/(const std::string& name) const { return File(name); }
  // Writes `text` to `name` inside the directory (replacing it); its path.
  std::string Write(const std::string& name, const std::string& text) const {
    const std::string file = File(name);
    std::ofstream(file, std::ios::binary | std::ios::trunc) << text;
    return file;
  }

 private:
  std::string path_;
};

}  // namespace recorder
