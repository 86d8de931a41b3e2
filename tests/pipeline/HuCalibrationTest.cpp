#include "pipeline/HuCalibration.h"

#include <gtest/gtest.h>

#include "core/Error.h"

namespace ctd {
namespace {

Volume filled(std::initializer_list<std::pair<float, std::size_t>> runs) {
  Volume v;
  for (const auto& [value, count] : runs) v.hu.insert(v.hu.end(), count, value);
  v.nx = v.hu.size();
  v.ny = v.nz = 1;
  return v;
}

TEST(HuCalibration, CalibratedHeadNeedsNoOffset) {
  const auto c = checkHuCalibration(filled({{-1000.f, 600}, {40.f, 300}, {700.f, 100}}));
  EXPECT_EQ(c.offset, 0);
  EXPECT_TRUE(c.note.empty());
}

TEST(HuCalibration, PaddingCountsAsAir) {
  EXPECT_EQ(checkHuCalibration(filled({{-2000.f, 100}, {40.f, 900}})).offset, 0);
}

TEST(HuCalibration, AirStoredAsZeroIsDetectedAsHuPlus1024) {
  const auto c = checkHuCalibration(filled({{0.f, 500}, {1064.f, 400}, {1800.f, 100}}));
  EXPECT_EQ(c.offset, 1024);
  EXPECT_NE(c.note.find("HU + 1024"), std::string::npos);
}

TEST(HuCalibration, ValuesWithNoAirAtAllAreRefused) {
  EXPECT_THROW(checkHuCalibration(filled({{-100.f, 500}, {500.f, 500}})), Error);
}

TEST(HuCalibration, ForcedOffsetWins) {
  EXPECT_EQ(checkHuCalibration(filled({{-1000.f, 10}}), 1024.0).offset, 1024);
  EXPECT_EQ(checkHuCalibration(filled({{0.f, 10}}), 0.0).offset, 0);
}

}  // namespace
}  // namespace ctd
