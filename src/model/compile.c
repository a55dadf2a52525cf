/*
 * compile.c: syntax tree to model.
 *
 * Resolves defines and container references, flattens address lists,
 * merges port ranges, and checks what only the whole policy can show:
 * names and addresses used twice, publish clashes.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "model/model.h"

struct compiler {
	struct rf_model		*m;
	struct rf_diags		*diags;
	struct rf_container	*old;	/* the previous compile, or NULL */
	size_t			 nold;
};

/* A block confining a container by name (not a label block). */
static const struct rf_container *
find_container(const struct rf_model *m, const char *name)
{
	size_t i;

	for (i = 0; i < m->ncontainers; i++)
		if (!m->containers[i].label_key &&
		    !strcmp(m->containers[i].name, name))
			return &m->containers[i];
	return NULL;
}

static void
expand_addr(struct compiler *cc, const struct pol_addr *a,
	struct rf_addrset *set)
{
	const struct rf_container *ref;
	size_t i;

	switch (a->kind) {
	case PADDR_ANY:
		set->any = true;
		break;
	case PADDR_HOST:
		set->host = true;
		break;
	case PADDR_PREFIX:
		rangeset_add_prefix(a->prefix.family == AF_INET ? &set->v4 :
		    &set->v6, &a->prefix);
		break;
	case PADDR_VAR:
		/* No value: its define had an error, already reported. */
		if (a->def->value)
			expand_addr(cc, a->def->value, set);
		break;
	case PADDR_LIST:
		for (i = 0; i < a->nv4; i++) {
			struct rf_prefix p = { .family = AF_INET,
			    .len = a->v4[i].len, .addr = a->v4[i].addr };

			rangeset_add_prefix(&set->v4, &p);
		}
		for (i = 0; i < a->nprefixes; i++)
			rangeset_add_prefix(a->prefixes[i].family == AF_INET ?
			    &set->v4 : &set->v6, &a->prefixes[i]);
		for (i = 0; i < a->nitems; i++)
			expand_addr(cc, a->items[i], set);
		break;
	case PADDR_CONTAINER:
		ref = find_container(cc->m, a->name);
		if (!ref) {
			diag_error(cc->diags, &a->loc, "unknown container '%s'",
			    a->name);
			break;
		}
		/* Its addresses now: bound ones change with Docker. */
		for (i = 0; i < ref->naddrs; i++)
			rangeset_add_prefix(ref->addrs[i].family == AF_INET ?
			    &set->v4 : &set->v6, &ref->addrs[i]);
		break;
	}
}

/*
 * Whether an address expression names no container: its addresses then
 * depend on the policy alone, not on what Docker binds.
 */
static bool
addr_static(const struct pol_addr *a)
{
	size_t i;

	switch (a->kind) {
	case PADDR_CONTAINER:
		return false;
	case PADDR_VAR:
		return !a->def->value || addr_static(a->def->value);
	case PADDR_LIST:
		for (i = 0; i < a->nitems; i++)
			if (!addr_static(a->items[i]))
				return false;
		return true;
	default:
		return true;
	}
}

/*
 * The peers of the same rule in the previous compile, when they cannot
 * have changed: the daemon compiles again on every Docker event, and a
 * list of 100,000 prefixes costs more to sort than the rest together.
 */
static struct rf_addrset *
old_peers(struct compiler *cc, const struct rf_container *c, size_t rule,
	const struct pol_rule *pr)
{
	if (!cc->old || c->index >= cc->nold ||
	    rule >= cc->old[c->index].nrules || !addr_static(pr->peer))
		return NULL;
	return &cc->old[c->index].rules[rule].peers;
}

static int
portrange_cmp(const void *a, const void *b)
{
	const struct rf_portrange *x = a, *y = b;

	if (x->proto != y->proto)
		return x->proto - y->proto;
	if (x->lo != y->lo)
		return x->lo - y->lo;
	return x->hi - y->hi;
}

/* Sort and merge overlapping or adjacent ranges of the same protocol. */
static void
compile_ports(struct rf_rule *rule, const struct pol_rule *pr)
{
	size_t i, out = 0;

	rule->ports = xcalloc(pr->nports, sizeof(*rule->ports));
	for (i = 0; i < pr->nports; i++) {
		rule->ports[i].proto = pr->ports[i].proto;
		rule->ports[i].lo = pr->ports[i].lo;
		rule->ports[i].hi = pr->ports[i].hi;
	}
	qsort(rule->ports, pr->nports, sizeof(*rule->ports), portrange_cmp);

	for (i = 1; i < pr->nports; i++) {
		struct rf_portrange *cur = &rule->ports[out];
		const struct rf_portrange *p = &rule->ports[i];

		if (p->proto == cur->proto && p->lo <= cur->hi + 1u) {
			if (p->hi > cur->hi)
				cur->hi = p->hi;
			continue;
		}
		rule->ports[++out] = *p;
	}
	rule->nports = out + 1;
}

