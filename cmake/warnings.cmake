# derpmgr_warnings: the warning set every target links; -Werror only when WARNINGS_AS_ERRORS is on (CI).
add_library(derpmgr_warnings INTERFACE)
target_compile_options(derpmgr_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wcast-align -Woverloaded-virtual
  -Wimplicit-fallthrough -Wno-missing-field-initializers
  # g++ 12 false positive on Asio coroutine frames (awaitable_frame_base::operator delete).
  -Wno-mismatched-new-delete)
if(WARNINGS_AS_ERRORS)
  target_compile_options(derpmgr_warnings INTERFACE -Werror)
endif()

# derpmgr_sanitizers: ASan + UBSan at -O1 for Debug builds; every target links it so the runtime matches.
add_library(derpmgr_sanitizers INTERFACE)
if(DERPMGR_SANITIZERS AND CMAKE_BUILD_TYPE STREQUAL "Debug")
  target_compile_options(derpmgr_sanitizers INTERFACE
    -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer -O1)
  target_link_options(derpmgr_sanitizers INTERFACE -fsanitize=address,undefined -fno-sanitize-recover=all)
endif()
