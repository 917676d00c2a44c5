/* SPDX-License-Identifier: MIT */
#include "greet.h"

#include <math.h>
#include <stdio.h>

int greet(const char *name)
{
    /* Something from libm, which the Makefile links with -lm as projects do. */
    volatile double two = 2.0;
    if (sqrt(two * two) != two)
        return -1;
    return printf("greet: hello, %s\n", name);
}
