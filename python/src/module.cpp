// lincat._lincat: lincat's attention and models for Python. Tensors cross as torch tensors
// (torch's own bindings, the same libtorch): no copies, and autograd follows them through C++.
#include "bindings.h"
#include "lincat/util/error.h"

PYBIND11_MODULE(_lincat, module) {
  module.doc() = "lincat: hybrid linear attention (sliding-window softmax + linear attention) from C++";
  // Bad input reads as ValueError with lincat's message, as the command line's "error:" lines do.
  pybind11::register_exception_translator([](std::exception_ptr error) {
    try {
      if (error) std::rethrow_exception(error);
    } catch (const lincat::UserError& e) {
      PyErr_SetString(PyExc_ValueError, e.what());
    }
  });
  lincat::python::add_attention(module);
  lincat::python::add_model(module);
}
