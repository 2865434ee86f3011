#include "tflite_writer.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>

namespace mnv2 {
namespace testing {

uint16_t FloatToHalf(float f) {
  uint32_t x;
  std::memcpy(&x, &f, 4);
  const uint32_t sign = (x >> 16) & 0x8000;
  int exponent = static_cast<int>((x >> 23) & 0xff) - 127 + 15;
  uint32_t mantissa = x & 0x7fffff;
  if (exponent <= 0) {
    if (exponent < -10) return static_cast<uint16_t>(sign);
    mantissa |= 0x800000;
    const int shift = 14 - exponent;
    uint32_t half = mantissa >> shift;
    if ((mantissa >> (shift - 1)) & 1) ++half;  // round half up
    return static_cast<uint16_t>(sign | half);
  }
  if (exponent >= 31) return static_cast<uint16_t>(sign | 0x7c00);
  uint32_t half = sign | (static_cast<uint32_t>(exponent) << 10) | (mantissa >> 13);
  if (mantissa & 0x1000) ++half;
  return static_cast<uint16_t>(half);
}

namespace {

// Builds tensors and ops in order; remembers the running activation.
class Synth {
 public:
  explicit Synth(const SyntheticSpec& s) : s_(s), rng_(s.seed) {}

  int Activation(std::vector<int32_t> shape, const std::string& name) {
    TensorDef t;
    t.shape = std::move(shape);
    t.name = name;
    if (quantized()) {
      t.type = s_.weights == WeightType::kUInt8 ? 3 : 9;
      t.scale = {0.05f};
      t.zero_point = {s_.weights == WeightType::kUInt8 ? 128 : 0};
    }
    g.tensors.push_back(t);
    return static_cast<int>(g.tensors.size()) - 1;
  }

  // Random weights of `shape`, channels along `qdim` for per-channel quantization.
  int Weights(std::vector<int32_t> shape, int qdim, float range, const std::string& name) {
    int64_t count = 1;
    for (int d : shape) count *= d;
    std::uniform_real_distribution<float> u(-range, range);
    std::vector<float> w(count);
    for (float& v : w) v = u(rng_);
    TensorDef t;
    t.shape = shape;
    t.name = name;
    switch (s_.weights) {
      case WeightType::kFloat32:
        t.type = 0;
        t.data.resize(count * 4);
        std::memcpy(t.data.data(), w.data(), t.data.size());
        break;
      case WeightType::kFloat16:
        t.type = 1;
        t.data.resize(count * 2);
        for (int64_t i = 0; i < count; ++i) {
          const uint16_t h = FloatToHalf(w[i]);
          std::memcpy(t.data.data() + 2 * i, &h, 2);
        }
        break;
      case WeightType::kUInt8: {
        t.type = 3;
        const float scale = 2 * range / 255.0f;
        t.scale = {scale};
        t.zero_point = {127};
        for (float v : w) t.data.push_back(static_cast<uint8_t>(std::clamp<long>(std::lround(v / scale) + 127, 0, 255)));
        break;
      }
      case WeightType::kInt8PerChannel: {
        t.type = 9;
        const int channels = shape[qdim];
        int64_t inner = 1;
        for (size_t d = qdim + 1; d < shape.size(); ++d) inner *= shape[d];
        for (int c = 0; c < channels; ++c) t.scale.push_back(range * (0.5f + 0.5f * (c % 3)) / 127.0f);
        t.zero_point.assign(channels, 0);
        t.quantized_dimension = qdim;
        for (int64_t i = 0; i < count; ++i) {
          const float scale = t.scale[(i / inner) % channels];
          t.data.push_back(static_cast<uint8_t>(static_cast<int8_t>(std::clamp<long>(std::lround(w[i] / scale), -127, 127))));
        }
        break;
      }
    }
    g.tensors.push_back(t);
    return static_cast<int>(g.tensors.size()) - 1;
  }

  int Bias(int channels, const std::string& name) {
    std::uniform_real_distribution<float> u(-0.1f, 0.1f);
    TensorDef t;
    t.shape = {channels};
    t.name = name;
    if (quantized()) {
      t.type = 2;  // int32
      t.scale = {1.0f / 4096};
      t.zero_point = {0};
      for (int c = 0; c < channels; ++c) {
        const int32_t q = static_cast<int32_t>(std::lround(u(rng_) * 4096));
        t.data.resize(t.data.size() + 4);
        std::memcpy(t.data.data() + t.data.size() - 4, &q, 4);
      }
    } else {
      t.type = 0;
      for (int c = 0; c < channels; ++c) {
        const float v = u(rng_);
        t.data.resize(t.data.size() + 4);
        std::memcpy(t.data.data() + t.data.size() - 4, &v, 4);
      }
    }
    g.tensors.push_back(t);
    return static_cast<int>(g.tensors.size()) - 1;
  }

