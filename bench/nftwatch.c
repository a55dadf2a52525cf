/*
 * nftwatch.c: when does an address enter an nftables set?  For
 * bench/daemon.sh, which measures how fast the daemon reacts to Docker.
 *
 *   nftwatch TABLE PREFIX/LEN [-T LIFETIME]
 *
 * Listens to the nftables multicast group of the network namespace it
 * runs in, which the kernel notifies after each committed transaction,
 * and prints one line for every IPv4 set or map element of TABLE whose
 * key lies in PREFIX (interval ends left out):
 *
 *   SECONDS.NANOSECONDS SET ADDRESS
 *
 * The time is CLOCK_REALTIME at receipt, comparable with Docker's event
 * times.  Output is flushed per line.  It exits after LIFETIME seconds
 * (default 3600) or on SIGTERM.  A lost notification (the socket buffer
 * overflowed) prints "# lost" and watching goes on.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct watch {
	const char	*table;
	uint32_t	net;		/* host order */
	uint32_t	mask;
	struct timespec	now;		/* receipt of the current datagram */
	const char	*set;		/* of the current message */
};

static void
usage(void)
{
	fputs("usage: nftwatch TABLE PREFIX/LEN [-T LIFETIME]\n", stderr);
	exit(2);
}

/*
 * the 4-byte value of NFTA_SET_ELEM_KEY, or -1.  The end of an interval
 * is skipped: its key is the first address after the interval, not in
 * it, and would otherwise show an address that is not in the set.
 */
static int
elem_key(const struct nlattr *elem, uint32_t *ret_addr)
{
	const struct nlattr *a, *k;
	bool found = false;

	mnl_attr_for_each_nested(a, elem) {
		if (mnl_attr_get_type(a) == NFTA_SET_ELEM_FLAGS &&
		    mnl_attr_get_payload_len(a) == 4 &&
		    (ntohl(mnl_attr_get_u32(a)) & NFT_SET_ELEM_INTERVAL_END))
			return -1;
		if (mnl_attr_get_type(a) != NFTA_SET_ELEM_KEY)
			continue;
		mnl_attr_for_each_nested(k, a) {
			if (mnl_attr_get_type(k) == NFTA_DATA_VALUE &&
			    mnl_attr_get_payload_len(k) == 4) {
				memcpy(ret_addr, mnl_attr_get_payload(k), 4);
				found = true;
			}
		}
	}
	return found ? 0 : -1;
}

static void
print_elems(struct watch *w, const struct nlattr *list)
{
	const struct nlattr *elem;
	char buf[INET_ADDRSTRLEN];
	uint32_t addr;

	mnl_attr_for_each_nested(elem, list) {
		if (elem_key(elem, &addr) < 0)
			continue;
		if ((ntohl(addr) & w->mask) != w->net)
			continue;
		inet_ntop(AF_INET, &addr, buf, sizeof(buf));
		printf("%lld.%09ld %s %s\n", (long long)w->now.tv_sec,
		    w->now.tv_nsec, w->set ? w->set : "?", buf);
	}
}

static int
msg_cb(const struct nlmsghdr *nlh, void *data)
{
	struct watch *w = data;
	const struct nlattr *a, *elems = NULL;
	const char *table = NULL;

	if ((nlh->nlmsg_type & 0xff) != NFT_MSG_NEWSETELEM)
		return MNL_CB_OK;
	w->set = NULL;
	mnl_attr_for_each(a, nlh, sizeof(struct nfgenmsg)) {
		switch (mnl_attr_get_type(a)) {
		case NFTA_SET_ELEM_LIST_TABLE:
			table = mnl_attr_get_str(a);
			break;
		case NFTA_SET_ELEM_LIST_SET:
			w->set = mnl_attr_get_str(a);
			break;
		case NFTA_SET_ELEM_LIST_ELEMENTS:
			elems = a;
			break;
		}
	}
	if (table && elems && !strcmp(table, w->table))
		print_elems(w, elems);
	return MNL_CB_OK;
}

static int
parse_prefix(const char *s, struct watch *w)
{
	char buf[INET_ADDRSTRLEN + 4], *slash;
	struct in_addr in;
	long len;

	if (strlen(s) >= sizeof(buf))
		return -1;
	strcpy(buf, s);
	slash = strchr(buf, '/');
	if (!slash)
		return -1;
	*slash = '\0';
	len = strtol(slash + 1, NULL, 10);
	if (len < 0 || len > 32 || inet_pton(AF_INET, buf, &in) != 1)
		return -1;
	w->mask = len ? ~0u << (32 - len) : 0;
	w->net = ntohl(in.s_addr) & w->mask;
	return 0;
}

int
main(int argc, char **argv)
{
	static char buf[1 << 20];
	struct watch w = { 0 };
	struct mnl_socket *nl;
	int group = NFNLGRP_NFTABLES, rcvbuf = 64 << 20, c;
	long lifetime = 3600;
	ssize_t n;

	if (argc < 3)
		usage();
	w.table = argv[1];
	if (parse_prefix(argv[2], &w) < 0)
		usage();
	optind = 3;
	while ((c = getopt(argc, argv, "T:")) != -1) {
		if (c != 'T')
			usage();
		lifetime = strtol(optarg, NULL, 10);
		if (lifetime <= 0)
			usage();
	}
	alarm((unsigned)lifetime);

	nl = mnl_socket_open(NETLINK_NETFILTER);
	if (!nl || mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0 ||
	    mnl_socket_setsockopt(nl, NETLINK_ADD_MEMBERSHIP, &group,
	    sizeof(group)) < 0) {
		perror("nftwatch: netlink");
		return 1;
	}
	/* big sets come as many messages at once: room for them */
	if (setsockopt(mnl_socket_get_fd(nl), SOL_SOCKET, SO_RCVBUFFORCE,
	    &rcvbuf, sizeof(rcvbuf)) < 0)
		perror("nftwatch: SO_RCVBUFFORCE");
	printf("# ready\n");
	fflush(stdout);

	for (;;) {
		n = mnl_socket_recvfrom(nl, buf, sizeof(buf));
		if (n < 0) {
			if (errno == ENOBUFS) {
				printf("# lost\n");
				fflush(stdout);
				continue;
			}
			if (errno == EINTR)
				continue;
			perror("nftwatch: recv");
			return 1;
		}
		clock_gettime(CLOCK_REALTIME, &w.now);
		mnl_cb_run(buf, (size_t)n, 0, 0, msg_cb, &w);
		fflush(stdout);
	}
}
