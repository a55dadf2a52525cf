/*
 * fuzz_http.c: libFuzzer harness for the HTTP client's answer parser
 * (status line, headers, Content-Length, chunked, trailers).
 *
 * The input is what the server sends; a thread writes it into a socket
 * pair and hangs up, and the client reads the head and at most 1 MiB of
 * body, as a listing would.  Build with
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -std=c11 \
 *	-D_GNU_SOURCE -Isrc -DRINGFENCE_VERSION='"fuzz"' \
 *	tests/docker/fuzz_http.c src/docker/http.c src/util.c \
 *	-ljansson -lpthread -o build/fuzz-http
 *
 * and run build/fuzz-http, best on a corpus of real answers.
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "docker/http.h"

struct feed {
	int		 fd;
	const uint8_t	*data;
	size_t		 size;
};

static void *
feed_main(void *arg)
{
	struct feed *f = arg;
	size_t done = 0;
	ssize_t n;

	while (done < f->size) {
		n = send(f->fd, f->data + done, f->size - done, MSG_NOSIGNAL);
		if (n <= 0)
			break;	/* the client gave up: fine */
		done += (size_t)n;
	}
	close(f->fd);
	return NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct docker_http h;
	struct feed f = { .data = data, .size = size };
	const char *piece;
	char *err = NULL;
	size_t len, total = 0;
	pthread_t t;
	int sv[2], r;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0,
	    sv) < 0)
		abort();
	f.fd = sv[1];
	/* The writer blocks: only the client's end is non-blocking. */
	if (fcntl(f.fd, F_SETFL, 0) < 0 ||
	    pthread_create(&t, NULL, feed_main, &f) != 0)
		abort();
	r = docker_http_answer(&h, sv[0], "fuzz.sock", "/containers/json",
	    &err);
	if (r == 0) {
		while (total < (1u << 20) &&
		    docker_http_read(&h, &piece, &len, &err) > 0)
			total += len;
		docker_http_close(&h);
	}
	free(err);
	pthread_join(t, NULL);
	return 0;
}
