/*
 * daemon.c: the event loop that keeps the ruleset equal to
 * compile(policy, running containers).
 *
 * One thread waits on every source of change with poll(): signals
 * (signalfd), Docker events (an eventfd the event thread writes to),
 * nftables notifications (netlink), the control socket, and a slow timer.
 * Every change leads to the same step, reconcile(): list the containers,
 * bind them to the policy, compile, render, and load the result if it
 * differs from what is in force.  Docker being away is not an error: the
 * last known containers (or only the policy's static addresses) stay
 * enforced until it is back.
 */
#include <errno.h>
#include <malloc.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <systemd/sd-daemon.h>
#include <time.h>
#include <unistd.h>

#include "daemon/bind.h"
#include "daemon/control.h"
#include "daemon/daemon.h"
#include "daemon/status.h"
#include "docker/docker.h"
#include "log.h"
#include "model/model.h"
#include "nft/apply.h"
#include "firewalld/firewalld.h"
#include "nft/dockeruser.h"
#include "nft/monitor.h"
#include "nft/render.h"

#define BACKSTOP_SECONDS	10	/* full check of the kernel state */

struct daemon {
	const struct daemon_options	*opts;
	struct rf_model			 model;
	struct docker_inventory		 inv;	/* last good listing */
	bool				 have_inv;
	bool				 docker_ok;
	bool				 trusted;	/* inv is current */
	struct binding			 binding;	/* into inv */
	struct render_state		*applied;	/* what is in force,
							 * by fingerprint */

	struct docker_events		*events;
	struct nft_monitor		*monitor;
	struct firewalld		*fw;	/* NULL: no system bus */
	struct firewalld_entries	 fw_want;	/* confined addrs */
	int				 recheck_fd;	/* after firewalld */
	int				 recheck_stage;
	int				 event_fd;
	int				 signal_fd;
	int				 timer_fd;
	int				 settle_fd;	/* re-list after events */
	int				 settle_stage;
	int				 control_fd;

	unsigned			 restores;
	unsigned			 reloads;
	time_t				 last_reconcile;
	double				 last_reconcile_ms;
};

static char *
addrs_str(const struct rf_prefix *a, size_t n)
{
	struct strbuf sb;
	size_t i;

	strbuf_init(&sb);
	for (i = 0; i < n; i++) {
		if (i)
			strbuf_puts(&sb, ", ");
		prefix_format(&a[i], &sb);
	}
	if (n == 0)
		strbuf_puts(&sb, "no address");
	return sb.buf;
}

static const struct docker_container *
find_member(const struct bind_block *bb, const char *id)
{
	size_t i;

	for (i = 0; i < bb->nmembers; i++)
		if (!strcmp(bb->members[i]->id, id))
			return bb->members[i];
	return NULL;
}

static void
member_addrs(const struct docker_container *dc, struct rf_prefix *out,
	size_t *n)
{
	size_t i;

	*n = 0;
	for (i = 0; i < dc->nnets && *n < 64; i++) {
		if (dc->nets[i].has_v4)
			out[(*n)++] = dc->nets[i].v4;
		if (dc->nets[i].has_v6 && *n < 64)
			out[(*n)++] = dc->nets[i].v6;
	}
}

static bool
same_addrs(const struct rf_prefix *a, size_t na, const struct rf_prefix *b,
	size_t nb)
{
	size_t i;

	if (na != nb)
		return false;
	for (i = 0; i < na; i++)
		if (a[i].family != b[i].family || a[i].addr != b[i].addr)
			return false;
	return true;
}

