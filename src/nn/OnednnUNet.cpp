#include "nn/OnednnUNet.h"

#include <omp.h>

#include <algorithm>
#include <array>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <unordered_map>

#include "core/Error.h"
#include "nn/ChannelBlockedLayout.h"
#include "nn/InstanceNormKernel.h"
#include "nn/WeightBinder.h"

namespace ctd::nn {

using dnnl::memory;
using tag = dnnl::memory::format_tag;
using dt = dnnl::memory::data_type;
using Kind = UNetOp::Kind;

namespace {

memory::dims toDims(const std::vector<std::int64_t>& v) { return memory::dims(v.begin(), v.end()); }
memory::dims toDims(const std::vector<int>& v) { return memory::dims(v.begin(), v.end()); }

struct FreeDeleter {
  void operator()(float* p) const { std::free(p); }
};

// The widest channel block for which oneDNN has a JIT convolution on this CPU (16 with AVX-512,
// 8 with AVX2), probed on a typical mid-network convolution; 1 (plain) when there is none.
int preferredBlock(const dnnl::engine& eng, int dims) {
  const memory::dim c = 32, n = 16;
  memory::dims act{1, c}, w{c, c};
  for (int a = 0; a < dims; ++a) {
    act.push_back(n);
    w.push_back(3);
  }
  const memory::dims stride(static_cast<std::size_t>(dims), 1), pad(static_cast<std::size_t>(dims), 1);
  for (int block : {16, 8}) {
    const tag t = dims == 3 ? (block == 16 ? tag::nCdhw16c : tag::nCdhw8c) : (block == 16 ? tag::nChw16c : tag::nChw8c);
    const memory::desc blocked(act, dt::f32, t), any_w(w, dt::f32, tag::any);
    try {
      const dnnl::convolution_forward::desc d(dnnl::prop_kind::forward_inference, dnnl::algorithm::convolution_direct,
                                              blocked, any_w, blocked, stride, pad, pad);
      const dnnl::convolution_forward::primitive_desc pd(d, eng);
      const std::string impl = pd.impl_info_str();
      if (impl.rfind("jit", 0) == 0 || impl.rfind("brg", 0) == 0) return block;
    } catch (const dnnl::error&) {
    }
  }
  return 1;
}

}  // namespace

// Everything that depends on the input's spatial size: buffer shapes, the arena, primitives.
class OnednnUNet::Plan {
 public:
  Plan(OnednnUNet& net, const std::vector<std::int64_t>& spatial) : net_(net) {
    const auto& ops = net.spec_.ops();
    const auto& bufs = net.spec_.buffers();
    const std::size_t nb = bufs.size();
    spatial_.assign(nb, {});
    spatial_[0] = spatial;
    for (const auto& op : ops) {
      const auto& in = spatial_[static_cast<std::size_t>(op.in)];
      auto& out = spatial_[static_cast<std::size_t>(op.out)];
      if (op.kind == Kind::InstanceNorm) continue;
      out.assign(in.size(), 0);
      for (std::size_t a = 0; a < in.size(); ++a) {
        if (op.kind == Kind::TransposedConv)
          out[a] = in[a] * op.stride[a];
        else if (op.kind == Kind::Concat)
          out[a] = in[a];
        else
          out[a] = (in[a] + 2 * op.padding[a] - op.kernel[a]) / op.stride[a] + 1;
      }
      if (op.kind == Kind::Concat && spatial_[static_cast<std::size_t>(op.residual)] != out)
        throw Error("input size " + shapeString(spatial) + " does not pass through the network (skip sizes differ)");
    }

    // Skip concatenation in place: the upsampled half and the encoder's output are written straight into
    // the two halves of the concatenated buffer when the channel split falls on a block boundary.
    root_.resize(nb);
    offset_.assign(nb, 0);
    for (std::size_t b = 0; b < nb; ++b) root_[b] = static_cast<int>(b);
    for (const auto& op : ops) {
      if (op.kind != Kind::Concat) continue;
      const int c = bufs[static_cast<std::size_t>(op.in)].channels;
      if (c % net.block_ != 0 || root_[static_cast<std::size_t>(op.residual)] != op.residual) continue;
      const std::int64_t s = volume(spatial_[static_cast<std::size_t>(op.out)]);
      root_[static_cast<std::size_t>(op.in)] = op.out;
      root_[static_cast<std::size_t>(op.residual)] = op.out;
      offset_[static_cast<std::size_t>(op.residual)] = c * s;
      aliased_concat_.push_back(&op - ops.data());
    }

    describeBuffers();
    allocate();
    std::size_t tap_bytes = 0;
    for (std::size_t i = 0; i < ops.size(); ++i)
      if (isTapwise(ops[i])) tap_bytes = std::max(tap_bytes, tapDesc(static_cast<int>(i)).get_size());
    if (tap_bytes) {
      tap_scratch_.reset(static_cast<float*>(std::aligned_alloc(4096, (tap_bytes + 4095) / 4096 * 4096)));
      if (!tap_scratch_) throw Error("cannot allocate " + std::to_string(tap_bytes >> 20) + " MB for the network");
    }
    for (std::size_t i = 0; i < ops.size(); ++i) addStep(static_cast<int>(i));
  }

