/*
 * monitor.c: nftables notifications through libmnl.
 *
 * The kernel sends one message per changed object, then NFT_MSG_NEWGEN
 * naming the process that committed the transaction.  Flags gathered from
 * the objects are reported at that message when the process is not us;
 * ringfence's own commits come with its own PID and are ignored.
 * Commits by iptables programs that ringfence itself ran are reported:
 * the daemon checks rather than acts blindly, so that does no harm.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nft/monitor.h"
#include "nft/render.h"
#include "util.h"

struct nft_monitor {
	struct mnl_socket	*nl;
	unsigned		 pending;	/* flags of the open transaction */
	unsigned		 done;		/* flags of finished foreign ones */
	pid_t			 self;
};

/* Room for the notifications of a large foreign transaction. */
#define MONITOR_RCVBUF	(16 << 20)

int
monitor_open(struct nft_monitor **ret)
{
	struct nft_monitor *mon = xcalloc(1, sizeof(*mon));
	int group = NFNLGRP_NFTABLES, rcvbuf = MONITOR_RCVBUF, r;

	mon->self = getpid();
	mon->nl = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC |
	    SOCK_NONBLOCK);
	if (!mon->nl) {
		r = -errno;
		free(mon);
		return r;
	}
	if (mnl_socket_bind(mon->nl, 0, MNL_SOCKET_AUTOPID) < 0 ||
	    mnl_socket_setsockopt(mon->nl, NETLINK_ADD_MEMBERSHIP, &group,
	    sizeof(group)) < 0) {
		r = -errno;
		monitor_close(mon);
		return r;
	}
	/* Best effort: without it, overruns only cost extra checks. */
	setsockopt(mnl_socket_get_fd(mon->nl), SOL_SOCKET, SO_RCVBUFFORCE,
	    &rcvbuf, sizeof(rcvbuf));
	*ret = mon;
	return 0;
}

int
monitor_fd(const struct nft_monitor *mon)
{
	return mnl_socket_get_fd(mon->nl);
}

/* The string attribute at index type of a message, or NULL. */
static const char *
attr_str(const struct nlmsghdr *nlh, unsigned type)
{
	const struct nlattr *attr;

	mnl_attr_for_each(attr, nlh, sizeof(struct nfgenmsg)) {
		if (mnl_attr_get_type(attr) != type)
			continue;
		if (mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) < 0)
			return NULL;
		return mnl_attr_get_str(attr);
	}
	return NULL;
}

static uint32_t
attr_u32(const struct nlmsghdr *nlh, unsigned type)
{
	const struct nlattr *attr;

	mnl_attr_for_each(attr, nlh, sizeof(struct nfgenmsg)) {
		if (mnl_attr_get_type(attr) == type &&
		    mnl_attr_validate(attr, MNL_TYPE_U32) == 0)
			return ntohl(mnl_attr_get_u32(attr));
	}
	return 0;
}

static int
on_message(const struct nlmsghdr *nlh, void *data)
{
	struct nft_monitor *mon = data;
	const struct nfgenmsg *gen = mnl_nlmsg_get_payload(nlh);
	unsigned type = NFNL_MSG_TYPE(nlh->nlmsg_type);
	const char *table;

	if (NFNL_SUBSYS_ID(nlh->nlmsg_type) != NFNL_SUBSYS_NFTABLES)
		return MNL_CB_OK;
	if (type == NFT_MSG_NEWGEN) {
		if ((pid_t)attr_u32(nlh, NFTA_GEN_PROC_PID) != mon->self)
			mon->done |= mon->pending;
		mon->pending = 0;
		return MNL_CB_OK;
	}

	/* Table, chain, rule, set and element messages: table name is 1. */
	table = attr_str(nlh, NFTA_TABLE_NAME);
	if (!table)
		return MNL_CB_OK;
	if (gen->nfgen_family == NFPROTO_INET &&
	    !strcmp(table, RF_TABLE_NAME))
		mon->pending |= MONITOR_TABLE;
	if ((gen->nfgen_family == NFPROTO_IPV4 ||
	    gen->nfgen_family == NFPROTO_IPV6) && !strcmp(table, "filter"))
		mon->pending |= MONITOR_DOCKER_USER;
	return MNL_CB_OK;
}

int
monitor_read(struct nft_monitor *mon, unsigned *ret_flags)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	ssize_t n;
	int r = 0;

	for (;;) {
		n = mnl_socket_recvfrom(mon->nl, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n < 0 && errno == ENOBUFS) {
			/* The kernel dropped messages: assume the worst. */
			mon->done |= MONITOR_OVERRUN | MONITOR_TABLE |
			    MONITOR_DOCKER_USER;
			continue;
		}
		if (n < 0) {
			r = -errno;
			break;
		}
		if (mnl_cb_run(buf, (size_t)n, 0, 0, on_message, mon) < 0 &&
		    errno != ENOENT) {
			/* A malformed message: check everything. */
			mon->done |= MONITOR_TABLE | MONITOR_DOCKER_USER;
		}
	}
	*ret_flags = mon->done;
	mon->done = 0;
	return r;
}

void
monitor_close(struct nft_monitor *mon)
{
	if (!mon)
		return;
	mnl_socket_close(mon->nl);
	free(mon);
}
