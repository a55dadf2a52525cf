/*
 * ast.h: the policy as written, before names are resolved.
 *
 * The parser builds these; compile.c turns them into the model
 * (model/model.h) that the backends and future commands read.
 */
#ifndef RF_AST_H
#define RF_AST_H

#include <stdbool.h>
#include <stdint.h>

#include "diag.h"
#include "model/addr.h"

enum rf_dir {
	DIR_IN,
	DIR_OUT,
};

enum rf_action {
	ACTION_DROP,
	ACTION_REJECT,
};

enum pol_addr_kind {
	PADDR_ANY,
	PADDR_HOST,		/* every local address of the host */
	PADDR_PREFIX,
	PADDR_CONTAINER,	/* the addresses of a named container */
	PADDR_VAR,		/* $NAME */
	PADDR_LIST,
};

struct pol_define;

/* An IPv4 prefix in a list, in 8 bytes instead of 32. */
struct pol_v4 {
	uint32_t	addr;
	uint8_t		len;
};

struct pol_addr {
	enum pol_addr_kind	 kind;
	struct rf_loc		 loc;
	struct rf_prefix	 prefix;	/* PADDR_PREFIX */
	char			*name;		/* PADDR_CONTAINER */
	const struct pol_define	*def;		/* PADDR_VAR, not owned */
	struct pol_addr		**items;	/* PADDR_LIST: all but */
	size_t			 nitems;
	size_t			 capitems;
	struct rf_prefix	*prefixes;	/* its plain addresses, kept
						 * apart: a list may hold
						 * 100,000 of them */
	size_t			 nprefixes;
	size_t			 capprefixes;
	struct pol_v4		*v4;		/* IPv4 ones, compact: a
						 * fourth of the room */
	size_t			 nv4;
	size_t			 capv4;
};

/* One port or port range of one protocol. */
struct pol_port {
	uint8_t		proto;	/* IPPROTO_TCP, _UDP or _SCTP */
	uint16_t	lo;
	uint16_t	hi;
	struct rf_loc	loc;
};

struct pol_rule {
	struct rf_loc	 loc;		/* of the first word */
	char		*text;		/* the rule as written, one line */
	bool		 is_deny;
	enum rf_dir	 dir;
	enum rf_action	 action;	/* deny rules */

	struct pol_addr	*peer;		/* from/to; NULL means any */
	struct pol_port	*ports;		/* port clause; NULL if none */
	size_t		 nports;
	size_t		 capports;
	int		 proto;		/* proto clause, or -1 */

	bool		 publish;
	bool		 publish_has_addr;
	struct rf_prefix publish_addr;
	uint16_t	 publish_port;
	struct rf_loc	 publish_loc;

	bool		 log;
};

struct pol_container_addr {
	struct rf_prefix	addr;
	struct rf_loc		loc;
};

struct pol_container {
	char			 *name;		/* label blocks: "label K=V" */
	struct rf_loc		  loc;		/* of the name or label */
	char			 *label_key;	/* label selector, or NULL */
	char			 *label_value;
	bool			  has_address;
	struct pol_container_addr *addrs;
	size_t			  naddrs;
	size_t			  capaddrs;
	struct pol_rule		 *rules;
	size_t			  nrules;
	size_t			  caprules;
};

struct pol_define {
	char		*name;
	struct rf_loc	 loc;
	struct pol_addr	*value;
};

struct policy {
	struct rf_source	 *sources;	/* every file read */
	struct pol_define	**defines;
	size_t			  ndefines;
	size_t			  capdefines;
	struct pol_container	**containers;
	size_t			  ncontainers;
	size_t			  capcontainers;
};

/*
 * Read and parse the policy in path, following includes.  Problems are
 * recorded in diags; the return value is 0, or a negative errno when the
 * main file cannot be read (also recorded).
 */
int policy_parse(const char *path, struct policy *ret, struct rf_diags *diags);
void policy_free(struct policy *pol);

/*
 * Free the source texts of a policy that parsed cleanly: locations keep
 * their file, line and column, only excerpts are lost.  A daemon holding
 * a large policy for days needs no copy of its text.
 */
void policy_drop_text(struct policy *pol);

const char *proto_name(int proto);

#endif
