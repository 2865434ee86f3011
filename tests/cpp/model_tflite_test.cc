// The TFLite reader and the MobileNetV2 graph builder, on the real models and on
// synthetic and broken files.
#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <random>

#include "model/builder.h"
#include "model/labels.h"
#include "model/tflite.h"
#include "model_checks.h"
#include "test_data.h"
#include "tflite_writer.h"

namespace mnv2 {
namespace {

using model::Graph;
using model::Network;
using testing::ReadFileOrFail;
using testing::SharedPath;

std::map<std::string, int> OpCounts(const Graph& g) {
  std::map<std::string, int> counts;
  for (const auto& op : g.operators) ++counts[model::BuiltinOpName(op.code)];
  return counts;
}

TEST(TfliteReader, RealModelsHaveTheDocumentedOps) {
  for (const char* name : {"mobilenet_v2_1.0_224_quant.tflite", "tf2_mobilenet_v2_1.0_224_ptq.tflite",
                           "mobilenet_v2_1.0_224_inat_bird_quant.tflite"}) {
    SCOPED_TRACE(name);
    const std::vector<uint8_t> bytes = ReadFileOrFail(SharedPath(std::string("models/") + name));
    Result<Graph> g = model::ReadTflite(bytes.data(), bytes.size());
    ASSERT_TRUE(g.ok()) << g.status().ToString();
    std::map<std::string, int> c = OpCounts(*g);
    EXPECT_EQ(c["CONV_2D"] + c["FULLY_CONNECTED"], 36);
    EXPECT_EQ(c["DEPTHWISE_CONV_2D"], 17);
    EXPECT_EQ(c["ADD"], 10);
    EXPECT_EQ(c["AVERAGE_POOL_2D"] + c["MEAN"], 1);
    EXPECT_EQ(c["SOFTMAX"], 1);
    EXPECT_EQ(c["QUANTIZE"], std::string(name).rfind("tf2", 0) == 0 ? 2 : 0);
  }
}

TEST(NetworkBuilder, RealModels) {
  struct Case { const char* file; int classes; const char* weights; float scale, zero_point; };
  for (const Case& c : {Case{"mobilenet_v2_1.0_224_quant.tflite", 1001, "uint8", 1 / 128.0f, 128},
                        Case{"tf2_mobilenet_v2_1.0_224_ptq.tflite", 1001, "int8", 0.00784314f, 127},
                        Case{"mobilenet_v2_1.0_224_inat_bird_quant.tflite", 965, "uint8", 1 / 128.0f, 128}}) {
    SCOPED_TRACE(c.file);
    const std::vector<uint8_t> bytes = ReadFileOrFail(SharedPath(std::string("models/") + c.file));
    Result<Network> net = model::LoadTflite(bytes.data(), bytes.size());
    ASSERT_TRUE(net.ok()) << net.status().ToString();
    EXPECT_EQ(net->input.height, 224);
    EXPECT_EQ(net->input.width, 224);
    EXPECT_NEAR(net->input.scale, c.scale, 1e-6);
    EXPECT_FLOAT_EQ(net->input.zero_point, c.zero_point);
    EXPECT_EQ(net->blocks.size(), 17u);
    int residual = 0;
    for (const auto& b : net->blocks) residual += b.residual;
    EXPECT_EQ(residual, 10);
    EXPECT_FALSE(net->blocks[0].has_expand);
    EXPECT_TRUE(net->blocks[1].has_expand);
    EXPECT_FLOAT_EQ(net->alpha(), 1.0f);
    EXPECT_EQ(net->feature_size(), 1280);
    EXPECT_EQ(net->num_classes(), c.classes);
    EXPECT_EQ(net->weight_type, c.weights);
    EXPECT_TRUE(net->softmax);
    // The stem is 3x3 stride 2 with TFLite SAME padding: 224 -> 112, no padding before.
    EXPECT_EQ(net->stem.g.out_h, 112);
    EXPECT_EQ(net->stem.g.pad_top, 0);
    // MobileNetV2 1.0/224 is about 300 M multiply-adds.
    EXPECT_NEAR(net->MultiplyAdds() / 1e6, 300, 10);
  }
}

TEST(NetworkBuilder, DequantizesUint8PerTensor) {
  const std::vector<uint8_t> bytes = ReadFileOrFail(SharedPath("models/mobilenet_v2_1.0_224_quant.tflite"));
  Result<Graph> g = model::ReadTflite(bytes.data(), bytes.size());
  ASSERT_TRUE(g.ok());
  Result<Network> net = model::BuildNetwork(*g);
  ASSERT_TRUE(net.ok());
  const model::Tensor& w = g->tensors[g->operators[0].inputs[1]];
  ASSERT_EQ(w.data_size, 864u);
  for (size_t i : {0u, 1u, 500u, 863u}) {
    EXPECT_FLOAT_EQ(net->stem.weights[i], w.quant.scale[0] * (static_cast<int>(w.data[i]) - w.quant.zero_point[0]));
  }
}

TEST(NetworkBuilder, DequantizesInt8PerChannel) {
  const std::vector<uint8_t> bytes = ReadFileOrFail(SharedPath("models/tf2_mobilenet_v2_1.0_224_ptq.tflite"));
  Result<Graph> g = model::ReadTflite(bytes.data(), bytes.size());
  ASSERT_TRUE(g.ok());
  Result<Network> net = model::BuildNetwork(*g);
  ASSERT_TRUE(net.ok());
  const model::Tensor& dw = g->tensors[g->operators[2].inputs[1]];  // first depthwise: [1,3,3,32]
  ASSERT_EQ(dw.quant.scale.size(), 32u);
  for (size_t i : {0u, 31u, 33u, 287u}) {
    EXPECT_FLOAT_EQ(net->blocks[0].depthwise.weights[i], dw.quant.scale[i % 32] * static_cast<int8_t>(dw.data[i]));
  }
}

// Read with skip_float_weights, a quantized model has the same network without its float
// weights (the stored integers are all there); read in full, the weights.
TEST(NetworkBuilder, SkipFloatWeightsLeavesThemOutOfQuantizedModels) {
  model::BuildOptions lean_options;
  lean_options.skip_float_weights = true;
  for (const char* file : {"mobilenet_v2_1.0_224_quant.tflite", "tf2_mobilenet_v2_1.0_224_ptq.tflite"}) {
    SCOPED_TRACE(file);
    const std::vector<uint8_t> bytes = ReadFileOrFail(SharedPath(std::string("models/") + file));
    Result<Network> full = model::LoadTflite(bytes.data(), bytes.size());
    Result<Network> lean = model::LoadTflite(bytes.data(), bytes.size(), {}, lean_options);
    ASSERT_TRUE(full.ok() && lean.ok());
    ASSERT_TRUE(lean->quant.available);
    ASSERT_EQ(lean->blocks.size(), full->blocks.size());
    EXPECT_EQ(lean->MultiplyAdds(), full->MultiplyAdds());
    EXPECT_TRUE(lean->stem.weights.empty() && lean->head.weights.empty() && lean->classifier.weights.empty());
    EXPECT_FALSE(full->stem.weights.empty() || full->head.weights.empty() || full->classifier.weights.empty());
    EXPECT_EQ(lean->stem.q.weights, full->stem.q.weights);
    EXPECT_EQ(lean->classifier.q.weights, full->classifier.q.weights);
    for (size_t i = 0; i < lean->blocks.size(); ++i) {
      EXPECT_TRUE(lean->blocks[i].depthwise.weights.empty() && lean->blocks[i].project.weights.empty());
      EXPECT_EQ(lean->blocks[i].depthwise.q.weights, full->blocks[i].depthwise.q.weights);
      EXPECT_EQ(lean->blocks[i].project.q.bias, full->blocks[i].project.q.bias);
    }
  }
}

// ... and a model the integer path cannot run (float, or quantized but with a float input or
// an unscaled output) comes back whole either way.
TEST(NetworkBuilder, SkipFloatWeightsReadsThemForOtherModels) {
  model::BuildOptions lean_options;
  lean_options.skip_float_weights = true;
  testing::SyntheticSpec float_spec;
  float_spec.alpha = 0.35f;
  float_spec.resolution = 32;
  float_spec.classes = 4;
  testing::GraphDef float_input = testing::SyntheticMobileNetV2Graph(testing::TinyUint8Spec());
  testing::TensorDef& in = float_input.tensors[float_input.inputs[0]];
  in.type = static_cast<int8_t>(model::TensorType::kFloat32);
  in.scale.clear();
  in.zero_point.clear();
  // The integer path fails at the very end here, after every weight was skipped.
  testing::GraphDef float_output = testing::SyntheticMobileNetV2Graph(testing::TinyUint8Spec());
  float_output.tensors[float_output.outputs[0]].scale.clear();
  for (const std::vector<uint8_t>& bytes : {testing::SyntheticMobileNetV2(float_spec), testing::WriteTflite(float_input),
                                            testing::WriteTflite(float_output)}) {
    Result<Network> full = model::LoadTflite(bytes.data(), bytes.size());
    Result<Network> lean = model::LoadTflite(bytes.data(), bytes.size(), {}, lean_options);
    ASSERT_TRUE(full.ok()) << full.status().ToString();
    ASSERT_TRUE(lean.ok()) << lean.status().ToString();
    EXPECT_FALSE(lean->quant.available);
    EXPECT_EQ(lean->stem.weights, full->stem.weights);
    EXPECT_EQ(lean->blocks.back().project.weights, full->blocks.back().project.weights);
    EXPECT_EQ(lean->classifier.weights, full->classifier.weights);
    EXPECT_FALSE(lean->classifier.weights.empty());
  }
}

// Found by the model fuzzer: read without float weights, a per-channel layer whose zero points
// outnumber its scales was accepted while the full read refuses it. Both readings check a
// weight tensor's quantization alike, values read or not.
TEST(NetworkBuilder, SkipFloatWeightsRefusesWhatTheFullReadRefuses) {
  model::BuildOptions lean_options;
  lean_options.skip_float_weights = true;
  testing::SyntheticSpec spec = testing::TinyUint8Spec();
  spec.weights = testing::WeightType::kInt8PerChannel;
  spec.quantize_edges = true;
  {
    const std::vector<uint8_t> bytes = testing::SyntheticMobileNetV2(spec);
    Result<Network> lean = model::LoadTflite(bytes.data(), bytes.size(), {}, lean_options);
    ASSERT_TRUE(lean.ok()) << lean.status().ToString();
    ASSERT_TRUE(lean->blocks[0].depthwise.weights.empty());  // the edit below lands on weights that were skipped
  }
  testing::GraphDef g = testing::SyntheticMobileNetV2Graph(spec);
  int edited = 0;
  for (testing::TensorDef& t : g.tensors) {
    if (t.name.find("depthwise") != std::string::npos && t.scale.size() > 1) {
      t.zero_point.assign(t.scale.size() + 5, 0);
      ++edited;
    }
  }
  ASSERT_GT(edited, 0);
  const std::vector<uint8_t> bytes = testing::WriteTflite(g);
  for (const model::BuildOptions& options : {model::BuildOptions(), lean_options}) {
    Result<Network> net = model::LoadTflite(bytes.data(), bytes.size(), {}, options);
    ASSERT_FALSE(net.ok());
    EXPECT_EQ(net.status().code(), ErrorCode::kUnsupportedModel);
    EXPECT_NE(net.status().message().find("zero points for"), std::string::npos) << net.status().message();
  }
}

class SyntheticFamily : public ::testing::TestWithParam<testing::SyntheticSpec> {};

TEST_P(SyntheticFamily, BuildsWithShapesFromTheFile) {
  const testing::SyntheticSpec& c = GetParam();
  const std::vector<uint8_t> bytes = testing::SyntheticMobileNetV2(c);
  Result<Network> net = model::LoadTflite(bytes.data(), bytes.size());
  ASSERT_TRUE(net.ok()) << net.status().ToString();
  EXPECT_EQ(net->input.height, c.resolution);
  EXPECT_EQ(net->blocks.size(), 17u);
  EXPECT_EQ(net->stem.g.out_c, testing::MakeDivisible(32 * c.alpha));
  EXPECT_EQ(net->blocks.back().project.g.out_c, testing::MakeDivisible(320 * c.alpha));
  EXPECT_EQ(net->feature_size(), c.alpha > 1 ? testing::MakeDivisible(1280 * c.alpha) : 1280);
  EXPECT_EQ(net->num_classes(), c.classes);
  EXPECT_EQ(net->head.g.out_h, (c.resolution + 31) / 32);
}

using testing::WeightType;
// alpha, resolution, classes, weights, FULLY_CONNECTED classifier, MEAN pooling, QUANTIZE edges.
using Spec = testing::SyntheticSpec;
INSTANTIATE_TEST_SUITE_P(Family, SyntheticFamily,
                         ::testing::Values(Spec{0.35f, 96, 5, WeightType::kFloat32, false, false, false},
                                           Spec{0.5f, 128, 1000, WeightType::kFloat16, true, true, false},
                                           Spec{0.75f, 160, 1001, WeightType::kUInt8, false, false, false},
                                           Spec{1.0f, 192, 965, WeightType::kInt8PerChannel, false, true, true},
                                           Spec{1.3f, 224, 10, WeightType::kFloat32, true, false, false},
                                           Spec{1.4f, 224, 1001, WeightType::kInt8PerChannel, true, true, true},
                                           Spec{1.0f, 97, 3, WeightType::kFloat32, false, false, false}));

// ---------------------------------------------------------------------------
// Malformed and unsupported files: every one is a clear error, never a crash.

Result<model::Network> LoadNetwork(const std::vector<uint8_t>& bytes) {
  return model::LoadTflite(bytes.data(), bytes.size());
}
using testing::LoadStatus;

// Every block of the network, with a head of 64 channels rather than 1280, whose weights would be
// two thirds of the file: the corruption tests parse it 3,000 times, also under ASan.
std::vector<uint8_t> SmallModel() {
  testing::SyntheticSpec spec;
  spec.alpha = 0.35f;
  spec.resolution = 32;
  spec.classes = 5;
  spec.head_channels = 64;
  spec.weights = testing::WeightType::kUInt8;
  return testing::SyntheticMobileNetV2(spec);
}

TEST(MalformedModel, EmptyAndTiny) {
  EXPECT_EQ(model::LoadTflite(nullptr, 0).status().code(), ErrorCode::kModelFormat);
  EXPECT_EQ(LoadStatus({}).code(), ErrorCode::kModelFormat);
  EXPECT_EQ(LoadStatus({1, 2, 3}).code(), ErrorCode::kModelFormat);
}

TEST(MalformedModel, WrongMagic) {
  std::vector<uint8_t> bytes = SmallModel();
  bytes[4] = 'X';
  Status s = LoadStatus(bytes);
  EXPECT_EQ(s.code(), ErrorCode::kModelFormat);
  EXPECT_NE(s.message().find("identifier"), std::string::npos) << s.message();
}

TEST(MalformedModel, NotAModel) {
  const std::vector<uint8_t> bytes = ReadFileOrFail(SharedPath("images/cat.bmp"));
  EXPECT_EQ(LoadStatus(bytes).code(), ErrorCode::kModelFormat);
  const std::string text = "this is a text file, not a model\n";
  EXPECT_EQ(LoadStatus(std::vector<uint8_t>(text.begin(), text.end())).code(), ErrorCode::kModelFormat);
}

TEST(MalformedModel, EveryTruncationIsRejected) {
  const std::vector<uint8_t> bytes = SmallModel();
  ASSERT_TRUE(LoadStatus(bytes).ok()) << LoadStatus(bytes).ToString();
  for (size_t len = 0; len < bytes.size(); len += 1 + len / 64) {
    std::vector<uint8_t> prefix(bytes.begin(), bytes.begin() + len);
    EXPECT_FALSE(LoadStatus(prefix).ok()) << "prefix of " << len << " bytes was accepted";
  }
}

TEST(MalformedModel, TruncatedRealModel) {
  const std::vector<uint8_t> bytes = ReadFileOrFail(SharedPath("models/mobilenet_v2_1.0_224_quant.tflite"));
  for (size_t len : {size_t{8}, size_t{100}, bytes.size() / 2, bytes.size() * 9 / 10}) {
    std::vector<uint8_t> prefix(bytes.begin(), bytes.begin() + len);
    EXPECT_EQ(LoadStatus(prefix).code(), ErrorCode::kModelFormat) << len;
  }
}

TEST(MalformedModel, CorruptedBytesNeverCrash) {
  const std::vector<uint8_t> original = SmallModel();
  std::mt19937 rng(42);
  int rejected = 0;
  for (int trial = 0; trial < 3000; ++trial) {
    std::vector<uint8_t> bytes = original;
    const int flips = 1 + trial % 4;
    for (int f = 0; f < flips; ++f) {
      // Offsets and lengths live in the first part of the file; hit them more often.
      const size_t pos = rng() % (trial % 2 ? original.size() : std::min<size_t>(original.size(), 2048));
      bytes[pos] = static_cast<uint8_t>(trial % 3 == 0 ? 0xff : rng());
    }
    Status s = LoadStatus(bytes);
    if (!s.ok()) {
      ++rejected;
      EXPECT_FALSE(s.message().empty());
    }
  }
  EXPECT_GT(rejected, 100);
}

TEST(MalformedModel, RandomBytes) {
  std::mt19937 rng(7);
  for (int trial = 0; trial < 500; ++trial) {
    std::vector<uint8_t> bytes(8 + rng() % 4096);
    for (auto& b : bytes) b = static_cast<uint8_t>(rng());
    if (trial % 2) std::memcpy(bytes.data() + 4, "TFL3", 4);
    EXPECT_FALSE(LoadStatus(bytes).ok());
  }
}

testing::GraphDef SmallGraph() {
  testing::SyntheticSpec spec;
  spec.alpha = 0.35f;
  spec.resolution = 32;
  spec.classes = 5;
  return testing::SyntheticMobileNetV2Graph(spec);
}

TEST(UnsupportedModel, UnknownOpIsNamed) {
  testing::GraphDef g = SmallGraph();
  g.ops[5].code = 18;  // MUL
  Status s = LoadStatus(testing::WriteTflite(g));
  EXPECT_EQ(s.code(), ErrorCode::kUnsupportedOp);
  EXPECT_NE(s.message().find("MUL"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("operator 5"), std::string::npos) << s.message();
}

TEST(UnsupportedModel, EveryBuiltinHasItsSchemaName) {
  EXPECT_EQ(model::BuiltinOpName(0), "ADD");
  EXPECT_EQ(model::BuiltinOpName(23), "RESIZE_BILINEAR");
  EXPECT_EQ(model::BuiltinOpName(56), "ARG_MAX");
  EXPECT_EQ(model::BuiltinOpName(127), "PLACEHOLDER_FOR_GREATER_OP_CODES");
  EXPECT_EQ(model::BuiltinOpName(161), "RIGHT_SHIFT");
  EXPECT_EQ(model::BuiltinOpName(162), "STABLEHLO_LOGISTIC");
  EXPECT_EQ(model::BuiltinOpName(203), "DILATE");
  EXPECT_EQ(model::BuiltinOpName(205), "REDUCE_WINDOW");
  EXPECT_EQ(model::BuiltinOpName(225), "TEMP_STREAMING_CONV_2D");
  // Codes the schema does not have (yet) keep their number.
  EXPECT_EQ(model::BuiltinOpName(206), "BUILTIN_206");
  EXPECT_EQ(model::BuiltinOpName(-3), "BUILTIN_-3");
  for (int32_t code = 0; code <= 205; ++code) {
    const std::string name = model::BuiltinOpName(code);
    EXPECT_FALSE(name.empty() || name.rfind("BUILTIN_", 0) == 0 || name.find(' ') != std::string::npos) << code;
  }
}

// ---------------------------------------------------------------------------
// Segmentation graphs (DeepLabv3).

testing::SyntheticSpec SegmentationSpec() {
  testing::SyntheticSpec spec;
  spec.alpha = 0.35f;
  spec.resolution = 33;
  spec.classes = 4;
  spec.weights = testing::WeightType::kUInt8;
  spec.segmentation = true;
  spec.aspp_channels = 8;
  return spec;
}

// The index of the n-th op with `code` in g.
size_t OpIndex(const testing::GraphDef& g, int32_t code, int n = 0) {
  for (size_t i = 0; i < g.ops.size(); ++i) {
    if (g.ops[i].code == code && n-- == 0) return i;
  }
  ADD_FAILURE() << "no op " << code;
  return 0;
}

// A new constant tensor in g.
int32_t AddConstant(testing::GraphDef* g, std::vector<int32_t> shape, int8_t type, const void* data, size_t bytes) {
  testing::TensorDef t;
  t.shape = std::move(shape);
  t.type = type;
  t.data.assign(static_cast<const uint8_t*>(data), static_cast<const uint8_t*>(data) + bytes);
  g->tensors.push_back(t);
  return static_cast<int32_t>(g->tensors.size()) - 1;
}

TEST(SegmentationGraph, SyntheticAndRealFilesBuild) {
  Result<model::Network> net = LoadNetwork(testing::SyntheticMobileNetV2(SegmentationSpec()));
  ASSERT_TRUE(net.ok()) << net.status().ToString();
  EXPECT_EQ(net->task, model::Task::kSegmentation);
  EXPECT_EQ(net->num_classes(), 4);
  EXPECT_TRUE(net->quant.available) << net->quant.unavailable_reason;
  EXPECT_EQ(net->blocks.back().depthwise.g.dilation, 2);
  for (const char* file : {"deeplabv3_mnv2_pascal_quant.tflite", "deeplabv3_mnv2_dm05_pascal_quant.tflite"}) {
    const std::vector<uint8_t> bytes = ReadFileOrFail(SharedPath(std::string("models/") + file));
    Result<model::Network> real = LoadNetwork(bytes);
    ASSERT_TRUE(real.ok()) << file << ": " << real.status().ToString();
    EXPECT_EQ(real->task, model::Task::kSegmentation);
    EXPECT_EQ(real->num_classes(), 21);
    EXPECT_EQ(real->weight_type, "uint8");
  }
  // PASCAL VOC's label file ends in a note after a blank line.
  const std::vector<uint8_t> text = ReadFileOrFail(SharedPath("models/pascal_voc_segmentation_labels.txt"));
  Result<std::vector<std::string>> labels = model::ParseLabels(std::string(text.begin(), text.end()), 21);
  ASSERT_TRUE(labels.ok()) << labels.status().ToString();
  EXPECT_EQ(labels->at(3), "bird");
  EXPECT_EQ(labels->back(), "tvmonitor");
}

// Each edit of the synthetic DeepLab graph is refused with a message naming the problem.
TEST(SegmentationGraph, RefusesWhatItCannotRun) {
  struct Edit {
    const char* name;
    std::function<void(testing::GraphDef*)> apply;
    const char* message;
  };
  const std::vector<Edit> edits = {
      {"concatenation along the width", [](testing::GraphDef* g) {
         model::FbPtr o = model::MakeFbTable();
         o->Scalar<int32_t>(0, 2);
         g->ops[OpIndex(*g, model::kOpConcatenation)].options = o;
       }, "axis 2"},
      {"shapes that do not concatenate", [](testing::GraphDef* g) {
         g->tensors[g->ops[OpIndex(*g, model::kOpConcatenation)].outputs[0]].shape[3] += 1;
       }, "CONCATENATION"},
      {"concatenation of the map with itself", [](testing::GraphDef* g) {
         auto& in = g->ops[OpIndex(*g, model::kOpConcatenation)].inputs;
         in[0] = in[1];
       }, "does not concatenate the two branches"},
      {"resize to zero", [](testing::GraphDef* g) {
         const int32_t zero[2] = {0, 0};
         g->ops[OpIndex(*g, model::kOpResizeBilinear, 2)].inputs[1] = AddConstant(g, {2}, 2, zero, 8);
       }, "resizes to 0x0"},
      {"a resize size that is not constant", [](testing::GraphDef* g) {
         auto& op = g->ops[OpIndex(*g, model::kOpResizeBilinear)];
         op.inputs[1] = op.inputs[0];
       }, "constant int32"},
      {"both resize flags", [](testing::GraphDef* g) {
         model::FbPtr o = model::MakeFbTable();
         o->Scalar<uint8_t>(2, 1).Scalar<uint8_t>(3, 1);
         g->ops[OpIndex(*g, model::kOpResizeBilinear, 2)].options = o;
       }, "both align_corners and half_pixel_centers"},
      {"float ARG_MAX output", [](testing::GraphDef* g) {
         g->tensors[g->outputs[0]].type = 0;
       }, "ARG_MAX (operator"},
      {"ARG_MAX options that contradict the output", [](testing::GraphDef* g) {
         g->tensors[g->outputs[0]].type = 2;  // int32, but the options say int64
       }, "options say int64"},
      {"ARG_MAX over the width", [](testing::GraphDef* g) {
         const int32_t axis = 2;
         g->ops[OpIndex(*g, model::kOpArgMax)].inputs[1] = AddConstant(g, {}, 2, &axis, 4);
       }, "channel axis"},
      {"ARG_MAX output of another shape", [](testing::GraphDef* g) {
         g->tensors[g->outputs[0]].shape = {1, 33, 33, 1};
       }, "output has shape"},
      {"no ARG_MAX", [](testing::GraphDef* g) {
         g->outputs[0] = g->ops[OpIndex(*g, model::kOpArgMax)].inputs[0];
         g->ops.pop_back();
       }, "expected ARG_MAX"},
      {"a dilated stem", [](testing::GraphDef* g) {
         model::FbPtr o = model::MakeFbTable();
         o->Scalar<int8_t>(0, 0).Scalar<int32_t>(1, 2).Scalar<int32_t>(2, 2).Scalar<int8_t>(3, 3).Scalar<int32_t>(4, 2)
             .Scalar<int32_t>(5, 2);
         g->ops[0].options = o;
       }, "only depthwise ones"},
      {"an unknown op in the head", [](testing::GraphDef* g) {
         g->ops[OpIndex(*g, model::kOpResizeBilinear, 2)].code = 97;
       }, "is RESIZE_NEAREST_NEIGHBOR"},
  };
  for (const Edit& e : edits) {
    testing::GraphDef g = testing::SyntheticMobileNetV2Graph(SegmentationSpec());
    e.apply(&g);
    const Status s = LoadStatus(testing::WriteTflite(g));
    EXPECT_FALSE(s.ok()) << e.name;
    EXPECT_TRUE(s.code() == ErrorCode::kUnsupportedModel || s.code() == ErrorCode::kUnsupportedOp)
        << e.name << ": " << s.ToString();
    EXPECT_NE(s.message().find(e.message), std::string::npos) << e.name << ": " << s.ToString();
  }
}

TEST(UnsupportedModel, CustomOpIsNamed) {
  testing::GraphDef g = SmallGraph();
  g.ops[3].code = 32;
  Status s = LoadStatus(testing::WriteTflite(g));
  EXPECT_EQ(s.code(), ErrorCode::kUnsupportedOp) << s.ToString();
}

TEST(UnsupportedModel, NotAChain) {
  testing::GraphDef g = SmallGraph();
  // The second op (first depthwise) reads the model input instead of the stem's output.
  g.ops[1].inputs[0] = g.inputs[0];
  Status s = LoadStatus(testing::WriteTflite(g));
  EXPECT_EQ(s.code(), ErrorCode::kUnsupportedModel);
  EXPECT_NE(s.message().find("chain"), std::string::npos) << s.message();
}

TEST(UnsupportedModel, AbsurdShapes) {
  {
    testing::GraphDef g = SmallGraph();
    g.tensors[g.inputs[0]].shape = {1, 1 << 20, 1 << 20, 3};
    EXPECT_FALSE(LoadStatus(testing::WriteTflite(g)).ok());
  }
  {
    testing::GraphDef g = SmallGraph();
    g.tensors[g.inputs[0]].shape = {1, -5, 32, 3};
    EXPECT_EQ(LoadStatus(testing::WriteTflite(g)).code(), ErrorCode::kModelFormat);
  }
  {
    testing::GraphDef g = SmallGraph();
    g.tensors[g.inputs[0]].shape = {4, 32, 32, 3};  // batch 4
    EXPECT_EQ(LoadStatus(testing::WriteTflite(g)).code(), ErrorCode::kUnsupportedModel);
  }
  {
    // Weights that claim more elements than their buffer holds.
    testing::GraphDef g = SmallGraph();
    const int w = g.ops[0].inputs[1];
    g.tensors[w].data.resize(g.tensors[w].data.size() / 2);
    Status s = LoadStatus(testing::WriteTflite(g));
    EXPECT_EQ(s.code(), ErrorCode::kModelFormat) << s.ToString();
  }
  {
    // An output shape that does not follow from the input and the stride.
    testing::GraphDef g = SmallGraph();
    g.tensors[g.ops[0].outputs[0]].shape[1] = 7;
    Status s = LoadStatus(testing::WriteTflite(g));
    EXPECT_EQ(s.code(), ErrorCode::kUnsupportedModel);
  }
}

TEST(UnsupportedModel, BadIndices) {
  {
    testing::GraphDef g = SmallGraph();
    g.ops[2].inputs[1] = 100000;
    EXPECT_EQ(LoadStatus(testing::WriteTflite(g)).code(), ErrorCode::kModelFormat);
  }
  {
    testing::GraphDef g = SmallGraph();
    g.outputs = {-3};
    EXPECT_EQ(LoadStatus(testing::WriteTflite(g)).code(), ErrorCode::kModelFormat);
  }
}

TEST(UnsupportedModel, UnsupportedActivationAndStride) {
  {
    testing::GraphDef g = SmallGraph();
    g.ops[0].options->fields[3].scalar[0] = 4;  // TANH
    Status s = LoadStatus(testing::WriteTflite(g));
    EXPECT_EQ(s.code(), ErrorCode::kUnsupportedOp) << s.ToString();
  }
  {
    testing::GraphDef g = SmallGraph();
    const int32_t three = 3;
    std::memcpy(g.ops[0].options->fields[1].scalar.data(), &three, 4);
    std::memcpy(g.ops[0].options->fields[2].scalar.data(), &three, 4);
    Status s = LoadStatus(testing::WriteTflite(g));
    EXPECT_EQ(s.code(), ErrorCode::kUnsupportedModel) << s.ToString();
  }
}

TEST(Labels, ParsesLinesAndAddsBackground) {
  Result<std::vector<std::string>> l = model::ParseLabels("cat\r\ndog\nfish\n", 3);
  ASSERT_TRUE(l.ok());
  EXPECT_EQ(*l, (std::vector<std::string>{"cat", "dog", "fish"}));
  l = model::ParseLabels("cat\ndog\n", 3);
  ASSERT_TRUE(l.ok());
  EXPECT_EQ((*l)[0], "background");
  EXPECT_EQ(model::ParseLabels("a\nb\n", 5).status().code(), ErrorCode::kInvalidArgument);
  const std::vector<uint8_t> text = ReadFileOrFail(SharedPath("models/imagenet_labels.txt"));
  l = model::ParseLabels(std::string(text.begin(), text.end()), 1001);
  ASSERT_TRUE(l.ok()) << l.status().ToString();
  EXPECT_EQ((*l)[286], "Egyptian cat");
}

}  // namespace
}  // namespace mnv2
