// mnv2: the native command-line tool.
//   mnv2 classify --model M.tflite [--labels L.txt] [--top K] [--json] [--crop] [--raw WxH] IMAGE...
//   mnv2 segment --model M.tflite [--labels L.txt] [--out DIR] [--json] [--crop] IMAGE...
//   mnv2 info --model M.tflite
//   mnv2 train --model M.tflite --out OUT.tflite [--out-json OUT.json] [--epochs N] ... LABEL=FOLDER...
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "engine/planned.h"
#include "image/image.h"
#include "learner/learner.h"
#include "model/builder.h"
#include "model/labels.h"
#include "model/tflite_export.h"

namespace {

using mnv2::Result;
using mnv2::Status;

const char kUsage[] =
    "usage:\n"
    "  mnv2 classify --model M.tflite [--labels L.txt] [--top K] [--json] [--crop] [--raw WxH]\n"
    "                [--precision int8|fp32] [--threads N] IMAGE...\n"
    "  mnv2 segment --model M.tflite [--labels L.txt] [--out DIR] [--json] [--crop] [--opacity A]\n"
    "               [--precision int8|fp32] [--threads N] IMAGE...\n"
    "  mnv2 info --model M.tflite\n"
    "  mnv2 train --model M.tflite --out OUT.tflite [--out-json OUT.json] [--epochs N] [--learning-rate R]\n"
    "             [--l2 D] [--batch-size B] [--seed S] [--crop] [--precision int8|fp32] [--threads N] LABEL=FOLDER...\n"
    "\n"
    "classify  prints the top K (default 5) classes of each image (JPEG, PNG, BMP, GIF) and the inference time.\n"
    "  --labels L   label file, one class name per line (line i = class i); default: the model file's own\n"
    "  --json       one JSON object per image and line: {\"image\", \"top\": [{index, label, score}], \"ms\"}\n"
    "  --crop       center-crop to the model's aspect ratio instead of resizing the whole image\n"
    "  --raw WxH    the images are raw interleaved RGB bytes of W x H pixels\n"
    "  --precision P  int8: integer arithmetic (the default for quantized models), fp32: float32\n"
    "  --threads N  threads sharing each block's rows (default: the number of cores, at most 4)\n"
    "segment   (a segmentation model, e.g. DeepLabv3) writes for each image, into --out DIR (default .),\n"
    "          NAME.mask.png (8-bit gray, each pixel its class index, the photo's size) and NAME.overlay.png\n"
    "          (the photo with the classes colored, PASCAL VOC colors, --opacity A, default 0.6), and prints\n"
    "          the classes present with their share of the image (--json: one JSON object per image).\n"
    "info      prints the network the model file describes.\n"
    "train     learns new classes from folders of images (one per label: cat=photos/cats) on the model's\n"
    "          embeddings, trains a softmax head and writes the model with that head as a .tflite (labels\n"
    "          inside: classify --model OUT.tflite reads them).\n"
    "  --out F      the .tflite to write;  --out-json F: also the classifier as JSON (examples and head)\n"
    "  --epochs N, --learning-rate R, --l2 D, --batch-size B, --seed S   training (50, 0.1, 1e-4, 16, 1)\n";

Result<std::vector<uint8_t>> ReadFile(const std::string& path) {
  FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) return Status(mnv2::ErrorCode::kIo, "cannot open '" + path + "': " + std::strerror(errno));
  std::vector<uint8_t> bytes;
  uint8_t buf[1 << 16];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), f)) > 0) bytes.insert(bytes.end(), buf, buf + n);
  const bool failed = std::ferror(f);
  std::fclose(f);
  if (failed) return Status(mnv2::ErrorCode::kIo, "cannot read '" + path + "'");
  return bytes;
}

std::string JsonString(const std::string& s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20) {
      char esc[8];
      std::snprintf(esc, sizeof(esc), "\\u%04x", c);
      out += esc;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "\"";
}

