// What both engines do alike for a segmentation network's head (model::SegmentationHead): where
// its buffers lie, how threads share it, and how they share the resize to a mask. The engines
// bring their own arithmetic (float32 or 8-bit) as callbacks.
#ifndef MNV2_ENGINE_SEGMENTATION_H_
#define MNV2_ENGINE_SEGMENTATION_H_

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <vector>

#include "engine/workers.h"
#include "kernels/upsample.h"
#include "model/network.h"

namespace mnv2 {
namespace engine {

// The head's buffers in an engine's arena, in elements of its activations (float or byte): the
// pooled map and the pooled branch's vector, the concatenation, and the convolutions' outputs
// taking turns in two buffers (the logits in the last one written).
struct SegmentationLayout {
  bool image_pooling = false;
  int pixels = 0, width = 0, classes = 0;  // of the backbone's (and the logits') map
  int map_channels = 0;                     // the backbone's output
  int branch_channels = 0, map_branch_channels = 0;  // the pooled and the 1x1 branch (with image_pooling)
  size_t branch_offset = 0, map_offset = 0;          // their channels in a concatenated pixel
  std::vector<int> conv_channels;                    // the output channels of each of the head's convs
  size_t pooled_offset = 0, vector_offset = 0, concat_offset = 0, conv_offset[2] = {0, 0}, logits_offset = 0;
  size_t end = 0;  // one past the last element
  int height() const { return pixels / std::max(width, 1); }
  size_t concat_channels() const { return static_cast<size_t>(branch_channels + map_branch_channels); }
};

// The layout of `net`'s head from `offset` on, each buffer starting on a multiple of `align` elements.
inline SegmentationLayout LayOutSegmentation(const model::Network& net, size_t offset, size_t align) {
  const model::SegmentationHead& s = net.segmentation;
  const model::ConvGeometry& map = net.blocks.back().project.g;
  auto aligned = [align](size_t n) { return (n + align - 1) / align * align; };
  SegmentationLayout l;
  l.image_pooling = s.image_pooling;
  l.pixels = map.out_h * map.out_w;
  l.width = map.out_w;
  l.classes = s.classes();
  l.map_channels = map.out_c;
  if (s.image_pooling) {
    l.branch_channels = s.pool_conv.g.out_c;
    l.map_branch_channels = s.map_conv.g.out_c;
    l.branch_offset = s.pooling_first ? 0 : static_cast<size_t>(l.map_branch_channels);
    l.map_offset = s.pooling_first ? static_cast<size_t>(l.branch_channels) : 0;
  }
  size_t widest = 0;
  for (const model::Conv2D& c : s.convs) {
    l.conv_channels.push_back(c.g.out_c);
    widest = std::max(widest, static_cast<size_t>(c.g.out_c));
  }
  const size_t pixels = static_cast<size_t>(l.pixels);
  l.pooled_offset = aligned(offset);
  l.vector_offset = l.pooled_offset + aligned(static_cast<size_t>(map.out_c));
  l.concat_offset = l.vector_offset + aligned(static_cast<size_t>(l.branch_channels));
  l.conv_offset[0] = l.concat_offset + aligned(pixels * l.concat_channels());
  l.conv_offset[1] = l.conv_offset[0] + aligned(pixels * widest);
  l.logits_offset = l.conv_offset[(s.convs.size() - 1) % 2];
  l.end = l.conv_offset[1] + aligned(pixels * widest);
  return l;
}

// Thread t's share of the head, after the blocks (the backbone's map at `map` in `arena`): its
// pixels through the 1x1 branch, the concatenation and every convolution, with one barrier after
// thread 0 has made the pooled branch's vector. The engine's arithmetic:
//   pool_branch(map, pooled, vector)        thread 0: the average of the map, its 1x1 convolution
//   map_branch(in, rows, out, out_stride)   the 1x1 branch of `rows` pixels (in their concatenation)
//   conv(i, in, rows, out)                  convolution i of the head's convs, `rows` pixels
template <class T, class PoolBranch, class MapBranch, class Conv>
void ShareSegmentationHead(const SegmentationLayout& l, T* arena, const T* map, Workers& workers, int t,
                           PoolBranch&& pool_branch, MapBranch&& map_branch, Conv&& conv) {
  int begin, end;
  workers.Share(l.pixels, t, &begin, &end);
  const size_t first = static_cast<size_t>(begin), n = static_cast<size_t>(end - begin);
  T* concat = arena + l.concat_offset;
  if (l.image_pooling) {
    const size_t stride = l.concat_channels();
    T* vector = arena + l.vector_offset;
    if (t == 0) pool_branch(map, arena + l.pooled_offset, vector);
    // The 1x1 branch, straight into its channels of the concatenation.
    if (n > 0) {
      map_branch(map + first * l.map_channels, static_cast<int>(n), concat + first * stride + l.map_offset, stride);
    }
    workers.Sync();
    // The pooled branch: the same vector in every pixel (its resize from 1x1 copies it).
    for (size_t i = first; i < first + n; ++i) {
      std::memcpy(concat + i * stride + l.branch_offset, vector, l.branch_channels * sizeof(T));
    }
  }
  if (n == 0) return;
  size_t channels = l.image_pooling ? l.concat_channels() : static_cast<size_t>(l.map_channels);
  const T* in = l.image_pooling ? concat : map;
  for (size_t i = 0; i < l.conv_channels.size(); ++i) {
    T* out = arena + l.conv_offset[i % 2];
    conv(i, in + first * channels, static_cast<int>(n), out + first * l.conv_channels[i]);
    in = out;
    channels = static_cast<size_t>(l.conv_channels[i]);
  }
}

// The threads share the rows of a mask: fn(row_begin, row_end, t).
template <class Fn>
void ShareMaskRows(Workers& workers, int rows, Fn&& fn) {
  workers.Run([&](int t) {
    int begin, end;
    workers.Share(rows, t, &begin, &end);
    if (begin < end) fn(begin, end, t);
  });
}

}  // namespace engine
}  // namespace mnv2

#endif  // MNV2_ENGINE_SEGMENTATION_H_
