// Series whose geometry cannot be trusted: missing or NaN position and
// orientation, an orientation that changes within the series, two different
// images at one position. None may reach OUT unless it was placed and defaced.
#include <gdcmDataSet.h>

#include "BadInputFixture.h"
#include "DicomEdits.h"

namespace ctd::test {
namespace {

const gdcm::Tag kPosition(0x0020, 0x0032), kOrientation(0x0020, 0x0037), kSopInstance(0x0008, 0x0018);

void editAll(const std::vector<fs::path>& files, const std::function<void(gdcm::DataSet&)>& edit) {
  for (const auto& file : files) editDicom(file, [&](gdcm::File& f) { edit(f.GetDataSet()); });
}

TEST_F(BadInput, MissingImagePositionPatient) {
  editAll(writeHeadSeries(bad_), [](gdcm::DataSet& ds) { removeElement(ds, kPosition); });
  expectReported(runBatch(), "IM0003.dcm", {"ImagePositionPatient"});
}

TEST_F(BadInput, NanImagePositionPatient) {
  editAll(writeHeadSeries(bad_), [](gdcm::DataSet& ds) { setValue(ds, kPosition, gdcm::VR::DS, "NaN\\-10\\NaN"); });
  expectReported(runBatch(), "IM0003.dcm", {"ImagePositionPatient"});
}

TEST_F(BadInput, MissingImageOrientationPatient) {
  editAll(writeHeadSeries(bad_), [](gdcm::DataSet& ds) { removeElement(ds, kOrientation); });
  expectReported(runBatch(), "IM0003.dcm", {"ImageOrientationPatient"});
}

TEST_F(BadInput, NanImageOrientationPatient) {
  editAll(writeHeadSeries(bad_), [](gdcm::DataSet& ds) { setValue(ds, kOrientation, gdcm::VR::DS, "1\\0\\0\\0\\nan\\0"); });
  expectReported(runBatch(), "IM0003.dcm", {"ImageOrientationPatient"});
}

TEST_F(BadInput, OrientationChangingWithinTheSeries) {
  const auto files = writeHeadSeries(bad_);
  // One slice through the face turned by 30 degrees about the row axis: alone
  // in its orientation it is no volume and must not be written as it is.
  const fs::path odd = files[files.size() / 3];
  editDicom(odd, [](gdcm::File& f) { setValue(f.GetDataSet(), kOrientation, gdcm::VR::DS, "1\\0\\0\\0\\0.866025\\-0.5"); });
  const std::string odd_rel = "bad/" + odd.filename().string();
  may_write_ = [&](const fs::path& rel) { return rel.string().rfind("bad/", 0) == 0 && rel != odd_rel; };
  const BatchRun run = runBatch();
  EXPECT_FALSE(fs::exists(out_ / odd_rel)) << "the odd slice was written";
  expectReported(run, odd.filename().string(), {"orientation"});
}

TEST_F(BadInput, TwoDifferentImagesAtOnePosition) {
  const auto files = writeHeadSeries(bad_);
  const fs::path twin = bad_ / "IM9999.dcm";
  fs::copy_file(files[4], twin);
  editDicom(twin, [](gdcm::File& f) {
    gdcm::DataSet& ds = f.GetDataSet();
    setValue(ds, kSopInstance, gdcm::VR::UI, "1.2.826.0.1.3680043.2.1143.99.1");
    const gdcm::DataElement& px = ds.GetDataElement(gdcm::Tag(0x7FE0, 0x0010));
    std::string pixels(px.GetByteValue()->GetPointer(), px.GetByteValue()->GetLength());
    for (std::size_t i = 0; i < pixels.size(); i += 7) pixels[i] = static_cast<char>(pixels[i] ^ 0x3);
    gdcm::DataElement changed(px);
    changed.SetByteValue(pixels.data(), static_cast<std::uint32_t>(pixels.size()));
    ds.Replace(changed);
  });
  expectReported(runBatch(), "IM9999.dcm", {"same position"});
}

}  // namespace
}  // namespace ctd::test
