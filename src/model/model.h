/*
 * model.h: the compiled policy.
 *
 * Every name is resolved and every address list is flattened into sorted,
 * disjoint ranges per family.  Each rule remembers where it was written.
 * The nftables backend renders this model, and anything that must explain
 * a verdict reads it too: the model, not the rendered text, is the truth.
 */
#ifndef RF_MODEL_H
#define RF_MODEL_H

#include <stdbool.h>
#include <stdint.h>

#include "diag.h"
#include "model/addr.h"
#include "policy/ast.h"

/* A set of peers: any, the host's own addresses, and explicit ranges. */
struct rf_addrset {
	bool			any;
	bool			host;
	struct rf_rangeset	v4;
	struct rf_rangeset	v6;
};

enum rf_match {
	MATCH_ALL,	/* every protocol */
	MATCH_PROTO,	/* one protocol, all ports (or none) */
	MATCH_PORTS,	/* listed (protocol, port range) pairs */
};

struct rf_portrange {
	uint8_t		proto;
	uint16_t	lo;
	uint16_t	hi;
};

struct rf_publish {
	bool			set;
	struct rf_loc		loc;		/* of the host port */
	bool			has_addr;	/* else every local address */
	struct rf_prefix	addr;
	uint16_t		host_port;
	uint16_t		port;		/* the container port */
	uint8_t			proto;
};

struct rf_rule {
	unsigned		 index;	/* 1-based among the allow rules */
	enum rf_dir		 dir;
	struct rf_addrset	 peers;
	enum rf_match		 match;
	uint8_t			 proto;	/* MATCH_PROTO */
	struct rf_portrange	*ports;	/* MATCH_PORTS: sorted, disjoint */
	size_t			 nports;
	struct rf_publish	 publish;
	bool			 log;
	struct rf_loc		 loc;
	const char		*text;	/* as written; owned by the policy */
};

struct rf_container {
	unsigned		 index;	/* position in the policy, from 0 */
	const char		*name;	/* owned by the policy */
	const char		*label_key;	/* label block, or NULL */
	const char		*label_value;
	struct rf_loc		 loc;
	bool			 static_addrs;	/* 'address' was given */
	struct rf_prefix	*addrs;	/* static and bound; v4 first, then
					 * v6, each sorted */
	size_t			 naddrs;
	struct rf_rule		*rules;
	size_t			 nrules;
	enum rf_action		 deny[2];	/* by rf_dir */
};

struct rf_model {
	struct policy		 pol;	/* owns the text and the sources */
	struct rf_container	*containers;
	size_t			 ncontainers;
};

/* Addresses bound to one policy block from outside the policy (Docker). */
struct rf_bound {
	const struct rf_prefix	*addrs;
	size_t			 naddrs;
};

/*
 * Parse and compile the policy at path.  Problems are recorded in diags;
 * returns 0 when there were none, -EINVAL when there were, or another
 * negative errno.  The model is valid (and must be freed) in every case.
 */
int model_load(const char *path, struct rf_model *ret, struct rf_diags *diags);

/*
 * Compile the loaded policy again with bound[i] added to the addresses of
 * block i (bound may be NULL).  The caller keeps bound addresses disjoint
 * from each other and from the policy's own.
 */
int model_compile(struct rf_model *m, const struct rf_bound *bound,
	struct rf_diags *diags);
void model_free(struct rf_model *m);

/* The first address of a family, or NULL. */
const struct rf_prefix *container_addr(const struct rf_container *c,
	int family);

#endif