struct Args {
  std::string command, model, labels;
  int top = 5;
  bool json = false, crop = false;
  int raw_w = 0, raw_h = 0;
  std::string precision;  // "int8", "fp32" or empty (int8 for quantized models)
  int threads = 0;        // 0: the number of cores, at most 4
  std::vector<std::string> images;  // train: LABEL=FOLDER
  std::string out, out_json;
  double opacity = 0.6;
  mnv2::learner::TrainOptions train;
};

// A number flag's value; false (and the error) when it is not one.
bool ParseNumber(const std::string& flag, const std::string& v, double* out, std::string* error) {
  char* end = nullptr;
  *out = std::strtod(v.c_str(), &end);
  if (v.empty() || *end != '\0') {
    *error = flag + " needs a number";
    return false;
  }
  return true;
}

bool ParseArgs(int argc, char** argv, Args* a, std::string* error) {
  if (argc < 2) return false;
  a->command = argv[1];
  for (int i = 2; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&](std::string* out) {
      if (i + 1 >= argc) {
        *error = arg + " needs a value";
        return false;
      }
      *out = argv[++i];
      return true;
    };
    std::string v;
    if (arg == "--model") {
      if (!value(&a->model)) return false;
    } else if (arg == "--labels") {
      if (!value(&a->labels)) return false;
    } else if (arg == "--top") {
      if (!value(&v)) return false;
      a->top = std::atoi(v.c_str());
      if (a->top < 1) {
        *error = "--top needs a positive number";
        return false;
      }
    } else if (arg == "--raw") {
      if (!value(&v)) return false;
      if (std::sscanf(v.c_str(), "%dx%d", &a->raw_w, &a->raw_h) != 2 || a->raw_w < 1 || a->raw_h < 1) {
        *error = "--raw needs WxH, e.g. 224x224";
        return false;
      }
    } else if (arg == "--precision") {
      if (!value(&a->precision)) return false;
      if (a->precision != "int8" && a->precision != "fp32") {
        *error = "--precision needs int8 or fp32";
        return false;
      }
    } else if (arg == "--threads") {
      if (!value(&v)) return false;
      a->threads = std::atoi(v.c_str());
      if (a->threads < 1 || a->threads > mnv2::engine::Workers::kMaxThreads) {
        *error = "--threads needs a number from 1 to " + std::to_string(mnv2::engine::Workers::kMaxThreads);
        return false;
      }
    } else if (arg == "--out") {
      if (!value(&a->out)) return false;
    } else if (arg == "--out-json") {
      if (!value(&a->out_json)) return false;
    } else if (arg == "--epochs" || arg == "--learning-rate" || arg == "--l2" || arg == "--batch-size" ||
               arg == "--seed") {
      double x;
      if (!value(&v) || !ParseNumber(arg, v, &x, error)) return false;
      // Counts and the seed are integers, as classifier.train() wants them (bin/cli.js).
      const bool integer = arg == "--epochs" || arg == "--batch-size" || arg == "--seed";
      if (integer && (x != std::floor(x) || x < 0 || x > 4294967295.0)) {
        *error = arg + " needs an integer from 0 up";
        return false;
      }
      if (arg == "--epochs") a->train.epochs = static_cast<int>(std::min(x, 1e9));
      if (arg == "--learning-rate") a->train.learning_rate = static_cast<float>(x);
      if (arg == "--l2") a->train.l2 = static_cast<float>(x);
      if (arg == "--batch-size") a->train.batch_size = static_cast<int>(std::min(x, 1e9));
      if (arg == "--seed") a->train.seed = static_cast<uint32_t>(x);
    } else if (arg == "--opacity") {
      if (!value(&v) || !ParseNumber(arg, v, &a->opacity, error)) return false;
      if (!(a->opacity >= 0 && a->opacity <= 1)) {
        *error = "--opacity needs a number from 0 to 1";
        return false;
      }
    } else if (arg == "--json") {
      a->json = true;
    } else if (arg == "--crop") {
      a->crop = true;
    } else if (arg == "--help" || arg == "-h") {
      return false;
    } else if (!arg.empty() && arg[0] == '-') {
      *error = "unknown option " + arg;
      return false;
    } else {
      a->images.push_back(arg);
    }
  }
  if (a->model.empty()) *error = "--model is required";
  return error->empty();
}

