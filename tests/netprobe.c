/*
 * netprobe: a small TCP/UDP server and client with exact verdicts, used by
 * the ringfence end-to-end tests inside network namespaces.
 *
 *   netprobe serve [-n NAME] [-t PORT]... [-u PORT]...
 *   netprobe connect -t|-u [-w MILLISECONDS] [-s SRCADDR] ADDR PORT
 *
 * serve answers every TCP connection with "NAME\n" followed by an echo of
 * what the client sent first, and every UDP datagram with "NAME\n" plus an
 * echo. It listens on all IPv4 and IPv6 addresses through dual-stack
 * sockets and runs until killed.
 *
 * connect prints exactly one word and exits 0:
 *   ok:NAME     an answer came back; NAME is its first line
 *   refused     ECONNREFUSED (TCP reset, ICMP port unreachable)
 *   prohibited  EHOSTUNREACH, ENETUNREACH or EACCES (an ICMP error such as
 *               administratively prohibited)
 *   eperm       EPERM: a netfilter drop in this namespace's OUTPUT path
 *   timeout     nothing came back within the wait
 *   error:NAME  any other errno, or error:EOF for a close without a banner
 * Usage errors go to stderr with exit status 2.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define NP_MAX_LISTEN	32	/* -t and -u options together */
#define NP_MAX_CONN	64	/* TCP connections served at once */
#define NP_CONN_MS	2000	/* a connection silent this long is closed */
#define NP_BUF		512
#define NP_NAME_MAX	64

static const char *np_prog = "netprobe";

static void
np_usage(void)
{
	fprintf(stderr,
	    "usage: %s serve [-n NAME] [-t PORT]... [-u PORT]...\n"
	    "       %s connect -t|-u [-w MILLISECONDS] [-s SRCADDR] ADDR PORT\n",
	    np_prog, np_prog);
	exit(2);
}

static long long
np_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static long
np_number(const char *s, long min, long max, const char *what)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < min || v > max) {
		fprintf(stderr, "%s: bad %s '%s'\n", np_prog, what, s);
		exit(2);
	}
	return v;
}

/* ---- serve ---- */

struct np_listener {
	int	fd;
	int	type;		/* SOCK_STREAM or SOCK_DGRAM */
};

struct np_conn {
	int		fd;
	long long	deadline;
};

static int
np_listen(int type, int port)
{
	struct sockaddr_in6 sa;
	int fd, on = 1, off = 0;

	fd = socket(AF_INET6, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	memset(&sa, 0, sizeof(sa));
	sa.sin6_family = AF_INET6;
	sa.sin6_port = htons(port);
	sa.sin6_addr = in6addr_any;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) < 0 ||
	    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof(off)) < 0 ||
	    (type == SOCK_DGRAM && setsockopt(fd, IPPROTO_IPV6,
	    IPV6_RECVPKTINFO, &on, sizeof(on)) < 0) ||
	    bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    (type == SOCK_STREAM && listen(fd, 64) < 0)) {
		close(fd);
		return -1;
	}
	return fd;
}

/*
 * Reply from the address the datagram was sent to: the host namespace has
 * many addresses, and a connected UDP client ignores an answer from any
 * other. IPV6_PKTINFO also carries v4-mapped addresses on a dual-stack
 * socket, in both directions.
 */
static void
np_udp_answer(int fd, const char *name)
{
	char buf[NP_BUF], out[NP_BUF + NP_NAME_MAX + 2];
	union {
		struct cmsghdr	align;
		char		buf[CMSG_SPACE(sizeof(struct in6_pktinfo))];
	} cin, cout;
	struct sockaddr_in6 peer;
	struct in6_pktinfo *pi = NULL;
	struct cmsghdr *c;
	struct iovec iov = { buf, sizeof(buf) };
	struct msghdr m;
	ssize_t n;
	int len;

	memset(&m, 0, sizeof(m));
	m.msg_name = &peer;
	m.msg_namelen = sizeof(peer);
	m.msg_iov = &iov;
	m.msg_iovlen = 1;
	m.msg_control = cin.buf;
	m.msg_controllen = sizeof(cin.buf);
	n = recvmsg(fd, &m, 0);
	if (n < 0)
		return;
	for (c = CMSG_FIRSTHDR(&m); c != NULL; c = CMSG_NXTHDR(&m, c))
		if (c->cmsg_level == IPPROTO_IPV6 &&
		    c->cmsg_type == IPV6_PKTINFO)
			pi = (struct in6_pktinfo *)CMSG_DATA(c);

	len = snprintf(out, sizeof(out), "%s\n%.*s", name, (int)n, buf);
	if (len < 0)
		return;
	if ((size_t)len >= sizeof(out))
		len = sizeof(out) - 1;

	iov.iov_base = out;
	iov.iov_len = len;
	m.msg_control = NULL;
	m.msg_controllen = 0;
	if (pi != NULL) {
		memset(&cout, 0, sizeof(cout));
		m.msg_control = cout.buf;
		m.msg_controllen = sizeof(cout.buf);
		c = CMSG_FIRSTHDR(&m);
		c->cmsg_level = IPPROTO_IPV6;
		c->cmsg_type = IPV6_PKTINFO;
		c->cmsg_len = CMSG_LEN(sizeof(struct in6_pktinfo));
		((struct in6_pktinfo *)CMSG_DATA(c))->ipi6_addr = pi->ipi6_addr;
	}
	sendmsg(fd, &m, MSG_NOSIGNAL);
}

