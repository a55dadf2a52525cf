/*
 * diag.h: source files and error records that point into them.
 *
 * Every checking step records a problem with diag_error() and carries on,
 * so one run reports all of them.  At the boundary, diag_print() writes each
 * as "FILE:LINE:COL: error: MESSAGE", the source line, and a caret under the
 * column.
 */
#ifndef RF_DIAG_H
#define RF_DIAG_H

#include <stddef.h>
#include <stdio.h>

/* One loaded policy file; kept alive as long as locations point into it. */
struct rf_source {
	char			*path;	/* as the user (or an include) named it */
	char			*text;	/* whole file, NUL-terminated; NULL
					 * once a daemon no longer needs it */
	size_t			 len;
	unsigned		 seq;	/* order in which files were read */
	struct rf_source	*next;
};

/* A position in a source: 1-based line and column (columns count bytes). */
struct rf_loc {
	const struct rf_source	*src;
	unsigned		 line;
	unsigned		 col;
};

struct rf_diag {
	struct rf_loc	 loc;	/* src may be NULL: no location */
	char		*msg;
	struct rf_diag	*next;
};

struct rf_diags {
	struct rf_diag	*head;
	struct rf_diag	**tail;
	unsigned	 nerrors;
};

void diags_init(struct rf_diags *d);
void diags_free(struct rf_diags *d);

void diag_error(struct rf_diags *d, const struct rf_loc *loc,
	const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* "file:line:col" of a location, for messages that name a second place. */
char *loc_str(const struct rf_loc *loc);

/* Order by file (as read), line and column; keeps ties in order. */
void diags_sort(struct rf_diags *d);
void diags_print(const struct rf_diags *d, FILE *out);

#endif
