// lincat.load(path) -> Model (forward, generate, encode/decode, linear_share) and
// lincat.diagnose(...) -> the report as a dict.
#include <filesystem>
#include <memory>
#include <optional>

#include "bindings.h"
#include "lincat/eval/component_usage.h"
#include "lincat/eval/diagnose.h"
#include "lincat/eval/diagnose_report.h"
#include "lincat/eval/task_readers.h"
#include "lincat/eval/text_encoder.h"
#include "lincat/generate/generate.h"
#include "lincat/io/hf_config.h"
#include "lincat/io/tokenizer.h"
#include "lincat/model/decoder.h"
#include "lincat/util/error.h"

namespace lincat::python {
namespace {

namespace py = pybind11;

// nlohmann::json -> Python objects, through json.loads (the report and config are small).
py::object to_python(const nlohmann::json& value) {
  return py::module_::import("json").attr("loads")(value.dump());
}

class PyModel {
 public:
  PyModel(const std::string& path, const std::string& dtype, const std::string& device) : path_(path) {
    LoadOptions options;
    options.dtype = parse_dtype(dtype, "dtype");
    options.device = parse_device(device, "device");
    py::gil_scoped_release release;
    model_ = load_model(path, options);
  }

  const Model& model() const { return *model_; }
  const std::string& path() const { return path_; }

  py::object config() const { return to_python(io::model_config_to_json(model_->config)); }

  std::string default_mode() const { return attention::mode_name(model_->config.default_mode); }

  // ids [T] or [B, T] (int64) -> logits [T, V] or [B, T, V] (float32), without gradients.
  at::Tensor forward(const at::Tensor& ids, const std::optional<std::string>& attention) const {
    if (ids.dim() != 1 && ids.dim() != 2) {
      throw UserError("forward: ids must be [T] or [B, T], got " + shape_string(ids.sizes().vec()));
    }
    if (ids.scalar_type() != at::kLong) throw UserError("forward: ids must be int64 (torch.long)");
    const at::Tensor batch = (ids.dim() == 1 ? ids.unsqueeze(0) : ids).contiguous();
    const at::Tensor flat = batch.reshape({-1}).cpu();
    check_token_ids(*model_, std::vector<int64_t>(flat.data_ptr<int64_t>(), flat.data_ptr<int64_t>() + flat.numel()), "ids");
    const attention::Mode mode = mode_or_default(attention);
    py::gil_scoped_release release;
    at::NoGradGuard no_grad;
    const at::Tensor logits = lincat::forward(*model_, batch.to(model_->device), mode).cpu();  // [B, T, V]
    return ids.dim() == 1 ? logits[0] : logits;
  }

  std::vector<int64_t> generate(const std::vector<int64_t>& prompt, int64_t max_new_tokens, double temperature,
                                int64_t top_k, double top_p, uint64_t seed, bool stop_at_eos,
                                const std::optional<std::string>& attention) const {
    check_token_ids(*model_, prompt, "prompt");
    if (prompt.empty()) throw UserError("generate: the prompt is empty");
    if (max_new_tokens < 0) throw UserError("generate: max_new_tokens must be >= 0");
    GenerationOptions options;
    options.max_new_tokens = max_new_tokens;
    options.sampling = {temperature, top_k, top_p, seed};
    validate(options.sampling);
    options.stop_at_eos = stop_at_eos;
    options.mode = mode_or_default(attention);
    py::gil_scoped_release release;
    return lincat::generate(*model_, prompt, options).new_ids;
  }

  // [BOS] + ids of `text` (BOS only when the model or tokenizer has one).
  std::vector<int64_t> encode(const std::string& text, bool bos) {
    const io::Tokenizer& t = tokenizer();
    std::vector<int64_t> ids;
    const int64_t bos_id = eval::bos_token(t, *model_);
    if (bos && bos_id >= 0) ids.push_back(bos_id);
    for (int64_t id : t.encode(text)) ids.push_back(id);
    return ids;
  }

  std::string decode(const std::vector<int64_t>& ids) { return tokenizer().decode(ids); }

