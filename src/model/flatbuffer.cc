#include "model/flatbuffer.h"

namespace mnv2 {
namespace model {

FbTable FlatBufferReader::Root(const char identifier[4]) const {
  if (size_ < 8) {
    Fail("file is " + std::to_string(size_) + " bytes, too small to be a FlatBuffer");
    return {};
  }
  if (std::memcmp(data_ + 4, identifier, 4) != 0) {
    Fail(std::string("wrong file identifier (expected \"") + std::string(identifier, 4) + "\")");
    return {};
  }
  const size_t root = Deref(0);
  return ok() ? TableAt(root) : FbTable();
}

size_t FlatBufferReader::Deref(size_t pos) const {
  const uint32_t offset = Load<uint32_t>(pos);
  if (!ok()) return 0;
  const size_t target = pos + offset;
  if (offset == 0 || !InBounds(target, 4)) {
    Fail("offset " + std::to_string(offset) + " at " + std::to_string(pos) + " points outside the file");
    return 0;
  }
  return target;
}

FbTable FlatBufferReader::TableAt(size_t pos) const {
  const int32_t soffset = Load<int32_t>(pos);
  if (!ok()) return {};
  const int64_t vtable = static_cast<int64_t>(pos) - soffset;
  if (vtable < 0 || !InBounds(static_cast<size_t>(vtable), 4)) {
    Fail("vtable of the table at " + std::to_string(pos) + " is outside the file");
    return {};
  }
  const uint16_t vtable_size = Load<uint16_t>(static_cast<size_t>(vtable));
  const uint16_t table_size = Load<uint16_t>(static_cast<size_t>(vtable) + 2);
  if (vtable_size < 4 || (vtable_size & 1) || !InBounds(static_cast<size_t>(vtable), vtable_size) ||
      !InBounds(pos, table_size)) {
    Fail("malformed vtable for the table at " + std::to_string(pos));
    return {};
  }
  FbTable t;
  t.reader_ = this;
  t.pos_ = pos;
  t.vtable_ = static_cast<size_t>(vtable);
  t.vtable_size_ = vtable_size;
  return t;
}

size_t FbTable::FieldPos(int id) const {
  if (!reader_) return 0;
  const size_t entry = 4 + 2 * static_cast<size_t>(id);
  if (entry + 2 > vtable_size_) return 0;  // field added after this file was written
  const uint16_t offset = reader_->Load<uint16_t>(vtable_ + entry);
  return offset ? pos_ + offset : 0;
}

FbTable FbTable::Table(int id) const {
  const size_t pos = FieldPos(id);
  if (!pos) return {};
  const size_t target = reader_->Deref(pos);
  return reader_->ok() ? reader_->TableAt(target) : FbTable();
}

FbVector FbTable::Vector(int id, size_t element_size) const {
  const size_t pos = FieldPos(id);
  if (!pos) return {};
  const size_t target = reader_->Deref(pos);
  if (!reader_->ok()) return {};
  const uint32_t count = reader_->Load<uint32_t>(target);
  if (!reader_->ok()) return {};
  if (element_size != 0 && count > (reader_->size() - target - 4) / element_size) {
    reader_->Fail("vector of " + std::to_string(count) + " elements at " + std::to_string(target) +
                  " runs past the end of the file");
    return {};
  }
  FbVector v;
  v.reader_ = reader_;
  v.pos_ = target + 4;
  v.size_ = count;
  v.element_size_ = element_size;
  return v;
}

std::string FbTable::String(int id) const {
  FbVector v = Vector(id, 1);
  if (!v.present()) return {};
  return std::string(reinterpret_cast<const char*>(v.data()), v.size());
}

FbTable FbVector::Table(size_t i) const {
  if (!reader_ || i >= size_) return {};
  const size_t target = reader_->Deref(pos_ + i * 4);
  return reader_->ok() ? reader_->TableAt(target) : FbTable();
}

const uint8_t* FbVector::data() const { return reader_ ? reader_->data() + pos_ : nullptr; }

}  // namespace model
}  // namespace mnv2
