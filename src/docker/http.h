/*
 * http.h: a small HTTP/1.1 client for Docker's unix socket, shared by
 * api.c and events.c.  Private to src/docker.
 *
 * One GET per connection, no TLS, no proxy, no redirects, no compression:
 * the Engine API on a local socket needs none of them, and libcurl brought
 * 11 MiB of libraries for them into a daemon that runs for months.
 * Everything the server sends is bounded: each line, the whole head, the
 * body, and the time a listing may take.
 */
#ifndef RF_DOCKER_HTTP_H
#define RF_DOCKER_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DOCKER_CONNECT_TIMEOUT_MS	5000
/* A whole listing, or the head of the event stream. */
#define DOCKER_LIST_TIMEOUT_MS		10000
/* One header or chunk-size line; all headers, or all trailers. */
#define DOCKER_HTTP_MAX_LINE		8192
#define DOCKER_HTTP_MAX_HEAD		65536

enum docker_http_framing {
	HTTP_BODY_LENGTH,	/* Content-Length bytes */
	HTTP_BODY_CHUNKED,	/* Transfer-Encoding: chunked */
	HTTP_BODY_CLOSE,	/* until the server closes */
};

enum docker_http_chunk {
	CHUNK_SIZE,		/* a chunk-size line is next */
	CHUNK_DATA,		/* left bytes of chunk data are next */
	CHUNK_END,		/* the CRLF after chunk data is next */
};

/* One request and its answer.  The caller owns it; nothing is allocated. */
struct docker_http {
	const char	*socket_path;	/* borrowed, for messages */
	const char	*path;		/* borrowed, for messages */
	int		 fd;
	int		 wake_fd;	/* readable: give up; or -1 */
	long long	 deadline;	/* monotonic ms; 0: none */
	int		 status;	/* of the final answer */

	enum docker_http_framing framing;
	enum docker_http_chunk	 chunk;
	uint64_t	 left;		/* of the body or the chunk */
	bool		 done;		/* the body has ended */

	/* buf[off, len) is received and not consumed yet. */
	size_t		 off;
	size_t		 len;
	char		 buf[16384];
};

/*
 * Connect to socket_path, send GET /v1.41PATH and read the answer's head:
 * h->status is then set and the body can be read.  The deadline is
 * DOCKER_LIST_TIMEOUT_MS from now; a caller that streams clears
 * h->deadline after this.  When wake_fd (or -1) becomes readable, any
 * wait ends with -ECANCELED.  Returns 0, or a negative errno with
 * *ret_error set and nothing left open: -ENOENT, -ECONNREFUSED or -EACCES
 * when the socket cannot be reached, -ENAMETOOLONG, -ETIMEDOUT, -EPROTO
 * for anything the server got wrong.
 */
int docker_http_open(struct docker_http *h, const char *socket_path,
	const char *path, int wake_fd, char **ret_error);

/*
 * The answer half of docker_http_open(), on fd (a connected, non-blocking
 * socket, closed by docker_http_close() or on failure): for fuzzing.
 */
int docker_http_answer(struct docker_http *h, int fd, const char *socket_path,
	const char *path, char **ret_error);

/*
 * The next piece of the body, decoded, in *ret_data (valid until the next
 * call) and *ret_len.  Returns 1, 0 at the end of the body, or a negative
 * errno with *ret_error set (-EPROTO, -ETIMEDOUT, -ECANCELED).
 */
int docker_http_read(struct docker_http *h, const char **ret_data,
	size_t *ret_len, char **ret_error);

void docker_http_close(struct docker_http *h);

/*
 * GET PATH and return the body of a 200 answer (NUL-terminated, at most
 * DOCKER_MAX_RESPONSE bytes).  Any other status is -EPROTO.
 */
int docker_http_get(const char *socket_path, const char *path,
	char **ret_body, size_t *ret_len, char **ret_error);

/*
 * Copy untrusted text into buf for a log line: printable ASCII only, the
 * rest as '?', cut with "..." to fit size (at least 4).
 */
void docker_printable(const char *s, size_t len, char *buf, size_t size);

#endif
