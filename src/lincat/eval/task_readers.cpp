#include "lincat/eval/task_readers.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>

#include "lincat/eval/record_files.h"
#include "lincat/util/error.h"
#include "lincat/util/name_table.h"

namespace lincat::eval {
namespace {

namespace fs = std::filesystem;

[[noreturn]] void fail(const RecordPlace& place, const std::string& what) {
  throw UserError(place.describe() + ": " + what);
}

std::string strip(const std::string& text) {
  const size_t begin = text.find_first_not_of(" \t\n\r\f\v");
  if (begin == std::string::npos) return "";
  return text.substr(begin, text.find_last_not_of(" \t\n\r\f\v") - begin + 1);
}

std::string replace_all(std::string text, const std::string& from, const std::string& to) {
  for (size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size())) {
    text.replace(at, from.size(), to);
  }
  return text;
}

// Python's str.capitalize for ASCII: first letter upper case, the rest lower case.
std::string capitalize(std::string text) {
  for (size_t i = 0; i < text.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    text[i] = static_cast<char>(i == 0 ? std::toupper(c) : std::tolower(c));
  }
  return text;
}

// A choice among `choices` (each scored as " " + choice after `context`).
TaskItem choice_item(const std::string& context, const std::vector<std::string>& choices, int64_t gold,
                     const RecordPlace& place) {
  if (choices.size() < 2) fail(place, "expected at least 2 choices, found " + std::to_string(choices.size()));
  if (gold < 0 || gold >= static_cast<int64_t>(choices.size())) {
    fail(place, "answer index " + std::to_string(gold) + " is outside 0.." + std::to_string(choices.size() - 1));
  }
  TaskItem item;
  for (const std::string& choice : choices) {
    if (choice.empty()) fail(place, "empty choice");
    item.requests.push_back({context, " " + choice});
    item.choice_bytes.push_back(choice.size());
  }
  item.gold = static_cast<size_t>(gold);
  return item;
}

std::vector<std::string> string_array(const nlohmann::json& array, const std::string& name, const RecordPlace& place) {
  std::vector<std::string> out;
  for (const nlohmann::json& value : array) {
    if (!value.is_string()) fail(place, "field '" + name + "' should hold strings, found " + value.dump());
    out.push_back(value.get<std::string>());
  }
  return out;
}

// The main metric (the one averaged and compared) is LoLCATs' for each task: acc for PIQA,
// ARC-Easy, WinoGrande and MMLU, acc_norm for ARC-Challenge and HellaSwag.
enum class Main { Acc, AccNorm };
Task multiple_choice_task(const std::string& name, bool with_norm, Main main) {
  Task task;
  task.name = name;
  task.metrics = with_norm ? std::vector<std::string>{"acc", "acc_norm"} : std::vector<std::string>{"acc"};
  task.main_metric = main == Main::AccNorm ? "acc_norm" : "acc";
  return task;
}

std::string in_dir(const std::string& dir, const std::string& file) { return (fs::path(dir) / file).string(); }

// Removes every "[...]" that closes before the end of its line: the regex \[.*?\] (ECMAScript,
// where '.' matches neither '\n' nor '\r'), in one linear pass. std::regex_replace recursed once
// per character of the match and overflowed the stack on a long bracketed span.
std::string remove_bracketed(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  size_t i = 0;
  while (i < text.size()) {
    if (text[i] != '[') {
      out += text[i++];
      continue;
    }
    const size_t end = text.find_first_of("]\n\r", i + 1);
    if (end != std::string::npos && text[end] == ']') {  // "[...]" on one line: dropped
      i = end + 1;
    } else {  // no ']' before the line ends: every '[' up to there stays, as does the line break
      const size_t stop = end == std::string::npos ? text.size() : end;
      out.append(text, i, stop - i);
      i = stop;
    }
  }
  return out;
}

}  // namespace

namespace {

const util::NameTable<TaskId>& task_table() {
  static const util::NameTable<TaskId> table = {
      {TaskId::Piqa, "piqa"},           {TaskId::ArcEasy, "arc_easy"},
      {TaskId::ArcChallenge, "arc_challenge"}, {TaskId::HellaSwag, "hellaswag"},
      {TaskId::Winogrande, "winogrande"}, {TaskId::Mmlu, "mmlu"},
      {TaskId::NextSentence, "next_sentence"}, {TaskId::LastWord, "last_word"}};
  return table;
}

}  // namespace

