// The weightsManifest of a TF.js model.json over the concatenated shard bytes, and the JSON
// helpers both TF.js formats use.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "model/float16.h"
#include "model/tfjs_internal.h"

namespace mnv2 {
namespace model {

Status TfjsUnsupported(const std::string& message) {
  return Status(ErrorCode::kUnsupportedModel, "not a supported MobileNetV2 model: " + message);
}

Status TfjsMalformed(const std::string& message) {
  return Status(ErrorCode::kModelFormat, "malformed TF.js model: " + message);
}

std::string DimsString(const std::vector<int64_t>& dims) {
  std::string s = "[";
  for (size_t i = 0; i < dims.size(); ++i) s += (i ? "," : "") + std::to_string(dims[i]);
  return s + "]";
}

bool JsonInt(const JsonValue* v, int64_t* out) {
  if (v == nullptr) return false;
  if (v->is_number()) {
    const double x = v->number();
    if (x != std::floor(x) || std::fabs(x) > 9.0e15) return false;
    *out = static_cast<int64_t>(x);
    return true;
  }
  // TF attributes hold 64-bit integers as strings: "-1", "224".
  const std::string& s = v->string();
  if (!v->is_string() || s.empty() || s.size() > 16) return false;
  int64_t x = 0;
  for (size_t i = s[0] == '-' ? 1 : 0; i < s.size(); ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    x = x * 10 + (s[i] - '0');
  }
  if (s == "-") return false;
  *out = s[0] == '-' ? -x : x;
  return true;
}

bool JsonNumber(const JsonValue* v, double* out) {
  if (v == nullptr || !v->is_number()) return false;
  *out = v->number();
  return true;
}

bool JsonString(const JsonValue* v, std::string* out) {
  if (v == nullptr || !v->is_string()) return false;
  *out = v->string();
  return true;
}

Status InputSize(const std::vector<int64_t>& dims, const std::string& what, int* height, int* width) {
  if (dims.size() != 4 || dims[3] != 3 || (dims[0] != -1 && dims[0] != 1)) {
    return TfjsUnsupported(what + " has shape " + DimsString(dims) + "; expected [1, height, width, 3]");
  }
  const int64_t h = dims[1] < 0 ? 224 : dims[1], w = dims[2] < 0 ? 224 : dims[2];
  if (h < 8 || w < 8 || h > kMaxInputSide || w > kMaxInputSide) {
    return TfjsUnsupported("input size " + std::to_string(w) + "x" + std::to_string(h) + " is outside 8.." +
                           std::to_string(kMaxInputSide));
  }
  *height = static_cast<int>(h);
  *width = static_cast<int>(w);
  return Status::Ok();
}

TfjsOp BatchNormOp(const std::vector<float>& gamma, const std::vector<float>& beta, const std::vector<float>& mean,
                   const std::vector<float>& variance, double epsilon) {
  TfjsOp op;
  op.kind = TfjsOpKind::kBatchNorm;
  for (size_t c = 0; c < mean.size(); ++c) {
    const double scale = gamma[c] / std::sqrt(static_cast<double>(variance[c]) + epsilon);
    op.bn_scale.push_back(scale);
    op.bn_offset.push_back(beta[c] - mean[c] * scale);
  }
  return op;
}

namespace {

// Bytes per element as stored; 0 for what we cannot size (strings).
size_t StoredSize(const TfjsWeightSpec& s) {
  if (s.quantization == "uint8") return 1;
  if (s.quantization == "uint16" || s.quantization == "float16") return 2;
  if (s.dtype == "float32" || s.dtype == "int32") return 4;
  if (s.dtype == "bool") return 1;
  return 0;
}

constexpr int64_t kMaxElements = int64_t{1} << 32;

Status ReadSpec(const JsonValue& w, TfjsWeightSpec* spec) {
  if (!JsonString(w.Find("name"), &spec->name) || spec->name.empty()) {
    return TfjsMalformed("a weightsManifest entry has no name");
  }
  const std::string what = "weight '" + spec->name + "'";
  const JsonValue* shape = w.Find("shape");
  if (shape == nullptr || !shape->is_array() || shape->size() > kMaxTensorRank) {
    return TfjsMalformed(what + " has no shape (a list of at most " + std::to_string(kMaxTensorRank) + " sizes)");
  }
  spec->elements = 1;
  for (const JsonValue& d : shape->items()) {
    int64_t n;
    if (!JsonInt(&d, &n) || n < 0 || n > kMaxElements) return TfjsMalformed(what + " has an invalid shape");
    spec->shape.push_back(n);
    spec->elements = std::min(spec->elements * n, kMaxElements);
  }
  if (!JsonString(w.Find("dtype"), &spec->dtype)) return TfjsMalformed(what + " has no dtype");
  if (spec->dtype != "float32" && spec->dtype != "int32" && spec->dtype != "bool") {
    return TfjsUnsupported(what + " has dtype '" + spec->dtype + "' (supported: float32, int32, bool)");
  }
  if (const JsonValue* q = w.Find("quantization")) {
    if (!JsonString(q->Find("dtype"), &spec->quantization)) return TfjsMalformed(what + " has a quantization without dtype");
    if (spec->quantization == "uint8" || spec->quantization == "uint16") {
      if (!JsonNumber(q->Find("min"), &spec->min) || !JsonNumber(q->Find("scale"), &spec->scale)) {
        return TfjsMalformed(what + " is quantized to " + spec->quantization + " without min and scale");
      }
    } else if (spec->quantization != "float16") {
      return TfjsUnsupported(what + " is quantized to '" + spec->quantization + "' (supported: uint8, uint16, float16)");
    }
    if (spec->dtype == "bool" || (spec->quantization == "float16" && spec->dtype != "float32")) {
      return TfjsMalformed(what + " of dtype " + spec->dtype + " cannot be quantized to " + spec->quantization);
    }
  }
  return Status::Ok();
}

}  // namespace

Result<TfjsWeights> TfjsWeights::Read(const JsonValue& manifest, const uint8_t* data, size_t size,
                                      const Limits& limits) {
  if (!manifest.is_array()) return TfjsMalformed("weightsManifest is not a list of weight groups");
  TfjsWeights w;
  w.data_ = data;
  size_t offset = 0;
  int64_t float_elements = 0;
  for (const JsonValue& group : manifest.items()) {
    const JsonValue* specs = group.Find("weights");
    if (specs == nullptr || !specs->is_array()) return TfjsMalformed("a weightsManifest group has no weights list");
    for (const JsonValue& s : specs->items()) {
      TfjsWeightSpec spec;
      MNV2_RETURN_IF_ERROR(ReadSpec(s, &spec));
      const size_t elem = StoredSize(spec);
      spec.offset = offset;
      const uint64_t bytes = static_cast<uint64_t>(spec.elements) * elem;  // size_t may be 32 bits
      if (bytes > size - offset) {
        return TfjsMalformed("the weights end after " + std::to_string(size) + " bytes, but '" + spec.name +
                             "' needs bytes " + std::to_string(offset) + " to " + std::to_string(offset + bytes) +
                             " (is a weight shard missing or truncated?)");
      }
      spec.bytes = static_cast<size_t>(bytes);
      offset += spec.bytes;
      float_elements += spec.elements;
      if (!w.index_.emplace(spec.name, w.specs_.size()).second) {
        return TfjsMalformed("the weightsManifest lists '" + spec.name + "' twice");
      }
      w.specs_.push_back(std::move(spec));
    }
  }
  if (offset != size) {
    return TfjsMalformed("the weights hold " + std::to_string(size) + " bytes, but the weightsManifest describes " +
                         std::to_string(offset) + " (are the shards complete and in manifest order?)");
  }
  w.elements_ = float_elements;
  // Dequantized once by the loader and once packed by the engine, as model::Limits counts.
  if (static_cast<double>(float_elements) * 8 > static_cast<double>(limits.max_memory_bytes)) {
    return Status(ErrorCode::kModelTooLarge, "the model's weights need " + std::to_string((float_elements * 8) >> 20) +
                                                 " MB of memory; the limit is " +
                                                 std::to_string(limits.max_memory_bytes >> 20) + " MB");
  }
  return w;
}

const TfjsWeightSpec* TfjsWeights::Find(const std::string& name) const {
  auto it = index_.find(name);
  return it == index_.end() ? nullptr : &specs_[it->second];
}

Status TfjsWeights::Floats(const std::string& name, const std::vector<int64_t>& shape, const std::string& what,
                           std::vector<float>* out) const {
  const TfjsWeightSpec* s = Find(name);
  if (s == nullptr) return TfjsMalformed(what + " '" + name + "' is not in the weightsManifest");
  if (s->shape != shape) {
    return TfjsUnsupported(what + " '" + name + "' has shape " + DimsString(s->shape) + ", expected " +
                           DimsString(shape));
  }
  if (s->dtype != "float32") return TfjsUnsupported(what + " '" + name + "' has dtype " + s->dtype);
  const uint8_t* p = data_ + s->offset;
  const size_t n = static_cast<size_t>(s->elements);
  out->resize(n);
  if (s->quantization == "uint8" || s->quantization == "uint16") {
    // As TF.js computes it: in double, rounded to float.
    for (size_t i = 0; i < n; ++i) {
      uint16_t q = p[i];
      if (s->quantization == "uint16") std::memcpy(&q, p + 2 * i, 2);
      (*out)[i] = static_cast<float>(q * s->scale + s->min);
    }
  } else if (s->quantization == "float16") {
    for (size_t i = 0; i < n; ++i) {
      uint16_t h;
      std::memcpy(&h, p + 2 * i, 2);
      (*out)[i] = HalfToFloat(h);
    }
  } else if (n > 0) {
    std::memcpy(out->data(), p, 4 * n);
  }
  for (float v : *out) {
    if (!std::isfinite(v)) return TfjsMalformed(what + " '" + name + "' holds a value that is not finite");
  }
  return Status::Ok();
}

Status TfjsWeights::Ints(const std::string& name, const std::string& what, std::vector<int64_t>* out,
                         std::vector<int64_t>* shape) const {
  const TfjsWeightSpec* s = Find(name);
  if (s == nullptr) return TfjsMalformed(what + " '" + name + "' is not in the weightsManifest");
  if (s->dtype != "int32") return TfjsUnsupported(what + " '" + name + "' has dtype " + s->dtype + ", not int32");
  if (s->elements > 64) return TfjsUnsupported(what + " '" + name + "' has " + std::to_string(s->elements) + " values");
  const uint8_t* p = data_ + s->offset;
  out->clear();
  for (int64_t i = 0; i < s->elements; ++i) {
    if (s->quantization.empty()) {
      int32_t v;
      std::memcpy(&v, p + 4 * i, 4);
      out->push_back(v);
    } else {
      uint16_t q = p[i];
      if (s->quantization == "uint16") std::memcpy(&q, p + 2 * i, 2);
      out->push_back(static_cast<int64_t>(std::round(q * s->scale + s->min)));
    }
  }
  if (shape) *shape = s->shape;
  return Status::Ok();
}

std::string TfjsWeights::StorageType() const {
  std::map<std::string, int64_t> elements;
  for (const TfjsWeightSpec& s : specs_) {
    if (s.dtype == "float32") elements[s.quantization.empty() ? "float32" : s.quantization] += s.elements;
  }
  std::string best = "float32";
  int64_t most = -1;
  for (const auto& [type, n] : elements) {
    if (n > most) {
      best = type;
      most = n;
    }
  }
  return best;
}

}  // namespace model
}  // namespace mnv2
