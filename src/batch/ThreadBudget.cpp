#include "batch/ThreadBudget.h"

#include <itkMultiThreaderBase.h>
#include <sched.h>

#include <algorithm>
#include <thread>

#include "volume/SliceThreads.h"

namespace ctd::batch {

int availableCores() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (::sched_getaffinity(0, sizeof set, &set) == 0) return std::max(1, CPU_COUNT(&set));
  return std::max(1u, std::thread::hardware_concurrency());
}

int threadsPerCase(int total, int workers) { return std::max(1, total / std::max(1, workers)); }

void applyCaseThreads(int threads) {
  t_slice_thread_budget = static_cast<unsigned>(std::max(1, threads));
  itk::MultiThreaderBase::SetGlobalDefaultNumberOfThreads(static_cast<itk::ThreadIdType>(std::max(1, threads)));
}

}  // namespace ctd::batch