// The network in a model file, read as PlannedModel::Plan wants it (no float weights for
// 8-bit layers; `info` needs none either).
Result<mnv2::model::Network> LoadModel(const std::string& path) {
  Result<std::vector<uint8_t>> bytes = ReadFile(path);
  if (!bytes.ok()) return bytes.status();
  return mnv2::model::LoadTflite(bytes->data(), bytes->size(), {}, mnv2::engine::PlannedModel::ReadOptions());
}

// --threads, or by default the number of cores, at most 4.
int ThreadsToUse(int asked) {
  return asked ? asked : std::min(4, std::max(1, static_cast<int>(std::thread::hardware_concurrency())));
}

// An image file: encoded, or (raw_w > 0) raw interleaved RGB of raw_w x raw_h.
Result<mnv2::image::Image> ReadImage(const std::string& path, int raw_w, int raw_h) {
  Result<std::vector<uint8_t>> bytes = ReadFile(path);
  if (!bytes.ok()) return bytes.status();
  if (!raw_w) return mnv2::image::Decode(bytes->data(), bytes->size());
  if (bytes->size() != static_cast<size_t>(raw_w) * raw_h * 3) {
    return Status(mnv2::ErrorCode::kInvalidArgument, "raw image holds " + std::to_string(bytes->size()) +
                                                         " bytes, not " + std::to_string(raw_w) + "x" +
                                                         std::to_string(raw_h) + "x3");
  }
  return mnv2::image::FromPixels(bytes->data(), raw_w, raw_h, 3, static_cast<size_t>(raw_w) * 3);
}

mnv2::engine::Precision ToPrecision(const std::string& precision) {
  if (precision == "int8") return mnv2::engine::Precision::kInt8;
  if (precision == "fp32") return mnv2::engine::Precision::kFp32;
  return mnv2::engine::Precision::kAuto;
}

int Info(const Args& a) {
  Result<mnv2::model::Network> net = LoadModel(a.model);
  if (!net.ok()) {
    std::fprintf(stderr, "mnv2: %s: %s\n", a.model.c_str(), net.status().ToString().c_str());
    return 1;
  }
  const mnv2::model::Network& n = *net;
  std::printf("input       %dx%dx%d, %s (real = %g * (pixel - %g))\n", n.input.height, n.input.width,
              n.input.channels, n.input.quantized ? "quantized" : "float", n.input.scale, n.input.zero_point);
  std::printf("task        %s\nfamily      %s\nalpha       %.3g\nweights     %s\nblocks      %zu\nfeatures    %d\n"
              "classes     %d\n",
              mnv2::model::TaskName(n.task), mnv2::model::FamilyName(n.family()), n.alpha(), n.weight_type.c_str(),
              n.blocks.size(), n.feature_size(), n.num_classes());
  std::printf("multiply-adds %.1f M\nparameters    %.2f M\n", static_cast<double>(n.MultiplyAdds()) / 1e6,
              static_cast<double>(n.Parameters()) / 1e6);
  std::printf("integer path  %s\n", n.quant.available ? "yes (int8 is the default precision)"
                                                      : ("no: " + n.quant.unavailable_reason).c_str());
  for (size_t i = 0; i < n.blocks.size(); ++i) {
    const auto& b = n.blocks[i];
    std::printf("  block %2zu  %3dx%-3d %4d -> %4d -> %4d  stride %d%s%s\n", i, b.depthwise.g.in_h,
                b.depthwise.g.in_w, b.has_expand ? b.expand.g.in_c : b.depthwise.g.in_c, b.depthwise.g.in_c,
                b.project.g.out_c, b.depthwise.g.stride, b.depthwise.g.dilation > 1 ? "  dilated" : "",
                b.residual ? "  residual" : "");
  }
  return 0;
}

