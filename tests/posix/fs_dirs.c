// SPDX-License-Identifier: MIT
// File system, directories and names: mkdir/rmdir/unlink/rename error codes, directory
// listing, the working directory, access checks, symlinks, umask and name length limits.
#include "posix_common.h"

#include <fcntl.h>
#include <limits.h>
#include <sys/syscall.h>

#ifndef RENAME_NOREPLACE // musl 1.2.3 has neither the constant nor a renameat2() wrapper
#define RENAME_NOREPLACE (1 << 0)
#endif

static char base[1024]; // the scratch dir as getcwd() spells it (resolves symlinks)

static void touch(const char *path, const char *content)
{
	int fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0644);
	if (fd < 0 || write(fd, content, strlen(content)) < 0)
		die("touch");
	close(fd);
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

// Lists a directory in sorted order: the order readdir returns is file-system specific.
static void list_dir(const char *label, const char *path)
{
	char *names[64];
	int n = 0;
	DIR *d = opendir(path);
	if (!d) {
		SAY(label, "opendir failed %s", errno_name(errno));
		return;
	}
	struct dirent *e;
	while ((e = readdir(d)) != NULL && n < 64)
		names[n++] = strdup(e->d_name);
	closedir(d);
	qsort(names, n, sizeof names[0], cmp_names);
	posix_checks++;
	printf("%s:", label);
	for (int i = 0; i < n; i++) {
		printf(" %s", names[i]);
		free(names[i]);
	}
	printf("\n");
}

// Prints the cwd relative to the scratch dir, never the host path.
static void show_cwd(const char *label)
{
	char buf[1024];
	if (!getcwd(buf, sizeof buf)) {
		SAY(label, "getcwd failed %s", errno_name(errno));
		return;
	}
	size_t n = strlen(base);
	if (strncmp(buf, base, n) != 0)
		SAY(label, "outside scratch");
	else
		SAY(label, ".%s", buf + n);
}

