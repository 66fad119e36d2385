// C interface of the SentencePiece module (liblincat_sentencepiece.so). The engine loads it with
// dlmopen into a new link namespace so that SentencePiece's embedded protobuf never meets the
// protobuf libtorch links; only these plain-C functions (and malloc'ed buffers the module itself
// frees) cross the boundary.
#pragma once
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct lincat_spm lincat_spm;

// Loads a tokenizer.model. On failure returns NULL and writes a message into err.
lincat_spm* lincat_spm_load(const char* path, char* err, size_t err_capacity);
void lincat_spm_free(lincat_spm* spm);

int lincat_spm_vocab_size(const lincat_spm* spm);
int lincat_spm_bos_id(const lincat_spm* spm);  // -1 when the model has none
int lincat_spm_eos_id(const lincat_spm* spm);

// Encodes UTF-8 text; returns a malloc'ed array of *count ids (free with lincat_spm_release).
int* lincat_spm_encode(const lincat_spm* spm, const char* text, size_t length, size_t* count);
// Decodes ids; returns a malloc'ed NUL-terminated string of *length bytes. NULL on bad ids.
char* lincat_spm_decode(const lincat_spm* spm, const int* ids, size_t count, size_t* length);
// The piece of one id (malloc'ed, NUL-terminated); NULL if out of range.
char* lincat_spm_id_to_piece(const lincat_spm* spm, int id);
void lincat_spm_release(void* buffer);

// Trains a model with SentencePieceTrainer's flag string ("--input=... --model_prefix=...").
// Returns 0 on success, else writes a message into err and returns -1.
int lincat_spm_train(const char* flags, char* err, size_t err_capacity);

#ifdef __cplusplus
}
#endif