// The model of classify and segment, planned, with its labels (the file's own, unless --labels).
struct Loaded {
  mnv2::model::Network net;
  std::vector<std::string> labels;
  mnv2::engine::PlannedModel model;
};

Result<Loaded> LoadPlanned(const Args& a) {
  auto with_path = [](const std::string& path, const Status& s) { return Status(s.code(), path + ": " + s.message()); };
  Result<mnv2::model::Network> net = LoadModel(a.model);
  if (!net.ok()) return with_path(a.model, net.status());
  Loaded l;
  l.labels = net->labels;
  if (!a.labels.empty()) {
    Result<std::vector<uint8_t>> text = ReadFile(a.labels);
    Result<std::vector<std::string>> parsed =
        text.ok() ? mnv2::model::ParseLabels(std::string(text->begin(), text->end()), net->num_classes())
                  : Result<std::vector<std::string>>(text.status());
    if (!parsed.ok()) return with_path(a.labels, parsed.status());
    l.labels = std::move(*parsed);
  }
  Result<mnv2::engine::PlannedModel> planned =
      mnv2::engine::PlannedModel::Plan(*net, ToPrecision(a.precision), ThreadsToUse(a.threads));
  if (!planned.ok()) return planned.status();
  l.model = std::move(*planned);
  l.net = std::move(*net);
  return l;
}

// Loads and plans the model for `task`; false (the error printed) when that fails.
bool Prepare(const Args& a, mnv2::model::Task task, Loaded* out) {
  if (a.images.empty()) {
    std::fprintf(stderr, "mnv2: no image given\n%s", kUsage);
    return false;
  }
  Result<Loaded> loaded = LoadPlanned(a);
  if (!loaded.ok()) {
    std::fprintf(stderr, "mnv2: %s\n", loaded.status().ToString().c_str());
    return false;
  }
  if (loaded->net.task != task) {
    const bool segments = loaded->net.task == mnv2::model::Task::kSegmentation;
    std::fprintf(stderr, "mnv2: %s: E_WRONG_TASK: this model %s images: run mnv2 %s\n", a.model.c_str(),
                 segments ? "segments" : "classifies", segments ? "segment" : "classify");
    return false;
  }
  *out = std::move(*loaded);
  return true;
}

// Reads each image of the command line and runs fn(path, image, fit), which returns false on a
// failure it has reported; an image that cannot be read is reported here. The exit code.
template <class Fn>
int ForEachImage(const Args& a, Fn&& fn) {
  int failures = 0;
  for (const std::string& path : a.images) {
    Result<mnv2::image::Image> img = ReadImage(path, a.raw_w, a.raw_h);
    if (!img.ok()) {
      std::fprintf(stderr, "mnv2: %s: %s\n", path.c_str(), img.status().ToString().c_str());
      ++failures;
      continue;
    }
    const mnv2::image::Fit fit = a.crop ? mnv2::image::Fit::kCenterCrop : mnv2::image::Fit::kStretch;
    if (!fn(path, *img, fit)) ++failures;
    std::fflush(stdout);
  }
  return failures ? 1 : 0;
}

