#pragma once
// A cheap structural check of a file's start before GDCM parses it. Debian's
// GDCM 3.0.21 is built with assertions on, and a malformed File Meta
// Information group (e.g. random bytes after "DICM") aborts the process inside
// gdcm::FileMetaInformation::Read, and a file cut inside its data set aborts
// in FileMetaInformation::ReadCompat (see ElementWalk.h). Files failing this
// check are not DICOM for ctdeface; files passing it are then parsed by GDCM.
#include <filesystem>
#include <string>

namespace ctd {

// True when the file plausibly is DICOM: a well-formed explicit-VR group 0002
// after the "DICM" magic followed by a data set whose elements all lie inside
// the file, or (no preamble) a first element in group 0002 or 0008. On false,
// `why` says what is wrong.
bool plausibleDicomStart(const std::filesystem::path& file, std::string& why);

}  // namespace ctd