  static model::FbPtr ConvOptions(int stride, int8_t act) {
    model::FbPtr o = model::MakeFbTable();
    o->Scalar<int8_t>(0, 0).Scalar<int32_t>(1, stride).Scalar<int32_t>(2, stride).Scalar<int8_t>(3, act);
    return o;
  }

  void Conv(int out_c, int k, int stride, int8_t act, const std::string& name, float range_scale = 1.0f) {
    const auto& in = g.tensors[cur_].shape;
    const int h = (in[1] + stride - 1) / stride, w = (in[2] + stride - 1) / stride, in_c = in[3];
    const float range = range_scale * std::sqrt(3.0f / (k * k * in_c));
    const int wt = Weights({out_c, k, k, in_c}, 0, range, name + "/weights");
    const int b = Bias(out_c, name + "/bias");
    const int out = Activation({1, h, w, out_c}, name);
    g.ops.push_back({3, {cur_, wt, b}, {out}, ConvOptions(stride, act), 1});
    cur_ = out;
  }

  void Depthwise(int stride, const std::string& name, int dilation = 1) {
    const auto& in = g.tensors[cur_].shape;
    const int h = (in[1] + stride - 1) / stride, w = (in[2] + stride - 1) / stride, c = in[3];
    const int wt = Weights({1, 3, 3, c}, 3, std::sqrt(3.0f / 9), name + "/weights");
    const int b = Bias(c, name + "/bias");
    const int out = Activation({1, h, w, c}, name);
    model::FbPtr o = model::MakeFbTable();
    o->Scalar<int8_t>(0, 0).Scalar<int32_t>(1, stride).Scalar<int32_t>(2, stride).Scalar<int32_t>(3, 1).Scalar<int8_t>(4, 3);
    if (dilation != 1) o->Scalar<int32_t>(5, dilation).Scalar<int32_t>(6, dilation);
    g.ops.push_back({4, {cur_, wt, b}, {out}, o, 2});
    cur_ = out;
  }

  bool quantized() const { return s_.weights == WeightType::kUInt8 || s_.weights == WeightType::kInt8PerChannel; }

  // MobileNetV2's stem, 17 inverted residual blocks and head (Sandler et al. 2018, Table 2).
  void BuildV2Blocks() {
    const float a = s_.alpha;
    Conv(MakeDivisible(32 * a), 3, 2, 3, "stem");
    struct Stage { int t, c, n, s; };
    const Stage stages[] = {{1, 16, 1, 1}, {6, 24, 2, 2}, {6, 32, 3, 2}, {6, 64, 4, 2},
                            {6, 96, 3, 1}, {6, 160, 3, 2}, {6, 320, 1, 1}};
    int block = 0;
    for (const Stage& st : stages) {
      const int out_c = MakeDivisible(st.c * a);
      for (int i = 0; i < st.n && block < s_.blocks; ++i, ++block) {
        const std::string name = "block_" + std::to_string(block);
        const int block_in = cur_;
        const int in_c = g.tensors[cur_].shape[3];
        // DeepLab's output stride 16: the 160-channel stage keeps its resolution, and its later
        // blocks and the last one see twice as far instead.
        const bool atrous = s_.segmentation && st.c >= 160;
        const int stride = i == 0 && !atrous ? st.s : 1;
        const int dilation = atrous && (i > 0 || st.c == 320) ? 2 : 1;
        if (st.t != 1) Conv(in_c * st.t, 1, 1, 3, name + "/expand");
        Depthwise(stride, name + "/depthwise", dilation);
        Conv(out_c, 1, 1, 0, name + "/project", 0.5f);
        if (stride == 1 && in_c == out_c) {
          const int out = Activation(g.tensors[cur_].shape, name + "/add");
          g.ops.push_back({0, {block_in, cur_}, {out}, nullptr, 0});
          cur_ = out;
        }
      }
    }
    if (s_.segmentation) return;
    Conv(s_.head_channels ? s_.head_channels : a > 1.0f ? MakeDivisible(1280 * a) : 1280, 1, 1, 3, "head");
  }

  int Constant(std::vector<int32_t> shape, int8_t type, const void* data, size_t bytes) {
    TensorDef t;
    t.shape = std::move(shape);
    t.type = type;
    t.data.assign(static_cast<const uint8_t*>(data), static_cast<const uint8_t*>(data) + bytes);
    g.tensors.push_back(t);
    return static_cast<int>(g.tensors.size()) - 1;
  }