/* One line per container that became or stopped being confined. */
static void
log_binding_changes(const struct daemon *d, const struct binding *old,
	const struct binding *new)
{
	struct rf_prefix addrs[64], old_addrs[64];
	size_t i, j, n, old_n;
	char *s;

	for (i = 0; i < new->nblocks; i++) {
		const struct bind_block *nb = &new->blocks[i];
		const struct bind_block *ob = i < old->nblocks ?
		    &old->blocks[i] : NULL;
		const char *block = d->model.pol.containers[i]->name;

		for (j = 0; j < nb->nmembers; j++) {
			const struct docker_container *dc = nb->members[j];
			const struct docker_container *was;

			was = ob ? find_member(ob, dc->id) : NULL;
			member_addrs(dc, addrs, &n);
			if (was) {
				member_addrs(was, old_addrs, &old_n);
				if (same_addrs(addrs, n, old_addrs, old_n))
					continue;
			}
			s = addrs_str(addrs, n);
			log_info("container %s (%.12s) %s %s: %s",
			    dc->name ? dc->name : "-", dc->id, was ?
			    "has new addresses in" : "confined by", block, s);
			free(s);
		}
		for (j = 0; ob && j < ob->nmembers; j++)
			if (!find_member(nb, ob->members[j]->id))
				log_info("container %.12s no longer running: "
				    "released from %s", ob->members[j]->id,
				    block);
	}
}

/* Refresh the inventory; keep the last one while Docker is away. */
static void
refresh_inventory(struct daemon *d, struct docker_inventory *ret,
	bool *ret_fresh)
{
	char *err = NULL;
	int r;

	*ret_fresh = false;
	r = docker_inventory_load(d->opts->docker_socket, ret, &err);
	if (r == 0) {
		if (!d->docker_ok)
			log_info("Docker at %s: %zu running containers",
			    d->opts->docker_socket, ret->ncontainers);
		d->docker_ok = true;
		*ret_fresh = true;
	} else {
		if (d->docker_ok || !d->last_reconcile)
			log_warn("cannot list Docker's containers: %s; "
			    "enforcing what is known, and retrying", err);
		d->docker_ok = false;
	}
	free(err);
}

/*
 * Stop listening while ringfence commits: the kernel builds one
 * notification per set element for every listener, which made a large
 * load several times slower, and an overflow of them would look like
 * someone else's change.  Whatever another process did in the meantime is
 * caught by checking that the table is there, and by the backstop.
 */
static void
monitor_pause(struct daemon *d)
{
	monitor_close(d->monitor);
	d->monitor = NULL;
}

static void
monitor_resume(struct daemon *d)
{
	int r = monitor_open(&d->monitor);

	if (r < 0)
		log_error("cannot listen to nftables notifications: %s; "
		    "relying on the periodic check", strerror(-r));
}

static int
apply_unheard(struct daemon *d, const char *text)
{
	char *err = NULL;
	int r;

	monitor_pause(d);
	r = ruleset_apply(text, &err);
	monitor_resume(d);
	if (r < 0) {
		log_error("%s", err);
		free(err);
	}
	return r;
}

static int
load_text(struct daemon *d, const char *text)
{
	int r;

	r = apply_unheard(d, text);
	if (r < 0)
		return r;
	/* Someone may have removed it while nobody was listening. */
	if (ruleset_present() == 0) {
		log_warn("restoring after external change: ringfence's table "
		    "was removed just after loading");
		r = apply_unheard(d, text);
		if (r < 0)
			return r;
		d->restores++;
	}

	/* libnftables' parse of a large set leaves much freed memory. */
	malloc_trim(0);
	return 0;
}

static void
applied_set(struct daemon *d, struct render_state *st)
{
	if (d->applied) {
		render_state_free(d->applied);
		free(d->applied);
	}
	d->applied = st;
}

/* After a load of next's content: keep next if it is in force (r >= 0). */
static int
adopt_state(struct daemon *d, struct render_state *next, int r)
{
	if (r < 0) {
		render_state_free(next);
		free(next);
		return r;
	}
	applied_set(d, next);
	return r;
}

/*
 * After the kernel refused a load it still holds what it had: compile the
 * model again from the binding in force, so that a restore (check_kernel)
 * puts that back rather than what was refused.  The next event tries the
 * new binding again.
 */
static void
model_back(struct daemon *d)
{
	struct rf_diags diags;

	diags_init(&diags);
	if (model_compile(&d->model, d->binding.bound, &diags) < 0)
		log_error("internal error: the policy did not compile with "
		    "the addresses in force (%u errors)", diags.nerrors);
	diags_free(&diags);
}

