#include "WriteTestSupport.h"

#include <gdcmDataSet.h>
#include <gdcmExplicitDataElement.h>
#include <gdcmReader.h>
#include <gdcmSequenceOfItems.h>
#include <gdcmSwapper.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <memory>
#include <sstream>

#include "dicom/CaseDiscovery.h"
#include "dicom/PixelDecoder.h"
#include "dicom/SeriesAssembler.h"

namespace ctd::test {

fs::path freshDir(const std::string& name) {
  const fs::path dir = fs::path(CTD_BINARY_DIR) / "test-tmp" / "write" / name;
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

Volume patternVolume(std::size_t nx, std::size_t ny, std::size_t nz) {
  Volume v;
  v.nx = nx;
  v.ny = ny;
  v.nz = nz;
  v.col_spacing = 0.8;
  v.row_spacing = 0.9;
  for (std::size_t k = 0; k < nz; ++k) v.slice_pos.push_back({-10.0, -20.0, 5.0 + 2.5 * static_cast<double>(k)});
  v.hu.resize(v.voxelCount());
  for (std::size_t k = 0; k < nz; ++k)
    for (std::size_t j = 0; j < ny; ++j)
      for (std::size_t i = 0; i < nx; ++i)
        v.at(i, j, k) = static_cast<float>(-1000 + static_cast<int>((i * 37 + j * 101 + k * 613) % 2500));
  return v;
}

CaseInventory inventoryOf(const fs::path& case_dir) {
  const Discovery d = discoverCases(case_dir);
  if (d.cases.size() != 1) throw std::runtime_error("expected one case in " + case_dir.string());
  return assembleCase(d.cases.front());
}

const SeriesStack& onlyStack(const CaseInventory& inv) {
  if (inv.stacks.size() != 1) throw std::runtime_error("expected one stack, got " + std::to_string(inv.stacks.size()));
  return inv.stacks.front();
}

VoxelMask boxMask(const CaseInventory& inv, const SeriesStack& stack, const std::array<double, 3>& lo,
                  const std::array<double, 3>& hi) {
  const DicomInstance& first = inv.instances.at(stack.slices.front().instance);
  VoxelMask m(first.columns, first.rows, stack.slices.size());
  const std::size_t n[3] = {m.nx, m.ny, m.nz};
  std::size_t a[3], b[3];
  for (int c = 0; c < 3; ++c) {
    a[c] = static_cast<std::size_t>(lo[c] * static_cast<double>(n[c]));
    b[c] = static_cast<std::size_t>(hi[c] * static_cast<double>(n[c]));
  }
  for (std::size_t k = a[2]; k < b[2]; ++k)
    for (std::size_t j = a[1]; j < b[1]; ++j)
      for (std::size_t i = a[0]; i < b[0]; ++i) m.data[m.index(i, j, k)] = 1;
  return m;
}

std::vector<std::int32_t> storedValues(const fs::path& file) {
  return decodePixels(readInstanceHeader(file, file.parent_path())).stored;
}

std::int32_t expectedStored(double hu, const DicomInstance& inst, const FrameInfo& frame) {
  const long long lo = inst.pixel_representation ? -(1LL << (inst.bits_stored - 1)) : 0;
  const long long hi = inst.pixel_representation ? (1LL << (inst.bits_stored - 1)) - 1 : (1LL << inst.bits_stored) - 1;
  const long long v = std::llround((hu - frame.intercept) / frame.slope);
  return static_cast<std::int32_t>(std::clamp(v, lo, hi));
}

std::size_t maskMismatches(const CaseInventory& inv, const SeriesStack& stack, const VoxelMask& mask,
                           double fill_hu, const fs::path& out_root) {
  std::size_t bad = 0;
  std::map<std::size_t, std::pair<std::vector<std::int32_t>, std::vector<std::int32_t>>> cache;
  for (std::size_t k = 0; k < stack.slices.size(); ++k) {
    const SliceRef& s = stack.slices[k];
    const DicomInstance& inst = inv.instances.at(s.instance);
    auto it = cache.find(s.instance);
    if (it == cache.end())
      it = cache.emplace(s.instance, std::make_pair(decodePixels(inst).stored,
                                                    storedValues(out_root / inst.relative))).first;
    const auto& [src, out] = it->second;
    if (src.size() != out.size()) return src.size() + 1;
    const FrameInfo& f = inst.frames.at(s.frame);
    const std::int32_t fill = expectedStored(fill_hu, inst, f);
    for (std::size_t j = 0; j < inst.rows; ++j)
      for (std::size_t i = 0; i < inst.columns; ++i) {
        const std::size_t at = (std::size_t{s.frame} * inst.rows + j) * inst.columns + i;
        const std::int32_t want = mask.at(i, j, k) ? fill : src[at];
        bad += out[at] != want;
      }
  }
  return bad;
}

namespace {

std::map<gdcm::Tag, std::string> serialised(const gdcm::DataSet& ds, bool with_pixels) {
  std::map<gdcm::Tag, std::string> m;
  for (const gdcm::DataElement& de : ds.GetDES()) {
    if (de.GetTag() == gdcm::Tag(0x7FE0, 0x0010) && !with_pixels) {
      m[de.GetTag()] = "";
      continue;
    }
    std::ostringstream os;
    de.Write<gdcm::ExplicitDataElement, gdcm::SwapperNoOp>(os);
    m[de.GetTag()] = os.str();
  }
  return m;
}

std::string tagName(const gdcm::Tag& t) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04x,%04x", t.GetGroup(), t.GetElement());
  return buf;
}

void diffInto(const std::map<gdcm::Tag, std::string>& a, const std::map<gdcm::Tag, std::string>& b,
              std::set<std::string>& out) {
  for (const auto& [tag, bytes] : a) {
    const auto it = b.find(tag);
    if (it == b.end() || it->second != bytes) out.insert(tagName(tag));
  }
  for (const auto& [tag, bytes] : b)
    if (!a.count(tag)) out.insert(tagName(tag));
}

}  // namespace

std::set<std::string> changedElements(const fs::path& a, const fs::path& b, bool with_pixels) {
  gdcm::Reader ra, rb;
  ra.SetFileName(a.string().c_str());
  rb.SetFileName(b.string().c_str());
  if (!ra.Read() || !rb.Read()) throw std::runtime_error("GDCM cannot read " + a.string() + " or " + b.string());
  std::set<std::string> out;
  diffInto(serialised(ra.GetFile().GetHeader(), true), serialised(rb.GetFile().GetHeader(), true), out);
  diffInto(serialised(ra.GetFile().GetDataSet(), with_pixels), serialised(rb.GetFile().GetDataSet(), with_pixels),
           out);
  return out;
}

std::set<std::string> dciodvfyErrors(const fs::path& file) {
  const std::string cmd = "dciodvfy '" + file.string() + "' 2>&1";
  std::set<std::string> errors;
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) throw std::runtime_error("cannot run dciodvfy");
  char line[4096];
  while (fgets(line, sizeof line, p)) {
    std::string s(line);
    while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
    if (s.find("Error") != std::string::npos) errors.insert(s);
  }
  pclose(p);
  return errors;
}

