/*
 * parser.c: policy text to syntax tree, one statement per line.
 *
 * A recursive-descent parser over the tokens of lexer.c.  On an error it
 * records it, skips to the end of the line and goes on, so one run reports
 * every problem.  Includes are parsed in place; defines must come before
 * their use, which also rules out a define that refers to itself.
 */
#include <errno.h>
#include <glob.h>
#include <libgen.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "policy/ast.h"
#include "policy/lexer.h"

#define MAX_INCLUDE_DEPTH	16
#define MAX_NAME_LEN		128

/* Files being parsed, innermost last: detects include cycles. */
struct include_frame {
	char			*realpath;
	struct rf_loc		 from;	/* the include statement; src NULL at top */
	struct include_frame	*up;
};

struct parser {
	struct lexer		 lx;
	struct token		 tok;
	struct policy		*pol;
	struct rf_diags		*diags;
	struct include_frame	*frame;
	unsigned		 depth;
	struct strbuf		*record;	/* tokens of the current rule */
};

static void parse_file(struct parser *ps);

/*
 * While a rule is read, its tokens are also written to ps->record, one
 * space apart, so the rule's text is one line however it was laid out.
 */
#define RULE_TEXT_MAX	200	/* then " ..." */

static void
record_token(struct parser *ps)
{
	const struct token *t = &ps->tok;
	struct strbuf *sb = ps->record;

	if (t->kind == TOK_NEWLINE || t->kind == TOK_EOF || t->kind == TOK_BAD)
		return;
	/* Shown by status; a rule of 100,000 prefixes would be 1.5 MB. */
	if (sb->len >= RULE_TEXT_MAX) {
		if (sb->buf[sb->len - 1] != '.')
			strbuf_puts(sb, " ...");
		return;
	}
	if (sb->len && t->kind != TOK_COMMA)
		strbuf_putc(sb, ' ');
	strbuf_add(sb, t->text, t->len);
}

static void
next(struct parser *ps)
{
	if (ps->record)
		record_token(ps);
	lexer_next(&ps->lx, &ps->tok);
}

static bool
at_eol(const struct parser *ps)
{
	return ps->tok.kind == TOK_NEWLINE || ps->tok.kind == TOK_EOF;
}

static void
skip_line(struct parser *ps)
{
	while (!at_eol(ps))
		next(ps);
}

static void
skip_newlines(struct parser *ps)
{
	while (ps->tok.kind == TOK_NEWLINE)
		next(ps);
}

/* Describe the current token for "expected X, found Y" messages. */
static char *
tok_describe(const struct token *t)
{
	if (t->kind == TOK_WORD)
		return xasprintf("'%.*s'", (int)t->len, t->text);
	if (t->kind == TOK_STRING)
		return xasprintf("\"%.*s\"", (int)t->len, t->text);
	return xstrdup(tok_kind_name(t->kind));
}

/* Record "expected WHAT, found TOKEN" unless the token was already bad. */
static void
error_expected(struct parser *ps, const char *what)
{
	char *found;

	if (ps->tok.kind == TOK_BAD)
		return;
	found = tok_describe(&ps->tok);
	diag_error(ps->diags, &ps->tok.loc, "expected %s, found %s", what,
	    found);
	free(found);
}

static struct rf_loc
loc_at(const struct token *t, size_t off)
{
	struct rf_loc loc = t->loc;

	loc.col += (unsigned)off;
	return loc;
}

/* Require the end of the line after a statement. */
static bool
expect_eol(struct parser *ps)
{
	if (at_eol(ps))
		return true;
	error_expected(ps, "end of line");
	skip_line(ps);
	return false;
}

static bool
valid_name(const struct token *t, bool allow_digit_start, bool allow_dash)
{
	size_t i;

	if (t->kind != TOK_WORD || t->len == 0 || t->len > MAX_NAME_LEN)
		return false;
	for (i = 0; i < t->len; i++) {
		char c = t->text[i];

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    c == '_')
			continue;
		if (c >= '0' && c <= '9' && (i > 0 || allow_digit_start))
			continue;
		if ((c == '-' || c == '.') && allow_dash && i > 0)
			continue;
		return false;
	}
	return true;
}

/* ---- numbers, ports and protocols ---- */

static int
parse_u16(const char *s, size_t n, unsigned long *ret)
{
	unsigned long v = 0;
	size_t i;

	if (n == 0)
		return -EINVAL;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
		if (v <= 65535)
			v = v * 10 + (unsigned long)(s[i] - '0');
	}
	*ret = v;
	return 0;
}

const char *
proto_name(int proto)
{
	switch (proto) {
	case IPPROTO_TCP:	return "tcp";
	case IPPROTO_UDP:	return "udp";
	case IPPROTO_SCTP:	return "sctp";
	case IPPROTO_ICMP:	return "icmp";
	case IPPROTO_ICMPV6:	return "icmpv6";
	}
	return "?";
}

