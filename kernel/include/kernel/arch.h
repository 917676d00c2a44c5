// SPDX-License-Identifier: MIT
#pragma once

// FIXME: transitional umbrella while libos moves to the split headers of kernel/arch/.
#include <kernel/arch/cpu.h>
#include <kernel/arch/frame.h>
#include <kernel/arch/io.h>
