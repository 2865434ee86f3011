// The TF.js loader: the JSON reader on hostile text, the weights manifest, both model formats
// against the TFLite path on synthetic models, batch norm folding, broken files, and the real
// nsfwjs models when node_modules has them.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>

#include "model/builder.h"
#include "model/json.h"
#include "model/tfjs.h"
#include "model_checks.h"
#include "test_data.h"
#include "tfjs_writer.h"
#include "tflite_writer.h"

namespace mnv2 {
namespace {

using model::JsonValue;
using model::Network;
using testing::TfjsFiles;
using testing::TfjsQuantization;
using testing::TfjsWriteOptions;

Result<JsonValue> Parse(const std::string& s, const model::JsonLimits& limits = {}) {
  return model::ParseJson(s.data(), s.size(), limits);
}

// ---------------------------------------------------------------------------------------------
// JSON

TEST(Json, ParsesValues) {
  Result<JsonValue> j = Parse(
      "\xEF\xBB\xBF {\"a\": [1, -0.5, 2e3, 1.5E-2, 0], \"b\": {\"c\": null, \"d\": true, \"e\": false},"
      " \"s\": \"x\\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9\\ud83d\\ude00\xE2\x82\xAC\"}\n");
  ASSERT_TRUE(j.ok()) << j.status().ToString();
  ASSERT_TRUE(j->is_object());
  const JsonValue* a = j->Find("a");
  ASSERT_NE(a, nullptr);
  ASSERT_EQ(a->size(), 5u);
  EXPECT_EQ((*a)[0].number(), 1);
  EXPECT_EQ((*a)[1].number(), -0.5);
  EXPECT_EQ((*a)[2].number(), 2000);
  EXPECT_EQ((*a)[3].number(), 0.015);
  EXPECT_TRUE(j->Find("b")->Find("c")->is_null());
  EXPECT_TRUE(j->Find("b")->Find("d")->boolean());
  EXPECT_FALSE(j->Find("b")->Find("e")->boolean());
  EXPECT_EQ(j->Find("s")->string(), "x\"\\/\b\f\n\r\t\xC3\xA9\xF0\x9F\x98\x80\xE2\x82\xAC");
  EXPECT_EQ(j->Find("missing"), nullptr);
  EXPECT_EQ((*a)[0].Find("a"), nullptr);  // not an object
  EXPECT_EQ(j->items()[1].key(), "b");
}

TEST(Json, RejectsMalformedTextWithItsPosition) {
  const std::string cases[] = {
      "", "   ", "{", "}", "[1,]", "{\"a\":1,}", "[1 2]", "tru", "nul", "01", "1.", ".5", "-", "1e", "+1",
      "NaN", "Infinity", "-Infinity", "[1e999]", "-1e400", "\"abc", "\"a\\x\"", "\"\\u12\"", "\"\\ud800\"",
      "\"\\udc00\"", "\"\\ud800\\u0041\"", "\"\x01\"", std::string("\"a\0b\"", 5), "\"\xff\"", "\"\xc0\xaf\"",
      "\"\xed\xa0\x80\"", "\"\xf4\x90\x80\x80\"", "\"\xe2\x82\"", "\"\x80\"", "{} x", "{\"a\" 1}", "{1:2}",
      "{\"a\":1,\"a\":2}", "[1]]", "'a'", "[" + std::string(300, '1') + "]", std::string("\0", 1),
  };
  for (const std::string& text : cases) {
    SCOPED_TRACE(text);
    Result<JsonValue> j = Parse(text);
    ASSERT_FALSE(j.ok());
    EXPECT_EQ(j.status().code(), ErrorCode::kModelFormat);
    EXPECT_NE(j.status().message().find("malformed JSON at line 1, column "), std::string::npos) << j.status().message();
  }
  Result<JsonValue> j = Parse("{\n  \"a\": tru\n}");
  ASSERT_FALSE(j.ok());
  EXPECT_NE(j.status().message().find("line 2, column 8"), std::string::npos) << j.status().message();
  j = Parse("{\"a\": 1, \"a\": 2}");
  EXPECT_NE(j.status().message().find("duplicate member name \"a\""), std::string::npos) << j.status().message();
}

TEST(Json, DeepNestingFailsWithoutExhaustingTheStack) {
  for (const char* open : {"[", "{\"a\":"}) {
    std::string deep;
    for (int i = 0; i < 200000; ++i) deep += open;
    Result<JsonValue> j = Parse(deep);
    ASSERT_FALSE(j.ok());
    EXPECT_EQ(j.status().code(), ErrorCode::kModelTooLarge);
    EXPECT_NE(j.status().message().find("nesting deeper than 64 levels"), std::string::npos) << j.status().message();
  }
  std::string ok = std::string(64, '[') + std::string(64, ']');
  EXPECT_TRUE(Parse(ok).ok());
  EXPECT_FALSE(Parse("[" + ok + "]").ok());
}

TEST(Json, SizeAndValueLimits) {
  std::string many = "[0";
  for (int i = 0; i < 600000; ++i) many += ",0";
  many += "]";
  Result<JsonValue> j = Parse(many);
  ASSERT_FALSE(j.ok());
  EXPECT_EQ(j.status().code(), ErrorCode::kModelTooLarge);
  EXPECT_NE(j.status().message().find("values"), std::string::npos);

  model::JsonLimits small;
  small.max_bytes = 10;
  j = Parse("[1, 2, 3, 4, 5]", small);
  ASSERT_FALSE(j.ok());
  EXPECT_EQ(j.status().code(), ErrorCode::kModelTooLarge);
}

// A small model.json: every prefix of it is malformed, and random corruptions never crash
// (under ASan, never read outside the text).
std::string SmallModelJson() {
  testing::SyntheticSpec spec;
  spec.alpha = 0.35f;
  spec.resolution = 32;
  spec.classes = 3;
  spec.blocks = 2;
  spec.head_channels = 16;
  return testing::WriteLayersModel(testing::SyntheticNetwork(spec)).json;
}

TEST(Json, EveryTruncationIsRejected) {
  const std::string text = SmallModelJson();
  ASSERT_TRUE(Parse(text).ok());
  for (size_t n = 0; n < text.size(); n += 7) {
    EXPECT_FALSE(Parse(text.substr(0, n)).ok()) << n;
  }
}

TEST(Json, CorruptedTextNeverCrashes) {
  const std::string text = SmallModelJson();
  std::mt19937 rng(7);
  for (int round = 0; round < 300; ++round) {
    std::string bad = text;
    for (int k = 0; k < 4; ++k) bad[rng() % bad.size()] = static_cast<char>(rng());
    Result<JsonValue> j = Parse(bad);
    if (!j.ok()) {
      EXPECT_EQ(j.status().code(), ErrorCode::kModelFormat);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Synthetic models: a TFLite model's network written as TF.js must read back the same.

Network SyntheticNetwork(float alpha, int resolution, int classes, int blocks = 17, bool v1 = false) {
  testing::SyntheticSpec spec;
  spec.alpha = alpha;
  spec.resolution = resolution;
  spec.classes = classes;
  spec.blocks = blocks;
  spec.v1 = v1;
  return testing::SyntheticNetwork(spec);
}

Result<Network> Load(const TfjsFiles& f, model::InputRange range = {}, const model::Limits& limits = {}) {
  return model::LoadTfjs(f.json.data(), f.json.size(), f.weights.data(), f.weights.size(), range, limits);
}

using testing::ExpectSameGeometry;

template <typename Layer>
void ExpectSameLayer(const Layer& a, const Layer& b, const std::string& what) {
  ExpectSameGeometry(a.g, b.g, what);
  EXPECT_EQ(a.activation, b.activation) << what;
  EXPECT_EQ(a.weights, b.weights) << what;  // bit for bit
  EXPECT_EQ(a.bias, b.bias) << what;
}

void ExpectSameDense(const model::Classifier& a, const model::Classifier& b, const std::string& what) {
  EXPECT_EQ(a.features, b.features) << what;
  EXPECT_EQ(a.classes, b.classes) << what;
  EXPECT_EQ(a.activation, b.activation) << what;
  EXPECT_EQ(a.weights, b.weights) << what;
  EXPECT_EQ(a.bias, b.bias) << what;
}

void ExpectSameNetwork(const Network& got, const Network& want) {
  EXPECT_EQ(got.input.height, want.input.height);
  EXPECT_EQ(got.input.width, want.input.width);
  EXPECT_FALSE(got.input.quantized);
  EXPECT_EQ(got.input.scale, want.input.scale);
  EXPECT_EQ(got.input.zero_point, want.input.zero_point);
  ExpectSameLayer(got.stem, want.stem, "stem");
  ASSERT_EQ(got.blocks.size(), want.blocks.size());
  for (size_t i = 0; i < got.blocks.size(); ++i) {
    const std::string what = "block " + std::to_string(i);
    EXPECT_EQ(got.blocks[i].has_expand, want.blocks[i].has_expand) << what;
    EXPECT_EQ(got.blocks[i].residual, want.blocks[i].residual) << what;
    if (want.blocks[i].has_expand) ExpectSameLayer(got.blocks[i].expand, want.blocks[i].expand, what + " expand");
    ExpectSameLayer(got.blocks[i].depthwise, want.blocks[i].depthwise, what + " depthwise");
    ExpectSameLayer(got.blocks[i].project, want.blocks[i].project, what + " project");
  }
  EXPECT_EQ(got.family(), want.family());
  EXPECT_EQ(got.has_head, want.has_head);
  if (want.has_head) ExpectSameLayer(got.head, want.head, "head");
  ASSERT_EQ(got.hidden.size(), want.hidden.size());
  for (size_t i = 0; i < got.hidden.size(); ++i) ExpectSameDense(got.hidden[i], want.hidden[i], "hidden dense");
  ExpectSameDense(got.classifier, want.classifier, "classifier");
  EXPECT_EQ(got.softmax, want.softmax);
  EXPECT_EQ(got.weight_type, want.weight_type);
  EXPECT_EQ(got.quantized, want.quantized);
  EXPECT_EQ(got.MultiplyAdds(), want.MultiplyAdds());
}

struct Case {
  const char* name;
  float alpha;
  int resolution;
  int classes;
  std::vector<int> dense;  // hidden dense layers
  TfjsWriteOptions options;
  bool v1 = false;  // MobileNetV1 (keras.applications' MobileNet, TF-slim's MobilenetV1)
};

std::string CaseName(const ::testing::TestParamInfo<Case>& info) { return info.param.name; }

TfjsWriteOptions Options(TfjsQuantization q, bool avg_pool, bool pad_layers, bool unfused = false,
                         bool normalize = true) {
  TfjsWriteOptions o;
  o.quantization = q;
  o.avg_pool = avg_pool;
  o.pad_layers = pad_layers;
  o.unfused = unfused;
  o.normalize_in_graph = normalize;
  o.shard_bytes = 100000;
  return o;
}

const Case kCases[] = {
    {"Float32", 0.35f, 96, 7, {}, Options(TfjsQuantization::kNone, false, true)},
    {"Uint8NsfwjsHead", 0.5f, 96, 5, {32, 16}, Options(TfjsQuantization::kUint8, true, true)},
    {"Uint16OddSize", 0.35f, 97, 3, {}, Options(TfjsQuantization::kUint16, false, true)},
    {"Float16SamePadding", 0.75f, 64, 11, {8}, Options(TfjsQuantization::kFloat16, true, false)},
    {"Alpha14", 1.4f, 64, 5, {}, Options(TfjsQuantization::kUint8, true, true, true, false)},
    {"Float32Unfused", 0.35f, 64, 4, {12}, Options(TfjsQuantization::kNone, false, true, true)},
    {"V1Float32", 0.25f, 128, 7, {}, Options(TfjsQuantization::kNone, false, true), true},
    {"V1Uint8DenseHead", 0.5f, 96, 5, {32}, Options(TfjsQuantization::kUint8, true, true), true},
    {"V1Float16SamePaddingUnfused", 0.75f, 64, 11, {}, Options(TfjsQuantization::kFloat16, false, false, true), true},
};

class TfjsFormats : public ::testing::TestWithParam<Case> {
 protected:
  Network Source() const {
    const Case& c = GetParam();
    Network net = SyntheticNetwork(c.alpha, c.resolution, c.classes, 17, c.v1);
    if (!c.dense.empty()) testing::AddDenseHead(&net, c.dense, 3);
    return net;
  }
};

TEST_P(TfjsFormats, LayersModelReadsBackTheNetwork) {
  const TfjsFiles f = testing::WriteLayersModel(Source(), GetParam().options);
  EXPECT_GT(f.shards.size(), 1u);
  Result<Network> net = Load(f);
  ASSERT_TRUE(net.ok()) << net.status().ToString();
  ExpectSameNetwork(*net, f.expected);
}

TEST_P(TfjsFormats, GraphModelReadsBackTheNetwork) {
  const TfjsFiles f = testing::WriteGraphModel(Source(), GetParam().options);
  Result<Network> net = Load(f);
  ASSERT_TRUE(net.ok()) << net.status().ToString();
  ExpectSameNetwork(*net, f.expected);
}

INSTANTIATE_TEST_SUITE_P(Synthetic, TfjsFormats, ::testing::ValuesIn(kCases), CaseName);

TEST(TfjsLayers, StrideTwoZeroPaddingIsTflitePadding) {
  // Keras pads ((0, 1), (0, 1)) before stride-2 layers of even size and ((1, 1), (1, 1)) of odd
  // size, with 'valid' convolutions: the same geometry as TFLite's SAME padding.
  for (int resolution : {96, 97, 75}) {
    SCOPED_TRACE(resolution);
    const Network source = SyntheticNetwork(0.35f, resolution, 3, 6);
    Result<Network> net = Load(testing::WriteLayersModel(source));
    ASSERT_TRUE(net.ok()) << net.status().ToString();
    EXPECT_EQ(net->stem.g.pad_top, resolution % 2);
    ExpectSameGeometry(net->stem.g, source.stem.g, "stem");
    for (size_t i = 0; i < source.blocks.size(); ++i) {
      ExpectSameGeometry(net->blocks[i].depthwise.g, source.blocks[i].depthwise.g, "depthwise " + std::to_string(i));
    }
  }
}

TEST(TfjsLayers, FoldsBatchNormExactly) {
  TfjsWriteOptions o;
  o.random_batch_norm = true;
  for (TfjsQuantization q : {TfjsQuantization::kNone, TfjsQuantization::kUint8}) {
    o.quantization = q;
    const TfjsFiles f = testing::WriteLayersModel(SyntheticNetwork(0.35f, 48, 3, 4), o);
    Result<Network> net = Load(f);
    ASSERT_TRUE(net.ok()) << net.status().ToString();
    ExpectSameNetwork(*net, f.expected);
  }
}

TEST(TfjsInput, RangeMapsPixelsBeforeTheModelsOwnNormalization) {
  const Network source = SyntheticNetwork(0.35f, 32, 3, 2);
  struct RangeCase { model::InputRange range; bool graph_normalizes; double lo, hi; };
  // real = model's mul * (lo + pixel * (hi - lo) / 255) + add; the graph's is 2x - 1.
  for (const RangeCase& c : {RangeCase{{0, 0}, false, -1, 1}, RangeCase{{0, 1}, false, 0, 1},
                             RangeCase{{0, 0}, true, 0, 1}, RangeCase{{0, 255}, true, 0, 255},
                             RangeCase{{-1, 1}, true, -1, 1}}) {
    TfjsWriteOptions o;
    o.normalize_in_graph = c.graph_normalizes;
    Result<Network> net = Load(testing::WriteGraphModel(source, o), c.range);
    ASSERT_TRUE(net.ok()) << net.status().ToString();
    const double mul = c.graph_normalizes ? 2 : 1, add = c.graph_normalizes ? -1 : 0;
    for (int pixel : {0, 77, 255}) {
      const double want = mul * (c.lo + pixel * (c.hi - c.lo) / 255) + add;
      EXPECT_NEAR(net->input.scale * (pixel - net->input.zero_point), want, 1e-5 * std::max(1.0, std::fabs(want)))
          << pixel << " in [" << c.range.min << ", " << c.range.max << "]";
    }
  }
  for (model::InputRange bad : {model::InputRange{1, 0}, model::InputRange{0, NAN}, model::InputRange{-INFINITY, 1}}) {
    Result<Network> net = Load(testing::WriteLayersModel(source), bad);
    ASSERT_FALSE(net.ok());
    EXPECT_EQ(net.status().code(), ErrorCode::kInvalidArgument);
  }
}

// ---------------------------------------------------------------------------------------------
// Broken files: clear errors with the robustness codes.

TfjsFiles SmallLayers() { return testing::WriteLayersModel(SyntheticNetwork(0.35f, 32, 3, 3)); }

void Replace(std::string* s, const std::string& from, const std::string& to) {
  const size_t at = s->find(from);
  ASSERT_NE(at, std::string::npos) << from;
  s->replace(at, from.size(), to);
}

void ExpectError(const Result<Network>& net, ErrorCode code, const std::string& fragment) {
  ASSERT_FALSE(net.ok());
  EXPECT_EQ(net.status().code(), code) << net.status().ToString();
  EXPECT_NE(net.status().message().find(fragment), std::string::npos) << net.status().message();
}

TEST(TfjsMalformed, ShortOrLongWeights) {
  TfjsFiles f = SmallLayers();
  f.weights.pop_back();
  ExpectError(Load(f), ErrorCode::kModelFormat, "is a weight shard missing or truncated?");
  f.weights.resize(f.weights.size() / 2);
  ExpectError(Load(f), ErrorCode::kModelFormat, "is a weight shard missing or truncated?");
  f = SmallLayers();
  f.weights.push_back(0);
  ExpectError(Load(f), ErrorCode::kModelFormat, "but the weightsManifest describes");
  f.weights.clear();
  ExpectError(model::LoadTfjs(f.json.data(), f.json.size(), nullptr, 0), ErrorCode::kModelFormat, "truncated");
}

TEST(TfjsMalformed, WrongShapesMissingWeightsAndTypes) {
  struct Edit { const char* from; const char* to; ErrorCode code; const char* fragment; };
  const Edit edits[] = {
      {R"("name":"Conv1/kernel","shape":[3,3,3,)", R"("name":"Conv1/kernel","shape":[3,3,4,)", ErrorCode::kModelFormat,
       "is a weight shard missing or truncated?"},
      {R"("name":"bn_Conv1/gamma")", R"("name":"bn_Conv1/gamme")", ErrorCode::kModelFormat,
       "'bn_Conv1/gamma' is not in the weightsManifest"},
      {R"("name":"Conv1/kernel","shape":[3,3,3,16])", R"("name":"Conv1/kernel","shape":[9,3,16])",
       ErrorCode::kUnsupportedModel, "the weight 'Conv1/kernel' has shape [9,3,16]"},
      {R"("name":"Conv1/kernel","shape":[3,3,3,16],"dtype":"float32")",
       R"("name":"Conv1/kernel","shape":[3,3,3,16],"dtype":"complex64")", ErrorCode::kUnsupportedModel,
       "dtype 'complex64'"},
      {R"("filters":16,)", R"("filters":17,)", ErrorCode::kUnsupportedModel, "17 filters"},
      {R"("class_name":"DepthwiseConv2D")", R"("class_name":"SeparableConv2D")", ErrorCode::kUnsupportedOp,
       "is a SeparableConv2D, which this engine does not run"},
      {R"("max_value":6,"negative_slope":0)", R"("max_value":6,"negative_slope":0.1)", ErrorCode::kUnsupportedOp,
       "is not relu or relu6"},
      {R"("activation":"softmax")", R"("activation":"swish")", ErrorCode::kUnsupportedOp, "activation 'swish'"},
      {R"("strides":[2,2])", R"("strides":[3,3])", ErrorCode::kUnsupportedModel, "strides 3x3"},
      {R"("batch_input_shape":[null,32,32,3])", R"("batch_input_shape":[null,32,32,4])", ErrorCode::kUnsupportedModel,
       "expected [1, height, width, 3]"},
      {R"("modelTopology")", R"("modelTopologie")", ErrorCode::kModelFormat, "no modelTopology"},
      {R"("output_layers":[[")", R"("output_layers":[["x",0,0],[")", ErrorCode::kUnsupportedModel, "exactly one entry"},
      {R"("class_name":"Model")", R"("class_name":"Sequential2")", ErrorCode::kUnsupportedModel, "Sequential2"},
      {R"([[["bn_Conv1",0,0,{}]]])", R"([[["Conv1_relu",0,0,{}]]])", ErrorCode::kModelFormat, "reads its own output"},
      {R"({"name":"Conv1_relu","class_name":"ReLU","config":{"name":"Conv1_relu",)",
       R"({"name":"Conv1","class_name":"ReLU","config":{"name":"Conv1",)", ErrorCode::kModelFormat,
       "two layers are named 'Conv1'"},
  };
  for (const Edit& e : edits) {
    SCOPED_TRACE(e.to);
    TfjsFiles f = SmallLayers();
    Replace(&f.json, e.from, e.to);
    ExpectError(Load(f), e.code, e.fragment);
  }
}

TEST(TfjsMalformed, QuantizationAndValues) {
  TfjsWriteOptions o;
  o.quantization = TfjsQuantization::kUint8;
  TfjsFiles f = testing::WriteLayersModel(SyntheticNetwork(0.35f, 32, 3, 3), o);
  std::string json = f.json;
  Replace(&f.json, R"("dtype":"uint8","min")", R"("dtype":"uint8","mín")");
  ExpectError(Load(f), ErrorCode::kModelFormat, "without min and scale");
  f.json = json;
  Replace(&f.json, R"("dtype":"uint8")", R"("dtype":"int4")");
  ExpectError(Load(f), ErrorCode::kUnsupportedModel, "quantized to 'int4'");

  f = SmallLayers();
  const float inf = INFINITY;
  std::memcpy(f.weights.data(), &inf, 4);
  ExpectError(Load(f), ErrorCode::kModelFormat, "not finite");
}

TEST(TfjsMalformed, GraphErrorsNameTheNode) {
  const TfjsFiles good = testing::WriteGraphModel(SyntheticNetwork(0.35f, 32, 3, 3));
  struct Edit { const char* from; const char* to; ErrorCode code; const char* fragment; };
  const Edit edits[] = {
      {R"("op":"Softmax")", R"("op":"Sigmoid")", ErrorCode::kUnsupportedOp, "is a Sigmoid, which this engine does not run"},
      {R"("op":"AddV2")", R"("op":"Maximum")", ErrorCode::kUnsupportedOp, "Maximum"},
      {R"("input":["MobilenetV2/Conv_1/Relu6",)", R"("input":["nowhere",)", ErrorCode::kModelFormat,
       "reads 'nowhere', which no node produces"},
      {R"("UmVsdTY="]})", R"("TGVha3lSZWx1"]})", ErrorCode::kUnsupportedOp, "fuses BiasAdd LeakyRelu"},
      {R"({"name":"Identity","op":"Identity","input":["prediction/Softmax"])",
       R"({"name":"Identity","op":"Identity","input":["Identity"])", ErrorCode::kModelFormat, "cycle"},
      {R"("format":"graph-model")", R"("format":"saved-model")", ErrorCode::kUnsupportedModel, "format 'saved-model'"},
      {R"("op":"Placeholder")", R"("op":"Const")", ErrorCode::kUnsupportedModel, "does not combine an activation"},
  };
  for (const Edit& e : edits) {
    SCOPED_TRACE(e.to);
    TfjsFiles f = good;
    Replace(&f.json, e.from, e.to);
    ExpectError(Load(f), e.code, e.fragment);
  }
}

TEST(TfjsMalformed, NotAModel) {
  for (const char* json : {"[]", "{}", "{\"modelTopology\":{},\"weightsManifest\":{}}", "null", "{\"modelTopology\":1}"}) {
    SCOPED_TRACE(json);
    Result<Network> net = model::LoadTfjs(json, std::strlen(json), nullptr, 0);
    ASSERT_FALSE(net.ok());
    EXPECT_EQ(net.status().code(), ErrorCode::kModelFormat) << net.status().message();
  }
  const std::string bad = "{\"modelTopology\": {]";
  ExpectError(model::LoadTfjs(bad.data(), bad.size(), nullptr, 0), ErrorCode::kModelFormat,
              "model.json: malformed JSON at line 1, column 20");
}

TEST(TfjsMalformed, LimitsComeFirst) {
  const TfjsFiles f = SmallLayers();
  model::Limits limits;
  limits.max_model_bytes = f.json.size() + f.weights.size() - 1;
  ExpectError(Load(f, {}, limits), ErrorCode::kModelTooLarge, "the limit is");
  // The weights alone, then the weights and the largest layer's activations.
  limits = {};
  limits.max_memory_bytes = 64 << 10;
  ExpectError(Load(f, {}, limits), ErrorCode::kModelTooLarge, "the model's weights need");
  limits.max_memory_bytes = f.weights.size() / 4 * 8 + 4096;
  ExpectError(Load(f, {}, limits), ErrorCode::kModelTooLarge, "MB of memory, the limit (reached at");
}

TEST(TfjsMalformed, CorruptedFilesNeverCrash) {
  const TfjsFiles layers = SmallLayers();
  const TfjsFiles graph = testing::WriteGraphModel(SyntheticNetwork(0.35f, 32, 3, 3));
  std::mt19937 rng(11);
  for (const TfjsFiles* good : {&layers, &graph}) {
    for (int round = 0; round < 200; ++round) {
      TfjsFiles f = *good;
      for (int k = 0; k < 3; ++k) f.json[rng() % f.json.size()] = "0123456789[]{},:\"-.ae "[rng() % 22];
      Result<Network> net = Load(f);
      if (!net.ok()) {
        const ErrorCode c = net.status().code();
        EXPECT_TRUE(c == ErrorCode::kModelFormat || c == ErrorCode::kUnsupportedModel ||
                    c == ErrorCode::kUnsupportedOp || c == ErrorCode::kModelTooLarge)
            << net.status().ToString();
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// The real nsfwjs models (decoded from node_modules by tests/js/nsfwjs.js before the suites).

std::string NsfwjsDir(const std::string& name) { return testing::FixturesDir() + "/nsfwjs/" + name; }

Result<Network> LoadNsfwjs(const std::string& name, const std::vector<std::string>& shards, model::InputRange range) {
  const std::string dir = NsfwjsDir(name);
  const std::vector<uint8_t> json = testing::ReadFileOrFail(dir + "/model.json");
  std::vector<uint8_t> weights;
  for (const std::string& s : shards) {
    const std::vector<uint8_t> bytes = testing::ReadFileOrFail(dir + "/" + s);
    weights.insert(weights.end(), bytes.begin(), bytes.end());
  }
  return model::LoadTfjs(reinterpret_cast<const char*>(json.data()), json.size(), weights.data(), weights.size(), range);
}

bool HaveNsfwjs() {
  FILE* f = std::fopen((NsfwjsDir("mobilenet_v2_mid") + "/group1-shard2of2").c_str(), "rb");
  if (f) std::fclose(f);
  return f != nullptr;
}

TEST(Nsfwjs, LayersModel) {
  if (!HaveNsfwjs()) GTEST_SKIP() << "nsfwjs is not installed (npm ci), or its models were not decoded";
  Result<Network> net = LoadNsfwjs("mobilenet_v2", {"group1-shard1of1"}, {0, 1});
  ASSERT_TRUE(net.ok()) << net.status().ToString();
  EXPECT_EQ(net->input.height, 224);
  EXPECT_EQ(net->blocks.size(), 17u);
  int residual = 0;
  for (const auto& b : net->blocks) residual += b.residual;
  EXPECT_EQ(residual, 10);
  EXPECT_EQ(net->stem.g.out_h, 112);
  EXPECT_EQ(net->stem.g.pad_top, 0);  // ZeroPadding2D ((0, 1), (0, 1)) + valid
  EXPECT_FLOAT_EQ(net->alpha(), 1.0f);
  EXPECT_EQ(net->feature_size(), 1280);
  ASSERT_EQ(net->hidden.size(), 2u);  // Dense(256, relu) -> Dense(128, relu) -> Dense(5, softmax)
  EXPECT_EQ(net->hidden[0].classes, 256);
  EXPECT_EQ(net->hidden[1].classes, 128);
  EXPECT_EQ(net->hidden[1].activation, model::Activation::kRelu);
  EXPECT_EQ(net->num_classes(), 5);
  EXPECT_TRUE(net->softmax);
  EXPECT_EQ(net->weight_type, "uint8");
  EXPECT_TRUE(net->quantized);
  EXPECT_FLOAT_EQ(net->input.scale, 1 / 255.0f);  // nsfwjs divides pixels by 255
  EXPECT_FLOAT_EQ(net->input.zero_point, 0);
}

TEST(Nsfwjs, GraphModel) {
  if (!HaveNsfwjs()) GTEST_SKIP() << "nsfwjs is not installed (npm ci), or its models were not decoded";
  Result<Network> net = LoadNsfwjs("mobilenet_v2_mid", {"group1-shard1of2", "group1-shard2of2"}, {0, 1});
  ASSERT_TRUE(net.ok()) << net.status().ToString();
  EXPECT_EQ(net->blocks.size(), 17u);
  EXPECT_EQ(net->stem.g.out_c, 48);  // alpha 1.4: make_divisible(32 * 1.4, 8)
  EXPECT_EQ(net->feature_size(), 1792);
  EXPECT_TRUE(net->hidden.empty());
  EXPECT_EQ(net->num_classes(), 5);
  EXPECT_TRUE(net->softmax);
  EXPECT_EQ(net->weight_type, "uint8");
  // Its Mul/Sub nodes map [0, 1] to [-1, 1]: with inputRange [0, 1], pixels land in [-1, 1].
  EXPECT_NEAR(net->input.scale * (0 - net->input.zero_point), -1, 1e-6);
  EXPECT_NEAR(net->input.scale * (255 - net->input.zero_point), 1, 1e-6);
  // Its default range is TF Hub's [0, 1] too.
  Result<Network> by_default = LoadNsfwjs("mobilenet_v2_mid", {"group1-shard1of2", "group1-shard2of2"}, {});
  ASSERT_TRUE(by_default.ok());
  EXPECT_EQ(by_default->input.scale, net->input.scale);
  EXPECT_EQ(by_default->input.zero_point, net->input.zero_point);
}

}  // namespace
}  // namespace mnv2
