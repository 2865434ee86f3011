// A bounds-checked reader for FlatBuffers binaries, for files we do not trust.
//
// Every access checks that what it reads lies inside the buffer; a failed check
// marks the reader as failed (first error wins) and returns an empty value, so
// parsing code can read a whole table and check `ok()` once.
#ifndef MNV2_MODEL_FLATBUFFER_H_
#define MNV2_MODEL_FLATBUFFER_H_

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

namespace mnv2 {
namespace model {

class FlatBufferReader;

// A table: a position in the buffer plus its vtable, both already checked.
class FbTable {
 public:
  FbTable() = default;
  bool present() const { return reader_ != nullptr; }
  // Scalar field `id` (0-based field index), or `fallback` if absent.
  template <typename T>
  T Scalar(int id, T fallback) const;
  FbTable Table(int id) const;
  class FbVector Vector(int id, size_t element_size) const;
  std::string String(int id) const;
  // Offset of field `id` in the buffer, 0 if absent.
  size_t FieldPos(int id) const;

 private:
  friend class FlatBufferReader;
  friend class FbVector;
  const FlatBufferReader* reader_ = nullptr;
  size_t pos_ = 0;
  size_t vtable_ = 0;
  size_t vtable_size_ = 0;
};

// A vector of scalars or of offsets to tables, with its length checked against the buffer.
class FbVector {
 public:
  FbVector() = default;
  bool present() const { return reader_ != nullptr; }
  size_t size() const { return size_; }
  template <typename T>
  T Scalar(size_t i) const;
  FbTable Table(size_t i) const;
  // Start of the element bytes (valid for size() * element_size bytes).
  const uint8_t* data() const;

 private:
  friend class FbTable;
  const FlatBufferReader* reader_ = nullptr;
  size_t pos_ = 0;  // first element
  size_t size_ = 0;
  size_t element_size_ = 0;
};

class FlatBufferReader {
 public:
  FlatBufferReader(const uint8_t* data, size_t size) : data_(data), size_(size) {}
  // The root table, after checking the 4-byte file identifier at offset 4.
  FbTable Root(const char identifier[4]) const;

  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }
  size_t size() const { return size_; }
  const uint8_t* data() const { return data_; }

  // Internal helpers for FbTable/FbVector.
  bool InBounds(size_t pos, size_t len) const { return pos <= size_ && len <= size_ - pos; }
  template <typename T>
  T Load(size_t pos) const {
    T value{};
    if (!InBounds(pos, sizeof(T))) {
      Fail("read of " + std::to_string(sizeof(T)) + " bytes at offset " + std::to_string(pos) +
           " is outside the " + std::to_string(size_) + "-byte file");
      return value;
    }
    std::memcpy(&value, data_ + pos, sizeof(T));
    return value;
  }
  FbTable TableAt(size_t pos) const;
  // Follows the uoffset stored at `pos`; returns 0 (and fails) when out of bounds.
  size_t Deref(size_t pos) const;
  void Fail(const std::string& message) const {
    if (error_.empty()) error_ = message;
  }

 private:
  const uint8_t* data_;
  size_t size_;
  mutable std::string error_;
};

template <typename T>
T FbTable::Scalar(int id, T fallback) const {
  const size_t pos = FieldPos(id);
  return pos ? reader_->Load<T>(pos) : fallback;
}

template <typename T>
T FbVector::Scalar(size_t i) const {
  if (!reader_ || i >= size_) return T{};
  return reader_->Load<T>(pos_ + i * element_size_);
}

}  // namespace model
}  // namespace mnv2

#endif  // MNV2_MODEL_FLATBUFFER_H_
