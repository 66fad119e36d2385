#include "lincat/util/atomic_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "lincat/util/error.h"

namespace lincat {

namespace {

std::string errno_text() { return std::strerror(errno); }

}  // namespace

AtomicFile::AtomicFile(std::string path)
    : path_(std::move(path)), temp_path_(path_ + ".tmp." + std::to_string(::getpid())) {
  fd_ = ::open(temp_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd_ < 0) {
    throw UserError(path_ + ": cannot create " + temp_path_ + " (" + errno_text() + ")");
  }
}

AtomicFile::~AtomicFile() {
  if (!committed_) abandon();
}

void AtomicFile::abandon() noexcept {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  ::unlink(temp_path_.c_str());
}

void AtomicFile::write(const void* data, std::size_t nbytes) {
  const char* bytes = static_cast<const char*>(data);
  while (nbytes > 0) {
    ssize_t written = ::write(fd_, bytes, nbytes);
    if (written < 0) {
      if (errno == EINTR) continue;
      throw UserError(path_ + ": write failed (" + errno_text() + ")");
    }
    bytes += written;
    nbytes -= static_cast<std::size_t>(written);
  }
}

void AtomicFile::commit() {
  // fsync before rename: otherwise a crash can leave the new name pointing at an empty file.
  if (::fsync(fd_) != 0) throw UserError(path_ + ": fsync failed (" + errno_text() + ")");
  int fd = fd_;
  fd_ = -1;
  if (::close(fd) != 0) throw UserError(path_ + ": close failed (" + errno_text() + ")");
  if (std::rename(temp_path_.c_str(), path_.c_str()) != 0) {
    throw UserError(path_ + ": cannot rename " + temp_path_ + " to it (" + errno_text() + ")");
  }
  committed_ = true;
}

void write_file_atomically(const std::string& path, const std::string& text) {
  AtomicFile file(path);
  file.write(text);
  file.commit();
}

std::vector<std::string> write_files_atomically(const std::string& directory,
                                                const std::vector<std::pair<std::string, std::string>>& files) {
  std::error_code error;
  std::filesystem::create_directories(directory, error);
  if (error) throw UserError(directory + ": cannot create directory (" + error.message() + ")");
  std::vector<std::string> written;
  for (const auto& [name, content] : files) {
    written.push_back((std::filesystem::path(directory) / name).string());
    write_file_atomically(written.back(), content);
  }
  return written;
}

std::string read_whole_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw UserError(path + ": cannot open file");
  std::stringstream buffer;
  buffer << in.rdbuf();
  if (in.bad()) throw UserError(path + ": cannot read file");
  return buffer.str();
}

}  // namespace lincat
