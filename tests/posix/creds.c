// SPDX-License-Identifier: MIT
// Credentials: real/effective/saved/file-system user and group ids, supplementary groups, the
// rules for changing them (root may set anything; otherwise only among the real, effective
// and saved ids), /proc/self/status, the owner of new files, chown/chmod permissions.
// Runs as root (the host side runs as root, Atoll's program starts as root); every change
// keeps a saved id of 0 until the very end, where root is dropped for good.
#include "posix_common.h"

#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <sys/fsuid.h>
#include <sys/syscall.h>

static volatile int usr1_code = -99;
static volatile unsigned usr1_uid = 99;

static void on_usr1(int sig, siginfo_t *info, void *ctx)
{
	(void)sig;
	(void)ctx;
	usr1_code = info->si_code;
	usr1_uid = info->si_uid;
}

static void show_ids(const char *label)
{
	uid_t r = 9, e = 9, s = 9;
	gid_t rg = 9, eg = 9, sg = 9;
	getresuid(&r, &e, &s);
	getresgid(&rg, &eg, &sg);
	SAY(label, "uid %u %u %u gid %u %u %u", r, e, s, rg, eg, sg);
	SAY("  getuid/geteuid/getgid/getegid agree", "%s",
	    yes(getuid() == r && geteuid() == e && getgid() == rg && getegid() == eg));
}

static void show_groups(const char *label)
{
	gid_t g[16];
	int n = getgroups(16, g);
	char line[256] = "";
	size_t at = 0;
	for (int i = 0; i < n && at < sizeof line - 16; i++)
		at += (size_t)snprintf(line + at, sizeof line - at, " %u", g[i]);
	SAY(label, "%d:%s", n, line);
}

// The Uid:, Gid: and Groups: lines of /proc/self/status, as the kernel prints them.
static void show_status(const char *label)
{
	FILE *f = fopen("/proc/self/status", "r");
	if (!f) {
		SAY(label, "no /proc/self/status (%s)", errno_name(errno));
		return;
	}
	char line[512];
	while (fgets(line, sizeof line, f)) {
		if (!strncmp(line, "Uid:", 4) || !strncmp(line, "Gid:", 4) || !strncmp(line, "Groups:", 7)) {
			line[strcspn(line, "\n")] = 0;
			for (char *p = line; *p; p++)
				if (*p == '\t')
					*p = '|';
			SAY(label, "%s", line);
		}
	}
	fclose(f);
}

static void show_owner(const char *label, const char *path)
{
	struct stat st;
	if (stat(path, &st) != 0) {
		SAY(label, "stat failed (%s)", errno_name(errno));
		return;
	}
	SAY(label, "uid %u gid %u mode %o", st.st_uid, st.st_gid, st.st_mode & 07777);
}