static void
np_conn_close(struct np_conn *conns, int *nconn, int i)
{
	close(conns[i].fd);
	conns[i] = conns[--*nconn];
}

static void
np_tcp_accept(int fd, const char *banner, struct np_conn *conns, int *nconn)
{
	int c;

	c = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (c < 0)
		return;
	if (*nconn == NP_MAX_CONN)
		np_conn_close(conns, nconn, 0);
	/* The banner is a few bytes on a fresh socket: it cannot block. */
	send(c, banner, strlen(banner), MSG_NOSIGNAL);
	conns[*nconn].fd = c;
	conns[*nconn].deadline = np_now_ms() + NP_CONN_MS;
	(*nconn)++;
}

static int
np_serve(int argc, char **argv)
{
	struct np_listener ls[NP_MAX_LISTEN];
	struct np_conn conns[NP_MAX_CONN];
	struct pollfd pfd[NP_MAX_LISTEN + NP_MAX_CONN];
	const char *name = "netprobe";
	char banner[NP_NAME_MAX + 2], buf[NP_BUF];
	int nls = 0, nconn = 0, opt, i;

	while ((opt = getopt(argc, argv, "n:t:u:")) != -1) {
		switch (opt) {
		case 'n':
			if (strlen(optarg) > NP_NAME_MAX)
				np_usage();
			name = optarg;
			break;
		case 't':
		case 'u':
			if (nls == NP_MAX_LISTEN)
				np_usage();
			ls[nls].type = opt == 't' ? SOCK_STREAM : SOCK_DGRAM;
			ls[nls].fd = np_listen(ls[nls].type,
			    np_number(optarg, 1, 65535, "port"));
			if (ls[nls].fd < 0) {
				fprintf(stderr, "%s: port %s/%s: %s\n", np_prog,
				    optarg, opt == 't' ? "tcp" : "udp",
				    strerror(errno));
				return 1;
			}
			nls++;
			break;
		default:
			np_usage();
		}
	}
	if (optind != argc || nls == 0)
		np_usage();
	snprintf(banner, sizeof(banner), "%s\n", name);

	for (;;) {
		long long now = np_now_ms(), wait = -1;
		int n = 0;

		for (i = 0; i < nls; i++)
			pfd[n++] = (struct pollfd){ ls[i].fd, POLLIN, 0 };
		for (i = 0; i < nconn; i++) {
			pfd[n++] = (struct pollfd){ conns[i].fd, POLLIN, 0 };
			if (wait < 0 || conns[i].deadline - now < wait)
				wait = conns[i].deadline - now;
		}
		if (wait < -1 || (nconn > 0 && wait < 0))
			wait = 0;
		if (poll(pfd, n, (int)wait) < 0) {
			if (errno == EINTR)
				continue;
			return 1;
		}

		/* Connections first: accepting reorders the array. */
		now = np_now_ms();
		for (i = nconn - 1; i >= 0; i--) {
			short re = pfd[nls + i].revents;
			ssize_t got;

			if (re != 0) {
				got = recv(conns[i].fd, buf, sizeof(buf), 0);
				if (got > 0)
					send(conns[i].fd, buf, got,
					    MSG_NOSIGNAL);
				np_conn_close(conns, &nconn, i);
			} else if (conns[i].deadline <= now) {
				np_conn_close(conns, &nconn, i);
			}
		}
		for (i = 0; i < nls; i++) {
			if (!(pfd[i].revents & POLLIN))
				continue;
			if (ls[i].type == SOCK_STREAM)
				np_tcp_accept(ls[i].fd, banner, conns, &nconn);
			else
				np_udp_answer(ls[i].fd, name);
		}
	}
}

/* ---- connect ---- */

static int
np_verdict(int err)
{
	const char *name;

	switch (err) {
	case ECONNREFUSED:
		puts("refused");
		break;
	case EHOSTUNREACH:
	case ENETUNREACH:
	case EACCES:
		puts("prohibited");
		break;
	case EPERM:
		puts("eperm");
		break;
	case ETIMEDOUT:
		puts("timeout");
		break;
	default:
		name = strerrorname_np(err);
		if (name != NULL)
			printf("error:%s\n", name);
		else
			printf("error:%d\n", err);
	}
	return 0;
}

static int
np_ok(const char *data, size_t len)
{
	char name[NP_NAME_MAX + 1];
	size_t i;

	for (i = 0; i < len && i < NP_NAME_MAX; i++) {
		if (data[i] == '\n' || data[i] == '\r')
			break;
		name[i] = data[i] > 0x20 && data[i] < 0x7f ? data[i] : '?';
	}
	name[i] = '\0';
	printf("ok:%s\n", name);
	return 0;
}

