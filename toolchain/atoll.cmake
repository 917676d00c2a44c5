# SPDX-License-Identifier: MIT
# CMake toolchain file for Atoll images: clang-19 for x86_64-linux-musl against Atoll's
# sysroot. `atoll build` passes it; by hand:
#   cmake -DCMAKE_TOOLCHAIN_FILE=<atoll>/toolchain/atoll.cmake -DATOLL_SYSROOT=$(<atoll>/atoll sysroot) ...
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR x86_64)
set(ATOLL_TARGET ON)
get_filename_component(ATOLL_ROOT "${CMAKE_CURRENT_LIST_DIR}/.." ABSOLUTE)

if(NOT ATOLL_SYSROOT AND DEFINED ENV{ATOLL_SYSROOT})
    set(ATOLL_SYSROOT "$ENV{ATOLL_SYSROOT}")
endif()
if(NOT ATOLL_SYSROOT OR NOT EXISTS "${ATOLL_SYSROOT}/.complete")
    message(FATAL_ERROR "Atoll: no sysroot. Pass -DATOLL_SYSROOT=$(${ATOLL_ROOT}/atoll sysroot) or use `atoll build`.")
endif()
list(APPEND CMAKE_TRY_COMPILE_PLATFORM_VARIABLES ATOLL_SYSROOT)

set(CMAKE_SYSROOT "${ATOLL_SYSROOT}")
set(CMAKE_C_COMPILER clang-19)
set(CMAKE_CXX_COMPILER clang++-19)
set(CMAKE_ASM_COMPILER clang-19)
foreach(lang C CXX ASM)
    set(CMAKE_${lang}_COMPILER_TARGET x86_64-linux-musl)
endforeach()
find_program(CMAKE_AR NAMES llvm-ar-19 REQUIRED)
find_program(CMAKE_RANLIB NAMES llvm-ranlib-19 REQUIRED)
find_program(CMAKE_NM NAMES llvm-nm-19 REQUIRED)
find_program(CMAKE_STRIP NAMES llvm-strip-19 REQUIRED)
find_program(CMAKE_OBJCOPY NAMES llvm-objcopy-19 REQUIRED)
set(CMAKE_TRY_COMPILE_TARGET_TYPE STATIC_LIBRARY)

# Every object in an image: no red zone (interrupts push onto the running stack in ring 0),
# frame pointers (panic backtraces), non-PIC code linked at a fixed low address, one section
# per function so --gc-sections drops what the image does not use, frames probed page by page
# (none jumps a stack's guard) and stack canaries read from one global (as the sysroot is built:
# toolchain/build-sysroot.sh).
# Paths under the checkout are recorded relative to it (__FILE__ in VERIFY messages, debug
# info), so an image's bytes do not depend on where the checkout is.
set(_atoll_common "-mno-red-zone -fno-omit-frame-pointer -fno-pic -fno-pie -ffunction-sections -fdata-sections -fstack-clash-protection -fstack-protector-strong -mstack-protector-guard=global -ffile-prefix-map=${ATOLL_ROOT}/=")
set(CMAKE_C_FLAGS_INIT "${_atoll_common}")
set(CMAKE_ASM_FLAGS_INIT "${_atoll_common}")
set(CMAKE_CXX_FLAGS_INIT "${_atoll_common} -nostdinc++ -isystem ${ATOLL_SYSROOT}/include/c++/v1")
set(CMAKE_EXE_LINKER_FLAGS_INIT "-static -nostdlib -fuse-ld=lld")

set(CMAKE_FIND_ROOT_PATH "${ATOLL_SYSROOT}")
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE BOTH)
