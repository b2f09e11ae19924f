// recorder install / uninstall on a copy of /etc/audit in a temporary
// root: byte-identical round trip, idempotence, dry run, both audit
// layouts, a missing /etc/audit. One test runs `install --dry-run` on the
// real /etc and checks nothing changed there.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "install/installer.h"
#include "run_command.h"
#include "temp_dir.h"

namespace recorder::install {
namespace {

namespace fs = std::filesystem;

std::string Read(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

void Write(const fs::path& path, const std::string& text) {
  fs::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary) << text;
}

// Every regular file under `dir`: relative path -> mode and bytes.
std::map<std::string, std::string> Snapshot(const fs::path& dir) {
  std::map<std::string, std::string> files;
  std::error_code ec;
  if (!fs::exists(dir, ec)) return files;
  for (const auto& entry : fs::recursive_directory_iterator(dir)) {
    if (!entry.is_regular_file()) continue;
    struct stat st {};
    ::stat(entry.path().c_str(), &st);
    files[fs::relative(entry.path(), dir).string()] =
        std::to_string(st.st_mode & 07777) + "|" + Read(entry.path());
  }
  return files;
}

constexpr char kAuditdConf[] =
    "#\n# auditd.conf sample\n#\n\nlocal_events = yes\nwrite_logs = yes\n"
    "log_file = /var/log/audit/audit.log\nlog_format = ENRICHED\nq_depth = 2000\n"
    "plugin_dir = /etc/audit/plugins.d\n";

class InstallTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // A copy of the machine's /etc/audit when there is one (and we may read
    // it), else a sample audit 3 tree.
    std::error_code ec;
    if (fs::is_directory("/etc/audit") && ::access("/etc/audit/auditd.conf", R_OK) == 0) {
      fs::create_directories(root_ / "etc");
      fs::copy("/etc/audit", root_ / "etc/audit",
               fs::copy_options::recursive | fs::copy_options::copy_symlinks, ec);
      ASSERT_FALSE(ec) << ec.message();
    } else {
      Write(root_ / "etc/audit/auditd.conf", kAuditdConf);
      Write(root_ / "etc/audit/audit.rules", "-D\n-b 8192\n");
      Write(root_ / "etc/audit/rules.d/audit.rules", "-D\n-b 8192\n");
      Write(root_ / "etc/audit/plugins.d/af_unix.conf", "active = no\n");
    }
    options_.root = root_.string();
    options_.recorder_binary = "/opt/recorder/bin/recorder";
    options_.config_dir = "/opt/recorder";
    options_.config = config::DefaultConfig("/opt/recorder");
  }

  Plan MustPlanInstall() {
    Result<Plan> plan = PlanInstall(options_);
    EXPECT_TRUE(plan.ok()) << plan.status().message();
    return plan.ok() ? plan.value() : Plan{};
  }
  Plan MustPlanUninstall() {
    Result<Plan> plan = PlanUninstall(options_);
    EXPECT_TRUE(plan.ok()) << plan.status().message();
    return plan.ok() ? plan.value() : Plan{};
  }

  TempDir temp_{"recorder-install-test"};
  fs::path root_ = temp_.path();
  InstallOptions options_;
};

