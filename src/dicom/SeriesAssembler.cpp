// assembleCase: headers of every file of a case -> CT stacks + set-aside files.
//
// Rules (documented for the README):
//  * Only CT images (CT, Enhanced CT, Legacy Converted Enhanced CT storage that
//    are not localizers or rendered captures) form stacks; every other DICOM
//    file is set aside with a one-line reason, non-DICOM files are skipped.
//  * Frames are grouped by SeriesInstanceUID, then split by Rows/Columns,
//    ImageOrientationPatient (rounded to 1e-3) and PixelSpacing (rounded to
//    1e-4 mm). SliceThickness, ImageType and AcquisitionNumber do not split
//    (a GE head series mixes 4 and 7 mm slices in one volume). A split-off
//    group of fewer than 3 frames next to a larger one (a slice turned within
//    the series) is set aside: it cannot be defaced on its own.
//  * Slices are sorted by ImagePositionPatient . normal, never InstanceNumber.
//  * Frames at one position (within 0.01 mm): the same SOPInstanceUID or
//    identical stored pixels -> one is dropped with a warning. Different
//    pixels: when every position holds the same number m of them and there are
//    at least two positions, the group is split into m stacks (by
//    AcquisitionNumber, then InstanceNumber); otherwise the whole group is set
//    aside (e.g. repeated scans of one slice for bolus tracking).
//  * Warnings (not errors): missing slices (a gap that is an integer multiple
//    of the median gap), non-uniform spacing (a gap off the median by > 1 %),
//    gantry tilt (angle between first->last slice step and the normal > 0.5°).
#include "dicom/SeriesAssembler.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <numeric>
#include <optional>
#include <set>

#include "core/Error.h"
#include "dicom/DicomInstanceCodec.h"
#include "dicom/ForkPolicy.h"
#include "dicom/IsolatedFilePass.h"
#include "dicom/PixelDecoder.h"

