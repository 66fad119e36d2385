// The two inner loops of the decode kernels (hybrid_decode_cpu.cpp, softmax_decode_cpu.cpp),
// compiled for AVX-512, AVX2 and the baseline and chosen once at load time: the default build
// targets plain x86-64, whose 128-bit vectors ran the hybrid step at a few GFLOP/s. dot keeps eight
// partial sums so that it vectorises without reassociation flags; its order is fixed, and the
// kernels are compiled without contraction (CMakeLists.txt), so every clone rounds alike.
// No torch here: raw pointers.
#pragma once
#include <cstdint>

namespace lincat::kernels {

// y[i] += a * x[i], i < n.
void axpy(int64_t n, float a, const float* x, float* y);
void axpy(int64_t n, double a, const double* x, double* y);

// sum of x[i] * y[i], i < n.
float dot(int64_t n, const float* x, const float* y);
double dot(int64_t n, const double* x, const double* y);

}  // namespace lincat::kernels