/* Replace the whole table with the model. */
static int
load_full(struct daemon *d, const struct render_guard *guard)
{
	struct render_state *next = xcalloc(1, sizeof(*next));
	struct strbuf sb;
	int r;

	strbuf_init(&sb);
	render_ruleset_state(&d->model, guard, &sb, next);
	r = load_text(d, sb.buf);
	strbuf_free(&sb);
	return adopt_state(d, next, r);
}

/*
 * Update only the objects that changed.  A delta is small, so the
 * monitor keeps listening through it (ringfence's own commits are told
 * apart by PID): a foreign change made meanwhile is still heard.
 * Returns 1 when there was nothing to change.
 */
static int
load_delta(struct daemon *d, const struct render_guard *guard)
{
	const char *fault = getenv("RINGFENCE_FAULT_INJECT");
	struct render_state *next = xcalloc(1, sizeof(*next));
	struct strbuf sb;
	char *err = NULL;
	int r;

	strbuf_init(&sb);
	r = render_delta(&d->model, guard, d->applied, &sb, next);
	if (r == -ENOTSUP)
		log_debug("a declaration changed: replacing the whole table");
	if (r == 0 && sb.len) {
		log_debug("updating %zu bytes of the table", sb.len);
		if (fault && !strcmp(fault, "delta-refuse"))
			strbuf_puts(&sb, ruleset_fault_loop);
		r = ruleset_update(sb.buf, &err);
		if (r < 0) {
			log_warn("%s; replacing the whole table instead", err);
			free(err);
		}
	} else if (r == 0) {
		r = 1;
	}
	strbuf_free(&sb);
	return adopt_state(d, next, r);
}

/*
 * Put the model in force.  When only Docker's bindings changed since the
 * last load, one transaction updates what depends on them and leaves the
 * rest, the large sets of peers above all, untouched.  The whole table is
 * replaced on the first load, when full is asked (after a foreign change
 * or a reload), and when the delta cannot be made or is refused: a
 * refused transaction changed nothing, so the kernel still holds what the
 * delta was computed against.
 */
static int
put_in_force(struct daemon *d, const struct render_guard *guard, bool full,
	const char *why, double start)
{
	int r;

	if (!full && d->applied) {
		r = load_delta(d, guard);
		if (r == 0)
			log_info("ruleset updated in %.0f ms (%s)",
			    monotonic_ms() - start, why);
		if (r >= 0)
			return 0;
	}
	r = load_full(d, guard);
	if (r == 0)
		log_info("ruleset loaded in %.0f ms (%s)",
		    monotonic_ms() - start, why);
	return r;
}

/* ---- firewalld ---- */

/*
 * firewalld must accept forwarded traffic to the confined addresses in
 * force and to nothing else.  Its ipsets are narrowed before a load and
 * widened after it succeeded; fw_want is what the kernel enforces.
 * XXX: when firewalld fails the narrowing, the load still goes ahead
 * (the table is what confines; the error is logged and the backstop
 * retries): refusing to load would stop following Docker altogether.
 */
static void
firewalld_narrow_now(struct daemon *d, const struct firewalld_entries *want)
{
	char *err = NULL;

	if (d->fw && firewalld_narrow(d->fw, want, &err) < 0) {
		log_error("%s", err);
		free(err);
	}
}

static void
firewalld_sync_now(struct daemon *d)
{
	char *err = NULL;

	if (d->fw && firewalld_sync(d->fw, &d->fw_want, &err) < 0) {
		log_error("%s", err);
		free(err);
	}
}

static void
firewalld_connect(struct daemon *d)
{
	int r;

	if (d->fw)
		return;
	r = firewalld_open(&d->fw);
	if (r < 0)
		log_debug("no system bus (%s); firewalld is not followed "
		    "until there is one", strerror(-r));
}

/*
 * Bring the kernel in line with policy and containers.  force replaces
 * the whole table even if nothing changed (after an external change).
 */
