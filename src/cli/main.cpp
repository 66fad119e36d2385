// lincat: the command-line program. Parses flags, calls the library, prints.
#include <iostream>

#include "lincat/util/error.h"

int main(int argc, char** argv) {
  std::cout << "lincat\n";
  return 0;
}
