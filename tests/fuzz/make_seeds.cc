// Writes the fuzzers' seed corpora (scripts/fuzz.sh runs it into build-fuzz/corpus, which
// git ignores): tiny synthetic models and images made here, plus the real files of
// ../shared, whole, truncated and re-encoded small. Nothing it writes is committed.
//   mnv2_fuzz_seeds OUT_DIR SHARED_DIR
#include <sys/stat.h>

#include <cstdint>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "image/image.h"
#include "model/builder.h"
#include "model/tflite_export.h"
#include "pipeline_input.h"
#include "tflite_writer.h"

#define STB_IMAGE_WRITE_STATIC
#define STB_IMAGE_WRITE_IMPLEMENTATION
#define STBI_WRITE_NO_STDIO
#include "stb_image_write.h"

namespace {

using Bytes = std::vector<uint8_t>;

Bytes ReadFile(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
}

void WriteFile(const std::string& path, const Bytes& bytes) {
  std::ofstream f(path, std::ios::binary);
  f.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

Bytes Prefix(const Bytes& b, size_t n) { return Bytes(b.begin(), b.begin() + std::min(n, b.size())); }

void AppendBytes(void* context, void* data, int size) {
  auto* out = static_cast<Bytes*>(context);
  out->insert(out->end(), static_cast<uint8_t*>(data), static_cast<uint8_t*>(data) + size);
}

// `rgb` (width x height x 3) with `channels` 1..4, as PNG, JPEG and BMP.
std::vector<std::pair<std::string, Bytes>> Encodings(const mnv2::image::Image& img, const std::string& name) {
  std::vector<std::pair<std::string, Bytes>> out;
  for (int channels : {1, 3, 4}) {
    Bytes px;
    for (size_t i = 0; i < img.rgb.size(); i += 3) {
      if (channels == 1) {
        px.push_back(img.rgb[i]);
      } else {
        px.insert(px.end(), img.rgb.begin() + i, img.rgb.begin() + i + 3);
        if (channels == 4) px.push_back(static_cast<uint8_t>(i));
      }
    }
    const std::string base = name + "_c" + std::to_string(channels);
    Bytes png, jpg, bmp;
    stbi_write_png_to_func(AppendBytes, &png, img.width, img.height, channels, px.data(), img.width * channels);
    stbi_write_jpg_to_func(AppendBytes, &jpg, img.width, img.height, channels, px.data(), 80);
    stbi_write_bmp_to_func(AppendBytes, &bmp, img.width, img.height, channels, px.data());
    out.push_back({base + ".png", png});
    out.push_back({base + ".jpg", jpg});
    out.push_back({base + ".bmp", bmp});
  }
  return out;
}

mnv2::image::Image Noise(int width, int height, uint32_t seed) {
  mnv2::image::Image img;
  img.width = width;
  img.height = height;
  for (int i = 0; i < width * height * 3; ++i) {
    seed = seed * 1664525u + 1013904223u;
    img.rgb.push_back(static_cast<uint8_t>(seed >> 24));
  }
  return img;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s OUT_DIR SHARED_DIR\n", argv[0]);
    return 2;
  }
  const std::string out = argv[1], shared = argv[2];
  for (const char* dir : {"", "/model", "/image", "/pipeline"}) mkdir((out + dir).c_str(), 0755);

  // Models: tiny synthetic ones in every weight type and layout, then the real ones.
  using mnv2::testing::WeightType;
  std::vector<Bytes> tiny_models;
  int n = 0;
  // Variants 4 and 5: MobileNetV1 (no expansion, ReLU6 projections, no head convolution).
  for (WeightType w : {WeightType::kFloat32, WeightType::kFloat16, WeightType::kUInt8, WeightType::kInt8PerChannel}) {
    for (int variant = 0; variant < 6; ++variant) {
      mnv2::testing::SyntheticSpec spec;
      spec.v1 = variant >= 4;
      spec.alpha = spec.v1 ? 0.25f : 0.35f;
      spec.resolution = variant == 3 ? 8 : 16 + 8 * variant;
      spec.classes = 3 + variant;
      spec.weights = w;
      spec.fc_classifier = variant & 1;
      spec.mean_pool = variant & 2;
      spec.quantize_edges = w == WeightType::kInt8PerChannel && variant < 2;
      spec.softmax = variant != 2;
      spec.blocks = variant == 3 ? 1 : 3;
      spec.head_channels = 16;
      spec.seed = static_cast<uint32_t>(n);
      const Bytes model = mnv2::testing::SyntheticMobileNetV2(spec);
      tiny_models.push_back(model);
      WriteFile(out + "/model/tiny_" + std::to_string(n++) + ".tflite", model);
    }
  }
  // Tiny DeepLabv3 graphs (segmentation): with and without the image-pooling branch, each resize mode.
  for (WeightType w : {WeightType::kFloat32, WeightType::kUInt8, WeightType::kInt8PerChannel}) {
    for (int variant = 0; variant < 3; ++variant) {
      mnv2::testing::SyntheticSpec spec;
      spec.alpha = 0.35f;
      spec.resolution = 17 + 8 * variant;
      spec.classes = 2 + variant;
      spec.weights = w;
      spec.segmentation = true;
      spec.image_pooling = variant != 1;
      spec.aspp_channels = 8;
      spec.align_corners = variant == 0;
      spec.half_pixel_centers = variant == 2;
      spec.seed = static_cast<uint32_t>(n);
      const Bytes model = mnv2::testing::SyntheticMobileNetV2(spec);
      tiny_models.push_back(model);
      WriteFile(out + "/model/segment_" + std::to_string(n++) + ".tflite", model);
    }
  }
  // Some of them with a learned head, as ExportTflite writes it (DEQUANTIZE, L2_NORMALIZATION,
  // a float classifier and labels in the metadata).
  for (size_t i = 0, plain = tiny_models.size(); i < plain; i += 5) {
    mnv2::Result<mnv2::model::Network> net = mnv2::model::LoadTflite(tiny_models[i].data(), tiny_models[i].size());
    if (!net.ok() || net->task != mnv2::model::Task::kClassification) continue;
    const int features = net->feature_size(), classes = 2 + static_cast<int>(i % 3);
    mnv2::model::DenseHead head{features, classes, std::vector<float>(static_cast<size_t>(features) * classes),
                                std::vector<float>(classes, 0.5f)};
    for (size_t w = 0; w < head.weights.size(); ++w) head.weights[w] = static_cast<float>(w % 7) - 3.0f;
    std::vector<std::string> labels;
    for (int c = 0; c < classes; ++c) labels.push_back("learned " + std::to_string(c));
    mnv2::Result<Bytes> exported = mnv2::model::ExportTflite(*net, head, labels);
    if (!exported.ok()) continue;
    tiny_models.push_back(*exported);
    WriteFile(out + "/model/export_" + std::to_string(i) + ".tflite", *exported);
  }
  for (const char* name : {"mobilenet_v2_1.0_224_quant.tflite", "tf2_mobilenet_v2_1.0_224_ptq.tflite",
                           "mobilenet_v2_1.0_224_inat_bird_quant.tflite", "mobilenet_v1_0.25_128_quant.tflite",
                           "deeplabv3_mnv2_dm05_pascal_quant.tflite"}) {
    const Bytes model = ReadFile(shared + "/models/" + name);
    if (model.empty()) continue;
    WriteFile(out + "/model/" + name, model);
    for (size_t len : {size_t{64}, size_t{4096}, size_t{65536}, model.size() / 2}) {
      WriteFile(out + "/model/" + name + ".cut" + std::to_string(len), Prefix(model, len));
    }
  }

  // Images: the real photos (whole, cut short, re-encoded small) and small made ones.
  std::vector<Bytes> small_images;
  auto add_small = [&](const mnv2::image::Image& img, const std::string& name) {
    for (const auto& [file, bytes] : Encodings(img, name)) {
      WriteFile(out + "/image/" + file, bytes);
      small_images.push_back(bytes);
    }
  };
  for (const char* name : {"cat.bmp", "bird.bmp", "dragonfly.bmp", "grace_hopper.bmp", "sunflower.bmp",
                           "missvickie_potato_chips.bmp", "cat_720p.jpg", "hot_dog.jpg", "owl.jpg", "parrot.jpg"}) {
    const Bytes photo = ReadFile(shared + "/images/" + name);
    if (photo.empty()) continue;
    WriteFile(out + "/image/" + name, photo);
    WriteFile(out + "/image/" + std::string(name) + ".cut1k", Prefix(photo, 1024));
    WriteFile(out + "/image/" + std::string(name) + ".cut_half", Prefix(photo, photo.size() / 2));
    mnv2::Result<mnv2::image::Image> img = mnv2::image::Decode(photo.data(), photo.size());
    if (!img.ok()) continue;
    add_small(mnv2::image::Resize(*img, 13, 9), std::string(name) + "_13x9");
  }
  add_small(Noise(1, 1, 1), "noise_1x1");
  add_small(Noise(17, 3, 2), "noise_17x3");
  // The smallest GIF: 1x1, a two-color global palette, one LZW-coded pixel.
  const Bytes gif = {'G', 'I', 'F', '8', '9', 'a', 1, 0, 1, 0, 0x80, 0, 0, 0xff, 0xff, 0xff, 0, 0, 0, 0x2c, 0, 0,
                     0, 0, 1, 0, 1, 0, 0, 2, 2, 0x44, 0x01, 0, 0x3b};
  WriteFile(out + "/image/tiny.gif", gif);
  small_images.push_back(gif);

  // Pipeline: tiny models with small images (encoded, or bytes to be read as raw pixels).
  for (size_t i = 0; i < tiny_models.size(); ++i) {
    const Bytes& image = small_images[(i * 7) % small_images.size()];
    WriteFile(out + "/pipeline/pair_" + std::to_string(i), mnv2::fuzz::JoinPipelineInput(tiny_models[i], image));
  }
  const mnv2::image::Image raw = Noise(8, 8, 3);
  Bytes pixels = {7, 7};
  pixels.insert(pixels.end(), raw.rgb.begin(), raw.rgb.end());
  WriteFile(out + "/pipeline/raw_pixels", mnv2::fuzz::JoinPipelineInput(tiny_models[2], pixels));
  std::printf("seeds written to %s\n", out.c_str());
  return 0;
}
