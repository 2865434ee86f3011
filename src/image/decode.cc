// Decode: stb_image behind size checks and a per-call memory budget.
//
// This is the only translation unit that compiles stb_image. It is compiled
// STB_IMAGE_STATIC (no stbi_* symbols leak out of the library) with only the four
// decoders we support, and all of its allocations go through BudgetMalloc & co. so a
// decode can never allocate much more than its declared dimensions justify.

#include <algorithm>
#include <climits>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>

#include "common/thread_local.h"
#include "image/image.h"
#include "image/internal.h"

namespace {

// Bytes stb_image may have live at once during one Decode call. Allocations are
// prefixed with their size so frees can be accounted; the prefix keeps malloc's
// alignment.
struct AllocBudget {
  size_t limit = 0;
  size_t used = 0;
  bool exceeded = false;
};
MNV2_THREAD_LOCAL AllocBudget* g_budget = nullptr;
constexpr size_t kAllocHeader =
    alignof(std::max_align_t) >= sizeof(size_t) ? alignof(std::max_align_t) : sizeof(size_t);

bool Reserve(size_t n) {
  AllocBudget* b = g_budget;
  if (b == nullptr) return true;
  if (n > b->limit - b->used) {
    b->exceeded = true;
    return false;
  }
  b->used += n;
  return true;
}

void Release(size_t n) {
  if (AllocBudget* b = g_budget) b->used -= std::min(n, b->used);
}

// Zeroed: stb_image 2.27 reads parts of its JPEG state that corrupt files never set (e.g. the
// Huffman tables of a scan that no DHT segment defined), and must not see old heap bytes there.
void* BudgetMalloc(size_t n) {
  if (n > SIZE_MAX - kAllocHeader || !Reserve(n)) return nullptr;
  char* base = static_cast<char*>(std::calloc(1, n + kAllocHeader));
  if (base == nullptr) {
    Release(n);
    return nullptr;
  }
  std::memcpy(base, &n, sizeof(n));
  return base + kAllocHeader;
}

void BudgetFree(void* p) {
  if (p == nullptr) return;
  char* base = static_cast<char*>(p) - kAllocHeader;
  size_t n;
  std::memcpy(&n, base, sizeof(n));
  Release(n);
  std::free(base);
}

void* BudgetRealloc(void* p, size_t n) {
  if (p == nullptr) return BudgetMalloc(n);
  char* base = static_cast<char*>(p) - kAllocHeader;
  size_t old;
  std::memcpy(&old, base, sizeof(old));
  if (n > SIZE_MAX - kAllocHeader) return nullptr;
  if (n > old && !Reserve(n - old)) return nullptr;
  char* grown = static_cast<char*>(std::realloc(base, n + kAllocHeader));
  if (grown == nullptr) {
    if (n > old) Release(n - old);
    return nullptr;
  }
  if (n < old) Release(old - n);
  std::memcpy(grown, &n, sizeof(n));
  return grown + kAllocHeader;
}

}  // namespace

#define STBI_MALLOC(sz) BudgetMalloc(sz)
#define STBI_REALLOC(p, newsz) BudgetRealloc(p, newsz)
#define STBI_FREE(p) BudgetFree(p)
#define STB_IMAGE_STATIC
#define STB_IMAGE_IMPLEMENTATION
#define STBI_ONLY_JPEG
#define STBI_ONLY_PNG
#define STBI_ONLY_BMP
#define STBI_ONLY_GIF
#define STBI_NO_STDIO
#define STBI_NO_LINEAR
// stb_image asserts internal invariants that corrupt input can break (e.g. inconsistent
// JPEG Huffman tables in stbi__jpeg_huff_decode); the code after them stays in bounds.
// Keep them out of every build type so bad input cannot abort a Debug build.
#define STBI_ASSERT(x) ((void)0)
// Failure strings stay on (no STBI_NO_FAILURE_STRINGS): they go into our messages.
#if MNV2_SINGLE_THREADED
#define STBI_NO_THREAD_LOCALS
#endif
#include "stb_image.h"

