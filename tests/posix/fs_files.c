// SPDX-License-Identifier: MIT
// File system, regular files: open flags, I/O calls, offsets, holes, truncation, stat,
// in-kernel copies and timestamps. Expected values are whatever Linux does; the host run of
// this same program is the reference the Atoll image is diffed against.
#include "posix_common.h"

#include <fcntl.h>
#include <sys/sendfile.h>
#include <sys/uio.h>

// Reads the whole (small) file back so content checks print a short string, not bytes.
static void show_content(const char *label, const char *path)
{
	char buf[64] = {0};
	int fd = open(path, O_RDONLY);
	ssize_t n = fd >= 0 ? read(fd, buf, sizeof buf - 1) : -1;
	for (ssize_t i = 0; i < n; i++)
		if (buf[i] == 0)
			buf[i] = '.'; // holes read as NUL bytes; show them as '.'
	SAY(label, "%zd \"%s\"", n, n > 0 ? buf : "");
	if (fd >= 0)
		close(fd);
}

static long file_size(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 ? (long)st.st_size : -1;
}

int main(void)
{
	scratch_enter("fs_files");
	char buf[64];

	// open/openat and their error codes.
	int fd = open("a.txt", O_CREAT | O_WRONLY, 0644);
	CHECK("open O_CREAT new", fd >= 0 ? 0 : -1);
	CHECK("write 5", write(fd, "hello", 5));
	CHECK("close", close(fd));
	CHECK("close again", close(fd)); // a closed fd is just a bad fd
	CHECK("open O_CREAT|O_EXCL existing", open("a.txt", O_CREAT | O_EXCL | O_WRONLY, 0644));
	CHECK("open missing", open("missing.txt", O_RDONLY));
	CHECK("open missing/child", open("missing/child", O_RDONLY));
	CHECK("open a.txt/child (file as dir)", open("a.txt/child", O_RDONLY));
	CHECK("open O_DIRECTORY on file", open("a.txt", O_RDONLY | O_DIRECTORY));
	CHECK("open O_DIRECTORY on dir", (fd = open(".", O_RDONLY | O_DIRECTORY)) >= 0 ? 0 : -1);
	CHECK("openat dirfd relative", openat(fd, "a.txt", O_RDONLY) >= 0 ? 0 : -1);
	CHECK("openat bad dirfd", openat(9999, "a.txt", O_RDONLY));
	CHECK("open dir O_WRONLY", open(".", O_WRONLY));
	close(fd);

	fd = open("a.txt", O_RDONLY);
	CHECK("write on O_RDONLY fd", write(fd, "x", 1));
	CHECK("ftruncate on O_RDONLY fd", ftruncate(fd, 0));
	CHECK("read 3", read(fd, buf, 3));
	CHECK("lseek SEEK_CUR 0", lseek(fd, 0, SEEK_CUR));
	CHECK("pread 2 at 3", pread(fd, buf, 2, 3));
	SAY("pread data", "%.2s", buf);
	CHECK("offset unchanged by pread", lseek(fd, 0, SEEK_CUR));
	CHECK("lseek SEEK_END -1", lseek(fd, -1, SEEK_END));
	CHECK("lseek SEEK_SET 1", lseek(fd, 1, SEEK_SET));
	CHECK("lseek SEEK_CUR +2", lseek(fd, 2, SEEK_CUR));
	CHECK("lseek negative result", lseek(fd, -10, SEEK_SET));
	CHECK("offset after failed lseek", lseek(fd, 0, SEEK_CUR));
	CHECK("lseek bad whence", lseek(fd, 0, 77));
	CHECK("read at EOF", (lseek(fd, 0, SEEK_END), read(fd, buf, 8)));
	close(fd);

	// O_TRUNC and O_APPEND.
	fd = open("a.txt", O_WRONLY | O_TRUNC);
	CHECK("size after O_TRUNC", file_size("a.txt"));
	CHECK("write abc", write(fd, "abc", 3));
	close(fd);
	fd = open("a.txt", O_WRONLY | O_APPEND);
	CHECK("lseek 0 on O_APPEND fd", lseek(fd, 0, SEEK_SET));
	CHECK("write def with O_APPEND", write(fd, "def", 3));
	CHECK("offset after append", lseek(fd, 0, SEEK_CUR));
	close(fd);
	show_content("content after append", "a.txt");

	// pwrite, readv/writev.
	fd = open("a.txt", O_RDWR);
	CHECK("pwrite XY at 1", pwrite(fd, "XY", 2, 1));
	CHECK("offset unchanged by pwrite", lseek(fd, 0, SEEK_CUR));
	CHECK("pwrite negative offset", pwrite(fd, "Z", 1, -1));
	struct iovec wv[3] = {{"12", 2}, {"", 0}, {"345", 3}};
	CHECK("writev 2+0+3", (lseek(fd, 0, SEEK_END), writev(fd, wv, 3)));
	char r1[4] = {0}, r2[16] = {0};
	struct iovec rv[2] = {{r1, 3}, {r2, sizeof r2 - 1}};
	CHECK("readv from 0", (lseek(fd, 0, SEEK_SET), readv(fd, rv, 2)));
	SAY("readv data", "%s|%s", r1, r2);
	CHECK("readv iovcnt -1", readv(fd, rv, opaque(-1)));

	// A seek past the end followed by a write leaves a hole that reads as zeros.
	CHECK("lseek past end to 15", lseek(fd, 15, SEEK_SET));
	CHECK("size unchanged by lseek", file_size("a.txt"));
	CHECK("write at 15", write(fd, "E", 1));
	CHECK("size after hole write", file_size("a.txt"));
	show_content("content with hole", "a.txt");

	// ftruncate grows with zeros and shrinks.
	CHECK("ftruncate grow to 20", ftruncate(fd, 20));
	CHECK("size after grow", file_size("a.txt"));
	CHECK("ftruncate shrink to 4", ftruncate(fd, 4));
	CHECK("size after shrink", file_size("a.txt"));
	CHECK("ftruncate negative", ftruncate(fd, -1));
	CHECK("ftruncate grow to 6", ftruncate(fd, 6));
	show_content("content after shrink+grow", "a.txt");
	CHECK("offset kept after truncate", lseek(fd, 0, SEEK_CUR));
	CHECK("fsync", fsync(fd));
	CHECK("fdatasync", fdatasync(fd));

	// stat family.
	struct stat st;
	CHECK("fstat", fstat(fd, &st));
	SAY("fstat size/reg/nlink", "%ld %s %ld", (long)st.st_size, yes(S_ISREG(st.st_mode)),
	    (long)st.st_nlink);
	CHECK("link a.txt b.txt", link("a.txt", "b.txt"));
	CHECK("stat b.txt", stat("b.txt", &st));
	SAY("nlink after link", "%ld", (long)st.st_nlink);
	CHECK("unlink b.txt", unlink("b.txt"));
	CHECK("fstatat AT_FDCWD", fstatat(AT_FDCWD, "a.txt", &st, 0));
	SAY("fstatat nlink", "%ld", (long)st.st_nlink);
	CHECK("stat .", stat(".", &st));
	SAY("stat . is dir", "%s", yes(S_ISDIR(st.st_mode)));
	CHECK("stat missing", stat("missing", &st));
	CHECK("stat empty path", stat("", &st));
	CHECK("fstat bad fd", fstat(9999, &st));

	// Bad fds and bad pointers.
	int dead = dup(fd);
	close(dead);
	CHECK("read closed fd", read(dead, buf, 1));
	CHECK("write closed fd", write(dead, buf, 1));
	CHECK("read fd -1", read(-1, buf, 1));
	CHECK("write bad pointer", write(fd, bad_ptr(), 10));
	CHECK("read into bad pointer", (lseek(fd, 0, SEEK_SET), read(fd, bad_ptr(), 4)));
	CHECK("write 0 bytes", write(fd, buf, 0));
	close(fd);

	// sendfile and copy_file_range between two regular files.
	int in = open("src.txt", O_CREAT | O_RDWR | O_TRUNC, 0644);
	CHECK("write src", write(in, "0123456789", 10));
	int out = open("dst.txt", O_CREAT | O_RDWR | O_TRUNC, 0644);
	off_t off = 2;
	CHECK("sendfile 4 from offset 2", sendfile(out, in, &off, 4));
	SAY("sendfile updated offset", "%ld", (long)off);
	CHECK("src offset untouched", lseek(in, 0, SEEK_CUR));
	off = 8;
	CHECK("sendfile from offset 8 (short)", sendfile(out, in, &off, 100));
	show_content("dst after sendfile", "dst.txt");
	loff_t ioff = 0, ooff = 0;
	CHECK("copy_file_range 5", copy_file_range(in, &ioff, out, &ooff, 5, 0));
	SAY("copy_file_range offsets", "%ld %ld", (long)ioff, (long)ooff);
	CHECK("copy_file_range bad flags", copy_file_range(in, &ioff, out, &ooff, 5, 1));
	show_content("dst after copy_file_range", "dst.txt");
	CHECK("sendfile bad in fd", sendfile(out, 9999, NULL, 1));
	close(in);
	close(out);

	// utimensat: the times we set are the times stat reports, to the nanosecond.
	struct timespec ts[2] = {{1000000000, 111111111}, {1234567890, 123456789}};
	CHECK("utimensat", utimensat(AT_FDCWD, "a.txt", ts, 0));
	CHECK("stat after utimensat", stat("a.txt", &st));
	SAY("atime", "%ld.%09ld", (long)st.st_atim.tv_sec, st.st_atim.tv_nsec);
	SAY("mtime", "%ld.%09ld", (long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
	struct timespec bad[2] = {{0, 1000000000}, {0, 0}};
	CHECK("utimensat tv_nsec 1e9", utimensat(AT_FDCWD, "a.txt", bad, 0));
	struct timespec omit[2] = {{0, UTIME_OMIT}, {5, 6}};
	CHECK("utimensat UTIME_OMIT atime", utimensat(AT_FDCWD, "a.txt", omit, 0));
	CHECK("stat after UTIME_OMIT", stat("a.txt", &st));
	SAY("atime kept / mtime", "%ld.%09ld %ld.%09ld", (long)st.st_atim.tv_sec,
	    st.st_atim.tv_nsec, (long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
	CHECK("utimensat missing", utimensat(AT_FDCWD, "missing", ts, 0));

	// fallocate: growing, keeping the size, punching a hole; errors.
	int fa = open("fa", O_RDWR | O_CREAT | O_TRUNC, 0644);
	CHECK("fallocate 10000", fallocate(fa, 0, 0, 10000));
	fstat(fa, &st);
	SAY("size after fallocate", "%lld", (long long)st.st_size);
	SAY("posix_fallocate past the end", "%d", posix_fallocate(fa, 12000, 100));
	fstat(fa, &st);
	SAY("size after posix_fallocate", "%lld", (long long)st.st_size);
	CHECK("fallocate KEEP_SIZE past the end", fallocate(fa, FALLOC_FL_KEEP_SIZE, 20000, 10));
	fstat(fa, &st);
	SAY("size kept", "%lld", (long long)st.st_size);
	pwrite(fa, "abcdef", 6, 0);
	CHECK("fallocate PUNCH_HOLE", fallocate(fa, FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE, 1, 3));
	char hole[6];
	pread(fa, hole, 6, 0);
	SAY("after the hole", "%c %d %d %d %c %c", hole[0], hole[1], hole[2], hole[3], hole[4], hole[5]);
	CHECK("fallocate PUNCH_HOLE without KEEP_SIZE", fallocate(fa, FALLOC_FL_PUNCH_HOLE, 0, 1));
	CHECK("fallocate len 0", fallocate(fa, 0, 0, 0));
	CHECK("fallocate offset -1", fallocate(fa, 0, -1, 10));
	close(fa);
	fa = open("fa", O_RDONLY);
	CHECK("fallocate on O_RDONLY", fallocate(fa, 0, 0, 10));
	close(fa);
	int fp[2];
	pipe(fp);
	CHECK("fallocate on a pipe", fallocate(fp[1], 0, 0, 10));
	close(fp[0]);
	close(fp[1]);
	CHECK("fallocate on a bad fd", fallocate(opaque(999), 0, 0, 10));

	scratch_leave("fs_files");
	return 0;
}
