#include "dicom/VolumeLoader.h"

#include <sys/mman.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <exception>
#include <map>
#include <mutex>
#include <thread>

#include "core/Error.h"
#include "dicom/PixelDecoder.h"
#include "volume/SliceThreads.h"

namespace ctd {
namespace {

// Decoding is CPU-bound (JPEG, J2K) or I/O-bound: as many workers as the
// case's thread budget (sliceThreadBudget: two unless the batch says otherwise).

// A 512 x 512 x 300 stack is 300 MB of floats: with 4 KiB pages that is 77k
// page faults (most of loading's system time). Asking for transparent huge
// pages before the first touch makes it a few hundred. Advice only: ignored
// where THP is off.
void allocateHu(std::vector<float>& hu, std::size_t count) {
  hu.reserve(count);
  constexpr std::uintptr_t kHuge = 2u << 20;
  const auto begin = reinterpret_cast<std::uintptr_t>(hu.data());
  const std::uintptr_t first = (begin + kHuge - 1) & ~(kHuge - 1);
  const std::uintptr_t last = (begin + count * sizeof(float)) & ~(kHuge - 1);
  if (last > first) ::madvise(reinterpret_cast<void*>(first), last - first, MADV_HUGEPAGE);
  hu.resize(count);  // a fill of zeros: every voxel is overwritten below
}

}  // namespace

Volume loadVolume(const CaseInventory& inv, const SeriesStack& stack) {
  if (stack.slices.empty()) throw Error(inv.root, "stack " + stack.name + " has no slices");
  const DicomInstance& first = inv.instances.at(stack.slices.front().instance);
  const FrameInfo& f0 = first.frames.at(stack.slices.front().frame);
  if (!f0.orientation || !f0.pixel_spacing) throw Error(first.path, "no ImageOrientationPatient / PixelSpacing");

  Volume v;
  v.nx = first.columns;
  v.ny = first.rows;
  v.nz = stack.slices.size();
  const auto& iop = *f0.orientation;
  v.row_dir = normalized(Vec3{iop[0], iop[1], iop[2]});
  v.col_dir = normalized(Vec3{iop[3], iop[4], iop[5]});
  v.normal = normalized(cross(v.row_dir, v.col_dir));
  v.row_spacing = (*f0.pixel_spacing)[0];
  v.col_spacing = (*f0.pixel_spacing)[1];
  v.slice_pos.resize(v.nz);
  for (std::size_t k = 0; k < v.nz; ++k) {
    const SliceRef& s = stack.slices[k];
    const DicomInstance& inst = inv.instances.at(s.instance);
    const FrameInfo& f = inst.frames.at(s.frame);
    if (!f.position) throw Error(inst.path, "no ImagePositionPatient");
    if (inst.rows != v.ny || inst.columns != v.nx)
      throw Error(inst.path, "matrix " + std::to_string(inst.columns) + "x" + std::to_string(inst.rows) +
                                 " differs from the rest of stack " + stack.name);
    v.slice_pos[k] = *f.position;
  }
  // Every file's header is checked before the volume is allocated: a corrupt
  // Rows/Columns in tiny files must be refused, not tried with gigabytes.
  for (const auto& s : stack.slices) checkPixelHeader(inv.instances[s.instance]);
  allocateHu(v.hu, v.voxelCount());

  // Slices of one instance (multi-frame files) are decoded once, by one worker.
  std::map<std::size_t, std::vector<std::size_t>> by_instance;  // instance -> slice indices k
  for (std::size_t k = 0; k < v.nz; ++k) by_instance[stack.slices[k].instance].push_back(k);
  std::vector<std::pair<std::size_t, std::vector<std::size_t>>> jobs(by_instance.begin(), by_instance.end());

  const std::size_t plane = v.nx * v.ny;
  std::atomic<std::size_t> next{0};
  std::mutex error_mutex;
  std::exception_ptr error;
  auto worker = [&] {
    DecodedFrames d;                   // reused across files
    std::vector<std::uint16_t> words;  // the same, for native 16-bit files
    for (std::size_t j = next++; j < jobs.size(); j = next++) {
      try {
        const DicomInstance& inst = inv.instances[jobs[j].first];
        if (readNativeWords(inst, words)) {
          // One pread and one pass from the words on disk to HU.
          for (std::size_t k : jobs[j].second) {
            const SliceRef& s = stack.slices[k];
            const FrameInfo& f = inst.frames[s.frame];
            nativeWordsToHu(inst, words.data() + std::size_t(s.frame) * plane, plane, f.slope, f.intercept,
                            v.hu.data() + k * plane);
          }
          continue;
        }
        decodePixelsInto(inst, d);
        for (std::size_t k : jobs[j].second) {
          const SliceRef& s = stack.slices[k];
          const FrameInfo& f = inst.frames[s.frame];
          const std::int32_t* src = d.stored.data() + std::size_t(s.frame) * plane;
          float* dst = v.hu.data() + k * plane;
          const double m = f.slope, b = f.intercept;
          for (std::size_t p = 0; p < plane; ++p) dst[p] = static_cast<float>(src[p] * m + b);
        }
      } catch (...) {
        std::lock_guard<std::mutex> lock(error_mutex);
        if (!error) error = std::current_exception();
        next = jobs.size();
      }
    }
  };
  const unsigned n_threads = static_cast<unsigned>(std::min<std::size_t>(sliceThreadBudget(), jobs.size()));
  std::vector<std::thread> threads;
  for (unsigned t = 1; t < n_threads; ++t) threads.emplace_back(worker);
  worker();
  for (auto& t : threads) t.join();
  if (error) std::rethrow_exception(error);
  return v;
}

}  // namespace ctd
