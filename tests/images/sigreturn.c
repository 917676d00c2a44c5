// SPDX-License-Identifier: MIT
// rt_sigreturn called by the program itself, outside any signal handler: there is no signal
// frame to return to. Linux ends the program with SIGSEGV (exit status 139), or runs its
// SIGSEGV handler first. Atoll must do the same, never panic or carry on.
//   sigreturn            no handler: the program dies of SIGSEGV
//   sigreturn handler    a SIGSEGV handler reports the signal and exits with status 3
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static void on_segv(int sig, siginfo_t *info, void *ctx)
{
	(void)ctx;
	char line[80];
	int n = snprintf(line, sizeof line, "SIGSEGV handler: signal %d, si_code %d\n", sig, info->si_code);
	write(1, line, (size_t)n);
	_exit(3);
}

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "handler") == 0) {
		struct sigaction sa;
		memset(&sa, 0, sizeof sa);
		sa.sa_sigaction = on_segv;
		sa.sa_flags = SA_SIGINFO;
		sigaction(SIGSEGV, &sa, NULL);
	}
	printf("calling rt_sigreturn outside a signal handler\n");
	fflush(stdout);
	syscall(SYS_rt_sigreturn);
	printf("survived rt_sigreturn\n");
	return 0;
}
