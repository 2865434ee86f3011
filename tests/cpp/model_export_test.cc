// model::ExportTflite: a backbone and a learned head written as a .tflite file and read back
// (the network, its quantization and the labels), the heads and networks it refuses, and the
// reader's checks of the file's metadata. The scores of exported models: api_export_test.cc.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "model/builder.h"
#include "model/flatbuffer.h"
#include "model/tflite.h"
#include "model/tflite_export.h"
#include "model_checks.h"
#include "test_data.h"
#include "tflite_writer.h"

namespace mnv2 {
namespace {

using model::DenseHead;
using model::Network;
using testing::SyntheticSpec;
using testing::WeightType;

DenseHead RandomHead(int features, int classes, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  DenseHead h{features, classes, std::vector<float>(static_cast<size_t>(features) * classes), std::vector<float>(classes)};
  for (float& w : h.weights) w = 4 * u(rng);
  for (float& b : h.bias) b = u(rng);
  return h;
}

std::vector<std::string> Labels(int classes) {
  std::vector<std::string> labels;
  for (int i = 0; i < classes; ++i) labels.push_back(i == 1 ? "" : "class " + std::to_string(i) + " \xc3\xa9t\xc3\xa9");
  return labels;
}

Network Load(const std::vector<uint8_t>& bytes, bool skip_float_weights = true) {
  model::BuildOptions options;
  options.skip_float_weights = skip_float_weights;
  Result<Network> net = model::LoadTflite(bytes.data(), bytes.size(), {}, options);
  EXPECT_TRUE(net.ok()) << net.status().ToString();
  return net.ok() ? std::move(*net) : Network();
}

std::vector<std::string> OpNames(const std::vector<uint8_t>& bytes) {
  Result<model::Graph> g = model::ReadTflite(bytes.data(), bytes.size());
  EXPECT_TRUE(g.ok()) << g.status().ToString();
  std::vector<std::string> names;
  if (g.ok()) {
    for (const model::Operator& op : g->operators) names.push_back(model::BuiltinOpName(op.code));
  }
  return names;
}

void ExpectSameQuant(const model::QuantParams& a, const model::QuantParams& b, const std::string& what) {
  EXPECT_EQ(a.scale, b.scale) << what;
  EXPECT_EQ(a.zero_point, b.zero_point) << what;
  EXPECT_EQ(a.is_signed, b.is_signed) << what;
}

using testing::ExpectSameGeometry;

// The same layer: geometry, activation, and float weights or stored integers.
template <class Layer>
void ExpectSameLayer(const Layer& a, const Layer& b, bool integer, const std::string& what) {
  ExpectSameGeometry(a.g, b.g, what);
  EXPECT_EQ(a.activation, b.activation) << what;
  if (integer) {
    EXPECT_EQ(a.q.weights, b.q.weights) << what;
    EXPECT_EQ(a.q.weights_signed, b.q.weights_signed) << what;
    EXPECT_EQ(a.q.weight_scales, b.q.weight_scales) << what;
    EXPECT_EQ(a.q.weight_zero_points, b.q.weight_zero_points) << what;
    EXPECT_EQ(a.q.bias, b.q.bias) << what;
    EXPECT_EQ(a.q.bias_scales, b.q.bias_scales) << what;
    ExpectSameQuant(a.q.input, b.q.input, what + " input");
    ExpectSameQuant(a.q.output, b.q.output, what + " output");
  } else {
    EXPECT_EQ(a.weights, b.weights) << what;
  }
  EXPECT_EQ(a.bias, b.bias) << what;  // read in full either way
}

// Exports `net` with a random head and labels, reads the file back and checks that it holds the
// same backbone, the head and the labels.
void ExpectRoundTrip(const Network& net, int classes) {
  const DenseHead head = RandomHead(net.feature_size(), classes, 7);
  const std::vector<std::string> labels = Labels(classes);
  Result<std::vector<uint8_t>> file = model::ExportTflite(net, head, labels);
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  const Network back = Load(*file);
  const bool integer = net.quant.available;

  EXPECT_EQ(back.input.height, net.input.height);
  EXPECT_EQ(back.input.width, net.input.width);
  EXPECT_EQ(back.input.scale, net.input.scale);
  EXPECT_EQ(back.input.zero_point, net.input.zero_point);
  ExpectSameLayer(back.stem, net.stem, integer, "stem");
  ASSERT_EQ(back.blocks.size(), net.blocks.size());
  for (size_t i = 0; i < net.blocks.size(); ++i) {
    const model::InvertedResidual &a = back.blocks[i], &b = net.blocks[i];
    const std::string what = "block " + std::to_string(i);
    ASSERT_EQ(a.has_expand, b.has_expand) << what;
    if (b.has_expand) ExpectSameLayer(a.expand, b.expand, integer, what + " expand");
    ExpectSameLayer(a.depthwise, b.depthwise, integer, what + " depthwise");
    ExpectSameLayer(a.project, b.project, integer, what + " project");
    ASSERT_EQ(a.residual, b.residual) << what;
    if (integer && b.residual) ExpectSameQuant(a.add_output, b.add_output, what + " add");
  }
  ASSERT_EQ(back.has_head, net.has_head);
  if (net.has_head) ExpectSameLayer(back.head, net.head, integer, "head");
  EXPECT_EQ(back.family(), net.family());
  EXPECT_EQ(back.quantized, net.quantized);

  EXPECT_TRUE(back.normalize_features);
  EXPECT_TRUE(back.hidden.empty());
  EXPECT_EQ(back.classifier.features, head.features);
  EXPECT_EQ(back.classifier.classes, head.classes);
  EXPECT_EQ(back.classifier.activation, model::Activation::kNone);
  EXPECT_EQ(back.classifier.weights, head.weights);
  EXPECT_EQ(back.classifier.bias, head.bias);
  EXPECT_TRUE(back.softmax);
  EXPECT_EQ(back.softmax_beta, 1.0f);
  EXPECT_EQ(back.labels, labels);

  EXPECT_EQ(back.quant.available, integer) << back.quant.unavailable_reason;
  if (integer) {
    EXPECT_TRUE(back.quant.float_classifier);
    ExpectSameQuant(back.quant.input, net.quant.input, "input");
    ASSERT_EQ(back.quant.input_requantize.size(), net.quant.input_requantize.size());
    for (size_t i = 0; i < net.quant.input_requantize.size(); ++i) {
      ExpectSameQuant(back.quant.input_requantize[i], net.quant.input_requantize[i], "QUANTIZE");
    }
    EXPECT_EQ(back.quant.pool_is_mean, net.quant.pool_is_mean);
    ExpectSameQuant(back.quant.pool_output, net.quant.pool_output, "pool");
    EXPECT_TRUE(back.quant.output_requantize.empty());
  }

  // The head's operators, and a float32 output of the classes.
  const std::vector<std::string> ops = OpNames(*file);
  std::vector<std::string> tail;
  if (integer && net.quant.pool_is_mean) {
    tail = {"MEAN"};
  } else {
    tail = {"AVERAGE_POOL_2D", "RESHAPE"};
  }
  if (integer) tail.push_back("DEQUANTIZE");
  for (const char* op : {"L2_NORMALIZATION", "FULLY_CONNECTED", "SOFTMAX"}) tail.push_back(op);
  ASSERT_GE(ops.size(), tail.size());
  EXPECT_EQ(std::vector<std::string>(ops.end() - tail.size(), ops.end()), tail);
  Result<model::Graph> g = model::ReadTflite(file->data(), file->size());
  ASSERT_TRUE(g.ok());
  const model::Tensor& out = g->tensors[g->outputs[0]];
  EXPECT_EQ(out.type, model::TensorType::kFloat32);
  EXPECT_EQ(out.shape, (std::vector<int32_t>{1, classes}));
}

SyntheticSpec SmallSpec(WeightType weights, bool v1) {
  SyntheticSpec spec;
  spec.v1 = v1;
  spec.alpha = v1 ? 0.25f : 0.35f;
  spec.resolution = 32;
  spec.classes = 4;
  spec.weights = weights;
  return spec;
}

TEST(ModelExport, SyntheticNetworksOfEveryWeightTypeRoundTrip) {
  for (WeightType w : {WeightType::kFloat32, WeightType::kFloat16, WeightType::kUInt8, WeightType::kInt8PerChannel}) {
    for (bool v1 : {false, true}) {
      SyntheticSpec spec = SmallSpec(w, v1);
      spec.quantize_edges = w == WeightType::kInt8PerChannel;
      spec.mean_pool = w == WeightType::kInt8PerChannel && !v1;
      spec.fc_classifier = v1;
      SCOPED_TRACE("weights " + std::to_string(static_cast<int>(w)) + (v1 ? " v1" : " v2"));
      const std::vector<uint8_t> bytes = testing::SyntheticMobileNetV2(spec);
      ExpectRoundTrip(Load(bytes), 3);
      // Read with its float weights too: the integer path still writes the stored integers.
      ExpectRoundTrip(Load(bytes, false), 1);
    }
  }
}

TEST(ModelExport, RealNetworksRoundTrip) {
  for (const char* file : {"mobilenet_v2_1.0_224_quant.tflite", "tf2_mobilenet_v2_1.0_224_ptq.tflite",
                           "mobilenet_v1_0.25_128_quant.tflite"}) {
    SCOPED_TRACE(file);
    ExpectRoundTrip(Load(testing::ReadFileOrFail(testing::SharedPath(std::string("models/") + file))), 5);
  }
}

// An exported network exports again: its backbone is what it was.
TEST(ModelExport, AnExportedNetworkExportsAgain) {
  const Network net = Load(testing::SyntheticMobileNetV2(SmallSpec(WeightType::kUInt8, false)));
  Result<std::vector<uint8_t>> once = model::ExportTflite(net, RandomHead(net.feature_size(), 3, 1), {});
  ASSERT_TRUE(once.ok()) << once.status().ToString();
  const Network exported = Load(*once);
  EXPECT_TRUE(exported.labels.empty());
  ExpectRoundTrip(exported, 2);
}

// A float network whose pixels are mapped to [0, 1] or [0, 255] (TF.js models) gets a uint8
// input and a DEQUANTIZE; [-1, 1] is a float input; other mappings are refused.
TEST(ModelExport, FloatInputMappings) {
  Network net = Load(testing::SyntheticMobileNetV2(SmallSpec(WeightType::kFloat32, false)));
  const DenseHead head = RandomHead(net.feature_size(), 2, 3);
  struct Case { float scale, zero_point; bool exportable; };
  for (const Case& c : {Case{1.0f / 127.5f, 127.5f, true}, Case{1.0f / 255, 0.0f, true}, Case{1.0f, 0.0f, true},
                        Case{1.0f / 255, 12.0f, true}, Case{1.0f / 127.5f, 127.25f, false}, Case{-1.0f, 0.0f, false},
                        Case{1.0f, 256.0f, false}}) {
    SCOPED_TRACE(std::to_string(c.scale) + " " + std::to_string(c.zero_point));
    net.input.scale = c.scale;
    net.input.zero_point = c.zero_point;
    Result<std::vector<uint8_t>> file = model::ExportTflite(net, head, {});
    if (!c.exportable) {
      ASSERT_FALSE(file.ok());
      EXPECT_EQ(file.status().code(), ErrorCode::kInvalidArgument);
      continue;
    }
    ASSERT_TRUE(file.ok()) << file.status().ToString();
    const Network back = Load(*file);
    EXPECT_EQ(back.input.scale, c.scale);
    EXPECT_EQ(back.input.zero_point, c.zero_point);
    EXPECT_EQ(back.input.quantized, c.zero_point != 127.5f);
    EXPECT_FALSE(back.quant.available);
    EXPECT_EQ(back.stem.weights, net.stem.weights);
  }
}

TEST(ModelExport, RefusesHeadsThatDoNotFit) {
  const Network net = Load(testing::SyntheticMobileNetV2(SmallSpec(WeightType::kUInt8, false)));
  const int features = net.feature_size();
  auto refused = [&](const DenseHead& head, const std::vector<std::string>& labels, const char* why) {
    Result<std::vector<uint8_t>> file = model::ExportTflite(net, head, labels);
    ASSERT_FALSE(file.ok()) << why;
    EXPECT_EQ(file.status().code(), ErrorCode::kInvalidArgument) << why;
    EXPECT_FALSE(file.status().message().empty());
  };
  const DenseHead good = RandomHead(features, 3, 1);
  ASSERT_TRUE(model::ExportTflite(net, good, Labels(3)).ok());
  refused(RandomHead(features + 1, 3, 1), {}, "features");
  refused(RandomHead(features, 0, 1), {}, "no classes");
  DenseHead h = good;
  h.weights.pop_back();
  refused(h, {}, "weights");
  h = good;
  h.bias.push_back(0);
  refused(h, {}, "bias");
  h = good;
  h.classes = 2;
  refused(h, {}, "classes");
  h = good;
  h.weights[5] = std::nanf("");
  refused(h, {}, "NaN weight");
  h = good;
  h.bias[2] = INFINITY;
  refused(h, {}, "infinite bias");
  refused(good, Labels(2), "too few labels");
  refused(good, {"a", "b\nc", "d"}, "a line break");
  refused(good, {"a", "b\r", "d"}, "a carriage return");
}

TEST(ModelExport, RefusesNetworksTFLiteCannotHoldUnderAHead) {
  const Network base = Load(testing::SyntheticMobileNetV2(SmallSpec(WeightType::kFloat32, false)));
  const DenseHead head = RandomHead(base.feature_size(), 2, 3);
  // Hidden dense layers (a Keras head) follow the pooled features: the learned head replaces them.
  Network hidden = base;
  hidden.hidden.push_back(hidden.classifier);
  Result<std::vector<uint8_t>> file = model::ExportTflite(hidden, head, {});
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  EXPECT_TRUE(Load(*file).hidden.empty());

  // A stride-2 3x3 layer padded by one row on top: Keras' ZeroPadding2D(1) + VALID, which TFLite's
  // SAME (no row on top for an even input) does not give.
  Network padded = base;
  padded.stem.g.pad_top = padded.stem.g.pad_left = 1;
  file = model::ExportTflite(padded, head, {});
  ASSERT_FALSE(file.ok());
  EXPECT_EQ(file.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(file.status().message().find("SAME"), std::string::npos) << file.status().message();

  // A network read without the float weights the float path writes.
  Network lean = base;
  lean.blocks[2].project.weights.clear();
  EXPECT_EQ(model::ExportTflite(lean, head, {}).status().code(), ErrorCode::kInvalidArgument);
}

// The builder reads L2_NORMALIZATION only in float32: after a DEQUANTIZE of the quantized features.
TEST(ModelExport, L2NormalizationOfQuantizedFeaturesIsRefused) {
  testing::GraphDef g = testing::SyntheticMobileNetV2Graph(testing::TinyUint8Spec());
  size_t pool = 0;
  while (g.ops[pool].code != model::kOpAveragePool2D) ++pool;
  testing::TensorDef normalized = g.tensors[g.ops[pool].outputs[0]];
  normalized.name = "normalized";
  g.tensors.push_back(normalized);
  const int32_t t = static_cast<int32_t>(g.tensors.size()) - 1;
  g.ops[pool + 1].inputs[0] = t;
  g.ops.insert(g.ops.begin() + pool + 1, testing::OpDef{model::kOpL2Normalization, {g.ops[pool].outputs[0]}, {t}, nullptr, 0});
  const std::vector<uint8_t> bytes = testing::WriteTflite(g);
  Status s = model::LoadTflite(bytes.data(), bytes.size()).status();
  EXPECT_EQ(s.code(), ErrorCode::kUnsupportedModel);
  EXPECT_NE(s.message().find("must be float32"), std::string::npos) << s.message();
}

// The metadata is checked like the rest of the file; entries other than the labels are skipped.
TEST(ModelExport, MalformedMetadataIsAFormatError) {
  testing::GraphDef g = testing::SyntheticMobileNetV2Graph(testing::TinyUint8Spec());
  g.metadata = {{"min_runtime_version", {'1', '.', '5', 0}}, {model::kLabelsMetadata, {'a', '\n', 'b', '\n', 'c'}}};
  const std::vector<uint8_t> good = testing::WriteTflite(g);
  const Network net = Load(good);
  EXPECT_EQ(net.labels, (std::vector<std::string>{"a", "b", "c"}));

  // The byte offsets of entry 1's fields, found with the reader.
  model::FlatBufferReader reader(good.data(), good.size());
  const model::FbTable entry = reader.Root("TFL3").Vector(6, 4).Table(1);
  const size_t name = entry.FieldPos(0), buffer = entry.FieldPos(1);
  ASSERT_TRUE(reader.ok() && name && buffer);
  auto put = [&](size_t pos, uint32_t value) {
    std::vector<uint8_t> bytes = good;
    std::memcpy(bytes.data() + pos, &value, 4);
    return bytes;
  };
  for (const std::vector<uint8_t>& bad : {put(buffer, 1000), put(name, 0x7fffff00u), put(name, 0)}) {
    Status s = model::LoadTflite(bad.data(), bad.size()).status();
    EXPECT_EQ(s.code(), ErrorCode::kModelFormat) << s.ToString();
  }
  // Labels that do not fit the classes.
  g.metadata = {{model::kLabelsMetadata, {'a', '\n', 'b', '\n', 'c', '\n', 'd', '\n', 'e'}}};
  const std::vector<uint8_t> five = testing::WriteTflite(g);
  Status s = model::LoadTflite(five.data(), five.size()).status();
  EXPECT_EQ(s.code(), ErrorCode::kModelFormat);
  EXPECT_NE(s.message().find("labels"), std::string::npos) << s.message();
}

}  // namespace
}  // namespace mnv2
