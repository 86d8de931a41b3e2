#include "write/FileRewriter.h"

#include <gdcmDataElement.h>
#include <gdcmImage.h>
#include <gdcmImageChangeTransferSyntax.h>
#include <gdcmPhotometricInterpretation.h>
#include <gdcmPixelFormat.h>
#include <gdcmReader.h>
#include <gdcmTag.h>
#include <gdcmWriter.h>

#include <memory>
#include <set>

#include "core/Error.h"
#include "dicom/PixelDecoder.h"
#include "write/DatasetEdits.h"
#include "write/FileCopy.h"
#include "write/NativePixelPatch.h"
#include "write/StoredSamples.h"
#include "write/TransferSyntaxPolicy.h"

namespace fs = std::filesystem;

namespace ctd {
namespace {

const gdcm::Tag kPixelData(0x7FE0, 0x0010);

// The reader owns the gdcm::File (gdcm::Writer holds it by reference count, so
// it must never be a plain local object).
std::unique_ptr<gdcm::Reader> readWhole(const fs::path& file) {
  auto reader = std::make_unique<gdcm::Reader>();
  reader->SetFileName(file.string().c_str());
  if (!reader->Read()) throw Error(file, "GDCM cannot read the file");
  return reader;
}

bool headerHasPixelSummaries(const fs::path& file) {
  gdcm::Reader reader;
  reader.SetFileName(file.string().c_str());
  if (!reader.ReadUpToTag(kPixelData, std::set<gdcm::Tag>{kPixelData}))
    throw Error(file, "GDCM cannot read the header");
  return hasPixelSummaries(reader.GetFile().GetDataSet());
}

// Writes `file` as it is: file meta exactly as held (no GDCM regeneration).
void writeFile(gdcm::File& file, const fs::path& out, const fs::path& source) {
  gdcm::Writer writer;
  writer.SetFile(file);
  writer.SetFileName(out.string().c_str());
  writer.CheckFileMetaInformationOff();
  if (!writer.Write()) throw Error(source, "GDCM could not write the rewritten file");
}

void applyHeaderEdits(gdcm::File& file, const FileEdit& edit) {
  if (edit.changed > 0) dropPixelSummaries(file.GetDataSet());
  if (!edit.new_sop_uid.empty()) setSopInstanceUid(file, edit.new_sop_uid);
  if (!edit.new_series_uid.empty()) setSeriesInstanceUid(file.GetDataSet(), edit.new_series_uid);
  if (edit.mark_defaced) markDefaced(file.GetDataSet(), edit.derivation_description);
}

gdcm::DataElement uncompressedPixelData(const DicomInstance& inst, const std::vector<std::int32_t>& stored,
                                        gdcm::VR vr) {
  const std::string raw = rawLittleEndian(stored, inst);
  gdcm::DataElement de(kPixelData);
  de.SetVR(vr);
  de.SetByteValue(raw.data(), static_cast<std::uint32_t>(raw.size()));
  return de;
}

// Encodes `stored` in `ts` with GDCM; false if GDCM cannot.
bool encodeLossless(const DicomInstance& inst, const std::vector<std::int32_t>& stored,
                    const gdcm::TransferSyntax& ts, gdcm::DataElement& encoded) {
  // GDCM 3.0.21's JPEG 2000 encoder writes into a buffer the size of the raw
  // frame and overflows it when the codestream outgrows tiny frames: such
  // files take the Explicit VR Little Endian fallback instead.
  constexpr std::size_t kMinJ2kPixels = 1024;
  const bool j2k = ts == gdcm::TransferSyntax::JPEG2000Lossless || ts == gdcm::TransferSyntax::JPEG2000;
  if (j2k && std::size_t{inst.rows} * inst.columns < kMinJ2kPixels) return false;
  // Reference counted: ImageChangeTransferSyntax keeps a smart pointer to its input.
  gdcm::SmartPointer<gdcm::Image> raw = new gdcm::Image;
  raw->SetNumberOfDimensions(inst.number_of_frames > 1 ? 3 : 2);
  raw->SetDimension(0, inst.columns);
  raw->SetDimension(1, inst.rows);
  if (inst.number_of_frames > 1) raw->SetDimension(2, inst.number_of_frames);
  raw->SetPixelFormat(gdcm::PixelFormat(inst.samples_per_pixel, inst.bits_allocated, inst.bits_stored,
                                       inst.high_bit, inst.pixel_representation));
  const auto pi = gdcm::PhotometricInterpretation::GetPIType(inst.photometric.c_str());
  raw->SetPhotometricInterpretation(gdcm::PhotometricInterpretation(
      pi == gdcm::PhotometricInterpretation::PI_END ? gdcm::PhotometricInterpretation::MONOCHROME2 : pi));
  raw->SetTransferSyntax(gdcm::TransferSyntax::ExplicitVRLittleEndian);
  raw->SetDataElement(uncompressedPixelData(inst, stored, inst.bits_allocated > 8 ? gdcm::VR::OW : gdcm::VR::OB));
  gdcm::ImageChangeTransferSyntax change;
  change.SetTransferSyntax(ts);
  change.SetInput(*raw);
  if (!change.Change()) return false;
  encoded = change.GetOutput().GetDataElement();
  return true;
}

// Reads the written file back through the project's decoder. A file whose
// bytes outside PixelData are still the source's (patched in place, header
// not re-serialised) keeps the source's PixelData offset: native 16-bit ones
// are read back with the reader's fast path, which checks the element's tag
// and length there and gives the values GDCM's decode gives; everything else
// is decoded by GDCM.
bool decodesTo(const DicomInstance& inst, const fs::path& written, const std::string& ts,
               const std::vector<std::int32_t>& expected, bool source_layout = false) {
  DicomInstance check = inst;
  check.path = written;
  check.transfer_syntax = ts;
  try {
    if (source_layout && ts == inst.transfer_syntax) {
      // Reused per thread (a series checks hundreds of files of one size);
      // not kept when larger than a few slices.
      thread_local std::vector<std::int32_t> stored;
      const bool read = readNativeStored(check, stored);
      const bool same = read && stored == expected;
      if (stored.capacity() > (std::size_t{16} << 20)) std::vector<std::int32_t>().swap(stored);
      if (read) return same;
    }
    return decodePixels(check).stored == expected;
  } catch (const std::exception&) {
    return false;
  }
}

void copyBytes(const fs::path& from, const fs::path& to) { copyFileBytes(from, to); }

void writeUncompressedSource(const DicomInstance& inst, const FileEdit& edit, const fs::path& staged,
                             FileOutcome& out) {
  const bool header_edits = !edit.new_sop_uid.empty() || !edit.new_series_uid.empty() || edit.mark_defaced ||
                            (edit.changed > 0 && headerHasPixelSummaries(inst.path));
  if (header_edits) {
    // GDCM re-serialises the header edits (same syntax, file meta kept as read);
    // PixelData is still the source's and is patched below like any other file.
    const auto reader = readWhole(inst.path);
    gdcm::File& file = reader->GetFile();
    applyHeaderEdits(file, edit);
    writeFile(file, staged, inst.path);
  } else if (!edit.staged_holds_source) {
    copyBytes(inst.path, staged);
  }
  if (edit.changed == 0) return;
  DicomInstance at_staged = inst;
  at_staged.path = staged;
  patchNativePixels(staged, at_staged, edit.before, edit.after, !header_edits);
  out.transfer_syntax_out = inst.transfer_syntax;
  if (!decodesTo(inst, staged, out.transfer_syntax_out, edit.after, !header_edits))
    throw Error(inst.path, "rewritten file does not decode to the intended values");
}

void writeCompressedSource(const DicomInstance& inst, const FileEdit& edit, const fs::path& staged,
                           FileOutcome& out) {
  const SyntaxRoute route = routeFor(inst.transfer_syntax);
  const auto reader = readWhole(inst.path);
  gdcm::File& file = reader->GetFile();
  applyHeaderEdits(file, edit);
  out.transfer_syntax_out = inst.transfer_syntax;
  if (edit.changed == 0) {  // header edits only: the pixel stream is kept as it is
    if (route == SyntaxRoute::Deflated) {  // see below: never written deflated
      setTransferSyntax(file, gdcm::TransferSyntax::ExplicitVRLittleEndian);
      out.transfer_syntax_out = kExplicitVRLittleEndian;
      out.note = syntaxName(inst.transfer_syntax) + " source written as Explicit VR Little Endian";
    }
    writeFile(file, staged, inst.path);
    return;
  }
  gdcm::DataSet& ds = file.GetDataSet();
  dropExtendedOffsetTable(ds);
  const gdcm::VR native_vr = inst.bits_allocated > 8 ? gdcm::VR::OW : gdcm::VR::OB;

  if (route == SyntaxRoute::LosslessReencode) {
    gdcm::DataElement encoded;
    const gdcm::TransferSyntax ts = gdcm::TransferSyntax::GetTSType(inst.transfer_syntax.c_str());
    if (encodeLossless(inst, edit.after, ts, encoded)) {
      ds.Replace(encoded);
      writeFile(file, staged, inst.path);
      if (decodesTo(inst, staged, inst.transfer_syntax, edit.after)) {
        out.note = "re-encoded " + syntaxName(inst.transfer_syntax);
        return;
      }
    }
  }
  // Lossy sources (re-compressing would lose more), unknown syntaxes and any
  // lossless re-encode GDCM could not do exactly: Explicit VR Little Endian.
  // Deflated sources too: GDCM 3.0.21 writes deflated files that its own
  // header-only parse (ReadUpToTag skipping PixelData) then fails on, and
  // dciodvfy cannot read deflate at all; the data set is lossless either way.
  // LossyImageCompression (0028,2110) stays as the source says.
  ds.Replace(uncompressedPixelData(inst, edit.after, native_vr));
  setTransferSyntax(file, gdcm::TransferSyntax::ExplicitVRLittleEndian);
  writeFile(file, staged, inst.path);
  out.transfer_syntax_out = kExplicitVRLittleEndian;
  if (!decodesTo(inst, staged, out.transfer_syntax_out, edit.after))
    throw Error(inst.path, "rewritten file does not decode to the intended values");
  out.note = route != SyntaxRoute::LosslessReencode
                 ? syntaxName(inst.transfer_syntax) + " source written as Explicit VR Little Endian"
                 : "GDCM could not re-encode " + syntaxName(inst.transfer_syntax) +
                       " exactly; written as Explicit VR Little Endian";
}

}  // namespace

FileOutcome writeRewrittenFile(const DicomInstance& inst, const FileEdit& edit, const fs::path& staged) {
  FileOutcome out;
  out.source = inst.path;
  out.transfer_syntax_in = inst.transfer_syntax;
  out.transfer_syntax_out = inst.transfer_syntax;
  out.changed_voxels = edit.changed;
  const bool header_edits = !edit.new_sop_uid.empty() || !edit.new_series_uid.empty() || edit.mark_defaced;
  if (edit.changed == 0 && !header_edits) {
    if (!edit.staged_holds_source) copyBytes(inst.path, staged);  // nothing to change: the source, byte for byte
    return out;
  }
  if (routeFor(inst.transfer_syntax) == SyntaxRoute::PatchInPlace)
    writeUncompressedSource(inst, edit, staged, out);
  else
    writeCompressedSource(inst, edit, staged, out);
  return out;
}

}  // namespace ctd
