#pragma once
// `ctdeface -i ROOT -o OUT` as a batch: every case isolated, -j N cases at once
// on one thread budget, resumable (state records, --force), --shard I/N, and
// under mpirun the cases shared between ranks (MpiBatch.h). One report.
#include "pipeline/DefaceJob.h"

namespace ctd::batch {

// Runs the batch and returns the command's exit code (0/1; usage errors are
// thrown as ctd::Error before anything is written). Under mpirun (detected from
// the environment) every rank calls this; plain runs never initialise MPI.
int runBatchCommand(const DefaceOptions& opt);

// True when this process was started by mpirun/srun as one of several ranks.
bool launchedByMpi();

}  // namespace ctd::batch
