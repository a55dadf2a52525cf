/*
 * api.c: the inventory of running containers and networks, read with two
 * listing calls of the Engine API.  Every value is checked before it is
 * kept; what fails a check is left out with a log line, never trusted.
 */
#include <errno.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "docker/docker.h"
#include "docker/http.h"
#include "log.h"
#include "util.h"

#define IFNAME_MAX	15	/* IFNAMSIZ - 1 */
#define SHOW		80	/* untrusted text shown in a log line */

static bool
is_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9');
}

static bool
valid_id(const char *s, size_t len)
{
	size_t i;

	if (len != 64)
		return false;
	for (i = 0; i < len; i++)
		if (!((s[i] >= '0' && s[i] <= '9') ||
		    (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

/* Docker's own rule for names, bounded as the policy bounds them. */
static bool
valid_name(const char *s, size_t len)
{
	size_t i;

	if (len == 0 || len > DOCKER_MAX_NAME || !is_alnum(s[0]))
		return false;
	for (i = 1; i < len; i++)
		if (!is_alnum(s[i]) && s[i] != '_' && s[i] != '.' &&
		    s[i] != '-')
			return false;
	return true;
}

/* A name the kernel accepts for an interface and nft needs no quotes for. */
static bool
valid_ifname(const char *s, size_t len)
{
	size_t i;

	if (len == 0 || len > IFNAME_MAX)
		return false;
	if ((len == 1 && s[0] == '.') || (len == 2 && !memcmp(s, "..", 2)))
		return false;
	for (i = 0; i < len; i++)
		if (!is_alnum(s[i]) && s[i] != '_' && s[i] != '.' &&
		    s[i] != '-')
			return false;
	return true;
}

/* The string member key of obj, or NULL. */
static const char *
get_string(json_t *obj, const char *key, size_t *ret_len)
{
	json_t *v = json_object_get(obj, key);

	if (!json_is_string(v))
		return NULL;
	*ret_len = json_string_length(v);
	return json_string_value(v);
}

/* The id member of obj if it is 64 lowercase hex digits, else NULL. */
static char *
get_id(json_t *obj, const char *key, const char *what)
{
	json_t *v = json_object_get(obj, key);
	char show[SHOW];

	if (!json_is_string(v)) {
		log_warn("Docker: skipping a %s without a string %s", what,
		    key);
		return NULL;
	}
	if (!valid_id(json_string_value(v), json_string_length(v))) {
		docker_printable(json_string_value(v), json_string_length(v),
		    show, sizeof(show));
		log_warn("Docker: skipping %s '%s': its id is not 64 "
		    "lowercase hex digits", what, show);
		return NULL;
	}
	return xstrndup(json_string_value(v), 64);
}

/*
 * Names holds "/name" and, for legacy links, "/other/alias"; the
 * container's own name is the one with a single slash.
 */
static char *
container_name(json_t *c, const char *id)
{
	json_t *names = json_object_get(c, "Names"), *v;
	char show[SHOW];
	const char *s;
	size_t i, len;

	json_array_foreach(names, i, v) {
		if (!json_is_string(v))
			continue;
		s = json_string_value(v);
		len = json_string_length(v);
		if (len < 1 || s[0] != '/' || memchr(s + 1, '/', len - 1))
			continue;
		if (valid_name(s + 1, len - 1))
			return xstrndup(s + 1, len - 1);
		docker_printable(s + 1, len - 1, show, sizeof(show));
		log_warn("Docker: container %.12s: name '%s' breaks the name "
		    "rules; only label selectors can match it", id, show);
		return NULL;
	}
	return NULL;
}

static int
label_cmp(const void *a, const void *b)
{
	const struct docker_label *la = a, *lb = b;

	return strcmp(la->key, lb->key);
}

static bool
has_control(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] < ' ' || s[i] == 0x7f)
			return true;
	return false;
}

/*
 * Skipping a label cannot unconfine a container: a policy's label keys
 * and values are shorter than DOCKER_MAX_LABEL and printable, so the
 * skipped label could not have matched.  Too many labels is another
 * matter, and the whole container is refused (-1).
 */
static int
parse_labels(json_t *c, const char *id, struct docker_container *dc)
{
	json_t *labels = json_object_get(c, "Labels"), *v;
	const char *key, *val;
	size_t klen, vlen;
	char show[SHOW];

	if (!labels || json_is_null(labels))
		return 0;
	if (!json_is_object(labels)) {
		log_warn("Docker: skipping container %.12s: its Labels are "
		    "not a JSON object", id);
		return -1;
	}
	if (json_object_size(labels) > DOCKER_MAX_LABELS) {
		log_warn("Docker: skipping container %.12s: more than %d "
		    "labels", id, DOCKER_MAX_LABELS);
		return -1;
	}

	dc->labels = xcalloc(json_object_size(labels), sizeof(*dc->labels));
	json_object_keylen_foreach(labels, key, klen, v) {
		docker_printable(key, klen, show, sizeof(show));
		if (!json_is_string(v)) {
			log_debug("Docker: container %.12s: label '%s' is "
			    "not a string; ignored", id, show);
			continue;
		}
		val = json_string_value(v);
		vlen = json_string_length(v);
		if (klen > DOCKER_MAX_LABEL || vlen > DOCKER_MAX_LABEL ||
		    has_control(key, klen) || has_control(val, vlen)) {
			log_debug("Docker: container %.12s: label '%s' is "
			    "longer than %d bytes or holds a control "
			    "character; ignored", id, show, DOCKER_MAX_LABEL);
			continue;
		}
		dc->labels[dc->nlabels].key = xstrndup(key, klen);
		dc->labels[dc->nlabels].value = xstrndup(val, vlen);
		dc->nlabels++;
	}
	qsort(dc->labels, dc->nlabels, sizeof(*dc->labels), label_cmp);
	return 0;
}

/* One address of the family, or none ("" is none, and so is junk). */
static bool
parse_addr(json_t *net, const char *key, int family, const char *id,
	const char *netname, struct rf_prefix *ret)
{
	const char *fam = family == AF_INET ? "IPv4" : "IPv6";
	json_t *v = json_object_get(net, key);
	struct rf_prefix p;
	char show[SHOW];
	const char *s;
	char *err = NULL;
	size_t len, off;

	if (!v || json_is_null(v))
		return false;
	if (!json_is_string(v)) {
		log_warn("Docker: container %.12s: %s on network %s is not a "
		    "string; ignored", id, key, netname);
		return false;
	}
	s = json_string_value(v);
	len = json_string_length(v);
	if (len == 0)
		return false;

	/* addr_parse_prefix() takes prefixes; Docker gives one address. */
	if (has_control(s, len) || memchr(s, '/', len) ||
	    addr_parse_prefix(s, len, &p, &err, &off) < 0 ||
	    p.family != family) {
		free(err);
		docker_printable(s, len, show, sizeof(show));
		log_warn("Docker: container %.12s: '%s' on network %s is not "
		    "an %s address; ignored", id, show, netname, fam);
		return false;
	}
	*ret = p;
	return true;
}

static int
attachment_cmp(const void *a, const void *b)
{
	const struct docker_attachment *x = a, *y = b;

	return strcmp(x->network_id, y->network_id);
}

static int
parse_attachments(json_t *c, const char *id, struct docker_container *dc)
{
	json_t *settings, *nets, *v;
	struct docker_attachment *a;
	const char *key, *nid;
	char show[SHOW];
	size_t klen, len;

	settings = json_object_get(c, "NetworkSettings");
	if (!settings || json_is_null(settings))
		return 0;
	nets = json_object_get(settings, "Networks");
	if (!json_is_object(settings) || (nets && !json_is_null(nets) &&
	    !json_is_object(nets))) {
		log_warn("Docker: skipping container %.12s: its "
		    "NetworkSettings.Networks is not a JSON object", id);
		return -1;
	}
	if (json_object_size(nets) > DOCKER_MAX_ATTACH) {
		log_warn("Docker: skipping container %.12s: attached to more "
		    "than %d networks", id, DOCKER_MAX_ATTACH);
		return -1;
	}

	dc->nets = xcalloc(json_object_size(nets), sizeof(*dc->nets));
	json_object_keylen_foreach(nets, key, klen, v) {
		docker_printable(key, klen, show, sizeof(show));
		nid = get_string(v, "NetworkID", &len);
		if (!json_is_object(v) || !nid || !valid_id(nid, len)) {
			log_warn("Docker: container %.12s: network '%s' has "
			    "no valid NetworkID; ignored", id, show);
			continue;
		}
		a = &dc->nets[dc->nnets++];
		a->network_id = xstrndup(nid, len);
		if (valid_name(key, klen))
			a->network_name = xstrndup(key, klen);
		else
			log_warn("Docker: container %.12s: network name '%s' "
			    "breaks the name rules", id, show);
		a->has_v4 = parse_addr(v, "IPAddress", AF_INET, id, show,
		    &a->v4);
		a->has_v6 = parse_addr(v, "GlobalIPv6Address", AF_INET6, id,
		    show, &a->v6);
	}
	qsort(dc->nets, dc->nnets, sizeof(*dc->nets), attachment_cmp);
	return 0;
}

static void
container_free(struct docker_container *c)
{
	size_t i;

	for (i = 0; i < c->nlabels; i++) {
		free(c->labels[i].key);
		free(c->labels[i].value);
	}
	for (i = 0; i < c->nnets; i++) {
		free(c->nets[i].network_id);
		free(c->nets[i].network_name);
	}
	free(c->labels);
	free(c->nets);
	free(c->id);
	free(c->name);
	memset(c, 0, sizeof(*c));
}

/* 0, or -1 after a warning when the entry is to be left out. */
static int
parse_container(json_t *c, struct docker_container *dc)
{
	if (!json_is_object(c)) {
		log_warn("Docker: skipping a container that is not a JSON "
		    "object");
		return -1;
	}
	dc->id = get_id(c, "Id", "container");
	if (!dc->id)
		return -1;
	dc->name = container_name(c, dc->id);
	if (parse_labels(c, dc->id, dc) < 0 ||
	    parse_attachments(c, dc->id, dc) < 0) {
		container_free(dc);
		return -1;
	}
	return 0;
}

static void
network_free(struct docker_network *n)
{
	free(n->id);
	free(n->name);
	free(n->bridge);
	memset(n, 0, sizeof(*n));
}

/*
 * A bridge network's host interface is the bridge.name option if set,
 * else "br-" and the id's first 12 digits.  A set option that is not a
 * plain interface name gives no bridge at all: guessing could name some
 * other interface.
 */
static char *
bridge_name(json_t *n, const char *id)
{
	json_t *opts = json_object_get(n, "Options"), *v;
	char show[SHOW];
	const char *s;
	size_t len;

	if (opts && !json_is_null(opts) && !json_is_object(opts)) {
		log_warn("Docker: network %.12s: Options is not a JSON "
		    "object; no bridge", id);
		return NULL;
	}
	v = json_object_get(opts, "com.docker.network.bridge.name");
	if (!v || (json_is_string(v) && json_string_length(v) == 0))
		return xasprintf("br-%.12s", id);
	if (!json_is_string(v)) {
		log_warn("Docker: network %.12s: bridge name is not a string; "
		    "no bridge", id);
		return NULL;
	}
	s = json_string_value(v);
	len = json_string_length(v);
	if (!valid_ifname(s, len)) {
		docker_printable(s, len, show, sizeof(show));
		log_warn("Docker: network %.12s: bridge name '%s' is not a "
		    "usable interface name; no bridge", id, show);
		return NULL;
	}
	return xstrndup(s, len);
}

static int
parse_network(json_t *n, struct docker_network *dn)
{
	const char *s;
	char show[SHOW];
	size_t len;

	if (!json_is_object(n)) {
		log_warn("Docker: skipping a network that is not a JSON "
		    "object");
		return -1;
	}
	dn->id = get_id(n, "Id", "network");
	if (!dn->id)
		return -1;
	s = get_string(n, "Name", &len);
	if (s && valid_name(s, len)) {
		dn->name = xstrndup(s, len);
	} else {
		docker_printable(s ? s : "", s ? len : 0, show, sizeof(show));
		log_warn("Docker: network %.12s: name '%s' breaks the name "
		    "rules", dn->id, show);
	}
	s = get_string(n, "Driver", &len);
	if (s && len == 6 && !memcmp(s, "bridge", 6))
		dn->bridge = bridge_name(n, dn->id);
	return 0;
}

static int
container_cmp(const void *a, const void *b)
{
	const struct docker_container *x = a, *y = b;

	return strcmp(x->id, y->id);
}

static int
network_cmp(const void *a, const void *b)
{
	const struct docker_network *x = a, *y = b;

	return strcmp(x->id, y->id);
}

static int
name_cmp(const void *a, const void *b)
{
	struct docker_container *const *x = a, *const *y = b;

	return strcmp((*x)->name, (*y)->name);
}

/* Docker never lists one id twice; if it does, keep one and say so. */
static void
containers_unique(struct docker_inventory *inv)
{
	struct docker_container **byname;
	size_t i, j, n = 0;

	qsort(inv->containers, inv->ncontainers, sizeof(*inv->containers),
	    container_cmp);
	for (i = 0; i < inv->ncontainers; i++) {
		if (n > 0 && !strcmp(inv->containers[n - 1].id,
		    inv->containers[i].id)) {
			log_warn("Docker: container %.12s is listed twice; "
			    "keeping one", inv->containers[i].id);
			container_free(&inv->containers[i]);
			continue;
		}
		inv->containers[n++] = inv->containers[i];
	}
	inv->ncontainers = n;

	/* A name must pick one container, or none. */
	byname = xcalloc(inv->ncontainers, sizeof(*byname));
	for (i = n = 0; i < inv->ncontainers; i++)
		if (inv->containers[i].name)
			byname[n++] = &inv->containers[i];
	qsort(byname, n, sizeof(*byname), name_cmp);
	for (i = 0; i < n; i = j) {
		for (j = i + 1; j < n; j++)
			if (strcmp(byname[i]->name, byname[j]->name))
				break;
		if (j - i == 1)
			continue;
		log_warn("Docker: %zu containers are named %s; matching none "
		    "of them by name", j - i, byname[i]->name);
		for (; i < j; i++) {
			free(byname[i]->name);
			byname[i]->name = NULL;
		}
	}
	free(byname);
}

static void
networks_unique(struct docker_inventory *inv)
{
	size_t i, n = 0;

	qsort(inv->networks, inv->nnetworks, sizeof(*inv->networks),
	    network_cmp);
	for (i = 0; i < inv->nnetworks; i++) {
		if (n > 0 && !strcmp(inv->networks[n - 1].id,
		    inv->networks[i].id)) {
			log_warn("Docker: network %.12s is listed twice; "
			    "keeping one", inv->networks[i].id);
			network_free(&inv->networks[i]);
			continue;
		}
		inv->networks[n++] = inv->networks[i];
	}
	inv->nnetworks = n;
}

/*
 * jansson refuses a NUL in an object key, so one label key holding
 * "\u0000" would make the whole listing unreadable.  Rewrite every such
 * escape inside a string as "\u0001": nothing ringfence keeps may hold a
 * control character, so the entry is still refused, but alone.
 */
static char *
defuse_nul(const char *text, size_t len)
{
	bool in_string = false;
	char *t;
	size_t i;

	if (!memmem(text, len, "\\u0000", 6))
		return NULL;
	t = xmalloc(len);
	memcpy(t, text, len);
	for (i = 0; i < len; i++) {
		if (!in_string) {
			in_string = t[i] == '"';
		} else if (t[i] == '"') {
			in_string = false;
		} else if (t[i] == '\\' && i + 1 < len) {
			if (len - i >= 6 && !memcmp(t + i + 1, "u0000", 5))
				t[i + 5] = '1';
			i++;
		}
	}
	return t;
}

/* A JSON array of at most max entries, or NULL with *ret_error set. */
static json_t *
load_array(const char *text, size_t len, const char *what, size_t max,
	char **ret_error)
{
	char show[SHOW], *defused;
	json_error_t jerr;
	json_t *root;

	defused = defuse_nul(text, len);
	root = json_loadb(defused ? defused : text, len, 0, &jerr);
	free(defused);
	if (!root) {
		docker_printable(jerr.text, strlen(jerr.text), show,
		    sizeof(show));
		*ret_error = xasprintf("Docker's list of %s is not valid "
		    "JSON: %s at byte %d", what, show, jerr.position);
		return NULL;
	}
	if (!json_is_array(root)) {
		*ret_error = xasprintf("Docker's list of %s is not a JSON "
		    "array", what);
		json_decref(root);
		return NULL;
	}
	if (json_array_size(root) > max) {
		*ret_error = xasprintf("Docker lists more than %zu %s", max,
		    what);
		json_decref(root);
		return NULL;
	}
	return root;
}

int
docker_inventory_parse(const char *containers_json, size_t containers_len,
	const char *networks_json, size_t networks_len,
	struct docker_inventory *ret, char **ret_error)
{
	struct docker_inventory inv = { 0 };
	json_t *croot, *nroot, *v;
	size_t i;

	croot = load_array(containers_json, containers_len, "containers",
	    DOCKER_MAX_CONTAINERS, ret_error);
	if (!croot)
		return -EPROTO;
	nroot = load_array(networks_json, networks_len, "networks",
	    DOCKER_MAX_NETWORKS, ret_error);
	if (!nroot) {
		json_decref(croot);
		return -EPROTO;
	}

	inv.containers = xcalloc(json_array_size(croot),
	    sizeof(*inv.containers));
	json_array_foreach(croot, i, v)
		if (parse_container(v, &inv.containers[inv.ncontainers]) == 0)
			inv.ncontainers++;
	inv.networks = xcalloc(json_array_size(nroot), sizeof(*inv.networks));
	json_array_foreach(nroot, i, v)
		if (parse_network(v, &inv.networks[inv.nnetworks]) == 0)
			inv.nnetworks++;
	json_decref(croot);
	json_decref(nroot);

	containers_unique(&inv);
	networks_unique(&inv);
	*ret = inv;
	return 0;
}

int
docker_inventory_load(const char *socket_path, struct docker_inventory *ret,
	char **ret_error)
{
	char *cbody = NULL, *nbody = NULL;
	size_t clen, nlen;
	int r;

	/*
	 * Containers first: a network a listed container is attached to
	 * existed then, so the second call finds it unless it is removed in
	 * between, and that removal is an event that brings a new listing.
	 */
	r = docker_http_get(socket_path, "/containers/json", &cbody, &clen,
	    ret_error);
	if (r < 0)
		return r;
	r = docker_http_get(socket_path, "/networks", &nbody, &nlen,
	    ret_error);
	if (r == 0)
		r = docker_inventory_parse(cbody, clen, nbody, nlen, ret,
		    ret_error);
	free(cbody);
	free(nbody);
	return r;
}

void
docker_inventory_free(struct docker_inventory *inv)
{
	size_t i;

	if (!inv)
		return;
	for (i = 0; i < inv->ncontainers; i++)
		container_free(&inv->containers[i]);
	for (i = 0; i < inv->nnetworks; i++)
		network_free(&inv->networks[i]);
	free(inv->containers);
	free(inv->networks);
	inv->containers = NULL;
	inv->networks = NULL;
	inv->ncontainers = inv->nnetworks = 0;
}

const char *
docker_label(const struct docker_container *c, const char *key)
{
	struct docker_label k = { .key = (char *)key }, *l;

	if (c->nlabels == 0)
		return NULL;
	l = bsearch(&k, c->labels, c->nlabels, sizeof(*c->labels), label_cmp);
	return l ? l->value : NULL;
}
