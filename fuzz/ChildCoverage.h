#pragma once
// Carries the coverage of the header pass's child processes back to libFuzzer
// (see ctd::IsolatedPassHooks): libFuzzer reads the inline 8-bit counters of
// its own process, and a forked child's hits land in its private copy. Each
// child clears its counters, copies them into a shared page when it ends
// (normally or from a crash signal), and the parent adds them to its own.
#include <elf.h>
#include <sys/auxv.h>
#include <sys/mman.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "dicom/IsolatedFilePass.h"

namespace ctd::fuzz {

// The counters section of this executable, found from its ELF section headers
// (declaring the linker's __start___sancov_cntrs here kept libFuzzer from
// registering the counters at all).
struct CounterSection {
  std::uint8_t* start = nullptr;
  std::size_t size = 0;
};

inline CounterSection findCounters() {
  CounterSection out;
  std::ifstream exe("/proc/self/exe", std::ios::binary);
  Elf64_Ehdr eh{};
  if (!exe.read(reinterpret_cast<char*>(&eh), sizeof eh) || eh.e_ident[EI_CLASS] != ELFCLASS64) return out;
  std::vector<Elf64_Shdr> sh(eh.e_shnum);
  exe.seekg(static_cast<std::streamoff>(eh.e_shoff));
  if (sh.empty() || !exe.read(reinterpret_cast<char*>(sh.data()), static_cast<std::streamsize>(sh.size() * sizeof(Elf64_Shdr))))
    return out;
  const Elf64_Shdr& names = sh.at(eh.e_shstrndx);
  std::string table(names.sh_size, '\0');
  exe.seekg(static_cast<std::streamoff>(names.sh_offset));
  exe.read(table.data(), static_cast<std::streamsize>(table.size()));
  // The load bias of a position-independent executable: the address of the
  // ELF header in memory (the first PT_LOAD maps file offset 0 at vaddr 0).
  const auto bias = reinterpret_cast<std::uintptr_t>(::getauxval(AT_PHDR)) - eh.e_phoff;
  for (const Elf64_Shdr& s : sh)
    if (s.sh_name < table.size() && std::strcmp(table.c_str() + s.sh_name, "__sancov_cntrs") == 0)
      return {reinterpret_cast<std::uint8_t*>(bias + s.sh_addr), static_cast<std::size_t>(s.sh_size)};
  return out;
}

inline CounterSection g_counters;
inline std::uint8_t* g_child_counters = nullptr;

inline std::size_t counterBytes() { return g_counters.size; }
inline void clearCounters() { std::memset(g_counters.start, 0, counterBytes()); }
inline void saveCounters() { std::memcpy(g_child_counters, g_counters.start, counterBytes()); }
inline void mergeCounters() {
  const std::size_t n = counterBytes();
  for (std::size_t i = 0; i < n; ++i) {
    const unsigned sum = unsigned(g_counters.start[i]) + g_child_counters[i];
    g_counters.start[i] = static_cast<std::uint8_t>(sum > 255 ? 255 : sum);
  }
  std::memset(g_child_counters, 0, n);
}

// Once per process; does nothing in a build without inline counters.
inline void carryChildCoverage() {
  if (g_child_counters) return;
  g_counters = findCounters();
  if (counterBytes() == 0) return;
  void* m = ::mmap(nullptr, counterBytes(), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (m == MAP_FAILED) return;
  g_child_counters = static_cast<std::uint8_t*>(m);
  ctd::IsolatedPassHooks hooks;
  hooks.child_start = clearCounters;
  hooks.child_end = saveCounters;
  hooks.parent_merge = mergeCounters;
  ctd::setIsolatedPassHooks(hooks);
}

}  // namespace ctd::fuzz
