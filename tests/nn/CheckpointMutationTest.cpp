// Every single-byte corruption of a checkpoint's data.pkl (the zip itself kept valid) must either still
// read or give a ctd::Error: never a crash, a sanitizer report, another exception type or a huge allocation.
#include <gtest/gtest.h>
#include <zip.h>

#include <filesystem>
#include <map>
#include <typeinfo>

#include <unistd.h>

#include "core/Error.h"
#include "nn/PickleValue.h"
#include "nn/TorchCheckpoint.h"

namespace ctd::nn {
namespace {

namespace fs = std::filesystem;

std::map<std::string, std::string> readRecords(const fs::path& path) {
  int err = 0;
  zip_t* z = zip_open(path.c_str(), ZIP_RDONLY, &err);
  EXPECT_NE(z, nullptr);
  std::map<std::string, std::string> out;
  for (zip_int64_t i = 0; i < zip_get_num_entries(z, 0); ++i) {
    zip_stat_t st;
    zip_stat_index(z, static_cast<zip_uint64_t>(i), 0, &st);
    std::string data(st.size, '\0');
    zip_file_t* f = zip_fopen_index(z, static_cast<zip_uint64_t>(i), 0);
    zip_fread(f, data.data(), st.size);
    zip_fclose(f);
    out[st.name] = data;
  }
  zip_discard(z);
  return out;
}

void writeRecords(const fs::path& path, const std::map<std::string, std::string>& records) {
  int err = 0;
  zip_t* z = zip_open(path.c_str(), ZIP_CREATE | ZIP_TRUNCATE, &err);
  ASSERT_NE(z, nullptr);
  for (const auto& [name, data] : records) {
    zip_source_t* src = zip_source_buffer(z, data.data(), data.size(), 0);
    zip_file_add(z, name.c_str(), src, ZIP_FL_OVERWRITE);
  }
  ASSERT_EQ(zip_close(z), 0);
}

TEST(TorchCheckpoint, EverySingleByteCorruptionOfThePickleIsHandled) {
  const auto records = readRecords(fs::path(CTD_SOURCE_DIR) / "tests/fixtures/nn/checkpoints/dtypes.pth");
  std::string pkl_name;
  for (const auto& [name, data] : records)
    if (name.size() > 9 && name.compare(name.size() - 9, 9, "/data.pkl") == 0) pkl_name = name;
  ASSERT_FALSE(pkl_name.empty());
  const std::string pkl = records.at(pkl_name);
  const fs::path tmp = fs::temp_directory_path() / ("ctd-nn-mutation-" + std::to_string(::getpid()) + ".pth");
  int read = 0, refused = 0;
  for (std::size_t pos = 0; pos < pkl.size(); ++pos) {
    for (unsigned char flip : {0x01, 0x80, 0xff}) {
      std::string bytes = pkl;
      bytes[pos] = static_cast<char>(static_cast<unsigned char>(pkl[pos]) ^ flip);
      // The pickle machine alone, in memory, for every flip...
      try {
        pickle::unpickle(bytes);
      } catch (const std::runtime_error&) {
      } catch (const std::exception& e) {
        ADD_FAILURE() << "byte " << pos << " ^ " << int(flip) << ": " << typeid(e).name() << ": " << e.what();
      }
      if (flip != 0x80) continue;
      // ...and the whole reader, tensors included, for the flip that turns sizes and offsets huge.
      auto mutated = records;
      mutated[pkl_name] = bytes;
      writeRecords(tmp, mutated);
      try {
        readCheckpoint(tmp);
        ++read;
      } catch (const Error&) {
        ++refused;
      } catch (const std::exception& e) {
        ADD_FAILURE() << "byte " << pos << " ^ 0x80: " << typeid(e).name() << ": " << e.what();
      }
    }
  }
  fs::remove(tmp);
  std::printf("[mutation] %zu pickle bytes ^ 0x80: %d still read, %d refused with ctd::Error\n", pkl.size(), read, refused);
  EXPECT_GT(refused, 0);
}

}  // namespace
}  // namespace ctd::nn