TEST_F(InstallTest, InstallThenUninstallLeavesEveryFileByteIdentical) {
  const auto before = Snapshot(root_);
  const std::string auditd_before = Read(root_ / "etc/audit/auditd.conf");
  Plan install = MustPlanInstall();
  ASSERT_FALSE(install.changes.empty());
  ASSERT_TRUE(ApplyPlan(install).ok());

  // What install did.
  EXPECT_EQ(Read(root_ / "etc/audit/auditd.conf.pretrace"), auditd_before);
  EXPECT_EQ(GetConfValue(Read(root_ / "etc/audit/auditd.conf"), "q_depth"), "32768");
  const std::string plugin = Read(root_ / "etc/audit/plugins.d/recorder.conf");
  EXPECT_NE(plugin.find("active = yes\n"), std::string::npos);
  EXPECT_NE(plugin.find("direction = out\n"), std::string::npos);
  EXPECT_NE(plugin.find("path = /opt/recorder/bin/recorder\n"), std::string::npos);
  EXPECT_NE(plugin.find("type = always\n"), std::string::npos);
  EXPECT_NE(plugin.find("args = plugin --config=/opt/recorder\n"), std::string::npos);
  EXPECT_NE(plugin.find("format = string\n"), std::string::npos);
  const std::string rules = Read(root_ / "etc/audit/rules.d/10-recorder.rules");
  EXPECT_NE(rules.find("-F exe=/opt/recorder/bin/recorder -k recorder"), std::string::npos);
  EXPECT_EQ(rules.find("\n-e"), std::string::npos);
  EXPECT_NE(Read(root_ / "etc/systemd/system/recorder.service").find("ExecStart=/opt/recorder"),
            std::string::npos);
  struct stat st {};
  ASSERT_EQ(::stat((root_ / "etc/audit/plugins.d/recorder.conf").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0640u);

  ASSERT_TRUE(ApplyPlan(MustPlanUninstall()).ok());
  EXPECT_EQ(Snapshot(root_), before);
}

TEST_F(InstallTest, InstallAndUninstallAreIdempotent) {
  ASSERT_TRUE(ApplyPlan(MustPlanInstall()).ok());
  const auto installed = Snapshot(root_);
  Plan second = MustPlanInstall();
  EXPECT_TRUE(second.changes.empty()) << DescribeChange(second.changes.front());
  ASSERT_TRUE(ApplyPlan(second).ok());
  EXPECT_EQ(Snapshot(root_), installed);

  ASSERT_TRUE(ApplyPlan(MustPlanUninstall()).ok());
  EXPECT_TRUE(MustPlanUninstall().changes.empty());
}

TEST_F(InstallTest, ABackupIsTakenOnceSoItStaysTheOriginal) {
  const std::string original = Read(root_ / "etc/audit/auditd.conf");
  ASSERT_TRUE(ApplyPlan(MustPlanInstall()).ok());
  options_.config.audisp_q_depth = 4096;  // install again with other settings
  ASSERT_TRUE(ApplyPlan(MustPlanInstall()).ok());
  EXPECT_EQ(GetConfValue(Read(root_ / "etc/audit/auditd.conf"), "q_depth"), "4096");
  EXPECT_EQ(Read(root_ / "etc/audit/auditd.conf.pretrace"), original);
  ASSERT_TRUE(ApplyPlan(MustPlanUninstall()).ok());
  EXPECT_EQ(Read(root_ / "etc/audit/auditd.conf"), original);
}

TEST_F(InstallTest, RawLoggingSetsTheLogFormat) {
  Write(root_ / "etc/audit/auditd.conf", kAuditdConf);
  options_.config.raw_logging = false;
  ASSERT_TRUE(ApplyPlan(MustPlanInstall()).ok());
  EXPECT_EQ(GetConfValue(Read(root_ / "etc/audit/auditd.conf"), "write_logs"), "no");
  options_.config.raw_logging = true;
  ASSERT_TRUE(ApplyPlan(MustPlanInstall()).ok());
  const std::string text = Read(root_ / "etc/audit/auditd.conf");
  EXPECT_EQ(GetConfValue(text, "write_logs"), "yes");
  EXPECT_EQ(GetConfValue(text, "log_format"), "ENRICHED");  // kept: RAW plus names
  ASSERT_TRUE(ApplyPlan(MustPlanUninstall()).ok());
  EXPECT_EQ(Read(root_ / "etc/audit/auditd.conf"), kAuditdConf);
}

TEST_F(InstallTest, Audit2LayoutUsesAudispdConf) {
  Write(root_ / "etc/audisp/audispd.conf", "q_depth = 80\noverflow_action = SYSLOG\n");
  Write(root_ / "etc/audit/auditd.conf", "log_format = RAW\n");
  const auto before = Snapshot(root_);
  options_.config.raw_logging = false;
  Plan plan = MustPlanInstall();
  EXPECT_EQ(plan.layout, AuditLayout::kAudit2);
  ASSERT_TRUE(ApplyPlan(plan).ok());
  EXPECT_EQ(Read(root_ / "etc/audisp/audispd.conf"), "q_depth = 32768\noverflow_action = SYSLOG\n");
  EXPECT_EQ(Read(root_ / "etc/audisp/audispd.conf.pretrace"),
            "q_depth = 80\noverflow_action = SYSLOG\n");
  EXPECT_EQ(Read(root_ / "etc/audit/auditd.conf"), "log_format = NOLOG\n");
  EXPECT_TRUE(fs::exists(root_ / "etc/audisp/plugins.d/recorder.conf"));
  ASSERT_TRUE(ApplyPlan(MustPlanUninstall()).ok());
  EXPECT_EQ(Snapshot(root_), before);
}

TEST_F(InstallTest, UninstallLeavesFilesItDidNotWrite) {
  Write(root_ / "etc/audit/plugins.d/recorder.conf", "active = yes\npath = /somebody/else\n");
  Plan plan = MustPlanUninstall();
  for (const FileChange& change : plan.changes)
    EXPECT_NE(change.path, (root_ / "etc/audit/plugins.d/recorder.conf").string());
  ASSERT_FALSE(plan.notes.empty());
  EXPECT_NE(plan.notes[0].find("left alone"), std::string::npos);
}

TEST_F(InstallTest, MissingEtcAuditIsAClearError) {
  fs::remove_all(root_ / "etc/audit");
  Result<Plan> plan = PlanInstall(options_);
  ASSERT_FALSE(plan.ok());
  EXPECT_NE(plan.status().message().find("etc/audit not found"), std::string::npos)
      << plan.status().message();
  EXPECT_NE(plan.status().message().find("auditd"), std::string::npos);
  const CommandResult cli = RunCommand(std::string(RECORDER_BINARY) + " install --root " +
                                       root_.string() + " --config /tmp");
  EXPECT_NE(cli.exit_code, 0);
  EXPECT_NE(cli.output.find("not found"), std::string::npos) << cli.output;
}

TEST_F(InstallTest, CliDryRunPrintsThePlanAndChangesNothing) {
  const auto before = Snapshot(root_);
  fs::create_directories(root_ / "cfg");
  Write(root_ / "cfg/recorder.json", R"({"rawLogging": false})");
  const CommandResult cli =
      RunCommand(std::string(RECORDER_BINARY) + " install --dry-run --root " + root_.string() +
                 " --config " + (root_ / "cfg").string() + " --binary /opt/recorder/bin/recorder");
  EXPECT_EQ(cli.exit_code, 0) << cli.output;
  EXPECT_NE(cli.output.find("auditd.conf.pretrace"), std::string::npos) << cli.output;
  EXPECT_NE(cli.output.find("q_depth"), std::string::npos) << cli.output;
  EXPECT_NE(cli.output.find("write_logs yes -> no"), std::string::npos) << cli.output;
  EXPECT_NE(cli.output.find("10-recorder.rules"), std::string::npos) << cli.output;
  EXPECT_NE(cli.output.find("nothing was changed"), std::string::npos) << cli.output;
  fs::remove_all(root_ / "cfg");
  EXPECT_EQ(Snapshot(root_), before);
}

TEST_F(InstallTest, CliInstallUninstallRoundTrip) {
  const auto before = Snapshot(root_);
  const std::string common =
      " --root " + root_.string() + " --config /tmp --binary /opt/r/recorder";
  EXPECT_EQ(RunCommand(std::string(RECORDER_BINARY) + " install" + common).exit_code, 0);
  const CommandResult second = RunCommand(std::string(RECORDER_BINARY) + " install" + common);
  EXPECT_EQ(second.exit_code, 0);
  EXPECT_NE(second.output.find("nothing to change"), std::string::npos) << second.output;
  EXPECT_EQ(RunCommand(std::string(RECORDER_BINARY) + " uninstall" + common).exit_code, 0);
  EXPECT_EQ(Snapshot(root_), before);
}

TEST(InstallConfTest, SetConfValueReplacesOrAppends) {
  const std::string text = "# q_depth = 1\nq_depth=80\nname = x\n";
  EXPECT_EQ(SetConfValue(text, "q_depth", "32768"), "# q_depth = 1\nq_depth = 32768\nname = x\n");
  EXPECT_EQ(SetConfValue(text, "q_depth", "80"), text);  // unchanged bytes
  EXPECT_EQ(SetConfValue("a = b", "c", "d"), "a = b\nc = d\n");
  EXPECT_EQ(GetConfValue(text, "Q_DEPTH"), "80");
  EXPECT_EQ(GetConfValue(text, "missing"), "");
}

TEST(InstallRealEtcTest, DryRunOnTheRealEtcChangesNothing) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root to read /etc/audit";
  if (!fs::is_directory("/etc/audit")) GTEST_SKIP() << "auditd not installed";
  const auto audit_before = Snapshot("/etc/audit");
  const bool unit_before = fs::exists("/etc/systemd/system/recorder.service");
  const CommandResult cli =
      RunCommand(std::string(RECORDER_BINARY) + " install --dry-run --config /tmp");
  EXPECT_EQ(cli.exit_code, 0) << cli.output;
  EXPECT_TRUE(cli.output.find("nothing was changed") != std::string::npos ||
              cli.output.find("nothing to change") != std::string::npos)
      << cli.output;
  EXPECT_EQ(Snapshot("/etc/audit"), audit_before);
  EXPECT_EQ(fs::exists("/etc/systemd/system/recorder.service"), unit_before);
}