static int
proto_lookup(const char *s, size_t n)
{
	static const int protos[] = {
		IPPROTO_TCP, IPPROTO_UDP, IPPROTO_SCTP, IPPROTO_ICMP,
		IPPROTO_ICMPV6,
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(protos); i++) {
		const char *name = proto_name(protos[i]);

		if (strlen(name) == n && !memcmp(name, s, n))
			return protos[i];
	}
	return -1;
}

static bool
proto_has_ports(int proto)
{
	return proto == IPPROTO_TCP || proto == IPPROTO_UDP ||
	    proto == IPPROTO_SCTP;
}

/* One port number at offset off of the token, 1-65535. */
static bool
parse_port_number(struct parser *ps, const struct token *t, size_t off,
	size_t n, uint16_t *ret)
{
	struct rf_loc loc = loc_at(t, off);
	unsigned long v;

	if (n == 0) {
		diag_error(ps->diags, &loc, "missing port number");
		return false;
	}
	if (parse_u16(t->text + off, n, &v) < 0) {
		diag_error(ps->diags, &loc, "'%.*s' is not a port number",
		    (int)n, t->text + off);
		return false;
	}
	if (v < 1 || v > 65535) {
		diag_error(ps->diags, &loc, "port %.*s is out of range "
		    "(1-65535)", (int)n, t->text + off);
		return false;
	}
	*ret = (uint16_t)v;
	return true;
}

/* "N/proto" or "N-M/proto" */
static bool
parse_port_item(struct parser *ps, struct pol_rule *rule)
{
	const struct token *t = &ps->tok;
	const char *slash, *dash;
	struct pol_port *pp;
	size_t nlen;
	int proto;

	if (t->kind != TOK_WORD) {
		error_expected(ps, "a port such as 5000/tcp");
		return false;
	}
	slash = memchr(t->text, '/', t->len);
	if (!slash) {
		diag_error(ps->diags, &t->loc, "port %.*s has no protocol: "
		    "write %.*s/tcp, %.*s/udp or %.*s/sctp", (int)t->len,
		    t->text, (int)t->len, t->text, (int)t->len, t->text,
		    (int)t->len, t->text);
		return false;
	}
	nlen = (size_t)(slash - t->text);

	proto = proto_lookup(slash + 1, t->len - nlen - 1);
	if (proto < 0 || !proto_has_ports(proto)) {
		struct rf_loc loc = loc_at(t, nlen + 1);

		if (t->len == nlen + 1)
			diag_error(ps->diags, &loc, "missing protocol after "
			    "'/': write tcp, udp or sctp");
		else if (proto < 0)
			diag_error(ps->diags, &loc, "unknown protocol '%.*s' "
			    "(ports take tcp, udp or sctp)",
			    (int)(t->len - nlen - 1), slash + 1);
		else
			diag_error(ps->diags, &loc, "%s has no ports: write "
			    "'proto %s' instead", proto_name(proto),
			    proto_name(proto));
		return false;
	}

	pp = vec_push(&rule->ports, &rule->nports, &rule->capports,
	    sizeof(*pp));
	pp->proto = (uint8_t)proto;
	pp->loc = t->loc;

	dash = memchr(t->text, '-', nlen);
	if (!dash) {
		if (!parse_port_number(ps, t, 0, nlen, &pp->lo))
			return false;
		pp->hi = pp->lo;
		return true;
	}
	if (!parse_port_number(ps, t, 0, (size_t)(dash - t->text), &pp->lo) ||
	    !parse_port_number(ps, t, (size_t)(dash - t->text) + 1,
	    (size_t)(slash - dash) - 1, &pp->hi))
		return false;
	if (pp->lo > pp->hi) {
		diag_error(ps->diags, &t->loc, "port range %u-%u is reversed: "
		    "write %u-%u", pp->lo, pp->hi, pp->hi, pp->lo);
		return false;
	}
	return true;
}

/*
 * Items of a { ... } list, separated by commas; newlines inside are
 * ignored.  The opening brace is the current token.  Returns false after
 * reporting an error.
 */
