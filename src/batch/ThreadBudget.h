#pragma once
// One thread budget for the whole machine: --threads (or every core this
// process may run on) is split between the cases that run at once, and each
// case worker hands its share to ITK, the slice loops (SliceThreads) and the
// segmenter (DefaceOptions::threads), so -j N never oversubscribes the cores.
namespace ctd::batch {

// Cores this process may run on (sched_getaffinity), at least 1.
int availableCores();

// Threads for each of `workers` cases running at once out of `total` (>= 1 each).
int threadsPerCase(int total, int workers);

// Applies a case's share on the calling (case worker) thread; ITK's global
// default is process-wide, and every worker sets the same value.
void applyCaseThreads(int threads);

}  // namespace ctd::batch