int main(void)
{
	scratch_enter("creds");
	// Others may create files here once the effective uid is not 0.
	CHECK("chmod scratch 0777", chmod(".", 0777));

	show_ids("start");
	SAY("start is root", "%s", yes(geteuid() == 0));

	// Supplementary groups: sorted by the kernel, counted with size 0.
	gid_t set3[3] = {30, 10, 20};
	CHECK("setgroups 3", setgroups(3, set3));
	CHECK("getgroups(0, NULL)", getgroups(0, NULL));
	gid_t two[2];
	CHECK("getgroups too small", getgroups(2, two));
	CHECK("getgroups negative", getgroups(opaque(-1), two));
	show_groups("groups");
	CHECK("getgroups bad pointer", getgroups(3, bad_ptr()));
	CHECK("setgroups bad pointer", setgroups(2, bad_ptr()));
	CHECK("setgroups too many", syscall(SYS_setgroups, 65537, set3));
	CHECK("setgroups negative", syscall(SYS_setgroups, -1, set3));
	CHECK("setgroups 0", setgroups(0, NULL));
	show_groups("groups after clearing");
	CHECK("setgroups 3 again", setgroups(3, set3));
	show_status("status");

	// The calls that change nothing.
	CHECK("setresuid(-1,-1,-1)", setresuid(-1, -1, -1));
	CHECK("setreuid(-1,-1)", setreuid(-1, -1));
	CHECK("setuid(-1)", syscall(SYS_setuid, -1));
	CHECK("setgid(-1)", syscall(SYS_setgid, -1));
	CHECK("getresuid bad pointer", syscall(SYS_getresuid, bad_ptr(), bad_ptr(), bad_ptr()));
	CHECK("getresgid bad pointer", syscall(SYS_getresgid, bad_ptr(), bad_ptr(), bad_ptr()));

	// A new file belongs to the file-system ids, which follow the effective ones.
	CHECK("setresgid(-1,100,-1)", setresgid(-1, 100, -1));
	CHECK("setresuid(-1,1000,-1)", setresuid(-1, 1000, -1));
	show_ids("effective 1000/100");
	show_status("status");
	int fd = open("owned-1000", O_CREAT | O_WRONLY, 0640);
	SAY("create as euid 1000", "%s", yes(fd >= 0));
	if (fd >= 0)
		close(fd);
	show_owner("owned-1000", "owned-1000");
	CHECK("mkdir as euid 1000", mkdir("dir-1000", 0750));
	show_owner("dir-1000", "dir-1000");

	// Unprivileged: only the real, effective or saved ids.
	CHECK("setuid(2000) unprivileged", setuid(2000));
	CHECK("setresuid(2000,-1,-1) unprivileged", setresuid(2000, -1, -1));
	CHECK("setreuid(-1,2000) unprivileged", setreuid(-1, 2000));
	CHECK("setgroups unprivileged", setgroups(3, set3));
	CHECK("setgid(7) unprivileged", setgid(7));
	CHECK("setresgid(-1,-1,7) unprivileged", setresgid(-1, -1, 7));
	CHECK("setgid(0) unprivileged: the real gid", setgid(0));
	show_ids("after setgid(0)");
	CHECK("setresgid(-1,100,-1) back", setresgid(-1, 100, -1));
	CHECK("setfsuid(2000) unprivileged returns old", setfsuid(2000));
	CHECK("setfsuid(-1) reads it back", setfsuid(-1));

	// chown and chmod: only the owner (and only to its own groups), or root.
	CHECK("chown to another user", chown("owned-1000", 2000, -1));
	CHECK("chown to itself", chown("owned-1000", 1000, -1));
	CHECK("chgrp to a supplementary group", chown("owned-1000", -1, 20));
	CHECK("chgrp to a foreign group", chown("owned-1000", -1, 99));
	CHECK("chmod own file", chmod("owned-1000", 0600));
	show_owner("owned-1000 after chgrp and chmod", "owned-1000");

	// The saved id stays root: the way back.
	CHECK("setresuid(-1,-1,1000) to the effective id", setresuid(-1, -1, 1000));
	show_ids("saved 1000");
	CHECK("setuid(0): the real uid", setuid(0));
	show_ids("after setuid(0)");
	CHECK("chown as root", chown("owned-1000", 3000, 300));
	show_owner("owned-1000 after root's chown", "owned-1000");
	CHECK("chmod as root", chmod("owned-1000", 04755));
	CHECK("chown as root clears set-user-id", chown("owned-1000", 3000, -1));
	show_owner("owned-1000 after chown", "owned-1000");
	CHECK("setuid(0) as root", setuid(0));
	show_ids("root again");

	// The file-system id: root sets any; a change of the effective id resets it.
	CHECK("setfsuid(1234) as root returns old", setfsuid(1234));
	CHECK("setfsgid(4321) as root returns old", setfsgid(4321));
	CHECK("setfsuid(-1) reads 1234", setfsuid(-1));
	show_status("status with fsuid 1234");
	int fd3 = open("owned-fs", O_CREAT | O_WRONLY, 0600);
	if (fd3 >= 0)
		close(fd3);
	show_owner("owned-fs", "owned-fs");
	CHECK("setresuid(-1,0,-1)", setresuid(-1, 0, -1));
	CHECK("setresgid(-1,0,-1)", setresgid(-1, 0, -1));
	CHECK("setfsuid(-1) after setresuid", setfsuid(-1));
	CHECK("setfsgid(-1) after setresgid", setfsgid(-1));
	CHECK("setgid(5) as root", setgid(5));
	show_ids("after setgid(5)");
	CHECK("setgid(0) as root", setgid(0));

	// setreuid: setting the real id (or an effective one that is not the real one) saves the
	// new effective id.
	CHECK("setreuid(1000,2000)", setreuid(1000, 2000));
	show_ids("after setreuid(1000,2000)");
	CHECK("setreuid(-1,1000) unprivileged", setreuid(-1, 1000));
	show_ids("after setreuid(-1,1000)");
	CHECK("setreuid(2000,-1) unprivileged: the saved id is not allowed", setreuid(2000, -1));
	CHECK("setreuid(-1,2000) unprivileged: the saved id", setreuid(-1, 2000));
	show_ids("after setreuid(-1,2000)");
	CHECK("setuid(0) without any root id", setuid(0));
	// A signal carries the sender's real uid.
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = on_usr1;
	sa.sa_flags = SA_SIGINFO;
	sigaction(SIGUSR1, &sa, NULL);
	CHECK("kill self SIGUSR1", kill(getpid(), SIGUSR1));
	SAY("  si_code, si_uid", "%d %u", usr1_code, usr1_uid);

	CHECK("setfsuid(1000) to the real id", setfsuid(1000));
	CHECK("setfsuid(-1) after", setfsuid(-1));
	CHECK("setfsuid(5) foreign", setfsuid(5));
	CHECK("setfsuid(-1) unchanged", setfsuid(-1));
	show_status("status without root");
	CHECK("setgroups without root", setgroups(0, NULL));
	CHECK("setresgid(0,0,0) without root", setresgid(0, 0, 0));
	int fd2 = open("owned-1000", O_RDONLY);
	SAY("open after giving up root", "%s", yes(fd2 >= 0));
	if (fd2 >= 0)
		close(fd2);

	// The scratch dir belongs to root: leave it without removing (the runner removes it).
	if (chdir("/") != 0)
		die("chdir /");
	printf("== creds done: %d checks\n", posix_checks);
	return 0;
}