int Classify(const Args& a) {
  Loaded loaded;
  if (!Prepare(a, mnv2::model::Task::kClassification, &loaded)) return a.images.empty() ? 2 : 1;
  const std::vector<std::string>& labels = loaded.labels;
  const mnv2::model::Network* net = &loaded.net;
  mnv2::engine::PlannedModel& model = loaded.model;
  return ForEachImage(a, [&](const std::string& path, const mnv2::image::Image& img, mnv2::image::Fit fit) {
    model.SetImage(img, fit);
    const auto start = std::chrono::steady_clock::now();
    model.Run();
    const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    const std::vector<mnv2::engine::Prediction> top =
        model.Top(a.top, mnv2::model::FirstRankedClass(net->num_classes(), labels));
    auto label = [&](int index) { return labels.empty() ? std::string() : labels[index]; };
    if (a.json) {
      std::string line = "{\"image\": " + JsonString(path) + ", \"top\": [";
      for (size_t i = 0; i < top.size(); ++i) {
        char score[32];
        std::snprintf(score, sizeof(score), "%.4f", top[i].score);
        line += std::string(i ? ", " : "") + "{\"index\": " + std::to_string(top[i].index) +
                ", \"label\": " + (labels.empty() ? "null" : JsonString(label(top[i].index))) +
                ", \"score\": " + score + "}";
      }
      char timing[48];
      std::snprintf(timing, sizeof(timing), "], \"ms\": %.2f}", ms);
      std::printf("%s%s\n", line.c_str(), timing);
    } else {
      std::printf("%s  (%.2f ms)\n", path.c_str(), ms);
      for (const auto& p : top) {
        std::printf("  %6.4f  %4d  %s\n", p.score, p.index, label(p.index).c_str());
      }
    }
    return true;
  });
}

// The image files of a folder, by name.
Result<std::vector<std::string>> ImagesIn(const std::string& folder) {
  std::error_code ec;
  std::vector<std::string> images;
  for (const auto& entry : std::filesystem::directory_iterator(folder, ec)) {
    std::string ext = entry.path().extension().string();
    std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
    if (ext == ".jpg" || ext == ".jpeg" || ext == ".png" || ext == ".bmp" || ext == ".gif") {
      images.push_back(entry.path().string());
    }
  }
  if (ec) return Status(mnv2::ErrorCode::kIo, "cannot read the folder " + folder + ": " + ec.message());
  if (images.empty()) return Status(mnv2::ErrorCode::kInvalidArgument, "no images (.jpg .jpeg .png .bmp .gif) in " + folder);
  std::sort(images.begin(), images.end());
  return images;
}

std::string Base64(const float* data, size_t count) {
  static const char kDigits[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  const uint8_t* b = reinterpret_cast<const uint8_t*>(data);
  const size_t n = count * sizeof(float);
  std::string out;
  for (size_t i = 0; i < n; i += 3) {
    const uint32_t v = (b[i] << 16) | (i + 1 < n ? b[i + 1] << 8 : 0) | (i + 2 < n ? b[i + 2] : 0);
    out += kDigits[v >> 18];
    out += kDigits[(v >> 12) & 63];
    out += i + 1 < n ? kDigits[(v >> 6) & 63] : '=';
    out += i + 2 < n ? kDigits[v & 63] : '=';
  }
  return out;
}

// What the JS API's classifier.toJSON() writes (web/classifier.js): fromJSON reads it.
std::string ClassifierJson(const mnv2::learner::Learner& l) {
  std::string out = "{\"format\": \"mobilenetv2-wasm/classifier\", \"version\": 1, \"featureSize\": " +
                    std::to_string(l.feature_size()) + ", \"labels\": [";
  for (size_t i = 0; i < l.labels().size(); ++i) out += (i ? ", " : "") + JsonString(l.labels()[i]);
  out += "], \"examples\": [";
  for (int i = 0; i < l.num_examples(); ++i) {
    out += std::string(i ? ", " : "") + "{\"label\": " + JsonString(l.label(l.example_label(i))) +
           ", \"embedding\": \"" + Base64(l.example(i), l.feature_size()) + "\"}";
  }
  const mnv2::learner::Head& h = l.head();
  out += "], \"head\": {\"weights\": \"" + Base64(h.weights.data(), h.weights.size()) + "\", \"bias\": \"" +
         Base64(h.bias.data(), h.bias.size()) + "\"}}\n";
  return out;
}

Status WriteFile(const std::string& path, const void* data, size_t size) {
  FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) return Status(mnv2::ErrorCode::kIo, "cannot create '" + path + "': " + std::strerror(errno));
  const bool ok = std::fwrite(data, 1, size, f) == size;
  if (std::fclose(f) != 0 || !ok) return Status(mnv2::ErrorCode::kIo, "cannot write '" + path + "'");
  return Status::Ok();
}

