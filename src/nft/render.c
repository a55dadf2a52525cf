/*
 * render.c: the compiled model in nft syntax.
 *
 * Layout of the table (one per host, "inet ringfence"):
 *
 *   maps in_v4/in_v6       container address -> in_NAME
 *   maps fwd_in_v4/_v6     container address -> mark_in_NAME, which sets
 *                          RF_MARK and goes on to in_NAME
 *   maps out_v4/out_v6     container address -> out_NAME
 *   sets peers_NAME_rN_v4  the peers of allow rule N of container NAME
 *
 * A label block (container label K=V) has no name to use: its objects are
 * lin_I, lout_I, lmark_in_I and lpeers_I_rN_v4, I its place in the
 * policy.  Every generated name is a fixed prefix that no other prefix
 * starts with, then the container name or index, then at most a
 * fixed-shape suffix, so two blocks can never share a chain or a set.
 *
 * With a guard (the daemon), packets arriving from a Docker bridge whose
 * source is no address ringfence knows are dropped before anything else:
 * a container that has just started, or restarted with a new address, is
 * denied until ringfence has classified it.
 *
 *   forward (filter - 10)  established,related accept; source's out
 *                          chain; destination's fwd_in chain
 *   input   (filter - 10)  container to host: the source's out chain
 *   output  (filter - 10)  host to container: the destination's in chain
 *   prerouting, output_nat (dstnat - 10): publish DNAT
 *
 * Each packet costs one map lookup per direction and one set lookup per
 * allow rule of the container it touches, however many addresses the
 * policy lists.  An "out" chain returns on allow so the destination can
 * still be checked; an "in" chain is the last check and accepts.  Either
 * ends in the container's deny action, which is final across all base
 * chains.
 *
 * The daemon changes the table often and the policy seldom, so every set,
 * map and chain is rendered as an object with a fingerprint: a hash of
 * its declaration and one of its elements or rules.  A delta sends only
 * the objects whose fingerprint changed (see render_delta()); a large
 * set of peers is fingerprinted from the model without rendering it.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "nft/render.h"

#define ELEMENTS_WIDTH	64

static const char *const nd_types =
	"icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert, "
	"nd-router-solicit, nd-router-advert, nd-redirect } "
	"ip6 hoplimit 255";

static const char *
dir_name(enum rf_dir dir)
{
	return dir == DIR_IN ? "in" : "out";
}

static const char *
fam_suffix(int family)
{
	return family == AF_INET ? "v4" : "v6";
}

static const char *
fam_kw(int family)
{
	return family == AF_INET ? "ip" : "ip6";
}

static const struct rf_rangeset *
peers_of(const struct rf_rule *r, int family)
{
	return family == AF_INET ? &r->peers.v4 : &r->peers.v6;
}

/*
 * Copy text into a quoted nft string: nft strings cannot escape, so keep
 * a safe set of characters, fold the rest to '_', and cut at max bytes.
 */
static void
put_quoted(struct strbuf *sb, const char *s, size_t max)
{
	size_t n;

	strbuf_putc(sb, '"');
	for (n = 0; *s && n < max; s++, n++) {
		unsigned char c = (unsigned char)*s;

		if (c == '\t')
			c = ' ';
		if (c < ' ' || c >= 0x7f || c == '"' || c == '\\')
			c = '_';
		strbuf_putc(sb, (char)c);
	}
	strbuf_putc(sb, '"');
}

static void
put_comment(struct strbuf *sb, const struct rf_rule *r)
{
	const char *base = strrchr(r->loc.src->path, '/');
	char *text;

	base = base ? base + 1 : r->loc.src->path;
	/* The rule's text may list 100,000 prefixes: read what is kept. */
	text = xasprintf("%s:%u: %.127s", base, r->loc.line, r->text);
	strbuf_puts(sb, " comment ");
	put_quoted(sb, text, 127);
	free(text);
}

/* The name of a block's object of one kind: "in", "out", "mark_in", ... */
static void
put_obj(struct strbuf *sb, const char *kind, const struct rf_container *c)
{
	if (c->label_key)
		strbuf_printf(sb, "l%s_%u", kind, c->index);
	else
		strbuf_printf(sb, "%s_%s", kind, c->name);
}