  void Resize(int h, int w, const std::string& name) {
    const int32_t size[2] = {h, w};
    const int size_tensor = Constant({2}, 2, size, 8);
    const int out = Activation({1, h, w, g.tensors[cur_].shape[3]}, name);
    g.tensors[out].scale = g.tensors[cur_].scale;
    g.tensors[out].zero_point = g.tensors[cur_].zero_point;
    model::FbPtr o = model::MakeFbTable();
    o->Scalar<uint8_t>(2, s_.align_corners ? 1 : 0).Scalar<uint8_t>(3, s_.half_pixel_centers ? 1 : 0);
    g.ops.push_back({23, {cur_, size_tensor}, {out}, o, 15});
    cur_ = out;
  }

  // DeepLabv3's head (see SyntheticSpec::segmentation).
  void BuildSegmentationHead() {
    const int map = cur_;
    const auto shape = g.tensors[map].shape;
    const int C = s_.aspp_channels;
    int branch = -1;
    if (s_.image_pooling) {
      const int pooled = Activation({1, 1, 1, shape[3]}, "pool");
      g.tensors[pooled].scale = g.tensors[map].scale;
      g.tensors[pooled].zero_point = g.tensors[map].zero_point;
      model::FbPtr o = model::MakeFbTable();
      o->Scalar<int8_t>(0, 1).Scalar<int32_t>(1, 1).Scalar<int32_t>(2, 1).Scalar<int32_t>(3, shape[2]);
      o->Scalar<int32_t>(4, shape[1]);
      g.ops.push_back({1, {map}, {pooled}, o, 5});
      cur_ = map;
      Conv(C, 1, 1, 1, "aspp0");  // (the file's order: the map's branch first)
      const int aspp0 = cur_;
      cur_ = pooled;
      Conv(C, 1, 1, 1, "image_pooling");
      g.tensors[cur_].scale = {0.02f};
      Resize(shape[1], shape[2], "image_pooling/resize");
      const int requantized = Activation(g.tensors[cur_].shape, "image_pooling/quantize");
      g.ops.push_back({114, {cur_}, {requantized}, nullptr, 0});
      branch = requantized;
      const int concat = Activation({1, shape[1], shape[2], 2 * C}, "concat");
      model::FbPtr c = model::MakeFbTable();
      c->Scalar<int32_t>(0, 3);
      g.ops.push_back({2, {branch, aspp0}, {concat}, c, 10});
      cur_ = concat;
      Conv(C, 1, 1, 1, "concat_projection");
    }
    Conv(s_.classes, 1, 1, 0, "logits", 4.0f);
    Resize(shape[1], shape[2], "logits/resize_same");
    Resize(s_.resolution, s_.resolution, "logits/resize");
    const int32_t axis = 3;
    const int axis_tensor = Constant({}, 2, &axis, 4);
    const int out = Activation({1, s_.resolution, s_.resolution}, "argmax");
    g.tensors[out].type = 4;  // int64
    g.tensors[out].scale.clear();
    g.tensors[out].zero_point.clear();
    model::FbPtr o = model::MakeFbTable();
    o->Scalar<int8_t>(0, 4);
    g.ops.push_back({56, {cur_, axis_tensor}, {out}, o, 40});
    cur_ = out;
  }

  // MobileNetV1's stem and 13 depthwise-separable blocks (Howard et al. 2017, Table 1).
  void BuildV1Blocks() {
    const float a = s_.alpha;
    Conv(static_cast<int>(32 * a), 3, 2, 3, "stem");
    struct Block { int s, c; };
    const Block blocks[] = {{1, 64},  {2, 128}, {1, 128}, {2, 256}, {1, 256}, {2, 512},  {1, 512},
                            {1, 512}, {1, 512}, {1, 512}, {1, 512}, {2, 1024}, {1, 1024}};
    for (int i = 0; i < 13 && i < s_.blocks; ++i) {
      const std::string name = "block_" + std::to_string(i);
      Depthwise(blocks[i].s, name + "/depthwise");
      Conv(static_cast<int>(blocks[i].c * a), 1, 1, 3, name + "/pointwise");
    }
  }

