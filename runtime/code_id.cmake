# code_id.cmake: writes OUT, a header defining PG_CODE_ID, a hash of pygmuc's sources (every
# file in SOURCES, separated by commas) and of how they are compiled (FLAGS). The render cache keys its entries
# with it, so a build whose code or flags differ never reads another build's renders (a
# kernel fixed without a version bump would otherwise be served its old output).
set(ids "${FLAGS}")
string(REPLACE "," ";" files "${SOURCES}")
foreach(f IN LISTS files)
  file(SHA256 "${f}" h)
  string(APPEND ids "${h}")
endforeach()
string(SHA256 id "${ids}")
string(SUBSTRING "${id}" 0 16 id)
set(text "#define PG_CODE_ID \"${id}\"\n")
if(EXISTS "${OUT}")
  file(READ "${OUT}" old)
endif()
if(NOT "${old}" STREQUAL "${text}") # unchanged: the header keeps its date, nothing rebuilds
  file(WRITE "${OUT}" "${text}")
endif()
