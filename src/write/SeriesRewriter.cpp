#include "write/SeriesRewriter.h"

#include <gdcmUIDGenerator.h>

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <exception>
#include <limits>
#include <map>
#include <mutex>
#include <sstream>
#include <thread>

#include "core/Error.h"
#include "dicom/PixelDecoder.h"
#include "volume/SliceThreads.h"
#include "volume/UnbackedZeros.h"
#include "write/FileCopy.h"
#include "write/FileRewriter.h"
#include "write/StagingArea.h"
#include "write/StoredSamples.h"
#include "write/TransferSyntaxPolicy.h"

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

// Rows [first, last] of one slice that the source may change (first > last: none).
struct RowSpan {
  std::size_t first = 0, last = std::numeric_limits<std::size_t>::max();
  bool empty() const { return first > last; }
};

// Stored values of a file about to be rewritten. Native 16-bit files are read
// with one pread (the reader's fast path, same values as GDCM's decode); the
// rest through GDCM. The written file is read back the same way (FileRewriter).
DecodedFrames decodeForRewrite(const DicomInstance& inst) {
  DecodedFrames d;
  if (!readNativeStored(inst, d.stored)) return decodePixels(inst);
  d.rows = inst.rows;
  d.columns = inst.columns;
  d.frames = inst.number_of_frames;
  return d;
}

// Applies `source` to the slices of one file; returns the number of changed samples.
std::size_t applySource(const DicomInstance& inst, const std::vector<FrameOfSlice>& slices,
                        const HuRowSource& source, const std::vector<RowSpan>* spans, const DecodedFrames& decoded,
                        std::vector<std::int32_t>& after) {
  const StoredRange range = storedRange(inst);
  const std::size_t nx = decoded.columns, ny = decoded.rows;
  std::vector<float> row(nx);
  std::size_t changed = 0;
  for (const FrameOfSlice& s : slices) {
    if (s.frame >= decoded.frames) throw Error(inst.path, "frame " + std::to_string(s.frame + 1) + " missing");
    const FrameInfo fi = s.frame < inst.frames.size() ? inst.frames[s.frame]
                         : inst.frames.empty()        ? FrameInfo{}
                                                      : inst.frames.back();
    const RowSpan span = spans ? (*spans)[s.k] : RowSpan{};
    for (std::size_t j = span.first; j < ny && j <= span.last; ++j) {
      std::fill(row.begin(), row.end(), std::numeric_limits<float>::quiet_NaN());
      source(j, s.k, row.data());
      const std::size_t base = (std::size_t{s.frame} * ny + j) * nx;
      // A mask's rows hold one fill value: its stored value is computed once.
      float last_hu = std::numeric_limits<float>::quiet_NaN();
      std::int32_t last_stored = 0;
      for (std::size_t i = 0; i < nx; ++i) {
        if (std::isnan(row[i])) continue;
        if (std::memcmp(&row[i], &last_hu, sizeof last_hu) != 0) {
          last_hu = row[i];
          last_stored = storedFromHu(row[i], fi.slope, fi.intercept, range);
        }
        const std::int32_t v = last_stored;
        if (v != after[base + i]) {
          after[base + i] = v;
          ++changed;
        }
      }
    }
  }
  return changed;
}

// Decoding, applying the source, writing and reading back are per file and
// independent: the case's thread budget (two by default: the machines
// ctdeface targets have two cores) shares the files. `spans` (may be null: every row) says which rows of each
// slice the source can change; a file none of whose rows can change is not
// decoded at all.
// Copies `from` to `to` and starts writing it to disk now (the commit's
// syncfs is what guarantees it is there; this only gets the disk busy early).
void copyAndStartWriteback(const std::filesystem::path& from, const std::filesystem::path& to) {
  copyFileBytes(from, to);  // names ENOSPC / EFBIG, where copy_file says "Input/output error"
  const int fd = ::open(to.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd >= 0) {
    ::sync_file_range(fd, 0, 0, SYNC_FILE_RANGE_WRITE);
    ::close(fd);
  }
}

}  // namespace

