// The pieces of the Python module `lincat._lincat`, one function per file that adds its part.
#pragma once
#include <pybind11/stl.h>
#include <torch/extension.h>

namespace lincat::python {

void add_attention(pybind11::module_& module);  // hybrid_attention
void add_model(pybind11::module_& module);      // load, Model, diagnose

}  // namespace lincat::python
