/*
 * dockeruser.h: ringfence's one rule in Docker's DOCKER-USER chains.
 *
 * Docker's FORWARD chain drops what it did not publish itself, and an
 * accept in ringfence's own table cannot overrule another table's drop.
 * So ringfence keeps one rule at the top of DOCKER-USER (IPv4, and IPv6
 * where Docker made that chain) that accepts packets carrying RF_MARK,
 * which only ringfence's forward chain sets, on packets it allowed.
 */
#ifndef RF_DOCKERUSER_H
#define RF_DOCKERUSER_H

#include <stdbool.h>

/* Per family: index 0 is iptables, 1 is ip6tables. */
struct dockeruser_state {
	bool	added[2];	/* the rule was missing and ensure added it */
};

/*
 * Add the rule wherever a DOCKER-USER chain exists and lacks it.  Returns
 * 0 or a negative errno with *ret_error set (to be freed).
 */
int dockeruser_ensure(struct dockeruser_state *ret, char **ret_error);

/* Remove what ensure added, after a later step failed. */
void dockeruser_undo(const struct dockeruser_state *st);

/* Remove the rule from every DOCKER-USER chain that holds it. */
int dockeruser_remove(char **ret_error);

#endif