Status Train(const Args& a) {
  if (a.out.empty()) return Status(mnv2::ErrorCode::kInvalidArgument, "train needs --out FILE.tflite");
  MNV2_RETURN_IF_ERROR(mnv2::learner::CheckTrainOptions(a.train));
  std::vector<std::pair<std::string, std::string>> folders;
  for (const std::string& arg : a.images) {
    const size_t eq = arg.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == arg.size()) {
      return Status(mnv2::ErrorCode::kInvalidArgument, "train takes LABEL=FOLDER arguments, not '" + arg + "'");
    }
    folders.emplace_back(arg.substr(0, eq), arg.substr(eq + 1));
  }
  if (folders.size() < 2) return Status(mnv2::ErrorCode::kInvalidArgument, "train needs folders of at least two labels");
  Result<mnv2::model::Network> net = LoadModel(a.model);
  if (!net.ok()) return Status(net.status().code(), a.model + ": " + net.status().message());
  const int threads = ThreadsToUse(a.threads);
  Result<mnv2::engine::PlannedModel> planned = mnv2::engine::PlannedModel::Plan(*net, ToPrecision(a.precision), threads);
  if (!planned.ok()) return planned.status();
  mnv2::learner::Learner learner(net->feature_size());
  for (const auto& [label, folder] : folders) {
    const auto start = std::chrono::steady_clock::now();
    Result<std::vector<std::string>> images = ImagesIn(folder);
    if (!images.ok()) return images.status();
    int count = 0;
    for (const std::string& path : *images) {
      Result<mnv2::image::Image> img = ReadImage(path, 0, 0);
      if (!img.ok()) return Status(img.status().code(), path + ": " + img.status().message());
      planned->SetImage(*img, a.crop ? mnv2::image::Fit::kCenterCrop : mnv2::image::Fit::kStretch);
      planned->Run();
      Result<int> added = learner.AddExample(planned->features(), label);
      if (!added.ok()) return added.status();
      count = *added;
    }
    std::printf("%-16s%5d examples  (%.0f ms)\n", label.c_str(), count,
                std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
  }
  const auto start = std::chrono::steady_clock::now();
  MNV2_RETURN_IF_ERROR(learner.BeginTraining(a.train));
  float loss = 0;
  for (int epoch = 1; epoch <= a.train.epochs; ++epoch) {
    Result<float> l = learner.TrainEpoch();
    if (!l.ok()) return l.status();
    loss = *l;
    if (epoch == 1 || epoch == a.train.epochs || epoch % 10 == 0) {
      std::printf("epoch %4d/%d  loss %.4f\n", epoch, a.train.epochs, loss);
    }
  }
  std::printf("trained %d epochs in %.0f ms, loss %.4f\n", a.train.epochs,
              std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count(), loss);
  Result<std::vector<uint8_t>> file = mnv2::model::ExportTflite(*net, learner.head(), learner.labels());
  if (!file.ok()) return file.status();
  MNV2_RETURN_IF_ERROR(WriteFile(a.out, file->data(), file->size()));
  std::printf("wrote %s (%zu bytes)\n", a.out.c_str(), file->size());
  if (!a.out_json.empty()) {
    const std::string json = ClassifierJson(learner);
    MNV2_RETURN_IF_ERROR(WriteFile(a.out_json, json.data(), json.size()));
    std::printf("wrote %s\n", a.out_json.c_str());
  }
  return Status::Ok();
}

}  // namespace

// The file name of an image without folders and extension: NAME of photos/NAME.jpg.
std::string Stem(const std::string& path) { return std::filesystem::path(path).stem().string(); }