/* was: the same rule's peers from the previous compile, taken over. */
static void
compile_rule(struct compiler *cc, struct rf_rule *rule,
	const struct pol_rule *pr, struct rf_addrset *was)
{
	rule->dir = pr->dir;
	rule->loc = pr->loc;
	rule->text = pr->text;
	rule->log = pr->log;

	if (was) {
		rule->peers = *was;
		memset(was, 0, sizeof(*was));
	} else if (pr->peer) {
		expand_addr(cc, pr->peer, &rule->peers);
		rangeset_normalize(&rule->peers.v4);
		rangeset_normalize(&rule->peers.v6);
	} else {
		rule->peers.any = true;
	}

	if (pr->nports) {
		rule->match = MATCH_PORTS;
		compile_ports(rule, pr);
	} else if (pr->proto >= 0) {
		rule->match = MATCH_PROTO;
		rule->proto = (uint8_t)pr->proto;
	} else {
		rule->match = MATCH_ALL;
	}

	if (pr->publish) {
		rule->publish.set = true;
		rule->publish.loc = pr->publish_loc;
		rule->publish.has_addr = pr->publish_has_addr;
		rule->publish.addr = pr->publish_addr;
		rule->publish.host_port = pr->publish_port;
		rule->publish.port = pr->ports[0].lo;
		rule->publish.proto = pr->ports[0].proto;
	}
}

static int
prefix_cmp(const void *a, const void *b)
{
	const struct rf_prefix *x = a, *y = b;

	if (x->family != y->family)
		return x->family == AF_INET ? -1 : 1;
	if (x->addr != y->addr)
		return x->addr < y->addr ? -1 : 1;
	return 0;
}

static void
compile_addresses(struct compiler *cc, struct rf_container *c,
	const struct pol_container *pc, const struct rf_bound *bound)
{
	size_t i, nbound = bound ? bound->naddrs : 0;

	c->static_addrs = pc->has_address;
	c->addrs = xcalloc(pc->naddrs + nbound, sizeof(*c->addrs));
	for (i = 0; i < nbound; i++)
		c->addrs[c->naddrs++] = bound->addrs[i];
	for (i = 0; i < pc->naddrs; i++) {
		const struct pol_container_addr *a = &pc->addrs[i];
		size_t j;

		for (j = 0; j < c->naddrs; j++) {
			if (prefix_cmp(&c->addrs[j], &a->addr))
				continue;
			diag_error(cc->diags, &a->loc, "address given twice "
			    "for container '%s'", c->name);
			break;
		}
		if (j == c->naddrs)
			c->addrs[c->naddrs++] = a->addr;
	}
	qsort(c->addrs, c->naddrs, sizeof(*c->addrs), prefix_cmp);
}

static void
compile_container(struct compiler *cc, struct rf_container *c,
	const struct pol_container *pc)
{
	const struct pol_rule *deny_at[2] = { NULL, NULL };
	size_t i;

	c->deny[DIR_IN] = ACTION_DROP;
	c->deny[DIR_OUT] = ACTION_REJECT;

	c->rules = xcalloc(pc->nrules, sizeof(*c->rules));
	for (i = 0; i < pc->nrules; i++) {
		const struct pol_rule *pr = &pc->rules[i];
		struct rf_rule *rule;

		if (!pr->is_deny) {
			rule = &c->rules[c->nrules++];
			rule->index = (unsigned)c->nrules;
			compile_rule(cc, rule, pr, pr->peer ? old_peers(cc, c,
			    c->nrules - 1, pr) : NULL);
			continue;
		}
		if (deny_at[pr->dir]) {
			char *where = loc_str(&deny_at[pr->dir]->loc);

			diag_error(cc->diags, &pr->loc, "'deny %s' is already "
			    "given at %s", pr->dir == DIR_IN ? "in" : "out",
			    where);
			free(where);
			continue;
		}
		deny_at[pr->dir] = pr;
		c->deny[pr->dir] = pr->action;
	}
}

/* Names and addresses must each belong to one container. */
static void
check_unique(struct compiler *cc)
{
	const struct policy *pol = &cc->m->pol;
	size_t i, j, k, l;

	for (i = 0; i < pol->ncontainers; i++) {
		const struct pol_container *a = pol->containers[i];

		for (j = 0; j < i; j++) {
			const struct pol_container *b = pol->containers[j];
			char *where;

			if (!strcmp(a->name, b->name)) {
				where = loc_str(&b->loc);
				diag_error(cc->diags, &a->loc, "%s%s%s is "
				    "already defined at %s", a->label_key ?
				    "" : "container '", a->name, a->label_key ?
				    "" : "'", where);
				free(where);
				continue;
			}
			for (k = 0; k < a->naddrs; k++)
				for (l = 0; l < b->naddrs; l++) {
					if (prefix_cmp(&a->addrs[k].addr,
					    &b->addrs[l].addr))
						continue;
					where = loc_str(&b->addrs[l].loc);
					diag_error(cc->diags, &a->addrs[k].loc,
					    "address is already given to "
					    "container '%s' at %s", b->name,
					    where);
					free(where);
				}
		}
	}
}

static bool
publish_clash(const struct rf_publish *a, const struct rf_publish *b)
{
	if (a->proto != b->proto || a->host_port != b->host_port)
		return false;
	if (!a->has_addr || !b->has_addr)
		return true;
	return !prefix_cmp(&a->addr, &b->addr);
}

