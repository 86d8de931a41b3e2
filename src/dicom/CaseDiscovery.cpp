// discoverCases: which folders are cases.
//
// Rule (README "How cases are found"):
//  (a) If the input folder directly contains a DICOM file (a DICOMDIR counts),
//      the input is one case.
//  (b) Otherwise, if the first DICOM file (in sorted order, ignoring files
//      without a StudyInstanceUID such as DICOMDIRs) of every immediate
//      sub-folder that holds DICOM carries the same StudyInstanceUID, the input
//      is one case: a study split into series folders.
//  (c) Otherwise every immediate sub-folder holding DICOM at any depth is a
//      case, named by its folder name. Files directly in the input folder and
//      sub-folders without DICOM are listed as skipped.
// A file is DICOM when it passes plausibleDicomStart (a well-formed meta group
// after "DICM", or a preamble-less data set) and GDCM can read its start; the
// extension does not matter. Symbolic links to
// folders are followed once; a link back into a folder being walked (a loop)
// is skipped and listed. File lists are sorted for deterministic output.
#include "dicom/CaseDiscovery.h"

#include <gdcmReader.h>
#include <sys/stat.h>

#include <algorithm>
#include <functional>
#include <optional>
#include <set>
#include <system_error>

#include "core/Error.h"
#include "dicom/DataSetValues.h"
#include "dicom/ForkPolicy.h"
#include "dicom/IsolatedFilePass.h"
#include "dicom/Part10Precheck.h"

namespace fs = std::filesystem;

namespace ctd {
namespace {

bool isDicomFile(const fs::path& file) {
  std::string why;
  if (!plausibleDicomStart(file, why)) return false;
  // Old files without the Part 10 preamble: let GDCM try the first elements.
  gdcm::Reader reader;
  reader.SetFileName(file.string().c_str());
  return reader.CanRead();
}

std::string studyUid(const fs::path& file) {
  gdcm::Reader reader;
  reader.SetFileName(file.string().c_str());
  const gdcm::Tag study(0x0020, 0x000D);
  if (!reader.ReadUpToTag(gdcm::Tag(0x0020, 0x000E))) return "";
  return dcm::getString(reader.GetFile().GetDataSet(), study);
}

// What discovery needs of a file, read in a child process like the header pass
// (IsolatedFilePass.h): "" when not DICOM, else "D" + its StudyInstanceUID. A
// file GDCM crashes on counts as not DICOM here; the header pass then fails it
// by name.
std::string probe(const fs::path& file) { return isDicomFile(file) ? "D" + studyUid(file) : ""; }

// Probes `files` in order until `enough` says so; false results are skipped.
void probeFiles(const std::vector<fs::path>& files, const std::function<bool(const std::string& study)>& enough) {
  IsolatedPassOptions isolation;
  isolation.isolate = gdcmIsolationIsForkSafe();
  isolation.job_name = "the DICOM probe";
  runIsolatedFilePass(
      files, probe,
      [&](std::size_t, FileJobResult&& r) { return !(r.ok && !r.bytes.empty() && enough(r.bytes.substr(1))); },
      isolation);
}

using InodeKey = std::pair<dev_t, ino_t>;

std::optional<InodeKey> inodeOf(const fs::path& p) {
  struct stat st {};
  if (::stat(p.c_str(), &st) != 0) return std::nullopt;
  return InodeKey{st.st_dev, st.st_ino};
}

// Every regular file below `dir` (sorted), following directory links unless
// they lead back into a folder on the current walk.
void walk(const fs::path& dir, std::set<InodeKey>& ancestors, std::vector<fs::path>& files,
          std::vector<SetAside>& skipped) {
  const auto key = inodeOf(dir);
  if (!key) {
    skipped.push_back({dir, "cannot read folder"});
    return;
  }
  if (!ancestors.insert(*key).second) {
    skipped.push_back({dir, "symbolic link loop (not followed)"});
    return;
  }
  std::vector<fs::path> entries;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) entries.push_back(it->path());
  if (ec) skipped.push_back({dir, "cannot list folder: " + ec.message()});
  std::sort(entries.begin(), entries.end());
  for (const auto& p : entries) {
    std::error_code sec;
    const auto st = fs::status(p, sec);  // follows links
    if (sec || !fs::exists(st)) {
      skipped.push_back({p, fs::is_symlink(fs::symlink_status(p, sec)) ? "broken symbolic link" : "cannot read"});
    } else if (fs::is_directory(st)) {
      walk(p, ancestors, files, skipped);
    } else if (fs::is_regular_file(st)) {
      files.push_back(p);
    } else {
      skipped.push_back({p, "not a regular file"});
    }
  }
  ancestors.erase(*key);
}

// `outer`: a folder above `dir` whose walk is under way (links back to it are loops).
std::vector<fs::path> filesBelow(const fs::path& dir, std::vector<SetAside>& skipped,
                                 const std::optional<fs::path>& outer = std::nullopt) {
  std::set<InodeKey> ancestors;
  if (outer)
    if (const auto key = inodeOf(*outer)) ancestors.insert(*key);
  std::vector<fs::path> files;
  walk(dir, ancestors, files, skipped);
  return files;
}

}  // namespace

