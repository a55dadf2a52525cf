/*
 * http.h: libcurl over Docker's unix socket, shared by api.c and events.c.
 * Private to src/docker.
 */
#ifndef RF_DOCKER_HTTP_H
#define RF_DOCKER_HTTP_H

#include <curl/curl.h>
#include <stddef.h>

#define DOCKER_CONNECT_TIMEOUT_MS	5000
#define DOCKER_LIST_TIMEOUT_MS		10000	/* a whole listing */

/*
 * A handle for GET http://docker/v1.41PATH through socket_path, with
 * errbuf (CURL_ERROR_SIZE bytes) as its error buffer and the connect
 * timeout set.  Returns 0, or a negative errno with *ret_error set.
 */
int docker_http_new(const char *socket_path, const char *path, char *errbuf,
	CURL **ret, char **ret_error);

/*
 * Turn a failed transfer into a negative errno and a message:
 * -ENOENT, -ECONNREFUSED or -EACCES when the socket cannot be reached,
 * -ETIMEDOUT, -ENOMEM, or -EPROTO for anything else Docker got wrong.
 */
int docker_http_error(CURL *h, CURLcode code, const char *errbuf,
	const char *socket_path, const char *path, char **ret_error);

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
