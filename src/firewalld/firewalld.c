/*
 * firewalld.c: ringfence's policy object in firewalld, over D-Bus.
 *
 * firewalld's forward chain ends in a reject.  Docker puts its bridges
 * in firewalld's "docker" zone, whose target accepts what containers
 * send, and firewalld accepts DNAT'ed connections early, so published
 * ports pass; but a connection routed to a container's own address from
 * an interface in a zone such as "public" meets that reject, however
 * ringfence's table judged it.
 *
 * So ringfence keeps one firewalld policy object, from ANY zone to ANY
 * zone, that accepts forwarded packets whose destination is in the ipsets
 * ringfence4 or ringfence6, and keeps those ipsets' runtime entries equal
 * to the confined containers' addresses.  Nothing else is opened: every
 * such packet has already been judged by ringfence's own table, whose
 * drops are final, and traffic to any other address meets firewalld's
 * zones as before.  firewalld creates policies and ipsets only in its
 * permanent configuration, so the first start on a host costs one
 * firewalld reload; the entries are runtime state and are set again
 * after every reload.  The deprecated direct interface is not used.
 *
 * Every string sent to firewalld is a constant or an address formatted
 * here from the compiled model.
 */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <systemd/sd-bus.h>

#include "firewalld/firewalld.h"
#include "log.h"
#include "util.h"

#define FW_NAME		"org.fedoraproject.FirewallD1"
#define FW_PATH		"/org/fedoraproject/FirewallD1"
#define FW_CONFIG_PATH	FW_PATH "/config"
#define FW_IPSET_IFACE	FW_NAME ".ipset"
#define FW_POLICY_IFACE	FW_NAME ".policy"
#define FW_CONFIG_IFACE	FW_NAME ".config"

#define CALL_TIMEOUT_US		(10 * 1000 * 1000ULL)
#define RELOAD_TIMEOUT_US	(120 * 1000 * 1000ULL)

#define RULE4 "rule family=\"ipv4\" destination ipset=\"" \
	FIREWALLD_IPSET4 "\" accept"
#define RULE6 "rule family=\"ipv6\" destination ipset=\"" \
	FIREWALLD_IPSET6 "\" accept"

struct firewalld {
	sd_bus			*bus;
	unsigned		 pending;	/* FIREWALLD_*, not yet told */
	bool			 objects_ok;	/* in runtime since last reload */
	bool			 synced;	/* last is in force */
	struct firewalld_entries last;
};

/* ---- signals ---- */

static int
on_reloaded(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct firewalld *fw = userdata;

	(void)m;
	(void)error;
	fw->pending |= FIREWALLD_RELOADED;
	fw->objects_ok = false;
	fw->synced = false;
	return 0;
}

static int
on_owner_changed(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct firewalld *fw = userdata;
	const char *name, *old_owner, *new_owner;

	(void)error;
	if (sd_bus_message_read(m, "sss", &name, &old_owner, &new_owner) < 0 ||
	    strcmp(name, FW_NAME) != 0)
		return 0;
	fw->pending |= *new_owner ? FIREWALLD_RELOADED : FIREWALLD_STOPPED;
	fw->objects_ok = false;
	fw->synced = false;
	return 0;
}

int
firewalld_open(struct firewalld **ret)
{
	struct firewalld *fw = xcalloc(1, sizeof(*fw));
	int r;

	r = sd_bus_open_system(&fw->bus);
	if (r >= 0)
		r = sd_bus_set_method_call_timeout(fw->bus, CALL_TIMEOUT_US);
	/* The sender is not matched: a forged signal only costs a sync. */
	if (r >= 0)
		r = sd_bus_match_signal(fw->bus, NULL, NULL, FW_PATH, FW_NAME,
		    "Reloaded", on_reloaded, fw);
	if (r >= 0)
		r = sd_bus_match_signal(fw->bus, NULL, "org.freedesktop.DBus",
		    "/org/freedesktop/DBus", "org.freedesktop.DBus",
		    "NameOwnerChanged", on_owner_changed, fw);
	if (r < 0) {
		firewalld_close(fw);
		return r;
	}
	*ret = fw;
	return 0;
}