Discovery discoverCases(const fs::path& input) {
  std::error_code ec;
  if (!fs::is_directory(input, ec)) throw Error(input, "input is not a folder");
  Discovery d;

  std::vector<fs::path> direct_files, subdirs;
  for (fs::directory_iterator it(input, ec), end; !ec && it != end; it.increment(ec)) {
    std::error_code sec;
    if (fs::is_directory(it->path(), sec)) subdirs.push_back(it->path());
    else if (fs::is_regular_file(it->path(), sec)) direct_files.push_back(it->path());
  }
  if (ec) throw Error(input, "cannot list folder: " + ec.message());
  std::sort(direct_files.begin(), direct_files.end());
  std::sort(subdirs.begin(), subdirs.end());

  auto oneCase = [&] {
    d.single_case = true;
    CaseInput c;
    c.root = input;
    c.files = filesBelow(input, d.skipped);
    d.cases.push_back(std::move(c));
    return d;
  };

  // (a) DICOM directly in the input folder.
  bool direct_dicom = false;
  probeFiles(direct_files, [&](const std::string&) { return direct_dicom = true; });
  if (direct_dicom) return oneCase();

  // (b) / (c): look at each sub-folder.
  struct Sub {
    fs::path dir;
    std::vector<fs::path> files;
    std::vector<SetAside> skipped;
    bool has_dicom = false;
    std::string study;
  };
  std::vector<Sub> subs;
  std::set<std::string> studies;
  for (const auto& dir : subdirs) {
    Sub s;
    s.dir = dir;
    s.files = filesBelow(dir, s.skipped, input);
    probeFiles(s.files, [&](const std::string& study) {
      s.has_dicom = true;
      s.study = study;
      return !s.study.empty();
    });
    if (s.has_dicom) studies.insert(s.study);
    subs.push_back(std::move(s));
  }
  const bool any_dicom = std::any_of(subs.begin(), subs.end(), [](const Sub& s) { return s.has_dicom; });
  if (!any_dicom || studies.size() == 1) return oneCase();

  // (c) one case per sub-folder holding DICOM.
  d.single_case = false;
  for (const auto& f : direct_files) d.skipped.push_back({f, "not DICOM, outside any case folder"});
  for (auto& s : subs) {
    d.skipped.insert(d.skipped.end(), s.skipped.begin(), s.skipped.end());
    if (!s.has_dicom) {
      d.skipped.push_back({s.dir, "folder holds no DICOM file"});
      continue;
    }
    CaseInput c;
    c.root = s.dir;
    c.name = s.dir.filename().string();
    c.files = std::move(s.files);
    d.cases.push_back(std::move(c));
  }
  return d;
}

}  // namespace ctd