static int
reconcile(struct daemon *d, bool force, const char *why)
{
	struct docker_inventory inv = { 0 };
	struct firewalld_entries want;
	struct binding b;
	struct rf_diags diags;
	double start = monotonic_ms();
	bool fresh, trust;
	int r = 0;

	refresh_inventory(d, &inv, &fresh);
	trust = fresh && d->events && docker_events_connected(d->events);
	if (trust != d->trusted)
		log_msg(trust ? LOG_LEVEL_INFO : LOG_LEVEL_WARNING, "%s",
		    trust ? "Docker's picture is current again" : "Docker's "
		    "picture may be stale: until it is current again, only "
		    "confined containers' addresses pass the bridge guard");
	d->trusted = trust;
	bind_compute(&d->model, fresh ? &inv : d->have_inv ? &d->inv : NULL,
	    trust, &b);

	diags_init(&diags);
	if (model_compile(&d->model, b.bound, &diags) < 0) {
		/* Bound addresses are checked by bind.c; this is a bug. */
		log_error("internal error: the policy did not compile with "
		    "Docker's addresses (%u errors)", diags.nerrors);
		diags_free(&diags);
		model_back(d);
		binding_free(&b);
		if (fresh)
			docker_inventory_free(&inv);
		return -EINVAL;
	}
	diags_free(&diags);

	firewalld_entries_from_model(&d->model, &want);
	firewalld_narrow_now(d, &want);

	r = put_in_force(d, &b.guard, force, why, start);
	if (r == 0) {
		firewalld_entries_free(&d->fw_want);
		d->fw_want = want;
		firewalld_sync_now(d);

		log_binding_changes(d, &d->binding, &b);
		binding_free(&d->binding);
		d->binding = b;
		if (fresh) {
			if (d->have_inv)
				docker_inventory_free(&d->inv);
			d->inv = inv;
			d->have_inv = true;
		}
	} else {
		/* What is in force is still made from d->binding. */
		firewalld_entries_free(&want);
		model_back(d);
		binding_free(&b);
		if (fresh)
			docker_inventory_free(&inv);
	}
	d->last_reconcile = time(NULL);
	d->last_reconcile_ms = monotonic_ms() - start;
	/*
	 * Hand back the pages freed since the load: a listing, a compile
	 * and a render of a large policy free megabytes after it, which
	 * would stay resident until the next load.  1 ms, 16 after a load
	 * of 100,000 prefixes.
	 */
	malloc_trim(0);
	return r;
}

/* Put back what someone else removed or changed. */
static void
check_kernel(struct daemon *d, unsigned flags)
{
	struct dockeruser_state du;
	char *err = NULL;
	int present;

	if (!d->applied)
		return;
	if (flags & MONITOR_TABLE) {
		present = ruleset_present();
		log_warn("restoring after external change: ringfence's table "
		    "was %s", present == 0 ? "removed" : "changed");
		if (load_full(d, &d->binding.guard) == 0)
			d->restores++;
	}
	if (dockeruser_ensure(&du, &err) < 0) {
		log_error("%s", err);
		free(err);
		return;
	}
	if (du.added[0] || du.added[1]) {
		log_warn("restored after external change: the DOCKER-USER rule "
		    "was missing (%s%s%s)", du.added[0] ? "IPv4" : "",
		    du.added[0] && du.added[1] ? ", " : "",
		    du.added[1] ? "IPv6" : "");
		d->restores++;
	}
}

static void
backstop(struct daemon *d)
{
	if (!d->monitor)
		monitor_resume(d);
	firewalld_connect(d);
	firewalld_sync_now(d);
	if (!d->docker_ok)
		reconcile(d, false, "retrying Docker");
	if (d->applied && ruleset_present() == 0)
		check_kernel(d, MONITOR_TABLE);
	else
		check_kernel(d, 0);
}

