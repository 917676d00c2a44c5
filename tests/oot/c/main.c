// SPDX-License-Identifier: MIT
#include <stdio.h>

int main(int argc, char** argv)
{
    printf("oot-c: hello from C, argv[1]=%s\n", argc > 1 ? argv[1] : "(none)");
    return 3;
}
