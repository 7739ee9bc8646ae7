# The test suite: one executable per tests/<dir>/test_<name>.c, plus the end-to-end
# suites (error pieces, golden renders of pieces/, conformance with pygmu's renders).

# pg_add_test(name SOURCES a.c ... LABELS unit|pe|errors|golden|slow)
function(pg_add_test name)
  cmake_parse_arguments(T "" "" "SOURCES;LABELS" ${ARGN})
  add_executable(${name} ${T_SOURCES} tests/support.c)
  target_include_directories(${name} PRIVATE tests compiler runtime runtime/pe include)
  target_link_libraries(${name} PRIVATE pg_compiler)
  add_test(NAME ${name} COMMAND ${name})
  set_tests_properties(${name} PROPERTIES LABELS "${T_LABELS}" TIMEOUT 300
                       ENVIRONMENT "PG_SOURCE_DIR=${CMAKE_SOURCE_DIR}")
endfunction()

foreach(dir compiler runtime pe)
  file(GLOB tests CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/tests/${dir}/test_*.c)
  foreach(src ${tests})
    get_filename_component(base ${src} NAME_WE)
    if(dir STREQUAL "pe")
      pg_add_test(${dir}_${base} SOURCES ${src} LABELS pe)
    else()
      pg_add_test(${dir}_${base} SOURCES ${src} LABELS unit)
    endif()
  endforeach()
endforeach()

# Bad pieces: each states the line:col and kind it must report.
add_test(NAME errors COMMAND ${CMAKE_COMMAND} -E env PYGMUC=$<TARGET_FILE:pygmuc>
         sh ${CMAKE_SOURCE_DIR}/tests/errors/run.sh ${CMAKE_SOURCE_DIR}/tests/errors)
set_tests_properties(errors PROPERTIES LABELS errors TIMEOUT 300)

# Golden renders of pieces/ and the conformance set (when ../shared/conformance exists).
add_test(NAME golden COMMAND sh ${CMAKE_SOURCE_DIR}/tests/pieces/golden.sh
         $<TARGET_FILE:pygmuc> ${CMAKE_SOURCE_DIR}/pieces)
set_tests_properties(golden PROPERTIES LABELS golden TIMEOUT 1200)
# pygmu's own renders of the conformance pieces: within -90 dBFS (design.md invariant 5).
set(PG_CONFORMANCE_PIECES 01_tristan 02_sine_echoes 03_spatial_pan 05_saw_biquad 08_timewarp
    10_convolve 11_compressor)
string(REPLACE ";" " " PG_CONFORMANCE_LIST "${PG_CONFORMANCE_PIECES}")
add_test(NAME conformance COMMAND sh ${CMAKE_SOURCE_DIR}/tests/pieces/conformance.sh
         $<TARGET_FILE:pygmuc> ${CMAKE_SOURCE_DIR}/../shared/conformance)
set_tests_properties(conformance PROPERTIES LABELS golden TIMEOUT 1200 SKIP_RETURN_CODE 77
                     ENVIRONMENT "CONFORMANCE_PIECES=${PG_CONFORMANCE_LIST}")

# Every global symbol has a module prefix; the public header stands alone (C11 and C++).
add_test(NAME symbols COMMAND sh ${CMAKE_SOURCE_DIR}/tests/symbols.sh
         $<TARGET_FILE:pg_runtime> $<TARGET_FILE:pg_compiler>)
set_tests_properties(symbols PROPERTIES LABELS unit)
add_test(NAME header COMMAND sh ${CMAKE_SOURCE_DIR}/tests/header_check.sh
         ${CMAKE_SOURCE_DIR}/include)
set_tests_properties(header PROPERTIES LABELS unit)

# design.md's invariants 2-4 on every piece: threads, block sizes, cache, -O0.
add_test(NAME invariants COMMAND sh ${CMAKE_SOURCE_DIR}/tests/pieces/invariants.sh
         $<TARGET_FILE:pygmuc> ${CMAKE_SOURCE_DIR}/pieces ${CMAKE_SOURCE_DIR}/../shared/conformance)
set_tests_properties(invariants PROPERTIES LABELS golden TIMEOUT 1800)

# The render cache across an edit: every piece, one number changed, rendered with the old
# piece's cache, equals its render without a cache.
add_test(NAME edits COMMAND sh ${CMAKE_SOURCE_DIR}/tests/pieces/edits.sh
         $<TARGET_FILE:pygmuc> ${CMAKE_SOURCE_DIR}/pieces ${CMAKE_SOURCE_DIR}/../shared/conformance)
set_tests_properties(edits PROPERTIES LABELS golden TIMEOUT 1200)

# Random pieces through every cache path, edits, windows and -O0, each against a render
# without cache (tests/fuzz/differential.sh; python3 writes the pieces): 12 fixed seeds.
add_test(NAME differential COMMAND sh ${CMAKE_SOURCE_DIR}/tests/fuzz/differential.sh
         $<TARGET_FILE:pygmuc> 1 12)
set_tests_properties(differential PROPERTIES LABELS golden TIMEOUT 1200)

# The command line end to end: formats, stdout, windows, clipping, exit codes, safe output.
add_test(NAME cli COMMAND sh ${CMAKE_SOURCE_DIR}/tests/cli/run.sh $<TARGET_FILE:pygmuc>)
set_tests_properties(cli PROPERTIES LABELS unit TIMEOUT 300)

# pygmuc verify itself: a moved reference fails with its dB figure, --update fixes it.
add_test(NAME verify_update COMMAND sh ${CMAKE_SOURCE_DIR}/tests/pieces/verify.sh
         $<TARGET_FILE:pygmuc>)
set_tests_properties(verify_update PROPERTIES LABELS golden TIMEOUT 300)

# The code identity in every cache key (runtime/code_id.cmake) follows sources and flags.
add_test(NAME code_id COMMAND sh ${CMAKE_SOURCE_DIR}/tests/cli/code_id.sh ${CMAKE_SOURCE_DIR})
set_tests_properties(code_id PROPERTIES LABELS unit)
