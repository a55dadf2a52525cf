/*
 * http.c: plain HTTP/1.1 GETs to the Docker Engine API over its unix socket.
 */
#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#include "docker/docker.h"
#include "docker/http.h"
#include "util.h"

static pthread_once_t http_once = PTHREAD_ONCE_INIT;
static CURLcode http_init_code;

static void
http_init(void)
{
	/* No TLS here: only the basic init, which sets up sockets. */
	http_init_code = curl_global_init(CURL_GLOBAL_NOTHING);
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

int
docker_http_new(const char *socket_path, const char *path, char *errbuf,
	CURL **ret, char **ret_error)
{
	struct sockaddr_un sa;
	char *url;
	CURL *h;

	pthread_once(&http_once, http_init);
	if (http_init_code != CURLE_OK) {
		*ret_error = xasprintf("cannot initialise libcurl: %s",
		    curl_easy_strerror(http_init_code));
		return -ENOMEM;
	}
	if (strlen(socket_path) >= sizeof(sa.sun_path)) {
		*ret_error = xasprintf("Docker socket path is longer than "
		    "%zu bytes: %s", sizeof(sa.sun_path) - 1, socket_path);
		return -ENAMETOOLONG;
	}
	h = curl_easy_init();
	if (!h) {
		*ret_error = xstrdup("cannot create a libcurl handle");
		return -ENOMEM;
	}

	/*
	 * The host part is never resolved: libcurl connects to the socket.
	 * No proxy from the environment, no redirects, no other protocol,
	 * and no signals, since the event thread uses curl too.
	 */
	url = xasprintf("http://docker/%s%s", DOCKER_API_VERSION, path);
	errbuf[0] = '\0';
	if (curl_easy_setopt(h, CURLOPT_URL, url) ||
	    curl_easy_setopt(h, CURLOPT_UNIX_SOCKET_PATH, socket_path) ||
	    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf) ||
	    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http") ||
	    curl_easy_setopt(h, CURLOPT_PROXY, "") ||
	    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L) ||
	    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L) ||
	    curl_easy_setopt(h, CURLOPT_HTTP_VERSION,
		CURL_HTTP_VERSION_1_1) ||
	    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
		(long)DOCKER_CONNECT_TIMEOUT_MS) ||
	    curl_easy_setopt(h, CURLOPT_USERAGENT,
		"ringfence/" RINGFENCE_VERSION)) {
		free(url);
		curl_easy_cleanup(h);
		*ret_error = xstrdup("cannot configure a libcurl handle");
		return -ENOMEM;
	}
	free(url);
	*ret = h;
	return 0;
}

int
docker_http_error(CURL *h, CURLcode code, const char *errbuf,
	const char *socket_path, const char *path, char **ret_error)
{
	const char *why = errbuf[0] ? errbuf : curl_easy_strerror(code);
	long oserr = 0;
	int r;

	switch (code) {
	case CURLE_COULDNT_CONNECT:
		curl_easy_getinfo(h, CURLINFO_OS_ERRNO, &oserr);
		if (oserr != ENOENT && oserr != EACCES)
			oserr = ECONNREFUSED;
		*ret_error = xasprintf("cannot connect to Docker at %s: %s",
		    socket_path, strerror((int)oserr));
		return -(int)oserr;
	case CURLE_OPERATION_TIMEDOUT:
		r = -ETIMEDOUT;
		break;
	case CURLE_OUT_OF_MEMORY:
		r = -ENOMEM;
		break;
	default:
		r = -EPROTO;
		break;
	}
	*ret_error = xasprintf("GET %s from Docker at %s: %s", path,
	    socket_path, why);
	return r;
}

struct body {
	struct strbuf	sb;
	bool		too_big;
};

static size_t
body_write(char *data, size_t size, size_t n, void *arg)
{
	struct body *b = arg;
	size_t len = size * n;

	if (len > DOCKER_MAX_RESPONSE - b->sb.len) {
		b->too_big = true;
		return 0;
	}
	strbuf_add(&b->sb, data, len);
	return len;
}

/* Docker explains a refusal as {"message": "..."}. */
static char *
status_error(long status, const struct strbuf *body, const char *path)
{
	char msg[200];
	json_t *root, *m;

	root = json_loadb(body->buf, body->len, JSON_ALLOW_NUL, NULL);
	m = json_object_get(root, "message");
	if (json_is_string(m)) {
		docker_printable(json_string_value(m), json_string_length(m),
		    msg, sizeof(msg));
		json_decref(root);
		return xasprintf("Docker answered GET %s with HTTP %ld: %s",
		    path, status, msg);
	}
	json_decref(root);
	return xasprintf("Docker answered GET %s with HTTP %ld", path, status);
}

int
docker_http_get(const char *socket_path, const char *path,
	char **ret_body, size_t *ret_len, char **ret_error)
{
	char errbuf[CURL_ERROR_SIZE];
	struct body b = { .too_big = false };
	long status = 0;
	CURLcode code;
	CURL *h;
	int r;

	r = docker_http_new(socket_path, path, errbuf, &h, ret_error);
	if (r < 0)
		return r;
	strbuf_init(&b.sb);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)DOCKER_LIST_TIMEOUT_MS);
	curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE,
	    (curl_off_t)DOCKER_MAX_RESPONSE);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, body_write);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &b);

	code = curl_easy_perform(h);
	if (code == CURLE_FILESIZE_EXCEEDED ||
	    (code == CURLE_WRITE_ERROR && b.too_big)) {
		*ret_error = xasprintf("Docker's answer to GET %s is larger "
		    "than %u MiB", path, DOCKER_MAX_RESPONSE >> 20);
		r = -EPROTO;
		goto out;
	}
	if (code != CURLE_OK) {
		r = docker_http_error(h, code, errbuf, socket_path, path,
		    ret_error);
		goto out;
	}
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	if (status != 200) {
		*ret_error = status_error(status, &b.sb, path);
		r = -EPROTO;
		goto out;
	}
	*ret_body = b.sb.buf;
	*ret_len = b.sb.len;
	b.sb.buf = NULL;

out:
	strbuf_free(&b.sb);
	curl_easy_cleanup(h);
	return r;
}