static bool
parse_list(struct parser *ps, bool (*item)(struct parser *, void *),
	void *arg, const char *what)
{
	struct rf_loc open = ps->tok.loc;
	bool any = false;

	next(ps);
	for (;;) {
		skip_newlines(ps);
		if (ps->tok.kind == TOK_EOF) {
			diag_error(ps->diags, &open, "unterminated list: "
			    "'{' is never closed");
			return false;
		}
		if (ps->tok.kind == TOK_RBRACE) {
			if (!any) {
				diag_error(ps->diags, &open, "empty %s list",
				    what);
				return false;
			}
			next(ps);
			return true;
		}
		if (ps->tok.kind == TOK_LBRACE) {
			diag_error(ps->diags, &ps->tok.loc, "lists do not "
			    "nest: name the inner list with 'define'");
			return false;
		}
		if (!item(ps, arg))
			return false;
		any = true;
		next(ps);

		if (ps->tok.kind == TOK_NEWLINE) {
			struct lexer lx = ps->lx;
			struct token tok = ps->tok;

			skip_newlines(ps);
			if (ps->tok.kind == TOK_EOF) {
				diag_error(ps->diags, &open, "unterminated "
				    "list: '{' is never closed");
				return false;
			}
			if (ps->tok.kind != TOK_COMMA &&
			    ps->tok.kind != TOK_RBRACE) {
				diag_error(ps->diags, &open, "unterminated "
				    "list: '{' is not closed before the next "
				    "line");
				/* Leave the next line to the caller. */
				ps->lx = lx;
				ps->tok = tok;
				return false;
			}
		}
		if (ps->tok.kind == TOK_COMMA) {
			next(ps);
			continue;
		}
		if (ps->tok.kind != TOK_RBRACE) {
			error_expected(ps, "',' or '}'");
			return false;
		}
	}
}

static bool
port_item_cb(struct parser *ps, void *arg)
{
	return parse_port_item(ps, arg);
}

static bool
parse_ports(struct parser *ps, struct pol_rule *rule)
{
	if (ps->tok.kind == TOK_LBRACE)
		return parse_list(ps, port_item_cb, rule, "port");
	if (!parse_port_item(ps, rule))
		return false;
	next(ps);
	return true;
}

/* ---- addresses ---- */

static const struct pol_define *
find_define(const struct policy *pol, const char *name, size_t n)
{
	size_t i;

	for (i = 0; i < pol->ndefines; i++) {
		const struct pol_define *d = pol->defines[i];

		if (strlen(d->name) == n && !memcmp(d->name, name, n))
			return d;
	}
	return NULL;
}

static bool
parse_prefix_token(struct parser *ps, const struct token *t,
	struct rf_prefix *ret)
{
	char *err = NULL;
	size_t off;

	if (addr_parse_prefix(t->text, t->len, ret, &err, &off) < 0) {
		struct rf_loc loc = loc_at(t, off);

		diag_error(ps->diags, &loc, "%s", err);
		free(err);
		return false;
	}
	return true;
}

static struct pol_addr *
addr_new(enum pol_addr_kind kind, const struct rf_loc *loc)
{
	struct pol_addr *a = xcalloc(1, sizeof(*a));

	a->kind = kind;
	a->loc = *loc;
	return a;
}

static void
addr_free(struct pol_addr *a)
{
	size_t i;

	if (!a)
		return;
	for (i = 0; i < a->nitems; i++)
		addr_free(a->items[i]);
	free(a->items);
	free(a->prefixes);
	free(a->v4);
	free(a->name);
	free(a);
}

static bool
is_clause_word(const struct token *t)
{
	static const char *const words[] = {
		"from", "to", "port", "proto", "publish", "log",
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(words); i++)
		if (tok_is(t, words[i]))
			return true;
	return false;
}

/* One item: any, host, container NAME, $NAME, ADDR or ADDR/LEN. */
static struct pol_addr *
parse_addr_item(struct parser *ps)
{
	const struct token *t = &ps->tok;
	struct pol_addr *a;

	if (t->kind != TOK_WORD) {
		error_expected(ps, "an address");
		return NULL;
	}
	if (tok_is(t, "any"))
		return addr_new(PADDR_ANY, &t->loc);
	if (tok_is(t, "host"))
		return addr_new(PADDR_HOST, &t->loc);

	if (tok_is(t, "container")) {
		next(ps);
		if (!valid_name(t, true, true) || is_clause_word(t)) {
			error_expected(ps, "a container name after 'container'");
			return NULL;
		}
		a = addr_new(PADDR_CONTAINER, &t->loc);
		a->name = xstrndup(t->text, t->len);
		return a;
	}

	if (t->text[0] == '$') {
		const struct pol_define *d;

		if (t->len == 1) {
			diag_error(ps->diags, &t->loc, "missing name after "
			    "'$'");
			return NULL;
		}
		d = find_define(ps->pol, t->text + 1, t->len - 1);
		if (!d) {
			diag_error(ps->diags, &t->loc, "undefined name '%.*s' "
			    "(define it before its first use)", (int)t->len,
			    t->text);
			return NULL;
		}
		a = addr_new(PADDR_VAR, &t->loc);
		a->def = d;
		return a;
	}

	a = addr_new(PADDR_PREFIX, &t->loc);
	if (!parse_prefix_token(ps, t, &a->prefix)) {
		free(a);
		return NULL;
	}
	return a;
}

