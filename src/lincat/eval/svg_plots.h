// Small dependency-free SVG plots for the diagnostics report. Values are plotted on a 0..1 axis
// (shares, accuracies); the text is XML-escaped.
#pragma once
#include <string>
#include <vector>

namespace lincat::eval {

// rows x columns cells coloured white (0) to dark blue (1), each labelled with its value.
std::string svg_heatmap(const std::string& title, const std::vector<std::vector<double>>& rows,
                        const std::string& row_name, const std::string& column_name);

std::string svg_bar_chart(const std::string& title, const std::vector<std::string>& labels,
                          const std::vector<double>& values, const std::string& value_name);

struct PlotSeries {
  std::string name;
  std::vector<double> x;
  std::vector<double> y;  // in 0..1
};

// x on a log2 axis (distances), one coloured line per series, with a legend.
std::string svg_line_chart(const std::string& title, const std::vector<PlotSeries>& series, const std::string& x_name,
                           const std::string& y_name);

std::string xml_escape(const std::string& text);

}  // namespace lincat::eval
