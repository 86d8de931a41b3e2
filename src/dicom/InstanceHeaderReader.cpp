// readInstanceHeader: one file's header -> DicomInstance (no pixel data read).
#include <gdcmFileMetaInformation.h>
#include <gdcmReader.h>
#include <gdcmTransferSyntax.h>

#include <algorithm>
#include <climits>
#include <set>
#include <system_error>

#include "core/Error.h"
#include "dicom/AttributeTypeCheck.h"
#include "dicom/GdcmQuiet.h"
#include "dicom/DataSetValues.h"
#include "dicom/InstanceClassifier.h"
#include "dicom/Part10Precheck.h"
#include "dicom/SeriesAssembler.h"

namespace ctd {
namespace {

const gdcm::Tag kPixelData(0x7FE0, 0x0010);

std::optional<Vec3> vec3(const std::vector<double>& v) {
  if (v.size() != 3) return std::nullopt;
  return Vec3{v[0], v[1], v[2]};
}

std::optional<std::array<double, 6>> orientation(const std::vector<double>& v) {
  if (v.size() != 6) return std::nullopt;
  return std::array<double, 6>{v[0], v[1], v[2], v[3], v[4], v[5]};
}

std::optional<std::array<double, 2>> spacing(const std::vector<double>& v) {
  if (v.size() != 2) return std::nullopt;
  return std::array<double, 2>{v[0], v[1]};
}

int integer(const gdcm::DataSet& ds, const gdcm::Tag& tag) {
  const auto v = dcm::getNumber(ds, tag);
  // A corrupt IS can hold any number; casting one beyond int is undefined.
  if (!v || *v < INT_MIN || *v > INT_MAX) return 0;
  return static_cast<int>(*v);
}

// Enhanced CT volumes hold hundreds to a few thousand frames; more than this
// is a corrupt header, whose frame list alone would take gigabytes.
constexpr std::uint64_t kMaxFrames = 1000000;

// NumberOfFrames is believed only when the file can hold that many frames:
// native frames take Rows x Columns samples each, compressed ones at least a
// byte (deflate) or an 8-byte item header (encapsulated).
void checkFrameCount(const DicomInstance& inst, const std::string& raw, std::uint64_t file_size, bool has_pixels) {
  const std::uint64_t n = inst.number_of_frames;
  const auto refuse = [&] {
    throw Error(inst.path, "NumberOfFrames " + raw + " is implausible for a " + std::to_string(file_size) +
                               "-byte file with Rows x Columns " + std::to_string(inst.rows) + " x " +
                               std::to_string(inst.columns));
  };
  if (n > kMaxFrames) refuse();
  if (!has_pixels || n <= 1) return;
  const gdcm::TransferSyntax ts = gdcm::TransferSyntax::GetTSType(inst.transfer_syntax.c_str());
  std::uint64_t per_frame = 1;
  if (ts.IsEncapsulated()) per_frame = 8;
  else if (ts != gdcm::TransferSyntax::DeflatedExplicitVRLittleEndian)
    per_frame = std::max<std::uint64_t>(1, std::uint64_t(inst.rows) * inst.columns * inst.samples_per_pixel *
                                               inst.bits_allocated / 8);
  if (n * per_frame > file_size) refuse();
}

// Fills the geometry / value-mapping attributes present in `ds` (a top-level
// data set or a functional group item); absent ones are left as they are.
void readPlaneAttributes(const gdcm::DataSet& ds, FrameInfo& f) {
  if (auto p = vec3(dcm::getNumbers(ds, gdcm::Tag(0x0020, 0x0032)))) f.position = p;
  if (auto o = orientation(dcm::getNumbers(ds, gdcm::Tag(0x0020, 0x0037)))) f.orientation = o;
  if (auto s = spacing(dcm::getNumbers(ds, gdcm::Tag(0x0028, 0x0030)))) f.pixel_spacing = s;
  if (auto t = dcm::getNumber(ds, gdcm::Tag(0x0018, 0x0050))) f.slice_thickness = *t;
  if (auto b = dcm::getNumber(ds, gdcm::Tag(0x0028, 0x1052))) f.intercept = *b;
  if (auto m = dcm::getNumber(ds, gdcm::Tag(0x0028, 0x1053))) f.slope = *m;
}

// Applies the functional group macros of one item (shared or per-frame).
void readFunctionalGroups(const gdcm::DataSet& group, FrameInfo& f) {
  static const gdcm::Tag kMacros[] = {
      gdcm::Tag(0x0020, 0x9113),  // PlanePositionSequence
      gdcm::Tag(0x0020, 0x9116),  // PlaneOrientationSequence
      gdcm::Tag(0x0028, 0x9110),  // PixelMeasuresSequence
      gdcm::Tag(0x0028, 0x9145),  // PixelValueTransformationSequence
  };
  for (const gdcm::Tag& macro : kMacros)
    for (const gdcm::DataSet& item : dcm::sequenceItems(group, macro)) readPlaneAttributes(item, f);
}

void readFrames(const gdcm::DataSet& ds, DicomInstance& inst) {
  FrameInfo top;
  readPlaneAttributes(ds, top);
  const auto shared = dcm::sequenceItems(ds, gdcm::Tag(0x5200, 0x9229));
  const auto per_frame = dcm::sequenceItems(ds, gdcm::Tag(0x5200, 0x9230));
  if (shared.empty() && per_frame.empty()) {
    inst.frames.assign(inst.number_of_frames, top);
    return;
  }
  // Enhanced / multi-frame: shared groups first, then each frame's own.
  FrameInfo base = top;
  base.position.reset();
  for (const auto& g : shared) readFunctionalGroups(g, base);
  inst.frames.assign(inst.number_of_frames, base);
  for (std::size_t f = 0; f < inst.frames.size() && f < per_frame.size(); ++f)
    readFunctionalGroups(per_frame[f], inst.frames[f]);
}

}  // namespace

DicomInstance readInstanceHeader(const std::filesystem::path& file, const std::filesystem::path& case_root) {
  quietGdcm();
  std::error_code ec;
  const auto size = std::filesystem::file_size(file, ec);
  if (ec) throw Error(file, "cannot read file: " + ec.message());

  if (std::string why; !plausibleDicomStart(file, why)) throw Error(file, why);
  gdcm::Reader reader;
  reader.SetFileName(file.string().c_str());
  // Stop at PixelData without loading it; whether it exists is told by the
  // stream position (a file without PixelData is read to its end).
  const std::set<gdcm::Tag> skip{kPixelData};
  if (!reader.ReadUpToTag(kPixelData, skip)) throw Error(file, "not a DICOM file (GDCM cannot parse it)");
  const gdcm::FileMetaInformation& meta = reader.GetFile().GetHeader();
  const gdcm::TransferSyntax ts = meta.GetDataSetTransferSyntax();

  DicomInstance inst;
  inst.path = file;
  inst.relative = file.lexically_relative(case_root);
  if (inst.relative.empty()) inst.relative = file.filename();

  bool has_pixels = false;
  if (ts == gdcm::TransferSyntax::DeflatedExplicitVRLittleEndian) {
    // The stream position of an inflated stream says nothing about the file: read it all.
    gdcm::Reader full;
    full.SetFileName(file.string().c_str());
    if (!full.Read()) throw Error(file, "not a DICOM file (GDCM cannot parse it)");
    has_pixels = full.GetFile().GetDataSet().FindDataElement(kPixelData);
  } else {
    const std::size_t pos = reader.GetStreamCurrentPosition();
    has_pixels = pos != static_cast<std::size_t>(-1) && pos < size;
    // Readers of this offset find and check the element header around it.
    if (has_pixels) inst.pixel_data_offset = pos;
  }
  inst.has_pixel_data = has_pixels;

  const gdcm::DataSet& ds = reader.GetFile().GetDataSet();
  checkAttributeTypes(ds, file);
  const char* ts_uid = gdcm::TransferSyntax::GetTSString(ts);
  inst.transfer_syntax = ts_uid ? ts_uid : dcm::getString(meta, gdcm::Tag(0x0002, 0x0010));
  // GDCM guesses a syntax when it cannot use the declared one; the structure
  // check (plausibleDicomStart) walked the declared one, so a guess would read
  // the data set unchecked (fuzzing found GDCM then allocating gigabytes).
  const std::string declared = dcm::getString(meta, gdcm::Tag(0x0002, 0x0010));
  if (!declared.empty() && declared != inst.transfer_syntax)
    throw Error(file, "corrupt header: File Meta Information declares transfer syntax " + declared +
                          " but the data set does not read as it");
  inst.sop_class_uid = dcm::getString(ds, gdcm::Tag(0x0008, 0x0016));
  if (inst.sop_class_uid.empty()) inst.sop_class_uid = dcm::getString(meta, gdcm::Tag(0x0002, 0x0002));
  inst.sop_instance_uid = dcm::getString(ds, gdcm::Tag(0x0008, 0x0018));
  if (inst.sop_instance_uid.empty()) inst.sop_instance_uid = dcm::getString(meta, gdcm::Tag(0x0002, 0x0003));
  inst.study_uid = dcm::getString(ds, gdcm::Tag(0x0020, 0x000D));
  inst.series_uid = dcm::getString(ds, gdcm::Tag(0x0020, 0x000E));
  inst.frame_of_reference_uid = dcm::getString(ds, gdcm::Tag(0x0020, 0x0052));
  inst.modality = dcm::getString(ds, gdcm::Tag(0x0008, 0x0060));
  inst.series_description = dcm::getString(ds, gdcm::Tag(0x0008, 0x103E));
  inst.image_type = dcm::getStrings(ds, gdcm::Tag(0x0008, 0x0008));
  inst.series_number = integer(ds, gdcm::Tag(0x0020, 0x0011));
  inst.instance_number = integer(ds, gdcm::Tag(0x0020, 0x0013));
  inst.acquisition_number = integer(ds, gdcm::Tag(0x0020, 0x0012));

  inst.rows = dcm::getUS(ds, gdcm::Tag(0x0028, 0x0010)).value_or(0);
  inst.columns = dcm::getUS(ds, gdcm::Tag(0x0028, 0x0011)).value_or(0);
  inst.samples_per_pixel = dcm::getUS(ds, gdcm::Tag(0x0028, 0x0002)).value_or(1);
  inst.bits_allocated = dcm::getUS(ds, gdcm::Tag(0x0028, 0x0100)).value_or(0);
  inst.bits_stored = dcm::getUS(ds, gdcm::Tag(0x0028, 0x0101)).value_or(inst.bits_allocated);
  inst.high_bit = dcm::getUS(ds, gdcm::Tag(0x0028, 0x0102))
                      .value_or(inst.bits_stored ? static_cast<std::uint16_t>(inst.bits_stored - 1) : 0);
  inst.pixel_representation = dcm::getUS(ds, gdcm::Tag(0x0028, 0x0103)).value_or(0);
  inst.photometric = dcm::getString(ds, gdcm::Tag(0x0028, 0x0004));
  const int frames = integer(ds, gdcm::Tag(0x0028, 0x0008));
  inst.number_of_frames = frames > 0 ? static_cast<std::uint32_t>(frames) : 1;
  inst.gantry_tilt = dcm::getNumber(ds, gdcm::Tag(0x0018, 0x1120));
  checkFrameCount(inst, std::to_string(inst.number_of_frames), size, inst.has_pixel_data);

  if (inst.has_pixel_data) readFrames(ds, inst);
  classifyInstance(inst);
  return inst;
}

}  // namespace ctd
