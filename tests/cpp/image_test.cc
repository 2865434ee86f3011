// Tests for src/image: Decode, FromPixels, Resize, Normalize.
//
// Real photos come from ../shared/images (read-only); every other input is generated
// here, and files worth inspecting are written under FixturesDir().
//
// Values marked "PIL" were produced once with Debian's python3-pil 9.4.0:
//   Image.open(path).convert('RGB')                       -> decoded pixels
//   im.resize((w, h), Image.BILINEAR)                     -> resized pixels / FNV-1a hash
//   im.crop(box).resize((w, h), Image.BILINEAR)           -> center crop
// Our resize matched Pillow byte for byte on those and on ~300 random size pairs
// (1..60 -> 1..90, noise and photo content); BMP/PNG/GIF decoding matched exactly and
// JPEG decoding (stb_image vs libjpeg-turbo) within +-3 per channel, +-1 after resizing.

#include "image/image.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <climits>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "test_data.h"

// An independent copy of stb_image (static, so it does not clash with the library's)
// to read the reference dimensions, and stb_image_write to make fixtures.
#define STB_IMAGE_STATIC
#define STB_IMAGE_IMPLEMENTATION
#define STBI_ONLY_JPEG
#define STBI_ONLY_PNG
#define STBI_ONLY_BMP
#define STBI_ONLY_GIF
#define STBI_NO_STDIO
#include "stb_image.h"
#define STB_IMAGE_WRITE_STATIC
#define STB_IMAGE_WRITE_IMPLEMENTATION
#define STBI_WRITE_NO_STDIO
#include "stb_image_write.h"

