#include "lincat/attention/chunked_kernel.h"

#include <ATen/Parallel.h>

#include "lincat/attention/form_support.h"
#include "lincat/attention/key_sets.h"
#include "lincat/kernels/blas_cpu.h"
#include "lincat/kernels/hybrid_chunked_cpu.h"

namespace lincat::attention::detail {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// Inputs of the kernel, contiguous, in the compute dtype.
struct KernelInputs {
  at::Tensor q, k, v;      // [B, H, T, d]; k, v [B, Hkv, T, d]
  at::Tensor phi_q, phi_k;  // [B, H, T, F]
  at::Tensor gamma;        // [H]
  int64_t window = 0;
  Layout layout = Layout::Standard;
  Mode mode = Mode::Hybrid;
};

// What the forward keeps for the backward: [B, H, T, 2w], [B, H, T] (int32), [B, H, T].
struct Saved {
  at::Tensor window_exp, max_column, normaliser;
};

template <typename T>
kernels::HybridChunkedHead<T> head_of(const KernelInputs& in, const at::Tensor& out, const Saved* saved,
                                      int64_t batch_head) {
  const int64_t heads = in.q.size(1), kv_heads = in.k.size(1), length = in.q.size(2);
  const int64_t d = in.q.size(3), features = in.phi_q.size(3);
  const int64_t kv_head = (batch_head / heads) * kv_heads + (batch_head % heads) / (heads / kv_heads);
  kernels::HybridChunkedHead<T> head;
  head.length = length;
  head.head_dim = d;
  head.features = features;
  head.window = in.window;
  head.layout = in.layout;
  head.mode = in.mode;
  head.gamma = in.gamma.data_ptr<T>()[batch_head % heads];
  head.denominator_floor = static_cast<T>(kDenominatorFloor);
  head.q = in.q.data_ptr<T>() + batch_head * length * d;
  head.k = in.k.data_ptr<T>() + kv_head * length * d;
  head.v = in.v.data_ptr<T>() + kv_head * length * d;
  head.phi_q = in.phi_q.data_ptr<T>() + batch_head * length * features;
  head.phi_k = in.phi_k.data_ptr<T>() + batch_head * length * features;
  head.out = out.data_ptr<T>() + batch_head * length * d;
  if (saved != nullptr) {
    head.window_exp = saved->window_exp.data_ptr<T>() + batch_head * length * 2 * in.window;
    head.max_column = saved->max_column.data_ptr<int32_t>() + batch_head * length;
    head.normaliser = saved->normaliser.data_ptr<T>() + batch_head * length;
  }
  return head;
}

// One task per (batch, head), each running its BLAS products on its own thread.
void for_each_head(const KernelInputs& in, const std::function<void(int64_t)>& run) {
  const kernels::SingleThreadedBlas single_threaded;
  at::parallel_for(0, in.q.size(0) * in.q.size(1), 1, [&](int64_t begin, int64_t end) {
    for (int64_t batch_head = begin; batch_head < end; ++batch_head) run(batch_head);
  });
}

// out [B, H, T, d]; saved filled when given.
at::Tensor run_forward(const KernelInputs& in, Saved* saved) {
  const at::Tensor out = at::empty(in.q.sizes(), in.q.options());
  if (saved != nullptr) {
    const int64_t batch = in.q.size(0), heads = in.q.size(1), length = in.q.size(2);
    saved->window_exp = at::empty({batch, heads, length, 2 * in.window}, in.q.options());
    saved->max_column = at::empty({batch, heads, length}, in.q.options().dtype(at::kInt));
    saved->normaliser = at::empty({batch, heads, length}, in.q.options());
  }
  AT_DISPATCH_FLOATING_TYPES(in.q.scalar_type(), "chunked_kernel_forward", [&] {
    for_each_head(in, [&](int64_t batch_head) {
      kernels::hybrid_chunked_forward<scalar_t>(head_of<scalar_t>(in, out, saved, batch_head));
    });
  });
  return out;
}

class ChunkedKernelFunction : public torch::autograd::Function<ChunkedKernelFunction> {
 public:
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& q, const at::Tensor& k,
                            const at::Tensor& v, const at::Tensor& phi_q, const at::Tensor& phi_k,
                            const at::Tensor& gamma, int64_t window, int64_t layout, int64_t mode) {
    const KernelInputs in{q, k, v, phi_q, phi_k, gamma, window, static_cast<Layout>(layout), static_cast<Mode>(mode)};
    Saved saved;
    at::Tensor out = run_forward(in, &saved);
    ctx->save_for_backward({q, k, v, phi_q, phi_k, gamma, out, saved.window_exp, saved.max_column,
                            saved.normaliser});
    ctx->saved_data["window"] = window;
    ctx->saved_data["layout"] = layout;
    ctx->saved_data["mode"] = mode;
    return out;
  }

