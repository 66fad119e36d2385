// config.json (including the "lincat" section) on arbitrary bytes. Either a UserError, or a
// config whose memory estimate does not overflow and which lincat reads back unchanged from the
// config.json it would write for it.
#include "fuzz/fuzz_support.h"
#include "lincat/io/hf_config.h"
#include "lincat/model/model_memory.h"
#include "lincat/util/error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  const std::string path = lincat::fuzz::write_input("config.json", data, size);
  lincat::ModelConfig config;
  try {
    config = lincat::io::load_model_config(path);
  } catch (const lincat::UserError&) {
    return 0;
  }
  try {
    lincat::check_model_fits(config, sizeof(float), "float32", path);
  } catch (const lincat::UserError&) {
  }
  const nlohmann::json written = lincat::io::model_config_to_json(config);
  const lincat::ModelConfig reread = lincat::io::parse_model_config(written, path);  // must not throw
  if (lincat::io::model_config_to_json(reread) != written) std::abort();
  return 0;
}
