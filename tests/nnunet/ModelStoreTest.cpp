// Model store: install from a zip (results folder nested anywhere inside), list, resolve; a broken
// model is not installed; a missing model says how to install it (also through the CLI).
#include <gtest/gtest.h>
#include <unistd.h>
#include <zip.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "NnunetFixtures.h"
#include "core/Error.h"
#include "segment/nnunet/ModelStore.h"
#include "support/RunCommand.h"

using namespace ctd::nnunet;
using namespace ctd::nnunet::testing;
namespace fs = std::filesystem;

namespace {

struct TempDir {
  fs::path p;
  TempDir() {
    p = fs::temp_directory_path() / ("ctd-modelstore-" + std::to_string(::getpid()) + "-" +
                                     ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(p);
    fs::create_directories(p);
  }
  ~TempDir() { fs::remove_all(p); }
};

// Zips `folder` as <prefix>/<files> (libzip), skipping files named in `skip`.
void makeZip(const fs::path& zip_path, const fs::path& folder, const std::string& prefix,
             const std::string& skip = "") {
  int err = 0;
  zip_t* z = zip_open(zip_path.c_str(), ZIP_CREATE | ZIP_TRUNCATE, &err);
  ASSERT_NE(z, nullptr);
  for (const auto& e : fs::recursive_directory_iterator(folder)) {
    if (!e.is_regular_file()) continue;
    const std::string rel = fs::relative(e.path(), folder).string();
    if (!skip.empty() && rel.find(skip) != std::string::npos) continue;
    zip_source_t* s = zip_source_file(z, e.path().c_str(), 0, -1);
    ASSERT_NE(s, nullptr);
    ASSERT_GE(zip_file_add(z, (prefix + "/" + rel).c_str(), s, ZIP_FL_OVERWRITE), 0);
  }
  ASSERT_EQ(zip_close(z), 0);
}

}  // namespace

TEST(ModelStore, InstallsFromAZipAndResolvesByName) {
  TempDir t;
  const fs::path zip = t.p / "model.zip";
  makeZip(zip, fixtureDir() / "plain3d", "Dataset901_PlainFixture/nnUNetTrainer__nnUNetPlans__3d_fullres");
  ModelStore store(t.p / "home");
  std::ostringstream log;
  const ModelSummary s = store.install(zip, "cta-deface", log);
  std::printf("%s", log.str().c_str());
  EXPECT_EQ(s.configuration, "3d_fullres");
  EXPECT_EQ(s.network_class, "PlainConvUNet");
  EXPECT_EQ(s.folds, (std::vector<std::string>{"all"}));
  EXPECT_EQ(s.patch_size, (std::vector<int>{16, 32, 32}));
  EXPECT_NE(log.str().find("face=1"), std::string::npos);
  const fs::path resolved = store.resolve("cta-deface");
  EXPECT_TRUE(fs::is_regular_file(resolved / "fold_all/checkpoint_final.pth"));
  EXPECT_EQ(resolved.filename(), "nnUNetTrainer__nnUNetPlans__3d_fullres");
  const auto listed = store.list();
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed[0].name, "cta-deface");
  // Nothing left over from staging.
  for (const auto& e : fs::directory_iterator(store.modelsDir())) EXPECT_EQ(e.path().filename(), "cta-deface");
}

TEST(ModelStore, BrokenZipInstallsNothing) {
  TempDir t;
  const fs::path zip = t.p / "good.zip";
  makeZip(zip, fixtureDir() / "ensemble2", "results", "fold_1/checkpoint_final.pth");
  const fs::path bad = t.p / "bad.zip";
  {
    fs::path f = t.p / "badmodel";
    fs::copy(fixtureDir() / "plain3d", f, fs::copy_options::recursive);
    fs::resize_file(f / "fold_all/checkpoint_final.pth", 1000);
    makeZip(bad, f, "x/y");
  }
  ModelStore store(t.p / "home");
  std::ostringstream log;
  EXPECT_THROW(store.install(bad, "m", log), ctd::Error);
  EXPECT_TRUE(store.list().empty());
  std::ofstream(t.p / "notazip.zip") << "nope";
  EXPECT_THROW(store.install(t.p / "notazip.zip", "m", log), ctd::Error);
  EXPECT_THROW(store.install(zip, "../evil", log), ctd::Error);
  EXPECT_TRUE(store.list().empty());
}

