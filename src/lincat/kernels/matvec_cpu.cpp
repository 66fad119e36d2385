#include "lincat/kernels/matvec_cpu.h"

#include <algorithm>
#include <cstdint>
#include <vector>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace lincat::kernels {

#if defined(__x86_64__)
namespace {

bool has_avx512() { return __builtin_cpu_supports("avx512f"); }
bool has_avx2_fma() { return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"); }

// Each row on its own, start to end: a matrix is then read as one sequential stream, which the
// hardware prefetcher follows at the rate of a plain sum, provided the loads do not straddle cache
// lines. A row whose start is not on a 64-byte line (the tensors of a safetensors file mapped in
// place usually are not) first takes the columns up to the next line through a masked load. Then
// four accumulators of 64 columns hide the FMA latency; blocks of 16 go into the first; the last
// columns through a masked load. The order of the sum depends only on the row's address and
// length, so the split of rows between threads never changes a result.
__attribute__((target("avx512f"))) float row_avx512(const float* row, const float* x, int64_t cols) {
  __m512 a0 = _mm512_setzero_ps(), a1 = _mm512_setzero_ps(), a2 = _mm512_setzero_ps(), a3 = _mm512_setzero_ps();
  const int64_t misaligned = static_cast<int64_t>(reinterpret_cast<uintptr_t>(row) % 64 / sizeof(float));
  int64_t c = misaligned == 0 ? 0 : std::min<int64_t>(16 - misaligned, cols);
  if (c > 0) {
    const __mmask16 head = static_cast<__mmask16>((1u << c) - 1);
    a1 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(head, row), _mm512_maskz_loadu_ps(head, x), a1);
  }
  for (; c + 64 <= cols; c += 64) {
    a0 = _mm512_fmadd_ps(_mm512_loadu_ps(row + c), _mm512_loadu_ps(x + c), a0);
    a1 = _mm512_fmadd_ps(_mm512_loadu_ps(row + c + 16), _mm512_loadu_ps(x + c + 16), a1);
    a2 = _mm512_fmadd_ps(_mm512_loadu_ps(row + c + 32), _mm512_loadu_ps(x + c + 32), a2);
    a3 = _mm512_fmadd_ps(_mm512_loadu_ps(row + c + 48), _mm512_loadu_ps(x + c + 48), a3);
  }
  for (; c + 16 <= cols; c += 16) a0 = _mm512_fmadd_ps(_mm512_loadu_ps(row + c), _mm512_loadu_ps(x + c), a0);
  if (c < cols) {
    const __mmask16 tail = static_cast<__mmask16>((1u << (cols - c)) - 1);
    a0 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(tail, row + c), _mm512_maskz_loadu_ps(tail, x + c), a0);
  }
  return _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(a0, a1), _mm512_add_ps(a2, a3)));
}

__attribute__((target("avx512f"))) void rows_avx512(const float* weight, const float* x, float* y, int64_t cols,
                                                    int64_t first, int64_t end) {
  for (int64_t r = first; r < end; ++r) y[r] = row_avx512(weight + r * cols, x, cols);
}

__attribute__((target("avx2,fma"))) float sum_lanes(__m256 v) {
  const __m128 half = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  const __m128 pairs = _mm_add_ps(half, _mm_movehl_ps(half, half));
  return _mm_cvtss_f32(_mm_add_ss(pairs, _mm_shuffle_ps(pairs, pairs, 1)));
}

