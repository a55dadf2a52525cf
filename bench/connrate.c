/*
 * connrate.c: the rate of new TCP connections, for bench/datapath.sh.
 *
 *   connrate serve ADDR PORT [-w WORKERS] [-T LIFETIME]
 *   connrate run ADDR PORT [-t SECONDS] [-n MAX] [-p PROCS] [-b SRC]
 *
 * serve accepts and closes at once, in WORKERS processes sharing one
 * listening socket, and exits by itself after LIFETIME seconds (default
 * 1800).  run starts PROCS processes that each connect, wait for the
 * server's close, and close in turn, until SECONDS have passed or MAX
 * connections (over all processes) are done, connecting from SRC if
 * given.  It prints one line:
 *
 *   conns=N errors=E seconds=S rate=R
 *
 * The server closes first, so its side holds TIME_WAIT and the client's
 * ephemeral ports are free again at once: a run is not limited by port
 * exhaustion.  A connect or read that takes over one second counts as an
 * error, so a firewall that drops SYNs shows up as errors, not as a hang.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_PROCS	64

/* Where run connects to, and from (src.ss_family 0: any source). */
struct target {
	struct sockaddr_storage	dst;
	socklen_t		dstlen;
	struct sockaddr_storage	src;
	socklen_t		srclen;
};

struct result {
	unsigned long	ok;
	unsigned long	errors;
};

