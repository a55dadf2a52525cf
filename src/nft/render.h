/*
 * render.h: the model as one nftables transaction, in nft's own syntax.
 */
#ifndef RF_RENDER_H
#define RF_RENDER_H

#include <stdint.h>

#include "model/model.h"
#include "util.h"

/* ringfence owns exactly this table and nothing else in nftables. */
#define RF_TABLE_FAMILY	"inet"
#define RF_TABLE_NAME	"ringfence"

/*
 * The packet mark bit that ringfence sets on forwarded packets it allows
 * into a confined container.  Docker's FORWARD chain drops them otherwise;
 * the one rule ringfence keeps in DOCKER-USER accepts this bit.
 * XXX fixed for now: a host whose other tools use this bit needs a setting.
 */
#define RF_MARK		0x01000000u
#define RF_MARK_STR	"0x1000000"	/* the same, as iptables prints it */

/*
 * What the daemon knows of the Docker host: the bridges to guard, and
 * every address on them that belongs to a known container.  Bridge names
 * must already be checked safe for nft text (docker/api.c does).
 */
struct render_guard {
	const char *const	*bridges;
	size_t			 nbridges;
	struct rf_rangeset	 known_v4;	/* normalised */
	struct rf_rangeset	 known_v6;
};

/*
 * Append the whole transaction to out: it creates the table if missing,
 * deletes it, and defines it anew, so that loading it replaces ringfence's
 * previous ruleset atomically.  guard may be NULL (no Docker guard).
 */
void render_ruleset(const struct rf_model *m, const struct render_guard *guard,
	struct strbuf *out);

/* The transaction that removes the table, whether it exists or not. */
void render_flush(struct strbuf *out);

/* ---- incremental updates (the daemon) ---- */

enum render_kind {
	RENDER_SET,
	RENDER_MAP,
	RENDER_CHAIN,
};

/* One set, map or chain of the table, by fingerprint. */
struct render_obj {
	char			*name;
	enum render_kind	 kind;
	uint64_t		 decl;	/* type, flags, hook: fixed once made */
	uint64_t		 body;	/* elements or rules */
};

/* Every object of a rendered table, in the order rendered. */
struct render_state {
	struct render_obj	*objs;
	size_t			 n;
	size_t			 cap;
};

/*
 * render_ruleset(), and the fingerprints of what it rendered in *ret
 * (empty on entry), for a later render_delta() against it.
 */
void render_ruleset_state(const struct rf_model *m,
	const struct render_guard *guard, struct strbuf *out,
	struct render_state *ret);

/*
 * The transaction that turns the table described by prev into the one
 * render_ruleset() would make now, touching only the objects whose
 * fingerprint differs: changed ones are flushed and filled again,
 * vanished ones deleted, new ones created, all in one transaction.  A
 * large set that did not change is neither rendered nor sent.  Appends
 * nothing when nothing changed.  Returns 0 with the new fingerprints in
 * *ret (empty on entry), or -ENOTSUP, with *ret untouched, when an
 * object's declaration changed: only a full replace can do that.
 */
int render_delta(const struct rf_model *m, const struct render_guard *guard,
	const struct render_state *prev, struct strbuf *out,
	struct render_state *ret);

void render_state_free(struct render_state *st);

#endif
