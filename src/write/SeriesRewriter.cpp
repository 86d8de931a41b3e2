#include "write/SeriesRewriter.h"

#include <gdcmUIDGenerator.h>

#include <cmath>
#include <limits>
#include <map>
#include <sstream>

#include "core/Error.h"
#include "dicom/PixelDecoder.h"
#include "write/FileRewriter.h"
#include "write/StagingArea.h"
#include "write/StoredSamples.h"

namespace ctd {
namespace {

struct FrameOfSlice {
  std::size_t k;        // slice index in the stack (= Volume slice)
  std::uint32_t frame;  // frame in the file
};

// Files in the order their first slice appears; each with all of its slices.
std::vector<std::pair<std::size_t, std::vector<FrameOfSlice>>> slicesByFile(const SeriesStack& stack) {
  std::vector<std::pair<std::size_t, std::vector<FrameOfSlice>>> files;
  std::map<std::size_t, std::size_t> where;
  for (std::size_t k = 0; k < stack.slices.size(); ++k) {
    const SliceRef& s = stack.slices[k];
    auto [it, inserted] = where.emplace(s.instance, files.size());
    if (inserted) files.push_back({s.instance, {}});
    files[it->second].second.push_back({k, s.frame});
  }
  return files;
}

std::string derivationText(const RewriteOptions& opt) {
  if (!opt.derivation_description.empty()) return opt.derivation_description;
  std::ostringstream s;
  s << "ctdeface: face voxels replaced with " << opt.fill_hu << " HU";
  return s.str();
}

// Applies `source` to the slices of one file; returns the number of changed samples.
std::size_t applySource(const DicomInstance& inst, const std::vector<FrameOfSlice>& slices,
                        const HuRowSource& source, const DecodedFrames& decoded, std::vector<std::int32_t>& after) {
  const StoredRange range = storedRange(inst);
  const std::size_t nx = decoded.columns, ny = decoded.rows;
  std::vector<float> row(nx);
  std::size_t changed = 0;
  for (const FrameOfSlice& s : slices) {
    if (s.frame >= decoded.frames) throw Error(inst.path, "frame " + std::to_string(s.frame + 1) + " missing");
    const FrameInfo fi = s.frame < inst.frames.size() ? inst.frames[s.frame]
                         : inst.frames.empty()        ? FrameInfo{}
                                                      : inst.frames.back();
    for (std::size_t j = 0; j < ny; ++j) {
      std::fill(row.begin(), row.end(), std::numeric_limits<float>::quiet_NaN());
      source(j, s.k, row.data());
      const std::size_t base = (std::size_t{s.frame} * ny + j) * nx;
      for (std::size_t i = 0; i < nx; ++i) {
        if (std::isnan(row[i])) continue;
        const std::int32_t v = storedFromHu(row[i], fi.slope, fi.intercept, range);
        if (v != after[base + i]) {
          after[base + i] = v;
          ++changed;
        }
      }
    }
  }
  return changed;
}

}  // namespace

RewriteResult rewriteSeriesFrom(const CaseInventory& inv, const SeriesStack& stack, const HuRowSource& source,
                                const RewriteOptions& opt) {
  if (opt.out_root.empty()) throw Error("rewrite: no output folder given");
  RewriteResult result;
  gdcm::UIDGenerator uids;
  const std::string series_uid = opt.new_uids ? uids.Generate() : std::string();
  const std::string derivation = derivationText(opt);

  StagingArea staging(opt.out_root);
  for (const auto& [index, slices] : slicesByFile(stack)) {
    if (index >= inv.instances.size()) throw Error(inv.root, "stack refers to a missing instance");
    const DicomInstance& inst = inv.instances[index];
    try {
      const std::filesystem::path staged = staging.stage(inst.relative, inst.path);
      FileEdit edit;
      DecodedFrames decoded = decodePixels(inst);
      edit.after = decoded.stored;
      edit.changed = applySource(inst, slices, source, decoded, edit.after);
      edit.before = std::move(decoded.stored);
      if (opt.new_uids) {
        edit.new_sop_uid = uids.Generate();
        edit.new_series_uid = series_uid;
      }
      edit.mark_defaced = opt.mark_defaced;
      edit.derivation_description = derivation;
      FileOutcome outcome = writeRewrittenFile(inst, edit, staged);
      outcome.output = opt.out_root / inst.relative;
      result.changed_voxels += outcome.changed_voxels;
      result.files.push_back(std::move(outcome));
    } catch (const Error&) {
      throw;  // already names its file; the staging folder goes with `staging`
    } catch (const std::exception& e) {
      throw Error(inst.path, e.what());
    }
  }
  staging.commit();
  return result;
}

RewriteResult rewriteSeries(const CaseInventory& inv, const SeriesStack& stack, const VoxelMask& mask,
                            const RewriteOptions& opt) {
  if (mask.nz != stack.slices.size())
    throw Error(inv.root, "mask has " + std::to_string(mask.nz) + " slices, the stack " +
                              std::to_string(stack.slices.size()));
  const float fill = static_cast<float>(opt.fill_hu);
  const HuRowSource from_mask = [&](std::size_t j, std::size_t k, float* row) {
    if (j >= mask.ny) return;
    for (std::size_t i = 0; i < mask.nx; ++i)
      if (mask.at(i, j, k)) row[i] = fill;
  };
  // Matrix size must match every file of the stack (checked per file).
  for (const SliceRef& s : stack.slices) {
    const DicomInstance& inst = inv.instances.at(s.instance);
    if (inst.columns != mask.nx || inst.rows != mask.ny)
      throw Error(inst.path, "mask is " + std::to_string(mask.nx) + "x" + std::to_string(mask.ny) +
                                 ", the image " + std::to_string(inst.columns) + "x" + std::to_string(inst.rows));
  }
  return rewriteSeriesFrom(inv, stack, from_mask, opt);
}

}  // namespace ctd