  void run(const Tensor& x, Tensor& y) {
    const auto& bufs = net_.spec_.buffers();
    memory::dims in_dims{1, bufs[0].channels};
    for (auto s : spatial_[0]) in_dims.push_back(s);
    memory user_in({in_dims, dt::f32, net_.plainTag()}, net_.engine_, const_cast<float*>(x.ptr()));
    dnnl::reorder(user_in, mem_[0]).execute(net_.stream_, user_in, mem_[0]);
    for (auto& step : steps_) step();
    const int out = net_.spec_.outputBuffer();
    memory::dims out_dims{1, bufs[static_cast<std::size_t>(out)].channels};
    std::vector<std::int64_t> shape{1, bufs[static_cast<std::size_t>(out)].channels};
    for (auto s : spatial_[static_cast<std::size_t>(out)]) {
      out_dims.push_back(s);
      shape.push_back(s);
    }
    y = Tensor(shape);
    memory user_out({out_dims, dt::f32, net_.plainTag()}, net_.engine_, y.ptr());
    dnnl::reorder(mem_[static_cast<std::size_t>(out)], user_out).execute(net_.stream_, mem_[static_cast<std::size_t>(out)], user_out);
    net_.stream_.wait();
  }

  std::size_t arenaBytes() const { return arena_bytes_; }

 private:
  static std::int64_t volume(const std::vector<std::int64_t>& s) {
    std::int64_t v = 1;
    for (auto x : s) v *= x;
    return v;
  }

  memory::dims dimsOf(int b) const {
    memory::dims d{1, net_.spec_.buffers()[static_cast<std::size_t>(b)].channels};
    for (auto s : spatial_[static_cast<std::size_t>(b)]) d.push_back(s);
    return d;
  }

  // The first convolution takes its input in whatever format suits a few input channels, and the
  // segmentation head writes what it likes; every other activation uses the network's blocked layout.
  void describeBuffers() {
    const auto& ops = net_.spec_.ops();
    const std::size_t nb = net_.spec_.buffers().size();
    desc_.resize(nb);
    for (std::size_t b = 0; b < nb; ++b) desc_[b] = memory::desc(dimsOf(static_cast<int>(b)), dt::f32, net_.activationTag());
    int consumers = 0;
    for (const auto& op : ops) consumers += (op.in == 0) + (op.residual == 0);
    if (consumers == 1 && ops.front().kind == Kind::Conv && ops.front().in == 0) desc_[0] = convPd(0, true, false).src_desc();
    const int out = net_.spec_.outputBuffer();
    const int last = static_cast<int>(ops.size()) - 1;
    if (ops.back().out == out && ops.back().kind == Kind::Conv) desc_[static_cast<std::size_t>(out)] = convPd(last, false, true).dst_desc();
  }