static void
put_peer_set(struct strbuf *sb, const struct rf_container *c,
	const struct rf_rule *r, int family)
{
	put_obj(sb, "peers", c);
	strbuf_printf(sb, "_r%u_%s", r->index, fam_suffix(family));
}

/* ---- objects and their fingerprints ---- */

/* splitmix64's finaliser: every input bit moves every output bit. */
static uint64_t
mix64(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

/*
 * A hash of n bytes, in two lanes of eight bytes so that the CPU works on
 * both at once: a 100,000-prefix set takes about a millisecond.  Each
 * step is a bijection of the lane's state, so two inputs that differ in
 * one word never collide.
 */
static uint64_t
hash_bytes(const void *p, size_t n)
{
	static const uint64_t k = 0x9e3779b97f4a7c15ULL;
	const unsigned char *s = p;
	uint64_t a = 0x5266656e6365ULL, b = ~a, wa, wb;
	size_t len = n;

	for (; n >= 16; s += 16, n -= 16) {
		memcpy(&wa, s, 8);
		memcpy(&wb, s + 8, 8);
		a = (a ^ wa) * k;
		a ^= a >> 32;
		b = (b ^ wb) * k;
		b ^= b >> 32;
	}
	wa = wb = 0;
	if (n)	/* an empty set has no array at all */
		memcpy(&wa, s, n < 8 ? n : 8);
	if (n > 8)
		memcpy(&wb, s + 8, n - 8);
	return mix64(mix64(a ^ wa) ^ b ^ wb ^ ((uint64_t)len << 1));
}

static uint64_t
hash_rangeset(const struct rf_rangeset *set)
{
	return hash_bytes(set->r, set->n * sizeof(*set->r));
}

/*
 * Where objects go.  Each one is rendered into obj first; a full render
 * then appends it to out, a delta only if it differs from prev.
 */
struct emit {
	struct strbuf			*out;
	const struct render_state	*prev;	/* NULL: full render */
	bool				*seen;	/* by prev's index */
	size_t				 cursor;	/* next guess in prev */
	struct render_state		 next;
	struct strbuf			 obj;
	size_t				 body_at;	/* end of declaration */
	bool				 body_known;	/* hashed from model */
	const struct render_obj		*was;	/* the same in prev */
	struct strbuf			 flush;	/* delta: commands first */
	int				 err;
};

static const char *
kind_name(enum render_kind kind)
{
	return kind == RENDER_SET ? "set" : kind == RENDER_MAP ? "map" :
	    "chain";
}

static void
emit_init(struct emit *e, struct strbuf *out, const struct render_state *prev)
{
	memset(e, 0, sizeof(*e));
	e->out = out;
	e->prev = prev;
	if (prev)
		e->seen = xcalloc(prev->n + 1, sizeof(*e->seen));
	strbuf_init(&e->obj);
	strbuf_init(&e->flush);
}

static void
emit_free(struct emit *e)
{
	free(e->seen);
	strbuf_free(&e->obj);
	strbuf_free(&e->flush);
	render_state_free(&e->next);
}

/* Objects come in the same order every time: look where the last one was. */
static const struct render_obj *
prev_find(struct emit *e, const char *name)
{
	size_t i, k, n = e->prev ? e->prev->n : 0;

	for (i = 0; i < n; i++) {
		k = (e->cursor + i) % n;
		if (strcmp(e->prev->objs[k].name, name))
			continue;
		e->cursor = k + 1;
		e->seen[k] = true;
		return &e->prev->objs[k];
	}
	return NULL;
}

static struct render_obj *
cur_obj(struct emit *e)
{
	return &e->next.objs[e->next.n - 1];
}

static void
obj_begin(struct emit *e, enum render_kind kind, const char *name)
{
	struct render_obj *o = vec_push(&e->next.objs, &e->next.n,
	    &e->next.cap, sizeof(*o));

	o->name = xstrdup(name);
	o->kind = kind;
	e->obj.len = 0;
	e->obj.buf[0] = '\0';
	e->body_at = 0;
	e->body_known = false;
	e->was = prev_find(e, name);
}

/* What was rendered so far is the declaration; elements or rules follow. */
static void
obj_decl_end(struct emit *e)
{
	e->body_at = e->obj.len;
	cur_obj(e)->decl = hash_bytes(e->obj.buf, e->obj.len);
}

/*
 * The body is fingerprinted by hash, from the model.  Returns whether its
 * text is needed: always in a full render, else only if it changed.
 */
static bool
obj_body_hash(struct emit *e, uint64_t hash)
{
	struct render_obj *o = cur_obj(e);

	o->body = hash;
	e->body_known = true;
	return !e->prev || !e->was || e->was->decl != o->decl ||
	    e->was->body != hash;
}

static void
obj_end(struct emit *e)
{
	struct render_obj *o = cur_obj(e);
	const struct render_obj *was = e->was;

	if (!e->body_known)
		o->body = hash_bytes(e->obj.buf + e->body_at,
		    e->obj.len - e->body_at);
	if (e->prev && was) {
		if (was->kind != o->kind || was->decl != o->decl) {
			e->err = -ENOTSUP;
			return;
		}
		if (was->body == o->body)
			return;
		strbuf_printf(&e->flush, "flush %s " RF_TABLE_FAMILY " "
		    RF_TABLE_NAME " %s\n", kind_name(o->kind), o->name);
	}
	strbuf_add(e->out, e->obj.buf, e->obj.len);
}

/* ---- declarations ---- */

/*
 * A named interval set of addresses; the elements line only if any, and
 * only if needed: the set may hold 100,000 prefixes.
 */
static void
render_interval_set(struct emit *e, const char *name, int family,
	const struct rf_rangeset *set)
{
	struct strbuf *sb = &e->obj;

	obj_begin(e, RENDER_SET, name);
	strbuf_printf(sb, "\tset %s {\n\t\ttype %s_addr\n\t\tflags "
	    "interval\n", name, family == AF_INET ? "ipv4" : "ipv6");
	obj_decl_end(e);
	if (obj_body_hash(e, hash_rangeset(set)) && set->n) {
		strbuf_puts(sb, "\t\telements = { ");
		rangeset_format(set, family, sb, "\t\t\t     ",
		    ELEMENTS_WIDTH);
		strbuf_puts(sb, " }\n");
	}
	strbuf_puts(sb, "\t}\n\n");
	obj_end(e);
}

static void
render_peer_set(struct emit *e, const struct rf_container *c,
	const struct rf_rule *r, int family)
{
	const struct rf_rangeset *set = peers_of(r, family);
	struct strbuf name;

	if (r->peers.any || set->n == 0)
		return;
	strbuf_init(&name);
	put_peer_set(&name, c, r, family);
	render_interval_set(e, name.buf, family, set);
	strbuf_free(&name);
}

/* map NAME { ADDR : jump PREFIX_CONTAINER, ... } over every container. */
static void
render_vmap(struct emit *e, const struct rf_model *m, const char *name,
	int family, const char *chain_prefix)
{
	struct strbuf *sb = &e->obj;
	bool first = true;
	size_t i, j;
	char *full = xasprintf("%s_%s", name, fam_suffix(family));

	obj_begin(e, RENDER_MAP, full);
	strbuf_printf(sb, "\tmap %s {\n\t\ttype %s_addr : verdict\n", full,
	    family == AF_INET ? "ipv4" : "ipv6");
	free(full);
	obj_decl_end(e);
	for (i = 0; i < m->ncontainers; i++) {
		const struct rf_container *c = &m->containers[i];

		for (j = 0; j < c->naddrs; j++) {
			char buf[INET6_ADDRSTRLEN];

			if (c->addrs[j].family != family)
				continue;
			addr_format(family, c->addrs[j].addr, buf);
			strbuf_printf(sb, "%s%s : jump ", first ?
			    "\t\telements = { " : ",\n\t\t\t     ", buf);
			put_obj(sb, chain_prefix, c);
			first = false;
		}
	}
	if (!first)
		strbuf_puts(sb, " }\n");
	strbuf_puts(sb, "\t}\n\n");
	obj_end(e);
}

/* ---- base chains ---- */

/* Begin a chain object; the declaration is all up to its first rule. */
static void
render_chain(struct emit *e, const char *name)
{
	obj_begin(e, RENDER_CHAIN, name);
	strbuf_printf(&e->obj, "\tchain %s {\n", name);
	obj_decl_end(e);
}

static void
render_base_chain(struct emit *e, const char *name, const char *type,
	const char *hook, const char *priority)
{
	obj_begin(e, RENDER_CHAIN, name);
	strbuf_printf(&e->obj, "\tchain %s {\n\t\ttype %s hook %s priority "
	    "%s; policy accept;\n", name, type, hook, priority);
	obj_decl_end(e);
}

static void
render_chain_end(struct emit *e)
{
	strbuf_puts(&e->obj, "\t}\n\n");
	obj_end(e);
}

static void
render_guard(struct emit *e, const struct render_guard *g)
{
	struct strbuf *sb = &e->obj;
	size_t i;

	obj_begin(e, RENDER_SET, "guarded_bridges");
	strbuf_puts(sb, "\tset guarded_bridges {\n\t\ttype ifname\n");
	obj_decl_end(e);
	for (i = 0; i < g->nbridges; i++)
		strbuf_printf(sb, "%s\"%s\"", i ? ", " :
		    "\t\telements = { ", g->bridges[i]);
	strbuf_puts(sb, g->nbridges ? " }\n\t}\n\n" : "\t}\n\n");
	obj_end(e);

	render_interval_set(e, "known_v4", AF_INET, &g->known_v4);
	render_interval_set(e, "known_v6", AF_INET6, &g->known_v6);

	/* Neighbour discovery and MLD come from link-local addresses. */
	render_chain(e, "guard");
	strbuf_puts(sb, "\t\tip saddr @known_v4 return\n"
	    "\t\tip6 saddr @known_v6 return\n"
	    "\t\ticmpv6 type { nd-neighbor-solicit, nd-neighbor-advert, "
	    "nd-router-solicit, mld-listener-report, mld2-listener-report } "
	    "return\n"
	    "\t\tdrop\n");
	render_chain_end(e);
}

static void
render_filter_chains(struct emit *e, bool guarded)
{
	static const char established[] =
	    "\t\tct state established,related accept\n";
	static const char guard[] =
	    "\t\tiifname @guarded_bridges jump guard\n";
	struct strbuf *sb = &e->obj;

	render_base_chain(e, "forward", "filter", "forward", "filter - 10");
	strbuf_puts(sb, established);
	if (guarded)
		strbuf_puts(sb, guard);
	strbuf_puts(sb, "\t\tip saddr vmap @out_v4\n"
	    "\t\tip6 saddr vmap @out_v6\n"
	    "\t\tip daddr vmap @fwd_in_v4\n"
	    "\t\tip6 daddr vmap @fwd_in_v6\n");
	render_chain_end(e);

	render_base_chain(e, "input", "filter", "input", "filter - 10");
	strbuf_puts(sb, established);
	if (guarded)
		strbuf_puts(sb, guard);
	strbuf_puts(sb, "\t\tip saddr vmap @out_v4\n"
	    "\t\tip6 saddr vmap @out_v6\n");
	render_chain_end(e);

	render_base_chain(e, "output", "filter", "output", "filter - 10");
	strbuf_puts(sb, established);
	strbuf_puts(sb, "\t\tip daddr vmap @in_v4\n"
	    "\t\tip6 daddr vmap @in_v6\n");
	render_chain_end(e);
}

/*
 * One DNAT rule of a publish clause for one family.  Locally generated
 * connections (output_nat) are never to loopback: those cannot be sent
 * to a container.
 */
static void
render_dnat(struct strbuf *sb, const struct rf_container *c,
	const struct rf_rule *r, int family, bool local)
{
	const struct rf_publish *p = &r->publish;
	const struct rf_prefix *to = container_addr(c, family);
	char buf[INET6_ADDRSTRLEN];
	bool from_all;

	if (!to || (p->has_addr && p->addr.family != family))
		return;
	from_all = r->peers.any || (local && r->peers.host);
	if (!from_all && peers_of(r, family)->n == 0)
		return;

	strbuf_puts(sb, "\t\t");
	if (p->has_addr) {
		addr_format(family, p->addr.addr, buf);
		strbuf_printf(sb, "%s daddr %s ", fam_kw(family), buf);
	} else {
		strbuf_puts(sb, "fib daddr type local ");
		if (local)
			strbuf_puts(sb, family == AF_INET ?
			    "ip daddr != 127.0.0.0/8 " : "ip6 daddr != ::1 ");
	}
	if (!from_all) {
		strbuf_printf(sb, "%s saddr @", fam_kw(family));
		put_peer_set(sb, c, r, family);
		strbuf_putc(sb, ' ');
	}

	addr_format(family, to->addr, buf);
	strbuf_printf(sb, "%s dport %u dnat %s to %s%s%s:%u",
	    proto_name(p->proto), p->host_port, fam_kw(family),
	    family == AF_INET6 ? "[" : "", buf, family == AF_INET6 ? "]" : "",
	    p->port);
	put_comment(sb, r);
	strbuf_putc(sb, '\n');
}

static void
render_nat_chain(struct emit *e, const struct rf_model *m, bool local)
{
	static const int families[] = { AF_INET, AF_INET6 };
	size_t i, j, f;

	/* nft names the dstnat priority only for prerouting: -100 - 10. */
	if (local)
		render_base_chain(e, "output_nat", "nat", "output", "-110");
	else
		render_base_chain(e, "prerouting", "nat", "prerouting",
		    "dstnat - 10");
	for (i = 0; i < m->ncontainers; i++) {
		const struct rf_container *c = &m->containers[i];

		for (j = 0; j < c->nrules; j++) {
			if (!c->rules[j].publish.set)
				continue;
			for (f = 0; f < ARRAY_SIZE(families); f++)
				render_dnat(&e->obj, c, &c->rules[j],
				    families[f], local);
		}
	}
	render_chain_end(e);
}

/* ---- per-container chains ---- */

static void
render_ports(struct strbuf *sb, const struct rf_rule *r)
{
	bool one_proto = true;
	size_t i;

	for (i = 1; i < r->nports; i++)
		if (r->ports[i].proto != r->ports[0].proto)
			one_proto = false;

	if (one_proto)
		strbuf_printf(sb, "%s dport ", proto_name(r->ports[0].proto));
	else
		strbuf_puts(sb, "meta l4proto . th dport ");
	if (r->nports > 1)
		strbuf_puts(sb, "{ ");
	for (i = 0; i < r->nports; i++) {
		const struct rf_portrange *p = &r->ports[i];

		if (i)
			strbuf_puts(sb, ", ");
		if (!one_proto)
			strbuf_printf(sb, "%s . ", proto_name(p->proto));
		strbuf_printf(sb, "%u", p->lo);
		if (p->hi != p->lo)
			strbuf_printf(sb, "-%u", p->hi);
	}
	if (r->nports > 1)
		strbuf_puts(sb, " }");
	strbuf_putc(sb, ' ');
}

static void
render_match(struct strbuf *sb, const struct rf_rule *r)
{
	switch (r->match) {
	case MATCH_ALL:
		break;
	case MATCH_PROTO:
		strbuf_printf(sb, "meta l4proto %s ", r->proto ==
		    IPPROTO_ICMPV6 ? "ipv6-icmp" : proto_name(r->proto));
		break;
	case MATCH_PORTS:
		render_ports(sb, r);
		break;
	}
}

/*
 * One line of an allow rule for one kind of peer: peer is "" for any
 * peer, or an address match.  A logged rule gets a rate-limited log line
 * of its own first, so that the limit never decides the verdict.
 */
static void
render_allow_line(struct strbuf *sb, const struct rf_container *c,
	const struct rf_rule *r, const char *peer)
{
	const char *verdict = r->dir == DIR_IN ? "accept" : "return";

	if (r->log) {
		char *prefix = xasprintf("ringfence %.80s %s #%u: ", c->name,
		    dir_name(r->dir), r->index);

		/* put_quoted() folds what nft strings cannot hold. */

		strbuf_printf(sb, "\t\t%s", peer);
		render_match(sb, r);
		strbuf_puts(sb, "counter limit rate 10/second burst 20 "
		    "packets log prefix ");
		put_quoted(sb, prefix, 127);
		strbuf_puts(sb, " level info\n");
		free(prefix);
	}
	strbuf_printf(sb, "\t\t%s", peer);
	render_match(sb, r);
	strbuf_puts(sb, verdict);
	put_comment(sb, r);
	strbuf_putc(sb, '\n');
}

static void
render_allow(struct strbuf *sb, const struct rf_container *c,
	const struct rf_rule *r)
{
	static const int families[] = { AF_INET, AF_INET6 };
	const char *side = r->dir == DIR_IN ? "saddr" : "daddr";
	size_t f;
	char *peer;

	if (r->peers.any) {
		render_allow_line(sb, c, r, "");
		return;
	}
	for (f = 0; f < ARRAY_SIZE(families); f++) {
		struct strbuf pb;

		if (peers_of(r, families[f])->n == 0)
			continue;
		strbuf_init(&pb);
		strbuf_printf(&pb, "%s %s @", fam_kw(families[f]), side);
		put_peer_set(&pb, c, r, families[f]);
		strbuf_putc(&pb, ' ');
		render_allow_line(sb, c, r, pb.buf);
		strbuf_free(&pb);
	}
	if (r->peers.host) {
		peer = xasprintf("fib %s type local ", side);
		render_allow_line(sb, c, r, peer);
		free(peer);
	}
}

static void
render_deny(struct strbuf *sb, enum rf_action action)
{
	if (action == ACTION_DROP) {
		strbuf_puts(sb, "\t\tdrop\n");
		return;
	}
	strbuf_puts(sb, "\t\tmeta l4proto tcp reject with tcp reset\n"
	    "\t\treject with icmpx admin-prohibited\n");
}

static void
render_container_chain(struct emit *e, const struct rf_container *c,
	enum rf_dir dir)
{
	struct strbuf *sb = &e->obj, name;
	size_t i;

	strbuf_init(&name);
	put_obj(&name, dir_name(dir), c);
	render_chain(e, name.buf);
	strbuf_free(&name);
	strbuf_printf(sb, "\t\t%s %s\n", nd_types,
	    dir == DIR_IN ? "accept" : "return");
	for (i = 0; i < c->nrules; i++)
		if (c->rules[i].dir == dir)
			render_allow(sb, c, &c->rules[i]);
	render_deny(sb, c->deny[dir]);
	render_chain_end(e);
}

static void
render_container(struct emit *e, const struct rf_container *c)
{
	struct strbuf *sb = &e->obj, name;

	strbuf_init(&name);
	put_obj(&name, "mark_in", c);
	render_chain(e, name.buf);
	strbuf_free(&name);
	strbuf_printf(sb, "\t\tmeta mark set meta mark | 0x%08x\n"
	    "\t\tgoto ", RF_MARK);
	put_obj(sb, "in", c);
	strbuf_putc(sb, '\n');
	render_chain_end(e);
	render_container_chain(e, c, DIR_IN);
	render_container_chain(e, c, DIR_OUT);
}

/* ---- the transaction ---- */

static void
render_table_reset(struct strbuf *out)
{
	strbuf_puts(out, "table " RF_TABLE_FAMILY " " RF_TABLE_NAME " {\n}\n"
	    "delete table " RF_TABLE_FAMILY " " RF_TABLE_NAME "\n");
}

void
render_flush(struct strbuf *out)
{
	render_table_reset(out);
}

/* Every object of the table, in the order of the full text. */
static void
render_objects(struct emit *e, const struct rf_model *m,
	const struct render_guard *guard)
{
	size_t i, j;

	for (i = 0; i < m->ncontainers; i++) {
		const struct rf_container *c = &m->containers[i];

		for (j = 0; j < c->nrules; j++) {
			render_peer_set(e, c, &c->rules[j], AF_INET);
			render_peer_set(e, c, &c->rules[j], AF_INET6);
		}
	}
	render_vmap(e, m, "in", AF_INET, "in");
	render_vmap(e, m, "in", AF_INET6, "in");
	render_vmap(e, m, "fwd_in", AF_INET, "mark_in");
	render_vmap(e, m, "fwd_in", AF_INET6, "mark_in");
	render_vmap(e, m, "out", AF_INET, "out");
	render_vmap(e, m, "out", AF_INET6, "out");

	if (guard)
		render_guard(e, guard);
	render_filter_chains(e, guard != NULL);
	render_nat_chain(e, m, false);
	render_nat_chain(e, m, true);
	for (i = 0; i < m->ncontainers; i++)
		render_container(e, &m->containers[i]);
}

void
render_ruleset_state(const struct rf_model *m,
	const struct render_guard *guard, struct strbuf *out,
	struct render_state *ret)
{
	struct emit e;

	strbuf_puts(out, "# Generated by ringfence " RINGFENCE_VERSION
	    " from the policy: edit the policy, not this.\n");
	render_table_reset(out);
	strbuf_puts(out, "table " RF_TABLE_FAMILY " " RF_TABLE_NAME " {\n");
	emit_init(&e, out, NULL);
	render_objects(&e, m, guard);
	/* nft 1.0.6 will not parse "} }" on one line: keep them apart. */
	strbuf_puts(out, "}\n");
	if (ret) {
		*ret = e.next;
		memset(&e.next, 0, sizeof(e.next));
	}
	emit_free(&e);
}

void
render_ruleset(const struct rf_model *m, const struct render_guard *guard,
	struct strbuf *out)
{
	render_ruleset_state(m, guard, out, NULL);
}

/*
 * What vanished goes after every flush: a chain or set can only be
 * deleted once no rule and no map element refers to it any more, and
 * maps and sets before chains, since map elements jump to chains.
 */
static void
put_deletions(struct strbuf *out, const struct render_state *prev,
	const bool *seen)
{
	size_t i;

	for (i = 0; i < prev->n; i++)
		if (!seen[i] && prev->objs[i].kind == RENDER_CHAIN)
			strbuf_printf(out, "flush chain " RF_TABLE_FAMILY " "
			    RF_TABLE_NAME " %s\n", prev->objs[i].name);
	for (i = 0; i < prev->n; i++)
		if (!seen[i] && prev->objs[i].kind != RENDER_CHAIN)
			strbuf_printf(out, "delete %s " RF_TABLE_FAMILY " "
			    RF_TABLE_NAME " %s\n",
			    kind_name(prev->objs[i].kind), prev->objs[i].name);
	for (i = 0; i < prev->n; i++)
		if (!seen[i] && prev->objs[i].kind == RENDER_CHAIN)
			strbuf_printf(out, "delete chain " RF_TABLE_FAMILY " "
			    RF_TABLE_NAME " %s\n", prev->objs[i].name);
}

int
render_delta(const struct rf_model *m, const struct render_guard *guard,
	const struct render_state *prev, struct strbuf *out,
	struct render_state *ret)
{
	struct strbuf objs;
	struct emit e;
	bool vanished = false;
	size_t i;
	int r;

	strbuf_init(&objs);
	emit_init(&e, &objs, prev);
	render_objects(&e, m, guard);
	r = e.err;
	for (i = 0; i < prev->n; i++)
		if (!e.seen[i])
			vanished = true;
	if (r == 0 && (objs.len || vanished)) {
		/*
		 * A table block adds to what exists: after the flushes, a
		 * changed object declared again gets its new content.
		 */
		strbuf_puts(out, "# ringfence " RINGFENCE_VERSION ": the "
		    "objects that changed\n");
		strbuf_add(out, e.flush.buf, e.flush.len);
		put_deletions(out, prev, e.seen);
		if (objs.len) {
			strbuf_puts(out, "table " RF_TABLE_FAMILY " "
			    RF_TABLE_NAME " {\n");
			strbuf_add(out, objs.buf, objs.len);
			strbuf_puts(out, "}\n");
		}
	}
	if (r == 0) {
		*ret = e.next;
		memset(&e.next, 0, sizeof(e.next));
	}
	strbuf_free(&objs);
	emit_free(&e);
	return r;
}

void
render_state_free(struct render_state *st)
{
	size_t i;

	for (i = 0; i < st->n; i++)
		free(st->objs[i].name);
	free(st->objs);
	memset(st, 0, sizeof(*st));
}