static void
usage(void)
{
	fputs("usage: connrate serve ADDR PORT [-w WORKERS] [-T LIFETIME]\n"
	    "       connrate run ADDR PORT [-t SECONDS] [-n MAX] [-p PROCS] "
	    "[-b SRC]\n",
	    stderr);
	exit(2);
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
parse_addr(const char *addr, const char *port,
	struct sockaddr_storage *ret_ss, socklen_t *ret_len)
{
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ret_ss;
	struct sockaddr_in *s4 = (struct sockaddr_in *)ret_ss;
	long p = strtol(port, NULL, 10);

	if (p <= 0 || p > 65535)
		return -EINVAL;
	memset(ret_ss, 0, sizeof(*ret_ss));
	if (inet_pton(AF_INET, addr, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons((unsigned short)p);
		*ret_len = sizeof(*s4);
		return 0;
	}
	if (inet_pton(AF_INET6, addr, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((unsigned short)p);
		*ret_len = sizeof(*s6);
		return 0;
	}
	return -EINVAL;
}

static long
opt_long(const char *s, long lo, long hi)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (*s == '\0' || *end != '\0' || v < lo || v > hi)
		usage();
	return v;
}

/* ---- serve ---- */

static void
accept_loop(int lfd)
{
	int fd;

	for (;;) {
		fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		if (fd >= 0)
			close(fd);
		else if (errno != EINTR && errno != ECONNABORTED &&
		    errno != EMFILE && errno != ENFILE)
			_exit(1);
	}
}

static void
on_term(int sig)
{
	(void)sig;
}

static int
serve(const struct sockaddr_storage *ss, socklen_t len, long workers,
	long lifetime)
{
	struct sigaction sa = { .sa_handler = on_term };
	pid_t pids[MAX_PROCS];
	int lfd, one = 1;
	long i;

	lfd = socket(ss->ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (lfd < 0 || setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one,
	    sizeof(one)) < 0 || bind(lfd, (const struct sockaddr *)ss,
	    len) < 0 || listen(lfd, 4096) < 0) {
		perror("connrate: listen");
		return 1;
	}
	for (i = 0; i < workers; i++) {
		pids[i] = fork();
		if (pids[i] < 0) {
			perror("connrate: fork");
			return 1;
		}
		if (pids[i] == 0) {
			prctl(PR_SET_PDEATHSIG, SIGTERM);
			alarm((unsigned)lifetime);
			accept_loop(lfd);
		}
	}
	close(lfd);
	/*
	 * The first worker to end (alarm, signal, error), or SIGTERM here,
	 * ends the rest, and they are reaped: no worker outlives us.
	 */
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	wait(NULL);
	for (i = 0; i < workers; i++)
		kill(pids[i], SIGTERM);
	while (wait(NULL) > 0)
		;
	return 0;
}

/* ---- run ---- */

static int
one_conn(const struct target *t)
{
	struct timeval tv = { .tv_sec = 1 };
	char buf[64];
	ssize_t n;
	int fd, r = -1;

	fd = socket(t->dst.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (t->srclen && bind(fd, (const struct sockaddr *)&t->src,
	    t->srclen) < 0) {
		close(fd);
		return -1;
	}
	if (connect(fd, (const struct sockaddr *)&t->dst, t->dstlen) == 0) {
		do
			n = read(fd, buf, sizeof(buf));
		while (n > 0 || (n < 0 && errno == EINTR));
		r = n == 0 ? 0 : -1;
	}
	close(fd);
	return r;
}

static void
run_worker(const struct target *t, double until, unsigned long max, int wfd)
{
	struct result res = { 0, 0 };

	while (res.ok + res.errors < max && now_s() < until) {
		if (one_conn(t) == 0)
			res.ok++;
		else
			res.errors++;
	}
	if (write(wfd, &res, sizeof(res)) != (ssize_t)sizeof(res))
		_exit(1);
	_exit(0);
}

static int
run(const struct target *t, long seconds, long max, long procs)
{
	struct result total = { 0, 0 }, res;
	double start, elapsed;
	int pfd[2];
	long i;

	if (pipe(pfd) < 0) {
		perror("connrate: pipe");
		return 1;
	}
	start = now_s();
	for (i = 0; i < procs; i++) {
		unsigned long share = (unsigned long)(max / procs +
		    (i < max % procs));
		pid_t pid = fork();

		if (pid < 0) {
			perror("connrate: fork");
			return 1;
		}
		if (pid == 0) {
			close(pfd[0]);
			run_worker(t, start + (double)seconds, share, pfd[1]);
		}
	}
	close(pfd[1]);
	while (read(pfd[0], &res, sizeof(res)) == (ssize_t)sizeof(res)) {
		total.ok += res.ok;
		total.errors += res.errors;
	}
	while (wait(NULL) > 0)
		;
	elapsed = now_s() - start;
	printf("conns=%lu errors=%lu seconds=%.3f rate=%.0f\n", total.ok,
	    total.errors, elapsed, (double)total.ok / elapsed);
	return total.ok ? 0 : 1;
}

int
main(int argc, char **argv)
{
	long seconds = 3, max = 1000000, procs = 4, workers = 2;
	long lifetime = 1800;
	struct target t = { .srclen = 0 };
	int c;

	if (argc < 4 || parse_addr(argv[2], argv[3], &t.dst, &t.dstlen) < 0)
		usage();
	optind = 4;
	while ((c = getopt(argc, argv, "t:n:p:w:T:b:")) != -1) {
		switch (c) {
		case 't':
			seconds = opt_long(optarg, 1, 600);
			break;
		case 'n':
			max = opt_long(optarg, 1, 100000000);
			break;
		case 'p':
			procs = opt_long(optarg, 1, MAX_PROCS);
			break;
		case 'w':
			workers = opt_long(optarg, 1, MAX_PROCS);
			break;
		case 'T':
			lifetime = opt_long(optarg, 1, 86400);
			break;
		case 'b':
			if (parse_addr(optarg, "1", &t.src, &t.srclen) < 0)
				usage();
			/* any port: parse_addr wants one, bind takes 0 */
			((struct sockaddr_in *)&t.src)->sin_port = 0;
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
	if (!strcmp(argv[1], "serve"))
		return serve(&t.dst, t.dstlen, workers, lifetime);
	if (!strcmp(argv[1], "run"))
		return run(&t, seconds, max, procs);
	usage();
	return 2;
}