  // Liveness over the op list, then best-fit reuse of arena blocks: a 128^3 patch would otherwise need
  // every activation of the network at once.
  void allocate() {
    const auto& ops = net_.spec_.ops();
    const std::size_t nb = desc_.size();
    const int n = static_cast<int>(ops.size());
    std::vector<int> first(nb, n), last(nb, -1);
    auto touch = [&](int b, int i, bool def) {
      if (b < 0) return;
      const auto r = static_cast<std::size_t>(root_[static_cast<std::size_t>(b)]);
      first[r] = std::min(first[r], def ? i : i);
      last[r] = std::max(last[r], i);
    };
    touch(0, -1, true);
    for (int i = 0; i < n; ++i) {
      touch(ops[static_cast<std::size_t>(i)].in, i, false);
      touch(ops[static_cast<std::size_t>(i)].residual, i, false);
      touch(ops[static_cast<std::size_t>(i)].out, i, true);
    }
    touch(net_.spec_.outputBuffer(), n, false);
    std::vector<std::size_t> bytes(nb, 0);
    for (std::size_t b = 0; b < nb; ++b) {
      const auto r = static_cast<std::size_t>(root_[b]);
      bytes[r] = std::max(bytes[r], desc_[r].get_size());
    }
    struct Block {
      std::size_t bytes;
      bool busy;
      std::size_t offset;
    };
    std::vector<Block> blocks;
    std::vector<int> block_of(nb, -1);
    std::size_t total = 0;
    for (int i = -1; i <= n; ++i) {
      for (std::size_t r = 0; r < nb; ++r) {
        if (first[r] != i || root_[r] != static_cast<int>(r) || last[r] < 0) continue;
        int best = -1;
        for (std::size_t k = 0; k < blocks.size(); ++k)
          if (!blocks[k].busy && blocks[k].bytes >= bytes[r] && (best < 0 || blocks[k].bytes < blocks[static_cast<std::size_t>(best)].bytes))
            best = static_cast<int>(k);
        if (best < 0) {
          const std::size_t size = (bytes[r] + 4095) / 4096 * 4096;
          blocks.push_back({size, false, total});
          total += size;
          best = static_cast<int>(blocks.size()) - 1;
        }
        blocks[static_cast<std::size_t>(best)].busy = true;
        block_of[r] = best;
      }
      for (std::size_t r = 0; r < nb; ++r)
        if (last[r] == i && block_of[r] >= 0) blocks[static_cast<std::size_t>(block_of[r])].busy = false;
    }
    arena_bytes_ = total;
    arena_.reset(static_cast<float*>(std::aligned_alloc(4096, std::max<std::size_t>(total, 4096))));
    if (!arena_) throw Error("cannot allocate " + std::to_string(total >> 20) + " MB for the network's activations");
    std::memset(arena_.get(), 0, total);
    char* base = reinterpret_cast<char*>(arena_.get());
    mem_.resize(nb);
    for (std::size_t b = 0; b < nb; ++b) {
      const auto r = static_cast<std::size_t>(root_[b]);
      if (block_of[r] < 0) continue;
      char* p = base + blocks[static_cast<std::size_t>(block_of[r])].offset + static_cast<std::size_t>(offset_[b]) * sizeof(float);
      // A half of an aliased concat is an exact nC..Bc tensor of its own channels at that offset.
      mem_[b] = memory(desc_[b], net_.engine_, p);
    }
  }

  dnnl::primitive_attr attr() const {
    dnnl::primitive_attr a;
    if (net_.options_.bf16) a.set_fpmath_mode(dnnl::fpmath_mode::bf16);
    return a;
  }

  dnnl::convolution_forward::primitive_desc convPd(int i, bool any_src, bool any_dst) const {
    const auto& op = net_.spec_.ops()[static_cast<std::size_t>(i)];
    const auto& w = net_.weights_[static_cast<std::size_t>(i)];
    const memory::desc src = any_src ? memory::desc(dimsOf(op.in), dt::f32, tag::any) : desc_[static_cast<std::size_t>(op.in)];
    const memory::desc dst = any_dst ? memory::desc(dimsOf(op.out), dt::f32, tag::any) : desc_[static_cast<std::size_t>(op.out)];
    const memory::desc wd(toDims(w.weight_shape), dt::f32, tag::any);
    const memory::dims stride = toDims(op.stride), pad = toDims(op.padding);
    const auto prop = dnnl::prop_kind::forward_inference;
    const auto alg = dnnl::algorithm::convolution_direct;
    if (w.bias.empty())
      return {dnnl::convolution_forward::desc(prop, alg, src, wd, dst, stride, pad, pad), attr(), net_.engine_};
    const memory::desc bd({static_cast<memory::dim>(w.bias.size())}, dt::f32, tag::x);
    return {dnnl::convolution_forward::desc(prop, alg, src, wd, bd, dst, stride, pad, pad), attr(), net_.engine_};
  }