void
firewalld_close(struct firewalld *fw)
{
	if (!fw)
		return;
	sd_bus_flush_close_unref(fw->bus);
	rangeset_free(&fw->last.v4);
	rangeset_free(&fw->last.v6);
	free(fw);
}

int
firewalld_fd(const struct firewalld *fw)
{
	return sd_bus_get_fd(fw->bus);
}

short
firewalld_events(const struct firewalld *fw)
{
	int ev = sd_bus_get_events(fw->bus);

	return ev < 0 ? POLLIN : (short)ev;
}

/*
 * Also called before every poll(): a method call may have read signals
 * off the socket while it waited for its reply, and those wait in
 * sd-bus's queue where poll() cannot see them.
 */
int
firewalld_dispatch(struct firewalld *fw, unsigned *flags)
{
	int r;

	do
		r = sd_bus_process(fw->bus, NULL);
	while (r > 0);
	*flags |= fw->pending;
	fw->pending = 0;
	return r;
}

/* ---- calls ---- */

static int
call_failed(const char *what, const sd_bus_error *e, int r, char **ret_error)
{
	*ret_error = xasprintf("firewalld: %s failed: %s", what,
	    e->message ? e->message : strerror(-r));
	return r < 0 ? r : -EIO;
}

bool
firewalld_running(struct firewalld *fw)
{
	sd_bus_error e = SD_BUS_ERROR_NULL;
	sd_bus_message *reply = NULL;
	int has = 0, r;

	r = sd_bus_call_method(fw->bus, "org.freedesktop.DBus",
	    "/org/freedesktop/DBus", "org.freedesktop.DBus", "NameHasOwner",
	    &e, &reply, "s", FW_NAME);
	if (r >= 0 && sd_bus_message_read(reply, "b", &has) < 0)
		has = 0;
	sd_bus_error_free(&e);
	sd_bus_message_unref(reply);
	return has;
}

/* A method without arguments that returns "as". */
static int
call_names(struct firewalld *fw, const char *path, const char *iface,
	const char *method, char ***ret, char **ret_error)
{
	sd_bus_error e = SD_BUS_ERROR_NULL;
	sd_bus_message *reply = NULL;
	int r;

	r = sd_bus_call_method(fw->bus, FW_NAME, path, iface, method, &e,
	    &reply, "");
	if (r >= 0)
		r = sd_bus_message_read_strv(reply, ret);
	if (r < 0)
		call_failed(method, &e, r, ret_error);
	sd_bus_error_free(&e);
	sd_bus_message_unref(reply);
	return r < 0 ? r : 0;
}

static bool
strv_has(char **v, const char *s)
{
	for (; v && *v; v++)
		if (strcmp(*v, s) == 0)
			return true;
	return false;
}

static void
strv_free(char **v)
{
	char **p;

	for (p = v; p && *p; p++)
		free(*p);
	free(v);
}

static int
add_ipset(struct firewalld *fw, const char *name, const char *family,
	char **ret_error)
{
	sd_bus_error e = SD_BUS_ERROR_NULL;
	int r;

	r = sd_bus_call_method(fw->bus, FW_NAME, FW_CONFIG_PATH,
	    FW_CONFIG_IFACE, "addIPSet", &e, NULL, "s(ssssa{ss}as)", name,
	    "", "ringfence", "Addresses of the containers ringfence "
	    "confines; kept by ringfence, at runtime only.", "hash:net",
	    1, "family", family, 0);
	if (r < 0)
		call_failed("adding the ipset " FIREWALLD_IPSET4 "/6", &e, r,
		    ret_error);
	sd_bus_error_free(&e);
	return r < 0 ? r : 0;
}

static int
add_policy(struct firewalld *fw, char **ret_error)
{
	sd_bus_error e = SD_BUS_ERROR_NULL;
	int r;

	r = sd_bus_call_method(fw->bus, FW_NAME, FW_CONFIG_PATH,
	    FW_CONFIG_IFACE, "addPolicy", &e, NULL, "sa{sv}", FIREWALLD_POLICY,
	    6,
	    "short", "s", "ringfence",
	    "description", "s", "Forwarded traffic to the containers "
	    "ringfence confines; ringfence's own table filters it.",
	    "target", "s", "CONTINUE",
	    "ingress_zones", "as", 1, "ANY",
	    "egress_zones", "as", 1, "ANY",
	    "rich_rules", "as", 2, RULE4, RULE6);
	if (r < 0)
		call_failed("adding the policy " FIREWALLD_POLICY, &e, r,
		    ret_error);
	sd_bus_error_free(&e);
	return r < 0 ? r : 0;
}