/* Read the policy again; an invalid one leaves everything as it is. */
static int
reload(struct daemon *d, struct strbuf *report)
{
	struct rf_model next;
	struct rf_diags diags;
	struct rf_model old;
	char *text = NULL;
	size_t len = 0;
	FILE *mem;
	int r;

	diags_init(&diags);
	r = model_load(d->opts->policy_path, &next, &diags);
	if (r < 0) {
		mem = open_memstream(&text, &len);
		if (mem) {
			diags_print(&diags, mem);
			fclose(mem);
		}
		log_error("reload of %s failed with %u errors; the running "
		    "policy stays in force", d->opts->policy_path,
		    diags.nerrors);
		if (text) {
			/* The error lines, without excerpts and carets. */
			for (char *line = strtok(text, "\n"); line;
			    line = strtok(NULL, "\n"))
				if (strstr(line, ": error: "))
					log_error("%s", line);
			free(text);
			text = NULL;
		}
		/* Print the diagnostics again for the caller's report. */
		mem = open_memstream(&text, &len);
		if (mem) {
			diags_print(&diags, mem);
			fclose(mem);
			strbuf_add(report, text, len);
			free(text);
		}
		diags_free(&diags);
		model_free(&next);
		return 2;
	}
	diags_free(&diags);
	policy_drop_text(&next.pol);

	old = d->model;
	d->model = next;
	binding_free(&d->binding);
	d->binding.nblocks = 0;
	r = reconcile(d, true, "policy reloaded");
	if (r < 0) {
		/* The kernel kept the old ruleset: keep the old policy too. */
		model_free(&d->model);
		d->model = old;
		binding_free(&d->binding);
		reconcile(d, true, "policy reload failed");
		strbuf_puts(report, "ringfence: the new policy could not be "
		    "loaded; the previous one stays in force\n");
		return 1;
	}
	model_free(&old);
	d->reloads++;
	log_info("policy %s reloaded", d->opts->policy_path);
	strbuf_printf(report, "ringfence: reloaded %s\n",
	    d->opts->policy_path);
	return 0;
}

/* ---- status ---- */

static json_t *
addrs_json(const struct rf_prefix *a, size_t n)
{
	json_t *arr = json_array();
	struct strbuf sb;
	size_t i;

	for (i = 0; i < n; i++) {
		strbuf_init(&sb);
		prefix_format(&a[i], &sb);
		json_array_append_new(arr, json_string(sb.buf));
		strbuf_free(&sb);
	}
	return arr;
}

static json_t *
instance_json(const struct docker_container *dc)
{
	json_t *o = json_object(), *nets = json_array();
	struct rf_prefix addrs[64];
	size_t i, n;

	member_addrs(dc, addrs, &n);
	for (i = 0; i < dc->nnets; i++)
		json_array_append_new(nets,
		    json_string(dc->nets[i].network_name ?
		    dc->nets[i].network_name : dc->nets[i].network_id));
	json_object_set_new(o, "name", dc->name ? json_string(dc->name) :
	    json_null());
	json_object_set_new(o, "id", json_string(dc->id));
	json_object_set_new(o, "running", json_true());
	json_object_set_new(o, "addresses", addrs_json(addrs, n));
	json_object_set_new(o, "networks", nets);
	return o;
}

static json_t *
block_json(const struct daemon *d, size_t i)
{
	const struct pol_container *pc = d->model.pol.containers[i];
	const struct rf_container *c = &d->model.containers[i];
	const struct bind_block *bb = i < d->binding.nblocks ?
	    &d->binding.blocks[i] : NULL;
	json_t *o = json_object(), *inst = json_array(), *rules = json_array();
	size_t j;
	char *where;

	json_object_set_new(o, "name", json_string(pc->name));
	json_object_set_new(o, "selector", json_string(pc->label_key ?
	    "label" : "name"));
	where = loc_str(&pc->loc);
	json_object_set_new(o, "location", json_string(where));
	free(where);
	json_object_set_new(o, "running", json_boolean(bb && bb->nmembers));
	json_object_set_new(o, "addresses", addrs_json(c->addrs, c->naddrs));
	for (j = 0; bb && j < bb->nmembers; j++)
		json_array_append_new(inst, instance_json(bb->members[j]));
	json_object_set_new(o, "containers", inst);
	for (j = 0; j < pc->nrules; j++) {
		json_t *r = json_object();

		json_object_set_new(r, "rule", json_string(pc->rules[j].text));
		where = loc_str(&pc->rules[j].loc);
		json_object_set_new(r, "location", json_string(where));
		free(where);
		json_array_append_new(rules, r);
	}
	json_object_set_new(o, "rules", rules);
	return o;
}