  memory biasMemory(int i) {
    auto& w = net_.weights_[static_cast<std::size_t>(i)];
    return memory({{static_cast<memory::dim>(w.bias.size())}, dt::f32, tag::x}, net_.engine_, w.bias.data());
  }

  // nnU-Net's transposed convolutions have kernel == stride and no padding: every output voxel gets
  // exactly one kernel tap. oneDNN 2.6 runs them as a backward-data convolution at a few GFLOP/s
  // (1.3 s of a 64x192x192 patch's 15 s); as one 1x1 convolution per tap (its fast jit_1x1 kernel)
  // and a copy of each result to its strided place they take a fraction of that.
  static bool isTapwise(const UNetOp& op) {
    if (op.kind != Kind::TransposedConv) return false;
    for (std::size_t a = 0; a < op.kernel.size(); ++a)
      if (op.kernel[a] != op.stride[a] || op.padding[a] != 0) return false;
    return true;
  }

  // One tap's result: the output's channels on the input's grid, in the activation layout.
  memory::desc tapDesc(int i) const {
    const auto& op = net_.spec_.ops()[static_cast<std::size_t>(i)];
    memory::dims d{1, net_.spec_.buffers()[static_cast<std::size_t>(op.out)].channels};
    for (auto s : spatial_[static_cast<std::size_t>(op.in)]) d.push_back(s);
    return memory::desc(d, dt::f32, net_.activationTag());
  }

  void addTapwiseTransposedConv(int i) {
    const auto& op = net_.spec_.ops()[static_cast<std::size_t>(i)];
    const auto& wt = net_.weights_[static_cast<std::size_t>(i)];
    auto& stream = net_.stream_;
    const memory::dim cin = wt.weight_shape[0], cout = wt.weight_shape[1];
    const std::size_t nd = op.kernel.size();
    std::int64_t taps = 1;
    for (auto k : op.kernel) taps *= k;
    const memory::desc tdesc = tapDesc(i);
    const memory tmp(tdesc, net_.engine_, tap_scratch_.get());
    memory::dims wdims{cout, cin}, ones(nd, 1), zeros(nd, 0);
    for (std::size_t a = 0; a < nd; ++a) wdims.push_back(1);
    const memory::desc wany(wdims, dt::f32, tag::any);
    const auto prop = dnnl::prop_kind::forward_inference;
    const auto alg = dnnl::algorithm::convolution_direct;
    const memory::desc& src = desc_[static_cast<std::size_t>(op.in)];
    const dnnl::convolution_forward::primitive_desc pd =
        wt.bias.empty()
            ? dnnl::convolution_forward::primitive_desc({prop, alg, src, wany, tdesc, ones, zeros, zeros}, attr(), net_.engine_)
            : dnnl::convolution_forward::primitive_desc(
                  {prop, alg, src, wany, memory::desc({cout}, dt::f32, tag::x), tdesc, ones, zeros, zeros}, attr(),
                  net_.engine_);
    const dnnl::convolution_forward conv(pd);
    // Grid sizes as 3D (a 2D network has depth 1), in input voxels, and the block width.
    const auto& sin = spatial_[static_cast<std::size_t>(op.in)];
    std::array<std::int64_t, 3> n{1, 1, 1}, st{1, 1, 1};
    for (std::size_t a = 0; a < nd; ++a) {
      n[3 - nd + a] = sin[a];
      st[3 - nd + a] = op.stride[a];
    }
    const std::int64_t B = net_.block_, blocks = cout / B;
    float* const dst = static_cast<float*>(mem_[static_cast<std::size_t>(op.out)].get_data_handle());
    const float* const t_ptr = tap_scratch_.get();
    for (std::int64_t t = 0; t < taps; ++t) {
      // torch's ConvTranspose weight [in][out][k...]: this tap's [out][in] slice.
      std::vector<float> w(static_cast<std::size_t>(cout * cin));
      for (memory::dim co = 0; co < cout; ++co)
        for (memory::dim ci = 0; ci < cin; ++ci)
          w[static_cast<std::size_t>(co * cin + ci)] = wt.weight[static_cast<std::size_t>((ci * cout + co) * taps + t)];
      memory user({wdims, dt::f32, nd == 3 ? tag::oidhw : tag::oihw}, net_.engine_, w.data());
      memory wm(pd.weights_desc(), net_.engine_);
      dnnl::reorder(user, wm).execute(stream, user, wm);
      stream.wait();
      std::array<std::int64_t, 3> k{0, 0, 0};
      for (std::int64_t r = t, a = static_cast<std::int64_t>(nd) - 1; a >= 0; --a) {
        k[static_cast<std::size_t>(3 - static_cast<std::int64_t>(nd) + a)] = r % op.kernel[static_cast<std::size_t>(a)];
        r /= op.kernel[static_cast<std::size_t>(a)];
      }
      std::unordered_map<int, memory> args{{DNNL_ARG_SRC, mem_[static_cast<std::size_t>(op.in)]}, {DNNL_ARG_WEIGHTS, wm}, {DNNL_ARG_DST, tmp}};
      if (!wt.bias.empty()) args[DNNL_ARG_BIAS] = biasMemory(i);
      steps_.push_back([conv, args, &stream, t_ptr, dst, n, st, k, B, blocks] {
        conv.execute(stream, args);
        stream.wait();
        const std::int64_t OD = n[0] * st[0], OH = n[1] * st[1], OW = n[2] * st[2];
#pragma omp parallel for collapse(2) schedule(static)
        for (std::int64_t c = 0; c < blocks; ++c)
          for (std::int64_t d = 0; d < n[0]; ++d)
            for (std::int64_t h = 0; h < n[1]; ++h) {
              const float* from = t_ptr + ((c * n[0] + d) * n[1] + h) * n[2] * B;
              float* to = dst + ((c * OD + d * st[0] + k[0]) * OH + h * st[1] + k[1]) * OW * B + k[2] * B;
              for (std::int64_t x = 0; x < n[2]; ++x) std::memcpy(to + x * st[2] * B, from + x * B, static_cast<std::size_t>(B) * sizeof(float));
            }
      });
    }
  }

