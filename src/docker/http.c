/*
 * http.c: HTTP/1.1 GETs to the Docker Engine API over its unix socket.
 *
 * Only what a server owes a plain GET is understood: a status line, the
 * headers (of which Content-Length and Transfer-Encoding matter), and a
 * body framed by its length, by chunks, or by the end of the connection.
 * Anything else is refused as -EPROTO rather than guessed at.
 */
#include <errno.h>
#include <jansson.h>
#include <poll.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "docker/docker.h"
#include "docker/http.h"
#include "util.h"

#define CONNECT_RETRY_MS	20	/* after a full listen queue */
#define SHOW			64	/* untrusted text in a message */

/*
 * Set *ret_error to "GET PATH from Docker at SOCKET: WHY" and return r.
 * The query is left out: the event filter would fill half the line.
 */
static int __attribute__((format(printf, 4, 5)))
http_fail(const struct docker_http *h, int r, char **ret_error,
	const char *fmt, ...)
{
	struct strbuf sb;
	va_list ap;

	strbuf_init(&sb);
	strbuf_printf(&sb, "GET %.*s from Docker at %s: ",
	    (int)strcspn(h->path, "?"), h->path, h->socket_path);
	va_start(ap, fmt);
	strbuf_vprintf(&sb, fmt, ap);
	va_end(ap);
	*ret_error = sb.buf;
	return r;
}

void
docker_printable(const char *s, size_t len, char *buf, size_t size)
{
	size_t i, n = 0;

	for (i = 0; i < len && n + 1 < size; i++) {
		unsigned char c = (unsigned char)s[i];

		buf[n++] = (c >= ' ' && c < 0x7f) ? (char)c : '?';
	}
	if (i < len)
		memcpy(buf + size - 4, "...", 4);
	else
		buf[n] = '\0';
}

/* ---- waiting, receiving, lines ---- */

/* Milliseconds left before the deadline: -1 for none, 0 when passed. */
static int
time_left(const struct docker_http *h)
{
	long long left;

	if (!h->deadline)
		return -1;
	left = h->deadline - (long long)monotonic_ms();
	return left > 0 ? (int)left : 0;
}

/* Wait until the socket is ready for events, the deadline, or the wake fd. */
static int
http_wait(struct docker_http *h, short events, char **ret_error)
{
	struct pollfd pfd[2] = {
		{ .fd = h->fd, .events = events },
		{ .fd = h->wake_fd, .events = POLLIN },	/* -1: ignored */
	};
	int n, left, e;

	for (;;) {
		left = time_left(h);
		if (left == 0)
			return http_fail(h, -ETIMEDOUT, ret_error, "no "
			    "complete answer within %d s",
			    DOCKER_LIST_TIMEOUT_MS / 1000);
		n = poll(pfd, 2, left);
		if (n < 0 && errno != EINTR) {
			e = errno;
			return http_fail(h, -e, ret_error, "poll: %s",
			    strerror(e));
		}
		if (n > 0 && pfd[1].revents)
			return http_fail(h, -ECANCELED, ret_error, "stopped");
		if (n > 0 && pfd[0].revents)
			return 0;
	}
}

/*
 * Receive what the server has sent, after what is buffered.  Returns the
 * number of bytes, 0 when the server has closed, or a negative errno.
 */
static int
http_fill(struct docker_http *h, char **ret_error)
{
	ssize_t n;
	int r, e;

	if (h->off > 0) {
		memmove(h->buf, h->buf + h->off, h->len - h->off);
		h->len -= h->off;
		h->off = 0;
	}
	if (h->len == sizeof(h->buf)) {
		/* Lines are bounded well below the buffer: a bug. */
		return http_fail(h, -EPROTO, ret_error, "internal error: "
		    "receive buffer full");
	}
	for (;;) {
		n = recv(h->fd, h->buf + h->len, sizeof(h->buf) - h->len, 0);
		if (n >= 0) {
			h->len += (size_t)n;
			return (int)n;
		}
		e = errno;
		if (e == EINTR)
			continue;
		if (e != EAGAIN && e != EWOULDBLOCK)
			return http_fail(h, -EPROTO, ret_error, "%s",
			    strerror(e));
		r = http_wait(h, POLLIN, ret_error);
		if (r < 0)
			return r;
	}
}

/*
 * The next line, without its LF and a CR before it, NUL-terminated in
 * line (max + 1 bytes), its length in *ret_len.  A longer line, a NUL in
 * it, or the end of the stream before its LF is -EPROTO; what names the
 * line in the message.
 */
