// Label files: one class name per line, line i naming class i.
#ifndef MNV2_MODEL_LABELS_H_
#define MNV2_MODEL_LABELS_H_

#include <string>
#include <vector>

#include "common/status.h"

namespace mnv2 {
namespace model {

// Splits the text into lines (LF or CRLF), dropping one trailing empty line. A file with one
// label fewer than `num_classes` lacks the background class: "background" is put first. A blank
// line right after the `num_classes` labels starts a note, which is ignored.
Result<std::vector<std::string>> ParseLabels(const std::string& text, int num_classes);

// The first class a top-k list may name: 1 for a 1001-class model whose class 0 is TF-slim's
// "background" (labelled so, or not labelled at all), which no ImageNet photo is trained to be;
// 0 otherwise.
int FirstRankedClass(int num_classes, const std::vector<std::string>& labels);

}  // namespace model
}  // namespace mnv2

#endif  // MNV2_MODEL_LABELS_H_
