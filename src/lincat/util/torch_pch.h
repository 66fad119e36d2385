// Precompiled header for every translation unit of the engine, the CLI and the tests.
// libtorch's headers dominate compile time; parsing them once per target keeps the build lean.
#pragma once
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>
