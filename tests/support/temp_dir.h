// A fresh directory under $TMPDIR (or /tmp) for one test, removed with everything in it at scope end.
#pragma once
#include <string>

namespace lincat::test {

class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  // "<dir>/<name>"; nothing is created.
  std::string file(const std::string& name) const;

 private:
  std::string path_;
};

}  // namespace lincat::test
