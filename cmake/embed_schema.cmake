# Writes OUTPUT: a C++ source defining derpmgr::controller::db::embedded_migration_files(), one entry per
# schema/NNNN_*.sql file (name and text), so the controller binary carries its own migrations.
file(GLOB sql_files RELATIVE ${SCHEMA_DIR} ${SCHEMA_DIR}/*.sql)
list(SORT sql_files)
set(body "")
foreach(f IN LISTS sql_files)
  file(READ ${SCHEMA_DIR}/${f} text)
  string(APPEND body "      {\"${f}\", R\"derpmgr_sql(${text})derpmgr_sql\"},\n")
endforeach()
file(WRITE ${OUTPUT}.tmp
"// Generated from schema/*.sql by cmake/embed_schema.cmake; do not edit.
#include \"controller/db/migrations.hpp\"

namespace derpmgr::controller::db {

const std::vector<std::pair<std::string, std::string>>& embedded_migration_files() {
  static const std::vector<std::pair<std::string, std::string>> files = {
${body}  };
  return files;
}

}  // namespace derpmgr::controller::db
")
file(COPY_FILE ${OUTPUT}.tmp ${OUTPUT} ONLY_IF_DIFFERENT)
