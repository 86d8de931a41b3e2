#include "nn/TorchCheckpoint.h"

#include <filesystem>

#include <zip.h>

#include <cstring>
#include <fstream>
#include <map>
#include <memory>

#include "core/Error.h"
#include "nn/PickleValue.h"

namespace ctd::nn {
namespace fs = std::filesystem;
using pickle::Value;
using Kind = pickle::Value::Kind;

namespace {

struct ZipCloser {
  void operator()(zip_t* z) const { zip_discard(z); }
};

class CheckpointZip {
 public:
  explicit CheckpointZip(const fs::path& path) : path_(path) {
    int err = 0;
    zip_.reset(zip_open(path.c_str(), ZIP_RDONLY | ZIP_CHECKCONS, &err));
    if (!zip_) {
      zip_error_t ze;
      zip_error_init_with_code(&ze, err);
      std::string why = zip_error_strerror(&ze);
      zip_error_fini(&ze);
      throw Error(path, "not a readable PyTorch checkpoint zip (truncated or corrupted?): " + why);
    }
    // torch names every record "<archive>/<record>"; the archive folder is whatever data.pkl sits in.
    const zip_int64_t n = zip_get_num_entries(zip_.get(), 0);
    for (zip_int64_t i = 0; i < n; ++i) {
      const char* name = zip_get_name(zip_.get(), static_cast<zip_uint64_t>(i), 0);
      if (!name) continue;
      const std::string s = name;
      const std::string tail = "/data.pkl";
      if (s.size() > tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0 &&
          s.find('/') == s.size() - tail.size()) {
        prefix_ = s.substr(0, s.size() - tail.size() + 1);
        break;
      }
    }
    if (prefix_.empty()) throw Error(path, "zip holds no <archive>/data.pkl: not a PyTorch checkpoint");
  }

  bool has(const std::string& record) const {
    return zip_name_locate(zip_.get(), (prefix_ + record).c_str(), 0) >= 0;
  }

  std::string read(const std::string& record) const {
    const std::string name = prefix_ + record;
    zip_stat_t st;
    zip_stat_init(&st);
    if (zip_stat(zip_.get(), name.c_str(), 0, &st) != 0 || !(st.valid & ZIP_STAT_SIZE))
      throw Error(path_, "record " + name + " is missing from the checkpoint");
    // The sizes come from the zip directory, which a corrupt file can fill with
    // anything: check them against the archive before allocating (fuzz finding:
    // a 3 GB allocation from a 2 KB file). Deflate cannot expand more than 1032:1.
    std::error_code ec;
    const auto archive_size = std::filesystem::file_size(path_, ec);
    const bool stored = (st.valid & ZIP_STAT_COMP_METHOD) && st.comp_method == ZIP_CM_STORE;
    const zip_uint64_t comp = (st.valid & ZIP_STAT_COMP_SIZE) ? st.comp_size : st.size;
    if (!ec && (comp > archive_size || (stored ? st.size > archive_size : st.size / 1032 > comp)))
      throw Error(path_, "record " + name + " claims " + std::to_string(st.size) +
                             " bytes, more than the checkpoint can hold (corrupted?)");
    std::unique_ptr<zip_file_t, int (*)(zip_file_t*)> f(zip_fopen(zip_.get(), name.c_str(), 0), zip_fclose);
    if (!f) throw Error(path_, "cannot open record " + name + ": " + zip_strerror(zip_.get()));
    std::string out(st.size, '\0');
    zip_uint64_t got = 0;
    while (got < st.size) {
      const zip_int64_t r = zip_fread(f.get(), out.data() + got, st.size - got);
      if (r < 0) throw Error(path_, "cannot read record " + name + " (corrupted?): " + zip_file_strerror(f.get()));
      if (r == 0) break;
      got += static_cast<zip_uint64_t>(r);
    }
    if (got != st.size) throw Error(path_, "record " + name + " is truncated");
    // libzip checks the CRC only when a read reaches the end of the entry.
    char probe;
    if (zip_fread(f.get(), &probe, 1) < 0)
      throw Error(path_, "record " + name + " is corrupted: " + zip_file_strerror(f.get()));
    return out;
  }