int main(void)
{
	scratch_enter("fs_dirs");
	if (!getcwd(base, sizeof base))
		die("getcwd");
	struct stat st;

	// mkdir / mkdirat.
	CHECK("mkdir d", mkdir("d", 0755));
	CHECK("mkdir d again", mkdir("d", 0755));
	CHECK("mkdir missing/parent", mkdir("missing/x", 0755));
	touch("f", "file");
	CHECK("mkdir under a file", mkdir("f/x", 0755));
	int dfd = open("d", O_RDONLY | O_DIRECTORY);
	CHECK("mkdirat dirfd sub", mkdirat(dfd, "sub", 0755));
	CHECK("mkdirat dirfd sub again", mkdirat(dfd, "sub", 0755));
	CHECK("stat d/sub", stat("d/sub", &st));
	SAY("d/sub is dir", "%s", yes(S_ISDIR(st.st_mode)));
	CHECK("mkdir trailing slash", mkdir("e/", 0755));
	CHECK("stat file with trailing slash", stat("f/", &st));

	// Listing.
	touch("d/one", "1");
	touch("d/two", "22");
	list_dir("list d", "d");
	list_dir("list d/sub", "d/sub");
	list_dir("list .", ".");
	CHECK("opendir on a file", opendir("f") ? 0 : -1);
	char dents[8];
	CHECK("getdents64 tiny buffer", syscall(SYS_getdents64, dfd, dents, sizeof dents));
	int ffd = open("f", O_RDONLY);
	CHECK("getdents64 on a file", syscall(SYS_getdents64, ffd, dents, sizeof dents));
	close(ffd);

	// rmdir / unlink.
	CHECK("rmdir non-empty", rmdir("d"));
	CHECK("rmdir a file", rmdir("f"));
	CHECK("rmdir missing", rmdir("missing"));
	CHECK("rmdir .", rmdir("d/sub/."));
	CHECK("unlink a dir", unlink("d/sub"));
	CHECK("unlink missing", unlink("missing"));
	CHECK("unlinkat AT_REMOVEDIR on file", unlinkat(AT_FDCWD, "f", AT_REMOVEDIR));
	CHECK("unlinkat AT_REMOVEDIR on dir", unlinkat(dfd, "sub", AT_REMOVEDIR));
	CHECK("rmdir e", rmdir("e"));
	CHECK("unlink d/one", unlink("d/one"));
	list_dir("list d after removals", "d");

	// rename / renameat2.
	touch("r1", "first");
	touch("r2", "second");
	CHECK("rename r1 -> r3", rename("r1", "r3"));
	CHECK("stat r1 after rename", stat("r1", &st));
	CHECK("rename missing", rename("missing", "x"));
	CHECK("rename r3 over r2", rename("r3", "r2"));
	CHECK("r2 size (first)", (stat("r2", &st), (long)st.st_size));
	CHECK("rename onto itself", rename("r2", "r2"));
	touch("r4", "x");
	CHECK("renameat2 NOREPLACE existing",
	      syscall(SYS_renameat2, AT_FDCWD, "r4", AT_FDCWD, "r2", RENAME_NOREPLACE));
	CHECK("renameat2 NOREPLACE new",
	      syscall(SYS_renameat2, AT_FDCWD, "r4", AT_FDCWD, "r5", RENAME_NOREPLACE));
	CHECK("renameat2 bad flags", syscall(SYS_renameat2, AT_FDCWD, "r5", AT_FDCWD, "r6", 0x80));
	mkdir("empty", 0755);
	mkdir("full", 0755);
	touch("full/x", "x");
	CHECK("rename file over dir", rename("r2", "empty"));
	CHECK("rename dir over file", rename("empty", "r2"));
	CHECK("rename dir over non-empty dir", rename("empty", "full"));
	CHECK("rename dir into itself", rename("full", "full/inner"));
	CHECK("rename dir over empty dir", rename("full", "empty"));
	list_dir("list after renames", ".");
	list_dir("list empty (was full)", "empty");

	// Working directory.
	show_cwd("cwd at start");
	CHECK("chdir d", chdir("d"));
	show_cwd("cwd after chdir d");
	CHECK("chdir ..", chdir(".."));
	CHECK("fchdir dirfd", fchdir(dfd));
	show_cwd("cwd after fchdir");
	CHECK("chdir a file", chdir("../r2"));
	CHECK("chdir missing", chdir("missing"));
	CHECK("chdir back", chdir(base));
	char small[2];
	CHECK("getcwd size 1", getcwd(small, 1) ? 0 : -1);
	CHECK("fchdir on a file", fchdir(open("r2", O_RDONLY)));

	// access / faccessat.
	CHECK("access F_OK file", access("r2", F_OK));
	CHECK("access R_OK|W_OK file", access("r2", R_OK | W_OK));
	CHECK("access missing", access("missing", F_OK));
	CHECK("access file/child", access("r2/x", F_OK));
	CHECK("faccessat dirfd", faccessat(AT_FDCWD, "empty/x", F_OK, 0));
	CHECK("faccessat bad mode", faccessat(AT_FDCWD, "r2", 0x100, 0));

	// Symlinks and readlink.
	char lbuf[64];
	CHECK("readlink a file", readlink("r2", lbuf, sizeof lbuf));
	CHECK("readlink missing", readlink("missing", lbuf, sizeof lbuf));
	CHECK("symlink", symlink("r2", "ln"));
	CHECK("symlink existing", symlink("r2", "ln"));
	CHECK("readlink symlink", readlink("ln", lbuf, sizeof lbuf));
	CHECK("readlink truncated", readlink("ln", lbuf, 1));
	CHECK("lstat ln", lstat("ln", &st));
	SAY("lstat is link", "%s", yes(S_ISLNK(st.st_mode)));
	CHECK("stat ln follows", stat("ln", &st));
	SAY("stat ln is reg", "%s", yes(S_ISREG(st.st_mode)));
	CHECK("symlink dangling", symlink("nowhere", "dl"));
	CHECK("stat dangling", stat("dl", &st));
	CHECK("open O_NOFOLLOW on link", open("ln", O_RDONLY | O_NOFOLLOW));

	// umask: only values we set are printed; the inherited umask differs between hosts.
	umask(022);
	SAY("umask(077) returns previous", "%03o", (unsigned)umask(077));
	SAY("umask(077) again", "%03o", (unsigned)umask(077));
	CHECK("mkdir 0777 under umask 077", mkdir("um", 0777));
	CHECK("stat um", stat("um", &st));
	SAY("mode of um", "%03o", (unsigned)(st.st_mode & 07777));
	touch("uf", "");
	CHECK("stat file created 0644 under 077", stat("uf", &st));
	SAY("mode of uf", "%03o", (unsigned)(st.st_mode & 07777));
	umask(022);

	// Name length limits: NAME_MAX (255) per component, PATH_MAX (4096) per path.
	char name[300];
	memset(name, 'n', sizeof name);
	name[NAME_MAX] = 0;
	int fd = open(name, O_CREAT | O_WRONLY, 0644);
	CHECK("create 255-char name", fd >= 0 ? 0 : -1);
	close(fd);
	CHECK("unlink 255-char name", unlink(name));
	name[NAME_MAX] = 'n';
	name[NAME_MAX + 1] = 0;
	CHECK("create 256-char name", open(name, O_CREAT | O_WRONLY, 0644));
	CHECK("mkdir 256-char name", mkdir(name, 0755));
	CHECK("stat 256-char name", stat(name, &st));
	static char longpath[PATH_MAX + 8];
	for (int i = 0; i < PATH_MAX + 4; i += 2)
		memcpy(longpath + i, "a/", 2);
	longpath[PATH_MAX + 4] = 0;
	CHECK("stat path longer than PATH_MAX", stat(longpath, &st));

	scratch_leave("fs_dirs");
	return 0;
}
