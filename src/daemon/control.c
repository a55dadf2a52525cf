/*
 * control.c: a unix stream socket, one request and one answer each.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "daemon/control.h"

static int
fill_addr(const char *path, struct sockaddr_un *sun)
{
	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun->sun_path))
		return -ENAMETOOLONG;
	strcpy(sun->sun_path, path);
	return 0;
}

/* The directory of the socket: created 0700 if missing. */
static int
make_parent(const char *path)
{
	char *dir = xstrdup(path), *slash = strrchr(dir, '/');
	int r = 0;

	if (slash && slash != dir) {
		*slash = '\0';
		if (mkdir(dir, 0700) < 0 && errno != EEXIST)
			r = -errno;
	}
	free(dir);
	return r;
}

int
control_listen(const char *path)
{
	struct sockaddr_un sun;
	mode_t old;
	int fd, r;

	r = fill_addr(path, &sun);
	if (r < 0)
		return r;
	r = make_parent(path);
	if (r < 0)
		return r;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;

	/* A stale socket of an earlier run is in the way. */
	unlink(path);
	old = umask(0177);
	r = bind(fd, (struct sockaddr *)&sun, sizeof(sun));
	umask(old);
	if (r < 0 || chmod(path, 0600) < 0 || listen(fd, 16) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	return fd;
}

int
control_read_request(int fd, char *buf, size_t size)
{
	struct timeval tv = { 0, 500000 };
	size_t len = 0;
	char *nl;
	ssize_t n;

	/* A slow or silent client must not hold the daemon up. */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0)
		return -errno;
	while (len < size - 1) {
		n = read(fd, buf + len, size - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		len += (size_t)n;
		if (memchr(buf, '\n', len))
			break;
	}
	buf[len] = '\0';
	nl = memchr(buf, '\n', len);
	if (!nl)
		return len == size - 1 ? -EMSGSIZE : -EBADMSG;
	*nl = '\0';
	/* A NUL or CR before the newline: not a request of ours. */
	if (strlen(buf) != (size_t)(nl - buf) || strchr(buf, '\r'))
		return -EBADMSG;
	return 0;
}

static int
write_all(int fd, const char *p, size_t len)
{
	ssize_t n;

	while (len > 0) {
		n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

void
control_answer(int fd, int status, const char *text, size_t len)
{
	struct timeval tv = { 2, 0 };
	char head[16];
	int flags;

	/* Blocking with a bound: a client that stops reading is dropped. */
	flags = fcntl(fd, F_GETFL);
	if (flags >= 0)
		fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	snprintf(head, sizeof(head), "%d\n", status);
	if (write_all(fd, head, strlen(head)) == 0)
		write_all(fd, text, len);
}

int
control_call(const char *path, const char *request)
{
	struct sockaddr_un sun;
	struct strbuf sb;
	char buf[65536], *nl;
	int fd, r, status;
	ssize_t n;

	r = fill_addr(path, &sun);
	if (r < 0)
		return r;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0 ||
	    write_all(fd, request, strlen(request)) < 0 ||
	    write_all(fd, "\n", 1) < 0) {
		r = -errno;
		close(fd);
		return r;
	}

	strbuf_init(&sb);
	while ((n = read(fd, buf, sizeof(buf))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 || sb.len > CONTROL_MAX_ANSWER)
			break;
		strbuf_add(&sb, buf, (size_t)n);
	}
	close(fd);

	nl = strchr(sb.buf, '\n');
	if (!nl || sscanf(sb.buf, "%d", &status) != 1) {
		strbuf_free(&sb);
		return -EBADMSG;
	}
	fputs(nl + 1, status == 0 ? stdout : stderr);
	strbuf_free(&sb);
	return status;
}
