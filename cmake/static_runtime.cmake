# Static linking for an executable that has to stay small in memory: the agent, which runs beside derper on every
# DERP host with a budget of 10 MiB resident (bench/README.md). An executable opts in by setting its target property
# DERPMGR_STATIC_RUNTIME to ON; every derpmgr_dep_<name> target below then gives it static archives where all other
# targets (the controller, the tests, the libraries while they compile) get the shared libraries. Only the final
# link changes: the code compiles against the same headers and definitions either way. glibc stays shared.
#
# Why it pays: each shared library costs its relocated data, symbol tables and the 64 KiB fault-around windows its
# code is touched in; statically, only the objects the agent uses are linked and laid out together.
set(derpmgr_link_static "$<BOOL:$<TARGET_PROPERTY:DERPMGR_STATIC_RUNTIME>>")
set(derpmgr_link_shared "$<NOT:${derpmgr_link_static}>")

# What the static side links: archives found here, plus derpmgr_static_impl (spdlog, fmt and toml++ ship only as
# shared libraries on Debian; agent/static_link/ compiles their implementation from the installed headers).
foreach(lib ssl crypto boost_json boost_container boost_url)
  string(TOUPPER ${lib} var)
  find_library(DERPMGR_${var}_ARCHIVE NAMES lib${lib}.a)
endforeach()

function(derpmgr_dep name)
  cmake_parse_arguments(dep "" "" "SHARED;STATIC" ${ARGN})
  add_library(derpmgr_dep_${name} INTERFACE)
  foreach(item IN LISTS dep_SHARED)
    target_link_libraries(derpmgr_dep_${name} INTERFACE "$<${derpmgr_link_shared}:${item}>")
  endforeach()
  foreach(item IN LISTS dep_STATIC)
    target_link_libraries(derpmgr_dep_${name} INTERFACE "$<${derpmgr_link_static}:${item}>")
  endforeach()
endfunction()

derpmgr_dep(openssl
  SHARED OpenSSL::SSL OpenSSL::Crypto
  STATIC ${DERPMGR_SSL_ARCHIVE} ${DERPMGR_CRYPTO_ARCHIVE} Threads::Threads ${CMAKE_DL_LIBS})
derpmgr_dep(boost_json_url
  SHARED Boost::json Boost::url
  STATIC ${DERPMGR_BOOST_JSON_ARCHIVE} ${DERPMGR_BOOST_URL_ARCHIVE} ${DERPMGR_BOOST_CONTAINER_ARCHIVE})
derpmgr_dep(spdlog SHARED spdlog::spdlog STATIC derpmgr_static_impl)
derpmgr_dep(tomlplusplus SHARED tomlplusplus::tomlplusplus STATIC derpmgr_static_impl)

# Links `target` statically as above when the build has no sanitizers (their runtimes want the shared libraries).
function(derpmgr_static_runtime target)
  if(DERPMGR_SANITIZERS AND CMAKE_BUILD_TYPE STREQUAL "Debug")
    return()
  endif()
  foreach(var SSL CRYPTO BOOST_JSON BOOST_CONTAINER BOOST_URL)
    if(NOT DERPMGR_${var}_ARCHIVE)
      message(FATAL_ERROR "static archive for ${var} not found (libssl-dev and the Boost -dev packages ship them)")
    endif()
  endforeach()
  set_target_properties(${target} PROPERTIES DERPMGR_STATIC_RUNTIME ON)
  # Unused sections go; relative relocations are packed (DT_RELR), so fewer pages are written at start-up.
  target_link_options(${target} PRIVATE -static-libstdc++ -static-libgcc LINKER:--gc-sections
    LINKER:-z,pack-relative-relocs)
endfunction()
