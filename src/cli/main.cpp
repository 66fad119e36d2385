// lincat: the command-line program. Parses flags, calls the library, prints.
// Exit codes: 0 success, 2 bad input (stderr begins with "error:"), 1 internal failure.
#include <iostream>

#include "cli/commands.h"
#include "cli/flags.h"
#include "lincat/util/allocator.h"
#include "lincat/util/error.h"
#include "lincat/util/out_of_memory.h"
#include "lincat/util/threads.h"

int main(int argc, char** argv) {
  lincat::restart_with_passive_openmp_waits(argv);
  CLI::App app{"lincat: hybrid linear-attention conversion and diagnostics for Llama/Mistral models"};
  app.require_subcommand(1);
  app.set_help_all_flag("--help-all", "help for every subcommand");
  lincat::cli::Action action;
  // --verbose may follow any command: commands pass the flags they do not know up to here.
  app.fallthrough();
  bool verbose = false;
  app.add_flag("--verbose", verbose, "print choices made for you (threads) on stderr");
  lincat::cli::add_demo_command(app, action);
  lincat::cli::add_info_command(app, action);
  lincat::cli::add_forward_command(app, action);
  lincat::cli::add_generate_command(app, action);
  lincat::cli::add_bench_command(app, action);
  lincat::cli::add_convert_init_command(app, action);
  lincat::cli::add_convert_command(app, action);
  lincat::cli::add_plan_command(app, action);
  lincat::cli::add_pretrain_command(app, action);
  lincat::cli::add_merge_command(app, action);
  lincat::cli::add_calibrate_command(app, action);
  lincat::cli::add_export_command(app, action);
  lincat::cli::add_random_model_command(app, action);
  lincat::cli::add_eval_command(app, action);
  lincat::cli::add_diagnose_command(app, action);
  lincat::cli::add_tokenize_command(app, action);

  std::string names;
  bool known = false;
  for (const CLI::App* command : app.get_subcommands({})) {
    names += (names.empty() ? "" : ", ") + command->get_name();
    known = known || (argc > 1 && command->get_name() == argv[1]);
  }
  if (argc > 1 && argv[1][0] != '-' && !known) {
    std::cerr << "error: unknown command '" << argv[1] << "' (commands: " << names << ")\n";
    return 2;
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 2;
  }

  try {
    lincat::configure_threads();
    if (verbose) lincat::report_thread_choice(&std::cerr);
    lincat::util::keep_large_allocations_in_heap();
    return action ? action() : 0;
  } catch (const lincat::SettingError& e) {
    std::cerr << "error: " << lincat::cli::message_with_flag(app, e) << "\n";
    return 2;
  } catch (const lincat::UserError& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    if (lincat::is_out_of_memory(e)) {  // a model or setting too large for this device: bad input
      std::cerr << "error: out of memory: " << lincat::error_text(e) << "\n";
      return 2;
    }
    std::cerr << "error: internal failure: " << e.what() << "\n";
    return 1;
  }
}
