/*
 * diag.c: error records and their printing with source line and caret.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "util.h"

void
diags_init(struct rf_diags *d)
{
	d->head = NULL;
	d->tail = &d->head;
	d->nerrors = 0;
}

void
diags_free(struct rf_diags *d)
{
	struct rf_diag *e, *next;

	for (e = d->head; e; e = next) {
		next = e->next;
		free(e->msg);
		free(e);
	}
	diags_init(d);
}

void
diag_error(struct rf_diags *d, const struct rf_loc *loc, const char *fmt, ...)
{
	struct rf_diag *e = xcalloc(1, sizeof(*e));
	struct strbuf sb;
	va_list ap;

	strbuf_init(&sb);
	va_start(ap, fmt);
	strbuf_vprintf(&sb, fmt, ap);
	va_end(ap);

	if (loc)
		e->loc = *loc;
	e->msg = sb.buf;
	*d->tail = e;
	d->tail = &e->next;
	d->nerrors++;
}

char *
loc_str(const struct rf_loc *loc)
{
	return xasprintf("%s:%u:%u", loc->src->path, loc->line, loc->col);
}

/* Print the source line of loc and a caret under its column. */
static void
print_excerpt(const struct rf_loc *loc, FILE *out)
{
	const char *p = loc->src->text, *end = p + loc->src->len;
	const char *eol;
	unsigned line = 1, i;

	if (!p)
		return;

	while (line < loc->line && p < end) {
		eol = memchr(p, '\n', (size_t)(end - p));
		if (!eol)
			return;
		p = eol + 1;
		line++;
	}
	eol = memchr(p, '\n', (size_t)(end - p));
	if (!eol)
		eol = end;

	fprintf(out, "%.*s\n", (int)(eol - p), p);

	/* Keep tabs so the caret lines up however the terminal shows them. */
	for (i = 1; i < loc->col && p + i - 1 < eol; i++)
		fputc(p[i - 1] == '\t' ? '\t' : ' ', out);
	fputs("^\n", out);
}

static int
diag_cmp(const void *a, const void *b)
{
	const struct rf_diag *x = *(struct rf_diag *const *)a;
	const struct rf_diag *y = *(struct rf_diag *const *)b;
	unsigned xs = x->loc.src ? x->loc.src->seq + 1 : 0;
	unsigned ys = y->loc.src ? y->loc.src->seq + 1 : 0;

	if (xs != ys)
		return xs < ys ? -1 : 1;
	if (x->loc.line != y->loc.line)
		return x->loc.line < y->loc.line ? -1 : 1;
	if (x->loc.col != y->loc.col)
		return x->loc.col < y->loc.col ? -1 : 1;
	return 0;
}

void
diags_sort(struct rf_diags *d)
{
	struct rf_diag **v, *e;
	size_t n = 0, i, j;

	for (e = d->head; e; e = e->next)
		n++;
	if (n < 2)
		return;
	v = xcalloc(n, sizeof(*v));
	for (i = 0, e = d->head; e; e = e->next)
		v[i++] = e;

	/* Insertion sort: stable, and error lists are short. */
	for (i = 1; i < n; i++) {
		e = v[i];
		for (j = i; j > 0 && diag_cmp(&v[j - 1], &e) > 0; j--)
			v[j] = v[j - 1];
		v[j] = e;
	}

	d->head = v[0];
	for (i = 0; i + 1 < n; i++)
		v[i]->next = v[i + 1];
	v[n - 1]->next = NULL;
	d->tail = &v[n - 1]->next;
	free(v);
}

void
diags_print(const struct rf_diags *d, FILE *out)
{
	const struct rf_diag *e;

	for (e = d->head; e; e = e->next) {
		if (!e->loc.src) {
			fprintf(out, "ringfence: error: %s\n", e->msg);
			continue;
		}
		fprintf(out, "%s:%u:%u: error: %s\n", e->loc.src->path,
		    e->loc.line, e->loc.col, e->msg);
		print_excerpt(&e->loc, out);
	}
}