// auditd loads at boot the set the installed recorder installs when it
// runs: with its filters, the pushed-down never rules ahead of the always
// rules. A bad filter file fails the install (that recorder would not start).
TEST_F(InstallTest, TheRulesFileHasTheFiltersPushedDownRules) {
  TempDir config_dir("recorder-install-config");
  config_dir.Write("filters.json",
                   R"({"process": {"exclude": [{"exe": "/opt/agent/bin/agent"}]}})");
  options_.config = config::DefaultConfig(config_dir.path());
  ASSERT_TRUE(ApplyPlan(MustPlanInstall()).ok());
  const std::string rules = Read(root_ / "etc/audit/rules.d/10-recorder.rules");
  const size_t never = rules.find("-a never,exit -F arch=b64");
  const size_t agent = rules.find("-F exe=/opt/agent/bin/agent -k recorder");
  const size_t always = rules.find("-a always,exit");
  EXPECT_NE(agent, std::string::npos) << rules;
  EXPECT_NE(never, std::string::npos) << rules;
  EXPECT_LT(agent, always) << rules;
  EXPECT_NE(rules.find("-F exe=/opt/recorder/bin/recorder -k recorder"), std::string::npos);

  config_dir.Write("filters.json", R"({"process": {"exclude": [{"cmdline": {"regex": "a(b"}}]}})");
  Result<Plan> bad = PlanInstall(options_);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("filters"), std::string::npos) << bad.status().message();
}

}  // namespace
}  // namespace recorder::install
