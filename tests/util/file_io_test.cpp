// The shared file helpers: whole-file reads with errors that name the file, and a set of files
// written atomically into a directory that is created on the way.
#include <gtest/gtest.h>

#include <filesystem>

#include "lincat/util/atomic_file.h"
#include "support/temp_dir.h"
#include "support/user_error.h"

namespace {

TEST(FileIo, WritesEveryFileIntoANewDirectoryAndReadsThemBack) {
  lincat::test::TempDir dir;
  const std::string target = dir.file("a/b");
  const auto written = lincat::write_files_atomically(target, {{"one.txt", "1"}, {"two.md", std::string("2\0x", 3)}});
  ASSERT_EQ(written, (std::vector<std::string>{target + "/one.txt", target + "/two.md"}));
  EXPECT_EQ(lincat::read_whole_file(written[0]), "1");
  EXPECT_EQ(lincat::read_whole_file(written[1]), std::string("2\0x", 3));
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(target), std::filesystem::directory_iterator()), 2)
      << "no temporary left behind";
}

TEST(FileIo, MissingFileAndUncreatableDirectoryNameThePath) {
  lincat::test::TempDir dir;
  const std::string missing = dir.file("none.txt");
  EXPECT_NE(lincat::test::user_error_message([&] { lincat::read_whole_file(missing); }).find(missing + ": cannot open"),
            std::string::npos);
  lincat::write_file_atomically(dir.file("plain"), "x");
  const std::string under_file = dir.file("plain/sub");
  EXPECT_NE(lincat::test::user_error_message([&] { lincat::write_files_atomically(under_file, {{"f", "y"}}); })
                .find(under_file + ": cannot create directory"),
            std::string::npos);
}

}  // namespace
