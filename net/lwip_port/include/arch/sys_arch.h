/* SPDX-License-Identifier: MIT */
/* lwIP's operating-system abstraction on Atoll threads (lwIP 2.1 sys.h contract):
 * semaphores, mutexes and mailboxes are kernel objects behind pointers; "valid" means
 * allocated. */
#ifndef ATOLL_LWIP_ARCH_SYS_ARCH_H
#define ATOLL_LWIP_ARCH_SYS_ARCH_H

#ifdef __cplusplus
extern "C" {
#endif

struct atoll_sys_sem;
struct atoll_sys_mutex;
struct atoll_sys_mbox;
typedef struct atoll_sys_sem* sys_sem_t;
typedef struct atoll_sys_mutex* sys_mutex_t;
typedef struct atoll_sys_mbox* sys_mbox_t;
typedef void* sys_thread_t;

#define sys_sem_valid(s) ((s) != NULL && *(s) != NULL)
#define sys_sem_set_invalid(s) do { if (s) *(s) = NULL; } while (0)
#define sys_mutex_valid(m) ((m) != NULL && *(m) != NULL)
#define sys_mutex_set_invalid(m) do { if (m) *(m) = NULL; } while (0)
#define sys_mbox_valid(m) ((m) != NULL && *(m) != NULL)
#define sys_mbox_set_invalid(m) do { if (m) *(m) = NULL; } while (0)

/* SYS_ARCH_PROTECT: the interrupt state that kernel::RecursiveSpinLock::lock() saved
 * (sys_arch.cpp). */
typedef unsigned long sys_prot_t;

#ifdef __cplusplus
}
#endif

#endif
