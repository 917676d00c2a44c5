# SPDX-License-Identifier: MIT
# find_package(Atoll REQUIRED) in a project configured with Atoll's toolchain file (which
# `atoll build` passes) makes add_unikernel() available and builds Atoll's kernel and libOS
# into the project's build tree.
if(NOT ATOLL_TARGET)
    get_filename_component(_atoll_root "${CMAKE_CURRENT_LIST_DIR}/.." ABSOLUTE)
    message(FATAL_ERROR
        "Atoll images are built with Atoll's toolchain. Use `${_atoll_root}/atoll build <dir>`, "
        "or configure with -DCMAKE_TOOLCHAIN_FILE=${_atoll_root}/toolchain/atoll.cmake")
endif()
enable_language(C)
enable_language(CXX)
enable_language(ASM)
if(NOT TARGET atoll_libos)
    add_subdirectory("${ATOLL_ROOT}/kernel" "${CMAKE_BINARY_DIR}/_atoll/kernel")
    add_subdirectory("${ATOLL_ROOT}/drivers" "${CMAKE_BINARY_DIR}/_atoll/drivers")
    add_subdirectory("${ATOLL_ROOT}/net" "${CMAKE_BINARY_DIR}/_atoll/net")
    add_subdirectory("${ATOLL_ROOT}/libos" "${CMAKE_BINARY_DIR}/_atoll/libos")
endif()
include("${CMAKE_CURRENT_LIST_DIR}/AtollImage.cmake")
set(Atoll_FOUND TRUE)