static int
call_reload(struct firewalld *fw, char **ret_error)
{
	sd_bus_message *m = NULL;
	sd_bus_error e = SD_BUS_ERROR_NULL;
	int r;

	r = sd_bus_message_new_method_call(fw->bus, &m, FW_NAME, FW_PATH,
	    FW_NAME, "reload");
	if (r >= 0)
		r = sd_bus_call(fw->bus, m, RELOAD_TIMEOUT_US, &e, NULL);
	if (r < 0)
		call_failed("reload", &e, r, ret_error);
	sd_bus_error_free(&e);
	sd_bus_message_unref(m);
	return r < 0 ? r : 0;
}

/* Whether the permanent configuration lacks one of ours; adds it. */
static int
add_missing(struct firewalld *fw, bool *ret_added, char **ret_error)
{
	char **ipsets = NULL, **policies = NULL;
	int r;

	*ret_added = false;
	r = call_names(fw, FW_CONFIG_PATH, FW_CONFIG_IFACE, "getIPSetNames",
	    &ipsets, ret_error);
	if (r == 0 && !strv_has(ipsets, FIREWALLD_IPSET4)) {
		r = add_ipset(fw, FIREWALLD_IPSET4, "inet", ret_error);
		*ret_added = true;
	}
	if (r == 0 && !strv_has(ipsets, FIREWALLD_IPSET6)) {
		r = add_ipset(fw, FIREWALLD_IPSET6, "inet6", ret_error);
		*ret_added = true;
	}
	if (r == 0)
		r = call_names(fw, FW_CONFIG_PATH, FW_CONFIG_IFACE,
		    "getPolicyNames", &policies, ret_error);
	if (r == 0 && !strv_has(policies, FIREWALLD_POLICY)) {
		r = add_policy(fw, ret_error);
		*ret_added = true;
	}
	strv_free(ipsets);
	strv_free(policies);
	return r;
}

/* Whether firewalld's runtime has all of ours. */
static int
in_runtime(struct firewalld *fw, bool *ret, char **ret_error)
{
	char **ipsets = NULL, **policies = NULL;
	int r;

	r = call_names(fw, FW_PATH, FW_IPSET_IFACE, "getIPSets", &ipsets,
	    ret_error);
	if (r == 0)
		r = call_names(fw, FW_PATH, FW_POLICY_IFACE, "getPolicies",
		    &policies, ret_error);
	*ret = r == 0 && strv_has(ipsets, FIREWALLD_IPSET4) &&
	    strv_has(ipsets, FIREWALLD_IPSET6) &&
	    strv_has(policies, FIREWALLD_POLICY);
	strv_free(ipsets);
	strv_free(policies);
	return r;
}

static int
ensure_objects(struct firewalld *fw, char **ret_error)
{
	bool added, present;
	int r;

	if (fw->objects_ok)
		return 0;
	r = add_missing(fw, &added, ret_error);
	if (r == 0 && !added)
		r = in_runtime(fw, &present, ret_error);
	else
		present = false;
	if (r == 0 && !present) {
		log_info("firewalld: reloading it once to load the policy "
		    "object %s", FIREWALLD_POLICY);
		r = call_reload(fw, ret_error);
	}
	fw->objects_ok = r == 0;
	return r;
}