std::map<fs::path, std::size_t> hashTree(const fs::path& dir) {
  std::map<fs::path, std::size_t> h;
  const auto add = [&](const fs::path& f) {
    std::ifstream in(f, std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    h[f] = std::hash<std::string>{}(bytes);
  };
  if (fs::is_regular_file(dir)) {
    add(dir);
    return h;
  }
  for (const auto& e : fs::recursive_directory_iterator(dir))
    if (e.is_regular_file()) add(e.path());
  return h;
}

namespace {

std::unique_ptr<gdcm::Reader> readAll(const fs::path& file) {
  auto r = std::make_unique<gdcm::Reader>();
  r->SetFileName(file.string().c_str());
  if (!r->Read()) throw std::runtime_error("GDCM cannot read " + file.string());
  return r;
}

std::string trimmed(const gdcm::DataElement& de) {
  const gdcm::ByteValue* bv = de.GetByteValue();
  if (!bv) return {};
  std::string s(bv->GetPointer(), bv->GetLength());
  while (!s.empty() && (s.back() == ' ' || s.back() == '\0')) s.pop_back();
  return s;
}

}  // namespace

std::string elementString(const fs::path& file, std::uint16_t group, std::uint16_t element) {
  const auto r = readAll(file);
  const gdcm::Tag tag(group, element);
  const gdcm::DataSet& ds = group == 0x0002 ? r->GetFile().GetHeader() : r->GetFile().GetDataSet();
  return ds.FindDataElement(tag) ? trimmed(ds.GetDataElement(tag)) : std::string();
}

std::vector<std::string> codeValues(const fs::path& file, std::uint16_t group, std::uint16_t element) {
  const auto r = readAll(file);
  std::vector<std::string> out;
  const gdcm::DataSet& ds = r->GetFile().GetDataSet();
  if (!ds.FindDataElement(gdcm::Tag(group, element))) return out;
  const auto sq = ds.GetDataElement(gdcm::Tag(group, element)).GetValueAsSQ();
  if (!sq) return out;
  for (gdcm::SequenceOfItems::SizeType n = 1; n <= sq->GetNumberOfItems(); ++n) {
    const gdcm::DataSet& item = sq->GetItem(n).GetNestedDataSet();
    const gdcm::Tag code(0x0008, 0x0100);
    out.push_back(item.FindDataElement(code) ? trimmed(item.GetDataElement(code)) : std::string());
  }
  return out;
}

bool sameBytes(const fs::path& a, const fs::path& b) {
  std::ifstream ia(a, std::ios::binary), ib(b, std::ios::binary);
  const std::string sa((std::istreambuf_iterator<char>(ia)), std::istreambuf_iterator<char>());
  const std::string sb((std::istreambuf_iterator<char>(ib)), std::istreambuf_iterator<char>());
  return ia.good() == ib.good() && !sa.empty() && sa == sb;
}

std::vector<fs::path> filesBelow(const fs::path& dir) {
  std::vector<fs::path> out;
  if (!fs::exists(dir)) return out;
  for (const auto& e : fs::recursive_directory_iterator(dir))
    if (e.is_regular_file()) out.push_back(e.path().lexically_relative(dir));
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace ctd::test