namespace mnv2 {
namespace image {
namespace {

// Installs a budget for the stb_image calls made during its lifetime.
class BudgetScope {
 public:
  explicit BudgetScope(size_t limit) : previous_(g_budget) {
    budget_.limit = limit;
    g_budget = &budget_;
  }
  ~BudgetScope() { g_budget = previous_; }
  BudgetScope(const BudgetScope&) = delete;
  BudgetScope& operator=(const BudgetScope&) = delete;
  bool exceeded() const { return budget_.exceeded; }

 private:
  AllocBudget budget_;
  AllocBudget* previous_;
};

// Reading a header needs only stb's small context structs (the GIF one is the largest,
// about 35 KiB).
constexpr size_t kInfoBudget = 1u << 20;

// Peak memory of a full decode, w x h rounded up to whole 32x32 blocks (JPEG MCU
// padding). Measured peaks: progressive 4:4:4 JPEG and GIF ~12 bytes/pixel, 16-bit RGBA
// PNG ~16 (interlaced adds a pass buffer: ~20 by analysis); PNG also collects the
// compressed stream (up to 2x the input). 32 bytes/pixel plus fixed slack leaves margin
// for every legitimate file while bounding what a decompression bomb can take.
size_t DecodeBudget(int width, int height, size_t input_size) {
  const uint64_t padded_w = (static_cast<uint64_t>(width) + 31) / 32 * 32;
  const uint64_t padded_h = (static_cast<uint64_t>(height) + 31) / 32 * 32;
  const uint64_t budget =
      32 * padded_w * padded_h + 2 * static_cast<uint64_t>(input_size) + (4u << 20);
  return budget > SIZE_MAX ? SIZE_MAX : static_cast<size_t>(budget);
}

const char* FormatName(const uint8_t* data, size_t size) {
  if (size >= 2 && data[0] == 0xFF && data[1] == 0xD8) return "JPEG";
  if (size >= 4 && data[0] == 0x89 && data[1] == 'P' && data[2] == 'N' && data[3] == 'G')
    return "PNG";
  if (size >= 2 && data[0] == 'B' && data[1] == 'M') return "BMP";
  if (size >= 4 && std::memcmp(data, "GIF8", 4) == 0) return "GIF";
  return nullptr;
}

// Width and height from the header of a `format` file (a FormatName result).
// stbi_info_from_memory would try every decoder in turn and report only the last one's
// complaint ("unknown image type"); asking the one decoder the signature names keeps
// its reason (e.g. "too large"). These are stb_image internals, stable since 2.x.
bool ReadHeader(const char* format, const uint8_t* data, int len, int* width, int* height) {
  stbi__context context;
  stbi__start_mem(&context, data, len);
  int components = 0;
  switch (format[0]) {
    case 'J':
      return stbi__jpeg_info(&context, width, height, &components) != 0;
    case 'P':
      return stbi__png_info(&context, width, height, &components) != 0;
    case 'B':
      return stbi__bmp_info(&context, width, height, &components) != 0;
    case 'G':
      return stbi__gif_info(&context, width, height, &components) != 0;
  }
  return false;
}

std::string HexPrefix(const uint8_t* data, size_t size) {
  static const char kDigits[] = "0123456789abcdef";
  std::string hex;
  for (size_t i = 0; i < size && i < 8; ++i) {
    if (i > 0) hex += ' ';
    hex += kDigits[data[i] >> 4];
    hex += kDigits[data[i] & 15];
  }
  return hex;
}

// stb_image's reason for the last failure on this thread. A few paths leave it empty
// (e.g. a PNG cut off between chunks reads as a nameless unknown chunk).
std::string FailureReason() {
  const char* reason = stbi_failure_reason();
  if (reason == nullptr || *reason == '\0') return "corrupt or truncated data";
  return reason;
}

// stb_image reports sizes it cannot represent as "too large".
ErrorCode FailureCode() {
  const char* reason = stbi_failure_reason();
  return reason != nullptr && std::strcmp(reason, "too large") == 0 ? ErrorCode::kImageTooLarge
                                                                    : ErrorCode::kImageDecode;
}

uint32_t Le16(const uint8_t* p) { return p[0] | (p[1] << 8); }
uint32_t Le32(const uint8_t* p) {
  return p[0] | (p[1] << 8) | (p[2] << 16) | (static_cast<uint32_t>(p[3]) << 24);
}

Status Truncated(const char* format, uint64_t needed, size_t size) {
  return Status(ErrorCode::kImageDecode, std::string("truncated ") + format + ": " +
                                             std::to_string(size) + " bytes present, at least " +
                                             std::to_string(needed) + " needed");
}

// stb_image reads zeros past the end of the data instead of failing, so a cut-off BMP
// or GIF would decode with a black or partial bottom. PIL rejects those ("image file is
// truncated"); so do we, by checking that the data the headers promise is all there.
// Headers that make no sense here are left for stb_image to reject.
Status CheckBmpComplete(const uint8_t* data, size_t size) {
  if (size < 18) return Truncated("BMP", 18, size);
  const uint32_t offset = Le32(data + 10);
  const uint32_t header_size = Le32(data + 14);
  if (header_size != 12 && header_size != 40 && header_size != 56 && header_size != 108 &&
      header_size != 124) {
    return Status::Ok();  // not a layout stb_image reads
  }
  if (size < 14 + header_size) return Truncated("BMP", 14 + header_size, size);
  int64_t width, height;
  uint32_t bpp, compression;
  if (header_size == 12) {  // OS/2 BITMAPCOREHEADER
    width = Le16(data + 18);
    height = Le16(data + 20);
    bpp = Le16(data + 24);
    compression = 0;
  } else {
    width = static_cast<int32_t>(Le32(data + 18));
    height = static_cast<int32_t>(Le32(data + 22));
    bpp = Le16(data + 28);
    compression = Le32(data + 30);
  }
  // Only uncompressed layouts (BI_RGB, BI_BITFIELDS, BI_ALPHABITFIELDS) have a known size.
  if (compression != 0 && compression != 3 && compression != 6) return Status::Ok();
  if (width <= 0 || width > (1 << 24) || bpp == 0 || bpp > 32) return Status::Ok();
  if (height < 0) height = -height;
  const uint64_t row_bytes = (static_cast<uint64_t>(width) * bpp + 31) / 32 * 4;
  const uint64_t needed = offset + row_bytes * static_cast<uint64_t>(height);
  if (needed > size) return Truncated("BMP", needed, size);
  return Status::Ok();
}

// stb_image 2.27 (Debian's libstb-dev) overflows a 257-entry array when a JPEG Huffman
// table declares more than 256 codes; 2.28 added the check. This walks the marker
// segments the way stb_image reads them (resynchronizing on garbage, skipping
// entropy-coded data, consuming DHT segments table by table) and rejects such tables
// before stb_image sees them. On corrupt files it may look at more segments than
// stb_image would, never fewer; valid files are never rejected.
//
// It also refuses a scan that uses a Huffman table no DHT segment has defined before it (as
// libjpeg does): stb_image 2.27 would decode it with whatever its tables held, and a garbage
// table indexes out of bounds. A baseline scan uses its components' DC and AC tables; a
// progressive one the DC tables (first DC scans) or the AC tables (AC scans).
Status CheckJpegHuffmanTables(const uint8_t* data, size_t size) {
  auto byte = [&](size_t i) -> uint32_t { return i < size ? data[i] : 0; };  // as stb
  auto is_restart = [](uint8_t m) { return m >= 0xD0 && m <= 0xD7; };
  bool defined[2][4] = {};  // [DC, AC][table id]
  bool progressive = false;
  size_t pos = 2;  // after SOI
  while (pos < size) {
    if (data[pos] != 0xFF) {
      ++pos;
      continue;
    }
    while (pos < size && data[pos] == 0xFF) ++pos;  // fill bytes
    if (pos >= size) break;
    const uint8_t marker = data[pos++];
    if (marker == 0xD9) break;                                             // EOI
    if (marker == 0x00 || marker == 0x01 || is_restart(marker)) continue;  // no segment
    const size_t length = byte(pos) << 8 | byte(pos + 1);
    if (length < 2) break;  // stb_image rejects this
    if (marker == 0xC4) {   // DHT
      int64_t remaining = static_cast<int64_t>(length) - 2;
      size_t p = pos + 2;
      while (remaining > 0) {
        const uint32_t table = byte(p++);
        if ((table >> 4) > 1 || (table & 15) > 3) return Status::Ok();  // stb rejects
        uint32_t codes = 0;
        for (int i = 0; i < 16; ++i) codes += byte(p++);
        if (codes > 256) {
          return Status(ErrorCode::kImageDecode, "corrupt JPEG: a Huffman table declares " +
                                                     std::to_string(codes) +
                                                     " codes (at most 256 are possible)");
        }
        defined[table >> 4][table & 15] = true;
        p += codes;
        remaining -= 17 + static_cast<int64_t>(codes);
      }
      if (remaining != 0) break;  // stb rejects the segment
      pos = p;
      continue;
    }
    if (marker == 0xC2) progressive = true;
    if (marker == 0xDA) {  // SOS: components (selector, DC << 4 | AC table), Ss, Se, Ah << 4 | Al
      const uint32_t components = byte(pos + 2);
      const uint32_t ss = byte(pos + 3 + 2 * components), ah = byte(pos + 5 + 2 * components) >> 4;
      const bool uses_dc = !progressive || (ss == 0 && ah == 0), uses_ac = !progressive || ss != 0;
      for (uint32_t c = 0; c < components && c < 4; ++c) {
        const uint32_t tables = byte(pos + 4 + 2 * c), dc = tables >> 4, ac = tables & 15;
        if (dc > 3 || ac > 3) break;  // stb rejects
        if ((uses_dc && !defined[0][dc]) || (uses_ac && !defined[1][ac])) {
          return Status(ErrorCode::kImageDecode,
                        std::string("corrupt JPEG: a scan uses ") + (uses_dc && !defined[0][dc] ? "DC" : "AC") +
                            " Huffman table " + std::to_string(uses_dc && !defined[0][dc] ? dc : ac) +
                            ", which no DHT segment defines");
        }
      }
    }
    pos += length;
    if (marker == 0xDA) {  // SOS: skip entropy-coded data up to the next real marker
      while (pos < size) {
        if (data[pos] != 0xFF) {
          ++pos;
          continue;
        }
        size_t next = pos + 1;
        while (next < size && data[next] == 0xFF) ++next;
        if (next < size && data[next] != 0x00 && !is_restart(data[next])) break;
        pos = next + 1;
      }
    }
  }
  return Status::Ok();
}

// stb_image 2.27 copies a zero-length IDAT chunk into its not yet allocated buffer
// (memcpy to a null pointer: undefined behavior, flagged by UBSan). No encoder writes an
// empty IDAT before the image data, so such files are refused instead.
Status CheckPngChunks(const uint8_t* data, size_t size) {
  uint64_t pos = 8;  // after the signature
  while (pos + 8 <= size) {
    const uint8_t* chunk = data + pos;
    const uint32_t length =
        static_cast<uint32_t>(chunk[0]) << 24 | chunk[1] << 16 | chunk[2] << 8 | chunk[3];
    if (std::memcmp(chunk + 4, "IDAT", 4) == 0) {
      if (length == 0) {
        return Status(ErrorCode::kImageDecode,
                      "unsupported PNG: an empty IDAT chunk precedes the image data");
      }
      break;  // the first image data: nothing more to check
    }
    if (std::memcmp(chunk + 4, "IEND", 4) == 0) break;
    pos += 12 + static_cast<uint64_t>(length);  // length, type, data, CRC
  }
  return Status::Ok();
}

// Walks the GIF blocks up to the end of the first image's data.
Status CheckGifComplete(const uint8_t* data, size_t size) {
  uint64_t pos = 13;  // signature, logical screen descriptor
  if (size < pos) return Truncated("GIF", pos, size);
  if (data[10] & 0x80) pos += 3u << ((data[10] & 7) + 1);  // global color table
  auto skip_sub_blocks = [&]() {
    while (pos < size) {
      const uint8_t n = data[pos++];
      if (n == 0) return true;
      pos += n;
    }
    return false;
  };
  while (pos < size) {
    const uint8_t block = data[pos++];
    if (block == 0x21) {  // extension: label, then sub-blocks
      ++pos;
      if (!skip_sub_blocks()) break;
    } else if (block == 0x2C) {  // image descriptor
      if (pos + 9 > size) break;
      const uint8_t flags = data[pos + 8];
      pos += 9;
      if (flags & 0x80) pos += 3u << ((flags & 7) + 1);  // local color table
      ++pos;                                             // LZW minimum code size
      if (!skip_sub_blocks()) break;
      return Status::Ok();
    } else {
      return Status::Ok();  // trailer or garbage: stb_image decides
    }
  }
  return Status(ErrorCode::kImageDecode,
                "truncated GIF: the data ends before the first image is complete");
}

}  // namespace

Result<Image> Decode(const uint8_t* data, size_t size, const Limits& limits) {
  if (size == 0) return Status(ErrorCode::kImageDecode, "image data is empty (0 bytes)");
  if (data == nullptr) {
    return Status(ErrorCode::kInvalidArgument,
                  "image data pointer is null but size is " + std::to_string(size));
  }
  if (size > limits.max_bytes) {
    return Status(ErrorCode::kImageTooLarge, "encoded image is " + std::to_string(size) +
                                                 " bytes; the limit is " +
                                                 std::to_string(limits.max_bytes));
  }
  if (size > static_cast<size_t>(INT_MAX)) {
    return Status(ErrorCode::kImageTooLarge, "encoded image is " + std::to_string(size) +
                                                 " bytes; at most 2147483647 bytes can be decoded");
  }
  const int len = static_cast<int>(size);
  const char* format = FormatName(data, size);
  if (format == nullptr) {
    return Status(ErrorCode::kImageDecode, "unrecognized image format (the data starts with " +
                                               HexPrefix(data, size) +
                                               "); supported formats are JPEG, PNG, BMP and GIF");
  }
  const std::string what = std::string(format) + " image";

  // stbi_failure_reason() is only set on failure; clear it so a message can never
  // carry a reason left over from an earlier call on this thread.
  stbi__g_failure_reason = nullptr;

  if (std::strcmp(format, "JPEG") == 0) {
    // Before anything else: stb_image parses Huffman tables while reading the header.
    MNV2_RETURN_IF_ERROR(CheckJpegHuffmanTables(data, size));
  }
  int width = 0, height = 0;
  {
    BudgetScope scope(kInfoBudget);
    if (!ReadHeader(format, data, len, &width, &height)) {
      return Status(FailureCode(),
                    "cannot read " + what + " header (truncated or corrupt): " + FailureReason());
    }
  }
  MNV2_RETURN_IF_ERROR(internal::CheckDimensions(width, height, limits, what.c_str()));
  if (std::strcmp(format, "PNG") == 0) {
    MNV2_RETURN_IF_ERROR(CheckPngChunks(data, size));
  } else if (std::strcmp(format, "BMP") == 0) {
    MNV2_RETURN_IF_ERROR(CheckBmpComplete(data, size));
  } else if (std::strcmp(format, "GIF") == 0) {
    MNV2_RETURN_IF_ERROR(CheckGifComplete(data, size));
  }

  BudgetScope scope(DecodeBudget(width, height, size));
  int w = 0, h = 0, n = 0;
  stbi_uc* pixels = stbi_load_from_memory(data, len, &w, &h, &n, 3);
  if (pixels == nullptr) {
    const std::string dims = std::to_string(width) + "x" + std::to_string(height);
    if (scope.exceeded()) {
      return Status(ErrorCode::kImageTooLarge,
                    "decoding the " + dims + " " + what +
                        " needs more memory than its size justifies (possible "
                        "decompression bomb)");
    }
    return Status(FailureCode(), "cannot decode " + dims + " " + what + ": " + FailureReason());
  }
  Status status;
  if (w != width || h != height) {
    status =
        Status(ErrorCode::kImageDecode, what + " decoded to " + std::to_string(w) + "x" +
                                            std::to_string(h) + " but its header says " +
                                            std::to_string(width) + "x" + std::to_string(height));
  }
  Image out;
  if (status.ok()) {
    out.width = w;
    out.height = h;
    out.rgb.assign(pixels, pixels + static_cast<size_t>(w) * static_cast<size_t>(h) * 3);
  }
  stbi_image_free(pixels);
  if (!status.ok()) return status;
  return out;
}

}  // namespace image
}  // namespace mnv2