/* The entries of one ipset, as the prefixes that cover s exactly. */
static int
set_entries(struct firewalld *fw, const char *ipset, int family,
	const struct rf_rangeset *s, char **ret_error)
{
	sd_bus_message *m = NULL;
	sd_bus_error e = SD_BUS_ERROR_NULL;
	struct strbuf sb;
	char *p, *next;
	int r;

	strbuf_init(&sb);
	rangeset_format(s, family, &sb, "", UINT_MAX);
	r = sd_bus_message_new_method_call(fw->bus, &m, FW_NAME, FW_PATH,
	    FW_IPSET_IFACE, "setEntries");
	if (r >= 0)
		r = sd_bus_message_append(m, "s", ipset);
	if (r >= 0)
		r = sd_bus_message_open_container(m, 'a', "s");
	/* rangeset_format separates prefixes with ", ". */
	for (p = sb.buf; r >= 0 && p && *p; p = next) {
		next = strchr(p, ',');
		if (next) {
			*next = '\0';
			next += 2;
		}
		r = sd_bus_message_append(m, "s", p);
	}
	if (r >= 0)
		r = sd_bus_message_close_container(m);
	if (r >= 0)
		r = sd_bus_call(fw->bus, m, 0, &e, NULL);
	if (r < 0)
		call_failed("setting the entries of an ipset", &e, r,
		    ret_error);
	sd_bus_error_free(&e);
	sd_bus_message_unref(m);
	strbuf_free(&sb);
	return r < 0 ? r : 0;
}

static void
rangeset_copy(struct rf_rangeset *to, const struct rf_rangeset *from)
{
	to->n = 0;
	rangeset_add_set(to, from);
}

int
firewalld_sync(struct firewalld *fw, const struct firewalld_entries *want,
	char **ret_error)
{
	int r;

	if (fw->synced && firewalld_entries_equal(&fw->last, want))
		return 0;
	fw->synced = false;
	if (!firewalld_running(fw))
		return 0;

	r = ensure_objects(fw, ret_error);
	if (r == 0)
		r = set_entries(fw, FIREWALLD_IPSET4, AF_INET, &want->v4,
		    ret_error);
	if (r == 0)
		r = set_entries(fw, FIREWALLD_IPSET6, AF_INET6, &want->v6,
		    ret_error);
	if (r < 0)
		return r;

	rangeset_copy(&fw->last.v4, &want->v4);
	rangeset_copy(&fw->last.v6, &want->v6);
	fw->synced = true;
	return 0;
}

/* The runtime entries of one ipset, read back from firewalld. */
static int
get_entries(struct firewalld *fw, const char *ipset, struct rf_rangeset *ret,
	char **ret_error)
{
	sd_bus_error e = SD_BUS_ERROR_NULL;
	sd_bus_message *reply = NULL;
	char **v = NULL, **p;
	int r;

	r = sd_bus_call_method(fw->bus, FW_NAME, FW_PATH, FW_IPSET_IFACE,
	    "getEntries", &e, &reply, "s", ipset);
	if (r >= 0)
		r = sd_bus_message_read_strv(reply, &v);
	if (r < 0)
		call_failed("reading the entries of an ipset", &e, r,
		    ret_error);
	for (p = v; p && *p; p++) {
		struct rf_prefix pfx;
		char *msg = NULL;
		size_t off;

		/* Not ours to judge: whatever is there is narrowed away. */
		if (addr_parse_prefix(*p, strlen(*p), &pfx, &msg, &off) == 0)
			rangeset_add_prefix(ret, &pfx);
		free(msg);
	}
	rangeset_normalize(ret);
	strv_free(v);
	sd_bus_error_free(&e);
	sd_bus_message_unref(reply);
	return r < 0 ? r : 0;
}

int
firewalld_narrow(struct firewalld *fw, const struct firewalld_entries *want,
	char **ret_error)
{
	struct firewalld_entries now = { 0 }, common;
	bool present = false;
	int r = 0;

	if (fw->synced) {
		rangeset_add_set(&now.v4, &fw->last.v4);
		rangeset_add_set(&now.v6, &fw->last.v6);
	} else {
		if (!firewalld_running(fw))
			return 0;
		r = in_runtime(fw, &present, ret_error);
		if (r < 0 || !present)
			return r;
		r = get_entries(fw, FIREWALLD_IPSET4, &now.v4, ret_error);
		if (r == 0)
			r = get_entries(fw, FIREWALLD_IPSET6, &now.v6,
			    ret_error);
	}
	firewalld_entries_common(&now, want, &common);
	if (r == 0 && !firewalld_entries_equal(&now, &common)) {
		fw->synced = false;
		r = set_entries(fw, FIREWALLD_IPSET4, AF_INET, &common.v4,
		    ret_error);
		if (r == 0)
			r = set_entries(fw, FIREWALLD_IPSET6, AF_INET6,
			    &common.v6, ret_error);
	}
	firewalld_entries_free(&now);
	firewalld_entries_free(&common);
	return r;
}