static bool
addr_item_cb(struct parser *ps, void *arg)
{
	struct pol_addr *list = arg, *item, **slot;

	item = parse_addr_item(ps);
	if (!item)
		return false;
	if (item->kind == PADDR_PREFIX && item->prefix.family == AF_INET) {
		struct pol_v4 *v = vec_push(&list->v4, &list->nv4,
		    &list->capv4, sizeof(*v));

		v->addr = (uint32_t)item->prefix.addr;
		v->len = (uint8_t)item->prefix.len;
		free(item);
		return true;
	}
	if (item->kind == PADDR_PREFIX) {
		struct rf_prefix *p = vec_push(&list->prefixes,
		    &list->nprefixes, &list->capprefixes, sizeof(*p));

		*p = item->prefix;
		free(item);
		return true;
	}
	slot = vec_push(&list->items, &list->nitems, &list->capitems,
	    sizeof(*slot));
	*slot = item;
	return true;
}

/* ADDRS, leaving the token after it current. */
static struct pol_addr *
parse_addrs(struct parser *ps)
{
	struct pol_addr *a;

	if (ps->tok.kind == TOK_LBRACE) {
		a = addr_new(PADDR_LIST, &ps->tok.loc);
		if (!parse_list(ps, addr_item_cb, a, "address")) {
			addr_free(a);
			return NULL;
		}
		/* Lists live as long as the policy: give back the room. */
		if (a->nv4) {
			a->v4 = xrealloc(a->v4, a->nv4 * sizeof(*a->v4));
			a->capv4 = a->nv4;
		}
		if (a->nprefixes) {
			a->prefixes = xrealloc(a->prefixes, a->nprefixes *
			    sizeof(*a->prefixes));
			a->capprefixes = a->nprefixes;
		}
		return a;
	}
	a = parse_addr_item(ps);
	if (a)
		next(ps);
	return a;
}

/* ---- publish ---- */

/* [HOSTADDR:]PORT with IPv6 host addresses in brackets. */
static bool
parse_publish(struct parser *ps, struct pol_rule *rule)
{
	const struct token *t = &ps->tok;
	const char *colon;
	size_t port_off = 0;

	if (t->kind != TOK_WORD) {
		error_expected(ps, "a host port such as 5000 or "
		    "192.0.2.1:5000");
		return false;
	}
	rule->publish = true;
	rule->publish_loc = t->loc;

	if (t->text[0] == '[') {
		const char *close = memchr(t->text, ']', t->len);
		struct token inner = *t;

		if (!close || close + 1 >= t->text + t->len ||
		    close[1] != ':') {
			diag_error(ps->diags, &t->loc, "write an IPv6 host "
			    "address in brackets followed by the port: "
			    "[2001:db8::1]:5000");
			return false;
		}
		inner.text = t->text + 1;
		inner.len = (size_t)(close - t->text) - 1;
		inner.loc = loc_at(t, 1);
		if (!parse_prefix_token(ps, &inner, &rule->publish_addr))
			return false;
		if (rule->publish_addr.family != AF_INET6) {
			diag_error(ps->diags, &inner.loc, "brackets are for "
			    "IPv6 addresses; write an IPv4 host address as "
			    "192.0.2.1:5000");
			return false;
		}
		rule->publish_has_addr = true;
		port_off = (size_t)(close - t->text) + 2;
	} else if ((colon = memchr(t->text, ':', t->len))) {
		struct token inner = *t;

		if (memchr(colon + 1, ':', t->len -
		    (size_t)(colon - t->text) - 1)) {
			diag_error(ps->diags, &t->loc, "an IPv6 host address "
			    "needs brackets: [2001:db8::1]:5000");
			return false;
		}
		inner.len = (size_t)(colon - t->text);
		if (!parse_prefix_token(ps, &inner, &rule->publish_addr))
			return false;
		rule->publish_has_addr = true;
		port_off = inner.len + 1;
	}

	if (rule->publish_has_addr &&
	    rule->publish_addr.len != addr_bits(rule->publish_addr.family)) {
		diag_error(ps->diags, &t->loc, "publish takes one host "
		    "address, not a prefix");
		return false;
	}
	if (memchr(t->text + port_off, '-', t->len - port_off)) {
		struct rf_loc loc = loc_at(t, port_off);

		diag_error(ps->diags, &loc, "publish takes one host port, "
		    "not a range");
		return false;
	}
	return parse_port_number(ps, t, port_off, t->len - port_off,
	    &rule->publish_port);
}

/* ---- rules ---- */

static bool
parse_direction(struct parser *ps, enum rf_dir *ret)
{
	if (tok_is(&ps->tok, "in"))
		*ret = DIR_IN;
	else if (tok_is(&ps->tok, "out"))
		*ret = DIR_OUT;
	else {
		error_expected(ps, "'in' or 'out'");
		return false;
	}
	next(ps);
	return true;
}

/* Report a clause given twice or in the wrong kind of rule. */
static bool
clause_ok(struct parser *ps, bool seen, bool allowed, const char *why)
{
	if (!allowed) {
		diag_error(ps->diags, &ps->tok.loc, "%s", why);
		return false;
	}
	if (seen) {
		diag_error(ps->diags, &ps->tok.loc, "'%.*s' is given twice in "
		    "this rule", (int)ps->tok.len, ps->tok.text);
		return false;
	}
	return true;
}

