/* tools_schema.h: checks JSON values against the subset of JSON Schema that
 * nsr's tool schemas use, so a tool's published inputSchema is also the
 * exact rule its arguments are held to. */
#ifndef NSR_TOOLS_SCHEMA_H
#define NSR_TOOLS_SCHEMA_H

#include <jansson.h>

#include "nsr_core.h"

/* Checks `value` against `schema`. Understood keywords: type (a name or an
 * array of names: object, array, integer, number, string, boolean, null),
 * properties, required, additionalProperties (false only), items, minItems,
 * maxItems, minimum, maximum, exclusiveMinimum, enum (of strings) and
 * maxLength; other keywords (description, default, ...) are ignored.
 * `path` names the value in messages ("arguments"). Returns NSR_OK, or
 * NSR_ERR_INVALID with one message naming the first offending place, e.g.
 * `arguments.examples[2]: 0 is below the minimum 1` or
 * `arguments: unknown property "foo" (allowed: examples, range)`. */
nsr_code tools_schema_check(const json_t *schema, const json_t *value,
                            const char *path, nsr_error *err);

/* Parses a schema written as a JSON literal in nsr's source. A parse error
 * is a bug in nsr, reported as NSR_ERR_INTERNAL. */
nsr_code tools_schema_parse(const char *text, json_t **out, nsr_error *err);

#endif
