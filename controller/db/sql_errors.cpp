#include "controller/db/sql_errors.hpp"

namespace derpmgr::controller::db {

bool is_connection_error(int code) {
  switch (code) {
    case 2002:  // can't connect through socket
    case 2003:  // can't connect to server
    case 2006:  // server has gone away
    case 2013:  // lost connection during query
    case 2055:  // lost connection at reading
    case 1927:  // connection killed (MariaDB)
    case 4031:  // disconnected by server for inactivity (MySQL 8)
    case 1053:  // server shutdown in progress
      return true;
    default:
      return false;
  }
}

bool is_retryable(int code) { return code == 1213 || code == 1205; }

bool is_duplicate_key(int code) { return code == 1062; }

}  // namespace derpmgr::controller::db
