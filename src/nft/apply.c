/*
 * apply.c: the DOCKER-USER rule and the table, in that order.
 *
 * The DOCKER-USER rule goes in first: it accepts only RF_MARK, which
 * nothing sets until the table is loaded, so it is harmless on its own.
 */
#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "nft/apply.h"
#include "nft/dockeruser.h"
#include "nft/load.h"
#include "nft/render.h"
#include "util.h"

const char ruleset_fault_loop[] =
	"table " RF_TABLE_FAMILY " " RF_TABLE_NAME " {\n"
	"\tchain fault_a {\n\t}\n"
	"\tchain fault_b {\n\t\tjump fault_a\n\t}\n"
	"}\n"
	"add rule " RF_TABLE_FAMILY " " RF_TABLE_NAME " fault_a jump fault_b\n"
	"add rule " RF_TABLE_FAMILY " " RF_TABLE_NAME " forward jump fault_a\n";

int
ruleset_apply(const char *text, char **ret_error)
{
	struct dockeruser_state du;
	char *err = NULL;
	int r;

	r = dockeruser_ensure(&du, ret_error);
	if (r < 0)
		return r;
	r = nft_load(text, &err);
	if (r < 0) {
		dockeruser_undo(&du);
		*ret_error = xasprintf("the kernel did not accept the ruleset; "
		    "the previous one stays in force:\n%s", err);
		free(err);
	}
	return r;
}

/*
 * Checking the DOCKER-USER rule runs iptables and ip6tables: left to the
 * full loads, the monitor and the backstop, it costs a delta nothing.
 */
int
ruleset_update(const char *text, char **ret_error)
{
	char *err = NULL;
	int r;

	r = nft_load(text, &err);
	if (r < 0) {
		*ret_error = xasprintf("the kernel did not accept the update; "
		    "the previous ruleset stays in force:\n%s", err);
		free(err);
	}
	return r;
}

/*
 * One netlink request for the table itself.  nft's "list tables" would
 * do, but nft 1.0.6 fetches every set element with it: 0.8 s with a
 * 100,000-prefix policy, on every check.
 */
int
ruleset_present(void)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct mnl_socket *nl;
	struct nlmsghdr *nlh;
	struct nfgenmsg *nfg;
	unsigned portid, seq = (unsigned)time(NULL);
	ssize_t n;
	int r;

	nl = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC);
	if (!nl)
		return -errno;
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		r = -errno;
		mnl_socket_close(nl);
		return r;
	}
	portid = mnl_socket_get_portid(nl);

	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_GETTABLE;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	nlh->nlmsg_seq = seq;
	nfg = mnl_nlmsg_put_extra_header(nlh, sizeof(*nfg));
	nfg->nfgen_family = NFPROTO_INET;
	nfg->version = NFNETLINK_V0;
	nfg->res_id = 0;
	mnl_attr_put_strz(nlh, NFTA_TABLE_NAME, RF_TABLE_NAME);

	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) {
		r = -errno;
		mnl_socket_close(nl);
		return r;
	}
	/* The table, then the acknowledgement; or an error. */
	r = 1;
	for (;;) {
		n = mnl_socket_recvfrom(nl, buf, sizeof(buf));
		if (n < 0) {
			r = -errno;
			break;
		}
		r = mnl_cb_run(buf, (size_t)n, seq, portid, NULL, NULL);
		if (r == MNL_CB_STOP) {
			r = 1;
			break;
		}
		if (r < 0) {
			r = errno == ENOENT ? 0 : -errno;
			break;
		}
	}
	mnl_socket_close(nl);
	return r;
}
