// Progress: a bar redrawn in place on a terminal, plain lines (first, last, then periodic)
// otherwise; both show stage, step and total, loss, tokens/s and time left.
#include <gtest/gtest.h>

#include <algorithm>
#include <sstream>

#include "lincat/train/progress.h"

namespace lincat::train {
namespace {

TEST(TrainProgress, TerminalBarRedrawsInPlace) {
  std::ostringstream out;
  Progress progress(out, true);
  progress.update(1, 5, 10, 0.25, 1234, 75);
  progress.update(1, 10, 10, 0.125, 1234, 0);
  progress.finish_stage();
  const std::string text = out.str();
  EXPECT_EQ(std::count(text.begin(), text.end(), '\r'), 2);
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 1);
  EXPECT_NE(text.find("stage 1 step 5/10 [############............] loss 0.25  1234 tokens/s  0:01:15 left"),
            std::string::npos) << text;
}

TEST(TrainProgress, PlainLinesWhenNotATerminal) {
  std::ostringstream out;
  Progress progress(out, false);
  for (int64_t step = 1; step <= 50; ++step) progress.update(2, step, 50, 1.5, 100, 50 - step);
  progress.finish_stage();
  const std::string text = out.str();
  EXPECT_EQ(text.find('\r'), std::string::npos);
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 2);  // first and last step (under 10 s apart)
  EXPECT_NE(text.find("stage 2 step 50/50  loss 1.5  100 tokens/s  0:00:00 left\n"), std::string::npos) << text;
}

}  // namespace
}  // namespace lincat::train
