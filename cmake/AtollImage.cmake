# SPDX-License-Identifier: MIT
# add_unikernel(<name> SOURCES <src>... [CMDLINE <text>] [LIBRARIES <lib>...] [ROOTFS <dir>]
#               [PORTS <port>...])
#
# PORTS: the TCP ports the program serves; `atoll run` then starts it with user networking
# and forwards them from the host (same number, or +8000 below 1024 when not root).
#
# ROOTFS: a directory packed (cpio newc) into the image; at boot it is unpacked into the
# root file system, a writable ramfs. `atoll run --rootfs DIR` adds another one on top.
#
# Builds <name>.img, a bootable PVH image of the program, and <name>.dbg, the same image with
# its ELF symbols. CMDLINE is built into the image and parsed before the boot command line
# (see README "Command line"): environment variables NAME=VALUE, parameters, arguments.
# The image is linked twice: the first link gives the addresses for the panic symbol table,
# the second adds that table after everything else, so no address changes.
include_guard(GLOBAL)

set(ATOLL_IMAGE_LIST "${CMAKE_BINARY_DIR}/atoll-images.txt")
get_property(_atoll_list_started GLOBAL PROPERTY ATOLL_IMAGE_LIST_STARTED)
if(NOT _atoll_list_started)
    file(WRITE "${ATOLL_IMAGE_LIST}" "")
    set_property(GLOBAL PROPERTY ATOLL_IMAGE_LIST_STARTED TRUE)
endif()

