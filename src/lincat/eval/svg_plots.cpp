#include "lincat/eval/svg_plots.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace lincat::eval {
namespace {

const char* const kColours[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#17becf"};

std::string number(double value) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.2f", value);
  return buffer;
}

std::string text(double x, double y, const std::string& content, const std::string& extra = "") {
  return "<text x=\"" + number(x) + "\" y=\"" + number(y) + "\" font-family=\"sans-serif\" font-size=\"12\" " +
         extra + ">" + xml_escape(content) + "</text>\n";
}

std::string open_svg(double width, double height, const std::string& title) {
  return "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + number(width) + "\" height=\"" + number(height) +
         "\" viewBox=\"0 0 " + number(width) + " " + number(height) + "\">\n" +
         "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n" + text(10, 20, title, "font-weight=\"bold\"");
}

std::string line(double x1, double y1, double x2, double y2, const std::string& colour, double width = 1) {
  return "<line x1=\"" + number(x1) + "\" y1=\"" + number(y1) + "\" x2=\"" + number(x2) + "\" y2=\"" + number(y2) +
         "\" stroke=\"" + colour + "\" stroke-width=\"" + number(width) + "\"/>\n";
}

// A 0..1 vertical axis at x from y_top to y_bottom, with ticks every 0.25.
std::string unit_axis(double x, double y_top, double y_bottom, const std::string& name) {
  std::string out = line(x, y_top, x, y_bottom, "black") + text(x - 30, y_top - 8, name);
  for (int i = 0; i <= 4; ++i) {
    const double y = y_bottom - (y_bottom - y_top) * i / 4.0;
    out += line(x - 4, y, x, y, "black") + text(x - 34, y + 4, number(i / 4.0));
  }
  return out;
}

double clamp01(double v) { return std::isfinite(v) ? std::min(1.0, std::max(0.0, v)) : 0.0; }

}  // namespace

std::string xml_escape(const std::string& content) {
  std::string out;
  for (char c : content) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string svg_heatmap(const std::string& title, const std::vector<std::vector<double>>& rows,
                        const std::string& row_name, const std::string& column_name) {
  const double cell = 44, left = 80, top = 60;
  const size_t columns = rows.empty() ? 0 : rows[0].size();
  std::string out = open_svg(left + cell * static_cast<double>(columns) + 20, top + cell * static_cast<double>(rows.size()) + 30, title);
  out += text(left, top - 22, column_name + " →");
  out += text(8, top - 4, row_name + " ↓");
  for (size_t c = 0; c < columns; ++c) out += text(left + cell * static_cast<double>(c) + cell / 2 - 4, top - 6, std::to_string(c));
  for (size_t r = 0; r < rows.size(); ++r) {
    const double y = top + cell * static_cast<double>(r);
    out += text(left - 24, y + cell / 2 + 4, std::to_string(r));
    for (size_t c = 0; c < rows[r].size(); ++c) {
      const double v = clamp01(rows[r][c]);
      const int red = static_cast<int>(255 - 225 * v), green = static_cast<int>(255 - 180 * v);
      char colour[16];
      std::snprintf(colour, sizeof colour, "#%02x%02x%02x", red, green, 255 - static_cast<int>(75 * v));
      const double x = left + cell * static_cast<double>(c);
      out += "<rect x=\"" + number(x) + "\" y=\"" + number(y) + "\" width=\"" + number(cell) + "\" height=\"" +
             number(cell) + "\" fill=\"" + colour + "\" stroke=\"#888888\"/>\n";
      out += text(x + 6, y + cell / 2 + 4, number(rows[r][c]), v > 0.6 ? "fill=\"white\"" : "");
    }
  }
  return out + "</svg>\n";
}

std::string svg_bar_chart(const std::string& title, const std::vector<std::string>& labels,
                          const std::vector<double>& values, const std::string& value_name) {
  const double bar = 60, left = 60, top = 50, height = 200;
  std::string out = open_svg(left + bar * static_cast<double>(labels.size()) + 20, top + height + 40, title);
  out += unit_axis(left, top, top + height, value_name);
  for (size_t i = 0; i < labels.size() && i < values.size(); ++i) {
    const double v = clamp01(values[i]), x = left + 10 + bar * static_cast<double>(i);
    out += "<rect x=\"" + number(x) + "\" y=\"" + number(top + height * (1 - v)) + "\" width=\"" + number(bar - 20) +
           "\" height=\"" + number(height * v) + "\" fill=\"" + kColours[i % 7] + "\"/>\n";
    out += text(x, top + height * (1 - v) - 4, number(values[i]));
    out += text(x, top + height + 16, labels[i]);
  }
  return out + "</svg>\n";
}

std::string svg_line_chart(const std::string& title, const std::vector<PlotSeries>& series, const std::string& x_name,
                           const std::string& y_name) {
  const double left = 60, top = 50, width = 420, height = 220;
  double low = INFINITY, high = -INFINITY;
  for (const PlotSeries& s : series) {
    for (double x : s.x) {
      low = std::min(low, std::log2(std::max(x, 1e-9)));
      high = std::max(high, std::log2(std::max(x, 1e-9)));
    }
  }
  if (!(high > low)) {
    low = std::isfinite(low) ? low - 1 : 0;
    high = low + 2;
  }
  auto px = [&](double x) { return left + width * (std::log2(std::max(x, 1e-9)) - low) / (high - low); };
  auto py = [&](double y) { return top + height * (1 - clamp01(y)); };
  std::string out = open_svg(left + width + 160, top + height + 50, title);
  out += unit_axis(left, top, top + height, y_name);
  out += line(left, top + height, left + width, top + height, "black");
  out += text(left + width / 2 - 40, top + height + 40, x_name + " (log scale)");
  if (!series.empty()) {
    for (double x : series[0].x) out += line(px(x), top + height, px(x), top + height + 4, "black") +
                                        text(px(x) - 8, top + height + 18, std::to_string(std::llround(x)));
  }
  for (size_t i = 0; i < series.size(); ++i) {
    const PlotSeries& s = series[i];
    const char* colour = kColours[i % 7];
    std::string points;
    for (size_t j = 0; j < s.x.size() && j < s.y.size(); ++j) {
      points += (points.empty() ? "" : " ") + number(px(s.x[j])) + "," + number(py(s.y[j]));
      out += "<circle cx=\"" + number(px(s.x[j])) + "\" cy=\"" + number(py(s.y[j])) + "\" r=\"3\" fill=\"" + colour +
             "\"/>\n";
    }
    out += "<polyline points=\"" + points + "\" fill=\"none\" stroke=\"" + colour + "\" stroke-width=\"2\"/>\n";
    const double legend_y = top + 16 * static_cast<double>(i);
    out += line(left + width + 20, legend_y, left + width + 40, legend_y, colour, 2) +
           text(left + width + 46, legend_y + 4, s.name);
  }
  return out + "</svg>\n";
}

}  // namespace lincat::eval