  // Per layer and head, the linear branch's share of the normaliser and of the output, averaged
  // over the positions with a linear set (algorithms.md section 8), in hybrid mode.
  py::dict linear_share(const std::vector<std::vector<int64_t>>& sequences) const {
    eval::ComponentUsage usage;
    {
      py::gil_scoped_release release;
      usage = eval::measure_component_usage(*model_, sequences);
    }
    py::dict out;
    out["linear_share"] = usage.linear_share;
    out["linear_output_share"] = usage.linear_output_share;
    out["mean_linear_share"] = usage.mean_linear_share;
    out["mean_linear_output_share"] = usage.mean_linear_output_share;
    out["positions"] = usage.positions;
    out["first_linear_position"] = eval::first_linear_position(*model_);
    return out;
  }

  const io::Tokenizer& tokenizer() {
    if (!tokenizer_) tokenizer_ = io::Tokenizer::load(eval::tokenizer_path("", *model_));
    return *tokenizer_;
  }

 private:
  attention::Mode mode_or_default(const std::optional<std::string>& attention) const {
    if (!attention) return model_->config.default_mode;
    const attention::Mode mode = attention::parse_mode(*attention);
    check_mode(*model_, mode);
    return mode;
  }

  std::string path_;
  std::shared_ptr<const Model> model_;
  std::unique_ptr<io::Tokenizer> tokenizer_;
};

py::object diagnose(PyModel& model, PyModel& base, const std::vector<std::string>& tasks, const std::string& data_dir,
                    int64_t limit, int num_fewshot, int probe_items, uint64_t seed, int64_t max_probe_distance) {
  eval::DiagnoseSettings settings;
  for (const std::string& name : tasks) settings.tasks.push_back(eval::load_task(name, data_dir, num_fewshot));
  if (limit < 0) throw UserError("diagnose: limit must be >= 0");
  settings.limit = limit;
  settings.probe_items = probe_items;
  settings.seed = seed;
  settings.max_probe_distance = max_probe_distance;
  const io::Tokenizer& tokenizer = model.tokenizer();
  eval::DiagnoseReport report;
  {
    py::gil_scoped_release release;
    report = eval::diagnose(model.model(), model.path(), base.model(), base.path(), tokenizer, settings);
  }
  return to_python(eval::diagnose_json(report));
}

}  // namespace

void add_model(py::module_& module) {
  py::class_<PyModel>(module, "Model", "A Llama/Mistral model, original or converted, loaded by lincat")
      .def(py::init<const std::string&, const std::string&, const std::string&>(), py::arg("path"),
           py::kw_only(), py::arg("dtype") = "float32", py::arg("device") = "cpu")
      .def_property_readonly("config", &PyModel::config, "config.json as lincat reads it (a dict)")
      .def_property_readonly("default_mode", &PyModel::default_mode)
      .def_property_readonly("path", &PyModel::path)
      .def("forward", &PyModel::forward, py::arg("ids"), py::kw_only(), py::arg("attention") = py::none(),
           "ids [T] or [B, T] (torch.long) -> logits [T, V] or [B, T, V] (float32); attention: a mode name or the model's default")
      .def("generate", &PyModel::generate, py::arg("prompt"), py::kw_only(), py::arg("max_new_tokens") = 32,
           py::arg("temperature") = 0.0, py::arg("top_k") = 0, py::arg("top_p") = 1.0, py::arg("seed") = 0,
           py::arg("stop_at_eos") = true, py::arg("attention") = py::none(),
           "prompt ids -> the new ids (greedy unless temperature > 0), through the decode state")
      .def("encode", &PyModel::encode, py::arg("text"), py::kw_only(), py::arg("bos") = true,
           "text -> ids with the model's tokenizer (MODEL/tokenizer.model), BOS first")
      .def("decode", &PyModel::decode, py::arg("ids"))
      .def("linear_share", &PyModel::linear_share, py::arg("sequences"),
           "per layer and head: the linear branch's share of the normaliser and of the output (hybrid mode)");
  module.def("diagnose", &diagnose, py::arg("model"), py::arg("base"), py::kw_only(),
             py::arg("tasks") = std::vector<std::string>{}, py::arg("data_dir") = ".", py::arg("limit") = 0,
             py::arg("num_fewshot") = 0, py::arg("probe_items") = 8, py::arg("seed") = 1234,
             py::arg("max_probe_distance") = 0,
             "`lincat diagnose` as a function: every mode on the tasks and probes, linear usage; the report as a dict");
}

}  // namespace lincat::python
