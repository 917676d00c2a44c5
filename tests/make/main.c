/* SPDX-License-Identifier: MIT */
/* A program built by an ordinary Makefile: make CC=atoll-cc turns it into an image. */
#include <stdio.h>

#include "greet.h"

int main(int argc, char **argv)
{
    const char *name = argc > 1 ? argv[1] : "nobody";
    if (greet(name) < 0) {
        fprintf(stderr, "greet failed\n");
        return 1;
    }
    return fflush(stdout) == 0 ? 0 : 1;
}