function(add_unikernel name)
    cmake_parse_arguments(PARSE_ARGV 1 U "" "CMDLINE;ROOTFS" "SOURCES;LIBRARIES;PORTS")
    if(U_UNPARSED_ARGUMENTS)
        message(FATAL_ERROR "add_unikernel(${name}): unknown arguments: ${U_UNPARSED_ARGUMENTS}")
    endif()
    if(NOT U_SOURCES)
        message(FATAL_ERROR "add_unikernel(${name}): SOURCES is required")
    endif()

    set(info "${CMAKE_CURRENT_BINARY_DIR}/${name}-image-info.c")
    set(ports_c "")
    if(U_PORTS)
        foreach(p IN LISTS U_PORTS)
            if(NOT p MATCHES "^[0-9]+$" OR p GREATER 65535)
                message(FATAL_ERROR "add_unikernel(${name}): PORTS wants port numbers, got ${p}")
            endif()
        endforeach()
        string(REPLACE ";" "," ports_list "${U_PORTS}")
        set(ports_c "__attribute__((section(\".atoll_ports\"), used)) static const char atoll_ports[] = \"atoll-ports:${ports_list};\";\n")
    endif()
    set(ports "${CMAKE_CURRENT_BINARY_DIR}/${name}-ports.c")
    file(CONFIGURE OUTPUT "${ports}" CONTENT "${ports_c}")

    set(rootfs_sources "")
    if(U_ROOTFS)
        get_filename_component(rootfs_dir "${U_ROOTFS}" ABSOLUTE BASE_DIR "${CMAKE_CURRENT_SOURCE_DIR}")
        if(NOT IS_DIRECTORY "${rootfs_dir}")
            message(FATAL_ERROR "add_unikernel(${name}): ROOTFS ${U_ROOTFS} is not a directory")
        endif()
        file(GLOB_RECURSE rootfs_files CONFIGURE_DEPENDS LIST_DIRECTORIES true "${rootfs_dir}/*")
        set(cpio "${CMAKE_CURRENT_BINARY_DIR}/${name}-rootfs.cpio")
        add_custom_command(
            OUTPUT "${cpio}"
            COMMAND "${ATOLL_ROOT}/toolchain/mkrootfs.sh" "${rootfs_dir}" "${cpio}"
            DEPENDS ${rootfs_files} "${ATOLL_ROOT}/toolchain/mkrootfs.sh"
            COMMENT "Root file system for ${name} from ${U_ROOTFS}")
        set(rootfs_asm "${CMAKE_CURRENT_BINARY_DIR}/${name}-rootfs.S")
        file(CONFIGURE OUTPUT "${rootfs_asm}" CONTENT
            "    .section .rodata.atoll_rootfs, \"a\"\n    .global atoll_rootfs_start\n    .global atoll_rootfs_end\n    .balign 16\natoll_rootfs_start:\n    .incbin \"${cpio}\"\natoll_rootfs_end:\n")
        set_source_files_properties("${rootfs_asm}" PROPERTIES OBJECT_DEPENDS "${cpio}")
        set(rootfs_sources "${rootfs_asm}")
    endif()

    # The image's registration with the kernel (kernel/entry.h): name, command line, root file
    # system, main().
    set(has_rootfs 0)
    if(rootfs_sources)
        set(has_rootfs 1)
    endif()
    execute_process(COMMAND "${ATOLL_ROOT}/toolchain/gen-image-info.sh" "${name}" "${U_CMDLINE}" ${has_rootfs} "${info}"
        RESULT_VARIABLE info_status)
    if(NOT info_status EQUAL 0)
        message(FATAL_ERROR "add_unikernel(${name}): toolchain/gen-image-info.sh failed")
    endif()

    add_library(${name}-objects OBJECT ${U_SOURCES} "${info}" "${ports}" ${rootfs_sources})
    target_link_libraries(${name}-objects PRIVATE ${U_LIBRARIES})

    set(linker_script "${ATOLL_ROOT}/kernel/linker.ld")
    set(sysroot_libs
        "${ATOLL_SYSROOT}/lib/libc++.a" "${ATOLL_SYSROOT}/lib/libc++abi.a"
        "${ATOLL_SYSROOT}/lib/libunwind.a" "${ATOLL_SYSROOT}/lib/libc.a"
        "${ATOLL_SYSROOT}/lib/libfcontext.a" "${ATOLL_SYSROOT}/lib/libclang_rt.builtins.a")
    # -u: the libOS and the drivers' table are in every image, though nothing below them names
    # them (they register themselves: kernel/registry.h).
    set(link_options "-Wl,-T,${linker_script}" -Wl,-u,atoll_libos -Wl,-u,atoll_drivers -Wl,--gc-sections -Wl,--eh-frame-hdr
        -Wl,-z,max-page-size=4096 -Wl,-z,norelro -Wl,--build-id=none)

    foreach(stage stage1 dbg)
        set(t ${name}.${stage})
        if(stage STREQUAL "stage1")
            add_executable(${t} $<TARGET_OBJECTS:${name}-objects>)
        else()
            add_executable(${t} $<TARGET_OBJECTS:${name}-objects> "${CMAKE_CURRENT_BINARY_DIR}/${name}.symtab.S")
        endif()
        set_target_properties(${t} PROPERTIES LINKER_LANGUAGE CXX LINK_DEPENDS "${linker_script}")
        target_link_libraries(${t} PRIVATE ${U_LIBRARIES} atoll_libos atoll_net atoll_lwip atoll_drivers atoll_kernel ${sysroot_libs})
        target_link_options(${t} PRIVATE ${link_options})
    endforeach()
    # The final link's map: what each library contributes (tests/bench/size-breakdown.sh).
    target_link_options(${name}.dbg PRIVATE "-Wl,-Map=${CMAKE_CURRENT_BINARY_DIR}/${name}.map")

    add_custom_command(
        OUTPUT "${CMAKE_CURRENT_BINARY_DIR}/${name}.symtab.S"
        COMMAND "${ATOLL_ROOT}/toolchain/gen-symtab.sh" "${CMAKE_NM}" $<TARGET_FILE:${name}.stage1>
                "${CMAKE_CURRENT_BINARY_DIR}/${name}.symtab.S"
        DEPENDS ${name}.stage1 "${ATOLL_ROOT}/toolchain/gen-symtab.sh"
        COMMENT "Symbol table for ${name}")

    set(image "${CMAKE_CURRENT_BINARY_DIR}/${name}.img")
    add_custom_command(
        OUTPUT "${image}"
        COMMAND "${CMAKE_STRIP}" --strip-all -o "${image}" $<TARGET_FILE:${name}.dbg>
        DEPENDS ${name}.dbg
        COMMENT "Image ${name}.img")
    add_custom_target(${name} ALL DEPENDS "${image}")
    set_target_properties(${name} PROPERTIES ATOLL_IMAGE "${image}")
    file(APPEND "${ATOLL_IMAGE_LIST}" "${name}\t${image}\n")
endfunction()