static json_t *
status_json(const struct daemon *d)
{
	json_t *doc = json_object(), *dm = json_object(), *blocks;
	char when[64] = "-";
	size_t i;

	if (d->last_reconcile)
		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ",
		    gmtime(&d->last_reconcile));
	json_object_set_new(dm, "pid", json_integer(getpid()));
	json_object_set_new(dm, "policy", json_string(d->opts->policy_path));
	json_object_set_new(dm, "docker_socket",
	    json_string(d->opts->docker_socket));
	json_object_set_new(dm, "docker_connected", json_boolean(d->docker_ok));
	json_object_set_new(dm, "last_reconcile", json_string(when));
	json_object_set_new(dm, "last_reconcile_ms",
	    json_real(d->last_reconcile_ms));
	json_object_set_new(dm, "restores", json_integer(d->restores));
	json_object_set_new(dm, "reloads", json_integer(d->reloads));
	json_object_set_new(dm, "firewalld", json_string(!d->fw ?
	    "no system bus" : !firewalld_running(d->fw) ? "not running" :
	    firewalld_in_place(d->fw) ? "running; policy " FIREWALLD_POLICY
	    " in place" : "running; policy " FIREWALLD_POLICY " not in place"));
	json_object_set_new(doc, "daemon", dm);

	blocks = json_array();
	for (i = 0; i < d->model.pol.ncontainers; i++)
		json_array_append_new(blocks, block_json(d, i));
	json_object_set_new(doc, "containers", blocks);
	return doc;
}

/* ---- control socket ---- */

static void
serve_one(struct daemon *d, int fd)
{
	char req[CONTROL_MAX_REQUEST];
	struct strbuf out;
	json_t *doc;
	int status = 0;

	if (control_read_request(fd, req, sizeof(req)) < 0) {
		static const char bad[] = "ringfence: bad request\n";

		control_answer(fd, 2, bad, sizeof(bad) - 1);
		return;
	}
	strbuf_init(&out);
	if (!strcmp(req, "status") || !strcmp(req, "status json")) {
		doc = status_json(d);
		status_format(doc, req[6] != '\0', &out);
		json_decref(doc);
	} else if (!strcmp(req, "reload")) {
		status = reload(d, &out);
	} else {
		strbuf_puts(&out, "ringfence: unknown request\n");
		status = 2;
	}
	control_answer(fd, status, out.buf, out.len);
	strbuf_free(&out);
}

static void
serve_control(struct daemon *d)
{
	int fd, n;

	/* Bounded: at most a handful per wakeup, the rest wait their turn. */
	for (n = 0; n < 8; n++) {
		fd = accept4(d->control_fd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0)
			return;
		serve_one(d, fd);
		close(fd);
	}
}

/* ---- setup and loop ---- */

static int
setup(struct daemon *d)
{
	struct itimerspec its = { { BACKSTOP_SECONDS, 0 },
	    { BACKSTOP_SECONDS, 0 } };
	sigset_t mask;
	int r;

	sigemptyset(&mask);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);
	d->signal_fd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	d->event_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	d->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC |
	    TFD_NONBLOCK);
	d->settle_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC |
	    TFD_NONBLOCK);
	d->recheck_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC |
	    TFD_NONBLOCK);
	if (d->signal_fd < 0 || d->event_fd < 0 || d->timer_fd < 0 ||
	    d->settle_fd < 0 || d->recheck_fd < 0 ||
	    timerfd_settime(d->timer_fd, 0, &its, NULL) < 0) {
		log_error("cannot set up event sources: %s", strerror(errno));
		return -errno;
	}
	r = monitor_open(&d->monitor);
	if (r < 0) {
		log_error("cannot listen to nftables notifications: %s",
		    strerror(-r));
		return r;
	}
	d->control_fd = control_listen(d->opts->control_socket);
	if (d->control_fd < 0) {
		log_error("cannot create control socket %s: %s",
		    d->opts->control_socket, strerror(-d->control_fd));
		return d->control_fd;
	}
	firewalld_connect(d);
	r = docker_events_start(d->opts->docker_socket, d->event_fd,
	    &d->events);
	if (r < 0) {
		log_error("cannot start following Docker: %s", strerror(-r));
		return r;
	}
	return 0;
}

