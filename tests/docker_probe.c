/*
 * docker-probe: drive the Docker client module by hand and in tests.
 *
 *   docker-probe [-v] list SOCKET
 *   docker-probe [-v] events SOCKET SECONDS
 *
 * list prints the inventory, containers then networks, one per line:
 *   container ID NAME[ label=KEY=VALUE]...[; net=NAME@ID12 V4 V6]...
 *   network ID NAME BRIDGE
 * with "-" for what is absent.  Bytes outside printable ASCII, and space,
 * '\', ';' and '=' inside labels, are written as \xNN.  A failure prints
 * "error: ERRNO-NAME: MESSAGE" and exits 1.
 *
 * events prints "notify" for each notification for SECONDS, then stops
 * the thread and writes "stopped in N ms" to stderr.
 *
 * The module's log goes to stderr; -v adds debug lines.
 */
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "docker/docker.h"
#include "log.h"

static void
usage(void)
{
	fprintf(stderr, "usage: docker-probe [-v] list SOCKET\n"
	    "       docker-probe [-v] events SOCKET SECONDS\n");
	exit(2);
}

static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
put_escaped(const char *s)
{
	const unsigned char *p;

	for (p = (const unsigned char *)s; *p; p++) {
		if (*p <= ' ' || *p >= 0x7f || *p == '\\' || *p == ';' ||
		    *p == '=')
			printf("\\x%02x", *p);
		else
			putchar(*p);
	}
}

static void
put_addr(bool has, const struct rf_prefix *p)
{
	char buf[64];

	if (!has) {
		fputs(" -", stdout);
		return;
	}
	addr_format(p->family, p->addr, buf);
	printf(" %s", buf);
}

static int
cmd_list(const char *socket_path)
{
	struct docker_inventory inv;
	const struct docker_container *c;
	const struct docker_attachment *a;
	const struct docker_network *n;
	char *err = NULL;
	size_t i, j;
	int r;

	r = docker_inventory_load(socket_path, &inv, &err);
	if (r < 0) {
		printf("error: %s: %s\n", strerrorname_np(-r), err);
		free(err);
		return 1;
	}
	for (i = 0; i < inv.ncontainers; i++) {
		c = &inv.containers[i];
		printf("container %s %s", c->id, c->name ? c->name : "-");
		for (j = 0; j < c->nlabels; j++) {
			fputs(" label=", stdout);
			put_escaped(c->labels[j].key);
			putchar('=');
			put_escaped(c->labels[j].value);
		}
		for (j = 0; j < c->nnets; j++) {
			a = &c->nets[j];
			printf("; net=%s@%.12s",
			    a->network_name ? a->network_name : "-",
			    a->network_id);
			put_addr(a->has_v4, &a->v4);
			put_addr(a->has_v6, &a->v6);
		}
		putchar('\n');
	}
	for (i = 0; i < inv.nnetworks; i++) {
		n = &inv.networks[i];
		printf("network %s %s %s\n", n->id, n->name ? n->name : "-",
		    n->bridge ? n->bridge : "-");
	}
	docker_inventory_free(&inv);
	return 0;
}

static int
cmd_events(const char *socket_path, const char *seconds)
{
	struct docker_events *ev;
	long long deadline, t;
	struct pollfd pfd;
	uint64_t v;
	char *end;
	double s;
	int fd, r;

	s = strtod(seconds, &end);
	if (*end || s < 0 || s > 3600)
		usage();
	/* A semaphore counter: one read per notification written. */
	fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK | EFD_SEMAPHORE);
	if (fd < 0) {
		printf("error: eventfd: %s\n", strerror(errno));
		return 1;
	}
	r = docker_events_start(socket_path, fd, &ev);
	if (r < 0) {
		printf("error: %s: cannot start the event thread\n",
		    strerrorname_np(-r));
		return 1;
	}

	pfd.fd = fd;
	pfd.events = POLLIN;
	deadline = now_ms() + (long long)(s * 1000);
	while ((t = now_ms()) < deadline) {
		if (poll(&pfd, 1, (int)(deadline - t)) <= 0)
			continue;
		while (read(fd, &v, sizeof(v)) == sizeof(v)) {
			printf("notify\n");
			fflush(stdout);
		}
	}

	t = now_ms();
	docker_events_stop(ev);
	fprintf(stderr, "stopped in %lld ms\n", now_ms() - t);
	close(fd);
	return 0;
}

int
main(int argc, char **argv)
{
	enum log_level level = LOG_LEVEL_INFO;

	if (argc > 1 && !strcmp(argv[1], "-v")) {
		level = LOG_LEVEL_DEBUG;
		argc--;
		argv++;
	}
	log_init(level);
	if (argc == 3 && !strcmp(argv[1], "list"))
		return cmd_list(argv[2]);
	if (argc == 4 && !strcmp(argv[1], "events"))
		return cmd_events(argv[2], argv[3]);
	usage();
}
