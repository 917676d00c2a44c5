// SPDX-License-Identifier: MIT
// File permissions once a program is not root: the owner's, group's and others' bits for
// open, search permission on every directory of a path, write and search permission to make
// and remove entries, the sticky bit, utimensat and truncate rules, access() with the real ids
// (AT_EACCESS: the effective ones), and root's overrides (lost with a non-root fs uid).
// Runs as root and switches only the effective and file-system ids, so root comes back.
#include "posix_common.h"

#include <fcntl.h>
#include <grp.h>
#include <sys/fsuid.h>
#include <sys/syscall.h>
#include <time.h>

static void make(const char *path, int mode, unsigned uid, unsigned gid)
{
	int fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0600);
	if (fd < 0 || write(fd, "data\n", 5) != 5 || close(fd) != 0 || chown(path, uid, gid) != 0 ||
	    chmod(path, (mode_t)mode) != 0)
		die(path);
}

static int opened(const char *path, int flags)
{
	int fd = open(path, flags, 0644);
	if (fd >= 0)
		close(fd);
	return fd >= 0 ? 0 : -1;
}

static void as(uid_t euid)
{
	if (setresuid(-1, euid, -1) != 0)
		die("setresuid");
}

int main(void)
{
	scratch_enter("perms");
	CHECK("chmod scratch 0777", chmod(".", 0777));
	gid_t groups[1] = {100};
	CHECK("setgroups {100}", setgroups(1, groups));
	make("secret", 0600, 0, 0);
	make("readable", 0644, 0, 0);
	make("group-rw", 0660, 0, 100);
	make("owner-none", 0066, 1000, 100); // the owner's bits rule, not the group's
	make("script", 0700, 0, 0);
	CHECK("mkdir closed", mkdir("closed", 0700));
	make("closed/f", 0644, 0, 0);
	CHECK("mkdir sticky", mkdir("sticky", 0777));
	CHECK("chmod sticky 01777", chmod("sticky", 01777));
	make("sticky/roots", 0666, 0, 0);

	// Root: everything but executing a file nobody may execute.
	CHECK("root: open secret rw", opened("secret", O_RDWR));
	CHECK("root: access readable X_OK", access("readable", X_OK));
	CHECK("root: access script X_OK", access("script", X_OK));
	CHECK("root: access closed R|W|X", access("closed", R_OK | W_OK | X_OK));

	as(1000);
	CHECK("1000: open secret r", opened("secret", O_RDONLY));
	CHECK("1000: open readable r", opened("readable", O_RDONLY));
	CHECK("1000: open readable w", opened("readable", O_WRONLY));
	CHECK("1000: open readable r with O_TRUNC", opened("readable", O_RDONLY | O_TRUNC));
	CHECK("1000: open group-rw rw (group 100)", opened("group-rw", O_RDWR));
	CHECK("1000: open owner-none r (owner bits ---)", opened("owner-none", O_RDONLY));
	CHECK("1000: open closed/f (no search)", opened("closed/f", O_RDONLY));
	struct stat st;
	CHECK("1000: stat closed/f", stat("closed/f", &st));
	CHECK("1000: stat closed itself", stat("closed", &st));
	CHECK("1000: chdir closed", chdir("closed"));
	CHECK("1000: open closed as a directory", opened("closed", O_RDONLY | O_DIRECTORY));
	CHECK("1000: create in closed", open("closed/new", O_CREAT | O_WRONLY, 0644));
	CHECK("1000: mkdir in closed", mkdir("closed/d", 0755));
	CHECK("1000: unlink closed/f", unlink("closed/f"));
	CHECK("1000: create mine", opened("mine", O_CREAT | O_WRONLY));
	CHECK("1000: truncate readable", truncate("readable", 0));
	CHECK("1000: truncate mine", truncate("mine", 0));
	struct timespec ts[2] = {{1000000000, 0}, {1000000000, 0}};
	CHECK("1000: utimensat a time on readable", utimensat(AT_FDCWD, "readable", ts, 0));
	CHECK("1000: utimensat now on readable", utimensat(AT_FDCWD, "readable", NULL, 0));
	CHECK("1000: utimensat now on group-rw (writable)", utimensat(AT_FDCWD, "group-rw", NULL, 0));
	CHECK("1000: utimensat a time on mine", utimensat(AT_FDCWD, "mine", ts, 0));
	CHECK("1000: open /proc/self/fd", opened("/proc/self/fd", O_RDONLY | O_DIRECTORY));

	// The sticky bit: only one's own entries go.
	CHECK("1000: unlink sticky/roots", unlink("sticky/roots"));
	CHECK("1000: rename sticky/roots", rename("sticky/roots", "taken"));
	CHECK("1000: create sticky/mine", opened("sticky/mine", O_CREAT | O_WRONLY));
	CHECK("1000: rename sticky/mine", rename("sticky/mine", "sticky/mine2"));
	CHECK("1000: unlink sticky/mine2", unlink("sticky/mine2"));
	CHECK("1000: rename readable over mine (scratch is 0777)", rename("readable", "mine"));
	CHECK("1000: rename mine back", rename("mine", "readable"));

	// access() asks for the real uid (still 0); AT_EACCESS for the effective one.
	CHECK("1000: access secret R_OK (real uid 0)", access("secret", R_OK));
	CHECK("1000: faccessat secret R_OK AT_EACCESS", faccessat(AT_FDCWD, "secret", R_OK, AT_EACCESS));
	CHECK("1000: faccessat closed/f F_OK AT_EACCESS", faccessat(AT_FDCWD, "closed/f", F_OK, AT_EACCESS));
	CHECK("1000: faccessat group-rw W_OK AT_EACCESS", faccessat(AT_FDCWD, "group-rw", W_OK, AT_EACCESS));

	// Back to root; then a root effective id with a real uid of 1000, and a root with a
	// file-system uid of 1000 (which drops root's file overrides).
	as(0);
	CHECK("root: open secret r", opened("secret", O_RDONLY));
	CHECK("setresuid(1000,0,0)", setresuid(1000, 0, 0));
	CHECK("real 1000: access secret R_OK", access("secret", R_OK));
	CHECK("real 1000: faccessat secret R_OK AT_EACCESS", faccessat(AT_FDCWD, "secret", R_OK, AT_EACCESS));
	CHECK("real 1000: open secret r", opened("secret", O_RDONLY));
	CHECK("setresuid(0,-1,-1)", setresuid(0, -1, -1));
	CHECK("setfsuid(1000)", setfsuid(1000));
	CHECK("fs 1000: open secret r", opened("secret", O_RDONLY));
	CHECK("fs 1000: open closed/f", opened("closed/f", O_RDONLY));
	CHECK("setfsuid(0)", setfsuid(0));
	CHECK("root again: open closed/f", opened("closed/f", O_RDONLY));

	scratch_leave("perms");
	return 0;
}
