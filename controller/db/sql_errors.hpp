#pragma once

namespace derpmgr::controller::db {

// MySQL client/server error codes that mean the connection is gone (2002, 2003, 2006, 2013, 2055, 1927, 4031).
bool is_connection_error(int code);
// Errors after which the same transaction may simply be run again: deadlock (1213), lock-wait timeout (1205).
bool is_retryable(int code);
// Duplicate key (1062).
bool is_duplicate_key(int code);

}  // namespace derpmgr::controller::db
