#pragma once
// A case folder after discovery and series assembly: which files are CT volumes
// (as sorted stacks of slices), which were set aside and why.
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "dicom/DicomInstance.h"

namespace ctd {

// One slice of a stack: a frame of an instance.
struct SliceRef {
  std::size_t instance = 0;  // index into CaseInventory::instances
  std::uint32_t frame = 0;   // 0 for single-frame files
};

struct SeriesStack {
  std::string series_uid;
  std::string name;          // file-system-safe, unique within the case, e.g. "2010_Head_5mm" or "2010_Head_5mm_b"
  std::string description;   // SeriesDescription
  int series_number = 0;
  std::vector<SliceRef> slices;  // sorted by ascending projection of IPP on the slice normal
  std::vector<std::string> warnings;  // missing slices, non-uniform spacing, tilt, dropped duplicates...
};

struct SetAside {
  std::filesystem::path path;
  std::string reason;  // one line, e.g. "localizer (ImageType ORIGINAL\\PRIMARY\\LOCALIZER)"
};

struct CaseInventory {
  std::filesystem::path root;
  std::string name;                      // case name (folder name relative to the input root)
  std::vector<DicomInstance> instances;  // every DICOM file read
  std::vector<SeriesStack> stacks;       // CT image volumes
  std::vector<SetAside> set_aside;       // DICOM files not part of any CT volume
  std::vector<SetAside> skipped;         // non-DICOM / unreadable files (never fatal)
};

}  // namespace ctd
