# troupe_preemptible(<target>...): compiles the targets' sources with safe
# points at every loop back edge and on the way to every function's calls
# (docs/scheduling.md says where exactly), so that a process running their
# code yields when its time slice is over.
#
# With GCC the safe points come from troupe's GCC plugin (troupe_preempt.so,
# built here from src/preempt/gcc_plugin, or installed beside troupe): a
# thread-local load and a rarely taken branch at each point. With another
# compiler, or a GCC without its plugin headers (Debian: gcc-12-plugin-dev),
# they fall back to function-entry hooks (-finstrument-functions): a call at
# each function entry and none in loops, so a loop without calls needs
# troupe_safe_point() by hand. Either way the standard library and troupe's
# own headers are left alone.
#
#   add_executable(app main.cpp hot_loops.cpp)
#   target_link_libraries(app PRIVATE troupe::troupe)
#   troupe_preemptible(app)
#
# TROUPE_PREEMPT_PLUGIN (a path) and TROUPE_PREEMPT_EXCLUDE (troupe's header
# folder) are set by troupe's CMakeLists.txt or its package config.

function(troupe_preemptible)
  foreach(target IN LISTS ARGN)
    if(NOT TARGET ${target})
      message(FATAL_ERROR "troupe_preemptible: '${target}' is not a target")
    endif()
    get_target_property(_troupe_type ${target} TYPE)
    if(_troupe_type STREQUAL "INTERFACE_LIBRARY")
      message(FATAL_ERROR "troupe_preemptible: '${target}' is an interface library: it compiles nothing")
    endif()
    target_compile_options(${target} PRIVATE "SHELL:-include troupe/preempt_check.h")
    if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND TROUPE_PREEMPT_PLUGIN)
      target_compile_options(${target} PRIVATE
        "-fplugin=${TROUPE_PREEMPT_PLUGIN}"
        "-fplugin-arg-troupe_preempt-exclude=${TROUPE_PREEMPT_EXCLUDE}")
      if(TARGET troupe_preempt_plugin)
        add_dependencies(${target} troupe_preempt_plugin)
      endif()
      set_property(TARGET ${target} PROPERTY TROUPE_PREEMPTIBLE "safe points")
    else()
      target_compile_options(${target} PRIVATE
        -finstrument-functions
        "-finstrument-functions-exclude-file-list=/usr/include,${TROUPE_PREEMPT_EXCLUDE}")
      set_property(TARGET ${target} PROPERTY TROUPE_PREEMPTIBLE "entry hooks")
      message(STATUS "troupe_preemptible(${target}): no GCC plugin for ${CMAKE_CXX_COMPILER_ID}; "
                     "checks at function entries only (-finstrument-functions)")
    endif()
  endforeach()
endfunction()
