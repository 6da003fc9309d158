/* json.h: helpers on jansson that turn missing keys, wrong types and failed
 * allocations into nsr_error messages naming the key. */
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

/* Serialises compactly with `precision` significant digits for reals
 * (0 = jansson's default, 17). Caller frees the string with free(). */
char *nsr_json_dump(const json_t *value, int precision);

#endif
