#pragma once
// Runs fn(k) for k in [0, n) on up to two threads taking whole items (slices)
// from a shared counter. Two, because the pipeline runs on a 2-core machine
// shared with other work; small jobs stay on the calling thread.
#include <algorithm>
#include <atomic>
#include <cstddef>
#include <thread>
#include <vector>

namespace ctd {

// Threads one case may use, for loops started on the current thread: the batch
// (src/batch) sets it on each case worker from --threads and -j; 0 = two.
inline thread_local unsigned t_slice_thread_budget = 0;
inline unsigned sliceThreadBudget() { return t_slice_thread_budget ? t_slice_thread_budget : 2u; }

template <class Fn>
void forEachSlice(std::size_t n, std::size_t work_per_item, Fn fn) {
  const unsigned hw = std::max(1u, std::thread::hardware_concurrency());
  const unsigned n_threads = (n < 2 || n * work_per_item < 65536) ? 1u : std::min(sliceThreadBudget(), hw);
  std::atomic<std::size_t> next{0};
  auto worker = [&] {
    for (std::size_t k = next++; k < n; k = next++) fn(k);
  };
  std::vector<std::thread> threads;
  for (unsigned t = 1; t < n_threads; ++t) threads.emplace_back(worker);
  worker();
  for (auto& t : threads) t.join();
}

}  // namespace ctd
