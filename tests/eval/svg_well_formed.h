// A small XML well-formedness check for the SVG files lincat writes: one <svg> root, balanced
// tags, quoted attributes, no bare '<' or '&' in text.
#pragma once
#include <string>
#include <vector>

namespace lincat::test {

// "" when well-formed, else what is wrong.
inline std::string svg_problem(const std::string& xml) {
  std::vector<std::string> open;
  size_t i = 0;
  bool root_seen = false;
  while (i < xml.size()) {
    if (xml[i] == '&') {
      const size_t end = xml.find(';', i);
      const std::string entity = end == std::string::npos ? "" : xml.substr(i, end - i + 1);
      if (entity != "&amp;" && entity != "&lt;" && entity != "&gt;" && entity != "&quot;") return "bare '&'";
      i = end + 1;
      continue;
    }
    if (xml[i] != '<') {
      if (open.empty() && xml[i] != '\n' && xml[i] != ' ') return "text outside the root";
      ++i;
      continue;
    }
    size_t end = i + 1;
    bool quoted = false;
    while (end < xml.size() && (quoted || xml[end] != '>')) {
      if (xml[end] == '"') quoted = !quoted;
      if (!quoted && xml[end] == '<') return "bare '<'";
      ++end;
    }
    if (end >= xml.size()) return "unterminated tag";
    const std::string tag = xml.substr(i + 1, end - i - 1);
    const bool closing = !tag.empty() && tag[0] == '/';
    const bool self_closing = !tag.empty() && tag.back() == '/';
    const std::string name = tag.substr(closing ? 1 : 0, tag.find_first_of(" /", closing ? 1 : 0) - (closing ? 1 : 0));
    if (name.empty()) return "empty tag name";
    if (closing) {
      if (open.empty() || open.back() != name) return "mismatched </" + name + ">";
      open.pop_back();
    } else {
      if (open.empty()) {
        if (root_seen || name != "svg") return "root element is not a single <svg>";
        root_seen = true;
      }
      if (!self_closing) open.push_back(name);
      else if (open.empty()) return "root element is not a single <svg>";
    }
    i = end + 1;
  }
  if (!root_seen) return "no <svg> root";
  return open.empty() ? "" : "unclosed <" + open.back() + ">";
}

}  // namespace lincat::test
