#pragma once
// A dense float tensor, row-major, in PyTorch's NC(D)HW order: the exchange format between
// the checkpoint reader, the network engine and nnU-Net's inference code.
#include <cstddef>
#include <cstdint>
#include <numeric>
#include <string>
#include <vector>

namespace ctd::nn {

struct Tensor {
  std::vector<std::int64_t> shape;
  std::vector<float> data;

  Tensor() = default;
  explicit Tensor(std::vector<std::int64_t> s) : shape(std::move(s)), data(numelOf(shape), 0.0f) {}
  Tensor(std::vector<std::int64_t> s, std::vector<float> d) : shape(std::move(s)), data(std::move(d)) {}

  static std::size_t numelOf(const std::vector<std::int64_t>& s) {
    return static_cast<std::size_t>(
        std::accumulate(s.begin(), s.end(), std::int64_t{1}, [](std::int64_t a, std::int64_t b) { return a * b; }));
  }
  std::size_t numel() const { return numelOf(shape); }
  int rank() const { return static_cast<int>(shape.size()); }
  std::int64_t dim(int i) const { return shape.at(static_cast<std::size_t>(i)); }
  float* ptr() { return data.data(); }
  const float* ptr() const { return data.data(); }
};

// "[32, 1, 3, 3, 3]", for error messages.
inline std::string shapeString(const std::vector<std::int64_t>& s) {
  std::string out = "[";
  for (std::size_t i = 0; i < s.size(); ++i) out += (i ? ", " : "") + std::to_string(s[i]);
  return out + "]";
}

}  // namespace ctd::nn
