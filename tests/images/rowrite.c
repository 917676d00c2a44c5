// SPDX-License-Identifier: MIT
// Writes into a string literal: the image's constants are read-only, so this must fault.
#include <stdio.h>

int main(void)
{
    volatile char* literal = (volatile char*)"a string literal";
    printf("writing to a string literal\n");
    fflush(stdout);
    literal[0] = 'X';
    printf("the write went through: %c\n", literal[0]);
    return 0;
}
