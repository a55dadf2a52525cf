/*
 * status.c: printing the status document.
 */
#include <stdlib.h>
#include <string.h>

#include "daemon/status.h"

static void
indent(struct strbuf *out, int depth)
{
	int i;

	for (i = 0; i < depth; i++)
		strbuf_puts(out, "  ");
}

static void
format_scalar(json_t *v, struct strbuf *out)
{
	switch (json_typeof(v)) {
	case JSON_STRING:
		strbuf_puts(out, json_string_value(v));
		break;
	case JSON_INTEGER:
		strbuf_printf(out, "%lld", (long long)json_integer_value(v));
		break;
	case JSON_REAL:
		strbuf_printf(out, "%.1f", json_real_value(v));
		break;
	case JSON_TRUE:
		strbuf_puts(out, "yes");
		break;
	case JSON_FALSE:
		strbuf_puts(out, "no");
		break;
	default:
		strbuf_puts(out, "-");
		break;
	}
}

static bool
is_scalar_list(json_t *v)
{
	size_t i;
	json_t *item;

	json_array_foreach(v, i, item)
		if (json_is_object(item) || json_is_array(item))
			return false;
	return true;
}

static void format_value(json_t *v, int depth, struct strbuf *out);

/* key: value, with lists of scalars on one line and the rest nested. */
static void
format_object(json_t *obj, int depth, struct strbuf *out)
{
	const char *key;
	json_t *v;

	json_object_foreach(obj, key, v) {
		indent(out, depth);
		strbuf_printf(out, "%s:", key);
		if (json_is_array(v) && is_scalar_list(v)) {
			size_t i;
			json_t *item;

			json_array_foreach(v, i, item) {
				strbuf_puts(out, i ? ", " : " ");
				format_scalar(item, out);
			}
			if (json_array_size(v) == 0)
				strbuf_puts(out, " -");
			strbuf_putc(out, '\n');
		} else if (json_is_object(v) || json_is_array(v)) {
			strbuf_putc(out, '\n');
			format_value(v, depth + 1, out);
		} else {
			strbuf_putc(out, ' ');
			format_scalar(v, out);
			strbuf_putc(out, '\n');
		}
	}
}

static void
format_value(json_t *v, int depth, struct strbuf *out)
{
	size_t i;
	json_t *item;

	if (json_is_object(v)) {
		format_object(v, depth, out);
		return;
	}
	json_array_foreach(v, i, item) {
		if (i && json_is_object(item))
			strbuf_putc(out, '\n');
		format_value(item, depth, out);
	}
}

void
status_format(json_t *doc, bool as_json, struct strbuf *out)
{
	char *text;

	if (!as_json) {
		format_value(doc, 0, out);
		return;
	}
	text = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	if (text) {
		strbuf_puts(out, text);
		strbuf_putc(out, '\n');
		free(text);
	}
}
