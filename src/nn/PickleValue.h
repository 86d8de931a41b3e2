#pragma once
// The values a torch.save pickle can hold, as far as reading nnU-Net checkpoints needs them.
// Anything else (optimizer internals, numpy scalars, nnunetv2 objects) becomes Opaque.
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace ctd::nn::pickle {

struct Value;
using ValuePtr = std::shared_ptr<Value>;

// A tensor as `torch._utils._rebuild_tensor_v2` describes it; its bytes stay in the zip until needed.
struct TensorRef {
  std::string storage_key;     // the record name under <archive>/data/
  std::string storage_type;    // "FloatStorage", "HalfStorage", "BFloat16Storage", ...
  std::int64_t storage_numel = 0;
  std::int64_t offset = 0;
  std::vector<std::int64_t> size, stride;
};

struct Value {
  enum class Kind { None, Bool, Int, Float, Str, Bytes, List, Tuple, Dict, Set, Global, Storage, Tensor, Opaque, Mark };
  Kind kind = Kind::None;
  std::int64_t i = 0;
  double f = 0;
  std::string s;                                      // Str, Bytes; Global "module.name"
  std::vector<ValuePtr> items;                        // List, Tuple, Set
  std::vector<std::pair<ValuePtr, ValuePtr>> dict;    // Dict (insertion order)
  TensorRef tensor;                                   // Storage (key/type/numel only) and Tensor

  static ValuePtr make(Kind k) {
    auto v = std::make_shared<Value>();
    v->kind = k;
    return v;
  }
  const Value* get(const std::string& key) const {
    for (const auto& [k, v] : dict)
      if (k->kind == Kind::Str && k->s == key) return v.get();
    return nullptr;
  }
};

// Runs the pickle VM over `bytes` (protocols 2 to 5 without out-of-band buffers).
// Throws std::runtime_error with a short reason on malformed input; the caller adds the file name.
ValuePtr unpickle(const std::string& bytes);

}  // namespace ctd::nn::pickle
