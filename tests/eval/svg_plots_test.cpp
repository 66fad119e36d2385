// The SVG writer produces well-formed XML with the expected elements.
#include <gtest/gtest.h>

#include "eval/svg_well_formed.h"
#include "lincat/eval/svg_plots.h"

namespace {

TEST(EvalSvg, PlotsAreWellFormed) {
  const std::string heatmap = lincat::eval::svg_heatmap("share <&>", {{0.0, 0.5}, {1.0, 0.25}}, "layer", "head");
  EXPECT_EQ(lincat::test::svg_problem(heatmap), "");
  EXPECT_NE(heatmap.find("share &lt;&amp;&gt;"), std::string::npos);
  const std::string bars = lincat::eval::svg_bar_chart("modes", {"base", "hybrid"}, {0.7, 0.3}, "accuracy");
  EXPECT_EQ(lincat::test::svg_problem(bars), "");
  const std::string lines = lincat::eval::svg_line_chart(
      "probe", {{"hybrid", {4, 8, 16}, {1, 0.5, 0.25}}, {"window", {4, 8, 16}, {1, 0, 0}}}, "distance", "accuracy");
  EXPECT_EQ(lincat::test::svg_problem(lines), "");
  EXPECT_NE(lines.find("<polyline"), std::string::npos);
}

TEST(EvalSvg, TheCheckerFindsBrokenXml) {
  EXPECT_NE(lincat::test::svg_problem("<svg><g></svg>"), "");
  EXPECT_NE(lincat::test::svg_problem("<svg>a < b</svg>"), "");
  EXPECT_NE(lincat::test::svg_problem("<rect/>"), "");
}

}  // namespace
