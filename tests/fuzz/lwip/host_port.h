// SPDX-License-Identifier: MIT
#pragma once

// The host side of tests/fuzz/lwip.cpp's network stack (host_port.cpp): the tcpip thread as a
// coroutine, virtual time, deterministic random numbers.

#include <cstdint>

// Lets the tcpip thread run until its mailbox is empty and no timer is due.
void host_run_tcpip_until_idle();
// Moves virtual time forward (the timers that come due fire), then runs the tcpip thread.
void host_advance_ms(std::uint32_t ms);
std::uint32_t host_now_ms();
// The sequence LWIP_RAND() returns from now on.
void host_seed_random(std::uint64_t seed);
