// Output of several threads onto one stream with every line whole: each thread writes to its own
// LineStream, which hands the shared stream only complete lines, under a lock all of them share.
// (The demo converts one recipe while it diagnoses the previous one.)
#pragma once
#include <mutex>
#include <ostream>
#include <streambuf>
#include <string>

namespace lincat {

class LineBuffer : public std::streambuf {
 public:
  LineBuffer(std::ostream& target, std::mutex& lock) : target_(target), lock_(lock) {}
  ~LineBuffer() override { forward(/*partial_line=*/true); }

 protected:
  int_type overflow(int_type c) override;
  std::streamsize xsputn(const char* text, std::streamsize n) override;
  int sync() override;

 private:
  // Writes what is pending up to its last newline (all of it with `partial_line`), in one write.
  void forward(bool partial_line);

  std::ostream& target_;
  std::mutex& lock_;
  std::string pending_;
};

class LineStream : public std::ostream {
 public:
  LineStream(std::ostream& target, std::mutex& lock) : std::ostream(nullptr), buffer_(target, lock) { rdbuf(&buffer_); }

 private:
  LineBuffer buffer_;
};

}  // namespace lincat