  void addStep(int i) {
    const auto& op = net_.spec_.ops()[static_cast<std::size_t>(i)];
    auto& stream = net_.stream_;
    const memory in = op.in >= 0 ? mem_[static_cast<std::size_t>(op.in)] : memory();
    const memory out = mem_[static_cast<std::size_t>(op.out)];
    switch (op.kind) {
      case Kind::Conv: {
        const auto pd = convPd(i, false, false);
        const memory w = net_.weightsFor(i, pd.weights_desc());
        std::unordered_map<int, memory> args{{DNNL_ARG_SRC, in}, {DNNL_ARG_WEIGHTS, w}, {DNNL_ARG_DST, out}};
        if (!net_.weights_[static_cast<std::size_t>(i)].bias.empty()) args[DNNL_ARG_BIAS] = biasMemory(i);
        steps_.push_back([p = dnnl::convolution_forward(pd), args, &stream] { p.execute(stream, args); });
        break;
      }
      case Kind::TransposedConv: {
        if (isTapwise(op)) {
          addTapwiseTransposedConv(i);
          break;
        }
        const auto& wt = net_.weights_[static_cast<std::size_t>(i)];
        memory::dims logical = toDims(wt.weight_shape);  // torch [in, out, k...] -> oneDNN [out, in, k...]
        std::swap(logical[0], logical[1]);
        const memory::desc wd(logical, dt::f32, tag::any);
        const memory::dims stride = toDims(op.stride), pad = toDims(op.padding);
        const auto prop = dnnl::prop_kind::forward_inference;
        const auto alg = dnnl::algorithm::deconvolution_direct;
        const auto& src = desc_[static_cast<std::size_t>(op.in)];
        const auto& dst = desc_[static_cast<std::size_t>(op.out)];
        dnnl::deconvolution_forward::primitive_desc pd =
            wt.bias.empty()
                ? dnnl::deconvolution_forward::primitive_desc({prop, alg, src, wd, dst, stride, pad, pad}, attr(), net_.engine_)
                : dnnl::deconvolution_forward::primitive_desc(
                      {prop, alg, src, wd, memory::desc({static_cast<memory::dim>(wt.bias.size())}, dt::f32, tag::x), dst,
                       stride, pad, pad},
                      attr(), net_.engine_);
        const memory w = net_.weightsFor(i, pd.weights_desc());
        std::unordered_map<int, memory> args{{DNNL_ARG_SRC, in}, {DNNL_ARG_WEIGHTS, w}, {DNNL_ARG_DST, out}};
        if (!wt.bias.empty()) args[DNNL_ARG_BIAS] = biasMemory(i);
        steps_.push_back([p = dnnl::deconvolution_forward(pd), args, &stream] { p.execute(stream, args); });
        break;
      }
      case Kind::AvgPool: {
        const dnnl::pooling_forward::desc d(dnnl::prop_kind::forward_inference, dnnl::algorithm::pooling_avg_include_padding,
                                            desc_[static_cast<std::size_t>(op.in)], desc_[static_cast<std::size_t>(op.out)],
                                            toDims(op.stride), toDims(op.kernel), toDims(op.padding), toDims(op.padding));
        const dnnl::pooling_forward::primitive_desc pd(d, net_.engine_);
        std::unordered_map<int, memory> args{{DNNL_ARG_SRC, in}, {DNNL_ARG_DST, out}};
        if (pd.workspace_desc().get_size()) args[DNNL_ARG_WORKSPACE] = memory(pd.workspace_desc(), net_.engine_);
        steps_.push_back([p = dnnl::pooling_forward(pd), args, &stream] { p.execute(stream, args); });
        break;
      }
      case Kind::Concat: {
        if (std::find(aliased_concat_.begin(), aliased_concat_.end(), i) != aliased_concat_.end()) break;
        const memory second = mem_[static_cast<std::size_t>(op.residual)];
        const dnnl::concat::primitive_desc pd(desc_[static_cast<std::size_t>(op.out)], 1,
                                              {desc_[static_cast<std::size_t>(op.in)], desc_[static_cast<std::size_t>(op.residual)]},
                                              net_.engine_);
        std::unordered_map<int, memory> args{{DNNL_ARG_MULTIPLE_SRC, in}, {DNNL_ARG_MULTIPLE_SRC + 1, second}, {DNNL_ARG_DST, out}};
        steps_.push_back([p = dnnl::concat(pd), args, &stream] { p.execute(stream, args); });
        break;
      }
      case Kind::InstanceNorm: {
        const auto& w = net_.weights_[static_cast<std::size_t>(i)];
        ChannelBlockedLayout layout{net_.spec_.buffers()[static_cast<std::size_t>(op.out)].channels,
                                    volume(spatial_[static_cast<std::size_t>(op.out)]), net_.block_};
        InstanceNormParams p;
        p.gamma = w.weight.empty() ? nullptr : w.weight.data();
        p.beta = w.bias.empty() ? nullptr : w.bias.data();
        p.eps = static_cast<float>(net_.spec_.eps());
        p.leaky = op.leaky;
        p.negative_slope = static_cast<float>(net_.spec_.negativeSlope());
        float* x = static_cast<float*>(out.get_data_handle());
        const float* r = op.residual >= 0 ? static_cast<const float*>(mem_[static_cast<std::size_t>(op.residual)].get_data_handle()) : nullptr;
        p.residual = r;
        // oneDNN primitives run asynchronously on the CPU stream only in name; wait to be safe before touching memory.
        steps_.push_back([x, layout, p, &stream] {
          stream.wait();
          instanceNormInPlace(x, layout, p);
        });
        break;
      }
    }
  }

