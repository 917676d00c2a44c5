// SPDX-License-Identifier: MIT
// Process identity and resources: uname, ids, rlimits, sysinfo, rusage, getrandom, CPU
// affinity, scheduling, prctl names and unknown system calls. Values that legitimately vary
// (pids, memory sizes, CPU counts) are printed only as properties: "> 0", "<= max".
#include "posix_common.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <sys/mman.h>

#include <pthread.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/sysinfo.h>
#include <sys/utsname.h>

// Priorities are per thread on Linux: PRIO_PROCESS with who 0 is the calling thread.
struct prio_job {
	int inherited;
	long tid;
	int set;
};

static void *prio_thread(void *arg)
{
	struct prio_job *j = arg;
	errno = 0;
	j->inherited = getpriority(PRIO_PROCESS, 0);
	j->tid = syscall(SYS_gettid);
	j->set = setpriority(PRIO_PROCESS, 0, 7);
	return NULL;
}

static void priority_checks(void)
{
	// Start from known values: the runner may itself run under nice.
	struct rlimit nice_limit = {0, 0};
	CHECK("setrlimit NICE 0", setrlimit(RLIMIT_NICE, &nice_limit));
	CHECK("setpriority 5", setpriority(PRIO_PROCESS, 0, 5));
	CHECK("getpriority", getpriority(PRIO_PROCESS, 0));
	CHECK("getpriority raw (20 - nice)", syscall(SYS_getpriority, PRIO_PROCESS, 0));
	CHECK("setpriority -3 as root", setpriority(PRIO_PROCESS, 0, -3));
	CHECK("getpriority", getpriority(PRIO_PROCESS, 0));
	CHECK("setpriority 100: clamped", setpriority(PRIO_PROCESS, 0, 100));
	CHECK("getpriority", getpriority(PRIO_PROCESS, 0));
	CHECK("setpriority -100: clamped", setpriority(PRIO_PROCESS, 0, -100));
	CHECK("getpriority", getpriority(PRIO_PROCESS, 0));
	CHECK("setpriority own pid 2", setpriority(PRIO_PROCESS, getpid(), 2));
	CHECK("getpriority own pid", getpriority(PRIO_PROCESS, getpid()));
	CHECK("nice(1)", nice(1));
	CHECK("getpriority after nice", getpriority(PRIO_PROCESS, 0));
	CHECK("setpriority bad which", setpriority(opaque(99), 0, 0));
	CHECK("getpriority bad which", getpriority(opaque(99), 0));
	CHECK("setpriority no such pid", setpriority(PRIO_PROCESS, opaque(0x7fffffff), 0));
	CHECK("getpriority no such pid", getpriority(PRIO_PROCESS, opaque(0x7fffffff)));
	CHECK("getpriority no such process group", getpriority(PRIO_PGRP, opaque(0x7fffffff)));
	CHECK("getpriority no such user", getpriority(PRIO_USER, opaque(0x7ffffff0)));
	CHECK("setpriority no such user", setpriority(PRIO_USER, opaque(0x7ffffff0), 0));

	struct prio_job j = {-100, 0, -100};
	pthread_t t;
	pthread_create(&t, NULL, prio_thread, &j);
	pthread_join(t, NULL);
	SAY("a new thread inherits", "%d", j.inherited);
	SAY("the thread sets its own", "%d", j.set);
	CHECK("the main thread's is unchanged", getpriority(PRIO_PROCESS, 0));

	// Without privilege: higher values only, lower ones within RLIMIT_NICE (20 - limit).
	if (setresuid(-1, 1000, -1) != 0)
		die("setresuid");
	CHECK("unprivileged setpriority 1 (lower)", setpriority(PRIO_PROCESS, 0, 1));
	CHECK("unprivileged setpriority 6 (higher)", setpriority(PRIO_PROCESS, 0, 6));
	CHECK("unprivileged nice(-2)", nice(-2));
	CHECK("getpriority", getpriority(PRIO_PROCESS, 0));
	if (setresuid(-1, 0, -1) != 0)
		die("setresuid back");
	// (Raising a hard limit needs CAP_SYS_RESOURCE, which a container's root may lack: not
	// checked here.)
	if (setresuid(-1, 1000, -1) != 0)
		die("setresuid");
	CHECK("unprivileged raise of the limit", setrlimit(RLIMIT_NICE, &(struct rlimit){30, 30}));
	if (setresuid(-1, 0, -1) != 0)
		die("setresuid back");
	CHECK("setpriority 0", setpriority(PRIO_PROCESS, 0, 0));
}

