/*
 * status.h: the daemon's state as one document, printed as JSON or text.
 *
 * The document is built once (jansson); text is a plain walk of the same
 * tree, so both forms always carry the same fields.
 */
#ifndef RF_STATUS_H
#define RF_STATUS_H

#include <jansson.h>
#include <stdbool.h>

#include "util.h"

/* Append the document as indented JSON or as text. */
void status_format(json_t *doc, bool as_json, struct strbuf *out);

#endif
