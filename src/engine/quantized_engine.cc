#include "engine/quantized_engine.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>
#include <utility>

#include "common/numbers.h"
#include "common/out_of_line.h"
#include "engine/bands.h"
#include "engine/shapes.h"
#include "engine/warm_up.h"

namespace mnv2 {
namespace engine {
namespace {

using model::ConvGeometry;
using model::LayerQuantization;
using model::QuantParams;

// The largest expansion a block holds whole when several threads share it (MobileNetV2
// 1.0/224: the blocks from 28x28 on, 150 KB at most).
constexpr size_t kMaxExpandedBytes = 160 * 1024;

Status Unsupported(const std::string& message) {
  return Status(ErrorCode::kUnsupportedModel, "the integer path cannot run this model: " + message);
}

size_t RowBytes(int w, int c) { return static_cast<size_t>(w) * c; }

// Zero points on the uint8 carrier: an int8 tensor is carried as value + 128.
int32_t CarrierZeroPoint(const QuantParams& q) { return q.zero_point + (q.is_signed ? 128 : 0); }

kernels::QOutput OutputStage(const QuantParams& q, model::Activation activation) {
  float lo, hi;
  model::ActivationRange(activation, &lo, &hi);
  return kernels::QuantizedActivationRange(q.scale, CarrierZeroPoint(q), lo, hi);
}

// A layer's stored weights minus their channels' zero points, as int16, in the file's layout
// (channels_last: depthwise).
std::vector<int16_t> CenteredWeights(const LayerQuantization& q, bool channels_last) {
  std::vector<int16_t> w(q.weights.size());
  model::ForEachChannelRun(q, channels_last, 0, w.size(), [&](size_t c, size_t i, size_t n) {
    const int32_t zero_point = q.weight_zero_points[c];
    for (size_t j = i; j < i + n; ++j) w[j] = static_cast<int16_t>(model::StoredWeight(q, j) - zero_point);
  });
  return w;
}

// TFLite's output multipliers. uint8 layers (and per-tensor FULLY_CONNECTED) take the legacy
// GetQuantizedConvolutionMultipler, whose scale product is a float; int8 convolutions take
// PopulateConvolutionQuantizationParams, one multiplier per channel from double products.
std::vector<kernels::QuantizedMultiplier> Multipliers(const LayerQuantization& q, int channels, bool fully_connected) {
  std::vector<kernels::QuantizedMultiplier> m(channels);
  const bool legacy = !q.input.is_signed || (fully_connected && q.weight_scales.size() == 1);
  for (int c = 0; c < channels; ++c) {
    const float w_scale = q.weight_scales[q.weight_scales.size() > 1 ? c : 0];
    const double real = legacy ? static_cast<double>(q.input.scale * w_scale) / static_cast<double>(q.output.scale)
                               : static_cast<double>(q.input.scale) * static_cast<double>(w_scale) /
                                     static_cast<double>(q.output.scale);
    m[c] = kernels::QuantizeMultiplier(real);
  }
  return m;
}

// The int32 sums hold bias - zero point * sum(w) + sum(x * w), with x and the zero point in
// 0..255 and |w| <= 255: a file's bias near the int32 limits would overflow them.
Status CheckAccumulator(const LayerQuantization& q, int64_t taps, const std::string& name) {
  int64_t max_bias = 0;
  for (int32_t b : q.bias) max_bias = std::max<int64_t>(max_bias, b < 0 ? -int64_t{b} : b);
  if (max_bias + 2 * 255 * 255 * taps >= (int64_t{1} << 31)) {
    return Unsupported(name + " has a bias of " + std::to_string(max_bias) + ", which could overflow its int32 sums");
  }
  return Status::Ok();
}

// Packs a convolution [out_c][kh][kw][in_c] (or FC [out_c][in_c]) as a GEMM of depth
// QIm2ColDepth (kh * kw * in_c rounded up to 8 for KxK kernels).
Result<QPointwisePlan> PlanGemm(const ConvGeometry& g, const LayerQuantization& q, model::Activation activation,
                                bool fully_connected, const std::string& name) {
  QPointwisePlan p;
  p.g = g;
  const int taps = g.kernel_h * g.kernel_w * g.in_c;
  p.depth = g.kernel_h == 1 && g.kernel_w == 1 ? g.in_c : kernels::QIm2ColDepth(ToConvShape(g));
  if (static_cast<int64_t>(p.depth) * 255 * 255 >= (int64_t{1} << 31)) {
    return Unsupported(name + " sums " + std::to_string(p.depth) + " products, more than int32 holds");
  }
  if (q.weights.size() != static_cast<size_t>(taps) * g.out_c) return Unsupported(name + " has no integer weights");
  MNV2_RETURN_IF_ERROR(CheckAccumulator(q, p.depth, name));
  const std::vector<int16_t> w = CenteredWeights(q, false);
  std::vector<int16_t> padded;
  const int16_t* weights = w.data();
  if (p.depth != taps) {
    padded.assign(static_cast<size_t>(p.depth) * g.out_c, 0);
    for (int o = 0; o < g.out_c; ++o) std::copy_n(w.data() + static_cast<size_t>(o) * taps, taps, &padded[static_cast<size_t>(o) * p.depth]);
    weights = padded.data();
  }
  const std::vector<kernels::QuantizedMultiplier> m = Multipliers(q, g.out_c, fully_connected);
  p.packed.resize(kernels::PackedQGemmBytes(p.depth, g.out_c));
  OutOfLine(&kernels::PackQGemm)(weights, q.bias.data(), m.data(), p.depth, g.out_c, CarrierZeroPoint(q.input),
                                 OutputStage(q.output, activation), p.packed.data());
  return p;
}

Result<QDepthwisePlan> PlanDepthwise(const model::DepthwiseConv2D& dw) {
  QDepthwisePlan p;
  p.g = dw.g;
  const int C = dw.g.in_c;
  if (dw.q.weights.size() != static_cast<size_t>(9) * C) return Unsupported(dw.name + " has no integer weights");
  MNV2_RETURN_IF_ERROR(CheckAccumulator(dw.q, 9, dw.name));
  const std::vector<int16_t> w = CenteredWeights(dw.q, true);
  const std::vector<kernels::QuantizedMultiplier> m = Multipliers(dw.q, C, false);
  p.packed.resize(kernels::PackedQDepthwiseBytes(C));
  kernels::PackQDepthwise(w.data(), dw.q.bias.data(), m.data(), C, CarrierZeroPoint(dw.q.input),
                          OutputStage(dw.q.output, dw.activation), p.packed.data());
  return p;
}

// QUANTIZE ops from `from` through each of `to`, the identities dropped.
std::vector<kernels::QRequantParams> RequantizeChain(QuantParams from, const std::vector<QuantParams>& to) {
  std::vector<kernels::QRequantParams> chain;
  for (const QuantParams& q : to) {
    const kernels::QRequantParams p =
        kernels::PrepareQRequant(from.scale, CarrierZeroPoint(from), q.scale, CarrierZeroPoint(q));
    if (!kernels::IsIdentity(p)) chain.push_back(p);
    from = q;
  }
  return chain;
}

}  // namespace

Result<std::unique_ptr<QuantizedEngine>> QuantizedEngine::Create(const model::Network& net, int threads) {
  if (!net.quant.available) {
    return Unsupported(net.quant.unavailable_reason.empty() ? "it is not quantized" : net.quant.unavailable_reason);
  }
  if (!net.hidden.empty()) return Unsupported("it has hidden dense layers");
  std::unique_ptr<QuantizedEngine> e(new QuantizedEngine());
  e->input_spec_ = net.input;
  const model::QuantizedGraph& qg = net.quant;
  e->input_requantize_ = RequantizeChain(qg.input, qg.input_requantize);

  e->stem_shape_ = ToConvShape(net.stem.g);
  Result<QPointwisePlan> stem = PlanGemm(net.stem.g, net.stem.q, net.stem.activation, false, "the stem");
  if (!stem.ok()) return stem.status();
  e->stem_ = std::move(*stem);
  e->stem_pad_ = static_cast<uint8_t>(CarrierZeroPoint(net.stem.q.input));
  // Block 0 reads stem rows from its ring unless it needs the whole stem output (a residual).
  e->stem_fused_ = !net.blocks.front().has_expand && !net.blocks.front().residual;

  int expanded_blocks = 0;
  for (size_t i = 0; i < net.blocks.size(); ++i) {
    const model::InvertedResidual& b = net.blocks[i];
    QInvertedResidualPlan plan;
    plan.source = b.has_expand                ? RowSource::kExpand
                  : i == 0 && e->stem_fused_ ? RowSource::kStem
                                             : RowSource::kInput;
    if (b.has_expand) {
      Result<QPointwisePlan> expand = PlanGemm(b.expand.g, b.expand.q, b.expand.activation, false, b.expand.name);
      if (!expand.ok()) return expand.status();
      plan.expand = std::move(*expand);
    }
    Result<QDepthwisePlan> dw = OutOfLine(&PlanDepthwise)(b.depthwise);
    if (!dw.ok()) return dw.status();
    plan.depthwise = std::move(*dw);
    Result<QPointwisePlan> project = PlanGemm(b.project.g, b.project.q, b.project.activation, false, b.project.name);
    if (!project.ok()) return project.status();
    plan.project = std::move(*project);
    plan.residual = b.residual;
    if (b.residual) {
      // The ADD reads the projection and the block input (the expansion's or depthwise's input).
      const QuantParams& x = b.project.q.output;
      const QuantParams& y = b.has_expand ? b.expand.q.input : b.depthwise.q.input;
      plan.add = kernels::PrepareQAdd(x.scale, CarrierZeroPoint(x), y.scale, CarrierZeroPoint(y), b.add_output.scale,
                                      OutputStage(b.add_output, model::Activation::kNone));
    }
    const ConvGeometry& g = b.depthwise.g;
    // Shared by several threads, a small block's ring would expand each thread's window rows
    // twice (a third of the expansion at 7x7); its whole expansion is cheaper to hold.
    if (plan.source == RowSource::kExpand && threads > 1 && RowBytes(g.in_w, g.in_c) * g.in_h <= kMaxExpandedBytes) {
      plan.source = RowSource::kExpanded;
      plan.expanded_slot = expanded_blocks++ % 2;
    }
    plan.band_rows = BandRows(g);
    if (plan.source == RowSource::kExpand || plan.source == RowSource::kStem) {
      plan.ring_rows = RingRows(g, plan.band_rows);
    }
    e->blocks_.push_back(std::move(plan));
    if (e->blocks_.size() == kWarmUpBlocks) e->WarmUp();
  }
  if (net.has_head) {
    Result<QPointwisePlan> head = PlanGemm(net.head.g, net.head.q, net.head.activation, false, "the head");
    if (!head.ok()) return head.status();
    e->head_ = std::move(*head);
  }

  // The pooled map: the head's output, or (MobileNetV1) the last block's.
  const ConvGeometry& pooled = net.pooled_geometry();
  const size_t pixels = static_cast<size_t>(pooled.out_h) * pooled.out_w;
  if (net.task == model::Task::kClassification) {
    e->pooled_pixels_ = static_cast<int>(pixels);
    const QuantParams& map = net.has_head ? net.head.q.output : net.blocks.back().project.q.output;
    if (qg.pool_is_mean) {
      e->pool_ = kernels::PrepareQMean(map.scale, CarrierZeroPoint(map), qg.pool_output.scale,
                                       CarrierZeroPoint(qg.pool_output), map.is_signed, pixels);
    } else {
      e->pool_ = kernels::PrepareQAveragePool(map.is_signed, kernels::QOutput());
    }
    e->feature_scale_ = qg.pool_output.scale;
    e->feature_zero_point_ = CarrierZeroPoint(qg.pool_output);
    if (qg.float_classifier) {
      e->float_classifier_ = std::make_unique<FloatClassifier>(net);
    } else {
      MNV2_RETURN_IF_ERROR(e->PlanClassifier(net));
    }
  }

  // Memory: the running activations, then for each thread the scratch of the largest block and
  // the stem's im2col rows, then the head and classifier outputs, the requantized input, and with
  // threads the whole expansions (two alternating buffers). The activations take turns at the two
  // ends of one region: each block reads its input at one end and writes its output at the other
  // (the stem's output, unless fused, at the low end), so the region is the largest input plus
  // output of one block.
  const size_t stem_bytes =
      e->stem_fused_ ? 0 : AlignToLine<uint8_t>(RowBytes(net.stem.g.out_w, net.stem.g.out_c) * net.stem.g.out_h);
  // One thread may write a block's output over its own input where it is read no more (bands.h).
  const bool one_thread = Workers::Clamp(threads) == 1;
  size_t activations = stem_bytes, ring = 0, band = 0, expanded = 0;
  size_t in = stem_bytes;      // the running activation's bytes
  bool low = !e->stem_fused_;  // and whether at the low end (a fused stem writes nothing there)
  for (QInvertedResidualPlan& b : e->blocks_) {
    const ConvGeometry& g = b.depthwise.g;
    const ConvGeometry& x = b.source == RowSource::kExpand ? b.expand.g : g;  // what the block reads
    const size_t out = AlignToLine<uint8_t>(RowBytes(b.project.g.out_w, b.project.g.out_c) * b.project.g.out_h);
    const bool in_place = one_thread && low && in > 0 && !b.residual &&
                          (b.source == RowSource::kInput || b.source == RowSource::kExpand) &&
                          OutputMayOverlapInput(g, RowBytes(x.in_w, x.in_c), RowBytes(b.project.g.out_w, b.project.g.out_c),
                                                b.band_rows, b.source == RowSource::kExpand);
    low = in_place || !low;
    activations = std::max(activations, in_place ? std::max(in, out) : in + out);
    in = out;
    b.out_offset = low ? 0 : out;  // for now: the bytes to place at the high end
    ring = std::max(ring, static_cast<size_t>(b.ring_rows) * RowBytes(g.in_w, g.in_c));
    if (b.source == RowSource::kExpanded) expanded = std::max(expanded, RowBytes(g.in_w, g.in_c) * g.in_h);
    band = std::max(band, static_cast<size_t>(b.band_rows) * RowBytes(g.out_w, g.out_c));
  }
  const size_t input_bytes = RowBytes(net.input.width, 3) * net.input.height;
  size_t previous = 0;  // where the last activation was written: the stem's output at 0
  for (QInvertedResidualPlan& b : e->blocks_) {
    b.in_offset = previous;
    if (b.out_offset != 0) b.out_offset = activations - b.out_offset;
    previous = b.out_offset;
  }
  e->ring_offset_ = activations;
  e->band_offset_ = e->ring_offset_ + AlignToLine<uint8_t>(ring);
  e->im2col_offset_ = e->band_offset_ + AlignToLine<uint8_t>(band);
  e->scratch_stride_ =
      e->im2col_offset_ + AlignToLine<uint8_t>(static_cast<size_t>(net.stem.g.out_w) * e->stem_.depth) - e->ring_offset_;
  e->workers_ = std::make_unique<Workers>(threads);
  e->head_offset_ = e->ring_offset_ + e->scratch_stride_ * e->workers_->size();
  // Without a head the last block's output is pooled where it is.
  e->map_offset_ = net.has_head ? e->head_offset_ : e->blocks_.back().out_offset;
  const size_t features = static_cast<size_t>(net.feature_size());
  e->pooled_offset_ = e->head_offset_ + (net.has_head ? AlignToLine<uint8_t>(pixels * features) : 0);
  e->logits_offset_ = e->pooled_offset_ + AlignToLine<uint8_t>(features);
  e->requant_offset_ = e->logits_offset_ + AlignToLine<uint8_t>(net.classifier.classes);
  e->expanded_offset_ = e->requant_offset_ + (e->input_requantize_.empty() ? 0 : AlignToLine<uint8_t>(input_bytes));
  e->expanded_bytes_ = AlignToLine<uint8_t>(expanded);
  e->arena_.resize(e->expanded_offset_ + e->expanded_bytes_ * std::min(expanded_blocks, 2));
  if (net.task == model::Task::kSegmentation) MNV2_RETURN_IF_ERROR(e->PlanSegmentation(net, e->arena_.size()));

  e->input_.resize(input_bytes);
  e->scores_.resize(net.classifier.classes);
  e->logits_.resize(net.classifier.classes);
  e->features_.resize(features);
  return e;
}

// The quantized classifier, [its softmax,] and the QUANTIZE ops at the end.
Status QuantizedEngine::PlanClassifier(const model::Network& net) {
  const model::QuantizedGraph& qg = net.quant;
  ConvGeometry cg;
  cg.in_h = cg.in_w = cg.out_h = cg.out_w = 1;
  cg.in_c = net.classifier.features;
  cg.out_c = net.classifier.classes;
  Result<QPointwisePlan> classifier = PlanGemm(cg, net.classifier.q, net.classifier.activation, true, "the classifier");
  if (!classifier.ok()) return classifier.status();
  classifier_ = std::move(*classifier);

  QuantParams last = net.classifier.q.output;
  softmax_ = net.softmax;
  if (net.softmax) {
    const QuantParams& out = qg.softmax_output;
    if (out.scale != 1.0f / 256 || CarrierZeroPoint(out) != 0) {
      return Unsupported("the SOFTMAX output has scale " + FormatNumber(out.scale) + " and zero point " +
                         std::to_string(out.zero_point) + " (TFLite requires 1/256 and the type's minimum)");
    }
    if (!(static_cast<double>(net.softmax_beta) * qg.softmax_input.scale * (1 << 26) > 1.0)) {
      return Unsupported("the SOFTMAX input scale is too small");
    }
    softmax_params_ = kernels::PrepareQSoftmax(net.softmax_beta, qg.softmax_input.scale);
    logits_scale_ = qg.softmax_input.scale;
    logits_zero_point_ = CarrierZeroPoint(qg.softmax_input);
    last = out;
  }
  output_requantize_ = RequantizeChain(last, qg.output_requantize);
  const QuantParams& final_q = qg.output_requantize.empty() ? last : qg.output_requantize.back();
  output_scale_ = final_q.scale;
  output_zero_point_ = CarrierZeroPoint(final_q);
  output_.resize(net.classifier.classes);
  return Status::Ok();
}

// The head of a segmentation network, its buffers placed from `offset` on in the arena.
Status QuantizedEngine::PlanSegmentation(const model::Network& net, size_t offset) {
  const model::SegmentationHead& s = net.segmentation;
  QSegmentationPlan& p = seg_;
  task_ = model::Task::kSegmentation;
  p.layout = LayOutSegmentation(net, offset, 64);
  if (s.image_pooling) {
    const model::InvertedResidual& last = net.blocks.back();
    p.pool = kernels::PrepareQAveragePool((last.residual ? last.add_output : last.project.q.output).is_signed,
                                          kernels::QOutput());
    Result<QPointwisePlan> pool_conv =
        PlanGemm(s.pool_conv.g, s.pool_conv.q, s.pool_conv.activation, false, "the image-pooling branch");
    if (!pool_conv.ok()) return pool_conv.status();
    p.pool_conv = std::move(*pool_conv);
    Result<QPointwisePlan> map_conv =
        PlanGemm(s.map_conv.g, s.map_conv.q, s.map_conv.activation, false, "the 1x1 branch");
    if (!map_conv.ok()) return map_conv.status();
    p.map_conv = std::move(*map_conv);
    std::vector<QuantParams> to = s.pool_requantize;
    to.push_back(s.concat);
    p.pool_requantize = RequantizeChain(s.pool_conv.q.output, to);
    p.map_requantize = RequantizeChain(s.map_conv.q.output, {s.concat});
  }
  for (size_t i = 0; i < s.convs.size(); ++i) {
    const model::Conv2D& c = s.convs[i];
    Result<QPointwisePlan> conv =
        PlanGemm(c.g, c.q, c.activation, false, "the segmentation head's convolution " + std::to_string(i + 1));
    if (!conv.ok()) return conv.status();
    p.convs.push_back(std::move(*conv));
  }
  arena_.resize(p.layout.end);
  upsample_scratch_.assign(workers_->size(), std::vector<int32_t>(kernels::UpsampleScratch(
                                                 p.layout.height(), p.layout.width, p.layout.classes)));
  return Status::Ok();
}

void QuantizedEngine::SetImage(const image::Image& img, image::Fit fit) {
  const int h = input_spec_.height, w = input_spec_.width;
  if (img.width == w && img.height == h && img.rgb.size() == input_.size()) {
    std::copy(img.rgb.begin(), img.rgb.end(), input_.begin());
    return;
  }
  const image::Image resized = image::Resize(img, w, h, fit);
  if (resized.rgb.size() == input_.size()) std::copy(resized.rgb.begin(), resized.rgb.end(), input_.begin());
}

void QuantizedEngine::WarmUp() const {
  const kernels::ConvShape stem = WarmUpShape(stem_shape_);
  const size_t width = kWarmUpPixels * WarmUpWidth(stem, stem_.depth, blocks_);
  const std::vector<uint8_t> in(width, 0);
  std::vector<uint8_t> out(width);
  const uint8_t* rows[3] = {in.data(), in.data(), in.data()};
  auto gemm = [&](const QPointwisePlan& p, int m) {
    kernels::QGemm(in.data(), p.depth, m, p.depth, p.packed.data(), p.g.out_c, out.data(), p.g.out_c);
  };
  for (int round = 0; round < kWarmUpRounds; ++round) {
    kernels::QIm2ColRow(stem, in.data(), 0, stem_pad_, out.data());
    gemm(stem_, stem.out_w);
    for (const QInvertedResidualPlan& b : blocks_) {
      if (!b.expand.packed.empty()) gemm(b.expand, kWarmUpPixels);
      kernels::QDepthwiseConv3x3Row(WarmUpShape(b.depthwise.g), rows, b.depthwise.packed.data(), out.data());
      gemm(b.project, kWarmUpPixels);
    }
  }
}

// One stem output row: its im2col rows, then the GEMM.
void QuantizedEngine::StemRow(int row, uint8_t* out, int t) {
  const uint8_t* image = input_requantize_.empty() ? input_.data() : arena_.data() + requant_offset_;
  uint8_t* cols = arena_.data() + im2col_offset_ + t * scratch_stride_;
  kernels::QIm2ColRow(stem_shape_, image, row, stem_pad_, cols);
  kernels::QGemm(cols, stem_.depth, stem_.g.out_w, stem_.depth, stem_.packed.data(), stem_.g.out_c, out,
                 stem_.g.out_c);
}

const uint8_t* QuantizedEngine::RingRow(const QInvertedResidualPlan& b, const uint8_t* in, int row, int t) const {
  const ConvGeometry& g = b.depthwise.g;
  if (row < 0 || row >= g.in_h) return nullptr;
  if (b.source == RowSource::kInput) return in + static_cast<size_t>(row) * RowBytes(g.in_w, g.in_c);
  if (b.source == RowSource::kExpanded) {
    return arena_.data() + ExpandedOffset(b) + static_cast<size_t>(row) * RowBytes(g.in_w, g.in_c);
  }
  return arena_.data() + ring_offset_ + t * scratch_stride_ +
         static_cast<size_t>(row % b.ring_rows) * RowBytes(g.in_w, g.in_c);
}

void QuantizedEngine::ProduceRows(const QInvertedResidualPlan& b, const uint8_t* in, int first, int last, int t) {
  const ConvGeometry& g = b.depthwise.g;
  uint8_t* ring = arena_.data() + ring_offset_ + t * scratch_stride_;
  const size_t row_bytes = RowBytes(g.in_w, g.in_c);
  if (b.source == RowSource::kStem) {
    for (int row = first; row < last; ++row) StemRow(row, ring + static_cast<size_t>(row % b.ring_rows) * row_bytes, t);
    return;
  }
  const QPointwisePlan& p = b.expand;
  for (int row = first; row < last;) {
    // Rows contiguous in the ring: up to its end.
    const int slot = row % b.ring_rows;
    const int rows = std::min(last - row, b.ring_rows - slot);
    kernels::QGemm(in + static_cast<size_t>(row) * RowBytes(p.g.in_w, p.g.in_c), p.g.in_c, rows * p.g.in_w, p.g.in_c,
                   p.packed.data(), p.g.out_c, ring + static_cast<size_t>(slot) * row_bytes, p.g.out_c);
    row += rows;
  }
}

void QuantizedEngine::RunBlock(const QInvertedResidualPlan& b, const uint8_t* in, uint8_t* out,
                               Workers::Claims& rows, int t) {
  const ConvGeometry& g = b.depthwise.g;
  const kernels::DepthwiseShape ds = ToDepthwiseShape(g);
  const QPointwisePlan& p = b.project;
  const size_t dw_row = RowBytes(g.out_w, g.out_c), out_row = RowBytes(p.g.out_w, p.g.out_c);
  uint8_t* band = arena_.data() + band_offset_ + t * scratch_stride_;
  RingWindow window;
  ForEachBand(rows, b.band_rows, [&](int oy0, int oy1) {
    if (b.source == RowSource::kExpand || b.source == RowSource::kStem) {
      int lo, hi, first, last;
      WindowRows(g, oy0, oy1, &lo, &hi);
      window.Need(lo, hi, rows.down(), &first, &last);
      ProduceRows(b, in, first, last, t);
    }
    for (int oy = oy0; oy < oy1; ++oy) {
      const int iy = oy * g.stride - g.pad_top;
      const int d = g.dilation;
      const uint8_t* rows[3] = {RingRow(b, in, iy, t), RingRow(b, in, iy + d, t), RingRow(b, in, iy + 2 * d, t)};
      kernels::QDepthwiseConv3x3Row(ds, rows, b.depthwise.packed.data(), band + static_cast<size_t>(oy - oy0) * dw_row);
    }
    uint8_t* dst = out + static_cast<size_t>(oy0) * out_row;
    kernels::QGemm(band, p.g.in_c, (oy1 - oy0) * p.g.in_w, p.g.in_c, p.packed.data(), p.g.out_c, dst, p.g.out_c);
    if (b.residual) {
      kernels::QAdd(dst, in + static_cast<size_t>(oy0) * out_row, static_cast<size_t>(oy1 - oy0) * out_row, b.add,
                    dst);
    }
  });
}

size_t QuantizedEngine::ExpandedOffset(const QInvertedResidualPlan& b) const {
  return expanded_offset_ + static_cast<size_t>(b.expanded_slot) * expanded_bytes_;
}

void QuantizedEngine::ExpandWhole(const QInvertedResidualPlan& b, const uint8_t* in, int first_pixel, int pixels) {
  if (pixels <= 0) return;
  const QPointwisePlan& x = b.expand;
  kernels::QGemm(in + static_cast<size_t>(first_pixel) * x.g.in_c, x.g.in_c, pixels, x.g.in_c, x.packed.data(),
                 x.g.out_c, arena_.data() + ExpandedOffset(b) + static_cast<size_t>(first_pixel) * x.g.out_c, x.g.out_c);
}

void QuantizedEngine::RunShare(int t) {
  uint8_t* arena = arena_.data();
  int begin, end;
  bool expanded_ahead = false;  // the block's whole expansion was done with the block before
  if (!stem_fused_) {
    const size_t row = RowBytes(stem_.g.out_w, stem_.g.out_c);
    workers_->Share(stem_.g.out_h, t, &begin, &end);
    for (int oy = begin; oy < end; ++oy) StemRow(oy, arena + static_cast<size_t>(oy) * row, t);
    workers_->Sync();
  }
  for (size_t i = 0; i < blocks_.size(); ++i) {
    const QInvertedResidualPlan& b = blocks_[i];
    uint8_t* in = arena + b.in_offset;
    uint8_t* out = arena + b.out_offset;
    if (b.source == RowSource::kExpanded && !expanded_ahead) {
      // The whole expansion first, its pixels shared evenly.
      workers_->Share(b.expand.g.in_h * b.expand.g.in_w, t, &begin, &end);
      ExpandWhole(b, in, begin, end - begin);
      workers_->Sync();
    }
    Workers::Claims rows(*workers_, b.depthwise.g.out_h, b.band_rows, t);
    RunBlock(b, in, out, rows, t);
    // A next block that expands its whole input starts before the barrier, each thread on the
    // rows it has just written (its input is this block's output), into the other expansion
    // buffer (consecutive kExpanded blocks alternate slots): this block's may still be read.
    const QInvertedResidualPlan* next = i + 1 < blocks_.size() ? &blocks_[i + 1] : nullptr;
    expanded_ahead = next != nullptr && next->source == RowSource::kExpanded;
    if (expanded_ahead) {
      ExpandWhole(*next, out, rows.first() * b.project.g.out_w, (rows.last() - rows.first()) * b.project.g.out_w);
    }
    workers_->Sync();
  }
  if (task_ == model::Task::kSegmentation) return RunSegmentationShare(t);
  const QPointwisePlan& h = head_;
  if (h.packed.empty()) return;  // no head: Run pools the last block's output (map_offset_)
  workers_->Share(h.g.in_h * h.g.in_w, t, &begin, &end);
  const size_t in_row = static_cast<size_t>(h.g.in_c), out_row = static_cast<size_t>(h.g.out_c);
  kernels::QGemm(arena + blocks_.back().out_offset + begin * in_row, h.g.in_c, end - begin, h.g.in_c, h.packed.data(),
                 h.g.out_c, arena + head_offset_ + begin * out_row, h.g.out_c);
}

void QuantizedEngine::RunSegmentationShare(int t) {
  const QSegmentationPlan& p = seg_;
  const int map_c = p.layout.map_channels;
  auto gemm = [](const QPointwisePlan& c, const uint8_t* in, int rows, uint8_t* out, size_t out_stride) {
    kernels::QGemm(in, c.g.in_c, rows, c.g.in_c, c.packed.data(), c.g.out_c, out, out_stride);
  };
  ShareSegmentationHead(
      p.layout, arena_.data(), arena_.data() + blocks_.back().out_offset, *workers_, t,
      [&](const uint8_t* map, uint8_t* pooled, uint8_t* vector) {
        OutOfLine(&kernels::QGlobalAveragePool)(map, static_cast<size_t>(p.layout.pixels), map_c, p.pool, pooled);
        gemm(p.pool_conv, pooled, 1, vector, p.pool_conv.g.out_c);
        for (const kernels::QRequantParams& r : p.pool_requantize) {
          kernels::QRequantize(vector, p.pool_conv.g.out_c, r, vector);
        }
      },
      [&](const uint8_t* in, int rows, uint8_t* out, size_t stride) {
        gemm(p.map_conv, in, rows, out, stride);
        for (const kernels::QRequantParams& r : p.map_requantize) {
          for (int i = 0; i < rows; ++i) {
            kernels::QRequantize(out + i * stride, p.map_conv.g.out_c, r, out + i * stride);
          }
        }
      },
      [&](size_t i, const uint8_t* in, int rows, uint8_t* out) {
        gemm(p.convs[i], in, rows, out, p.convs[i].g.out_c);
      });
}

void QuantizedEngine::Segment(const std::vector<kernels::ResizeTap>& ys, const std::vector<kernels::ResizeTap>& xs,
                              uint8_t* mask) {
  const SegmentationLayout& l = seg_.layout;
  const int cols = static_cast<int>(xs.size());
  ShareMaskRows(*workers_, static_cast<int>(ys.size()), [&](int begin, int end, int t) {
    kernels::QUpsampleArgmax(arena_.data() + l.logits_offset, l.height(), l.width, l.classes, ys.data(), xs.data(),
                             cols, begin, end, upsample_scratch_[t].data(), mask, cols);
  });
}

void QuantizedEngine::Run() {
  uint8_t* arena = arena_.data();
  if (!input_requantize_.empty()) {
    uint8_t* image = arena + requant_offset_;
    kernels::QRequantize(input_.data(), input_.size(), input_requantize_[0], image);
    for (size_t i = 1; i < input_requantize_.size(); ++i) {
      kernels::QRequantize(image, input_.size(), input_requantize_[i], image);
    }
  }
  workers_->Run([this](int t) { RunShare(t); });
  if (task_ == model::Task::kSegmentation) return;
  uint8_t* pooled = arena + pooled_offset_;
  uint8_t* logits = arena + logits_offset_;
  OutOfLine(&kernels::QGlobalAveragePool)(arena + map_offset_, static_cast<size_t>(pooled_pixels_), feature_size(),
                                          pool_, pooled);
  for (size_t i = 0; i < features_.size(); ++i) features_[i] = feature_scale_ * (pooled[i] - feature_zero_point_);
  if (float_classifier_) {
    float_classifier_->Run(features_.data(), logits_.data(), scores_.data());
    return;
  }
  const QPointwisePlan& c = classifier_;
  kernels::QGemm(pooled, c.g.in_c, 1, c.g.in_c, c.packed.data(), c.g.out_c, softmax_ ? logits : output_.data(),
                 c.g.out_c);
  if (softmax_) kernels::QSoftmax(logits, c.g.out_c, softmax_params_, output_.data());
  for (const kernels::QRequantParams& p : output_requantize_) {
    kernels::QRequantize(output_.data(), output_.size(), p, output_.data());
  }
  for (size_t i = 0; i < output_.size(); ++i) scores_[i] = output_scale_ * (output_[i] - output_zero_point_);
  if (softmax_) {
    for (size_t i = 0; i < logits_.size(); ++i) logits_[i] = logits_scale_ * (logits[i] - logits_zero_point_);
  } else {
    std::copy(scores_.begin(), scores_.end(), logits_.begin());
  }
}

}  // namespace engine
}  // namespace mnv2