namespace ctd {
namespace {

constexpr double kSamePositionMm = 0.01;
constexpr double kGapRelTol = 0.01;
constexpr double kTiltTolDeg = 0.5;
// Fewer slices than this, split off a larger series by geometry, are set aside.
constexpr std::size_t kMinSplinterSlices = 3;

struct Candidate {
  std::size_t instance;
  std::uint32_t frame;
  double proj = 0;  // IPP . normal
};

const FrameInfo& frameOf(const CaseInventory& inv, const Candidate& c) {
  return inv.instances[c.instance].frames[c.frame];
}

Vec3 rowDir(const std::array<double, 6>& iop) { return normalized(Vec3{iop[0], iop[1], iop[2]}); }
Vec3 colDir(const std::array<double, 6>& iop) { return normalized(Vec3{iop[3], iop[4], iop[5]}); }

std::string fmt(double v, int decimals = 2) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

long long rounded(double v, double unit) { return std::llround(v / unit); }

// Frames that can be put in a stack share this key.
std::string geometryKey(const DicomInstance& inst, const FrameInfo& f) {
  std::string key = std::to_string(inst.rows) + "x" + std::to_string(inst.columns);
  for (double c : *f.orientation) key += ":" + std::to_string(rounded(c, 1e-3));
  const auto ps = f.pixel_spacing.value_or(std::array<double, 2>{0, 0});
  key += "|" + std::to_string(rounded(ps[0], 1e-4)) + "," + std::to_string(rounded(ps[1], 1e-4));
  return key;
}

std::string sanitize(const std::string& s) {
  std::string out;
  for (char ch : s) {
    const bool keep = (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-' ||
                      ch == '.';
    if (keep) out += ch;
    else if (!out.empty() && out.back() != '_') out += '_';
  }
  while (!out.empty() && (out.back() == '_' || out.back() == '.')) out.pop_back();
  while (!out.empty() && out.front() == '.') out.erase(out.begin());
  return out;
}

// Decoded stored values of frames, cached per instance (only used for the rare
// duplicate-position comparison, for the frames at one position).
class PixelCache {
 public:
  explicit PixelCache(const CaseInventory& inv) : inv_(inv) {}
  const std::vector<std::int32_t>* frame(std::size_t instance, std::uint32_t f, std::vector<std::int32_t>& out) {
    auto it = cache_.find(instance);
    if (it == cache_.end()) {
      std::optional<DecodedFrames> d;
      try {
        d = decodePixels(inv_.instances[instance]);
      } catch (const Error&) {
      }
      it = cache_.emplace(instance, std::move(d)).first;
    }
    if (!it->second || f >= it->second->frames) return nullptr;
    const std::size_t n = std::size_t(it->second->rows) * it->second->columns;
    out.assign(it->second->stored.begin() + f * n, it->second->stored.begin() + (f + 1) * n);
    return &out;
  }

 private:
  const CaseInventory& inv_;
  std::map<std::size_t, std::optional<DecodedFrames>> cache_;
};

bool samePixels(const CaseInventory& inv, PixelCache& cache, const Candidate& a, const Candidate& b) {
  const FrameInfo& fa = frameOf(inv, a);
  const FrameInfo& fb = frameOf(inv, b);
  if (fa.slope != fb.slope || fa.intercept != fb.intercept) return false;
  std::vector<std::int32_t> pa, pb;
  const auto* va = cache.frame(a.instance, a.frame, pa);
  const auto* vb = cache.frame(b.instance, b.frame, pb);
  return va && vb && *va == *vb;
}

std::string describe(const CaseInventory& inv, const Candidate& c) {
  const DicomInstance& inst = inv.instances[c.instance];
  std::string s = inst.relative.string();
  if (inst.number_of_frames > 1) s += " frame " + std::to_string(c.frame + 1);
  return s;
}

// Gaps, missing slices, tilt and dropped duplicates of one sorted stack.
void addGeometryWarnings(const CaseInventory& inv, const std::vector<Candidate>& sorted, const Vec3& normal,
                         std::vector<std::string>& warnings) {
  if (sorted.size() < 2) {
    warnings.push_back("single slice: no slice spacing");
    return;
  }
  std::vector<double> gaps;
  for (std::size_t k = 1; k < sorted.size(); ++k) gaps.push_back(sorted[k].proj - sorted[k - 1].proj);
  std::vector<double> tmp = gaps;
  std::nth_element(tmp.begin(), tmp.begin() + tmp.size() / 2, tmp.end());
  const double median = tmp[tmp.size() / 2];
  bool uneven = false;
  for (std::size_t k = 0; k < gaps.size(); ++k) {
    const double ratio = gaps[k] / median;
    const double whole = std::round(ratio);
    if (whole >= 2 && std::abs(ratio - whole) < 0.05) {
      warnings.push_back("missing slice(s): gap of " + fmt(gaps[k]) + " mm (" + fmt(whole, 0) + " x the usual " +
                         fmt(median) + " mm) between " + describe(inv, sorted[k]) + " and " +
                         describe(inv, sorted[k + 1]));
    } else if (std::abs(gaps[k] - median) > kGapRelTol * median) {
      uneven = true;
    }
  }
  if (uneven) {
    const auto [mn, mx] = std::minmax_element(gaps.begin(), gaps.end());
    warnings.push_back("non-uniform slice spacing: gaps from " + fmt(*mn) + " to " + fmt(*mx) + " mm (median " +
                       fmt(median) + " mm)");
  }
  const Vec3 step = *frameOf(inv, sorted.back()).position - *frameOf(inv, sorted.front()).position;
  if (norm(step) > 0) {
    const double c = std::min(1.0, std::abs(dot(step, normal)) / norm(step));
    const double tilt = std::acos(c) * 180.0 / M_PI;
    if (tilt > kTiltTolDeg)
      warnings.push_back("gantry tilt " + fmt(tilt, 1) +
                         " deg: slice positions step at an angle to the slice normal (sheared stack)");
  }
}

struct GroupResult {
  std::vector<std::vector<Candidate>> stacks;
  std::vector<std::string> warnings;  // apply to every stack of the group
  std::string rejection;              // non-empty: set the whole group aside
  std::vector<SetAside> dropped;      // duplicate files left out of the stacks
};

// One warning for all dropped duplicates: a copied study can hold hundreds.
void summarizeDuplicates(const std::vector<SetAside>& dropped, const std::filesystem::path& root,
                         std::vector<std::string>& warnings) {
  if (dropped.empty()) return;
  constexpr std::size_t kShown = 3;
  std::string w = "dropped " + std::to_string(dropped.size()) + " duplicate slice(s): ";
  for (std::size_t i = 0; i < dropped.size() && i < kShown; ++i)
    w += (i ? "; " : "") + dropped[i].path.lexically_relative(root).string() + " (" + dropped[i].reason + ")";
  if (dropped.size() > kShown) w += "; ...";
  warnings.push_back(w);
}

// Sorts one geometry group, resolves duplicate positions and splits repeated stacks.
GroupResult resolveGroup(const CaseInventory& inv, std::vector<Candidate> group) {
  GroupResult r;
  const auto& iop = *frameOf(inv, group.front()).orientation;
  const Vec3 normal = normalized(cross(rowDir(iop), colDir(iop)));
  for (auto& c : group) c.proj = dot(*frameOf(inv, c).position, normal);
  auto tieOrder = [&](const Candidate& a, const Candidate& b) {
    const auto& ia = inv.instances[a.instance];
    const auto& ib = inv.instances[b.instance];
    return std::tie(ia.acquisition_number, ia.instance_number, ia.path, a.frame) <
           std::tie(ib.acquisition_number, ib.instance_number, ib.path, b.frame);
  };
  // Strictly by position first (a tolerance inside the comparator would not be
  // a strict weak order), then runs within kSamePositionMm of the run's first
  // frame are one position, ordered by acquisition / instance / path.
  std::sort(group.begin(), group.end(), [&](const Candidate& a, const Candidate& b) {
    return a.proj != b.proj ? a.proj < b.proj : tieOrder(a, b);
  });
  std::vector<std::vector<Candidate>> positions;
  for (const auto& c : group) {
    if (positions.empty() || c.proj - positions.back().front().proj >= kSamePositionMm) positions.emplace_back();
    positions.back().push_back(c);
  }
  for (auto& at : positions) std::sort(at.begin(), at.end(), tieOrder);
  std::size_t multiplicity = 0;
  bool same_multiplicity = true;
  for (auto& at : positions) {
    // Decoded pixels are only kept while one position is examined: a study
    // copied twice would otherwise hold every slice twice in memory.
    PixelCache cache(inv);
    std::vector<Candidate> kept;
    for (const auto& c : at) {
      const auto& inst = inv.instances[c.instance];
      const Candidate* twin = nullptr;
      std::string why;
      for (const auto& k : kept) {
        const auto& other = inv.instances[k.instance];
        if (!inst.sop_instance_uid.empty() && inst.sop_instance_uid == other.sop_instance_uid && c.frame == k.frame) {
          twin = &k;
          why = "same SOPInstanceUID";
        } else if (samePixels(inv, cache, k, c)) {
          twin = &k;
          why = "identical pixels";
        }
        if (twin) break;
      }
      if (twin)
        r.dropped.push_back({inst.path, "duplicate slice (" + why + " as " + describe(inv, *twin) + ")"});
      else
        kept.push_back(c);
    }
    at = kept;
    if (multiplicity == 0) multiplicity = at.size();
    same_multiplicity = same_multiplicity && at.size() == multiplicity;
  }
  summarizeDuplicates(r.dropped, inv.root, r.warnings);
  if (multiplicity == 1 && same_multiplicity) {
    r.stacks.emplace_back();
    for (const auto& at : positions) r.stacks.back().push_back(at.front());
    return r;
  }
  std::size_t total = 0;
  for (const auto& at : positions) total += at.size();
  if (positions.size() == 1) {
    r.rejection = std::to_string(total) +
                  " images at one position with different pixels (repeated scans of one slice): not a volume";
    return r;
  }
  if (!same_multiplicity) {
    r.rejection = "images at the same position with different pixels that do not form complete stacks (" +
                  std::to_string(total) + " images at " + std::to_string(positions.size()) + " positions)";
    return r;
  }
  // Every position holds `multiplicity` different slices: that many stacks.
  r.stacks.resize(multiplicity);
  for (auto& at : positions) {
    std::sort(at.begin(), at.end(), tieOrder);
    for (std::size_t j = 0; j < multiplicity; ++j) r.stacks[j].push_back(at[j]);
  }
  r.warnings.push_back("positions repeat with different pixels: split into " + std::to_string(multiplicity) +
                       " stacks by AcquisitionNumber / InstanceNumber");
  return r;
}

std::string missingGeometry(const DicomInstance& inst) {
  if (inst.rows == 0 || inst.columns == 0) return "no Rows/Columns";
  for (const auto& f : inst.frames) {
    if (!f.position) return "no ImagePositionPatient";
    if (!f.orientation) return "no ImageOrientationPatient";
    const Vec3 x{(*f.orientation)[0], (*f.orientation)[1], (*f.orientation)[2]};
    const Vec3 y{(*f.orientation)[3], (*f.orientation)[4], (*f.orientation)[5]};
    if (norm(x) < 0.5 || norm(y) < 0.5 || norm(cross(normalized(x), normalized(y))) < 0.5)
      return "degenerate ImageOrientationPatient";
    if (!f.pixel_spacing || (*f.pixel_spacing)[0] <= 0 || (*f.pixel_spacing)[1] <= 0) return "no valid PixelSpacing";
  }
  if (inst.frames.empty()) return "no frames";
  return "";
}

// A test hook for tests/hardening: with CTDEFACE_TEST_ABORT_IN_HEADER=<file
// name> the header reader aborts on that file as a GDCM assertion does (no
// file is known to trip one past the pre-checks today, yet fuzzing keeps
// finding new ones). Without the variable it is one getenv per case.
void abortIfAskedFor(const std::filesystem::path& file, const char* name) {
  if (name && file.filename() == name) std::abort();
}

}  // namespace

CaseInventory assembleCase(const CaseInput& input) {
  CaseInventory inv;
  inv.root = input.root;
  inv.name = input.name;
  // The header pass runs in a child process (IsolatedFilePass.h): a GDCM
  // assertion on one corrupt header fails that file, not the run.
  IsolatedPassOptions isolation;
  isolation.isolate = gdcmIsolationIsForkSafe();
  const char* abort_in = std::getenv("CTDEFACE_TEST_ABORT_IN_HEADER");
  runIsolatedFilePass(
      input.files,
      [&](const std::filesystem::path& file) {
        abortIfAskedFor(file, abort_in);
        return encodeInstance(readInstanceHeader(file, input.root));
      },
      [&](std::size_t i, FileJobResult&& r) {
        if (!r.ok) inv.skipped.push_back({input.files[i], r.reason});
        else inv.instances.push_back(decodeInstance(r.bytes));
        return true;
      },
      isolation);

  // series UID -> geometry key -> frames; std::map keeps the order deterministic.
  std::map<std::string, std::map<std::string, std::vector<Candidate>>> series;
  for (std::size_t i = 0; i < inv.instances.size(); ++i) {
    const DicomInstance& inst = inv.instances[i];
    if (inst.kind != InstanceKind::CtImage) {
      inv.set_aside.push_back({inst.path, inst.kind_reason});
      continue;
    }
    if (const std::string why = missingGeometry(inst); !why.empty()) {
      inv.set_aside.push_back({inst.path, "CT image with " + why + ": cannot place it in 3D"});
      continue;
    }
    // Files without a SeriesInstanceUID are grouped by their folder.
    const std::string uid = inst.series_uid.empty() ? "folder:" + inst.relative.parent_path().string() : inst.series_uid;
    for (std::uint32_t f = 0; f < inst.frames.size(); ++f)
      series[uid][geometryKey(inst, inst.frames[f])].push_back({i, f, 0});
  }

  std::vector<SeriesStack> stacks;
  for (auto& [uid, groups] : series) {
    const bool split_geometry = groups.size() > 1;
    std::size_t largest = 0;
    for (const auto& [key, group] : groups) largest = std::max(largest, group.size());
    for (auto& [key, group] : groups) {
      // A splinter of a series (one slice turned, a stray matrix) is no volume:
      // the segmenter would find no face in it and it would be written as it
      // is, face included. It is set aside (never written) instead.
      if (split_geometry && group.size() < kMinSplinterSlices && group.size() < largest) {
        const DicomInstance& first = inv.instances[group.front().instance];
        for (const auto& c : group)
          inv.set_aside.push_back(
              {inv.instances[c.instance].path,
               std::to_string(group.size()) + " image(s) of series " + std::to_string(first.series_number) +
                   " whose orientation / matrix / pixel spacing differs from its other " + std::to_string(largest) +
                   ": too few to deface on their own, not written"});
        continue;
      }
      GroupResult r = resolveGroup(inv, group);
      const DicomInstance& first = inv.instances[group.front().instance];
      if (!r.rejection.empty()) {
        std::set<std::size_t> seen;
        for (const auto& c : group)
          if (seen.insert(c.instance).second)
            inv.set_aside.push_back({inv.instances[c.instance].path, "series " + std::to_string(first.series_number) +
                                                                        " set aside: " + r.rejection});
        continue;
      }
      // Dropped duplicates are DICOM files outside every stack: the pipeline
      // must know them (a copy of a face slice still shows the face).
      std::set<std::size_t> in_stacks;
      for (const auto& members : r.stacks)
        for (const auto& c : members) in_stacks.insert(c.instance);
      for (const auto& drop : r.dropped) {
        const bool used = std::any_of(in_stacks.begin(), in_stacks.end(),
                                      [&](std::size_t i) { return inv.instances[i].path == drop.path; });
        if (!used) inv.set_aside.push_back(drop);
      }
      for (auto& members : r.stacks) {
        SeriesStack s;
        s.series_uid = first.series_uid;
        s.description = first.series_description;
        s.series_number = first.series_number;
        const auto& iop = *frameOf(inv, members.front()).orientation;
        const Vec3 normal = normalized(cross(rowDir(iop), colDir(iop)));
        for (const auto& c : members) s.slices.push_back({c.instance, c.frame});
        s.warnings = r.warnings;
        if (split_geometry)
          s.warnings.push_back("series holds images of different orientation / matrix / pixel spacing: split");
        addGeometryWarnings(inv, members, normal, s.warnings);
        stacks.push_back(std::move(s));
      }
    }
  }

  std::stable_sort(stacks.begin(), stacks.end(),
                   [](const SeriesStack& a, const SeriesStack& b) { return a.series_number < b.series_number; });
  std::set<std::string> used;
  for (auto& s : stacks) {
    const std::string desc = sanitize(s.description);
    const std::string base = std::to_string(s.series_number) + (desc.empty() ? "" : "_" + desc);
    std::string name = base;
    for (int n = 2; used.count(name); ++n) name = base + "_" + std::to_string(n);
    used.insert(name);
    s.name = name;
  }
  inv.stacks = std::move(stacks);
  return inv;
}

}  // namespace ctd
