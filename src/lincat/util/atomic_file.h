// Files written so that readers never see a half-written one: the bytes go to a temporary name
// in the same directory, are flushed to disk, and the temporary is then renamed over the target.
// If anything fails (or the writer is destroyed before commit), the temporary is removed.
#pragma once
#include <cstddef>
#include <string>
#include <utility>
#include <vector>

namespace lincat {

class AtomicFile {
 public:
  // Creates "<path>.tmp.<pid>". Throws UserError naming `path` if it cannot be created.
  explicit AtomicFile(std::string path);
  ~AtomicFile();  // removes the temporary unless commit() succeeded
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  void write(const void* data, std::size_t nbytes);  // throws UserError naming `path` (e.g. disk full)
  void write(const std::string& text) { write(text.data(), text.size()); }
  // Flushes to disk and renames the temporary to `path`.
  void commit();

  const std::string& path() const { return path_; }

 private:
  void abandon() noexcept;
  std::string path_;
  std::string temp_path_;
  int fd_ = -1;
  bool committed_ = false;
};

// Writes `text` to `path` atomically.
void write_file_atomically(const std::string& path, const std::string& text);

// Creates `directory` (UserError naming it if that fails) and writes each (name, content) into
// it atomically; returns the paths written, in order.
std::vector<std::string> write_files_atomically(const std::string& directory,
                                                const std::vector<std::pair<std::string, std::string>>& files);

// The whole file. UserError naming `path` if it cannot be opened or read.
std::string read_whole_file(const std::string& path);

}  // namespace lincat
