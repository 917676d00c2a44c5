/* SPDX-License-Identifier: MIT */
/* lwIP's compiler and platform definitions for Atoll (lwIP 2.1 port contract, arch.h). */
#ifndef ATOLL_LWIP_ARCH_CC_H
#define ATOLL_LWIP_ARCH_CC_H

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#ifndef BYTE_ORDER /* musl's <endian.h> defines it already */
#define BYTE_ORDER LITTLE_ENDIAN
#endif
#define LWIP_ERRNO_STDINCLUDE 1 /* the libc's errno values are Linux's: use them */
#define LWIP_NO_UNISTD_H 0

#ifdef __cplusplus
extern "C" {
#endif
void atoll_lwip_diag(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
__attribute__((noreturn)) void atoll_lwip_assert(const char* message, const char* file, int line);
uint32_t atoll_lwip_random(void);
/* The stack's memory: the kernel heap (lwipopts.h MEM_LIBC_MALLOC). */
void* atoll_lwip_malloc(size_t size);
void* atoll_lwip_calloc(size_t n, size_t size);
void atoll_lwip_free(void* p);
#ifdef __cplusplus
}
#endif

/* LWIP_PLATFORM_DIAG takes a parenthesised printf argument list. */
#define LWIP_PLATFORM_DIAG(x) atoll_lwip_diag x
#define LWIP_PLATFORM_ASSERT(x) atoll_lwip_assert((x), __FILE__, __LINE__)
#define LWIP_RAND() atoll_lwip_random()

#endif
