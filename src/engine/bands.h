// How both engines run an inverted residual block band by band: the output rows of a band,
// the input rows its depthwise window covers, and the ring that holds the block's expanded
// input rows while they are needed.
#ifndef MNV2_ENGINE_BANDS_H_
#define MNV2_ENGINE_BANDS_H_

#include <algorithm>

#include "model/network.h"

namespace mnv2 {
namespace engine {

// A band holds at least this many output pixels, so the projection GEMM has rows to tile.
constexpr int kMinBandPixels = 48;

// Output rows per band of a block whose depthwise convolution has geometry g.
inline int BandRows(const model::ConvGeometry& g) {
  return std::min(g.out_h, std::max(1, (kMinBandPixels + g.out_w - 1) / g.out_w));
}

// Input rows the 3x3 depthwise window spans: 3, or 2 * dilation + 1 when atrous.
inline int WindowSpan(const model::ConvGeometry& g) { return 2 * g.dilation + 1; }

// Input rows [lo, hi) the depthwise window of output rows [oy0, oy1) covers.
inline void WindowRows(const model::ConvGeometry& g, int oy0, int oy1, int* lo, int* hi) {
  *lo = std::max(0, oy0 * g.stride - g.pad_top);
  *hi = std::min(g.in_h, (oy1 - 1) * g.stride - g.pad_top + WindowSpan(g));
}

// Slots of the ring that holds a block's depthwise input rows (input row r in slot
// r % slots) while bands of band_rows output rows run: one band's window, or the whole input.
// (Aligning the ring so that each band's new rows are one run of slots, filled by one
// expansion GEMM call instead of two, was tried: no change natively, nor in Node beyond the
// 2-3% by which a build's code layout alone can move the float32 network there.)
inline int RingRows(const model::ConvGeometry& g, int band_rows) {
  return std::min(g.in_h, (band_rows - 1) * g.stride + WindowSpan(g));
}

// The input rows a thread's ring holds, [lo, hi), while its bands go down the rows or up them
// (Workers::Claims; one way only): Need gives the rows of a band's window not held yet,
// [*first, *last), for the caller to produce into their slots (row % slots). A window spans at
// most the ring's slots (RingRows), so the rows held from then on are the window's.
class RingWindow {
 public:
  void Need(int lo, int hi, bool down, int* first, int* last) {
    *first = lo;
    *last = hi;
    if (lo < hi_ && hi > lo_) {  // the rows held that the window covers stay
      if (down) {
        *first = std::min(hi_, hi);
      } else {
        *last = lo_;
      }
    }
    lo_ = lo;
    hi_ = hi;
  }

 private:
  int lo_ = 0, hi_ = 0;
};

// Calls band(oy0, oy1) for each band of at most band_rows output rows of the rows a thread
// claims (Workers::Claims), taken in its claims' direction, so that its ring slides one way.
template <class Claims, class Band>
void ForEachBand(Claims& claims, int band_rows, Band&& band) {
  int begin, end;
  while (claims.Next(&begin, &end)) {
    for (int done = 0; done < end - begin; done += band_rows) {
      const int rows = std::min(band_rows, end - begin - done);
      const int oy0 = claims.down() ? begin + done : end - done - rows;
      band(oy0, oy0 + rows);
    }
  }
}

// Whether a block may write its output over its own input, both starting at the same place
// (one thread): every band's output (out_row elements per output row) must end before the
// first input row (in_row elements, the same unit) still unread. With `ring`, the input is
// expanded into the ring as the bands go (rows below a band's window are done with); without,
// the depthwise reads it in place. Not for a block that reads its input again (a residual).
inline bool OutputMayOverlapInput(const model::ConvGeometry& g, size_t in_row, size_t out_row, int band_rows,
                                  bool ring) {
  for (int oy0 = 0; oy0 < g.out_h; oy0 += band_rows) {
    const int oy1 = std::min(oy0 + band_rows, g.out_h);
    int lo, hi;
    WindowRows(g, oy0, oy1, &lo, &hi);
    // Rows below `unread` are no longer needed: expanded into the ring, or read for good.
    int unread = ring ? hi : std::min(g.in_h, oy1 * g.stride - g.pad_top);
    if (oy1 == g.out_h) unread = g.in_h;
    if (static_cast<size_t>(oy1) * out_row > static_cast<size_t>(unread) * in_row) return false;
  }
  return true;
}

}  // namespace engine
}  // namespace mnv2

#endif  // MNV2_ENGINE_BANDS_H_