static bool
parse_allow_clause(struct parser *ps, struct pol_rule *r, bool *seen_peer)
{
	const struct token *t = &ps->tok;
	bool in = r->dir == DIR_IN;

	if (tok_is(t, "from") || tok_is(t, "to")) {
		bool from = tok_is(t, "from");

		if (!clause_ok(ps, *seen_peer, from == in, from ?
		    "'from' is for 'allow in'; write 'allow out to ...'" :
		    "'to' is for 'allow out'; write 'allow in from ...'"))
			return false;
		*seen_peer = true;
		next(ps);
		r->peer = parse_addrs(ps);
		return r->peer != NULL;
	}
	if (tok_is(t, "port")) {
		if (!clause_ok(ps, r->ports != NULL, r->proto < 0,
		    "give either 'port' or 'proto', not both: 'port' names "
		    "the protocol already"))
			return false;
		next(ps);
		return parse_ports(ps, r);
	}
	if (tok_is(t, "proto")) {
		if (!clause_ok(ps, r->proto >= 0, r->ports == NULL,
		    "give either 'port' or 'proto', not both: 'port' names "
		    "the protocol already"))
			return false;
		next(ps);
		r->proto = t->kind == TOK_WORD ?
		    proto_lookup(t->text, t->len) : -1;
		if (r->proto < 0) {
			error_expected(ps, "a protocol (tcp, udp, sctp, icmp "
			    "or icmpv6)");
			return false;
		}
		next(ps);
		return true;
	}
	if (tok_is(t, "publish")) {
		if (!clause_ok(ps, r->publish, in, "'publish' forwards a "
		    "host port inward and belongs to 'allow in' rules"))
			return false;
		next(ps);
		if (!parse_publish(ps, r))
			return false;
		next(ps);
		return true;
	}
	if (tok_is(t, "log")) {
		if (!clause_ok(ps, r->log, true, ""))
			return false;
		r->log = true;
		next(ps);
		return true;
	}
	error_expected(ps, in ? "'from', 'port', 'proto', 'publish', 'log' "
	    "or end of line" : "'to', 'port', 'proto', 'log' or end of line");
	return false;
}

/* Rules that parse but cannot mean anything. */
static bool
check_publish(struct parser *ps, const struct pol_rule *r)
{
	if (!r->publish)
		return true;
	if (r->nports == 0) {
		diag_error(ps->diags, &r->publish_loc, "publish needs the "
		    "container port: add 'port %u/tcp' (or /udp, /sctp)",
		    r->publish_port);
		return false;
	}
	if (r->nports > 1) {
		diag_error(ps->diags, &r->ports[1].loc, "publish forwards one "
		    "port: this rule lists %zu", r->nports);
		return false;
	}
	if (r->ports[0].lo != r->ports[0].hi) {
		diag_error(ps->diags, &r->ports[0].loc, "publish forwards one "
		    "port, not the range %u-%u", r->ports[0].lo,
		    r->ports[0].hi);
		return false;
	}
	return true;
}

static bool
parse_rule(struct parser *ps, struct pol_container *c)
{
	struct pol_rule r = { .proto = -1 };
	bool seen_peer = false;
	struct strbuf text;

	strbuf_init(&text);
	ps->record = &text;
	r.loc = ps->tok.loc;
	r.is_deny = tok_is(&ps->tok, "deny");
	next(ps);
	if (!parse_direction(ps, &r.dir))
		goto fail;

	if (r.is_deny) {
		if (tok_is(&ps->tok, "drop"))
			r.action = ACTION_DROP;
		else if (tok_is(&ps->tok, "reject"))
			r.action = ACTION_REJECT;
		else {
			error_expected(ps, "'drop' or 'reject'");
			goto fail;
		}
		next(ps);
	}
	while (!r.is_deny && !at_eol(ps) && ps->tok.kind != TOK_RBRACE) {
		if (!parse_allow_clause(ps, &r, &seen_peer))
			goto fail;
	}
	ps->record = NULL;
	if (ps->tok.kind == TOK_RBRACE) {
		/* Report it, and let the brace close the block. */
		diag_error(ps->diags, &ps->tok.loc, "'}' goes on a line of "
		    "its own");
		goto fail_keep;
	}
	if (!expect_eol(ps) || !check_publish(ps, &r))
		goto fail;

	r.text = text.buf;
	*(struct pol_rule *)vec_push(&c->rules, &c->nrules, &c->caprules,
	    sizeof(r)) = r;
	return true;

fail:
	skip_line(ps);
fail_keep:
	ps->record = NULL;
	strbuf_free(&text);
	addr_free(r.peer);
	free(r.ports);
	return false;
}

/* ---- container blocks ---- */

