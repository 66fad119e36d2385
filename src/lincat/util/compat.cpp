#include "lincat/util/compat.h"
