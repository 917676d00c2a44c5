# SPDX-License-Identifier: MIT
# The lwip fuzz target (tests/fuzz/lwip.cpp): lwIP 2.1.3 from the sysroot, compiled as the
# guest's net/CMakeLists.txt compiles it (the same files, the project's lwipopts.h and arch/
# headers), plus the guest's netif adapter and the host port (lwip/host_port.cpp).
set(lwip "${ATOLL_SYSROOT}/src/lwip")
if(NOT EXISTS "${lwip}/core/tcp.c")
    message(FATAL_ERROR "lwIP sources missing from the sysroot (${lwip}): rebuild it with ./atoll sysroot")
endif()
file(GLOB lwip_core "${lwip}/core/*.c")
file(GLOB lwip_ipv4 "${lwip}/core/ipv4/*.c")
add_library(fuzz_lwip_stack STATIC ${lwip_core} ${lwip_ipv4} "${lwip}/api/api_lib.c" "${lwip}/api/api_msg.c"
    "${lwip}/api/err.c" "${lwip}/api/netbuf.c" "${lwip}/api/tcpip.c" "${lwip}/api/if_api.c" "${lwip}/netif/ethernet.c")
target_include_directories(fuzz_lwip_stack PUBLIC "${root}/net/lwip_port/include" "${lwip}/include")
target_compile_options(fuzz_lwip_stack PRIVATE -w)
# lwIP's netif.c hands netif_poll(struct netif*) to tcpip_try_callback() cast to
# void (*)(void*), and tcpip.c calls it so (the one such cast in the files built): undefined in
# C, harmless in the x86-64 ABI, and lwIP's code, not ours. -fsanitize=function checks at the
# call site, so it is off for tcpip.c alone; every other call through a pointer is checked.
set_source_files_properties("${lwip}/api/tcpip.c" PROPERTIES COMPILE_OPTIONS -fno-sanitize=function)

fuzz_target(lwip "${root}/net/lwip_port/netif.cpp" lwip/host_port.cpp)
set_property(TARGET fuzz_lwip PROPERTY CXX_STANDARD 23)
target_include_directories(fuzz_lwip PRIVATE "${CMAKE_CURRENT_SOURCE_DIR}" "${root}/net/include"
    "${root}/kernel/include" "${root}/kernel/arch/x86_64/include"
    "${root}/drivers/netdev/include" "${root}/drivers/entropy/include")
# Boost.Context switches to the tcpip coroutine (libboost-context1.74-dev, a build dependency).
target_link_libraries(fuzz_lwip PRIVATE fuzz_lwip_stack boost_context)
