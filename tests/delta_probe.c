/*
 * delta-probe: the daemon's incremental updates, step by step, without
 * Docker.
 *
 *   delta-probe POLICY DIR STEP...
 *
 * Each STEP binds addresses to the policy's blocks as the daemon does
 * with Docker's containers: "I=ADDR,ADDR;I=ADDR" (I a block's place in
 * the policy, from 0), or "-" for none.  For step N (from 1) it writes
 * DIR/N.full, the whole ruleset of that binding, and DIR/N.delta, the
 * transaction that turns the table of step N-1 into it: for step 1 the
 * whole ruleset, empty when nothing changed, the whole ruleset and a
 * line "N: full" on stdout when no delta can be made.  The guard covers
 * the bridge rfbr0 and every address of every block.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "model/model.h"
#include "nft/render.h"

struct step {
	struct rf_bound		*bound;		/* one per block */
	struct rf_prefix	*addrs;		/* all of them */
};

static void
step_free(struct step *st)
{
	free(st->bound);
	free(st->addrs);
}

static void
usage(void)
{
	fprintf(stderr, "usage: delta-probe POLICY DIR STEP...\n");
	exit(2);
}

/* One "ADDR,ADDR" list into addrs; returns how many. */
static size_t
parse_list(char *list, struct rf_prefix *addrs, size_t max)
{
	char *tok, *save = NULL, *err = NULL;
	size_t n = 0, off;

	for (tok = strtok_r(list, ",", &save); tok;
	    tok = strtok_r(NULL, ",", &save)) {
		if (n == max || addr_parse_prefix(tok, strlen(tok),
		    &addrs[n], &err, &off) < 0) {
			fprintf(stderr, "delta-probe: %s\n", err ? err :
			    "too many addresses");
			exit(2);
		}
		n++;
	}
	return n;
}

static void
parse_step(const char *text, size_t nblocks, struct step *st)
{
	char *copy = xstrdup(text), *item, *save = NULL, *eq;
	size_t i, max = strlen(text) + 1, used = 0;

	st->bound = xcalloc(nblocks, sizeof(*st->bound));
	st->addrs = xcalloc(max, sizeof(*st->addrs));
	if (!strcmp(text, "-")) {
		free(copy);
		return;
	}
	for (item = strtok_r(copy, ";", &save); item;
	    item = strtok_r(NULL, ";", &save)) {
		eq = strchr(item, '=');
		i = eq ? strtoul(item, NULL, 10) : nblocks;
		if (i >= nblocks || st->bound[i].naddrs) {
			fprintf(stderr, "delta-probe: bad step '%s'\n", text);
			exit(2);
		}
		/* Lists go one after another into the one array. */
		st->bound[i].addrs = st->addrs + used;
		st->bound[i].naddrs = parse_list(eq + 1, st->addrs + used,
		    max - used);
		used += st->bound[i].naddrs;
	}
	free(copy);
}

static void
guard_of(const struct rf_model *m, struct render_guard *g)
{
	static const char *const bridges[] = { "rfbr0" };
	size_t i, j;

	memset(g, 0, sizeof(*g));
	g->bridges = bridges;
	g->nbridges = 1;
	for (i = 0; i < m->ncontainers; i++)
		for (j = 0; j < m->containers[i].naddrs; j++) {
			const struct rf_prefix *p = &m->containers[i].addrs[j];

			rangeset_add_prefix(p->family == AF_INET ?
			    &g->known_v4 : &g->known_v6, p);
		}
	rangeset_normalize(&g->known_v4);
	rangeset_normalize(&g->known_v6);
}

/* What a delta leaves in the kernel must be what a full load makes. */
static void
same_state(int n, const struct render_state *a, const struct render_state *b)
{
	size_t i;

	for (i = 0; i < a->n && i < b->n; i++)
		if (strcmp(a->objs[i].name, b->objs[i].name) ||
		    a->objs[i].kind != b->objs[i].kind ||
		    a->objs[i].decl != b->objs[i].decl ||
		    a->objs[i].body != b->objs[i].body)
			break;
	if (i == a->n && i == b->n)
		return;
	fprintf(stderr, "delta-probe: step %d: the delta's fingerprints "
	    "differ from the full render's at object %zu\n", n, i);
	exit(1);
}

static void
write_file(const char *dir, int n, const char *kind, const char *text)
{
	char *path = xasprintf("%s/%d.%s", dir, n, kind);
	FILE *f = fopen(path, "w");

	if (!f || fputs(text, f) == EOF || fclose(f) != 0) {
		fprintf(stderr, "delta-probe: %s: %s\n", path,
		    strerror(errno));
		exit(1);
	}
	free(path);
}

int
main(int argc, char **argv)
{
	struct render_state prev = { 0 };
	struct rf_model m;
	struct rf_diags diags;
	int i, r;

	if (argc < 4)
		usage();
	diags_init(&diags);
	if (model_load(argv[1], &m, &diags) < 0) {
		diags_print(&diags, stderr);
		return 2;
	}
	for (i = 3; i < argc; i++) {
		struct render_state full_st = { 0 }, delta_st = { 0 };
		struct render_guard g;
		struct strbuf full, delta;
		struct step st;

		parse_step(argv[i], m.pol.ncontainers, &st);
		if (model_compile(&m, st.bound, &diags) < 0) {
			diags_print(&diags, stderr);
			return 2;
		}
		guard_of(&m, &g);

		strbuf_init(&full);
		render_ruleset_state(&m, &g, &full, &full_st);
		write_file(argv[2], i - 2, "full", full.buf);

		strbuf_init(&delta);
		r = i == 3 ? -ENOTSUP : render_delta(&m, &g, &prev, &delta,
		    &delta_st);
		if (r < 0) {
			if (i > 3)
				printf("%d: full\n", i - 2);
			strbuf_add(&delta, full.buf, full.len);
			delta_st = full_st;
		} else {
			same_state(i - 2, &delta_st, &full_st);
			render_state_free(&full_st);
		}
		write_file(argv[2], i - 2, "delta", delta.buf);

		render_state_free(&prev);
		prev = delta_st;
		strbuf_free(&full);
		strbuf_free(&delta);
		rangeset_free(&g.known_v4);
		rangeset_free(&g.known_v6);
		step_free(&st);
	}
	render_state_free(&prev);
	model_free(&m);
	diags_free(&diags);
	return 0;
}