std::string task_name(TaskId task) { return util::name_of(task_table(), task); }

TaskId parse_task(const std::string& name) { return util::parse_from(task_table(), name, "task"); }

const std::vector<std::string>& task_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> out;
    for (const auto& entry : task_table()) out.push_back(entry.second);
    return out;
  }();
  return names;
}

std::string task_file_help() {
  return "piqa.jsonl (goal, sol1, sol2, label; or labels one per line in piqa-labels.lst); "
         "arc_easy.jsonl, arc_challenge.jsonl (ARC or Hugging Face form: question, choices, answerKey); "
         "hellaswag.jsonl (activity_label, ctx_a, ctx_b, endings, label); "
         "winogrande.jsonl (sentence with '_', option1, option2, answer); "
         "mmlu/dev/*_dev.csv and mmlu/test/*_test.csv (question, A, B, C, D, answer); "
         "next_sentence.jsonl (context, choices, label) and last_word.jsonl (context, target) from "
         "scripts/build_heldout_tasks.py";
}

std::string hellaswag_preprocess(const std::string& text) {
  const std::string out = remove_bracketed(replace_all(strip(text), " [title]", ". "));
  return replace_all(out, "  ", " ");
}

Task read_piqa(const std::string& path, const std::string& labels_path) {
  std::vector<int64_t> labels;
  if (!labels_path.empty()) {
    std::ifstream in(labels_path);
    std::string line;
    RecordPlace place{labels_path, 0};
    while (std::getline(in, line)) {
      ++place.line;
      if (strip(line).empty()) continue;
      const std::string label = strip(line);
      if (label != "0" && label != "1") fail(place, "expected a label 0 or 1, found '" + label + "'");
      labels.push_back(label == "1");
    }
  }
  Task task = multiple_choice_task("piqa", true, Main::Acc);
  task.prompt = "Question: {{goal}}\nAnswer:";
  size_t index = 0;
  for_each_json_line(path, [&](const nlohmann::json& doc, const RecordPlace& place) {
    int64_t label = 0;
    if (labels_path.empty()) {
      label = integer_field(doc, "label", place);
    } else {
      if (index >= labels.size()) fail(place, "no label left in " + labels_path + " for this item");
      label = labels[index];
    }
    ++index;
    task.items.push_back(choice_item("Question: " + string_field(doc, "goal", place) + "\nAnswer:",
                                     {string_field(doc, "sol1", place), string_field(doc, "sol2", place)}, label,
                                     place));
  });
  if (!labels_path.empty() && index != labels.size()) {
    throw UserError(labels_path + ": " + std::to_string(labels.size()) + " labels for " + std::to_string(index) +
                    " items in " + path);
  }
  return task;
}

Task read_arc(const std::string& name, const std::string& path) {
  Task task = multiple_choice_task(name, true, name == "arc_challenge" ? Main::AccNorm : Main::Acc);
  task.prompt = "Question: {{question}}\nAnswer:";
  for_each_json_line(path, [&](const nlohmann::json& doc, const RecordPlace& place) {
    std::string question;
    std::vector<std::string> texts, labels;
    const auto q = doc.find("question");
    if (q != doc.end() && q->is_object()) {  // original ARC: question.stem, question.choices[{text, label}]
      question = string_field(*q, "stem", place);
      for (const nlohmann::json& choice : array_field(*q, "choices", place)) {
        if (!choice.is_object()) fail(place, "each of question.choices should be an object");
        texts.push_back(string_field(choice, "text", place));
        labels.push_back(string_field(choice, "label", place));
      }
    } else {  // Hugging Face: question, choices{text[], label[]}
      question = string_field(doc, "question", place);
      const auto c = doc.find("choices");
      if (c == doc.end() || !c->is_object()) fail(place, "field 'choices' should be an object with text and label");
      texts = string_array(array_field(*c, "text", place), "choices.text", place);
      labels = string_array(array_field(*c, "label", place), "choices.label", place);
      if (texts.size() != labels.size()) fail(place, "choices.text and choices.label differ in length");
    }
    const std::string answer = string_field(doc, "answerKey", place);
    const auto found = std::find(labels.begin(), labels.end(), answer);
    if (found == labels.end()) fail(place, "answerKey '" + answer + "' is not one of the choice labels");
    task.items.push_back(choice_item("Question: " + question + "\nAnswer:", texts, found - labels.begin(), place));
  });
  return task;
}

