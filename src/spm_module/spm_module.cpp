// Thin C wrapper over SentencePiece; see spm_module.h for why it is a separate module. No C++
// exception may leave these functions: they cross a C interface into another link namespace.
#include "spm_module.h"

#include <sentencepiece_processor.h>
#include <sentencepiece_trainer.h>

#include <cstdlib>
#include <cstring>
#include <exception>
#include <string>
#include <vector>

#define LINCAT_SPM_EXPORT __attribute__((visibility("default")))

struct lincat_spm {
  sentencepiece::SentencePieceProcessor processor;
};

namespace {

void write_error(const std::string& message, char* err, size_t capacity) {
  if (!err || capacity == 0) return;
  std::strncpy(err, message.c_str(), capacity - 1);
  err[capacity - 1] = '\0';
}

template <typename T>
T* copy_to_malloc(const T* data, size_t count, size_t extra = 0) {
  auto* out = static_cast<T*>(std::malloc((count + extra) * sizeof(T) + 1));
  if (out && count) std::memcpy(out, data, count * sizeof(T));
  return out;
}

}  // namespace

extern "C" {

LINCAT_SPM_EXPORT lincat_spm* lincat_spm_load(const char* path, char* err, size_t cap) {
  auto* spm = new lincat_spm();
  std::string error;
  try {
    const auto status = spm->processor.Load(path);
    if (!status.ok()) error = status.ToString();
  } catch (const std::exception& e) {  // SentencePiece throws on some malformed models
    error = e.what();
  }
  if (!error.empty()) {
    write_error(error, err, cap);
    delete spm;
    return nullptr;
  }
  return spm;
}

LINCAT_SPM_EXPORT void lincat_spm_free(lincat_spm* spm) { delete spm; }

LINCAT_SPM_EXPORT int lincat_spm_vocab_size(const lincat_spm* spm) {
  return spm->processor.GetPieceSize();
}
LINCAT_SPM_EXPORT int lincat_spm_bos_id(const lincat_spm* spm) { return spm->processor.bos_id(); }
LINCAT_SPM_EXPORT int lincat_spm_eos_id(const lincat_spm* spm) { return spm->processor.eos_id(); }

LINCAT_SPM_EXPORT int* lincat_spm_encode(const lincat_spm* spm, const char* text, size_t length,
                                         size_t* count) {
  std::vector<int> ids;
  try {
    if (!spm->processor.Encode(std::string(text, length), &ids).ok()) return nullptr;
  } catch (const std::exception&) {
    return nullptr;
  }
  *count = ids.size();
  return copy_to_malloc(ids.data(), ids.size());
}

LINCAT_SPM_EXPORT char* lincat_spm_decode(const lincat_spm* spm, const int* ids, size_t count,
                                          size_t* length) {
  const int size = spm->processor.GetPieceSize();
  for (size_t i = 0; i < count; ++i) {
    if (ids[i] < 0 || ids[i] >= size) return nullptr;
  }
  std::string text;
  try {
    if (!spm->processor.Decode(std::vector<int>(ids, ids + count), &text).ok()) return nullptr;
  } catch (const std::exception&) {
    return nullptr;
  }
  *length = text.size();
  char* out = copy_to_malloc(text.data(), text.size());
  if (out) out[text.size()] = '\0';
  return out;
}

LINCAT_SPM_EXPORT char* lincat_spm_id_to_piece(const lincat_spm* spm, int id) {
  if (id < 0 || id >= spm->processor.GetPieceSize()) return nullptr;
  const std::string piece = spm->processor.IdToPiece(id);
  char* out = copy_to_malloc(piece.data(), piece.size());
  if (out) out[piece.size()] = '\0';
  return out;
}

LINCAT_SPM_EXPORT void lincat_spm_release(void* buffer) { std::free(buffer); }

LINCAT_SPM_EXPORT int lincat_spm_train(const char* flags, char* err, size_t cap) {
  std::string error;
  try {
    const auto status = sentencepiece::SentencePieceTrainer::Train(flags);
    if (!status.ok()) error = status.ToString();
  } catch (const std::exception& e) {
    error = e.what();
  }
  if (!error.empty()) {
    write_error(error, err, cap);
    return -1;
  }
  return 0;
}

}  // extern "C"