static int
http_line(struct docker_http *h, char *line, size_t max, size_t *ret_len,
	const char *what, char **ret_error)
{
	const char *start, *nl;
	size_t n;
	int got;

	for (;;) {
		start = h->buf + h->off;
		nl = memchr(start, '\n', h->len - h->off);
		if (nl)
			break;
		if (h->len - h->off > max + 1)
			break;
		got = http_fill(h, ret_error);
		if (got < 0)
			return got;
		if (got == 0)
			return http_fail(h, -EPROTO, ret_error, "transfer "
			    "closed in the middle of %s", what);
	}
	n = nl ? (size_t)(nl - start) : h->len - h->off;
	if (n > 0 && start[n - 1] == '\r')
		n--;
	if (!nl || n > max)
		return http_fail(h, -EPROTO, ret_error, "%s is longer than "
		    "%zu bytes", what, max);
	if (memchr(start, '\0', n))
		return http_fail(h, -EPROTO, ret_error, "%s holds a NUL "
		    "byte", what);
	memcpy(line, start, n);
	line[n] = '\0';
	h->off = (size_t)(nl + 1 - h->buf);
	*ret_len = n;
	return 0;
}

/* ---- the head ---- */

static bool
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static int
hex_value(char c)
{
	if (is_digit(c))
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decimal digits only, no sign, no overflow. */
static bool
parse_u64(const char *s, uint64_t *ret)
{
	uint64_t n = 0;

	if (!*s)
		return false;
	for (; *s; s++) {
		if (!is_digit(*s) || n > (UINT64_MAX - 9) / 10)
			return false;
		n = n * 10 + (uint64_t)(*s - '0');
	}
	*ret = n;
	return true;
}

/* "HTTP/1.x NNN[ reason]"; the reason says nothing we need. */
static bool
parse_status(const char *line, int *ret_status)
{
	if (strncmp(line, "HTTP/1.", 7) || !is_digit(line[7]) ||
	    line[8] != ' ' || !is_digit(line[9]) || !is_digit(line[10]) ||
	    !is_digit(line[11]) || (line[12] != ' ' && line[12] != '\0') ||
	    line[9] == '0')
		return false;
	*ret_status = (line[9] - '0') * 100 + (line[10] - '0') * 10 +
	    (line[11] - '0');
	return true;
}

/* Spaces and tabs off both ends, in place. */
static char *
trim(char *s)
{
	size_t n;

	while (*s == ' ' || *s == '\t')
		s++;
	n = strlen(s);
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		s[--n] = '\0';
	return s;
}

/* What the headers say about the body. */
struct head {
	bool		has_length;
	uint64_t	length;
	bool		chunked;
};

static int
parse_header(struct docker_http *h, char *line, struct head *hd,
	char **ret_error)
{
	char *colon = strchr(line, ':'), *value, *p, show[SHOW];
	uint64_t n;

	/* Folded lines (obsolete) and junk: a server we do not understand. */
	for (p = line; colon && p < colon; p++)
		if (*p <= ' ' || *p >= 0x7f)
			break;
	if (!colon || colon == line || p < colon) {
		docker_printable(line, strlen(line), show, sizeof(show));
		return http_fail(h, -EPROTO, ret_error, "malformed header "
		    "line '%s'", show);
	}
	*colon = '\0';
	value = trim(colon + 1);
	docker_printable(value, strlen(value), show, sizeof(show));

	if (!strcasecmp(line, "Content-Length")) {
		/* Two that disagree: no way to tell where the body ends. */
		if (!parse_u64(value, &n) || (hd->has_length &&
		    n != hd->length))
			return http_fail(h, -EPROTO, ret_error, "bad "
			    "Content-Length '%s'", show);
		hd->has_length = true;
		hd->length = n;
	} else if (!strcasecmp(line, "Transfer-Encoding")) {
		/* We ask for no compression; only chunked is left. */
		if (strcasecmp(value, "chunked") || hd->chunked)
			return http_fail(h, -EPROTO, ret_error, "unsupported "
			    "Transfer-Encoding '%s'", show);
		hd->chunked = true;
	}
	return 0;
}

/*
 * Header lines up to the empty one, read into line (the caller's, to keep
 * the event thread's stack small); *total counts their bytes.
 */
static int
read_headers(struct docker_http *h, char *line, struct head *hd,
	size_t *total, char **ret_error)
{
	size_t len;
	int r;

	memset(hd, 0, sizeof(*hd));
	for (;;) {
		r = http_line(h, line, DOCKER_HTTP_MAX_LINE, &len,
		    "a header line", ret_error);
		if (r < 0)
			return r;
		*total += len + 2;
		if (*total > DOCKER_HTTP_MAX_HEAD)
			return http_fail(h, -EPROTO, ret_error, "headers "
			    "longer than %d bytes", DOCKER_HTTP_MAX_HEAD);
		if (len == 0)
			return 0;
		r = parse_header(h, line, hd, ret_error);
		if (r < 0)
			return r;
	}
}

/* The status line and headers, past any 1xx interim answers. */
static int
read_head(struct docker_http *h, char **ret_error)
{
	char line[DOCKER_HTTP_MAX_LINE + 1];
	size_t len, total = 0;
	struct head hd;
	int r;

	do {
		r = http_line(h, line, DOCKER_HTTP_MAX_LINE, &len,
		    "the status line", ret_error);
		if (r < 0)
			return r;
		total += len + 2;
		if (!parse_status(line, &h->status))
			return http_fail(h, -EPROTO, ret_error, "not an "
			    "HTTP/1.x answer");
		if (h->status == 101)
			return http_fail(h, -EPROTO, ret_error, "switched "
			    "protocols unasked");
		r = read_headers(h, line, &hd, &total, ret_error);
		if (r < 0)
			return r;
	} while (h->status < 200);

	h->done = false;
	h->left = 0;
	if (h->status == 204 || h->status == 304) {
		h->framing = HTTP_BODY_LENGTH;
	} else if (hd.chunked) {
		h->framing = HTTP_BODY_CHUNKED;
		h->chunk = CHUNK_SIZE;
	} else if (hd.has_length) {
		h->framing = HTTP_BODY_LENGTH;
		h->left = hd.length;
	} else {
		h->framing = HTTP_BODY_CLOSE;
	}
	return 0;
}

/* ---- the body ---- */

/* "HEX[ ][;extension]": extensions mean nothing to us. */
static bool
parse_chunk_size(const char *line, uint64_t *ret)
{
	const char *p;
	uint64_t n = 0;
	int d;

	for (p = line; (d = hex_value(*p)) >= 0; p++) {
		if (n > (UINT64_MAX >> 4))
			return false;
		n = n << 4 | (uint64_t)d;
	}
	if (p == line)
		return false;
	while (*p == ' ' || *p == '\t')
		p++;
	if (*p != '\0' && *p != ';')
		return false;
	*ret = n;
	return true;
}

/* Trailer lines after the last chunk: read into line, and ignored. */
static int
skip_trailers(struct docker_http *h, char *line, char **ret_error)
{
	size_t len, total = 0;
	int r;

	do {
		r = http_line(h, line, DOCKER_HTTP_MAX_LINE, &len,
		    "a trailer line", ret_error);
		if (r < 0)
			return r;
		total += len + 2;
		if (total > DOCKER_HTTP_MAX_HEAD)
			return http_fail(h, -EPROTO, ret_error, "trailers "
			    "longer than %d bytes", DOCKER_HTTP_MAX_HEAD);
	} while (len > 0);
	return 0;
}

/* The CRLF that ends a chunk's data (a bare LF will do). */
static int
chunk_end(struct docker_http *h, char **ret_error)
{
	int got;

	while (h->len - h->off < 2 && !(h->len > h->off &&
	    h->buf[h->off] == '\n')) {
		got = http_fill(h, ret_error);
		if (got < 0)
			return got;
		if (got == 0)
			return http_fail(h, -EPROTO, ret_error, "transfer "
			    "closed in the middle of a chunk");
	}
	if (h->buf[h->off] == '\n')
		h->off += 1;
	else if (h->buf[h->off] == '\r' && h->buf[h->off + 1] == '\n')
		h->off += 2;
	else
		return http_fail(h, -EPROTO, ret_error, "a chunk is longer "
		    "than its size line says");
	h->chunk = CHUNK_SIZE;
	return 0;
}

/* Between two chunks' data: the end of one, the size of the next. */
static int
chunk_step(struct docker_http *h, char **ret_error)
{
	char line[DOCKER_HTTP_MAX_LINE + 1], show[SHOW];
	size_t len;
	int r;

	if (h->chunk == CHUNK_END)
		return chunk_end(h, ret_error);
	r = http_line(h, line, DOCKER_HTTP_MAX_LINE, &len,
	    "a chunk-size line", ret_error);
	if (r < 0)
		return r;
	if (!parse_chunk_size(line, &h->left)) {
		docker_printable(line, len, show, sizeof(show));
		return http_fail(h, -EPROTO, ret_error, "bad chunk size "
		    "'%s'", show);
	}
	if (h->left > 0) {
		h->chunk = CHUNK_DATA;
		return 0;
	}
	r = skip_trailers(h, line, ret_error);
	if (r < 0)
		return r;
	h->done = true;
	return 0;
}

/* Body bytes as they are buffered, at most what the framing allows. */
static int
body_piece(struct docker_http *h, const char **ret_data, size_t *ret_len,
	char **ret_error)
{
	bool counted = h->framing != HTTP_BODY_CLOSE;
	size_t n;
	int got;

	if (h->off == h->len) {
		got = http_fill(h, ret_error);
		if (got < 0)
			return got;
		if (got == 0 && !counted) {
			h->done = true;
			return 0;
		}
		if (got == 0 && h->framing == HTTP_BODY_LENGTH)
			return http_fail(h, -EPROTO, ret_error, "transfer "
			    "closed with %llu bytes remaining to read",
			    (unsigned long long)h->left);
		if (got == 0)
			return http_fail(h, -EPROTO, ret_error, "transfer "
			    "closed in the middle of a chunk");
	}
	n = h->len - h->off;
	if (counted && n > h->left)
		n = (size_t)h->left;
	*ret_data = h->buf + h->off;
	*ret_len = n;
	h->off += n;
	if (counted)
		h->left -= n;
	return 1;
}

int
docker_http_read(struct docker_http *h, const char **ret_data,
	size_t *ret_len, char **ret_error)
{
	int r;

	while (!h->done) {
		if (h->framing == HTTP_BODY_CHUNKED &&
		    h->chunk != CHUNK_DATA) {
			r = chunk_step(h, ret_error);
			if (r < 0)
				return r;
			continue;
		}
		if (h->framing != HTTP_BODY_CLOSE && h->left == 0) {
			if (h->framing == HTTP_BODY_LENGTH)
				h->done = true;
			else
				h->chunk = CHUNK_END;
			continue;
		}
		return body_piece(h, ret_data, ret_len, ret_error);
	}
	return 0;
}

/* ---- the request ---- */

static int
connect_error(const struct docker_http *h, int e, char **ret_error)
{
	*ret_error = xasprintf("cannot connect to Docker at %s: %s",
	    h->socket_path, strerror(e));
	/* The three ways of "Docker is not there" that docker.h promises. */
	return e == ENOENT || e == EACCES ? -e : -ECONNREFUSED;
}

/*
 * A unix socket connects at once or not at all; only a full listen queue
 * (EAGAIN) is worth trying again, for up to the connect timeout.
 */
static int
http_connect(struct docker_http *h, char **ret_error)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct pollfd wake = { .fd = h->wake_fd, .events = POLLIN };
	double give_up = monotonic_ms() + DOCKER_CONNECT_TIMEOUT_MS;
	int e;

	if (strlen(h->socket_path) >= sizeof(sa.sun_path)) {
		*ret_error = xasprintf("Docker socket path is longer than "
		    "%zu bytes: %s", sizeof(sa.sun_path) - 1, h->socket_path);
		return -ENAMETOOLONG;
	}
	strcpy(sa.sun_path, h->socket_path);
	h->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (h->fd < 0) {
		e = errno;
		*ret_error = xasprintf("cannot create a socket: %s",
		    strerror(e));
		return -e;
	}
	while (connect(h->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		e = errno;
		if (e != EAGAIN)
			return connect_error(h, e, ret_error);
		if (monotonic_ms() >= give_up) {
			*ret_error = xasprintf("cannot connect to Docker at "
			    "%s: its queue stayed full for %d s",
			    h->socket_path, DOCKER_CONNECT_TIMEOUT_MS / 1000);
			return -ETIMEDOUT;
		}
		if (poll(&wake, 1, CONNECT_RETRY_MS) > 0)
			return http_fail(h, -ECANCELED, ret_error, "stopped");
	}
	return 0;
}

static int
http_send(struct docker_http *h, char **ret_error)
{
	char *req;
	size_t len, done = 0;
	ssize_t n;
	int r = 0, e;

	/* No Accept-Encoding: the answer comes uncompressed. */
	req = xasprintf("GET /%s%s HTTP/1.1\r\n"
	    "Host: docker\r\n"
	    "User-Agent: ringfence/" RINGFENCE_VERSION "\r\n"
	    "Accept: application/json\r\n"
	    "Connection: close\r\n"
	    "\r\n", DOCKER_API_VERSION, h->path);
	len = strlen(req);
	while (done < len && r == 0) {
		n = send(h->fd, req + done, len - done, MSG_NOSIGNAL);
		if (n >= 0) {
			done += (size_t)n;
			continue;
		}
		e = errno;
		if (e == EAGAIN || e == EWOULDBLOCK)
			r = http_wait(h, POLLOUT, ret_error);
		else if (e != EINTR)
			r = http_fail(h, -EPROTO, ret_error, "cannot send "
			    "the request: %s", strerror(e));
	}
	free(req);
	return r;
}

static void
http_init(struct docker_http *h, const char *socket_path, const char *path,
	int wake_fd)
{
	h->socket_path = socket_path;
	h->path = path;
	h->fd = -1;
	h->wake_fd = wake_fd;
	h->deadline = (long long)monotonic_ms() + DOCKER_LIST_TIMEOUT_MS;
	h->status = 0;
	h->off = h->len = 0;
	h->done = true;		/* no body before the head */
}

int
docker_http_open(struct docker_http *h, const char *socket_path,
	const char *path, int wake_fd, char **ret_error)
{
	int r;

	http_init(h, socket_path, path, wake_fd);
	r = http_connect(h, ret_error);
	if (r == 0)
		r = http_send(h, ret_error);
	if (r == 0)
		r = read_head(h, ret_error);
	if (r < 0)
		docker_http_close(h);
	return r;
}

int
docker_http_answer(struct docker_http *h, int fd, const char *socket_path,
	const char *path, char **ret_error)
{
	int r;

	http_init(h, socket_path, path, -1);
	h->fd = fd;
	r = read_head(h, ret_error);
	if (r < 0)
		docker_http_close(h);
	return r;
}

void
docker_http_close(struct docker_http *h)
{
	if (h->fd >= 0)
		close(h->fd);
	h->fd = -1;
}

/* ---- a whole listing ---- */

/* Docker explains a refusal as {"message": "..."}. */
static char *
status_error(int status, const struct strbuf *body, const char *path)
{
	char msg[200];
	json_t *root, *m;

	root = json_loadb(body->buf, body->len, JSON_ALLOW_NUL, NULL);
	m = json_object_get(root, "message");
	if (json_is_string(m)) {
		docker_printable(json_string_value(m), json_string_length(m),
		    msg, sizeof(msg));
		json_decref(root);
		return xasprintf("Docker answered GET %s with HTTP %d: %s",
		    path, status, msg);
	}
	json_decref(root);
	return xasprintf("Docker answered GET %s with HTTP %d", path, status);
}

static int
too_big(const char *path, char **ret_error)
{
	*ret_error = xasprintf("Docker's answer to GET %s is larger than %u "
	    "MiB", path, DOCKER_MAX_RESPONSE >> 20);
	return -EPROTO;
}

int
docker_http_get(const char *socket_path, const char *path,
	char **ret_body, size_t *ret_len, char **ret_error)
{
	struct docker_http h;
	struct strbuf body;
	const char *data;
	size_t len;
	int r;

	r = docker_http_open(&h, socket_path, path, -1, ret_error);
	if (r < 0)
		return r;
	/* Refused before a byte of it is read. */
	if (h.framing == HTTP_BODY_LENGTH && h.left > DOCKER_MAX_RESPONSE) {
		docker_http_close(&h);
		return too_big(path, ret_error);
	}

	strbuf_init(&body);
	while ((r = docker_http_read(&h, &data, &len, ret_error)) > 0) {
		if (len > DOCKER_MAX_RESPONSE - body.len) {
			r = too_big(path, ret_error);
			break;
		}
		strbuf_add(&body, data, len);
	}
	docker_http_close(&h);
	if (r == 0 && h.status != 200) {
		*ret_error = status_error(h.status, &body, path);
		r = -EPROTO;
	}
	if (r == 0) {
		*ret_body = body.buf;
		*ret_len = body.len;
		body.buf = NULL;
	}
	strbuf_free(&body);
	return r;
}
