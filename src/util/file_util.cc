#include "util/file_util.h"

#include <cstdio>
#include <fstream>

namespace recorder {

Status WriteFileAtomically(const std::string& path, std::string_view contents) {
  const std::string tmp = path + ".tmp";
  std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
  if (!out) return Status::Errorf("cannot write {}", tmp);
  out.write(contents.data(), static_cast<std::streamsize>(contents.size()));
  out.flush();
  if (!out) return Status::Errorf("write to {} failed", tmp);
  out.close();
  if (std::rename(tmp.c_str(), path.c_str()) != 0)
    return Status::Errorf("cannot rename {} to {}", tmp, path);
  return Status::Ok();
}

}  // namespace recorder