// The same on 8 lanes: the columns up to the row's next 32-byte boundary one by one, four
// accumulators of 32 columns, blocks of 8 into the first, then the rest one by one.
__attribute__((target("avx2,fma"))) float row_avx2(const float* row, const float* x, int64_t cols) {
  __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps(), a2 = _mm256_setzero_ps(), a3 = _mm256_setzero_ps();
  const int64_t misaligned = static_cast<int64_t>(reinterpret_cast<uintptr_t>(row) % 32 / sizeof(float));
  const int64_t head = misaligned == 0 ? 0 : std::min<int64_t>(8 - misaligned, cols);
  float s = 0;
  for (int64_t c = 0; c < head; ++c) s += row[c] * x[c];
  int64_t c = head;
  for (; c + 32 <= cols; c += 32) {
    a0 = _mm256_fmadd_ps(_mm256_loadu_ps(row + c), _mm256_loadu_ps(x + c), a0);
    a1 = _mm256_fmadd_ps(_mm256_loadu_ps(row + c + 8), _mm256_loadu_ps(x + c + 8), a1);
    a2 = _mm256_fmadd_ps(_mm256_loadu_ps(row + c + 16), _mm256_loadu_ps(x + c + 16), a2);
    a3 = _mm256_fmadd_ps(_mm256_loadu_ps(row + c + 24), _mm256_loadu_ps(x + c + 24), a3);
  }
  for (; c + 8 <= cols; c += 8) a0 = _mm256_fmadd_ps(_mm256_loadu_ps(row + c), _mm256_loadu_ps(x + c), a0);
  s += sum_lanes(_mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)));
  for (; c < cols; ++c) s += row[c] * x[c];
  return s;
}

__attribute__((target("avx2,fma"))) void rows_avx2(const float* weight, const float* x, float* y, int64_t cols,
                                                   int64_t first, int64_t end) {
  for (int64_t r = first; r < end; ++r) y[r] = row_avx2(weight + r * cols, x, cols);
}

constexpr int64_t kLineFloats = 64 / sizeof(float);

int64_t line_offset(const float* p) { return static_cast<int64_t>(reinterpret_cast<uintptr_t>(p) % 64 / sizeof(float)); }

// x itself, or a copy of it (per thread) that starts at the same offset within a cache line as
// `row`. With the rows' loads aligned by the column peeled off first, x's loads are then aligned
// too, in every row of a matrix whose rows are whole lines long: a safetensors file mapped in place
// puts its tensors at any multiple of 4 bytes, and x straddling lines in every load cost 10-15% of
// the streaming rate (docs/BENCHMARKS.md).
const float* x_placed_like(const float* row, const float* x, int64_t cols) {
  const int64_t offset = line_offset(row);
  if (offset == line_offset(x)) return x;
  thread_local std::vector<float> copy;
  copy.resize(static_cast<size_t>(cols + 2 * kLineFloats));
  float* start = copy.data() + (offset - line_offset(copy.data()) + kLineFloats) % kLineFloats;
  std::copy(x, x + cols, start);
  return start;
}

}  // namespace

bool matvec_available() {
  static const bool available = has_avx512() || has_avx2_fma();
  return available;
}

bool matvec_isa_available(MatvecIsa isa) { return isa == MatvecIsa::Avx512 ? has_avx512() : has_avx2_fma(); }

void matvec_rows_with(MatvecIsa isa, const float* weight, const float* x, float* y, int64_t cols, int64_t first_row,
                      int64_t end_row) {
  if (first_row >= end_row) return;
  x = x_placed_like(weight + first_row * cols, x, cols);
  if (isa == MatvecIsa::Avx512) {
    rows_avx512(weight, x, y, cols, first_row, end_row);
  } else {
    rows_avx2(weight, x, y, cols, first_row, end_row);
  }
}

void matvec_rows(const float* weight, const float* x, float* y, int64_t cols, int64_t first_row, int64_t end_row) {
  static const MatvecIsa isa = has_avx512() ? MatvecIsa::Avx512 : MatvecIsa::Avx2Fma;
  matvec_rows_with(isa, weight, x, y, cols, first_row, end_row);
}

#else  // not x86-64: callers use their library's product

bool matvec_available() { return false; }
void matvec_rows(const float*, const float*, float*, int64_t, int64_t, int64_t) {}
bool matvec_isa_available(MatvecIsa) { return false; }
void matvec_rows_with(MatvecIsa, const float*, const float*, float*, int64_t, int64_t, int64_t) {}

#endif

}  // namespace lincat::kernels
