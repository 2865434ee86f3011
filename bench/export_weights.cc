// Exports the network our loader reads from a .tflite file — the same dequantized float32
// weights and the same geometry the engine runs — so that the benchmark can build the
// identical network for the anchor runtimes (bench/build_models.mjs, bench/engines.mjs).
//
//   mnv2_export_weights --model M.tflite --out DIR [--image PHOTO]
//
// writes DIR/weights.json (the manifest: one entry per layer, in execution order),
// DIR/weights.bin (every weight and bias, float32 little-endian, at the manifest's byte
// offsets) and, with --image, DIR/input.rgb: the photo decoded and resized to the model's
// input size by the project's Pillow-compatible resize (raw interleaved RGB bytes).
//
// Layer kinds: stem, expand, depthwise, project, head (MobileNetV2 only), classifier. Before the
// classifier sits a global average pool over the whole map. A project layer with
// "residual": true adds its block's input (the input of the block's expand, or of its
// depthwise when the block has no expand). Weight layouts are the engine's:
// conv OHWI [out_c][kh][kw][in_c], depthwise HWC [kh][kw][c], classifier [classes][features].
//
// When the model runs on the integer path (a fully 8-bit quantized .tflite), the manifest also
// holds what that path runs, as the model layer parsed it from the file: each layer's "quant"
// (input and output scale / zero point, the stored 8-bit weights with their per-tensor or
// per-channel scales and zero points, the int32 bias; a residual project layer's ADD output as
// "add_output") and the graph's "quant" (the input's, the requantizations after the input and
// before the output, pooling and softmax). Those integers go to DIR/weights_q.bin: weights as
// stored bytes (int8 as two's complement) in the float weights' layout, biases int32 little-endian
// at 4-byte aligned offsets. bench/lib/onnx.mjs builds the integer ONNX model from them.
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>

#include "image/image.h"
#include "model/builder.h"
#include "model/network.h"

