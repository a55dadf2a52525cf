/*
 * bind.c: matching Docker's running containers to policy blocks.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "daemon/bind.h"
#include "log.h"

static int
find_block(const struct rf_model *m, const struct docker_container *dc)
{
	size_t i;

	if (dc->name)
		for (i = 0; i < m->pol.ncontainers; i++)
			if (!m->pol.containers[i]->label_key &&
			    !strcmp(m->pol.containers[i]->name, dc->name))
				return (int)i;
	for (i = 0; i < m->pol.ncontainers; i++) {
		const struct pol_container *c = m->pol.containers[i];
		const char *v;

		if (!c->label_key)
			continue;
		v = docker_label(dc, c->label_key);
		if (v && !strcmp(v, c->label_value))
			return (int)i;
	}
	return -1;
}

/*
 * Whether addr is a static address of any block, or already bound.  The
 * policy, not the compiled model, holds the static addresses: the model
 * also holds what was bound last time.
 */
static int
address_owner(const struct rf_model *m, const struct binding *b,
	const struct rf_prefix *addr)
{
	size_t i, j;

	for (i = 0; i < m->pol.ncontainers; i++) {
		const struct pol_container *pc = m->pol.containers[i];

		for (j = 0; j < pc->naddrs; j++)
			if (pc->addrs[j].addr.family == addr->family &&
			    pc->addrs[j].addr.addr == addr->addr)
				return (int)i;
		for (j = 0; j < b->blocks[i].naddrs; j++)
			if (b->blocks[i].addrs[j].family == addr->family &&
			    b->blocks[i].addrs[j].addr == addr->addr)
				return (int)i;
	}
	return -1;
}

static void
bind_address(const struct rf_model *m, struct binding *b, size_t block,
	const struct docker_container *dc, const struct rf_prefix *addr)
{
	struct bind_block *bb = &b->blocks[block];
	int owner = address_owner(m, b, addr);
	struct rf_prefix *slot;

	/* The block's own static address: it holds it already. */
	if (owner == (int)block)
		return;
	if (owner >= 0) {
		struct strbuf sb;

		strbuf_init(&sb);
		prefix_format(addr, &sb);
		log_warn("container %.12s: address %s is already confined by "
		    "another block; not bound to %s", dc->id, sb.buf,
		    m->pol.containers[block]->name);
		strbuf_free(&sb);
		return;
	}
	slot = vec_push(&bb->addrs, &bb->naddrs, &bb->capaddrs,
	    sizeof(*slot));
	*slot = *addr;
}

static void
add_known(struct binding *b, const struct rf_prefix *p)
{
	rangeset_add_prefix(p->family == AF_INET ? &b->guard.known_v4 :
	    &b->guard.known_v6, p);
}

static void
bind_guard(const struct rf_model *m, const struct docker_inventory *inv,
	bool trust_unconfined, struct binding *b)
{
	size_t i, j;

	b->bridges = xcalloc(inv ? inv->nnetworks : 0, sizeof(*b->bridges));
	for (i = 0; inv && i < inv->nnetworks; i++)
		if (inv->networks[i].bridge)
			b->bridges[b->guard.nbridges++] =
			    inv->networks[i].bridge;
	b->guard.bridges = b->bridges;

	for (i = 0; trust_unconfined && inv && i < inv->ncontainers; i++) {
		const struct docker_container *dc = &inv->containers[i];

		for (j = 0; j < dc->nnets; j++) {
			if (dc->nets[j].has_v4)
				add_known(b, &dc->nets[j].v4);
			if (dc->nets[j].has_v6)
				add_known(b, &dc->nets[j].v6);
		}
	}
	for (i = 0; i < m->pol.ncontainers; i++) {
		for (j = 0; j < m->pol.containers[i]->naddrs; j++)
			add_known(b, &m->pol.containers[i]->addrs[j].addr);
		for (j = 0; j < b->blocks[i].naddrs; j++)
			add_known(b, &b->blocks[i].addrs[j]);
	}
	rangeset_normalize(&b->guard.known_v4);
	rangeset_normalize(&b->guard.known_v6);
}

void
bind_compute(const struct rf_model *m, const struct docker_inventory *inv,
	bool trust_unconfined, struct binding *ret)
{
	size_t i, j;

	memset(ret, 0, sizeof(*ret));
	ret->nblocks = m->pol.ncontainers;
	ret->blocks = xcalloc(ret->nblocks, sizeof(*ret->blocks));
	ret->bound = xcalloc(ret->nblocks, sizeof(*ret->bound));

	for (i = 0; inv && i < inv->ncontainers; i++) {
		const struct docker_container *dc = &inv->containers[i];
		int block = find_block(m, dc);
		const struct docker_container **slot;

		if (block < 0)
			continue;
		slot = vec_push(&ret->blocks[block].members,
		    &ret->blocks[block].nmembers,
		    &ret->blocks[block].capmembers, sizeof(*slot));
		*slot = dc;
		for (j = 0; j < dc->nnets; j++) {
			if (dc->nets[j].has_v4)
				bind_address(m, ret, (size_t)block, dc,
				    &dc->nets[j].v4);
			if (dc->nets[j].has_v6)
				bind_address(m, ret, (size_t)block, dc,
				    &dc->nets[j].v6);
		}
	}
	for (i = 0; i < ret->nblocks; i++) {
		ret->bound[i].addrs = ret->blocks[i].addrs;
		ret->bound[i].naddrs = ret->blocks[i].naddrs;
	}
	bind_guard(m, inv, trust_unconfined, ret);
}

void
binding_free(struct binding *b)
{
	size_t i;

	for (i = 0; i < b->nblocks; i++) {
		free(b->blocks[i].members);
		free(b->blocks[i].addrs);
	}
	free(b->blocks);
	free(b->bound);
	free(b->bridges);
	rangeset_free(&b->guard.known_v4);
	rangeset_free(&b->guard.known_v6);
	memset(b, 0, sizeof(*b));
}