static bool
container_addr_cb(struct parser *ps, struct pol_container *c)
{
	struct pol_container_addr *ca;
	struct rf_prefix p;

	if (ps->tok.kind != TOK_WORD) {
		error_expected(ps, "an IP address");
		return false;
	}
	if (!parse_prefix_token(ps, &ps->tok, &p))
		return false;
	if (p.len != addr_bits(p.family)) {
		diag_error(ps->diags, &ps->tok.loc, "a container address is "
		    "one address, not a prefix");
		return false;
	}
	ca = vec_push(&c->addrs, &c->naddrs, &c->capaddrs, sizeof(*ca));
	ca->addr = p;
	ca->loc = ps->tok.loc;
	next(ps);
	return true;
}

/* address ADDR[, ADDR...] */
static bool
parse_container_addresses(struct parser *ps, struct pol_container *c)
{
	c->has_address = true;
	next(ps);
	for (;;) {
		if (!container_addr_cb(ps, c))
			return false;
		if (ps->tok.kind != TOK_COMMA)
			return true;
		next(ps);
	}
}

static void
container_free(struct pol_container *c)
{
	size_t i;

	for (i = 0; i < c->nrules; i++) {
		addr_free(c->rules[i].peer);
		free(c->rules[i].ports);
		free(c->rules[i].text);
	}
	free(c->rules);
	free(c->addrs);
	free(c->name);
	free(c->label_key);
	free(c->label_value);
	free(c);
}

static void
parse_block(struct parser *ps, struct pol_container *c, struct rf_loc open)
{
	for (;;) {
		skip_newlines(ps);
		if (ps->tok.kind == TOK_EOF || tok_is(&ps->tok, "container")) {
			diag_error(ps->diags, &open, "unterminated block: '{' "
			    "of container '%s' is never closed", c->name);
			return;
		}
		if (ps->tok.kind == TOK_RBRACE) {
			next(ps);
			expect_eol(ps);
			return;
		}
		if (tok_is(&ps->tok, "allow") || tok_is(&ps->tok, "deny")) {
			parse_rule(ps, c);
			continue;
		}
		if (ps->tok.kind == TOK_WORD) {
			diag_error(ps->diags, &ps->tok.loc, "unknown keyword "
			    "'%.*s' (a container block holds 'allow' and "
			    "'deny' rules)", (int)ps->tok.len, ps->tok.text);
		} else {
			error_expected(ps, "a rule or '}'");
		}
		skip_line(ps);
	}
}

/*
 * After an error in a line that opens a block (a broken container header,
 * a misspelled keyword), skip that block too, so its rules do not each
 * report that they stand outside a container.
 */
static void
skip_block(struct parser *ps)
{
	bool opened = false;

	while (!at_eol(ps)) {
		if (ps->tok.kind == TOK_LBRACE)
			opened = true;
		next(ps);
	}
	if (!opened) {
		struct lexer lx = ps->lx;
		struct token tok = ps->tok;

		skip_newlines(ps);
		opened = ps->tok.kind == TOK_LBRACE;
		ps->lx = lx;
		ps->tok = tok;
		if (!opened)
			return;
	}
	while (ps->tok.kind != TOK_EOF && ps->tok.kind != TOK_RBRACE &&
	    !tok_is(&ps->tok, "container"))
		next(ps);
	if (ps->tok.kind == TOK_RBRACE) {
		next(ps);
		skip_line(ps);
	}
}

/*
 * "container label KEY=VALUE {" selects by label; "container label {" is
 * a container named label.
 */
static bool
is_label_selector(struct parser *ps)
{
	struct lexer lx = ps->lx;
	struct token t;

	if (!tok_is(&ps->tok, "label"))
		return false;
	lexer_next(&lx, &t);
	return t.kind == TOK_WORD && !tok_is(&t, "address");
}

static bool
valid_label_part(const struct token *t)
{
	size_t i;

	if (t->len == 0 || t->len > 1024)
		return false;
	for (i = 0; i < t->len; i++)
		if ((unsigned char)t->text[i] < ' ' ||
		    (unsigned char)t->text[i] >= 0x7f)
			return false;
	return true;
}

/* label KEY=VALUE, VALUE a word or a quoted string */
static bool
parse_label_selector(struct parser *ps, struct pol_container *c)
{
	struct token key;

	c->loc = ps->tok.loc;
	next(ps);
	key = ps->tok;
	if (key.kind != TOK_WORD || !valid_label_part(&key)) {
		error_expected(ps, "a label KEY=VALUE");
		return false;
	}
	next(ps);
	if (ps->tok.kind != TOK_EQUALS) {
		error_expected(ps, "'=' and the label's value");
		return false;
	}
	next(ps);
	if ((ps->tok.kind != TOK_WORD && ps->tok.kind != TOK_STRING) ||
	    !valid_label_part(&ps->tok)) {
		error_expected(ps, "the label's value (a word or a quoted "
		    "string)");
		return false;
	}
	c->label_key = xstrndup(key.text, key.len);
	c->label_value = xstrndup(ps->tok.text, ps->tok.len);
	c->name = xasprintf("label %s=%s", c->label_key, c->label_value);
	next(ps);
	return true;
}

