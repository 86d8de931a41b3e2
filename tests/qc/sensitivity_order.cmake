# Loaded by ctest after the discovered gtest cases: DetectorSensitivity.Over50Poses
# reads what the five cases of ten poses recorded, so it runs after them.
set_tests_properties("DetectorSensitivity.Over50Poses" PROPERTIES DEPENDS
  "DetectorSensitivity.Seeds01to10;DetectorSensitivity.Seeds11to20;DetectorSensitivity.Seeds21to30;DetectorSensitivity.Seeds31to40;DetectorSensitivity.Seeds41to50")