static int
np_addr(const char *text, const char *port, struct addrinfo **ret)
{
	struct addrinfo hints;
	char host[INET6_ADDRSTRLEN + 32];
	size_t len = strlen(text);

	/* Accept [2001:db8::1] as well as the bare form. */
	if (len >= 2 && text[0] == '[' && text[len - 1] == ']' &&
	    len - 2 < sizeof(host)) {
		memcpy(host, text + 1, len - 2);
		host[len - 2] = '\0';
		text = host;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
	if (getaddrinfo(text, port, &hints, ret) != 0) {
		fprintf(stderr, "%s: bad address '%s'\n", np_prog, text);
		exit(2);
	}
	return 0;
}

/* Wait for fd to become ready; 0 when the deadline passed first. */
static int
np_wait(int fd, short events, long long deadline)
{
	struct pollfd p = { fd, events, 0 };
	long long left;
	int r;

	for (;;) {
		left = deadline - np_now_ms();
		if (left <= 0)
			return 0;
		r = poll(&p, 1, (int)left);
		if (r > 0 || (r < 0 && errno != EINTR))
			return 1;
	}
}

static int
np_connect_tcp(int fd, const struct addrinfo *dst, long long deadline)
{
	char buf[NP_BUF];
	size_t have = 0;
	socklen_t len = sizeof(int);
	ssize_t n;
	int err = 0;

	if (connect(fd, dst->ai_addr, dst->ai_addrlen) < 0 &&
	    errno != EINPROGRESS)
		return np_verdict(errno);
	if (!np_wait(fd, POLLOUT, deadline)) {
		puts("timeout");
		return 0;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		return np_verdict(errno);
	if (err != 0)
		return np_verdict(err);
	if (send(fd, "ping\n", 5, MSG_NOSIGNAL) < 0)
		return np_verdict(errno);

	while (memchr(buf, '\n', have) == NULL && have < sizeof(buf)) {
		if (!np_wait(fd, POLLIN, deadline)) {
			if (have > 0)
				break;
			puts("timeout");
			return 0;
		}
		n = recv(fd, buf + have, sizeof(buf) - have, 0);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (n < 0)
			return np_verdict(errno);
		if (n == 0)
			break;
		have += n;
	}
	if (have == 0) {
		puts("error:EOF");
		return 0;
	}
	return np_ok(buf, have);
}

static int
np_connect_udp(int fd, const struct addrinfo *dst, long long deadline)
{
	char buf[NP_BUF];
	ssize_t n;

	if (connect(fd, dst->ai_addr, dst->ai_addrlen) < 0)
		return np_verdict(errno);
	if (send(fd, "ping\n", 5, 0) < 0)
		return np_verdict(errno);
	for (;;) {
		if (!np_wait(fd, POLLIN, deadline)) {
			puts("timeout");
			return 0;
		}
		/* A pending ICMP error surfaces here as errno. */
		n = recv(fd, buf, sizeof(buf), 0);
		if (n >= 0)
			return np_ok(buf, n);
		if (errno != EAGAIN && errno != EINTR)
			return np_verdict(errno);
	}
}

static int
np_connect(int argc, char **argv)
{
	struct addrinfo *dst, *src = NULL;
	const char *srctext = NULL;
	long wait_ms = 800;
	int type = 0, opt, fd, r;

	while ((opt = getopt(argc, argv, "tuw:s:")) != -1) {
		switch (opt) {
		case 't':
			type = SOCK_STREAM;
			break;
		case 'u':
			type = SOCK_DGRAM;
			break;
		case 'w':
			wait_ms = np_number(optarg, 1, 600000, "wait");
			break;
		case 's':
			srctext = optarg;
			break;
		default:
			np_usage();
		}
	}
	if (type == 0 || argc - optind != 2)
		np_usage();
	np_number(argv[optind + 1], 1, 65535, "port");
	np_addr(argv[optind], argv[optind + 1], &dst);
	if (srctext != NULL) {
		np_addr(srctext, "0", &src);
		if (src->ai_family != dst->ai_family) {
			fprintf(stderr, "%s: source and destination are of "
			    "different families\n", np_prog);
			return 2;
		}
	}

	fd = socket(dst->ai_family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return np_verdict(errno);
	if (src != NULL && bind(fd, src->ai_addr, src->ai_addrlen) < 0)
		return np_verdict(errno);
	if (type == SOCK_STREAM)
		r = np_connect_tcp(fd, dst, np_now_ms() + wait_ms);
	else
		r = np_connect_udp(fd, dst, np_now_ms() + wait_ms);
	close(fd);
	freeaddrinfo(dst);
	if (src != NULL)
		freeaddrinfo(src);
	return r;
}

int
main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc < 2)
		np_usage();
	if (strcmp(argv[1], "serve") == 0)
		return np_serve(argc - 1, argv + 1);
	if (strcmp(argv[1], "connect") == 0)
		return np_connect(argc - 1, argv + 1);
	np_usage();
	return 2;
}
