// SPDX-License-Identifier: MIT
#pragma once

// What an exception or interrupt saves of the interrupted code. The layout is the
// architecture's (kernel/arch/<arch>/include/arch/frame.h); portable code reads it only
// through pc(), fp() and sp().
//   InterruptFrame  an exception's frame (with the vector and error code)
//   IrqFrame        a device or timer interrupt's frame

#include <kernel/types.h>

#include <arch/frame.h>