  static variable_list backward(AutogradContext* ctx, variable_list grad_outputs) {
    const variable_list s = ctx->get_saved_variables();
    const KernelInputs in{s[0], s[1], s[2], s[3], s[4], s[5], ctx->saved_data["window"].toInt(),
                          static_cast<Layout>(ctx->saved_data["layout"].toInt()),
                          static_cast<Mode>(ctx->saved_data["mode"].toInt())};
    const at::Tensor out = s[6];
    Saved saved{s[7], s[8], s[9]};
    const at::Tensor grad_out = grad_outputs[0].to(in.q.scalar_type()).contiguous();  // [B, H, T, d]
    const int64_t batch = in.q.size(0), heads = in.q.size(1), kv_heads = in.k.size(1);
    const int64_t length = in.q.size(2), d = in.q.size(3), features = in.phi_q.size(3);
    const at::Tensor grad_q = at::empty_like(in.q);
    const at::Tensor grad_k = at::empty_like(in.q);  // per query head; summed over each GQA group below
    const at::Tensor grad_v = at::empty_like(in.q);
    const at::Tensor grad_phi_q = at::empty_like(in.phi_q);
    const at::Tensor grad_phi_k = at::empty_like(in.phi_k);
    const at::Tensor grad_gamma = at::empty({batch, heads}, in.q.options());
    AT_DISPATCH_FLOATING_TYPES(in.q.scalar_type(), "chunked_kernel_backward", [&] {
      for_each_head(in, [&](int64_t batch_head) {
        const auto head = head_of<scalar_t>(in, out, &saved, batch_head);
        kernels::HybridChunkedGradients<scalar_t> grads;
        grads.grad_out = grad_out.data_ptr<scalar_t>() + batch_head * length * d;
        grads.grad_q = grad_q.data_ptr<scalar_t>() + batch_head * length * d;
        grads.grad_k = grad_k.data_ptr<scalar_t>() + batch_head * length * d;
        grads.grad_v = grad_v.data_ptr<scalar_t>() + batch_head * length * d;
        grads.grad_phi_q = grad_phi_q.data_ptr<scalar_t>() + batch_head * length * features;
        grads.grad_phi_k = grad_phi_k.data_ptr<scalar_t>() + batch_head * length * features;
        kernels::hybrid_chunked_backward<scalar_t>(head, grads);
        grad_gamma.data_ptr<scalar_t>()[batch_head] = grads.grad_gamma;
      });
    });
    // [B, H, T, d] -> [B, Hkv, T, d]: the heads of a group read the same keys and values.
    auto per_kv_head = [&](const at::Tensor& grad) {
      if (kv_heads == heads) return grad;
      return grad.view({batch, kv_heads, heads / kv_heads, length, d}).sum(2);
    };
    return {grad_q, per_kv_head(grad_k), per_kv_head(grad_v), grad_phi_q, grad_phi_k,
            grad_gamma.sum(0), at::Tensor(), at::Tensor(), at::Tensor()};
  }
};

}  // namespace

bool chunked_kernel_applies(const at::Tensor& q, const HybridConfig& config, Mode mode,
                            const ChunkedHistory& history) {
  // Every mode with a window or a linear branch: not `sinks` (its own key set) nor `none`.
  const bool covered = has_window_branch(mode) || has_linear_branch(mode);
  if (!covered || config.sinks != 0 || !q.device().is_cpu()) return false;
  if (history.offset != 0 || history.state_query >= 0 || history.linear_state.defined() ||
      history.sink_keys.defined()) {
    return false;
  }
  return compute_dtype(q) == at::kDouble ? kernels::blas_gemm_available<double>()
                                         : kernels::blas_gemm_available<float>();
}

at::Tensor chunked_kernel_attention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                                    const HybridLayerWeights& weights, const HybridConfig& config, Mode mode) {
  const at::ScalarType dtype = compute_dtype(q);
  const int64_t heads = q.size(1);
  KernelInputs in;
  in.q = q.to(dtype).contiguous();
  in.k = k.to(dtype).contiguous();
  in.v = v.to(dtype).contiguous();
  if (has_linear_branch(mode)) {
    in.phi_q = query_features(in.q, weights, config).contiguous();                  // [B, H, T, F]
    in.phi_k = key_features(expand_kv(in.k, heads), weights, config).contiguous();  // [B, H, T, F]
  } else {  // no features: F = 0
    in.phi_q = at::empty({q.size(0), heads, q.size(2), 0}, in.q.options());
    in.phi_k = at::empty_like(in.phi_q);
  }
  // gamma = sigmoid(mixing_logit) where both branches share the normaliser, else 1: [H]
  in.gamma = softmax_branch_weight(weights, mode, 0, dtype).reshape({-1}).expand({heads}).contiguous();
  in.window = config.window;
  in.layout = config.layout;
  in.mode = mode;
  const bool needs_graph = at::GradMode::is_enabled() &&
                           (in.q.requires_grad() || in.k.requires_grad() || in.v.requires_grad() ||
                            in.phi_q.requires_grad() || in.phi_k.requires_grad() || in.gamma.requires_grad());
  const at::Tensor out =
      needs_graph ? ChunkedKernelFunction::apply(in.q, in.k, in.v, in.phi_q, in.phi_k, in.gamma, in.window,
                                                 static_cast<int64_t>(in.layout), static_cast<int64_t>(in.mode))
                  : run_forward(in, nullptr);
  return out.to(q.scalar_type());
}

}  // namespace lincat::attention::detail