TEST(ModelStore, InstallsAFolderAndResolvesPaths) {
  TempDir t;
  ModelStore store(t.p / "home");
  std::ostringstream log;
  store.install(fixtureDir() / "ensemble2", "ens", log);
  ASSERT_EQ(store.list().size(), 1u);
  EXPECT_EQ(store.list()[0].folds, (std::vector<std::string>{"0", "1"}));
  EXPECT_EQ(store.resolve((fixtureDir() / "aniso").string()), fixtureDir() / "aniso");
  EXPECT_THROW(store.resolve("/no/such/model"), ctd::Error);
}

TEST(ModelStore, MissingModelSaysHowToInstallIt) {
  TempDir t;
  ModelStore store(t.p / "home");
  try {
    store.resolve("cta-deface");
    FAIL() << "no error";
  } catch (const ctd::Error& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("scripts/download-cta-deface.sh"), std::string::npos) << m;
    EXPECT_NE(m.find("ctdeface model install"), std::string::npos) << m;
    EXPECT_EQ(m.find('\n'), std::string::npos);
  }
}

TEST(ModelStore, DefaultHomeFollowsTheEnvironment) {
  const char* old = std::getenv("CTDEFACE_HOME");
  const std::string saved = old ? old : "";
  ::setenv("CTDEFACE_HOME", "/tmp/ctd-home-x", 1);
  EXPECT_EQ(ModelStore::defaultHome(), fs::path("/tmp/ctd-home-x"));
  ::unsetenv("CTDEFACE_HOME");
  ::setenv("XDG_DATA_HOME", "/tmp/xdg", 1);
  EXPECT_EQ(ModelStore::defaultHome(), fs::path("/tmp/xdg/ctdeface"));
  ::unsetenv("XDG_DATA_HOME");
  if (!saved.empty()) ::setenv("CTDEFACE_HOME", saved.c_str(), 1);
}

TEST(ModelCli, NotInstalledGivesOneLineHint) {
  TempDir t;
  const std::string env = "CTDEFACE_HOME=" + ctd::test::quoted((t.p / "home").string()) + " ";
  const auto r = ctd::test::runCommand(env + CTD_CLI " -i " CTD_SHARED_DATA "/ct-head-fullface-slicer -o " +
                                       ctd::test::quoted((t.p / "out").string()) + " --model cta-deface");
  std::printf("%s", r.output.c_str());
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("scripts/download-cta-deface.sh"), std::string::npos) << r.output;
  EXPECT_EQ(std::count(r.output.begin(), r.output.end(), '\n'), 1) << r.output;
  EXPECT_FALSE(fs::exists(t.p / "out" / "ctdeface-report.json"));
}

TEST(ModelCli, InstallListAndUse) {
  TempDir t;
  const fs::path zip = t.p / "model.zip";
  makeZip(zip, fixtureDir() / "plain3d", "nnUNetTrainer__nnUNetPlans__3d_fullres");
  const std::string env = "CTDEFACE_HOME=" + ctd::test::quoted((t.p / "home").string()) + " ";
  auto r = ctd::test::runCommand(env + CTD_CLI " model install " + ctd::test::quoted(zip.string()) + " --name tiny");
  std::printf("%s", r.output.c_str());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  r = ctd::test::runCommand(env + CTD_CLI " model list");
  std::printf("%s", r.output.c_str());
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.output.find("tiny: 3d_fullres, PlainConvUNet"), std::string::npos) << r.output;
}