static void
drain(int fd)
{
	char buf[256];

	while (read(fd, buf, sizeof(buf)) > 0)
		;
}

/*
 * Arm timer fd for step stage (from 1) of a series of delays; past the
 * last one, disarm it.  Returns the stage armed, or 0.
 */
static int
arm_stage(int fd, const long *delays_ms, size_t n, int stage)
{
	struct itimerspec its = { { 0, 0 }, { 0, 0 } };

	if (stage >= 1 && stage <= (int)n) {
		its.it_value.tv_sec = delays_ms[stage - 1] / 1000;
		its.it_value.tv_nsec = (delays_ms[stage - 1] % 1000) * 1000000;
	} else {
		stage = 0;
	}
	timerfd_settime(fd, 0, &its, NULL);
	return stage;
}

/*
 * Docker's answer to a listing made at the moment of an event can lag the
 * event (a network connect lists the container without the network yet),
 * so every event is followed by two more listings, 150 ms and 1 s later.
 * They cost a listing each; the ruleset is only loaded if it changed.
 */
static void
settle(struct daemon *d, int stage)
{
	static const long delays_ms[] = { 150, 1000 };

	d->settle_stage = arm_stage(d->settle_fd, delays_ms,
	    ARRAY_SIZE(delays_ms), stage);
}

/*
 * firewalld deletes DOCKER-USER on every start, reload and stop, and
 * Docker creates it again when it hears of it, some time later.  The
 * nftables notifications tell when that happens with iptables-nft; with
 * legacy iptables nothing does, so the rule is checked a few more times.
 */
static void
recheck(struct daemon *d, int stage)
{
	static const long delays_ms[] = { 100, 300, 600, 1000, 2000, 5000 };

	d->recheck_stage = arm_stage(d->recheck_fd, delays_ms,
	    ARRAY_SIZE(delays_ms), stage);
}

/* Read firewalld's signals, including those queued during calls. */
static void
follow_firewalld(struct daemon *d)
{
	unsigned flags = 0;

	if (!d->fw)
		return;
	if (firewalld_dispatch(d->fw, &flags) < 0) {
		log_warn("lost the system bus; trying again in %d s",
		    BACKSTOP_SECONDS);
		firewalld_close(d->fw);
		d->fw = NULL;
		return;
	}
	if (!flags)
		return;
	/* Either way it has just deleted DOCKER-USER. */
	log_info("firewalld %s: checking ringfence's part in it and the "
	    "DOCKER-USER rule", flags & FIREWALLD_RELOADED ?
	    "reloaded or started" : "stopped");
	firewalld_sync_now(d);
	check_kernel(d, 0);
	recheck(d, 1);
}

/* Returns false when the daemon should stop. */
static bool
handle_signal(struct daemon *d)
{
	struct signalfd_siginfo si;
	struct strbuf report;

	while (read(d->signal_fd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo != SIGHUP) {
			log_info("stopping on signal %u; the rules stay in "
			    "force", si.ssi_signo);
			return false;
		}
		strbuf_init(&report);
		reload(d, &report);
		strbuf_free(&report);
	}
	return true;
}

