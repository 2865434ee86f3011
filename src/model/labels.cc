#include "model/labels.h"

#include <algorithm>

namespace mnv2 {
namespace model {

Result<std::vector<std::string>> ParseLabels(const std::string& text, int num_classes) {
  std::vector<std::string> labels;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    std::string line = text.substr(start, end - start);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    labels.push_back(std::move(line));
    start = end + 1;
  }
  if (static_cast<int>(labels.size()) == num_classes - 1) labels.insert(labels.begin(), "background");
  // A blank line right after the classes starts a note (as in PASCAL VOC's label file).
  const size_t n = static_cast<size_t>(std::max(num_classes, 0));
  if (labels.size() > n && labels[n].empty()) labels.resize(n);
  if (static_cast<int>(labels.size()) != num_classes) {
    return Status(ErrorCode::kInvalidArgument, "the label file has " + std::to_string(labels.size()) +
                                                   " lines but the model has " + std::to_string(num_classes) +
                                                   " classes");
  }
  return labels;
}

int FirstRankedClass(int num_classes, const std::vector<std::string>& labels) {
  constexpr int kImageNetWithBackground = 1001;
  if (num_classes != kImageNetWithBackground) return 0;
  return labels.empty() || labels[0] == "background" ? 1 : 0;
}

}  // namespace model
}  // namespace mnv2
