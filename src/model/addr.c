/*
 * addr.c: parsing addresses and prefixes, and interval arithmetic on them.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "model/addr.h"

unsigned
addr_bits(int family)
{
	return family == AF_INET ? 32 : 128;
}

static rf_u128
host_mask(int family, unsigned len)
{
	unsigned bits = addr_bits(family);

	if (len >= bits)
		return 0;
	if (bits - len == 128)
		return ~(rf_u128)0;
	return ((rf_u128)1 << (bits - len)) - 1;
}

static rf_u128
bytes_to_u128(const unsigned char *b, size_t n)
{
	rf_u128 v = 0;
	size_t i;

	for (i = 0; i < n; i++)
		v = (v << 8) | b[i];
	return v;
}

static void
u128_to_bytes(rf_u128 v, unsigned char *b, size_t n)
{
	size_t i;

	for (i = n; i > 0; i--) {
		b[i - 1] = (unsigned char)(v & 0xff);
		v >>= 8;
	}
}

void
addr_format(int family, rf_u128 addr, char *buf)
{
	unsigned char b[16];

	if (family == AF_INET) {
		u128_to_bytes(addr, b, 4);
		inet_ntop(AF_INET, b, buf, INET_ADDRSTRLEN);
	} else {
		u128_to_bytes(addr, b, 16);
		inet_ntop(AF_INET6, b, buf, INET6_ADDRSTRLEN);
	}
}

void
prefix_format(const struct rf_prefix *p, struct strbuf *sb)
{
	char buf[INET6_ADDRSTRLEN];

	addr_format(p->family, p->addr, buf);
	strbuf_puts(sb, buf);
	if (p->len != addr_bits(p->family))
		strbuf_printf(sb, "/%u", p->len);
}

static int
parse_len(const char *s, size_t n, unsigned max, unsigned *ret)
{
	unsigned v = 0;
	size_t i;

	if (n == 0 || n > 3)
		return -EINVAL;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	if (n > 1 && s[0] == '0')
		return -EINVAL;
	if (v > max)
		return -ERANGE;
	*ret = v;
	return 0;
}

int
addr_parse_prefix(const char *text, size_t len, struct rf_prefix *ret,
	char **ret_err, size_t *ret_off)
{
	const char *slash = memchr(text, '/', len);
	size_t alen = slash ? (size_t)(slash - text) : len;
	unsigned char b[16];
	char abuf[64];
	struct rf_prefix p;
	int r;

	*ret_off = 0;
	if (alen == 0 || alen >= sizeof(abuf)) {
		*ret_err = xasprintf("'%.*s' is not an IP address",
		    (int)len, text);
		return -EINVAL;
	}
	memcpy(abuf, text, alen);
	abuf[alen] = '\0';

	if (memchr(abuf, ':', alen))
		p.family = AF_INET6;
	else
		p.family = AF_INET;
	if (inet_pton(p.family, abuf, b) != 1) {
		*ret_err = xasprintf("'%s' is not a valid %s address", abuf,
		    p.family == AF_INET ? "IPv4" : "IPv6");
		return -EINVAL;
	}
	p.addr = bytes_to_u128(b, p.family == AF_INET ? 4 : 16);
	p.len = addr_bits(p.family);

	if (slash) {
		r = parse_len(slash + 1, len - alen - 1, p.len, &p.len);
		*ret_off = alen + 1;
		if (r == -ERANGE) {
			*ret_err = xasprintf("prefix length %.*s is out of "
			    "range for %s (0-%u)", (int)(len - alen - 1),
			    slash + 1, p.family == AF_INET ? "IPv4" : "IPv6",
			    addr_bits(p.family));
			return -EINVAL;
		}
		if (r < 0 && len == alen + 1) {
			*ret_err = xstrdup("missing prefix length after '/'");
			return -EINVAL;
		}
		if (r < 0) {
			*ret_err = xasprintf("'%.*s' is not a prefix length",
			    (int)(len - alen - 1), slash + 1);
			return -EINVAL;
		}
	}

	if (p.addr & host_mask(p.family, p.len)) {
		struct strbuf sb;
		struct rf_prefix fixed = p;

		fixed.addr &= ~host_mask(p.family, p.len);
		strbuf_init(&sb);
		prefix_format(&fixed, &sb);
		*ret_err = xasprintf("%.*s has host bits set (did you mean "
		    "%s?)", (int)len, text, sb.buf);
		strbuf_free(&sb);
		*ret_off = 0;
		return -EINVAL;
	}

	*ret = p;
	return 0;
}

void
rangeset_add_prefix(struct rf_rangeset *s, const struct rf_prefix *p)
{
	struct rf_range *r = vec_push(&s->r, &s->n, &s->cap, sizeof(*r));

	r->lo = p->addr;
	r->hi = p->addr | host_mask(p->family, p->len);
}

void
rangeset_add_set(struct rf_rangeset *s, const struct rf_rangeset *from)
{
	size_t i;

	for (i = 0; i < from->n; i++) {
		struct rf_range *r = vec_push(&s->r, &s->n, &s->cap,
		    sizeof(*r));

		*r = from->r[i];
	}
}

static int
range_cmp(const void *a, const void *b)
{
	const struct rf_range *x = a, *y = b;

	if (x->lo != y->lo)
		return x->lo < y->lo ? -1 : 1;
	if (x->hi != y->hi)
		return x->hi < y->hi ? -1 : 1;
	return 0;
}

void
rangeset_normalize(struct rf_rangeset *s)
{
	size_t i, out = 0;

	if (s->n == 0)
		return;
	qsort(s->r, s->n, sizeof(*s->r), range_cmp);

	for (i = 1; i < s->n; i++) {
		struct rf_range *cur = &s->r[out];

		/* Overlapping, or adjacent without wrapping past the top. */
		if (s->r[i].lo <= cur->hi ||
		    (cur->hi != ~(rf_u128)0 && s->r[i].lo == cur->hi + 1)) {
			if (s->r[i].hi > cur->hi)
				cur->hi = s->r[i].hi;
			continue;
		}
		s->r[++out] = s->r[i];
	}
	s->n = out + 1;

	/* Sets live as long as the policy: give back the growth room. */
	s->r = xrealloc(s->r, s->n * sizeof(*s->r));
	s->cap = s->n;
}