/* Whether a publish clause can forward anything in this family. */
static bool
publish_reaches(const struct rf_container *c, const struct rf_rule *r,
	int family)
{
	const struct rf_publish *p = &r->publish;
	const struct rf_rangeset *peers = family == AF_INET ?
	    &r->peers.v4 : &r->peers.v6;

	if (!container_addr(c, family))
		return false;
	if (p->has_addr && p->addr.family != family)
		return false;
	return r->peers.any || r->peers.host || peers->n > 0;
}

/*
 * A publish clause of a container with known addresses must forward
 * something: a host address of a family the container has, and sources
 * of that family.
 */
static void
check_publish_family(struct compiler *cc, const struct rf_container *c,
	const struct rf_rule *r)
{
	const struct rf_publish *p = &r->publish;

	if (!c->static_addrs)
		return;
	if (p->has_addr && !container_addr(c, p->addr.family)) {
		diag_error(cc->diags, &p->loc, "container '%s' has no %s "
		    "address to forward to", c->name,
		    p->addr.family == AF_INET ? "IPv4" : "IPv6");
		return;
	}
	if (!publish_reaches(c, r, AF_INET) && !publish_reaches(c, r, AF_INET6))
		diag_error(cc->diags, &p->loc, "publish forwards nothing: no "
		    "source of this rule has the address family of "
		    "container '%s'", c->name);
}

/* A host port is forwarded to one place, to a container that can take it. */
static void
check_publish(struct compiler *cc)
{
	const struct rf_rule **seen;
	size_t nseen = 0, nrules = 0, i, j, k;

	for (i = 0; i < cc->m->ncontainers; i++)
		nrules += cc->m->containers[i].nrules;
	seen = xcalloc(nrules, sizeof(*seen));

	for (i = 0; i < cc->m->ncontainers; i++) {
		const struct rf_container *c = &cc->m->containers[i];

		for (j = 0; j < c->nrules; j++) {
			const struct rf_rule *r = &c->rules[j];
			const struct rf_publish *p = &r->publish;

			if (!p->set)
				continue;
			check_publish_family(cc, c, r);
			for (k = 0; k < nseen; k++) {
				char *where;

				if (!publish_clash(p, &seen[k]->publish))
					continue;
				where = loc_str(&seen[k]->publish.loc);
				diag_error(cc->diags, &p->loc, "host port "
				    "%u/%s is already published at %s",
				    p->host_port, proto_name(p->proto), where);
				free(where);
				break;
			}
			seen[nseen++] = r;
		}
	}
	free(seen);
}

const struct rf_prefix *
container_addr(const struct rf_container *c, int family)
{
	size_t i;

	for (i = 0; i < c->naddrs; i++)
		if (c->addrs[i].family == family)
			return &c->addrs[i];
	return NULL;
}

static void
containers_free(struct rf_container *cs, size_t n)
{
	size_t i, j;

	for (i = 0; i < n; i++) {
		struct rf_container *c = &cs[i];

		for (j = 0; j < c->nrules; j++) {
			rangeset_free(&c->rules[j].peers.v4);
			rangeset_free(&c->rules[j].peers.v6);
			free(c->rules[j].ports);
		}
		free(c->rules);
		free(c->addrs);
	}
	free(cs);
}

int
model_compile(struct rf_model *m, const struct rf_bound *bound,
	struct rf_diags *diags)
{
	struct compiler cc = { m, diags, m->containers, m->ncontainers };
	unsigned before = diags->nerrors;
	size_t i;

	m->containers = xcalloc(m->pol.ncontainers, sizeof(*m->containers));
	m->ncontainers = m->pol.ncontainers;

	/* Addresses first: rules may name any container's. */
	for (i = 0; i < m->ncontainers; i++) {
		const struct pol_container *pc = m->pol.containers[i];
		struct rf_container *c = &m->containers[i];

		c->index = (unsigned)i;
		c->name = pc->name;
		c->label_key = pc->label_key;
		c->label_value = pc->label_value;
		c->loc = pc->loc;
		compile_addresses(&cc, c, pc, bound ? &bound[i] : NULL);
	}
	for (i = 0; i < m->ncontainers; i++)
		compile_container(&cc, &m->containers[i], m->pol.containers[i]);
	check_publish(&cc);
	containers_free(cc.old, cc.nold);

	diags_sort(diags);
	return diags->nerrors > before ? -EINVAL : 0;
}

int
model_load(const char *path, struct rf_model *ret, struct rf_diags *diags)
{
	struct compiler cc = { ret, diags, NULL, 0 };
	int r;

	memset(ret, 0, sizeof(*ret));
	r = policy_parse(path, &ret->pol, diags);
	if (r < 0)
		return r;

	check_unique(&cc);
	r = model_compile(ret, NULL, diags);
	return diags->nerrors ? -EINVAL : r;
}

void
model_free(struct rf_model *m)
{
	containers_free(m->containers, m->ncontainers);
	policy_free(&m->pol);
	memset(m, 0, sizeof(*m));
}
