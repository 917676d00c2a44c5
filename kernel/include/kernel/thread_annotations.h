// SPDX-License-Identifier: MIT
#pragma once

// clang's thread-safety analysis (-Wthread-safety, an error in the guest build of kernel,
// drivers, net and libos): a lock is a capability, data names the lock that guards it, and a
// function names the locks it needs. GCC (the host unit tests) has no such analysis: the
// macros are empty there. See kernel/include/kernel/lock.h for the lock types.

#if defined(__clang__)
#define ATL_THREAD_ANNOTATION(x) __attribute__((x))
#else
#define ATL_THREAD_ANNOTATION(x)
#endif

// A class whose objects are locks.
#define ATL_CAPABILITY(name) ATL_THREAD_ANNOTATION(capability(name))
// An RAII class that holds a lock for its lifetime.
#define ATL_SCOPED_CAPABILITY ATL_THREAD_ANNOTATION(scoped_lockable)
// Data read or written only with the lock held.
#define ATL_GUARDED_BY(lock) ATL_THREAD_ANNOTATION(guarded_by(lock))
// A pointer whose target is read or written only with the lock held.
#define ATL_PT_GUARDED_BY(lock) ATL_THREAD_ANNOTATION(pt_guarded_by(lock))
// A function called with the locks held (the `_locked` suffix says so to a reader; this
// makes the compiler check it).
#define ATL_REQUIRES(...) ATL_THREAD_ANNOTATION(requires_capability(__VA_ARGS__))
// A function that takes or lets go of the locks.
#define ATL_ACQUIRE(...) ATL_THREAD_ANNOTATION(acquire_capability(__VA_ARGS__))
#define ATL_RELEASE(...) ATL_THREAD_ANNOTATION(release_capability(__VA_ARGS__))
// A function that must not be called with the locks held (it takes them itself).
#define ATL_EXCLUDES(...) ATL_THREAD_ANNOTATION(locks_excluded(__VA_ARGS__))
// Lock order: this lock is taken after (or before) the others when both are held.
#define ATL_ACQUIRED_AFTER(...) ATL_THREAD_ANNOTATION(acquired_after(__VA_ARGS__))
#define ATL_ACQUIRED_BEFORE(...) ATL_THREAD_ANNOTATION(acquired_before(__VA_ARGS__))
// A function that returns (a reference to) the lock.
#define ATL_RETURN_CAPABILITY(lock) ATL_THREAD_ANNOTATION(lock_returned(lock))
// A function that checks at run time that the lock is held.
#define ATL_ASSERT_CAPABILITY(lock) ATL_THREAD_ANNOTATION(assert_capability(lock))
// A function the analysis does not follow: every use says why in a comment.
#define ATL_NO_THREAD_SAFETY_ANALYSIS ATL_THREAD_ANNOTATION(no_thread_safety_analysis)
