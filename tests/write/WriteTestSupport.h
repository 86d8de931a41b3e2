#pragma once
// Shared helpers of the write-side tests: fixtures, independent expectations
// (stored values recomputed here, not taken from the code under test), element
// diffs through GDCM's data set API, dciodvfy error sets and input hashes.
#include <cstdint>
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "dicom/CaseInventory.h"
#include "volume/Volume.h"

namespace ctd::test {

namespace fs = std::filesystem;

// A fresh, empty folder under the build tree (removed first if it exists).
fs::path freshDir(const std::string& name);

// Axial volume with a deterministic HU pattern in [-1000, 1499].
Volume patternVolume(std::size_t nx, std::size_t ny, std::size_t nz);

// discoverCases + assembleCase on a folder that is one case.
CaseInventory inventoryOf(const fs::path& case_dir);
const SeriesStack& onlyStack(const CaseInventory& inv);

// Box [lo, hi) in fractions of each axis of the stack's native grid.
VoxelMask boxMask(const CaseInventory& inv, const SeriesStack& stack, const std::array<double, 3>& lo,
                  const std::array<double, 3>& hi);

// Stored values of a file as decoded by the reader (decodePixels).
std::vector<std::int32_t> storedValues(const fs::path& file);

// Independent form of the write rule: round((hu - b) / m) clamped to the range
// BitsStored / PixelRepresentation allow.
std::int32_t expectedStored(double hu, const DicomInstance& inst, const FrameInfo& frame);

// Counts voxels of the rewritten series under out_root that differ from the
// expectation (masked -> fill, others -> the source's stored value).
std::size_t maskMismatches(const CaseInventory& inv, const SeriesStack& stack, const VoxelMask& mask,
                           double fill_hu, const fs::path& out_root);

// Tags ("gggg,eeee", file meta included) whose presence or value differs
// between two files; PixelData is compared by value bytes only if `with_pixels`.
std::set<std::string> changedElements(const fs::path& a, const fs::path& b, bool with_pixels = false);

// dciodvfy "Error" lines (trimmed), as a set.
std::set<std::string> dciodvfyErrors(const fs::path& file);

// Hash of every regular file's bytes below `dir` (or of the file itself).
std::map<fs::path, std::size_t> hashTree(const fs::path& dir);

// Value of a top-level string element (trailing padding removed), "" if absent.
std::string elementString(const fs::path& file, std::uint16_t group, std::uint16_t element);

// CodeValue of every item of a code sequence at top level.
std::vector<std::string> codeValues(const fs::path& file, std::uint16_t group, std::uint16_t element);

bool sameBytes(const fs::path& a, const fs::path& b);

// Regular files below `dir`, relative paths, sorted.
std::vector<fs::path> filesBelow(const fs::path& dir);

}  // namespace ctd::test