namespace mnv2 {
namespace image {
namespace {

using ::mnv2::testing::FixturesDir;
using ::mnv2::testing::ReadFileOrFail;
using ::mnv2::testing::SharedPath;
using ::mnv2::testing::WriteFileOrFail;
using Bytes = std::vector<uint8_t>;
using Rgb = std::array<int, 3>;

// ---------------------------------------------------------------------------------
// Helpers

uint64_t Fnv1a(const Bytes& bytes) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (uint8_t b : bytes) h = (h ^ b) * 0x100000001b3ull;
  return h;
}

Rgb PixelAt(const Image& img, int x, int y) {
  const size_t i = (static_cast<size_t>(y) * img.width + x) * 3;
  return {img.rgb[i], img.rgb[i + 1], img.rgb[i + 2]};
}

bool Near(const Rgb& a, const Rgb& b, int tolerance) {
  for (int c = 0; c < 3; ++c) {
    if (std::abs(a[c] - b[c]) > tolerance) return false;
  }
  return true;
}

std::string Str(const Rgb& p) {
  return "(" + std::to_string(p[0]) + "," + std::to_string(p[1]) + "," + std::to_string(p[2]) + ")";
}

Image Solid(int w, int h, Rgb color) {
  Image img;
  img.width = w;
  img.height = h;
  img.rgb.resize(static_cast<size_t>(w) * h * 3);
  for (size_t i = 0; i < img.rgb.size(); ++i) img.rgb[i] = static_cast<uint8_t>(color[i % 3]);
  return img;
}

Image FromRows(int w, int h, const std::vector<int>& values) {
  Image img;
  img.width = w;
  img.height = h;
  img.rgb.assign(values.begin(), values.end());
  return img;
}

Image DecodeFile(const std::string& path) {
  const Bytes bytes = ReadFileOrFail(path);
  Result<Image> r = Decode(bytes.data(), bytes.size());
  EXPECT_TRUE(r.ok()) << path << ": " << r.status().ToString();
  return r.ok() ? std::move(r).value() : Image{};
}

Result<Image> DecodeBytes(const Bytes& bytes, const Limits& limits = {}) {
  return Decode(bytes.data(), bytes.size(), limits);
}

// Writes a fixture for inspection and returns its bytes.
Bytes Fixture(const std::string& name, Bytes bytes) {
  WriteFileOrFail(FixturesDir() + "/" + name, bytes);
  return bytes;
}

void AppendToVector(void* context, void* data, int size) {
  auto* out = static_cast<Bytes*>(context);
  const auto* p = static_cast<const uint8_t*>(data);
  out->insert(out->end(), p, p + size);
}

Bytes EncodePng(const Bytes& pixels, int w, int h, int channels) {
  Bytes out;
  EXPECT_TRUE(
      stbi_write_png_to_func(AppendToVector, &out, w, h, channels, pixels.data(), w * channels));
  return out;
}

Bytes EncodeBmp(const Bytes& pixels, int w, int h) {
  Bytes out;
  EXPECT_TRUE(stbi_write_bmp_to_func(AppendToVector, &out, w, h, 3, pixels.data()));
  return out;
}

void PutLe16(Bytes& b, uint32_t v) {
  b.push_back(v & 0xFF);
  b.push_back((v >> 8) & 0xFF);
}
void PutLe32(Bytes& b, uint32_t v) {
  PutLe16(b, v & 0xFFFF);
  PutLe16(b, v >> 16);
}
void PutBe16(Bytes& b, uint32_t v) {
  b.push_back((v >> 8) & 0xFF);
  b.push_back(v & 0xFF);
}
void PutBe32(Bytes& b, uint32_t v) {
  PutBe16(b, v >> 16);
  PutBe16(b, v & 0xFFFF);
}

// GIF89a with a 4-color global palette and one full-frame image. LZW codes are 3 bits
// wide; a clear code before every other pixel keeps the code table from growing, which
// every decoder must accept.
Bytes EncodeGif(int w, int h, const std::array<Rgb, 4>& palette, const Bytes& indices) {
  Bytes out = {'G', 'I', 'F', '8', '9', 'a'};
  PutLe16(out, w);
  PutLe16(out, h);
  out.push_back(0x91);  // global color table, 2 bits of color resolution, 4 entries
  out.push_back(0);     // background color index
  out.push_back(0);     // aspect ratio
  for (const Rgb& c : palette) {
    for (int v : c) out.push_back(static_cast<uint8_t>(v));
  }
  out.push_back(0x2C);  // image descriptor
  PutLe16(out, 0);
  PutLe16(out, 0);
  PutLe16(out, w);
  PutLe16(out, h);
  out.push_back(0);  // no local table, not interlaced
  out.push_back(2);  // LZW minimum code size: clear = 4, end = 5
  Bytes lzw;
  uint32_t acc = 0;
  int bits = 0;
  auto emit = [&](uint32_t code) {
    acc |= code << bits;
    bits += 3;
    while (bits >= 8) {
      lzw.push_back(acc & 0xFF);
      acc >>= 8;
      bits -= 8;
    }
  };
  for (size_t i = 0; i < indices.size(); ++i) {
    if (i % 2 == 0) emit(4);
    emit(indices[i]);
  }
  emit(5);
  if (bits > 0) lzw.push_back(acc & 0xFF);
  for (size_t i = 0; i < lzw.size(); i += 255) {
    const size_t n = std::min<size_t>(255, lzw.size() - i);
    out.push_back(static_cast<uint8_t>(n));
    out.insert(out.end(), lzw.begin() + i, lzw.begin() + i + n);
  }
  out.push_back(0);     // end of image data
  out.push_back(0x3B);  // trailer
  return out;
}

uint32_t Crc32(const uint8_t* p, size_t n) {
  uint32_t crc = 0xFFFFFFFFu;
  for (size_t i = 0; i < n; ++i) {
    crc ^= p[i];
    for (int k = 0; k < 8; ++k) crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
  }
  return ~crc;
}

void PutPngChunk(Bytes& png, const char* type, const Bytes& payload) {
  PutBe32(png, static_cast<uint32_t>(payload.size()));
  const size_t start = png.size();
  png.insert(png.end(), type, type + 4);
  png.insert(png.end(), payload.begin(), payload.end());
  PutBe32(png, Crc32(png.data() + start, png.size() - start));
}

Bytes PngHeaderOnly(uint32_t w, uint32_t h) {
  Bytes png = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
  Bytes ihdr;
  PutBe32(ihdr, w);
  PutBe32(ihdr, h);
  ihdr.insert(ihdr.end(), {8, 2, 0, 0, 0});  // 8-bit RGB, deflate, no filter, no interlace
  PutPngChunk(png, "IHDR", ihdr);
  return png;
}

// A zlib stream inflating to `total` zero bytes (a literal 0, then length-258 copies at
// distance 1 in a fixed-Huffman block): ~1:1300 compression, the shape of a zip bomb.
Bytes ZlibZeros(uint64_t total) {
  Bytes out = {0x78, 0x01};
  uint32_t acc = 0;
  int bits = 0;
  auto put_bit = [&](uint32_t bit) {
    acc |= bit << bits;
    if (++bits == 8) {
      out.push_back(static_cast<uint8_t>(acc));
      acc = 0;
      bits = 0;
    }
  };
  auto put_huffman = [&](uint32_t code, int len) {  // Huffman codes go MSB first
    for (int i = len - 1; i >= 0; --i) put_bit((code >> i) & 1);
  };
  put_bit(1);  // BFINAL
  put_bit(1);  // BTYPE = 01 (fixed Huffman), LSB first
  put_bit(0);
  uint64_t remaining = total;
  put_huffman(0x30, 8);  // literal 0
  --remaining;
  for (; remaining >= 258; remaining -= 258) {
    put_huffman(0xC5, 8);  // length symbol 285 (258 bytes)
    put_huffman(0, 5);     // distance code 0 (distance 1)
  }
  for (; remaining > 0; --remaining) put_huffman(0x30, 8);
  put_huffman(0, 7);  // end of block
  if (bits > 0) out.push_back(static_cast<uint8_t>(acc));
  PutBe32(out, static_cast<uint32_t>(((total % 65521) << 16) | 1));  // Adler-32 of zeros
  return out;
}

Bytes PngOfZeros(uint32_t w, uint32_t h, uint64_t inflated_size) {
  Bytes png = PngHeaderOnly(w, h);
  PutPngChunk(png, "IDAT", ZlibZeros(inflated_size));
  PutPngChunk(png, "IEND", {});
  return png;
}

// A small photo crop as test content.
Bytes PhotoPixels(int w, int h) {
  const Image cat = DecodeFile(SharedPath("images/cat.bmp"));
  Bytes out;
  for (int y = 0; y < h; ++y) {
    const uint8_t* row = cat.rgb.data() + (static_cast<size_t>(y + 100) * cat.width + 150) * 3;
    out.insert(out.end(), row, row + static_cast<size_t>(w) * 3);
  }
  return out;
}

// A baseline JPEG whose 8x8 blocks carry only a DC coefficient, so every block decodes
// to a flat level(component, block_x, block_y) in 0..255 (quantizer 1: DC = 8 * (level -
// 128)). Huffman tables: DC categories 0..11 as 4-bit codes, AC only end-of-block ("0").
// (stb_image_write's JPEG encoder trips UBSan, hence this.)
struct JpegComponent {
  int h = 1, v = 1;  // sampling factors
};
Bytes DcOnlyJpeg(int width, int height, const std::vector<JpegComponent>& comps,
                 const std::function<int(int, int, int)>& level) {
  Bytes j = {0xFF, 0xD8};
  j.insert(j.end(), {0xFF, 0xDB, 0, 67, 0x00});  // DQT: table 0, all ones
  j.insert(j.end(), 64, 1);
  const int n = static_cast<int>(comps.size());
  j.insert(j.end(), {0xFF, 0xC0});  // SOF0
  PutBe16(j, 8 + 3 * n);
  j.push_back(8);
  PutBe16(j, height);
  PutBe16(j, width);
  j.push_back(static_cast<uint8_t>(n));
  for (int c = 0; c < n; ++c) {
    j.insert(j.end(),
             {static_cast<uint8_t>(c + 1), static_cast<uint8_t>(comps[c].h << 4 | comps[c].v), 0});
  }
  j.insert(j.end(), {0xFF, 0xC4, 0, 49});  // DHT
  j.insert(j.end(), {0x00, 0, 0, 0, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0});
  for (uint8_t s = 0; s < 12; ++s) j.push_back(s);
  j.insert(j.end(), {0x10, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x00});
  j.insert(j.end(), {0xFF, 0xDA});  // SOS
  PutBe16(j, 6 + 2 * n);
  j.push_back(static_cast<uint8_t>(n));
  for (int c = 0; c < n; ++c) j.insert(j.end(), {static_cast<uint8_t>(c + 1), 0x00});
  j.insert(j.end(), {0, 63, 0});

  uint32_t acc = 0;
  int bits = 0;
  auto put = [&](uint32_t value, int count) {  // MSB first, 0xFF bytes stuffed
    for (int i = count - 1; i >= 0; --i) {
      acc = acc << 1 | ((value >> i) & 1);
      if (++bits == 8) {
        j.push_back(static_cast<uint8_t>(acc));
        if (acc == 0xFF) j.push_back(0);
        acc = 0;
        bits = 0;
      }
    }
  };
  std::vector<int> predictor(n, 0);
  auto block = [&](int c, int bx, int by) {
    const int dc = 8 * (level(c, bx, by) - 128);
    const int diff = dc - predictor[c];
    predictor[c] = dc;
    int category = 0;
    while ((std::abs(diff) >> category) != 0) ++category;
    put(category, 4);
    put(diff >= 0 ? diff : diff + (1 << category) - 1, category);
    put(0, 1);  // end of block
  };
  if (n == 1) {  // non-interleaved: one block per MCU whatever the sampling factors
    for (int by = 0; by < (height + 7) / 8; ++by) {
      for (int bx = 0; bx < (width + 7) / 8; ++bx) block(0, bx, by);
    }
  } else {
    int hmax = 1, vmax = 1;
    for (const JpegComponent& c : comps) {
      hmax = std::max(hmax, c.h);
      vmax = std::max(vmax, c.v);
    }
    for (int my = 0; my < (height + 8 * vmax - 1) / (8 * vmax); ++my) {
      for (int mx = 0; mx < (width + 8 * hmax - 1) / (8 * hmax); ++mx) {
        for (int c = 0; c < n; ++c) {
          for (int v = 0; v < comps[c].v; ++v) {
            for (int h = 0; h < comps[c].h; ++h) block(c, mx * comps[c].h + h, my * comps[c].v + v);
          }
        }
      }
    }
  }
  if (bits > 0) put(0x7F, 8 - bits);  // pad with ones
  j.insert(j.end(), {0xFF, 0xD9});
  return j;
}

// ---------------------------------------------------------------------------------
// Decode: real photos

TEST(DecodeTest, EveryRealPhotoMatchesItsHeader) {
  int bmp = 0, jpg = 0;
  for (const auto& entry : std::filesystem::directory_iterator(SharedPath("images"))) {
    const std::string ext = entry.path().extension().string();
    if (ext != ".bmp" && ext != ".jpg") continue;
    (ext == ".bmp" ? bmp : jpg)++;
    SCOPED_TRACE(entry.path().string());
    const Bytes bytes = ReadFileOrFail(entry.path().string());
    int w = 0, h = 0, n = 0;
    ASSERT_TRUE(stbi_info_from_memory(bytes.data(), static_cast<int>(bytes.size()), &w, &h, &n));
    Result<Image> img = DecodeBytes(bytes);
    ASSERT_TRUE(img.ok()) << img.status().ToString();
    EXPECT_EQ(img->width, w);
    EXPECT_EQ(img->height, h);
    EXPECT_EQ(img->rgb.size(), static_cast<size_t>(w) * h * 3);
    // A segmentation mask holds class indices (0..20), not a photo's range of values.
    const bool mask = entry.path().stem().string().find("_mask") != std::string::npos;
    const auto [lo, hi] = std::minmax_element(img->rgb.begin(), img->rgb.end());
    EXPECT_GT(*hi - *lo, mask ? 0 : 100) << "a photo should not be nearly flat";
  }
  EXPECT_GE(bmp, 1);
  EXPECT_GE(jpg, 1);
}

TEST(DecodeTest, BmpPixelsEqualPil) {
  const Image img = DecodeFile(SharedPath("images/cat.bmp"));
  ASSERT_EQ(img.width, 512);
  ASSERT_EQ(img.height, 341);
  EXPECT_EQ(PixelAt(img, 0, 0), (Rgb{223, 124, 82}));  // PIL
  EXPECT_EQ(PixelAt(img, 100, 50), (Rgb{182, 67, 43}));
  EXPECT_EQ(PixelAt(img, 511, 340), (Rgb{159, 101, 63}));
}

TEST(DecodeTest, JpegPixelsCloseToPil) {
  const Image img = DecodeFile(SharedPath("images/cat_720p.jpg"));
  ASSERT_EQ(img.width, 1280);
  ASSERT_EQ(img.height, 720);
  // PIL (libjpeg-turbo); stb_image's IDCT and chroma upsampling differ by a few levels.
  const std::pair<std::array<int, 2>, Rgb> expected[] = {
      {{0, 0}, {239, 134, 86}}, {{640, 360}, {179, 98, 55}}, {{1279, 719}, {165, 102, 59}}};
  for (const auto& [xy, rgb] : expected) {
    const Rgb got = PixelAt(img, xy[0], xy[1]);
    EXPECT_TRUE(Near(got, rgb, 3)) << xy[0] << "," << xy[1] << ": " << Str(got);
  }
}

// ---------------------------------------------------------------------------------
// Decode: generated PNG / GIF / BMP / JPEG

TEST(DecodeTest, PngChannelsConvertLikePil) {
  const int w = 5, h = 3;
  Bytes gray(w * h), gray_alpha(w * h * 2), rgb(w * h * 3), rgba(w * h * 4);
  for (int i = 0; i < w * h; ++i) {
    gray[i] = static_cast<uint8_t>(i * 17);
    gray_alpha[2 * i] = static_cast<uint8_t>(i * 17);
    gray_alpha[2 * i + 1] = static_cast<uint8_t>(i * 3);  // alpha 0 at i == 0: not composited
    for (int c = 0; c < 3; ++c) rgb[3 * i + c] = static_cast<uint8_t>(i * 16 + c * 50);
    for (int c = 0; c < 3; ++c) rgba[4 * i + c] = static_cast<uint8_t>(255 - i * 16 - c * 7);
    rgba[4 * i + 3] = static_cast<uint8_t>(i % 2 ? 0 : 128);
  }
  struct Case {
    const char* name;
    const Bytes* pixels;
    int channels;
  } cases[] = {{"gray.png", &gray, 1},
               {"gray_alpha.png", &gray_alpha, 2},
               {"rgb.png", &rgb, 3},
               {"rgba.png", &rgba, 4}};
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    const Bytes png = Fixture(c.name, EncodePng(*c.pixels, w, h, c.channels));
    Result<Image> img = DecodeBytes(png);
    ASSERT_TRUE(img.ok()) << img.status().ToString();
    ASSERT_EQ(img->width, w);
    ASSERT_EQ(img->height, h);
    for (int i = 0; i < w * h; ++i) {
      const uint8_t* src = c.pixels->data() + i * c.channels;
      const Rgb want = c.channels < 3 ? Rgb{src[0], src[0], src[0]} : Rgb{src[0], src[1], src[2]};
      EXPECT_EQ(PixelAt(*img, i % w, i / w), want) << "pixel " << i;
    }
  }
}

TEST(DecodeTest, GifFirstFrameUsesPalette) {
  const std::array<Rgb, 4> palette = {Rgb{0, 0, 0}, Rgb{255, 0, 0}, Rgb{12, 200, 34},
                                      Rgb{250, 251, 252}};
  const int w = 7, h = 5;
  Bytes indices(w * h);
  for (int i = 0; i < w * h; ++i) indices[i] = static_cast<uint8_t>((i * 7 + i / 3) % 4);
  const Bytes gif = Fixture("palette.gif", EncodeGif(w, h, palette, indices));
  Result<Image> img = DecodeBytes(gif);
  ASSERT_TRUE(img.ok()) << img.status().ToString();
  ASSERT_EQ(img->width, w);
  ASSERT_EQ(img->height, h);
  for (int i = 0; i < w * h; ++i) {
    EXPECT_EQ(PixelAt(*img, i % w, i / w), palette[indices[i]]) << "pixel " << i;
  }
  // Cut inside the image data: rejected, not decoded with a missing bottom.
  for (size_t keep : {size_t{6}, size_t{13}, size_t{20}, gif.size() - 3}) {
    Result<Image> cut = Decode(gif.data(), keep);
    EXPECT_FALSE(cut.ok()) << keep;
    EXPECT_EQ(cut.status().code(), ErrorCode::kImageDecode) << keep;
  }
}

TEST(DecodeTest, BmpRoundTripWithRowPadding) {
  const int w = 7, h = 5;  // 21-byte rows are padded to 24 in the file
  const Bytes pixels = PhotoPixels(w, h);
  const Bytes bmp = Fixture("odd_width.bmp", EncodeBmp(pixels, w, h));
  Result<Image> img = DecodeBytes(bmp);
  ASSERT_TRUE(img.ok()) << img.status().ToString();
  EXPECT_EQ(img->width, w);
  EXPECT_EQ(img->height, h);
  EXPECT_EQ(img->rgb, pixels);
}

TEST(DecodeTest, GrayJpegIsReplicated) {
  const Bytes jpg = Fixture("gray.jpg", DcOnlyJpeg(16, 8, {JpegComponent{}},
                                                   [](int, int bx, int) { return bx ? 192 : 64; }));
  Result<Image> img = DecodeBytes(jpg);
  ASSERT_TRUE(img.ok()) << img.status().ToString();
  ASSERT_EQ(img->width, 16);
  ASSERT_EQ(img->height, 8);
  for (int y = 0; y < 8; ++y) {
    for (int x = 0; x < 16; ++x) {
      EXPECT_EQ(PixelAt(*img, x, y), x < 8 ? (Rgb{64, 64, 64}) : (Rgb{192, 192, 192}))
          << x << "," << y;
    }
  }
}

// 4:2:0 YCbCr with constant chroma, so upsampling cannot blur anything: each 8x8 luma
// block must come out as the JFIF YCbCr->RGB conversion of its (Y, Cb, Cr).
TEST(DecodeTest, SubsampledColorJpeg) {
  const int cb = 110, cr = 150;
  auto luma = [](int bx, int by) { return 60 + 40 * bx + 20 * by; };
  const Bytes jpg = Fixture(
      "ycbcr420.jpg", DcOnlyJpeg(32, 16, {JpegComponent{2, 2}, JpegComponent{}, JpegComponent{}},
                                 [&](int c, int bx, int by) {
                                   return c == 0 ? luma(bx, by) : c == 1 ? cb : cr;
                                 }));
  Result<Image> img = DecodeBytes(jpg);
  ASSERT_TRUE(img.ok()) << img.status().ToString();
  ASSERT_EQ(img->width, 32);
  ASSERT_EQ(img->height, 16);
  for (int y = 0; y < 16; ++y) {
    for (int x = 0; x < 32; ++x) {
      const double yy = luma(x / 8, y / 8);
      const Rgb want = {
          static_cast<int>(std::lround(yy + 1.402 * (cr - 128))),
          static_cast<int>(std::lround(yy - 0.344136 * (cb - 128) - 0.714136 * (cr - 128))),
          static_cast<int>(std::lround(yy + 1.772 * (cb - 128)))};
      const Rgb got = PixelAt(*img, x, y);
      EXPECT_TRUE(Near(got, want, 1)) << x << "," << y << ": " << Str(got) << " vs " << Str(want);
    }
  }
}

// ---------------------------------------------------------------------------------
// Decode: malformed and hostile input

// stb_image 2.27 writes past its tables for a Huffman table with more than 256 codes;
// Decode must refuse it wherever the table sits: in the header, or between the entropy
// data and EOI (where stb_image still reads markers).
TEST(DecodeTest, OversizedJpegHuffmanTableIsRejected) {
  const Bytes good = DcOnlyJpeg(16, 8, {JpegComponent{}}, [](int, int, int) { return 99; });
  ASSERT_TRUE(DecodeBytes(good).ok());
  Bytes bad_dht = {0xFF, 0xC4};
  PutBe16(bad_dht, 2 + 17 + 16 * 200);
  bad_dht.push_back(0x01);                 // DC table 1
  bad_dht.insert(bad_dht.end(), 16, 200);  // 16 x 200 = 3200 codes
  bad_dht.insert(bad_dht.end(), 16 * 200, 7);

  Bytes in_header = good;
  in_header.insert(in_header.begin() + 2, bad_dht.begin(), bad_dht.end());
  Bytes after_scan = good;
  after_scan.insert(after_scan.end() - 2, bad_dht.begin(), bad_dht.end());
  for (const Bytes* jpg : {&in_header, &after_scan}) {
    Result<Image> r = DecodeBytes(*jpg);
    EXPECT_EQ(r.status().code(), ErrorCode::kImageDecode);
    EXPECT_NE(r.status().message().find("Huffman"), std::string::npos) << r.status().message();
  }
}

TEST(DecodeTest, EmptyInput) {
  const uint8_t byte = 0;
  EXPECT_EQ(Decode(nullptr, 0).status().code(), ErrorCode::kImageDecode);
  Result<Image> r = Decode(&byte, 0);
  EXPECT_EQ(r.status().code(), ErrorCode::kImageDecode);
  EXPECT_NE(r.status().message().find("empty"), std::string::npos) << r.status().message();
  EXPECT_EQ(Decode(nullptr, 100).status().code(), ErrorCode::kInvalidArgument);
}

TEST(DecodeTest, TruncatedFilesAreRejected) {
  for (const char* name : {"images/cat.bmp", "images/cat_720p.jpg"}) {
    const Bytes bytes = ReadFileOrFail(SharedPath(name));
    ASSERT_GT(bytes.size(), 2000u);
    for (size_t keep :
         {size_t{1}, size_t{2}, size_t{8}, size_t{14}, size_t{30}, size_t{54}, size_t{100},
          size_t{1000}, bytes.size() / 2, bytes.size() * 9 / 10, bytes.size() - 1}) {
      Result<Image> r = Decode(bytes.data(), keep);
      EXPECT_FALSE(r.ok()) << name << " cut to " << keep;
      EXPECT_EQ(r.status().code(), ErrorCode::kImageDecode) << name << " cut to " << keep;
      EXPECT_FALSE(r.status().message().empty());
    }
  }
}

TEST(DecodeTest, TextAndRandomBytesAreRejected) {
  const std::string text = "This is not an image, just some text.\n";
  Result<Image> r = Decode(reinterpret_cast<const uint8_t*>(text.data()), text.size());
  EXPECT_EQ(r.status().code(), ErrorCode::kImageDecode);
  EXPECT_NE(r.status().message().find("unrecognized"), std::string::npos) << r.status().message();

  std::mt19937 rng(1234);
  for (int i = 0; i < 200; ++i) {
    Bytes bytes(1 + rng() % 4096);
    for (auto& b : bytes) b = static_cast<uint8_t>(rng());
    if (bytes[0] == 0xFF || bytes[0] == 0x89 || bytes[0] == 'B' || bytes[0] == 'G') bytes[0] = 0;
    EXPECT_EQ(DecodeBytes(bytes).status().code(), ErrorCode::kImageDecode);
  }
}

// Random bytes behind each format's signature, and random corruptions of small valid
// files: any outcome is fine as long as nothing crashes (run under ASan/UBSan) and a
// success is a consistent image.
TEST(DecodeTest, CorruptedFilesNeverCrash) {
  const int w = 24, h = 16;
  const Bytes pixels = PhotoPixels(w, h);
  Bytes indices(w * h);
  for (int i = 0; i < w * h; ++i) indices[i] = static_cast<uint8_t>(pixels[3 * i] % 4);
  const std::vector<Bytes> valid = {
      EncodePng(pixels, w, h, 3), EncodeBmp(pixels, w, h),
      DcOnlyJpeg(w, h, {JpegComponent{2, 2}, JpegComponent{}, JpegComponent{}},
                 [&](int c, int bx, int by) {
                   const int x = std::min(bx * 8, w - 1), y = std::min(by * 8, h - 1);
                   return pixels[(y * w + x) * 3 + c];
                 }),
      EncodeGif(w, h, {Rgb{0, 0, 0}, Rgb{90, 90, 90}, Rgb{180, 180, 180}, Rgb{255, 255, 255}},
                indices)};
  auto check = [](const Bytes& bytes) {
    Result<Image> r = DecodeBytes(bytes);
    if (r.ok()) {
      EXPECT_GT(r->width, 0);
      EXPECT_GT(r->height, 0);
      EXPECT_EQ(r->rgb.size(), static_cast<size_t>(r->width) * r->height * 3);
    } else {
      EXPECT_FALSE(r.status().message().empty());
    }
  };
  std::mt19937 rng(42);
  for (const Bytes& file : valid) {
    ASSERT_TRUE(DecodeBytes(file).ok());
    const Bytes signature(file.begin(), file.begin() + 8);
    for (int i = 0; i < 100; ++i) {
      Bytes bytes = signature;
      bytes.resize(8 + rng() % 2048);
      for (size_t j = 8; j < bytes.size(); ++j) bytes[j] = static_cast<uint8_t>(rng());
      check(bytes);
    }
    for (int i = 0; i < 300; ++i) {
      Bytes bytes = file;
      const int flips = 1 + rng() % 8;
      for (int f = 0; f < flips; ++f) bytes[rng() % bytes.size()] = static_cast<uint8_t>(rng());
      if (rng() % 4 == 0) bytes.resize(1 + rng() % bytes.size());
      check(bytes);
    }
  }
}

// Headers that claim huge images must be rejected from the header alone: the bodies
// below are missing, so an attempt to decode would end in kImageDecode (or in a
// multi-gigabyte allocation), not kImageTooLarge.
TEST(DecodeTest, HugeDeclaredSizeIsRejectedBeforeDecoding) {
  Bytes bmp = {'B', 'M'};
  PutLe32(bmp, 54);  // file size (a lie)
  PutLe32(bmp, 0);
  PutLe32(bmp, 54);  // pixel data offset
  PutLe32(bmp, 40);  // BITMAPINFOHEADER
  PutLe32(bmp, 100000);
  PutLe32(bmp, 100000);
  PutLe16(bmp, 1);
  PutLe16(bmp, 24);
  for (int i = 0; i < 6; ++i) PutLe32(bmp, 0);
  Result<Image> r = DecodeBytes(Fixture("huge_header.bmp", bmp));
  EXPECT_EQ(r.status().code(), ErrorCode::kImageTooLarge) << r.status().ToString();
  EXPECT_NE(r.status().message().find("100000x100000"), std::string::npos) << r.status().message();

  r = DecodeBytes(PngHeaderOnly(100000, 100000));
  EXPECT_EQ(r.status().code(), ErrorCode::kImageTooLarge) << r.status().ToString();

  Bytes jpeg = {0xFF, 0xD8, 0xFF, 0xC0};  // SOI, SOF0
  PutBe16(jpeg, 17);
  jpeg.push_back(8);
  PutBe16(jpeg, 65535);  // height
  PutBe16(jpeg, 65535);  // width
  jpeg.push_back(3);
  for (uint8_t id = 1; id <= 3; ++id) jpeg.insert(jpeg.end(), {id, 0x11, 0});
  r = DecodeBytes(jpeg);
  EXPECT_EQ(r.status().code(), ErrorCode::kImageTooLarge) << r.status().ToString();

  Bytes gif = {'G', 'I', 'F', '8', '9', 'a'};
  PutLe16(gif, 65535);
  PutLe16(gif, 65535);
  gif.insert(gif.end(), {0, 0, 0});
  r = DecodeBytes(gif);
  EXPECT_EQ(r.status().code(), ErrorCode::kImageTooLarge) << r.status().ToString();
}

TEST(DecodeTest, LimitsAreEnforced) {
  const Bytes bytes = ReadFileOrFail(SharedPath("images/cat.bmp"));  // 512x341
  Limits exact;
  exact.max_side = 512;
  exact.max_pixels = 512 * 341;
  exact.max_bytes = bytes.size();
  EXPECT_TRUE(DecodeBytes(bytes, exact).ok());

  Limits side = exact;
  side.max_side = 511;
  EXPECT_EQ(DecodeBytes(bytes, side).status().code(), ErrorCode::kImageTooLarge);
  Limits pixels = exact;
  pixels.max_pixels = 512 * 341 - 1;
  EXPECT_EQ(DecodeBytes(bytes, pixels).status().code(), ErrorCode::kImageTooLarge);
  Limits size = exact;
  size.max_bytes = bytes.size() - 1;
  EXPECT_EQ(DecodeBytes(bytes, size).status().code(), ErrorCode::kImageTooLarge);
}

// stb_image 2.27 would memcpy an empty leading IDAT chunk to a null pointer (UBSan).
TEST(DecodeTest, EmptyLeadingPngIdatIsRejected) {
  Bytes png = PngHeaderOnly(4, 4);
  PutPngChunk(png, "IDAT", {});
  PutPngChunk(png, "IDAT", ZlibZeros(4 * (1 + 4 * 3)));
  PutPngChunk(png, "IEND", {});
  Result<Image> r = DecodeBytes(png);
  EXPECT_EQ(r.status().code(), ErrorCode::kImageDecode);
  EXPECT_NE(r.status().message().find("IDAT"), std::string::npos) << r.status().message();
}

// A 16x16 PNG whose deflate stream inflates to 64 MiB: legal-looking, tiny (~400 KiB),
// and stb_image alone would inflate all of it and return an image (it tolerates extra
// data). The decode budget stops it.
TEST(DecodeTest, DecompressionBombIsStopped) {
  const Bytes exact = Fixture("zeros_16x16.png", PngOfZeros(16, 16, 16 * (1 + 16 * 3)));
  Result<Image> ok = DecodeBytes(exact);
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(ok->rgb, Bytes(16 * 16 * 3, 0));

  const Bytes bomb = PngOfZeros(16, 16, uint64_t{64} << 20);
  ASSERT_LT(bomb.size(), 500u << 10);
  Result<Image> r = DecodeBytes(bomb);
  EXPECT_EQ(r.status().code(), ErrorCode::kImageTooLarge) << r.status().ToString();
}

// ---------------------------------------------------------------------------------
// FromPixels

TEST(FromPixelsTest, CopiesRowsWithStrideAndDropsAlpha) {
  const int w = 3, h = 2;
  const size_t stride = 16;  // > 3 * 4
  Bytes rgba(stride * h, 0xEE);
  Bytes want;
  for (int y = 0; y < h; ++y) {
    for (int x = 0; x < w; ++x) {
      for (int c = 0; c < 4; ++c)
        rgba[y * stride + x * 4 + c] = static_cast<uint8_t>(10 * y + 3 * x + c);
      for (int c = 0; c < 3; ++c) want.push_back(static_cast<uint8_t>(10 * y + 3 * x + c));
    }
  }
  Result<Image> img = FromPixels(rgba.data(), w, h, 4, stride);
  ASSERT_TRUE(img.ok()) << img.status().ToString();
  EXPECT_EQ(img->width, w);
  EXPECT_EQ(img->height, h);
  EXPECT_EQ(img->rgb, want);

  Bytes rgb(10 * h, 0xEE);  // stride 10 > 9
  for (int y = 0; y < h; ++y)
    std::copy(want.begin() + y * 9, want.begin() + y * 9 + 9, rgb.begin() + y * 10);
  img = FromPixels(rgb.data(), w, h, 3, 10);
  ASSERT_TRUE(img.ok()) << img.status().ToString();
  EXPECT_EQ(img->rgb, want);
  img = FromPixels(want.data(), w, h, 3, 9);  // tight rows
  ASSERT_TRUE(img.ok());
  EXPECT_EQ(img->rgb, want);
}

TEST(FromPixelsTest, RejectsBadArguments) {
  const Bytes buf(4096, 1);
  for (int channels : {0, 1, 2, 5, -3}) {
    EXPECT_EQ(FromPixels(buf.data(), 4, 4, channels, 64).status().code(),
              ErrorCode::kInvalidArgument)
        << channels;
  }
  EXPECT_EQ(FromPixels(buf.data(), 4, 4, 3, 11).status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(FromPixels(buf.data(), 4, 4, 4, 15).status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(FromPixels(buf.data(), 0, 4, 3, 12).status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(FromPixels(buf.data(), 4, -1, 3, 12).status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(FromPixels(nullptr, 4, 4, 3, 12).status().code(), ErrorCode::kInvalidArgument);
  // A stride whose rows would wrap around the address space is caught before any read.
  EXPECT_EQ(FromPixels(buf.data(), 4, 3, 3, SIZE_MAX / 2).status().code(),
            ErrorCode::kInvalidArgument);

  Limits small;
  small.max_side = 8;
  small.max_pixels = 40;
  EXPECT_TRUE(FromPixels(buf.data(), 8, 5, 3, 24, small).ok());
  EXPECT_EQ(FromPixels(buf.data(), 9, 2, 3, 27, small).status().code(), ErrorCode::kImageTooLarge);
  EXPECT_EQ(FromPixels(buf.data(), 7, 6, 3, 21, small).status().code(), ErrorCode::kImageTooLarge);
  // Over the default side limit, rejected without reading the (small) buffer.
  EXPECT_EQ(FromPixels(buf.data(), 20000, 1, 3, 60000).status().code(), ErrorCode::kImageTooLarge);
}

// ---------------------------------------------------------------------------------
// Resize: agreement with Pillow

TEST(ResizeTest, MatchesPilOnRealPhotos) {
  const Image cat = DecodeFile(SharedPath("images/cat.bmp"));
  const Image hopper = DecodeFile(SharedPath("images/grace_hopper.bmp"));
  ASSERT_FALSE(cat.rgb.empty());
  ASSERT_FALSE(hopper.rgb.empty());

  const Image cat224 = Resize(cat, 224, 224);
  ASSERT_EQ(cat224.width, 224);
  ASSERT_EQ(cat224.height, 224);
  EXPECT_EQ(PixelAt(cat224, 0, 0), (Rgb{213, 115, 73}));  // PIL
  EXPECT_EQ(PixelAt(cat224, 112, 112), (Rgb{180, 98, 59}));
  EXPECT_EQ(PixelAt(cat224, 223, 223), (Rgb{154, 101, 63}));
  EXPECT_EQ(PixelAt(cat224, 5, 200), (Rgb{149, 65, 68}));
  EXPECT_EQ(Fnv1a(cat224.rgb), 0xfa4ad4aa446b24b6ull);  // PIL, every byte

  const Image hopper224 = Resize(hopper, 224, 224);
  EXPECT_EQ(PixelAt(hopper224, 112, 112), (Rgb{226, 145, 109}));  // PIL
  EXPECT_EQ(Fnv1a(hopper224.rgb), 0x4404cfd953e933baull);
  EXPECT_EQ(Fnv1a(Resize(hopper, 160, 90).rgb), 0x0363b504676862bfull);  // PIL

  // PIL: cat.crop((85, 0, 426, 341)).resize((224, 224), BILINEAR)
  EXPECT_EQ(Fnv1a(Resize(cat, 224, 224, Fit::kCenterCrop).rgb), 0xce01ddcf31431f2aull);

  // JPEG: the decoders differ slightly (see the file comment); resizing averages that out.
  const Image cat720 = Resize(DecodeFile(SharedPath("images/cat_720p.jpg")), 224, 224);
  const std::pair<std::array<int, 2>, Rgb> expected[] = {{{0, 0}, {219, 113, 72}},
                                                         {{112, 112}, {181, 99, 56}},
                                                         {{223, 223}, {161, 99, 62}},
                                                         {{5, 200}, {151, 66, 69}}};
  for (const auto& [xy, rgb] : expected) {
    const Rgb got = PixelAt(cat720, xy[0], xy[1]);
    EXPECT_TRUE(Near(got, rgb, 1)) << xy[0] << "," << xy[1] << ": " << Str(got);
  }
}

TEST(ResizeTest, MatchesPilOnSmallImages) {
  // PIL values for tiny inputs exercise the window bounds and fixed-point rounding.
  const Image row = FromRows(4, 1, {0, 0, 0, 85, 10, 200, 170, 20, 100, 255, 30, 0});
  EXPECT_EQ(Resize(row, 3, 1).rgb, (Bytes{25, 3, 60, 128, 15, 150, 230, 27, 30}));
  EXPECT_EQ(Resize(row, 7, 1).rgb, (Bytes{0,   0,   0,  30, 4,   71, 79, 9,   186, 128, 15,
                                          150, 176, 21, 93, 225, 26, 36, 255, 30,  0}));
  const Image square = FromRows(2, 2, {0, 0, 0, 255, 255, 255, 255, 0, 0, 0, 0, 255});
  EXPECT_EQ(Resize(square, 3, 3).rgb,
            (Bytes{0,   0,   0,   128, 128, 128, 255, 255, 255, 128, 0, 0, 128, 64,
                   128, 128, 128, 255, 255, 0,   0,   128, 0,   128, 0, 0, 255}));
}

// ---------------------------------------------------------------------------------
// Resize: properties

TEST(ResizeTest, ConstantImageStaysConstant) {
  for (const Rgb color : {Rgb{0, 0, 0}, Rgb{255, 255, 255}, Rgb{17, 200, 254}}) {
    const Image src = Solid(37, 23, color);
    for (const auto& [w, h] : {std::pair{224, 224}, std::pair{5, 3}, std::pair{1, 1},
                               std::pair{37, 100}, std::pair{300, 23}, std::pair{1, 500}}) {
      for (Fit fit : {Fit::kStretch, Fit::kCenterCrop}) {
        const Image out = Resize(src, w, h, fit);
        ASSERT_EQ(out.width, w);
        ASSERT_EQ(out.height, h);
        EXPECT_EQ(out.rgb, Solid(w, h, color).rgb) << w << "x" << h;
      }
    }
  }
}

TEST(ResizeTest, SameSizeIsACopy) {
  Image src;
  src.width = 31;
  src.height = 17;
  src.rgb = PhotoPixels(31, 17);
  EXPECT_EQ(Resize(src, 31, 17).rgb, src.rgb);
  EXPECT_EQ(Resize(src, 31, 17, Fit::kCenterCrop).rgb, src.rgb);
}

TEST(ResizeTest, HorizontalGradientStaysMonotonic) {
  const int w = 300, h = 20;
  Image src = Solid(w, h, {0, 0, 0});
  for (int y = 0; y < h; ++y) {
    for (int x = 0; x < w; ++x) {
      uint8_t* p = &src.rgb[(static_cast<size_t>(y) * w + x) * 3];
      p[0] = static_cast<uint8_t>(x * 255 / (w - 1));  // rising
      p[1] = 77;
      p[2] = static_cast<uint8_t>(255 - x * 255 / (w - 1));  // falling
    }
  }
  for (const auto& [ow, oh] : {std::pair{224, 224}, std::pair{1000, 7}, std::pair{13, 40}}) {
    const Image out = Resize(src, ow, oh);
    ASSERT_EQ(out.width, ow);
    for (int y = 0; y < oh; ++y) {
      for (int x = 0; x < ow; ++x) {
        const Rgb p = PixelAt(out, x, y);
        EXPECT_EQ(p[1], 77);
        EXPECT_EQ(p, PixelAt(out, x, 0)) << "rows of a horizontal gradient stay identical";
        if (x > 0) {
          EXPECT_GE(p[0], PixelAt(out, x - 1, y)[0]) << ow << "x" << oh << " at " << x;
          EXPECT_LE(p[2], PixelAt(out, x - 1, y)[2]) << ow << "x" << oh << " at " << x;
        }
      }
    }
    EXPECT_LT(PixelAt(out, 0, 0)[0], 30);
    EXPECT_GT(PixelAt(out, ow - 1, 0)[0], 225);
  }
}

TEST(ResizeTest, OnePixelInputAndOutput) {
  const Image dot = Solid(1, 1, {9, 99, 199});
  EXPECT_EQ(Resize(dot, 224, 224).rgb, Solid(224, 224, {9, 99, 199}).rgb);
  EXPECT_EQ(Resize(dot, 1, 1).rgb, dot.rgb);
  // Downscaling to 1x1 averages everything: two halves 0 and 200 give 100.
  Image halves = Solid(10, 4, {0, 0, 0});
  for (int y = 0; y < 4; ++y) {
    for (int x = 5; x < 10; ++x) halves.rgb[(y * 10 + x) * 3] = 200;
  }
  EXPECT_EQ(Resize(halves, 1, 1).rgb, (Bytes{100, 0, 0}));
}

TEST(ResizeTest, UpscalingInterpolatesBetweenNeighbours) {
  const Image src = FromRows(2, 1, {0, 100, 200, 200, 100, 0});
  const Image out = Resize(src, 8, 3);
  ASSERT_EQ(out.width, 8);
  ASSERT_EQ(out.height, 3);
  // Output centers at (x + 0.5) / 4 - 0.5 in source pixels: the first two and last two
  // clamp to the end pixels, the middle ones interpolate in equal steps.
  const std::vector<int> red = {0, 0, 25, 75, 125, 175, 200, 200};
  for (int y = 0; y < 3; ++y) {
    for (int x = 0; x < 8; ++x) {
      EXPECT_EQ(PixelAt(out, x, y), (Rgb{red[x], 100, 200 - red[x]})) << x << "," << y;
    }
  }
}

TEST(ResizeTest, ExtremeAspectRatios) {
  Image wide = Solid(4000, 2, {0, 0, 0});
  for (int x = 0; x < 4000; ++x) {
    for (int y = 0; y < 2; ++y) wide.rgb[(y * 4000 + x) * 3] = static_cast<uint8_t>(x % 256);
  }
  const Image a = Resize(wide, 3, 300);
  ASSERT_EQ(a.width, 3);
  ASSERT_EQ(a.height, 300);
  for (int y = 1; y < 300; ++y) EXPECT_EQ(PixelAt(a, 1, y), PixelAt(a, 1, 0));
  // Each output column averages ~1333 samples of a sawtooth over 0..255: about 127.
  EXPECT_NEAR(PixelAt(a, 1, 0)[0], 127, 3);

  const Image tall = Solid(1, 5000, {1, 2, 3});
  const Image b = Resize(tall, 224, 224);
  EXPECT_EQ(b.rgb, Solid(224, 224, {1, 2, 3}).rgb);
  const Image c = Resize(Solid(16384, 1, {250, 5, 60}), 1, 1);
  EXPECT_EQ(c.rgb, (Bytes{250, 5, 60}));
}

// Three color bands along the long side: the center crop sees only the middle band.
TEST(ResizeTest, CenterCropTakesTheMiddle) {
  const Rgb red = {255, 0, 0}, green = {0, 255, 0}, blue = {0, 0, 255};
  Image wide = Solid(300, 100, red);
  Image tall = Solid(100, 300, red);
  for (int i = 0; i < 300; ++i) {
    for (int j = 0; j < 100; ++j) {
      const Rgb& c = i < 100 ? red : i < 200 ? green : blue;
      std::copy(c.begin(), c.end(), &wide.rgb[(static_cast<size_t>(j) * 300 + i) * 3]);
      std::copy(c.begin(), c.end(), &tall.rgb[(static_cast<size_t>(i) * 100 + j) * 3]);
    }
  }
  for (const Image* src : {&wide, &tall}) {
    for (const auto& [w, h] : {std::pair{50, 50}, std::pair{224, 224}, std::pair{7, 7}}) {
      EXPECT_EQ(Resize(*src, w, h, Fit::kCenterCrop).rgb, Solid(w, h, green).rgb);
    }
    // Stretch keeps all three bands.
    const Image all = Resize(*src, 30, 30);
    EXPECT_EQ(PixelAt(all, 0, 0), red);
    EXPECT_EQ(PixelAt(all, 29, 29), blue);
  }
  // Target 2:1 on the 300x100 (3:1) source: the crop is the centered 200x100, x in
  // [50, 250), so resizing it by hand must give the same bytes.
  Image crop = Solid(200, 100, red);
  for (int y = 0; y < 100; ++y) {
    std::copy_n(&wide.rgb[(static_cast<size_t>(y) * 300 + 50) * 3], 200 * 3,
                &crop.rgb[static_cast<size_t>(y) * 200 * 3]);
  }
  const Image half = Resize(wide, 4, 2, Fit::kCenterCrop);
  EXPECT_EQ(half.rgb, Resize(crop, 4, 2).rgb);
  EXPECT_GT(PixelAt(half, 0, 0)[0], 128);  // mostly red
  EXPECT_GT(PixelAt(half, 1, 0)[1], 128);  // mostly green
  EXPECT_GT(PixelAt(half, 3, 1)[2], 128);  // mostly blue
}

TEST(ResizeTest, InvalidArgumentsGiveAnEmptyImage) {
  const Image src = Solid(4, 4, {1, 2, 3});
  for (const auto& [w, h] : {std::pair{0, 10}, std::pair{10, 0}, std::pair{-1, 5}}) {
    const Image out = Resize(src, w, h);
    EXPECT_EQ(out.width, 0);
    EXPECT_TRUE(out.rgb.empty());
  }
  EXPECT_TRUE(Resize(Image{}, 10, 10).rgb.empty());
  Image inconsistent = src;
  inconsistent.rgb.pop_back();
  EXPECT_TRUE(Resize(inconsistent, 10, 10).rgb.empty());
  inconsistent.width = 1000;  // claims more pixels than it holds
  EXPECT_TRUE(Resize(inconsistent, 10, 10).rgb.empty());
}

// ---------------------------------------------------------------------------------
// Normalize

TEST(NormalizeTest, AppliesScaleAndZeroPoint) {
  Image img = Solid(16, 16, {0, 0, 0});
  for (size_t i = 0; i < img.rgb.size(); ++i) img.rgb[i] = static_cast<uint8_t>(i % 256);
  const size_t n = img.rgb.size();
  struct Case {
    float scale, zero_point;
  } cases[] = {{1.0f, 0.0f},
               {1.0f, 128.0f},
               {1.0f / 127.5f, 127.5f},
               {0.0078125f, 128.0f},
               {0.017f, 114.8f}};
  for (const Case& c : cases) {
    std::vector<float> out(n + 4, -999.0f);
    Normalize(img, c.scale, c.zero_point, out.data());
    for (size_t i = 0; i < n; ++i) {
      ASSERT_EQ(out[i], c.scale * (static_cast<float>(img.rgb[i]) - c.zero_point)) << i;
    }
    for (size_t i = n; i < out.size(); ++i) EXPECT_EQ(out[i], -999.0f) << "wrote past the end";
  }
  std::vector<float> out(n);
  Normalize(img, 1.0f / 127.5f, 127.5f, out.data());
  EXPECT_FLOAT_EQ(out[0], -1.0f);
  EXPECT_FLOAT_EQ(out[255], 1.0f);
  Normalize(img, 1.0f, 128.0f, out.data());
  EXPECT_EQ(out[0], -128.0f);
  EXPECT_EQ(out[255], 127.0f);
}

TEST(NormalizeTest, NeverWritesPastTheDeclaredSize) {
  Image img = Solid(2, 2, {50, 60, 70});
  img.rgb.resize(100, 7);  // more bytes than 2x2x3
  std::vector<float> out(12 + 1, -1.0f);
  Normalize(img, 2.0f, 10.0f, out.data());
  EXPECT_EQ(out[0], 80.0f);
  EXPECT_EQ(out[11], 120.0f);
  EXPECT_EQ(out[12], -1.0f);
  Normalize(Image{}, 1.0f, 0.0f, out.data());  // empty: no-op
  EXPECT_EQ(out[0], 80.0f);
}

}  // namespace
}  // namespace image
}  // namespace mnv2
