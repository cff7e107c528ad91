# MySQL Connector/C++ 1.1: runtime from libmysqlcppconn7v5, headers unpacked by scripts/deps.sh into .deps/
# (the -dev package drags Boost 1.74, which conflicts with the 1.81 we build against).
set(MYSQLCPPCONN_ROOT ${CMAKE_SOURCE_DIR}/.deps/mysqlcppconn/usr CACHE PATH "Unpacked libmysqlcppconn-dev")
find_path(MYSQLCPPCONN_INCLUDE_DIR cppconn/driver.h PATHS ${MYSQLCPPCONN_ROOT}/include NO_DEFAULT_PATH)
find_library(MYSQLCPPCONN_LIBRARY NAMES libmysqlcppconn.so.7 mysqlcppconn
  PATHS /usr/lib/x86_64-linux-gnu ${MYSQLCPPCONN_ROOT}/lib/x86_64-linux-gnu)
if(NOT MYSQLCPPCONN_INCLUDE_DIR OR NOT MYSQLCPPCONN_LIBRARY)
  message(FATAL_ERROR "MySQL Connector/C++ not found: run scripts/deps.sh")
endif()
add_library(mysqlcppconn::mysqlcppconn SHARED IMPORTED)
set_target_properties(mysqlcppconn::mysqlcppconn PROPERTIES
  IMPORTED_LOCATION ${MYSQLCPPCONN_LIBRARY}
  INTERFACE_INCLUDE_DIRECTORIES ${MYSQLCPPCONN_INCLUDE_DIR})
