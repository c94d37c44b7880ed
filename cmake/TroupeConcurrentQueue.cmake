# Locates moodycamel::ConcurrentQueue (header-only; Debian: libconcurrentqueue-dev,
# headers in /usr/include/concurrentqueue/) and defines the imported interface
# target troupe::concurrentqueue.
#
# Both include spellings work for users of the target:
#   #include <concurrentqueue/concurrentqueue.h>
#   #include <concurrentqueue.h>
#
# Used by troupe's own build and by the installed troupeConfig.cmake.
# Set TROUPE_CONCURRENTQUEUE_INCLUDE_DIR to the directory holding
# concurrentqueue.h to override the search.

if(TARGET troupe::concurrentqueue)
  return()
endif()

find_path(TROUPE_CONCURRENTQUEUE_INCLUDE_DIR
  NAMES concurrentqueue.h
  PATH_SUFFIXES concurrentqueue concurrentqueue/moodycamel moodycamel
  DOC "Directory containing moodycamel's concurrentqueue.h")

if(NOT TROUPE_CONCURRENTQUEUE_INCLUDE_DIR)
  set(_troupe_cq_msg
    "moodycamel ConcurrentQueue not found (Debian: apt-get install libconcurrentqueue-dev); "
    "set TROUPE_CONCURRENTQUEUE_INCLUDE_DIR to the directory containing concurrentqueue.h")
  if(CMAKE_FIND_PACKAGE_NAME)
    # Inside troupeConfig.cmake: report as a failed find_package(troupe).
    set(${CMAKE_FIND_PACKAGE_NAME}_FOUND FALSE)
    set(${CMAKE_FIND_PACKAGE_NAME}_NOT_FOUND_MESSAGE "${_troupe_cq_msg}")
    return()
  endif()
  message(FATAL_ERROR ${_troupe_cq_msg})
endif()

get_filename_component(_troupe_cq_parent "${TROUPE_CONCURRENTQUEUE_INCLUDE_DIR}" DIRECTORY)
add_library(troupe::concurrentqueue INTERFACE IMPORTED)
set_target_properties(troupe::concurrentqueue PROPERTIES
  INTERFACE_INCLUDE_DIRECTORIES "${TROUPE_CONCURRENTQUEUE_INCLUDE_DIR};${_troupe_cq_parent}")
unset(_troupe_cq_parent)
mark_as_advanced(TROUPE_CONCURRENTQUEUE_INCLUDE_DIR)
