// The isolated header pass runner: results in file order; a job that aborts,
// hangs or throws fails only its own file, named, and the files after it are
// still read. Real child processes, real signals.
#include <gtest/gtest.h>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <stdexcept>
#include <thread>

#include "core/Error.h"
#include "dicom/IsolatedFilePass.h"

namespace ctd {
namespace {

namespace fs = std::filesystem;

std::vector<fs::path> names(std::initializer_list<const char*> list) {
  std::vector<fs::path> out;
  for (const char* n : list) out.emplace_back(std::string("/nowhere/") + n);
  return out;
}

std::vector<FileJobResult> runAll(const std::vector<fs::path>& files,
                                  const std::function<std::string(const fs::path&)>& job,
                                  const IsolatedPassOptions& options = {}) {
  std::vector<FileJobResult> out;
  runIsolatedFilePass(
      files, job,
      [&](std::size_t i, FileJobResult&& r) {
        EXPECT_EQ(i, out.size());  // in file order, each once
        out.push_back(std::move(r));
        return true;
      },
      options);
  return out;
}

TEST(IsolatedFilePass, ResultsComeBackInOrderWithTheirBytes) {
  const auto files = names({"a", "b", "c"});
  // A result larger than a pipe's buffer, with NUL bytes, arrives whole.
  const auto out = runAll(files, [](const fs::path& f) {
    return f.filename() == "b" ? std::string(200000, '\0') + "end" : "got " + f.filename().string();
  });
  ASSERT_EQ(out.size(), 3u);
  EXPECT_TRUE(out[0].ok);
  EXPECT_EQ(out[0].bytes, "got a");
  EXPECT_EQ(out[1].bytes.size(), 200003u);
  EXPECT_EQ(out[1].bytes.substr(200000), "end");
  EXPECT_EQ(out[2].bytes, "got c");
}

TEST(IsolatedFilePass, AnAbortFailsOnlyThatFileAndTheRestIsRead) {
  const auto files = names({"a", "b", "c", "d"});
  const std::uint64_t before = isolatedPassCasualties();
  const auto out = runAll(files, [](const fs::path& f) -> std::string {
    if (f.filename() == "b") std::abort();  // what a GDCM assertion does
    return f.filename().string();
  });
  ASSERT_EQ(out.size(), 4u);
  EXPECT_TRUE(out[0].ok);
  EXPECT_FALSE(out[1].ok);
  EXPECT_NE(out[1].reason.find("crashed on this file"), std::string::npos) << out[1].reason;
  EXPECT_NE(out[1].reason.find("signal 6"), std::string::npos) << out[1].reason;
  EXPECT_EQ(out[1].reason.find('\n'), std::string::npos);
  EXPECT_TRUE(out[2].ok);
  EXPECT_EQ(out[3].bytes, "d");
  EXPECT_EQ(isolatedPassCasualties(), before + 1);
}

TEST(IsolatedFilePass, ASegfaultOnTheLastFileFailsIt) {
  const auto out = runAll(names({"a", "z"}), [](const fs::path& f) -> std::string {
    if (f.filename() == "z") std::raise(SIGSEGV);
    return "fine";
  });
  ASSERT_EQ(out.size(), 2u);
  EXPECT_TRUE(out[0].ok);
  EXPECT_FALSE(out[1].ok);
  EXPECT_NE(out[1].reason.find("signal 11"), std::string::npos) << out[1].reason;
}

TEST(IsolatedFilePass, AHangFailsThatFileAfterTheTimeout) {
  IsolatedPassOptions options;
  options.per_file_timeout = std::chrono::milliseconds(300);
  const auto started = std::chrono::steady_clock::now();
  const auto out = runAll(
      names({"a", "slow", "c"}),
      [](const fs::path& f) {
        if (f.filename() == "slow") std::this_thread::sleep_for(std::chrono::seconds(30));
        return f.filename().string();
      },
      options);
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(10));
  ASSERT_EQ(out.size(), 3u);
  EXPECT_FALSE(out[1].ok);
  EXPECT_NE(out[1].reason.find("did not finish within 0.3 s"), std::string::npos) << out[1].reason;
  EXPECT_TRUE(out[2].ok);
  EXPECT_EQ(out[2].bytes, "c");
}

TEST(IsolatedFilePass, AnExceptionIsTheFilesReasonWithoutItsName) {
  for (const bool isolate : {true, false}) {
    IsolatedPassOptions options;
    options.isolate = isolate;
    const auto out = runAll(
        names({"a", "b"}),
        [](const fs::path& f) -> std::string {
          if (f.filename() == "a") throw Error(f, "corrupt header: something");
          throw std::runtime_error("plain");
        },
        options);
    ASSERT_EQ(out.size(), 2u);
    EXPECT_EQ(out[0].reason, "corrupt header: something") << "isolate " << isolate;
    EXPECT_EQ(out[1].reason, "plain");
  }
}

TEST(IsolatedFilePass, VisitCanStopEarly) {
  int visits = 0;
  runIsolatedFilePass(
      names({"a", "b", "c"}), [](const fs::path& f) { return f.string(); },
      [&](std::size_t, FileJobResult&&) {
        ++visits;
        return false;
      });
  EXPECT_EQ(visits, 1);
}

TEST(IsolatedFilePass, NoFilesNoChild) {
  int visits = 0;
  runIsolatedFilePass({}, [](const fs::path&) -> std::string { throw std::logic_error("never"); },
                      [&](std::size_t, FileJobResult&&) { return ++visits, true; });
  EXPECT_EQ(visits, 0);
}

}  // namespace
}  // namespace ctd