static void
parse_container(struct parser *ps)
{
	struct pol_container *c, **slot;
	struct rf_loc open;

	next(ps);
	if (is_label_selector(ps)) {
		c = xcalloc(1, sizeof(*c));
		if (!parse_label_selector(ps, c))
			goto fail;
		goto header_rest;
	}
	if (ps->tok.kind == TOK_WORD && ps->tok.len > MAX_NAME_LEN) {
		diag_error(ps->diags, &ps->tok.loc, "container name is longer "
		    "than %d characters", MAX_NAME_LEN);
		skip_block(ps);
		return;
	}
	if (!valid_name(&ps->tok, true, true)) {
		error_expected(ps, "a container name (letters, digits, '_', "
		    "'.' and '-')");
		skip_block(ps);
		return;
	}
	c = xcalloc(1, sizeof(*c));
	c->name = xstrndup(ps->tok.text, ps->tok.len);
	c->loc = ps->tok.loc;
	next(ps);

header_rest:
	if (tok_is(&ps->tok, "address") &&
	    !parse_container_addresses(ps, c))
		goto fail;
	if (ps->tok.kind == TOK_NEWLINE) {
		diag_error(ps->diags, &ps->tok.loc, "expected '{' at the end "
		    "of the line");
		goto fail;
	}
	if (ps->tok.kind != TOK_LBRACE) {
		error_expected(ps, c->has_address ? "',' or '{'" :
		    "'address' or '{'");
		goto fail;
	}
	open = ps->tok.loc;
	next(ps);
	if (ps->tok.kind == TOK_RBRACE) {
		/* An empty block on one line: a container with no rules. */
		next(ps);
		expect_eol(ps);
	} else {
		/* Rules start on the line after the brace; on error read on. */
		expect_eol(ps);
		parse_block(ps, c, open);
	}

	slot = vec_push(&ps->pol->containers, &ps->pol->ncontainers,
	    &ps->pol->capcontainers, sizeof(*slot));
	*slot = c;
	return;

fail:
	container_free(c);
	skip_block(ps);
}

/* ---- define and include ---- */

static void
parse_define(struct parser *ps)
{
	const struct pol_define *old;
	struct pol_define *d, **slot;
	struct pol_addr *value;
	struct token name;

	next(ps);
	if (!valid_name(&ps->tok, false, false)) {
		error_expected(ps, "a name (letters, digits and '_')");
		skip_line(ps);
		return;
	}
	name = ps->tok;
	next(ps);
	if (ps->tok.kind != TOK_EQUALS) {
		error_expected(ps, "'='");
		skip_line(ps);
		return;
	}
	/*
	 * A define whose value is wrong is still recorded, with no value,
	 * so that its uses do not each report it as undefined.
	 */
	next(ps);
	value = parse_addrs(ps);
	if (!value)
		skip_line(ps);
	else if (!expect_eol(ps)) {
		addr_free(value);
		value = NULL;
	}

	old = find_define(ps->pol, name.text, name.len);
	if (old) {
		char *where = loc_str(&old->loc);

		diag_error(ps->diags, &name.loc, "'%.*s' is already defined "
		    "at %s", (int)name.len, name.text, where);
		free(where);
		addr_free(value);
		return;
	}
	d = xcalloc(1, sizeof(*d));
	d->name = xstrndup(name.text, name.len);
	d->loc = name.loc;
	d->value = value;
	slot = vec_push(&ps->pol->defines, &ps->pol->ndefines,
	    &ps->pol->capdefines, sizeof(*slot));
	*slot = d;
}

static struct rf_source *
source_add(struct policy *pol, const char *path, char *text, size_t len)
{
	struct rf_source *src = xcalloc(1, sizeof(*src)), **tail;

	src->path = xstrdup(path);
	src->text = text;
	src->len = len;
	for (tail = &pol->sources; *tail; tail = &(*tail)->next)
		src->seq++;
	*tail = src;
	return src;
}

