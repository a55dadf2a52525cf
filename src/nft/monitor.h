/*
 * monitor.h: noticing, from nftables netlink notifications, that someone
 * else changed ringfence's table or Docker's DOCKER-USER chain.
 *
 * Changes made through legacy iptables are not announced; the daemon's
 * periodic check covers those.
 */
#ifndef RF_MONITOR_H
#define RF_MONITOR_H

enum {
	MONITOR_TABLE		= 1 << 0,	/* ringfence's table touched */
	MONITOR_DOCKER_USER	= 1 << 1,	/* an iptables filter table or
						 * DOCKER-USER touched */
	MONITOR_OVERRUN		= 1 << 2,	/* messages lost: check all */
};

struct nft_monitor;

int monitor_open(struct nft_monitor **ret);
int monitor_fd(const struct nft_monitor *mon);

/*
 * Read what is pending without blocking; *ret_flags gets the MONITOR_*
 * bits of every complete transaction made by another process.  Returns 0
 * or a negative errno.
 */
int monitor_read(struct nft_monitor *mon, unsigned *ret_flags);
void monitor_close(struct nft_monitor *mon);

#endif
