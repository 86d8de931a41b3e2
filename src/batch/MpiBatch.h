#pragma once
// `mpirun -np N ctdeface -i ROOT -o OUT`: rank 0 discovers the cases, sends the
// list to every rank, hands out case indices one at a time on request and
// writes the one report; ranks 1..N-1 run the cases (-j threads each) and send
// each case's report back. Output and state records go to the shared OUT.
// Waiting ranks poll with short sleeps instead of MPI's busy wait, so an idle
// rank leaves its core to the workers. With -np 1 rank 0 runs the cases itself.
#include "pipeline/DefaceJob.h"

namespace ctd::batch {

#ifdef CTD_WITH_MPI
int runMpiBatch(const DefaceOptions& opt);
#endif

}  // namespace ctd::batch