int main(void)
{
	scratch_enter("process");

	struct utsname u;
	CHECK("uname", uname(&u));
	SAY("sysname", "%s", u.sysname);
	SAY("machine", "%s", u.machine);
	SAY("release non-empty", "%s", yes(u.release[0] != 0));
	CHECK("uname bad pointer", uname(bad_ptr()));

	// Ids. Atoll has one process; Linux gives it some pid and parent. Only relations count.
	SAY("getpid > 0", "%s", yes(getpid() > 0));
	SAY("getppid >= 0", "%s", yes(getppid() >= 0));
	SAY("gettid == getpid (main thread)", "%s", yes(syscall(SYS_gettid) == getpid()));
	SAY("uid == euid", "%s", yes(getuid() == geteuid()));
	SAY("gid == egid", "%s", yes(getgid() == getegid()));
	uid_t ru, eu, su;
	CHECK("getresuid", getresuid(&ru, &eu, &su));
	SAY("getresuid matches getuid/geteuid", "%s", yes(ru == getuid() && eu == geteuid()));
	gid_t rg, eg, sg;
	CHECK("getresgid", getresgid(&rg, &eg, &sg));
	SAY("getresgid matches getgid/getegid", "%s", yes(rg == getgid() && eg == getegid()));
	SAY("getgroups(0) >= 0", "%s", yes(getgroups(0, NULL) >= 0));

	// Resource limits.
	struct rlimit rl;
	CHECK("getrlimit NOFILE", getrlimit(RLIMIT_NOFILE, &rl));
	SAY("NOFILE cur > 0 and cur <= max", "%s", yes(rl.rlim_cur > 0 && rl.rlim_cur <= rl.rlim_max));
	CHECK("getrlimit STACK", getrlimit(RLIMIT_STACK, &rl));
	SAY("STACK cur > 0", "%s", yes(rl.rlim_cur > 0));
	struct rlimit old, inv = {2, 1};
	CHECK("prlimit64 bad resource", syscall(SYS_prlimit64, 0, 999, NULL, &old));
	CHECK("prlimit64 NOFILE query", syscall(SYS_prlimit64, 0, RLIMIT_NOFILE, NULL, &old));
	CHECK("prlimit64 own pid", syscall(SYS_prlimit64, getpid(), RLIMIT_NOFILE, NULL, &old));
	CHECK("getrlimit bad resource", getrlimit(999, &rl));
	CHECK("setrlimit cur > max", setrlimit(RLIMIT_NOFILE, &inv));
	getrlimit(RLIMIT_NOFILE, &rl);
	struct rlimit lower = {rl.rlim_cur > 64 ? 64 : rl.rlim_cur, rl.rlim_max};
	CHECK("setrlimit lower NOFILE cur", setrlimit(RLIMIT_NOFILE, &lower));
	getrlimit(RLIMIT_NOFILE, &rl);
	SAY("NOFILE cur after lowering", "%s", yes(rl.rlim_cur == lower.rlim_cur));

	// sysinfo and rusage.
	struct sysinfo si;
	CHECK("sysinfo", sysinfo(&si));
	SAY("totalram > 0", "%s", yes(si.totalram > 0));
	SAY("freeram <= totalram", "%s", yes(si.freeram <= si.totalram));
	SAY("mem_unit >= 1", "%s", yes(si.mem_unit >= 1));
	SAY("procs >= 1", "%s", yes(si.procs >= 1));
	CHECK("sysinfo bad pointer", sysinfo(bad_ptr()));
	struct rusage ru_;
	CHECK("getrusage SELF", getrusage(RUSAGE_SELF, &ru_));
	CHECK("getrusage CHILDREN", getrusage(RUSAGE_CHILDREN, &ru_));
	CHECK("getrusage THREAD", getrusage(RUSAGE_THREAD, &ru_));
	CHECK("getrusage bad who", getrusage(99, &ru_));

	// getrandom.
	unsigned char a[32], b[32];
	CHECK("getrandom 32", getrandom(a, sizeof a, 0));
	CHECK("getrandom 32 GRND_NONBLOCK", getrandom(b, sizeof b, GRND_NONBLOCK));
	SAY("two draws differ", "%s", yes(memcmp(a, b, sizeof a) != 0));
	CHECK("getrandom 0 bytes", getrandom(a, 0, 0));
	CHECK("getrandom bad flags", getrandom(a, sizeof a, 0x100));
	CHECK("getrandom bad pointer", getrandom(bad_ptr(), 16, 0));

	// CPU affinity: the raw system call returns the size of the kernel's mask in bytes
	// (the libc wrappers turn that into 0), which varies, so only its sign is printed.
	cpu_set_t set;
	CPU_ZERO(&set);
	long n = syscall(SYS_sched_getaffinity, 0, sizeof set, &set);
	SAY("sched_getaffinity raw > 0", "%s", yes(n > 0));
	SAY("CPU 0 set", "%s", yes(CPU_ISSET(0, &set)));
	SAY("CPU count >= 1", "%s", yes(CPU_COUNT(&set) >= 1));
	CHECK("sched_getaffinity wrapper", sched_getaffinity(0, sizeof set, &set));
	CHECK("sched_getaffinity size 1", syscall(SYS_sched_getaffinity, 0, 1, &set));
	CHECK("sched_setaffinity to current set", sched_setaffinity(0, sizeof set, &set));
	CHECK("sched_yield", sched_yield());
	// Raw calls: musl's sched_getscheduler/sched_getparam are ENOSYS stubs on purpose.
	CHECK("sched_getscheduler", syscall(SYS_sched_getscheduler, 0));
	struct sched_param sp;
	CHECK("sched_getparam", syscall(SYS_sched_getparam, 0, &sp));
	SAY("sched priority", "%d", sp.sched_priority);
	CHECK("sched_get_priority_max OTHER", sched_get_priority_max(SCHED_OTHER));

	// prctl thread name: 16 bytes including the NUL, longer names are truncated.
	char name[32] = {0};
	CHECK("PR_SET_NAME", prctl(PR_SET_NAME, "posix-process-long-name", 0, 0, 0));
	CHECK("PR_GET_NAME", prctl(PR_GET_NAME, name, 0, 0, 0));
	SAY("name", "%s", name);
	CHECK("prctl bad option", prctl(-1, 0, 0, 0, 0));
	CHECK("PR_GET_DUMPABLE", prctl(PR_GET_DUMPABLE, 0, 0, 0, 0));
	CHECK("PR_SET_DUMPABLE 0", prctl(PR_SET_DUMPABLE, 0, 0, 0, 0));
	CHECK("PR_GET_DUMPABLE", prctl(PR_GET_DUMPABLE, 0, 0, 0, 0));
	CHECK("PR_SET_DUMPABLE 2", prctl(PR_SET_DUMPABLE, 2, 0, 0, 0));
	CHECK("PR_SET_DUMPABLE 1", prctl(PR_SET_DUMPABLE, 1, 0, 0, 0));
	CHECK("PR_GET_DUMPABLE", prctl(PR_GET_DUMPABLE, 0, 0, 0, 0));
	int deathsig = -1;
	CHECK("PR_SET_PDEATHSIG SIGUSR1", prctl(PR_SET_PDEATHSIG, 10, 0, 0, 0));
	CHECK("PR_GET_PDEATHSIG", prctl(PR_GET_PDEATHSIG, &deathsig, 0, 0, 0));
	SAY("  signal", "%d", deathsig);
	CHECK("PR_SET_PDEATHSIG 99", prctl(PR_SET_PDEATHSIG, 99, 0, 0, 0));
	CHECK("PR_GET_PDEATHSIG bad pointer", prctl(PR_GET_PDEATHSIG, bad_ptr(), 0, 0, 0));
	CHECK("PR_GET_NO_NEW_PRIVS", prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0));
	CHECK("PR_SET_NO_NEW_PRIVS 2", prctl(PR_SET_NO_NEW_PRIVS, 2, 0, 0, 0));
	CHECK("PR_SET_NO_NEW_PRIVS 1", prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0));
	CHECK("PR_GET_NO_NEW_PRIVS", prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0));

	// Memory locking: every page is resident; arguments are still checked.
	char *locked = malloc(3 * 4096);
	CHECK("mlock", mlock(locked, 4096));
	CHECK("munlock", munlock(locked, 4096));
	CHECK("mlock unmapped", mlock((void *)(uintptr_t)opaque(4096), 4096));
	CHECK("mlockall 0", mlockall(opaque(0)));
	CHECK("munlockall", munlockall());
	free(locked);

	// /etc/services
	struct servent *se = getservbyname("http", "tcp");
	SAY("getservbyname http/tcp", "%d", se ? ntohs((uint16_t)se->s_port) : -1);
	se = getservbyname("ssh", "tcp");
	SAY("getservbyname ssh/tcp", "%d", se ? ntohs((uint16_t)se->s_port) : -1);

	// System calls that do not exist.
	CHECK("syscall 4000", syscall(4000));
	CHECK("syscall 451+100", syscall(551));
	CHECK("syscall -1", syscall(-1));

	// Last: these change the ids for a while, which resets the parent-death signal.
	priority_checks();
	deathsig = -1;
	prctl(PR_GET_PDEATHSIG, &deathsig, 0, 0, 0);
	SAY("parent-death signal after changes of the ids", "%d", deathsig);

	scratch_leave("process");
	return 0;
}
