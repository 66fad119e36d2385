#include "lincat/util/line_stream.h"

#include <gtest/gtest.h>

#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace lincat {
namespace {

// Two threads write many lines, each in pieces, through their own LineStream onto one stream:
// every line arrives whole and none is lost.
TEST(LineStream, LinesFromSeveralThreadsArriveWhole) {
  std::ostringstream target;
  std::mutex lock;
  const auto write = [&](char who) {
    LineStream out(target, lock);
    for (int i = 0; i < 500; ++i) out << who << "-" << i << "-" << std::string(40, who) << "\n";
  };
  std::thread a(write, 'a'), b(write, 'b');
  a.join();
  b.join();
  std::istringstream lines(target.str());
  std::set<std::string> seen;
  for (std::string line; std::getline(lines, line);) {
    const char who = line.at(0);
    EXPECT_EQ(line.substr(line.size() - 41), "-" + std::string(40, who)) << "torn line: " << line;
    seen.insert(line);
  }
  EXPECT_EQ(seen.size(), 1000u);
  EXPECT_EQ(seen.count("a-499-" + std::string(40, 'a')), 1u);
  EXPECT_EQ(seen.count("b-0-" + std::string(40, 'b')), 1u);
}

// A line is held until its newline (a flush does not split it); what is left is written at the end.
TEST(LineStream, HoldsALineUntilItsNewlineAndWritesTheRestAtTheEnd) {
  std::ostringstream target;
  std::mutex lock;
  {
    LineStream out(target, lock);
    out << "half" << std::flush;
    EXPECT_EQ(target.str(), "");
    out << " and the rest\nno newline";
    EXPECT_EQ(target.str(), "half and the rest\n");
  }
  EXPECT_EQ(target.str(), "half and the rest\nno newline");
}

}  // namespace
}  // namespace lincat