namespace {

using mnv2::model::Activation;
using mnv2::model::ConvGeometry;
using mnv2::model::LayerQuantization;
using mnv2::model::QuantParams;

bool ReadFile(const std::string& path, std::vector<uint8_t>* out) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return false;
  out->assign(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
  return !f.bad();
}

bool WriteFile(const std::string& path, const void* data, size_t size) {
  std::ofstream f(path, std::ios::binary);
  f.write(static_cast<const char*>(data), static_cast<std::streamsize>(size));
  return static_cast<bool>(f);
}

std::string JsonString(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    const unsigned char u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (u < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", u);
      out += buf;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

std::string JsonFloat(float v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.9g", static_cast<double>(v));
  return buf;
}

std::string Shape(std::initializer_list<int> dims) {
  std::string s = "[";
  for (int d : dims) s += (s.size() > 1 ? "," : "") + std::to_string(d);
  return s + "]";
}

std::string Quant(const QuantParams& q) {
  return "{\"scale\":" + JsonFloat(q.scale) + ",\"zero_point\":" + std::to_string(q.zero_point) +
         ",\"dtype\":\"" + (q.is_signed ? "int8" : "uint8") + "\"}";
}

std::string QuantList(const std::vector<QuantParams>& qs) {
  std::string s = "[";
  for (size_t i = 0; i < qs.size(); ++i) s += (i ? "," : "") + Quant(qs[i]);
  return s + "]";
}

template <typename T>
std::string List(const std::vector<T>& v, std::string (*item)(T)) {
  std::string s = "[";
  for (size_t i = 0; i < v.size(); ++i) s += (i ? "," : "") + item(v[i]);
  return s + "]";
}

std::string IntString(int32_t v) { return std::to_string(v); }

class Exporter {
 public:
  explicit Exporter(bool quantized) : quantized_(quantized) {}

  // Appends a tensor to the binary; returns its manifest entry.
  std::string Tensor(const std::vector<float>& v, const std::string& layout, const std::string& shape) {
    const size_t offset = blob_.size() * sizeof(float);
    blob_.insert(blob_.end(), v.begin(), v.end());
    std::ostringstream o;
    o << "{\"layout\":\"" << layout << "\",\"shape\":" << shape << ",\"offset\":" << offset
      << ",\"length\":" << v.size() << "}";
    return o.str();
  }

  // The integer layer: stored weights and int32 bias appended to the integer binary.
  std::string QuantLayer(const LayerQuantization& q, const std::string& layout, const std::string& shape,
                         const QuantParams* add_output) {
    const size_t w_offset = qblob_.size();
    qblob_.insert(qblob_.end(), q.weights.begin(), q.weights.end());
    while (qblob_.size() % 4) qblob_.push_back(0);
    const size_t b_offset = qblob_.size();
    for (int32_t b : q.bias) {
      const uint32_t u = static_cast<uint32_t>(b);
      for (int k = 0; k < 4; ++k) qblob_.push_back(static_cast<uint8_t>(u >> (8 * k)));
    }
    std::ostringstream o;
    o << "{\"input\":" << Quant(q.input) << ",\"output\":" << Quant(q.output) << ",\"weights\":{\"dtype\":\""
      << (q.weights_signed ? "int8" : "uint8") << "\",\"layout\":\"" << layout << "\",\"shape\":" << shape
      << ",\"offset\":" << w_offset << ",\"length\":" << q.weights.size()
      << "},\"weight_scales\":" << List<float>(q.weight_scales, JsonFloat)
      << ",\"weight_zero_points\":" << List<int32_t>(q.weight_zero_points, IntString)
      << ",\"bias\":{\"dtype\":\"int32\",\"layout\":\"C\",\"offset\":" << b_offset << ",\"length\":" << q.bias.size()
      << "}";
    if (add_output) o << ",\"add_output\":" << Quant(*add_output);
    o << "}";
    return o.str();
  }

  void Conv(const std::string& kind, int block, const std::string& name, const ConvGeometry& g, Activation act,
            const std::vector<float>& weights, const std::vector<float>& bias, bool depthwise, bool residual,
            const LayerQuantization& q, const QuantParams* add_output = nullptr) {
    // SAME padding puts the extra row/column at the end: what remains after pad_top/pad_left.
    const int pad_bottom = (g.out_h - 1) * g.stride + g.kernel_h - g.in_h - g.pad_top;
    const int pad_right = (g.out_w - 1) * g.stride + g.kernel_w - g.in_w - g.pad_left;
    std::ostringstream o;
    o << "{\"kind\":\"" << kind << "\",\"block\":" << block << ",\"name\":" << JsonString(name)
      << ",\"op\":\"" << (depthwise ? "depthwise_conv2d" : "conv2d") << "\""
      << ",\"in\":" << Shape({g.in_h, g.in_w, g.in_c}) << ",\"out\":" << Shape({g.out_h, g.out_w, g.out_c})
      << ",\"kernel\":" << Shape({g.kernel_h, g.kernel_w}) << ",\"stride\":" << g.stride
      << ",\"pad_top\":" << g.pad_top << ",\"pad_left\":" << g.pad_left << ",\"pad_bottom\":" << pad_bottom
      << ",\"pad_right\":" << pad_right << ",\"activation\":\"" << mnv2::model::ActivationName(act) << "\""
      << ",\"residual\":" << (residual ? "true" : "false") << ",\"weights\":"
      << (depthwise ? Tensor(weights, "HWC", Shape({g.kernel_h, g.kernel_w, g.out_c}))
                    : Tensor(weights, "OHWI", Shape({g.out_c, g.kernel_h, g.kernel_w, g.in_c})))
      << ",\"bias\":" << Tensor(bias, "C", Shape({g.out_c}));
    if (quantized_) {
      o << ",\"quant\":"
        << QuantLayer(q, depthwise ? "HWC" : "OHWI",
                      depthwise ? Shape({g.kernel_h, g.kernel_w, g.out_c})
                                : Shape({g.out_c, g.kernel_h, g.kernel_w, g.in_c}),
                      add_output);
    }
    o << "}";
    layers_.push_back(o.str());
  }

  void Classifier(const mnv2::model::Classifier& c) {
    std::ostringstream o;
    o << "{\"kind\":\"classifier\",\"block\":-1,\"name\":" << JsonString(c.name) << ",\"op\":\"fully_connected\""
      << ",\"features\":" << c.features << ",\"classes\":" << c.classes << ",\"activation\":\""
      << mnv2::model::ActivationName(c.activation) << "\",\"residual\":false,\"weights\":"
      << Tensor(c.weights, "OI", Shape({c.classes, c.features})) << ",\"bias\":" << Tensor(c.bias, "C", Shape({c.classes}));
    if (quantized_) o << ",\"quant\":" << QuantLayer(c.q, "OI", Shape({c.classes, c.features}), nullptr);
    o << "}";
    layers_.push_back(o.str());
  }

  const std::vector<float>& blob() const { return blob_; }
  const std::vector<uint8_t>& qblob() const { return qblob_; }
  const std::vector<std::string>& layers() const { return layers_; }

 private:
  bool quantized_;
  std::vector<float> blob_;
  std::vector<uint8_t> qblob_;
  std::vector<std::string> layers_;
};

int Usage() {
  std::fprintf(stderr, "usage: mnv2_export_weights --model M.tflite --out DIR [--image PHOTO]\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::string model_path, out_dir, image_path;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (i + 1 >= argc) return Usage();
    if (a == "--model") model_path = argv[++i];
    else if (a == "--out") out_dir = argv[++i];
    else if (a == "--image") image_path = argv[++i];
    else return Usage();
  }
  if (model_path.empty() || out_dir.empty()) return Usage();

  std::vector<uint8_t> bytes;
  if (!ReadFile(model_path, &bytes)) {
    std::fprintf(stderr, "E_IO: cannot read %s\n", model_path.c_str());
    return 1;
  }
  mnv2::Result<mnv2::model::Network> loaded = mnv2::model::LoadTflite(bytes.data(), bytes.size());
  if (!loaded.ok()) {
    std::fprintf(stderr, "%s\n", loaded.status().ToString().c_str());
    return 1;
  }
  const mnv2::model::Network& net = *loaded;

  if (!net.hidden.empty()) {
    std::fprintf(stderr, "E_UNSUPPORTED: the exporter writes no hidden dense layers (%zu here)\n", net.hidden.size());
    return 1;
  }
  const mnv2::model::QuantizedGraph& qg = net.quant;
  Exporter ex(qg.available);
  ex.Conv("stem", -1, net.stem.name, net.stem.g, net.stem.activation, net.stem.weights, net.stem.bias, false, false,
          net.stem.q);
  for (size_t i = 0; i < net.blocks.size(); ++i) {
    const auto& b = net.blocks[i];
    const int block = static_cast<int>(i);
    if (b.has_expand) {
      ex.Conv("expand", block, b.expand.name, b.expand.g, b.expand.activation, b.expand.weights, b.expand.bias, false,
              false, b.expand.q);
    }
    ex.Conv("depthwise", block, b.depthwise.name, b.depthwise.g, b.depthwise.activation, b.depthwise.weights,
            b.depthwise.bias, true, false, b.depthwise.q);
    ex.Conv("project", block, b.project.name, b.project.g, b.project.activation, b.project.weights, b.project.bias,
            false, b.residual, b.project.q, b.residual ? &b.add_output : nullptr);
  }
  if (net.has_head) {  // MobileNetV1 pools its last block
    ex.Conv("head", -1, net.head.name, net.head.g, net.head.activation, net.head.weights, net.head.bias, false, false,
            net.head.q);
  }
  ex.Classifier(net.classifier);

  const std::vector<float>& blob = ex.blob();
  std::ostringstream m;
  const std::string source = model_path.substr(model_path.find_last_of('/') + 1);
  m << "{\n\"format\":\"mnv2-bench-weights/1\",\n\"source\":" << JsonString(source)
    << ",\n\"weight_type\":\"" << net.weight_type << "\",\"quantized\":" << (net.quantized ? "true" : "false")
    << ",\"family\":\"" << mnv2::model::FamilyName(net.family()) << "\",\"parameters\":" << net.Parameters()
    << ",\"alpha\":" << JsonFloat(net.alpha()) << ",\n\"input\":{\"height\":" << net.input.height
    << ",\"width\":" << net.input.width << ",\"channels\":" << net.input.channels << ",\"layout\":\"NHWC\""
    << ",\"quantized\":" << (net.input.quantized ? "true" : "false") << ",\"scale\":" << JsonFloat(net.input.scale)
    << ",\"zero_point\":" << JsonFloat(net.input.zero_point) << "},\n\"multiply_adds\":" << net.MultiplyAdds()
    << ",\"pool\":\"global_average\",\"softmax\":" << (net.softmax ? "true" : "false")
    << ",\"softmax_beta\":" << JsonFloat(net.softmax_beta) << ",\n\"binary\":\"weights.bin\",\"dtype\":\"float32\""
    << ",\"endian\":\"little\",\"byte_length\":" << blob.size() * sizeof(float) << ",\n\"quant\":";
  if (qg.available) {
    m << "{\"available\":true,\"binary\":\"weights_q.bin\",\"byte_length\":" << ex.qblob().size()
      << ",\"input\":" << Quant(qg.input) << ",\"input_requantize\":" << QuantList(qg.input_requantize)
      << ",\"pool\":\"" << (qg.pool_is_mean ? "mean" : "average_pool") << "\",\"pool_output\":" << Quant(qg.pool_output);
    if (net.softmax) m << ",\"softmax_input\":" << Quant(qg.softmax_input) << ",\"softmax_output\":" << Quant(qg.softmax_output);
    m << ",\"output_requantize\":" << QuantList(qg.output_requantize) << "}";
  } else {
    m << "{\"available\":false,\"reason\":" << JsonString(qg.unavailable_reason) << "}";
  }
  m << ",\n\"layers\":[\n";
  for (size_t i = 0; i < ex.layers().size(); ++i) m << ex.layers()[i] << (i + 1 < ex.layers().size() ? ",\n" : "\n");
  m << "]\n}\n";
  const std::string manifest = m.str();

  static_assert(sizeof(float) == 4, "float32");
  if (!WriteFile(out_dir + "/weights.bin", blob.data(), blob.size() * sizeof(float)) ||
      (qg.available && !WriteFile(out_dir + "/weights_q.bin", ex.qblob().data(), ex.qblob().size())) ||
      !WriteFile(out_dir + "/weights.json", manifest.data(), manifest.size())) {
    std::fprintf(stderr, "E_IO: cannot write to %s\n", out_dir.c_str());
    return 1;
  }
  std::printf("%s: %zu layers, %zu floats, %lld multiply-adds -> %s/weights.{json,bin}\n", source.c_str(),
              ex.layers().size(), blob.size(), static_cast<long long>(net.MultiplyAdds()), out_dir.c_str());
  if (qg.available) {
    std::printf("%s: integer path: %zu bytes of 8-bit weights and int32 biases -> %s/weights_q.bin\n", source.c_str(),
                ex.qblob().size(), out_dir.c_str());
  } else {
    std::printf("%s: no integer path (%s): no weights_q.bin\n", source.c_str(), qg.unavailable_reason.c_str());
  }

  if (!image_path.empty()) {
    std::vector<uint8_t> encoded;
    if (!ReadFile(image_path, &encoded)) {
      std::fprintf(stderr, "E_IO: cannot read %s\n", image_path.c_str());
      return 1;
    }
    mnv2::Result<mnv2::image::Image> img = mnv2::image::Decode(encoded.data(), encoded.size());
    if (!img.ok()) {
      std::fprintf(stderr, "%s\n", img.status().ToString().c_str());
      return 1;
    }
    const mnv2::image::Image resized = mnv2::image::Resize(*img, net.input.width, net.input.height);
    if (!WriteFile(out_dir + "/input.rgb", resized.rgb.data(), resized.rgb.size())) {
      std::fprintf(stderr, "E_IO: cannot write to %s\n", out_dir.c_str());
      return 1;
    }
    std::printf("%s: %dx%d resized to %dx%d -> %s/input.rgb\n", image_path.c_str(), img->width, img->height,
                resized.width, resized.height, out_dir.c_str());
  }
  return 0;
}
