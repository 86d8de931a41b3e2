#pragma once
// When ctdeface may fork a child to run GDCM on an untrusted file (the header
// pass, compressed decode): a GDCM assertion or crash there then fails that
// file instead of ending the run.
namespace ctd {

// False only in an ASan build whose process runs other threads: ASan's
// allocator is not fork-safe while another thread allocates (a child forked
// from a threaded ASan process deadlocked on its lock). glibc's malloc is
// fork-safe, so normal builds always isolate.
bool gdcmIsolationIsForkSafe();

// A caller that knows its other threads do not allocate (libFuzzer's watchdog
// thread) may ask for the child anyway.
void alwaysIsolateGdcm(bool on);

}  // namespace ctd