bool
rangeset_contains(const struct rf_rangeset *s, rf_u128 addr)
{
	size_t lo = 0, hi = s->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (addr < s->r[mid].lo)
			hi = mid;
		else if (addr > s->r[mid].hi)
			lo = mid + 1;
		else
			return true;
	}
	return false;
}

/* Both normalised: walk them side by side. */
void
rangeset_intersect(const struct rf_rangeset *a, const struct rf_rangeset *b,
	struct rf_rangeset *ret)
{
	size_t i = 0, j = 0;

	while (i < a->n && j < b->n) {
		rf_u128 lo = a->r[i].lo > b->r[j].lo ? a->r[i].lo : b->r[j].lo;
		rf_u128 hi = a->r[i].hi < b->r[j].hi ? a->r[i].hi : b->r[j].hi;

		if (lo <= hi) {
			struct rf_range *r = vec_push(&ret->r, &ret->n,
			    &ret->cap, sizeof(*r));

			r->lo = lo;
			r->hi = hi;
		}
		if (a->r[i].hi < b->r[j].hi)
			i++;
		else
			j++;
	}
}

bool
rangeset_equal(const struct rf_rangeset *a, const struct rf_rangeset *b)
{
	return a->n == b->n &&
	    (a->n == 0 || memcmp(a->r, b->r, a->n * sizeof(*a->r)) == 0);
}

void
rangeset_free(struct rf_rangeset *s)
{
	free(s->r);
	s->r = NULL;
	s->n = s->cap = 0;
}

/* Largest prefix that starts at lo and does not pass hi. */
static unsigned
largest_prefix(int family, rf_u128 lo, rf_u128 hi)
{
	unsigned len = 0, bits = addr_bits(family);

	for (len = 0; len < bits; len++) {
		rf_u128 m = host_mask(family, len);

		if ((lo & m) == 0 && (lo | m) <= hi)
			break;
	}
	return len;
}

void
rangeset_format(const struct rf_rangeset *s, int family, struct strbuf *sb,
	const char *indent, unsigned width)
{
	size_t i, line_start = sb->len;
	bool first = true;

	for (i = 0; i < s->n; i++) {
		rf_u128 lo = s->r[i].lo, hi = s->r[i].hi;

		for (;;) {
			struct rf_prefix p = { family, 0, lo };
			rf_u128 top;

			p.len = largest_prefix(family, lo, hi);
			top = lo | host_mask(family, p.len);
			if (!first) {
				strbuf_putc(sb, ',');
				if (sb->len - line_start >= width) {
					strbuf_putc(sb, '\n');
					line_start = sb->len;
					strbuf_puts(sb, indent);
				} else {
					strbuf_putc(sb, ' ');
				}
			}
			first = false;
			prefix_format(&p, sb);
			if (top >= hi)
				break;
			lo = top + 1;
		}
	}
}