bool
firewalld_in_place(const struct firewalld *fw)
{
	return fw->synced;
}

/* Remove the object at the path that method returns for name. */
static int
remove_object(struct firewalld *fw, const char *method, const char *name,
	const char *iface, bool *ret_removed, char **ret_error)
{
	sd_bus_error e = SD_BUS_ERROR_NULL;
	sd_bus_message *reply = NULL;
	const char *path;
	char **names = NULL;
	int r;

	/* getPolicyByName fails for an unknown name: ask first. */
	r = call_names(fw, FW_CONFIG_PATH, FW_CONFIG_IFACE,
	    strcmp(method, "getPolicyByName") == 0 ? "getPolicyNames" :
	    "getIPSetNames", &names, ret_error);
	if (r < 0 || !strv_has(names, name)) {
		strv_free(names);
		return r;
	}
	strv_free(names);

	r = sd_bus_call_method(fw->bus, FW_NAME, FW_CONFIG_PATH,
	    FW_CONFIG_IFACE, method, &e, &reply, "s", name);
	if (r >= 0)
		r = sd_bus_message_read(reply, "o", &path);
	if (r >= 0)
		r = sd_bus_call_method(fw->bus, FW_NAME, path, iface, "remove",
		    &e, NULL, "");
	if (r < 0)
		call_failed("removing ringfence's configuration", &e, r,
		    ret_error);
	else
		*ret_removed = true;
	sd_bus_error_free(&e);
	sd_bus_message_unref(reply);
	return r < 0 ? r : 0;
}

int
firewalld_remove(struct firewalld *fw, char **ret_error)
{
	bool removed = false;
	int r;

	if (!firewalld_running(fw))
		return 0;
	/* The policy first: it refers to the ipsets. */
	r = remove_object(fw, "getPolicyByName", FIREWALLD_POLICY,
	    FW_CONFIG_IFACE ".policy", &removed, ret_error);
	if (r == 0)
		r = remove_object(fw, "getIPSetByName", FIREWALLD_IPSET4,
		    FW_CONFIG_IFACE ".ipset", &removed, ret_error);
	if (r == 0)
		r = remove_object(fw, "getIPSetByName", FIREWALLD_IPSET6,
		    FW_CONFIG_IFACE ".ipset", &removed, ret_error);
	if (r == 0 && removed)
		r = call_reload(fw, ret_error);
	fw->objects_ok = false;
	fw->synced = false;
	return r;
}

/* ---- entries ---- */

void
firewalld_entries_from_model(const struct rf_model *m,
	struct firewalld_entries *ret)
{
	size_t i, j;

	memset(ret, 0, sizeof(*ret));
	for (i = 0; i < m->ncontainers; i++) {
		const struct rf_container *c = &m->containers[i];

		for (j = 0; j < c->naddrs; j++)
			rangeset_add_prefix(c->addrs[j].family == AF_INET ?
			    &ret->v4 : &ret->v6, &c->addrs[j]);
	}
	rangeset_normalize(&ret->v4);
	rangeset_normalize(&ret->v6);
}

void
firewalld_entries_common(const struct firewalld_entries *a,
	const struct firewalld_entries *b, struct firewalld_entries *ret)
{
	memset(ret, 0, sizeof(*ret));
	rangeset_intersect(&a->v4, &b->v4, &ret->v4);
	rangeset_intersect(&a->v6, &b->v6, &ret->v6);
}

bool
firewalld_entries_equal(const struct firewalld_entries *a,
	const struct firewalld_entries *b)
{
	return rangeset_equal(&a->v4, &b->v4) &&
	    rangeset_equal(&a->v6, &b->v6);
}

void
firewalld_entries_free(struct firewalld_entries *e)
{
	rangeset_free(&e->v4);
	rangeset_free(&e->v6);
}