/* Parse one file in place; from is the include statement, or NULL. */
static int
parse_path(struct parser *ps, const char *path, const struct rf_loc *from)
{
	struct include_frame frame = { .up = ps->frame };
	struct lexer saved_lx = ps->lx;
	struct token saved_tok = ps->tok;
	struct include_frame *f;
	struct rf_source *src;
	char *text, *real;
	size_t len;
	int r;

	r = read_file(path, &text, &len);
	if (r < 0) {
		diag_error(ps->diags, from, "cannot read %s: %s", path,
		    strerror(-r));
		return r;
	}
	/* A pipe has no real path; it cannot be included again anyway. */
	real = realpath(path, NULL);
	if (!real)
		real = xstrdup(path);
	for (f = ps->frame; f; f = f->up) {
		if (strcmp(f->realpath, real))
			continue;
		diag_error(ps->diags, from, "include cycle: %s is already "
		    "being read", path);
		free(real);
		free(text);
		return -ELOOP;
	}
	if (ps->depth >= MAX_INCLUDE_DEPTH) {
		diag_error(ps->diags, from, "includes nest deeper than %d",
		    MAX_INCLUDE_DEPTH);
		free(real);
		free(text);
		return -ELOOP;
	}

	src = source_add(ps->pol, path, text, len);
	frame.realpath = real;
	ps->frame = &frame;
	ps->depth++;
	lexer_init(&ps->lx, src, ps->diags);
	next(ps);
	parse_file(ps);
	ps->depth--;
	ps->frame = frame.up;
	free(real);

	ps->lx = saved_lx;
	ps->tok = saved_tok;
	return 0;
}

static bool
has_glob_chars(const char *s)
{
	return strpbrk(s, "*?[") != NULL;
}

static void
parse_include(struct parser *ps)
{
	struct rf_loc loc = ps->tok.loc;
	char *pattern, *dir, *full;
	glob_t g;
	size_t i;
	int r;

	next(ps);
	if (ps->tok.kind != TOK_STRING) {
		error_expected(ps, "a quoted file name or pattern");
		skip_line(ps);
		return;
	}
	pattern = xstrndup(ps->tok.text, ps->tok.len);
	loc = ps->tok.loc;
	next(ps);
	if (!expect_eol(ps)) {
		free(pattern);
		return;
	}

	/* Relative names are relative to the including file. */
	if (pattern[0] == '/' || !strchr(loc.src->path, '/')) {
		full = pattern;
	} else {
		char *copy = xstrdup(loc.src->path);

		dir = dirname(copy);
		full = xasprintf("%s/%s", dir, pattern);
		free(copy);
		free(pattern);
	}

	if (!has_glob_chars(full)) {
		parse_path(ps, full, &loc);
		free(full);
		return;
	}
	r = glob(full, 0, NULL, &g);
	if (r == 0) {
		for (i = 0; i < g.gl_pathc; i++)
			parse_path(ps, g.gl_pathv[i], &loc);
		globfree(&g);
	} else if (r != GLOB_NOMATCH) {
		diag_error(ps->diags, &loc, "cannot expand %s", full);
	}
	free(full);
}

/* ---- top level ---- */

static void
parse_file(struct parser *ps)
{
	for (;;) {
		skip_newlines(ps);
		if (ps->tok.kind == TOK_EOF)
			return;
		if (tok_is(&ps->tok, "include")) {
			parse_include(ps);
		} else if (tok_is(&ps->tok, "define")) {
			parse_define(ps);
		} else if (tok_is(&ps->tok, "container")) {
			parse_container(ps);
		} else if (ps->tok.kind == TOK_RBRACE) {
			diag_error(ps->diags, &ps->tok.loc, "'}' without a "
			    "container block to close");
			next(ps);
			skip_line(ps);
		} else if (ps->tok.kind == TOK_WORD) {
			diag_error(ps->diags, &ps->tok.loc, "unknown keyword "
			    "'%.*s' (expected include, define or container)",
			    (int)ps->tok.len, ps->tok.text);
			skip_block(ps);
		} else {
			error_expected(ps, "include, define or container");
			skip_line(ps);
		}
	}
}

int
policy_parse(const char *path, struct policy *ret, struct rf_diags *diags)
{
	struct parser ps = { .pol = ret, .diags = diags };
	int r;

	memset(ret, 0, sizeof(*ret));
	r = parse_path(&ps, path, NULL);
	if (r < 0)
		return r;

	if (ret->ncontainers == 0 && diags->nerrors == 0) {
		struct rf_loc loc = { ret->sources, 1, 1 };

		diag_error(diags, &loc, "the policy confines no container "
		    "(write a 'container NAME { ... }' block)");
	}
	return 0;
}

void
policy_drop_text(struct policy *pol)
{
	struct rf_source *src;

	for (src = pol->sources; src; src = src->next) {
		free(src->text);
		src->text = NULL;
		src->len = 0;
	}
}

void
policy_free(struct policy *pol)
{
	struct rf_source *src, *next_src;
	size_t i;

	for (i = 0; i < pol->ncontainers; i++)
		container_free(pol->containers[i]);
	free(pol->containers);
	for (i = 0; i < pol->ndefines; i++) {
		addr_free(pol->defines[i]->value);
		free(pol->defines[i]->name);
		free(pol->defines[i]);
	}
	free(pol->defines);
	for (src = pol->sources; src; src = next_src) {
		next_src = src->next;
		free(src->path);
		free(src->text);
		free(src);
	}
	memset(pol, 0, sizeof(*pol));
}