Task read_hellaswag(const std::string& path) {
  Task task = multiple_choice_task("hellaswag", true, Main::AccNorm);
  task.prompt = "{{activity_label}}: {{ctx_a}} {{ctx_b|capitalize}} (preprocessed)";
  for_each_json_line(path, [&](const nlohmann::json& doc, const RecordPlace& place) {
    const std::string context =
        string_field(doc, "ctx_a", place) + " " + capitalize(string_field(doc, "ctx_b", place));
    const std::string query = hellaswag_preprocess(string_field(doc, "activity_label", place) + ": " + context);
    std::vector<std::string> endings = string_array(array_field(doc, "endings", place), "endings", place);
    for (std::string& ending : endings) ending = hellaswag_preprocess(ending);
    task.items.push_back(choice_item(query, endings, integer_field(doc, "label", place), place));
  });
  return task;
}

Task read_winogrande(const std::string& path) {
  Task task = multiple_choice_task("winogrande", false, Main::Acc);
  task.prompt = "{{sentence up to the blank}}{{option}} (partial scoring: the text after the blank is the continuation)";
  for_each_json_line(path, [&](const nlohmann::json& doc, const RecordPlace& place) {
    const std::string sentence = string_field(doc, "sentence", place);
    const size_t blank = sentence.find('_');
    if (blank == std::string::npos) fail(place, "field 'sentence' has no '_' blank");
    const int64_t answer = integer_field(doc, "answer", place);
    if (answer != 1 && answer != 2) fail(place, "field 'answer' should be 1 or 2, found " + std::to_string(answer));
    // Partial scoring: the options go into the context; the text after the blank is scored.
    const std::string target = " " + strip(sentence.substr(blank + 1));
    TaskItem item;
    for (const char* option : {"option1", "option2"}) {
      const std::string text = string_field(doc, option, place);
      item.requests.push_back({sentence.substr(0, blank) + text, target});
      item.choice_bytes.push_back(text.size());
    }
    item.gold = static_cast<size_t>(answer - 1);
    task.items.push_back(std::move(item));
  });
  return task;
}

Task read_mmlu(const std::string& directory, int num_fewshot) {
  const fs::path test_dir = fs::path(directory) / "test";
  if (!fs::is_directory(test_dir)) throw UserError(test_dir.string() + ": no such directory (MMLU's test split)");
  std::vector<std::string> subjects;
  for (const auto& entry : fs::directory_iterator(test_dir)) {
    const std::string file = entry.path().filename().string();
    const std::string suffix = "_test.csv";
    if (file.size() > suffix.size() && file.compare(file.size() - suffix.size(), suffix.size(), suffix) == 0) {
      subjects.push_back(file.substr(0, file.size() - suffix.size()));
    }
  }
  if (subjects.empty()) throw UserError(test_dir.string() + ": no *_test.csv files");
  std::sort(subjects.begin(), subjects.end());

  auto question_text = [](const CsvRecord& r) {
    if (r.fields.size() != 6) {
      fail(r.place, "expected 6 fields (question, A, B, C, D, answer), found " + std::to_string(r.fields.size()));
    }
    return strip(r.fields[0]) + "\nA. " + r.fields[1] + "\nB. " + r.fields[2] + "\nC. " + r.fields[3] + "\nD. " +
           r.fields[4] + "\nAnswer:";
  };
  auto answer_index = [](const CsvRecord& r) -> int64_t {
    const std::string answer = strip(r.fields[5]);
    if (answer.size() != 1 || answer[0] < 'A' || answer[0] > 'D') {
      fail(r.place, "answer should be A, B, C or D, found '" + answer + "'");
    }
    return answer[0] - 'A';
  };

  Task task = multiple_choice_task("mmlu", false, Main::Acc);
  task.prompt = "The following are multiple choice questions (with answers) about {{subject}}.\n\n"
                "{{question}}\nA. {{A}}\nB. {{B}}\nC. {{C}}\nD. {{D}}\nAnswer:";
  task.num_fewshot = num_fewshot;
  for (const std::string& subject : subjects) {
    std::string prefix = "The following are multiple choice questions (with answers) about " +
                         replace_all(subject, "_", " ") + ".\n\n";
    if (num_fewshot > 0) {
      const std::string dev_path = in_dir((fs::path(directory) / "dev").string(), subject + "_dev.csv");
      const std::vector<CsvRecord> dev = read_csv(dev_path);
      if (static_cast<int>(dev.size()) < num_fewshot) {
        throw UserError(dev_path + ": " + std::to_string(dev.size()) + " examples, fewer than the " +
                        std::to_string(num_fewshot) + " few-shot examples asked for");
      }
      for (int i = 0; i < num_fewshot; ++i) {
        const CsvRecord& example = dev[static_cast<size_t>(i)];
        prefix += question_text(example) + " " + std::string(1, static_cast<char>('A' + answer_index(example))) + "\n\n";
      }
    }
    for (const CsvRecord& record : read_csv(in_dir(test_dir.string(), subject + "_test.csv"))) {
      const std::string text = question_text(record);
      task.items.push_back(choice_item(prefix + text, {"A", "B", "C", "D"}, answer_index(record), record.place));
      task.items.back().subtask = subject;
    }
  }
  return task;
}

