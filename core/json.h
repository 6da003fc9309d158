/* json.h: helpers on jansson that turn missing keys, wrong types and failed
 * allocations into nsr_error messages naming the key; and nsr's one JSON
 * writer, which fixes how numbers look. */
#ifndef NSR_JSON_H
#define NSR_JSON_H

#include <jansson.h>

#include "nsr_core.h"

/* Routes jansson's allocations through nsr_malloc/nsr_free, so that tests
 * injecting allocation failures reach JSON too. Call once at start-up. */
void nsr_json_init(void);

/* Readers. Each returns NSR_OK and stores the value, or returns
 * NSR_ERR_INVALID with a message naming `key` when it is missing or of the
 * wrong type. The *_opt forms leave *out untouched and return NSR_OK when the
 * key is absent or null. Returned strings belong to `obj`. */
nsr_code nsr_json_get_int(const json_t *obj, const char *key, int64_t *out,
                          nsr_error *err);
nsr_code nsr_json_get_int_opt(const json_t *obj, const char *key, int64_t *out,
                              nsr_error *err);
nsr_code nsr_json_get_number(const json_t *obj, const char *key, double *out,
                             nsr_error *err);
nsr_code nsr_json_get_number_opt(const json_t *obj, const char *key,
                                 double *out, nsr_error *err);
nsr_code nsr_json_get_string(const json_t *obj, const char *key,
                             const char **out, nsr_error *err);
nsr_code nsr_json_get_string_opt(const json_t *obj, const char *key,
                                 const char **out, nsr_error *err);
nsr_code nsr_json_get_bool_opt(const json_t *obj, const char *key, bool *out,
                               nsr_error *err);

/* Builders. They take ownership of `value` (jansson's "_new" convention),
 * even on failure, and fail with NSR_ERR_NOMEM when value is NULL (an earlier
 * allocation failed) or when the insertion fails. */
nsr_code nsr_json_set(json_t *obj, const char *key, json_t *value,
                      nsr_error *err);
nsr_code nsr_json_append(json_t *array, json_t *value, nsr_error *err);

/* Parses text into *out (caller frees with json_decref). The message gives
 * the line and column of a syntax error. */
nsr_code nsr_json_parse(const char *text, size_t len, json_t **out,
                        nsr_error *err);

/* ---- writing JSON -------------------------------------------------------
 *
 * Every JSON text nsr writes (command output, tool and MCP results, files)
 * goes through nsr_json_dump, so numbers look the same everywhere:
 *
 *  - integers as integers: 42, -7;
 *  - reals in the shortest decimal form that reads back (strtod) as the
 *    same double: the fewest significant digits (1 to 17) that do. The
 *    notation is the one %.17g (jansson's default) chooses: plain for
 *    decimal exponents -4..16, else an exponent, written as jansson does
 *    (no "+", no leading zeros). A plain real always keeps a fraction so
 *    that it reads back as a real, not an integer. So: 0.1, 100.0, -0.0,
 *    0.0001, 1e-5, 1.5e20, 0.3333333333333333, 5e-324,
 *    1.7976931348623157e308, 10000000000000000.0 (1e16);
 *  - infinities and NaN, which JSON numbers cannot express (and jansson
 *    reals cannot hold), as the strings "Infinity", "-Infinity" and "NaN":
 *    valid JSON that a reader can tell from any number (see nsr_json_real);
 *  - strings with '"', '\\' and control characters escaped (\n, \t, ...,
 *    else \u00XX), other UTF-8 as is; objects in insertion order.
 *
 * Assumes LC_NUMERIC is "C" (nsr never changes it). */

/* Longest text nsr_json_real_text writes, NUL included. */
#define NSR_JSON_REAL_MAX 32

/* A JSON value for v: json_real(v) when v is finite, else the string
 * "Infinity", "-Infinity" or "NaN". NULL only when out of memory. Use it
 * instead of json_real, which returns NULL for non-finite values. */
json_t *nsr_json_real(double v);

/* Writes into buf the JSON text nsr_json_dump gives nsr_json_real(v) (a
 * number, or a quoted string for non-finite v) and returns buf; for JSON
 * put together by hand. */
const char *nsr_json_real_text(double v, char buf[NSR_JSON_REAL_MAX]);

/* Serialises `value` (any JSON value, not only arrays and objects) in the
 * form above, compactly: no spaces or newlines. NULL when out of memory.
 * Caller frees the string with nsr_free() (or free()). */
char *nsr_json_dump(const json_t *value);

/* As nsr_json_dump, laid out as jansson's JSON_INDENT(indent) would (a
 * newline and `indent` spaces per level before each member, ": " after
 * keys); indent 0 is nsr_json_dump. */
char *nsr_json_dump_indent(const json_t *value, int indent);

/* True when s[0..len) is well-formed UTF-8 (RFC 3629: no overlong forms,
 * surrogates or code points above U+10FFFF), which jansson requires of
 * every string. */
/* The length (1 to 4) of the well-formed UTF-8 sequence at s[0..len)
 * (len > 0), or 0 when the bytes there are not one (a stray byte, an
 * overlong form, a surrogate, a code point past U+10FFFF). */
size_t nsr_json_utf8_sequence(const char *s, size_t len);

bool nsr_json_utf8_valid(const char *s, size_t len);

/* json_string(s) for text meant for people (messages, names) that may hold
 * bytes from outside: each byte that is not part of well-formed UTF-8
 * becomes U+FFFD, where json_string would fail. NULL only when out of
 * memory. */
json_t *nsr_json_string(const char *s);

#endif
