// Bilinear upsampling of a class-logit map fused with the argmax over its classes: what a
// segmentation network's RESIZE_BILINEAR to the input size followed by ARG_MAX computes, one
// output row at a time, without the upsampled logits ever existing whole (21 classes at
// 513x513 would be 5.5 MB of them).
#ifndef MNV2_KERNELS_UPSAMPLE_H_
#define MNV2_KERNELS_UPSAMPLE_H_

#include <cstddef>
#include <cstdint>
#include <vector>

namespace mnv2 {
namespace kernels {

// One output coordinate of a bilinear resize along one axis: it blends input coordinates i0
// and i1 with weights (1024 - frac) / 1024 and frac / 1024. i0 < 0 marks a coordinate outside
// what was resized (its pixels get class 0).
struct ResizeTap {
  int32_t i0 = -1, i1 = -1, frac = 0;
};

// The taps of TFLite's RESIZE_BILINEAR from `in` to `out` samples, in its integer form
// (reference_ops::ResizeBilinearInteger: scales and coordinates in 10-bit fixed point), written
// to taps[0, out). in, out >= 1.
void ResizeTaps(int in, int out, bool align_corners, bool half_pixel_centers, ResizeTap* taps);

// Output rows [row_begin, row_end) of the class mask (mask_stride bytes apart, out_w bytes each)
// of the logit map [h][w][classes] resized by the taps ys[row] and xs[column] (indices < h and
// < w): each pixel takes the first class with the largest resized logit.
//
// QUpsampleArgmax resizes 8-bit logits (the uint8 carrier) as ResizeBilinearInteger does, each
// value rounded to 8 bits before the comparison (TFLite compares the resized uint8 tensor).
// UpsampleArgmax resizes float logits (the two axes one after the other, in float32).
// scratch: UpsampleScratch(h, w, classes) elements. classes <= 256.
//
// Only pixels between logit cells of different classes are computed: where the four cells a
// pixel blends have the same class (their first largest logit), every blend of them has it too
// (each class's logit is a convex combination of the four, and an 8-bit rounding keeps the order
// of values one apart or more: what the first-largest condition gives for the lower classes).
size_t UpsampleScratch(int h, int w, int classes);
void QUpsampleArgmax(const uint8_t* logits, int h, int w, int classes, const ResizeTap* ys, const ResizeTap* xs,
                     int out_w, int row_begin, int row_end, int32_t* scratch, uint8_t* mask, size_t mask_stride);
void UpsampleArgmax(const float* logits, int h, int w, int classes, const ResizeTap* ys, const ResizeTap* xs,
                    int out_w, int row_begin, int row_end, float* scratch, uint8_t* mask, size_t mask_stride);

// The unfused reference: the whole resized map, then the argmax per pixel. For tests.
void QUpsampleArgmaxReference(const uint8_t* logits, int h, int w, int classes, const ResizeTap* ys,
                              const ResizeTap* xs, int out_h, int out_w, uint8_t* mask);

}  // namespace kernels
}  // namespace mnv2

#endif  // MNV2_KERNELS_UPSAMPLE_H_
