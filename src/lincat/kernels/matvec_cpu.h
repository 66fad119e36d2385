// y = W x for one float32 row on the CPU, read near the memory's streaming rate: a decode step is
// little else. OpenBLAS's single-threaded sgemv (Debian 12) streamed the weights of a 100M model
// at about 22 GB/s where a plain sum read 31 (2026-12-02, this project's 2-core machine). These
// kernels read one row after another with wide fused multiply-adds and loads aligned to cache
// lines, so that a matrix is a single sequential stream (docs/BENCHMARKS.md).
// No torch here: raw pointers, so that the file compiles in seconds.
#pragma once
#include <cstdint>

namespace lincat::kernels {

// Whether this CPU runs the kernels (x86-64 with AVX2 and FMA, or AVX-512F); when it does not,
// callers use their library's matrix-vector product instead.
bool matvec_available();

// y[r] = sum_c weight[r * cols + c] * x[c] for r in [first_row, end_row): weight row-major
// [rows, cols], contiguous. The sum over c is in a fixed order for a given CPU and address of the
// row, so results do not depend on how rows are split between threads. Requires matvec_available().
void matvec_rows(const float* weight, const float* x, float* y, int64_t cols, int64_t first_row,
                 int64_t end_row);

// The two instruction sets matvec_rows chooses between (AVX-512 where the CPU has it), each
// reachable on its own so that tests cover the one this CPU would not choose.
enum class MatvecIsa { Avx2Fma, Avx512 };
bool matvec_isa_available(MatvecIsa isa);
void matvec_rows_with(MatvecIsa isa, const float* weight, const float* x, float* y, int64_t cols, int64_t first_row,
                      int64_t end_row);

}  // namespace lincat::kernels
