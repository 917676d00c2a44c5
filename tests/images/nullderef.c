// SPDX-License-Identifier: MIT
// Dereferences a null pointer: the boot test expects a readable panic and a non-zero exit.
#include <stdio.h>

__attribute__((noinline)) static int read_through(volatile int* p) { return *p; }

int main(void)
{
    printf("about to dereference a null pointer\n");
    fflush(stdout);
    return read_through((volatile int*)0);
}