 private:
  fs::path path_;
  std::unique_ptr<zip_t, ZipCloser> zip_;
  std::string prefix_;
};

float halfToFloat(std::uint16_t h) {
  const std::uint32_t sign = static_cast<std::uint32_t>(h & 0x8000u) << 16;
  std::uint32_t exp = (h >> 10) & 0x1fu;
  std::uint32_t man = h & 0x3ffu;
  std::uint32_t bits;
  if (exp == 0x1f) {
    bits = sign | 0x7f800000u | (man << 13);
  } else if (exp == 0) {
    if (man == 0) {
      bits = sign;
    } else {  // subnormal: renormalise
      int e = -1;
      do {
        ++e;
        man <<= 1;
      } while (!(man & 0x400u));
      bits = sign | (static_cast<std::uint32_t>(127 - 15 - e) << 23) | ((man & 0x3ffu) << 13);
    }
  } else {
    bits = sign | ((exp + 127 - 15) << 23) | (man << 13);
  }
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}

// Element size and a converter to float for each storage type torch writes.
struct StorageKind {
  std::size_t bytes;
  float (*load)(const unsigned char*);
};

template <typename T>
float loadAs(const unsigned char* p) {
  T v;
  std::memcpy(&v, p, sizeof v);
  return static_cast<float>(v);
}
float loadHalf(const unsigned char* p) {
  std::uint16_t v;
  std::memcpy(&v, p, sizeof v);
  return halfToFloat(v);
}
float loadBf16(const unsigned char* p) {
  std::uint16_t v;
  std::memcpy(&v, p, sizeof v);
  const std::uint32_t bits = static_cast<std::uint32_t>(v) << 16;
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}
float loadBool(const unsigned char* p) { return *p ? 1.0f : 0.0f; }

const StorageKind* storageKind(const std::string& type) {
  static const std::map<std::string, StorageKind> kinds = {
      {"FloatStorage", {4, loadAs<float>}},          {"HalfStorage", {2, loadHalf}},
      {"BFloat16Storage", {2, loadBf16}},            {"DoubleStorage", {8, loadAs<double>}},
      {"LongStorage", {8, loadAs<std::int64_t>}},    {"IntStorage", {4, loadAs<std::int32_t>}},
      {"ShortStorage", {2, loadAs<std::int16_t>}},   {"CharStorage", {1, loadAs<std::int8_t>}},
      {"ByteStorage", {1, loadAs<std::uint8_t>}},    {"BoolStorage", {1, loadBool}},
  };
  auto it = kinds.find(type);
  return it == kinds.end() ? nullptr : &it->second;
}

Tensor materialise(const pickle::TensorRef& ref, const std::string& bytes, const std::string& name, const fs::path& path) {
  const StorageKind* kind = storageKind(ref.storage_type);
  if (!kind) throw Error(path, "tensor " + name + " has unsupported storage type " + ref.storage_type);
  const std::int64_t storage_numel = static_cast<std::int64_t>(bytes.size() / kind->bytes);
  if (ref.storage_numel >= 0 && storage_numel < ref.storage_numel)
    throw Error(path, "storage " + ref.storage_key + " of tensor " + name + " holds " + std::to_string(storage_numel) +
                          " elements, its header says " + std::to_string(ref.storage_numel));
  const std::size_t rank = ref.size.size();
  if (ref.offset < 0) throw Error(path, "tensor " + name + " has a negative storage offset");
  // Bounds first, in overflow-safe steps, so that a corrupted header cannot ask for a huge allocation.
  constexpr std::int64_t kMaxElements = std::int64_t{1} << 32;
  std::int64_t last = ref.offset, numel = 1;
  for (std::size_t d = 0; d < rank; ++d) {
    if (ref.size[d] < 0 || ref.stride[d] < 0) throw Error(path, "tensor " + name + " has a negative size or stride");
    if (ref.size[d] == 0) return Tensor(std::vector<std::int64_t>(ref.size.begin(), ref.size.end()));
    if (ref.size[d] > kMaxElements / numel || (ref.stride[d] > 0 && ref.size[d] - 1 > (kMaxElements - last) / ref.stride[d]))
      throw Error(path, "tensor " + name + " has an implausible size " + shapeString(ref.size));
    numel *= ref.size[d];
    last += (ref.size[d] - 1) * ref.stride[d];
  }
  Tensor t(std::vector<std::int64_t>(ref.size.begin(), ref.size.end()));
  if (last >= storage_numel)
    throw Error(path, "tensor " + name + " reaches element " + std::to_string(last) + " of storage " + ref.storage_key +
                          " which has " + std::to_string(storage_numel));
  const auto* base = reinterpret_cast<const unsigned char*>(bytes.data());
  std::vector<std::int64_t> idx(rank, 0);
  for (std::size_t n = 0; n < t.data.size(); ++n) {
    std::int64_t off = ref.offset;
    for (std::size_t d = 0; d < rank; ++d) off += idx[d] * ref.stride[d];
    t.data[n] = kind->load(base + static_cast<std::size_t>(off) * kind->bytes);
    for (std::size_t d = rank; d-- > 0;) {
      if (++idx[d] < ref.size[d]) break;
      idx[d] = 0;
    }
  }
  return t;
}

void rejectLegacy(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(path, "cannot open checkpoint (missing or unreadable)");
  char head[4] = {};
  in.read(head, 4);
  if (in.gcount() == 4 && std::memcmp(head, "PK\x03\x04", 4) == 0) return;
  if (in.gcount() >= 1 && static_cast<unsigned char>(head[0]) == 0x80)
    throw Error(path, "legacy (pre-1.6, non-zip) torch.save format is not supported; re-save it with "
                      "torch >= 1.6: torch.save(torch.load(f, weights_only=False), f)");
  // Anything else may still be a zip with a prefix (libzip finds the central directory from the end).
}

}  // namespace

CheckpointContents readCheckpoint(const fs::path& path) {
  rejectLegacy(path);
  const CheckpointZip zip(path);
  if (zip.has("byteorder") && zip.read("byteorder") != "little")
    throw Error(path, "big-endian checkpoints are not supported");
  pickle::ValuePtr root;
  try {
    root = pickle::unpickle(zip.read("data.pkl"));
  } catch (const Error&) {
    throw;
  } catch (const std::exception& e) {
    throw Error(path, std::string("data.pkl: ") + e.what());
  }
  if (root->kind != Kind::Dict) throw Error(path, "checkpoint is not a dict (not saved by an nnU-Net trainer)");
  const Value* weights = root->get("network_weights");
  if (!weights) {
    if (root->get("state_dict")) throw Error(path, "checkpoint has no network_weights (a plain state_dict checkpoint, not nnU-Net's)");
    throw Error(path, "checkpoint has no network_weights (not saved by an nnU-Net trainer)");
  }
  if (weights->kind != Kind::Dict) throw Error(path, "network_weights is not a dict");

  CheckpointContents out;
  std::map<std::string, std::string> storages;  // aliases (all_modules, decoder.encoder) share storages
  for (const auto& [k, v] : weights->dict) {
    if (k->kind != Kind::Str) throw Error(path, "network_weights has a non-string key");
    if (v->kind != Kind::Tensor) throw Error(path, "network_weights[" + k->s + "] is not a tensor");
    const auto& ref = v->tensor;
    auto it = storages.find(ref.storage_key);
    if (it == storages.end()) {
      if (!zip.has("data/" + ref.storage_key))
        throw Error(path, "storage data/" + ref.storage_key + " of tensor " + k->s + " is missing from the zip");
      it = storages.emplace(ref.storage_key, zip.read("data/" + ref.storage_key)).first;
    }
    out.network_weights.emplace_back(k->s, materialise(ref, it->second, k->s, path));
  }
  if (const Value* axes = root->get("inference_allowed_mirroring_axes"); axes && axes->kind != Kind::None) {
    if (axes->kind != Kind::Tuple && axes->kind != Kind::List)
      throw Error(path, "inference_allowed_mirroring_axes is neither a tuple nor None");
    std::vector<int> a;
    for (const auto& i : axes->items) {
      if (i->kind != Kind::Int) throw Error(path, "inference_allowed_mirroring_axes holds a non-integer");
      a.push_back(static_cast<int>(i->i));
    }
    out.inference_allowed_mirroring_axes = a;
  }
  if (const Value* t = root->get("trainer_name"); t && t->kind == Kind::Str) out.trainer_name = t->s;
  return out;
}

}  // namespace ctd::nn