  OnednnUNet& net_;
  std::vector<std::vector<std::int64_t>> spatial_;
  std::vector<int> root_;
  std::vector<std::int64_t> offset_;  // in floats, within the root's block
  std::vector<std::ptrdiff_t> aliased_concat_;
  std::vector<memory::desc> desc_;
  std::vector<memory> mem_;
  std::unique_ptr<float, FreeDeleter> arena_;
  std::unique_ptr<float, FreeDeleter> tap_scratch_;  // one tap's result, shared by the transposed convolutions
  std::size_t arena_bytes_ = 0;
  std::vector<std::function<void()>> steps_;
};

OnednnUNet::OnednnUNet(UNetSpec spec, const CheckpointContents& checkpoint, const EngineOptions& options)
    : spec_(std::move(spec)), options_(options), engine_(dnnl::engine::kind::cpu, 0), stream_(engine_) {
  WeightBinder binder(checkpoint);
  for (const auto& op : spec_.ops()) {
    OpWeights w;
    if (!op.weight.name.empty()) {
      const Tensor& t = binder.take(op.weight);
      w.weight = t.data;
      w.weight_shape = t.shape;
    }
    if (!op.bias.name.empty()) w.bias = binder.take(op.bias).data;
    weights_.push_back(std::move(w));
  }
  binder.expectAllTaken(spec_.architecture().n_stages);
  block_ = preferredBlock(engine_, spec_.architecture().dims);
  // oneDNN's blocked JIT kernels need whole channel blocks (nnU-Net's 32..320 features are); a network with
  // other widths would fall to the reference kernels, so it runs in the plain layout on the GEMM kernels.
  for (std::size_t b = 1; b < spec_.buffers().size(); ++b)
    if (static_cast<int>(b) != spec_.outputBuffer() && spec_.buffers()[b].channels % block_ != 0) block_ = 1;
}

OnednnUNet::~OnednnUNet() = default;

tag OnednnUNet::plainTag() const { return spec_.architecture().dims == 3 ? tag::ncdhw : tag::nchw; }

tag OnednnUNet::activationTag() const {
  const bool d3 = spec_.architecture().dims == 3;
  if (block_ == 16) return d3 ? tag::nCdhw16c : tag::nChw16c;
  if (block_ == 8) return d3 ? tag::nCdhw8c : tag::nChw8c;
  return plainTag();
}

memory OnednnUNet::weightsFor(int op, const memory::desc& wanted) {
  auto& w = weights_[static_cast<std::size_t>(op)];
  for (const auto& [d, m] : w.reordered)
    if (d == wanted) return m;
  const bool transposed = spec_.ops()[static_cast<std::size_t>(op)].kind == Kind::TransposedConv;
  const bool d3 = spec_.architecture().dims == 3;
  // torch stores ConvTranspose weights as [in, out, k...]; oneDNN's logical order is [out, in, k...].
  memory::dims logical = toDims(w.weight_shape);
  tag user_tag = d3 ? tag::oidhw : tag::oihw;
  if (transposed) {
    std::swap(logical[0], logical[1]);
    user_tag = d3 ? tag::iodhw : tag::iohw;
  }
  memory user({logical, dt::f32, user_tag}, engine_, w.weight.data());
  memory m(wanted, engine_);
  dnnl::reorder(user, m).execute(stream_, user, m);
  stream_.wait();
  w.reordered.emplace_back(wanted, m);
  return m;
}

OnednnUNet::Plan& OnednnUNet::planFor(const std::vector<std::int64_t>& spatial) {
  auto it = plans_.find(spatial);
  if (it != plans_.end()) return *it->second;
  // One plan per patch shape; a sliding window uses one or two shapes, so keep the most recent few.
  if (plans_.size() >= 4) plans_.clear();
  return *plans_.emplace(spatial, std::make_unique<Plan>(*this, spatial)).first->second;
}

Tensor OnednnUNet::forward(const Tensor& x) {
  const int dims = spec_.architecture().dims;
  if (x.rank() != dims + 2 || x.dim(0) != 1 || x.dim(1) != spec_.inputChannels())
    throw Error("network input must be 1 x " + std::to_string(spec_.inputChannels()) + " x " + (dims == 3 ? "D x H x W" : "H x W") +
                ", got " + shapeString(x.shape));
  if (x.data.size() != x.numel()) throw Error("network input holds " + std::to_string(x.data.size()) + " values for shape " + shapeString(x.shape));
  const auto total = spec_.totalStride();
  std::vector<std::int64_t> spatial(x.shape.begin() + 2, x.shape.end());
  for (std::size_t a = 0; a < spatial.size(); ++a)
    if (spatial[a] < 1 || spatial[a] % total[a] != 0)
      throw Error("network input size " + shapeString(spatial) + " is not a multiple of the total stride " +
                  shapeString(std::vector<std::int64_t>(total.begin(), total.end())));
  // libdnnl in Debian uses OpenMP; its thread count is per calling thread, so set it on every call.
  omp_set_num_threads(options_.threads > 0 ? options_.threads : omp_get_num_procs());
  Tensor y;
  try {
    planFor(spatial).run(x, y);
  } catch (const dnnl::error& e) {
    throw Error(std::string("oneDNN failed: ") + e.what());
  }
  return y;
}

}  // namespace ctd::nn
