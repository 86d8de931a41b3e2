#pragma once
// A test hook for the crash-and-resume tests: with CTDEFACE_TEST_KILL_AT=<event>:<n>
// in the environment, the process kills itself (SIGKILL, as `kill -9` would) the
// n-th time it passes testKillPoint("<event>") (counted per process). Without
// the variable it is a string compare. Events: case-start, series-staged (a
// series fsync'ed in its staging folder), series-commit (after each file renamed
// into place), series-done, case-outputs, case-done, report (see README "Batch").
namespace ctd {

void testKillPoint(const char* event);

}  // namespace ctd