  GraphDef Build() {
    const int input = Activation({1, s_.resolution, s_.resolution, 3}, "input");
    if (quantized()) {
      g.tensors[input].type = 3;
      g.tensors[input].scale = {1.0f / 128};
      g.tensors[input].zero_point = {128};
    }
    g.inputs = {input};
    cur_ = input;
    if (s_.quantize_edges) {
      const int q = Activation({1, s_.resolution, s_.resolution, 3}, "input_int8");
      g.tensors[q].type = 9;
      g.tensors[q].scale = {1.0f / 128};
      g.tensors[q].zero_point = {0};
      g.ops.push_back({114, {cur_}, {q}, nullptr, 0});
      cur_ = q;
    }
    if (s_.v1) {
      BuildV1Blocks();
    } else {
      BuildV2Blocks();
    }
    if (s_.segmentation) {
      BuildSegmentationHead();
      g.outputs = {cur_};
      g.description = "synthetic DeepLabv3 test model";
      return g;
    }
    const auto head = g.tensors[cur_].shape;
    const int features = head[3];
    const int pooled = Activation({1, 1, 1, features}, "pool");
    if (s_.mean_pool) {
      TensorDef axes;
      axes.shape = {2};
      axes.type = 2;
      axes.data.resize(8);
      const int32_t ax[2] = {1, 2};
      std::memcpy(axes.data.data(), ax, 8);
      g.tensors.push_back(axes);
      model::FbPtr o = model::MakeFbTable();
      o->Scalar<uint8_t>(0, 1);
      g.ops.push_back({40, {cur_, static_cast<int>(g.tensors.size()) - 1}, {pooled}, o, 27});
    } else {
      model::FbPtr o = model::MakeFbTable();
      o->Scalar<int8_t>(0, 1).Scalar<int32_t>(1, 1).Scalar<int32_t>(2, 1).Scalar<int32_t>(3, head[2]).Scalar<int32_t>(4, head[1]);
      g.ops.push_back({1, {cur_}, {pooled}, o, 5});
    }
    cur_ = pooled;
    if (s_.fc_classifier) {
      const int wt = Weights({s_.classes, features}, 0, std::sqrt(3.0f / features) * 4, "logits/weights");
      const int b = Bias(s_.classes, "logits/bias");
      const int out = Activation({1, s_.classes}, "logits");
      g.ops.push_back({9, {cur_, wt, b}, {out}, model::MakeFbTable(), 8});
      cur_ = out;
    } else {
      Conv(s_.classes, 1, 1, 0, "logits", 4.0f);
      const int out = Activation({1, s_.classes}, "logits/squeeze");
      TensorDef shape;
      shape.shape = {2};
      shape.type = 2;
      shape.data.resize(8);
      const int32_t sh[2] = {1, s_.classes};
      std::memcpy(shape.data.data(), sh, 8);
      g.tensors.push_back(shape);
      g.ops.push_back({22, {cur_, static_cast<int>(g.tensors.size()) - 1}, {out}, nullptr, 0});
      cur_ = out;
    }
    if (s_.softmax) {
      const int out = Activation({1, s_.classes}, "probabilities");
      if (quantized()) {  // what TFLite requires of a quantized softmax
        g.tensors[out].scale = {1.0f / 256};
        g.tensors[out].zero_point = {s_.weights == WeightType::kUInt8 ? 0 : -128};
      }
      model::FbPtr o = model::MakeFbTable();
      o->Scalar<float>(0, 1.0f);
      g.ops.push_back({25, {cur_}, {out}, o, 9});
      cur_ = out;
    }
    if (s_.quantize_edges) {
      const int out = Activation({1, s_.classes}, "output_uint8");
      g.tensors[out].type = 3;
      if (!g.tensors[cur_].scale.empty()) {  // the same reals: int8 values + 128
        g.tensors[out].scale = g.tensors[cur_].scale;
        g.tensors[out].zero_point = {g.tensors[cur_].zero_point[0] + (g.tensors[cur_].type == 9 ? 128 : 0)};
      }
      g.ops.push_back({114, {cur_}, {out}, nullptr, 0});
      cur_ = out;
    }
    g.outputs = {cur_};
    g.description = "synthetic test model";
    return g;
  }

  GraphDef g;

 private:
  const SyntheticSpec& s_;
  std::mt19937 rng_;
  int cur_ = -1;
};

}  // namespace

int MakeDivisible(float v, int divisor) {
  int nv = std::max(divisor, static_cast<int>(v + divisor / 2.0f) / divisor * divisor);
  if (nv < 0.9f * v) nv += divisor;
  return nv;
}

GraphDef SyntheticMobileNetV2Graph(const SyntheticSpec& spec) { return Synth(spec).Build(); }

std::vector<uint8_t> SyntheticMobileNetV2(const SyntheticSpec& spec) {
  return WriteTflite(SyntheticMobileNetV2Graph(spec));
}

}  // namespace testing
}  // namespace mnv2
