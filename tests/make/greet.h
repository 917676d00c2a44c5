/* SPDX-License-Identifier: MIT */
#ifndef GREET_H
#define GREET_H

/* Writes "greet: hello, NAME" to stdout; returns the number of characters written. */
int greet(const char *name);

#endif