struct StagedCopies::State {
  std::filesystem::path out_root;
  std::unique_ptr<StagingArea> staging;
  std::vector<std::filesystem::path> staged;  // per file, in slicesByFile order
  std::thread worker;
  std::exception_ptr error;
  bool active = false;
  bool created_root = false;  // out_root did not exist before
  bool committed = false;
  ~State() {
    if (worker.joinable()) worker.join();
    staging.reset();
    // A series that failed before its rewrite leaves no empty case folder behind.
    std::error_code ec;
    if (created_root && !committed) std::filesystem::remove(out_root, ec);
  }
  void wait() {
    if (worker.joinable()) worker.join();
    if (error) std::rethrow_exception(error);
  }
};

struct StagedCopiesAccess {
  static StagedCopies::State& of(StagedCopies& c) { return *c.state_; }
};

StagedCopies::StagedCopies(const CaseInventory& inv, const SeriesStack& stack, const RewriteOptions& opt)
    : state_(std::make_unique<State>()) {
  if (opt.new_uids || opt.mark_defaced || opt.out_root.empty()) return;  // header edits: GDCM writes every file
  State& st = *state_;
  st.out_root = opt.out_root;
  st.created_root = !std::filesystem::exists(opt.out_root);
  st.staging = std::make_unique<StagingArea>(opt.out_root);
  std::vector<std::pair<std::filesystem::path, std::filesystem::path>> jobs;
  for (const auto& file : slicesByFile(stack)) {
    if (file.first >= inv.instances.size()) throw Error(inv.root, "stack refers to a missing instance");
    const DicomInstance& inst = inv.instances[file.first];
    st.staged.push_back(st.staging->stage(inst.relative, inst.path));
    jobs.emplace_back(inst.path, st.staged.back());
  }
  st.active = true;
  st.worker = std::thread([&st, jobs = std::move(jobs)] {
    try {
      for (const auto& [from, to] : jobs) copyAndStartWriteback(from, to);
    } catch (...) {
      st.error = std::current_exception();
    }
  });
}

StagedCopies::~StagedCopies() = default;  // State joins the copier; its StagingArea removes what is left

