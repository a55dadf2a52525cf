/*
 * addr.h: IPv4/IPv6 addresses, prefixes and normalised prefix lists.
 *
 * Addresses are kept as 128-bit integers so both families share one set of
 * interval routines; an IPv4 address uses the low 32 bits.
 */
#ifndef RF_ADDR_H
#define RF_ADDR_H

#include <stdbool.h>
#include <stddef.h>

#include "util.h"

typedef unsigned __int128 rf_u128;

struct rf_prefix {
	int		family;	/* AF_INET or AF_INET6 */
	unsigned	len;	/* prefix length; 32 or 128 for one address */
	rf_u128		addr;	/* network address, host bits clear */
};

/* A list of addresses of one family as sorted, disjoint [lo, hi] ranges. */
struct rf_range {
	rf_u128	lo;
	rf_u128	hi;
};

struct rf_rangeset {
	struct rf_range	*r;
	size_t		 n;
	size_t		 cap;
};

/*
 * Parse "ADDR" or "ADDR/LEN".  On failure returns -EINVAL and sets *ret_err
 * to an allocated message and *ret_off to the
 * byte offset in text where the problem starts.
 */
int addr_parse_prefix(const char *text, size_t len, struct rf_prefix *ret,
	char **ret_err, size_t *ret_off);

/* Address bits of the family. */
unsigned addr_bits(int family);

/* Format one address (not a prefix) into buf, at least 46 bytes. */
void addr_format(int family, rf_u128 addr, char *buf);
void prefix_format(const struct rf_prefix *p, struct strbuf *sb);

void rangeset_add_prefix(struct rf_rangeset *s, const struct rf_prefix *p);
void rangeset_add_set(struct rf_rangeset *s, const struct rf_rangeset *from);
/* Sort, then merge overlapping and adjacent ranges. */
void rangeset_normalize(struct rf_rangeset *s);
bool rangeset_contains(const struct rf_rangeset *s, rf_u128 addr);
/* ret (empty) = the addresses in both a and b, normalised. */
void rangeset_intersect(const struct rf_rangeset *a,
	const struct rf_rangeset *b, struct rf_rangeset *ret);
bool rangeset_equal(const struct rf_rangeset *a, const struct rf_rangeset *b);
void rangeset_free(struct rf_rangeset *s);

/*
 * Write a normalised set as the fewest CIDR prefixes, separated by ", ",
 * wrapping after about `width` columns with `indent` at the start of each
 * new line.
 */
void rangeset_format(const struct rf_rangeset *s, int family,
	struct strbuf *sb, const char *indent, unsigned width);

#endif
