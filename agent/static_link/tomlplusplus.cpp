// toml++ 3.3's implementation, as its shared library builds it, for the statically linked agent
// (cmake/static_runtime.cmake); compiled with the same TOML_* settings as the code that uses it.
#include <toml++/impl/version.h>

static_assert(TOML_LIB_MAJOR == 3 && TOML_LIB_MINOR == 3, "toml++ changed: review agent/static_link/");

#define TOML_IMPLEMENTATION
#include <toml++/toml.h>