int Segment(const Args& a) {
  Loaded loaded;
  if (!Prepare(a, mnv2::model::Task::kSegmentation, &loaded)) return a.images.empty() ? 2 : 1;
  const std::string folder = a.out.empty() ? "." : a.out;
  std::error_code error;
  std::filesystem::create_directories(folder, error);
  return ForEachImage(a, [&](const std::string& path, const mnv2::image::Image& photo, mnv2::image::Fit fit) {
    const mnv2::image::Image* img = &photo;
    std::vector<uint8_t> mask(static_cast<size_t>(img->width) * img->height);
    const auto start = std::chrono::steady_clock::now();
    loaded.model.SetImage(*img, fit);
    loaded.model.Run();
    loaded.model.Segment(img->width, img->height, fit, mask.data());
    const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    const std::string base = (std::filesystem::path(folder) / Stem(path)).string();
    const std::vector<uint8_t> mask_png = mnv2::image::EncodePng(mask.data(), img->width, img->height, 1);
    const mnv2::image::Image overlay = mnv2::image::Overlay(*img, mask.data(), static_cast<float>(a.opacity));
    const std::vector<uint8_t> overlay_png = mnv2::image::EncodePng(overlay.rgb.data(), img->width, img->height, 3);
    Status written = WriteFile(base + ".mask.png", mask_png.data(), mask_png.size());
    if (written.ok()) written = WriteFile(base + ".overlay.png", overlay_png.data(), overlay_png.size());
    if (mask_png.empty() || overlay_png.empty() || !written.ok()) {
      std::fprintf(stderr, "mnv2: %s: %s\n", path.c_str(),
                   written.ok() ? "cannot encode the PNG files" : written.ToString().c_str());
      return false;
    }
    std::vector<size_t> counts(256, 0);
    for (uint8_t c : mask) ++counts[c];
    const double pixels = static_cast<double>(mask.size());
    auto label = [&](int index) {
      return static_cast<size_t>(index) < loaded.labels.size() ? loaded.labels[index] : std::string();
    };
    if (a.json) {
      std::string line = "{\"image\": " + JsonString(path) + ", \"width\": " + std::to_string(img->width) +
                         ", \"height\": " + std::to_string(img->height) + ", \"classes\": [";
      bool first = true;
      for (int c = 0; c < 256; ++c) {
        if (!counts[c]) continue;
        char share[32];
        std::snprintf(share, sizeof(share), "%.4f", counts[c] / pixels);
        line += std::string(first ? "" : ", ") + "{\"index\": " + std::to_string(c) + ", \"label\": " +
                (loaded.labels.empty() ? "null" : JsonString(label(c))) + ", \"pixels\": " +
                std::to_string(counts[c]) + ", \"share\": " + share + "}";
        first = false;
      }
      char timing[48];
      std::snprintf(timing, sizeof(timing), ", \"ms\": %.2f}", ms);
      std::printf("%s], \"mask\": %s, \"overlay\": %s%s\n", line.c_str(), JsonString(base + ".mask.png").c_str(),
                  JsonString(base + ".overlay.png").c_str(), timing);
    } else {
      std::printf("%s  %dx%d  (%.2f ms)  -> %s.mask.png, %s.overlay.png\n", path.c_str(), img->width, img->height, ms,
                  base.c_str(), base.c_str());
      for (int c = 0; c < 256; ++c) {
        if (counts[c]) std::printf("  %5.1f%%  %3d  %s\n", 100.0 * counts[c] / pixels, c, label(c).c_str());
      }
    }
    return true;
  });
}

int main(int argc, char** argv) {
  Args args;
  std::string error;
  if (!ParseArgs(argc, argv, &args, &error)) {
    if (!error.empty()) std::fprintf(stderr, "mnv2: %s\n", error.c_str());
    std::fprintf(error.empty() ? stdout : stderr, "%s", kUsage);
    return error.empty() ? 0 : 2;
  }
  if (args.command == "classify") return Classify(args);
  if (args.command == "info") return Info(args);
  if (args.command == "segment") return Segment(args);
  if (args.command == "train") {
    const Status s = Train(args);
    if (!s.ok()) std::fprintf(stderr, "mnv2: train: %s\n", s.ToString().c_str());
    return s.ok() ? 0 : 1;
  }
  std::fprintf(stderr, "mnv2: unknown command '%s'\n%s", args.command.c_str(), kUsage);
  return 2;
}
