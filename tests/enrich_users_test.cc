// User and group names from a fake passwd/group the test writes.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>

#include "enrich/user_names.h"
#include "normalize/typed_event.h"
#include "temp_dir.h"

namespace recorder::enrich {
namespace {

namespace fs = std::filesystem;

class UserNamesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    options_.passwd_path = (dir_ / "passwd").string();
    options_.group_path = (dir_ / "group").string();
    options_.refresh_interval_ms = 5000;
    Write("passwd",
          "root:x:0:0:root:/root:/bin/bash\n"
          "# comment\n"
          "broken line\n"
          "alice:x:1000:1000:Alice:/home/alice:/bin/bash\n"
          "alias:x:1000:1000::/:/bin/sh\n");  // first entry for an id wins
    Write("group", "root:x:0:\nstaff:x:50:alice\n");
  }
  void Write(const std::string& name, const std::string& text) {
    std::ofstream(dir_ / name, std::ios::trunc) << text;
  }

  TempDir temp_{"enrich-users"};
  fs::path dir_ = temp_.path();
  UserNamesOptions options_;
};

TEST_F(UserNamesTest, NamesNumbersAndUnset) {
  UserNames names(options_);
  EXPECT_EQ(names.UserName(0, 0), "root");
  EXPECT_EQ(names.UserName(1000, 0), "alice");
  EXPECT_EQ(names.UserName(4242, 0), "4242");
  EXPECT_EQ(names.UserName(4294967295LL, 0), "unset");
  EXPECT_EQ(names.UserName(kUnsetId, 0), "unset");
  EXPECT_EQ(names.GroupName(50, 0), "staff");
  EXPECT_EQ(names.GroupName(51, 0), "51");
}

TEST_F(UserNamesTest, ChangedFileIsReadAfterTheInterval) {
  UserNames names(options_);
  EXPECT_EQ(names.UserName(1000, 1'000'000), "alice");
  EXPECT_EQ(names.UserName(1001, 1'000'000), "1001");
  Write("passwd",
        "root:x:0:0:root:/root:/bin/bash\n"
        "alice2:x:1000:1000::/:/bin/sh\n"
        "bob:x:1001:1001::/:/bin/sh\n");
  // Within the interval: no check yet, old names.
  EXPECT_EQ(names.UserName(1000, 1'004'999), "alice");
  // After it: the file changed, so it is re-read.
  EXPECT_EQ(names.UserName(1000, 1'005'000), "alice2");
  EXPECT_EQ(names.UserName(1001, 1'005'000), "bob");
  uint64_t reloads = names.reloads();
  // Unchanged file: checked but not re-read.
  EXPECT_EQ(names.UserName(1001, 1'020'000), "bob");
  EXPECT_EQ(names.reloads(), reloads);
}

TEST_F(UserNamesTest, MissingFileKeepsLastNames) {
  UserNames names(options_);
  EXPECT_EQ(names.UserName(1000, 0), "alice");
  fs::remove(dir_ / "passwd");
  EXPECT_EQ(names.UserName(1000, 10'000), "alice");
  UserNamesOptions none = options_;
  none.passwd_path = (dir_ / "nope").string();
  UserNames empty(none);
  EXPECT_EQ(empty.UserName(0, 0), "0");
}

TEST_F(UserNamesTest, AnUnknownIdRechecksTheFilesSoonerThanTheInterval) {
  UserNames names(options_);  // refresh interval 5 s, miss re-check 100 ms
  EXPECT_EQ(names.UserName(2000, 1'000'000), "2000");
  Write("passwd", "root:x:0:0:root:/root:/bin/bash\ncarol:x:2000:2000::/:/bin/sh\n");
  Write("group", "root:x:0:\ncarol:x:2000:\n");
  // Misses within 100 ms of the last check do not touch the files.
  EXPECT_EQ(names.UserName(2000, 1'000'050), "2000");
  uint64_t reloads = names.reloads();
  // Later, the miss re-reads them (useradd, then the user acts).
  EXPECT_EQ(names.UserName(2000, 1'000'100), "carol");
  EXPECT_EQ(names.GroupName(2000, 1'000'100), "carol");
  EXPECT_GT(names.reloads(), reloads);
  // Known ids never cause a check inside the interval.
  Write("passwd", "toor:x:0:0:root:/root:/bin/bash\ncarol:x:2000:2000::/:/bin/sh\n");
  // Same inode and size as the write above: only the mtime tells the
  // files apart, and a coarse-grained clock can give both writes the
  // same one. Move it on, as a later edit would.
  const fs::path passwd = dir_ / "passwd";
  fs::last_write_time(passwd, fs::last_write_time(passwd) + std::chrono::seconds(1));
  EXPECT_EQ(names.UserName(0, 1'002'500), "root");
  EXPECT_EQ(names.UserName(0, 1'006'000), "toor");
}

}  // namespace
}  // namespace recorder::enrich
