#include "engine/engine.h"

#include <algorithm>
#include <limits>
#include <utility>

#include "common/out_of_line.h"
#include "engine/bands.h"
#include "engine/shapes.h"
#include "engine/warm_up.h"
#include "kernels/kernels.h"

namespace mnv2 {
namespace engine {
namespace {

using model::ConvGeometry;

constexpr float kInf = std::numeric_limits<float>::infinity();

size_t InputFloats(const ConvGeometry& g) { return static_cast<size_t>(g.in_h) * g.in_w * g.in_c; }
size_t OutputFloats(const ConvGeometry& g) { return static_cast<size_t>(g.out_h) * g.out_w * g.out_c; }
size_t InRowFloats(const ConvGeometry& g) { return static_cast<size_t>(g.in_w) * g.in_c; }
size_t OutRowFloats(const ConvGeometry& g) { return static_cast<size_t>(g.out_w) * g.out_c; }

size_t WeightCount(const ConvGeometry& g, bool depthwise) {
  return static_cast<size_t>(g.kernel_h) * g.kernel_w * g.out_c * (depthwise ? 1 : g.in_c);
}

// Whether every layer has its weights, as floats or as stored integers.
bool HasAllWeights(const model::Network& net) {
  bool ok = WeightsOf(net.stem).Has(WeightCount(net.stem.g, false)) &&
            (!net.has_head || WeightsOf(net.head).Has(WeightCount(net.head.g, false)));
  for (const model::InvertedResidual& b : net.blocks) {
    ok = ok && (!b.has_expand || WeightsOf(b.expand).Has(WeightCount(b.expand.g, false))) &&
         WeightsOf(b.depthwise).Has(WeightCount(b.depthwise.g, true)) &&
         WeightsOf(b.project).Has(WeightCount(b.project.g, false));
  }
  for (const model::Classifier& d : net.hidden) {
    ok = ok && WeightsOf(d).Has(static_cast<size_t>(d.features) * d.classes);
  }
  const model::SegmentationHead& seg = net.segmentation;
  if (seg.image_pooling) {
    ok = ok && WeightsOf(seg.pool_conv).Has(WeightCount(seg.pool_conv.g, false)) &&
         WeightsOf(seg.map_conv).Has(WeightCount(seg.map_conv.g, false));
  }
  for (const model::Conv2D& c : seg.convs) ok = ok && WeightsOf(c).Has(WeightCount(c.g, false));
  if (net.task == model::Task::kSegmentation) return ok;
  return ok && WeightsOf(net.classifier).Has(static_cast<size_t>(net.classifier.features) * net.classifier.classes);
}

// Whether the block may write its output over its own input (bands.h).
bool OutputMayOverlapInput(const InvertedResidualPlan& b) {
  if (b.residual || b.source == RowSource::kStem) return false;
  const ConvGeometry& g = b.depthwise.g;
  return engine::OutputMayOverlapInput(g, InRowFloats(b.source == RowSource::kExpand ? b.expand.g : g),
                                       OutRowFloats(b.project.g), b.band_rows, b.source == RowSource::kExpand);
}

// Floats left free before a block's band for GemmSkippingZeros.
size_t BandRoom(const InvertedResidualPlan& b) {
  return b.project_skips_zeros ? AlignToLine<float>(kernels::GemmSkippingZerosRoom(b.project.g.in_c)) : 0;
}

}  // namespace

Result<std::unique_ptr<Engine>> Engine::Create(const model::Network& net, int threads) {
  if (!HasAllWeights(net)) {
    return Status(ErrorCode::kInvalidArgument, "a layer of the network has neither its float weights nor its stored integers");
  }
  std::unique_ptr<Engine> e(new Engine());
  e->workers_ = std::make_unique<Workers>(threads);
  e->input_spec_ = net.input;

  e->stem_g_ = net.stem.g;
  model::ActivationRange(net.stem.activation, &e->stem_min_, &e->stem_max_);
  const kernels::ConvShape stem_shape = ToConvShape(net.stem.g);
  e->stem_packed_.resize(kernels::PackedConvWeightsFloats(stem_shape));
  std::vector<float> buffer;
  kernels::PackConvWeights(stem_shape, WeightsOf(net.stem).Range(0, WeightCount(net.stem.g, false), &buffer),
                           net.stem.bias.data(), e->stem_packed_.data());
  e->stem_fused_ = !net.blocks.front().has_expand;

  for (size_t i = 0; i < net.blocks.size(); ++i) {
    const model::InvertedResidual& b = net.blocks[i];
    InvertedResidualPlan plan;
    plan.source = b.has_expand ? RowSource::kExpand : i == 0 ? RowSource::kStem : RowSource::kInput;
    if (b.has_expand) plan.expand = PlanPointwise(b.expand.g, b.expand.activation, WeightsOf(b.expand), b.expand.bias);
    const ConvGeometry& g = b.depthwise.g;
    plan.depthwise.g = g;
    model::ActivationRange(b.depthwise.activation, &plan.depthwise.out_min, &plan.depthwise.out_max);
    const size_t dw_count = WeightCount(g, true);
    const float* dw = WeightsOf(b.depthwise).Range(0, dw_count, &buffer);
    plan.depthwise.weights.assign(dw, dw + dw_count);
    plan.depthwise.bias = b.depthwise.bias;
    plan.project = PlanPointwise(b.project.g, b.project.activation, WeightsOf(b.project), b.project.bias);
    plan.residual = b.residual;
    plan.project_skips_zeros = plan.depthwise.out_min == 0.0f;
    plan.band_rows = BandRows(g);
    if (plan.source != RowSource::kInput) plan.ring_rows = RingRows(g, plan.band_rows);
    e->blocks_.push_back(std::move(plan));
    if (e->blocks_.size() == kWarmUpBlocks) e->WarmUp();
  }
  if (net.has_head) e->head_ = PlanPointwise(net.head.g, net.head.activation, WeightsOf(net.head), net.head.bias);
  e->PlanMemory(net);
  if (net.task == model::Task::kSegmentation) {
    e->PlanSegmentation(net);
  } else {
    e->classifier_ = FloatClassifier(net);
  }

  e->input_.resize(InputFloats(net.stem.g));
  e->features_.resize(net.feature_size());
  e->scores_.resize(net.classifier.classes);
  e->logits_.resize(net.classifier.classes);
  return e;
}

// Activations live at the two ends of one arena: a layer reads from one end and writes to
// the other (or over its own input, where OutputMayOverlapInput allows, with one thread);
// a block's ring and band buffers, one set per thread, go in the gap between.
void Engine::PlanMemory(const model::Network& net) {
  struct Layer {
    size_t in, out, scratch;  // floats; in == 0: the image, outside the arena
    bool in_low, out_low;
  };
  std::vector<Layer> layers;
  bool at_low = true;
  size_t size = 0;
  auto add = [&](size_t out, size_t scratch, bool may_overlap) {
    Layer l{size, out, scratch, at_low, true};
    l.out_low = size == 0 || (may_overlap && at_low) ? true : !at_low;
    layers.push_back(l);
    at_low = l.out_low;
    size = out;
  };
  // A block's ring and band buffers, for one thread.
  auto scratch_of = [](const InvertedResidualPlan& b) {
    const ConvGeometry& g = b.depthwise.g;
    return AlignToLine<float>(b.ring_rows * InRowFloats(g)) + BandRoom(b) +
           AlignToLine<float>(b.band_rows * OutRowFloats(g));
  };
  const int threads = workers_->size();
  scratch_stride_ = 0;
  columns_stride_ = 0;
  for (const InvertedResidualPlan& b : blocks_) {
    scratch_stride_ = std::max(scratch_stride_, scratch_of(b));
    if (b.project_skips_zeros) {  // RunBlock's largest call
      const ConvGeometry& g = b.project.g;
      columns_stride_ = std::max(columns_stride_, kernels::GemmSkippingZerosColumns(b.band_rows * g.in_w, g.in_c));
    }
  }
  columns_.resize(columns_stride_ * threads);
  if (!stem_fused_) add(OutputFloats(net.stem.g), 0, false);
  for (const InvertedResidualPlan& b : blocks_) {
    const size_t scratch = scratch_of(b);
    // Threads other than the first use copies at scratch_stride_ apart; while they run, another
    // thread's rows of the input may still be unread, so nothing is written over it.
    add(OutputFloats(b.project.g), scratch + (threads - 1) * scratch_stride_, threads == 1 && OutputMayOverlapInput(b));
  }
  if (net.has_head) add(OutputFloats(net.head.g), 0, false);

  size_t arena = 0;
  for (const Layer& l : layers) {
    const size_t low = std::max(l.in_low ? l.in : 0, l.out_low ? l.out : 0);
    const size_t high = std::max(l.in_low ? 0 : l.in, l.out_low ? 0 : l.out);
    arena = std::max(arena, AlignToLine<float>(low) + l.scratch + high);
  }
  auto offset = [&](bool low, size_t n) { return low ? 0 : arena - n; };
  size_t k = 0;
  if (!stem_fused_) {
    stem_offset_ = offset(layers[k].out_low, layers[k].out);
    ++k;
  }
  for (InvertedResidualPlan& b : blocks_) {
    const Layer& l = layers[k++];
    b.in_offset = offset(l.in_low, l.in);
    b.out_offset = offset(l.out_low, l.out);
    b.ring_offset = AlignToLine<float>(std::max(l.in_low ? l.in : 0, l.out_low ? l.out : 0));
    b.band_offset = b.ring_offset + AlignToLine<float>(b.ring_rows * InRowFloats(b.depthwise.g)) + BandRoom(b);
  }
  head_in_offset_ = blocks_.back().out_offset;
  const model::ConvGeometry& pooled = net.pooled_geometry();
  pooled_offset_ = net.has_head ? offset(layers[k].out_low, layers[k].out) : head_in_offset_;
  pooled_pixels_ = pooled.out_h * pooled.out_w;
  arena_.resize(arena);
}

void Engine::PlanSegmentation(const model::Network& net) {
  const model::SegmentationHead& s = net.segmentation;
  SegmentationPlan& p = seg_;
  task_ = model::Task::kSegmentation;
  p.layout = LayOutSegmentation(net, 0, AlignToLine<float>(1));
  if (s.image_pooling) {
    p.pool_conv = PlanPointwise(s.pool_conv.g, s.pool_conv.activation, WeightsOf(s.pool_conv), s.pool_conv.bias);
    p.map_conv = PlanPointwise(s.map_conv.g, s.map_conv.activation, WeightsOf(s.map_conv), s.map_conv.bias);
  }
  for (const model::Conv2D& c : s.convs) p.convs.push_back(PlanPointwise(c.g, c.activation, WeightsOf(c), c.bias));
  head_arena_.resize(p.layout.end);
  upsample_scratch_.assign(workers_->size(), std::vector<float>(kernels::UpsampleScratch(
                                                 p.layout.height(), p.layout.width, p.layout.classes)));
}

size_t Engine::LayerByLayerActivationBytes(const model::Network& net, size_t element_bytes) {
  size_t peak = OutputFloats(net.stem.g);
  for (const model::InvertedResidual& b : net.blocks) {
    const size_t block_in = InputFloats(b.has_expand ? b.expand.g : b.depthwise.g);
    const size_t kept = b.residual ? block_in : 0;  // the residual input stays alive
    const size_t expanded = InputFloats(b.depthwise.g), filtered = OutputFloats(b.depthwise.g);
    if (b.has_expand) peak = std::max(peak, block_in + expanded);
    peak = std::max(peak, kept + expanded + filtered);
    peak = std::max(peak, kept + filtered + OutputFloats(b.project.g));
  }
  if (net.has_head) peak = std::max(peak, InputFloats(net.head.g) + OutputFloats(net.head.g));
  const model::SegmentationHead& s = net.segmentation;
  if (net.task == model::Task::kSegmentation) {
    const ConvGeometry& map = net.blocks.back().project.g;
    const size_t pixels = static_cast<size_t>(map.out_h) * map.out_w;
    if (s.image_pooling) {  // the map, the 1x1 branch, the broadcast and its concatenation
      const size_t p = pixels * s.pool_conv.g.out_c, q = pixels * s.map_conv.g.out_c;
      peak = std::max(peak, InputFloats(map) + q + p + p + q);
    }
    for (const model::Conv2D& c : s.convs) peak = std::max(peak, InputFloats(c.g) + OutputFloats(c.g));
    // The logits resized to the input size, then the classes (64-bit integers).
    const size_t input = static_cast<size_t>(net.input.height) * net.input.width;
    const size_t resized = input * s.classes();
    peak = std::max({peak, OutputFloats(s.logits_geometry()) + resized, resized + input * 8 / element_bytes});
  }
  return peak * element_bytes;
}

void Engine::SetImage(const image::Image& img, image::Fit fit) {
  const int h = input_spec_.height, w = input_spec_.width;
  if (img.width == w && img.height == h) {
    image::Normalize(img, input_spec_.scale, input_spec_.zero_point, input_.data());
  } else {
    image::Normalize(image::Resize(img, w, h, fit), input_spec_.scale, input_spec_.zero_point, input_.data());
  }
}

const float* Engine::RingRow(const InvertedResidualPlan& b, const float* in, int row, int t) const {
  const ConvGeometry& g = b.depthwise.g;
  if (row < 0 || row >= g.in_h) return nullptr;
  if (b.source == RowSource::kInput) return in + static_cast<size_t>(row) * InRowFloats(g);
  return arena_.data() + b.ring_offset + t * scratch_stride_ + static_cast<size_t>(row % b.ring_rows) * InRowFloats(g);
}

void Engine::ProduceRows(const InvertedResidualPlan& b, const float* in, int first, int last, int t) {
  const ConvGeometry& g = b.depthwise.g;
  float* ring = arena_.data() + b.ring_offset + t * scratch_stride_;
  if (b.source == RowSource::kStem) {
    const kernels::ConvShape s = ToConvShape(stem_g_);
    for (int row = first; row < last; ++row) {
      kernels::ConvDirectRow(s, input_.data(), stem_packed_.data(), row,
                             ring + static_cast<size_t>(row % b.ring_rows) * InRowFloats(g), stem_min_, stem_max_);
    }
    return;
  }
  const PointwisePlan& p = b.expand;
  for (int row = first; row < last;) {
    // Rows contiguous in the ring: up to its end.
    const int slot = row % b.ring_rows;
    const int rows = std::min(last - row, b.ring_rows - slot);
    kernels::Gemm(in + static_cast<size_t>(row) * InRowFloats(p.g), p.g.in_c, rows * p.g.in_w, p.g.in_c,
                  p.packed.data(), p.g.out_c, ring + static_cast<size_t>(slot) * InRowFloats(g), p.g.out_c,
                  p.out_min, p.out_max);
    row += rows;
  }
}

void Engine::WarmUp() const {
  const kernels::ConvShape stem = WarmUpShape(ToConvShape(stem_g_));
  const size_t widest = WarmUpWidth(stem, 0, blocks_);
  const size_t width = kWarmUpPixels * widest;
  const std::vector<float> in(width, 0.0f);
  std::vector<float> out(width);
  const float* rows[3] = {in.data(), in.data(), in.data()};
  auto gemm = [&](const PointwisePlan& p) {
    kernels::Gemm(in.data(), p.g.in_c, kWarmUpPixels, p.g.in_c, p.packed.data(), p.g.out_c, out.data(), p.g.out_c,
                  p.out_min, p.out_max);
  };
  // Ones, not zeros, for the projections that skip zero columns: zeros would skip the loop to warm.
  // (Gathering ones in place leaves ones: the buffer serves every round and block.)
  std::vector<float> ones(kernels::GemmSkippingZerosRoom(static_cast<int>(widest)) + width, 1.0f);
  std::vector<uint32_t> columns(kernels::GemmSkippingZerosColumns(kWarmUpPixels, static_cast<int>(widest)));
  auto project = [&](const InvertedResidualPlan& b) {
    const PointwisePlan& p = b.project;
    if (!b.project_skips_zeros) return gemm(p);
    kernels::GemmSkippingZeros(ones.data() + kernels::GemmSkippingZerosRoom(p.g.in_c), kWarmUpPixels, p.g.in_c,
                               p.packed.data(), p.g.out_c, out.data(), p.g.out_c, p.out_min, p.out_max,
                               columns.data());
  };
  for (int round = 0; round < kWarmUpRounds; ++round) {
    kernels::ConvDirectRow(stem, in.data(), stem_packed_.data(), 0, out.data(), stem_min_, stem_max_);
    for (const InvertedResidualPlan& b : blocks_) {
      if (!b.expand.packed.empty()) gemm(b.expand);
      const DepthwisePlan& d = b.depthwise;
      kernels::DepthwiseConv3x3Row(WarmUpShape(d.g), rows, d.weights.data(), d.bias.data(), out.data(), d.out_min,
                                   d.out_max);
      project(b);
    }
  }
}

void Engine::RunBlock(const InvertedResidualPlan& b, const float* in, float* out, Workers::Claims& rows, int t) {
  const ConvGeometry& g = b.depthwise.g;
  const kernels::DepthwiseShape ds = ToDepthwiseShape(g);
  const PointwisePlan& p = b.project;
  const size_t dw_row = OutRowFloats(g), out_row = OutRowFloats(p.g);
  float* band = arena_.data() + b.band_offset + t * scratch_stride_;
  RingWindow window;
  ForEachBand(rows, b.band_rows, [&](int oy0, int oy1) {
    if (b.source != RowSource::kInput) {
      int lo, hi, first, last;
      WindowRows(g, oy0, oy1, &lo, &hi);
      window.Need(lo, hi, rows.down(), &first, &last);
      ProduceRows(b, in, first, last, t);
    }
    for (int oy = oy0; oy < oy1; ++oy) {
      const int iy = oy * g.stride - g.pad_top;
      const int d = g.dilation;
      const float* rows[3] = {RingRow(b, in, iy, t), RingRow(b, in, iy + d, t), RingRow(b, in, iy + 2 * d, t)};
      kernels::DepthwiseConv3x3Row(ds, rows, b.depthwise.weights.data(), b.depthwise.bias.data(),
                                   band + static_cast<size_t>(oy - oy0) * dw_row, b.depthwise.out_min,
                                   b.depthwise.out_max);
    }
    float* dst = out + static_cast<size_t>(oy0) * out_row;
    const int pixels = (oy1 - oy0) * p.g.in_w;
    if (b.project_skips_zeros) {
      kernels::GemmSkippingZeros(band, pixels, p.g.in_c, p.packed.data(), p.g.out_c, dst, p.g.out_c, p.out_min,
                                 p.out_max, columns_.data() + t * columns_stride_);
    } else {
      kernels::Gemm(band, p.g.in_c, pixels, p.g.in_c, p.packed.data(), p.g.out_c, dst, p.g.out_c, p.out_min,
                    p.out_max);
    }
    if (b.residual) {
      kernels::Add(dst, in + static_cast<size_t>(oy0) * out_row, static_cast<size_t>(oy1 - oy0) * out_row, dst,
                   -kInf, kInf);
    }
  });
}

void Engine::RunShare(int t) {
  float* arena = arena_.data();
  int begin, end;
  if (!stem_fused_) {
    workers_->Share(stem_g_.out_h, t, &begin, &end);
    kernels::ConvDirect(ToConvShape(stem_g_), input_.data(), stem_packed_.data(), arena + stem_offset_, begin, end,
                        stem_min_, stem_max_);
    workers_->Sync();
  }
  for (const InvertedResidualPlan& b : blocks_) {
    Workers::Claims rows(*workers_, b.depthwise.g.out_h, b.band_rows, t);
    RunBlock(b, arena + b.in_offset, arena + b.out_offset, rows, t);
    workers_->Sync();
  }
  if (task_ == model::Task::kSegmentation) return RunSegmentationShare(t);
  const PointwisePlan& h = head_;
  if (h.packed.empty()) return;  // no head: the last block's output is pooled
  workers_->Share(h.g.in_h * h.g.in_w, t, &begin, &end);
  const size_t in_row = static_cast<size_t>(h.g.in_c), out_row = static_cast<size_t>(h.g.out_c);
  kernels::Gemm(arena + head_in_offset_ + begin * in_row, h.g.in_c, end - begin, h.g.in_c, h.packed.data(),
                h.g.out_c, arena + pooled_offset_ + begin * out_row, h.g.out_c, h.out_min, h.out_max);
}

void Engine::RunSegmentationShare(int t) {
  const SegmentationPlan& p = seg_;
  auto gemm = [](const PointwisePlan& c, const float* in, int rows, float* out, size_t out_stride) {
    kernels::Gemm(in, c.g.in_c, rows, c.g.in_c, c.packed.data(), c.g.out_c, out, out_stride, c.out_min, c.out_max);
  };
  ShareSegmentationHead(
      p.layout, head_arena_.data(), arena_.data() + blocks_.back().out_offset, *workers_, t,
      [&](const float* map, float* pooled, float* vector) {
        OutOfLine(&kernels::GlobalAveragePool)(map, static_cast<size_t>(p.layout.pixels), p.layout.map_channels,
                                               pooled);
        gemm(p.pool_conv, pooled, 1, vector, p.pool_conv.g.out_c);
      },
      [&](const float* in, int rows, float* out, size_t stride) { gemm(p.map_conv, in, rows, out, stride); },
      [&](size_t i, const float* in, int rows, float* out) { gemm(p.convs[i], in, rows, out, p.convs[i].g.out_c); });
}

void Engine::Segment(const std::vector<kernels::ResizeTap>& ys, const std::vector<kernels::ResizeTap>& xs,
                     uint8_t* mask) {
  const SegmentationLayout& l = seg_.layout;
  const int cols = static_cast<int>(xs.size());
  ShareMaskRows(*workers_, static_cast<int>(ys.size()), [&](int begin, int end, int t) {
    kernels::UpsampleArgmax(head_arena_.data() + l.logits_offset, l.height(), l.width, l.classes, ys.data(), xs.data(),
                            cols, begin, end, upsample_scratch_[t].data(), mask, cols);
  });
}

void Engine::Run() {
  workers_->Run([this](int t) { RunShare(t); });
  if (task_ == model::Task::kSegmentation) return;
  OutOfLine(&kernels::GlobalAveragePool)(arena_.data() + pooled_offset_, static_cast<size_t>(pooled_pixels_),
                                         feature_size(), features_.data());
  classifier_.Run(features_.data(), logits_.data(), scores_.data());
}

std::vector<Prediction> TopScores(const float* scores, const float* logits, size_t n, int k, int first) {
  auto better = [](const Prediction& a, const Prediction& b) {
    if (a.score != b.score) return a.score > b.score;
    if (a.logit != b.logit) return a.logit > b.logit;
    return a.index < b.index;
  };
  // Insertion into a sorted list of at most k: k is usually a handful (at most the classes: well
  // under a million comparisons), and the code is far smaller in the WebAssembly module than
  // std::partial_sort's.
  const size_t keep = static_cast<size_t>(std::max(0, k));
  std::vector<Prediction> top;
  for (size_t i = static_cast<size_t>(std::max(0, first)); i < n && keep > 0; ++i) {
    const Prediction p{static_cast<int>(i), scores[i], logits[i]};
    if (top.size() == keep && !better(p, top.back())) continue;
    if (top.size() == keep) top.pop_back();
    size_t at = top.size();
    while (at > 0 && better(p, top[at - 1])) --at;
    top.insert(top.begin() + static_cast<std::ptrdiff_t>(at), p);
  }
  return top;
}

}  // namespace engine
}  // namespace mnv2
