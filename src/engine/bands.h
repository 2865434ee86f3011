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

// Input rows [lo, hi) the depthwise window of output rows [oy0, oy1) covers.
inline void WindowRows(const model::ConvGeometry& g, int oy0, int oy1, int* lo, int* hi) {
  *lo = std::max(0, oy0 * g.stride - g.pad_top);
  *hi = std::min(g.in_h, (oy1 - 1) * g.stride - g.pad_top + 3);
}

// The ring of a block's depthwise input rows: `rows` slots, input row r in slot
// (r + shift) % rows (Slot). It holds a band's window, (band_rows - 1) * stride + 3 rows.
// After the first band, each band adds band_rows * stride new rows; with the slots a multiple
// of that and the shift aligning the first band's end to one, every band's new rows are one
// run of slots, which the expansion fills in one GEMM call. (A run split at the ring's end
// made two calls of few rows each, with partial register tiles: the float32 network ran 3-5%
// slower; the int8 one, whose GEMM stages its rows, the same.) A ring that would hold the
// whole input holds it, unshifted.
struct RingLayout {
  int rows = 0;
  int shift = 0;
  int Slot(int row) const { return (row + shift) % rows; }
};

inline RingLayout PlanRing(const model::ConvGeometry& g, int band_rows) {
  const int window = (band_rows - 1) * g.stride + 3;
  const int step = band_rows * g.stride;
  int lo, first_end;
  WindowRows(g, 0, std::min(band_rows, g.out_h), &lo, &first_end);
  RingLayout ring;
  ring.shift = (step - first_end % step) % step;
  ring.rows = (std::max(window, ring.shift + first_end) + step - 1) / step * step;
  if (ring.rows >= g.in_h) ring = {g.in_h, 0};
  return ring;
}

}  // namespace engine
}  // namespace mnv2

#endif  // MNV2_ENGINE_BANDS_H_