Task read_next_sentence(const std::string& path) {
  Task task = multiple_choice_task("next_sentence", true, Main::AccNorm);
  task.prompt = "{{context}}";
  for_each_json_line(path, [&](const nlohmann::json& doc, const RecordPlace& place) {
    task.items.push_back(choice_item(string_field(doc, "context", place),
                                     string_array(array_field(doc, "choices", place), "choices", place),
                                     integer_field(doc, "label", place), place));
  });
  return task;
}

Task read_last_word(const std::string& path) {
  Task task;
  task.name = "last_word";
  task.kind = TaskKind::LastWord;
  task.metrics = {"acc", "perplexity"};
  task.main_metric = "acc";
  task.prompt = "{{context}}";
  for_each_json_line(path, [&](const nlohmann::json& doc, const RecordPlace& place) {
    const std::string target = strip(string_field(doc, "target", place));
    if (target.empty()) fail(place, "field 'target' is empty");
    TaskItem item;
    item.requests.push_back({string_field(doc, "context", place), " " + target});
    item.choice_bytes.push_back(target.size());
    task.items.push_back(std::move(item));
  });
  return task;
}

Task load_task(TaskId task, const std::string& data_dir, int num_fewshot) {
  if (num_fewshot < 0) throw UserError("few-shot examples " + std::to_string(num_fewshot) + ": must be >= 0");
  const std::string name = task_name(task);
  switch (task) {
    case TaskId::Piqa: {
      const std::string labels = in_dir(data_dir, "piqa-labels.lst");
      return read_piqa(in_dir(data_dir, "piqa.jsonl"), fs::exists(labels) ? labels : "");
    }
    case TaskId::ArcEasy:
    case TaskId::ArcChallenge:
      return read_arc(name, in_dir(data_dir, name + ".jsonl"));
    case TaskId::HellaSwag:
      return read_hellaswag(in_dir(data_dir, "hellaswag.jsonl"));
    case TaskId::Winogrande:
      return read_winogrande(in_dir(data_dir, "winogrande.jsonl"));
    case TaskId::Mmlu:
      return read_mmlu(in_dir(data_dir, "mmlu"), num_fewshot);
    case TaskId::NextSentence:
      return read_next_sentence(in_dir(data_dir, "next_sentence.jsonl"));
    case TaskId::LastWord:
      return read_last_word(in_dir(data_dir, "last_word.jsonl"));
  }
  throw std::logic_error("unhandled task");
}

Task load_task(const std::string& name, const std::string& data_dir, int num_fewshot) {
  return load_task(parse_task(name), data_dir, num_fewshot);
}

}  // namespace lincat::eval
