/*
 * bind.h: which running containers each policy block confines.
 */
#ifndef RF_BIND_H
#define RF_BIND_H

#include "docker/docker.h"
#include "model/model.h"
#include "nft/render.h"

struct bind_block {
	const struct docker_container	**members;	/* into the inventory */
	size_t				  nmembers;
	size_t				  capmembers;
	struct rf_prefix		 *addrs;	/* of all members */
	size_t				  naddrs;
	size_t				  capaddrs;
};

struct binding {
	struct bind_block	*blocks;	/* one per policy block */
	size_t			 nblocks;
	struct rf_bound		*bound;		/* the same, for the compiler */
	const char		**bridges;	/* into the inventory */
	struct render_guard	 guard;
};

/*
 * Bind the containers of inv (may be NULL) to the blocks of m.  A
 * container is confined by the block of its name if there is one, else by
 * the first label block it matches.  An address already given to another
 * block is not bound again (logged).  The guard covers every Docker
 * bridge and knows the policy's static addresses and every bound one;
 * the addresses of unconfined containers only when inv is current
 * (trust_unconfined): while Docker is away it may hand them to confined
 * containers it restarts.
 */
void bind_compute(const struct rf_model *m, const struct docker_inventory *inv,
	bool trust_unconfined, struct binding *ret);
void binding_free(struct binding *b);

#endif