static void
run_loop(struct daemon *d)
{
	struct pollfd pfd[8] = {
		{ .fd = d->signal_fd, .events = POLLIN },
		{ .fd = d->event_fd, .events = POLLIN },
		{ .fd = -1, .events = POLLIN },
		{ .fd = d->control_fd, .events = POLLIN },
		{ .fd = d->timer_fd, .events = POLLIN },
		{ .fd = d->settle_fd, .events = POLLIN },
		{ .fd = -1, .events = POLLIN },
		{ .fd = d->recheck_fd, .events = POLLIN },
	};
	unsigned flags;

	for (;;) {
		follow_firewalld(d);
		/* Each load reopens the monitor socket. */
		pfd[2].fd = d->monitor ? monitor_fd(d->monitor) : -1;
		pfd[6].fd = d->fw ? firewalld_fd(d->fw) : -1;
		pfd[6].events = d->fw ? firewalld_events(d->fw) : POLLIN;
		if (poll(pfd, ARRAY_SIZE(pfd), -1) < 0) {
			if (errno == EINTR)
				continue;
			log_error("poll: %s", strerror(errno));
			return;
		}
		if (pfd[0].revents && !handle_signal(d))
			return;
		if (pfd[1].revents) {
			drain(d->event_fd);
			reconcile(d, false, "Docker event");
			settle(d, 1);
		}
		if (pfd[5].revents) {
			drain(d->settle_fd);
			reconcile(d, false, "Docker settled");
			settle(d, d->settle_stage + 1);
		}
		if (pfd[2].revents && d->monitor) {
			flags = 0;
			monitor_read(d->monitor, &flags);
			if (flags)
				check_kernel(d, flags);
		}
		if (pfd[3].revents)
			serve_control(d);
		if (pfd[4].revents) {
			drain(d->timer_fd);
			backstop(d);
		}
		if (pfd[7].revents) {
			drain(d->recheck_fd);
			firewalld_sync_now(d);
			check_kernel(d, 0);
			recheck(d, d->recheck_stage + 1);
		}
	}
}

static void
teardown(struct daemon *d)
{
	if (d->events)
		docker_events_stop(d->events);
	monitor_close(d->monitor);
	if (d->control_fd >= 0) {
		close(d->control_fd);
		unlink(d->opts->control_socket);
	}
	binding_free(&d->binding);
	if (d->have_inv)
		docker_inventory_free(&d->inv);
	model_free(&d->model);
	applied_set(d, NULL);
	if (d->signal_fd >= 0)
		close(d->signal_fd);
	if (d->event_fd >= 0)
		close(d->event_fd);
	if (d->timer_fd >= 0)
		close(d->timer_fd);
	if (d->settle_fd >= 0)
		close(d->settle_fd);
	if (d->recheck_fd >= 0)
		close(d->recheck_fd);
	firewalld_close(d->fw);
	firewalld_entries_free(&d->fw_want);
}

int
daemon_run(const struct daemon_options *opts)
{
	struct daemon d = {
		.opts = opts, .signal_fd = -1, .event_fd = -1,
		.timer_fd = -1, .settle_fd = -1, .control_fd = -1,
		.recheck_fd = -1,
	};
	struct rf_diags diags;
	int status = 0;

	/*
	 * One malloc arena: the event thread allocates little, and its own
	 * arena would reserve 64 MiB and keep what it once used.
	 */
	mallopt(M_ARENA_MAX, 1);
	diags_init(&diags);
	if (model_load(opts->policy_path, &d.model, &diags) < 0) {
		diags_print(&diags, stderr);
		log_error("%u errors in %s; not starting", diags.nerrors,
		    opts->policy_path);
		diags_free(&diags);
		model_free(&d.model);
		return 2;
	}
	diags_free(&diags);
	policy_drop_text(&d.model.pol);

	if (setup(&d) < 0) {
		status = 1;
		goto out;
	}
	if (reconcile(&d, true, "start") < 0) {
		status = 1;
		goto out;
	}
	sd_notify(0, "READY=1\nSTATUS=ruleset in force");
	log_info("following Docker at %s; control socket %s",
	    opts->docker_socket, opts->control_socket);
	run_loop(&d);
	sd_notify(0, "STOPPING=1");
out:
	teardown(&d);
	return status;
}