namespace {

RewriteResult rewriteFiles(const CaseInventory& inv, const SeriesStack& stack, const HuRowSource& source,
                           const std::vector<RowSpan>* spans, const RewriteOptions& opt, StagedCopies* copies) {
  if (opt.out_root.empty()) throw Error("rewrite: no output folder given");
  RewriteResult result;
  gdcm::UIDGenerator uids;
  const std::string series_uid = opt.new_uids ? uids.Generate() : std::string();
  const std::string derivation = derivationText(opt);

  const auto files = slicesByFile(stack);
  std::vector<std::filesystem::path> staged(files.size());
  std::unique_ptr<StagingArea> own_staging;
  StagingArea* staging = nullptr;
  auto* pre = copies ? &StagedCopiesAccess::of(*copies) : nullptr;
  const bool prestaged = pre && pre->active && !opt.new_uids && !opt.mark_defaced;
  if (prestaged) {
    pre->wait();  // a copy error fails the series; the folder goes with `copies`
    if (pre->out_root != opt.out_root || pre->staged.size() != files.size())
      throw Error(opt.out_root, "staged copies were made for another output");
    staging = pre->staging.get();
    staged = pre->staged;
  } else {
    own_staging = std::make_unique<StagingArea>(opt.out_root);
    staging = own_staging.get();
    for (std::size_t f = 0; f < files.size(); ++f) {
      const std::size_t index = files[f].first;
      if (index >= inv.instances.size()) throw Error(inv.root, "stack refers to a missing instance");
      staged[f] = staging->stage(inv.instances[index].relative, inv.instances[index].path);
    }
  }
  std::vector<std::string> sop_uids(files.size());
  if (opt.new_uids)
    for (auto& u : sop_uids) u = uids.Generate();
  std::vector<FileOutcome> outcomes(files.size());
  std::atomic<std::size_t> next{0};
  std::mutex error_mutex;
  std::exception_ptr error;
  auto worker = [&] {
    for (std::size_t f = next++; f < files.size(); f = next++) {
      const auto& [index, slices] = files[f];
      const DicomInstance& inst = inv.instances[index];
      try {
        FileEdit edit;
        const bool untouched = spans && std::all_of(slices.begin(), slices.end(), [&](const FrameOfSlice& s) {
                                 return (*spans)[s.k].empty();
                               });
        if (!untouched) {
          DecodedFrames decoded = decodeForRewrite(inst);
          edit.after = decoded.stored;
          edit.changed = applySource(inst, slices, source, spans, decoded, edit.after);
          edit.before = std::move(decoded.stored);
        }
        edit.new_sop_uid = sop_uids[f];
        edit.new_series_uid = series_uid;
        edit.mark_defaced = opt.mark_defaced;
        edit.derivation_description = derivation;
        edit.staged_holds_source = prestaged;
        outcomes[f] = writeRewrittenFile(inst, edit, staged[f]);
        outcomes[f].output = opt.out_root / inst.relative;
      } catch (...) {
        std::lock_guard<std::mutex> lock(error_mutex);
        if (!error) {
          try {
            throw;
          } catch (const Error&) {
            error = std::current_exception();  // already names its file
          } catch (const std::exception& e) {
            error = std::make_exception_ptr(Error(inst.path, e.what()));
          }
        }
        next = files.size();
      }
    }
  };
  // GDCM's encoders (JPEG-LS through CharLS, JPEG, ...) are not safe to run
  // concurrently (a re-encode crashed that way): only series of uncompressed
  // files without header edits, which are patched in place, get two workers.
  const bool all_patched_in_place =
      !opt.new_uids && !opt.mark_defaced && std::all_of(files.begin(), files.end(), [&](const auto& file) {
        return routeFor(inv.instances[file.first].transfer_syntax) == SyntaxRoute::PatchInPlace;
      });
  const unsigned n_threads = files.size() > 1 && all_patched_in_place
                                 ? std::min(sliceThreadBudget(), std::max(1u, std::thread::hardware_concurrency()))
                                 : 1u;
  std::vector<std::thread> threads;
  for (unsigned t = 1; t < n_threads; ++t) threads.emplace_back(worker);
  worker();
  for (auto& t : threads) t.join();
  // On error the staging folder goes with `staging`: nothing of the series stays.
  if (error) std::rethrow_exception(error);
  for (auto& o : outcomes) {
    result.changed_voxels += o.changed_voxels;
    result.files.push_back(std::move(o));
  }
  staging->commit();
  if (prestaged) pre->committed = true;
  return result;
}

}  // namespace

RewriteResult rewriteSeriesFrom(const CaseInventory& inv, const SeriesStack& stack, const HuRowSource& source,
                                const RewriteOptions& opt) {
  return rewriteFiles(inv, stack, source, nullptr, opt, nullptr);
}

RewriteResult rewriteSeries(const CaseInventory& inv, const SeriesStack& stack, const VoxelMask& mask,
                            const RewriteOptions& opt, StagedCopies* copies) {
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
  // Rows holding masked voxels, per slice: the face is a small part of the
  // series, and files outside it are copied without being decoded.
  std::vector<RowSpan> spans(mask.nz, RowSpan{1, 0});
  for (std::size_t k = 0; k < mask.nz; ++k)
    for (std::size_t j = 0; j < mask.ny; ++j) {
      const std::uint8_t* row = &mask.data[(k * mask.ny + j) * mask.nx];
      if (findNonZero(row, mask.nx) == mask.nx) continue;
      if (spans[k].empty()) spans[k].first = j;
      spans[k].last = j;
    }
  return rewriteFiles(inv, stack, from_mask, &spans, opt, copies);
}

}  // namespace ctd
