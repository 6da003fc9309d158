/* concept_library.c: the concept library of extraction, each concept with a
 * Church definition and its extension over 1..N. */
#include "nsr_extract.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "strbuf.h"

#define MOD_MAX 12
/* Digit-sum Church source: the sum of the decimal digits of x. */
#define DIGIT_SUM "(let loop ((n x) (s 0)) (if (= n 0) s (loop (quotient n 10) (+ s (modulo n 10)))))"

typedef enum family { FAMILY_MOD, FAMILY_LESS, FAMILY_DIGIT_SUM, FAMILY_TENS } family;

static uint32_t digit_sum(uint32_t x) {
  uint32_t s = 0;
  for (; x > 0; x /= 10) s += x % 10;
  return s;
}

static bool family_has(family f, uint32_t a, uint32_t b, uint32_t x) {
  switch (f) {
  case FAMILY_MOD: return x % a == b;
  case FAMILY_LESS: return x < a;
  case FAMILY_DIGIT_SUM: return digit_sum(x) == a;
  case FAMILY_TENS: return x / 10 % 10 == a;
  }
  return false;
}

static void family_text(family f, uint32_t a, uint32_t b, nsr_concept *c) {
  switch (f) {
  case FAMILY_MOD:
    snprintf(c->name, sizeof c->name, "x mod %u = %u", a, b);
    snprintf(c->definition, sizeof c->definition, "(lambda (x) (= (modulo x %u) %u))", a, b);
    break;
  case FAMILY_LESS:
    snprintf(c->name, sizeof c->name, "x < %u", a);
    snprintf(c->definition, sizeof c->definition, "(lambda (x) (< x %u))", a);
    break;
  case FAMILY_DIGIT_SUM:
    snprintf(c->name, sizeof c->name, "digit sum = %u", a);
    snprintf(c->definition, sizeof c->definition, "(lambda (x) (= " DIGIT_SUM " %u))", a);
    break;
  case FAMILY_TENS:
    snprintf(c->name, sizeof c->name, "tens digit = %u", a);
    snprintf(c->definition, sizeof c->definition, "(lambda (x) (= (modulo (quotient x 10) 10) %u))",
             a);
    break;
  }
}

/* Keeps the concept at lib->items[lib->n] (its extension already filled)
 * unless it is empty, everything, or a repeat of items[first ..); a
 * dropped one is freed. */
static void keep_if_new(nsr_concept_library *lib, size_t first) {
  nsr_concept *c = &lib->items[lib->n];
  c->size = (uint32_t)nsr_bitset_count(&c->extension);
  bool keep = c->size > 0 && c->size < lib->max;
  for (size_t i = first; keep && i < lib->n; i++) {
    keep = !nsr_bitset_equal(&lib->items[i].extension, &c->extension);
  }
  if (keep) lib->n++;
  else nsr_bitset_free(&c->extension);
}

/* The number of input i (1-based). */
static uint32_t input_at(const nsr_concept_library *lib, uint32_t i) {
  return lib->inputs ? lib->inputs[i - 1] : i;
}

/* The x < t family's thresholds: 2..N over the whole domain, each sampled
 * input + 1 over a sample. */
static uint32_t less_threshold(const nsr_concept_library *lib, uint32_t j) {
  return lib->inputs ? lib->inputs[j - 2] + 1 : j;
}

static nsr_code build(const nsr_numbers *engine, nsr_concept_library *lib, nsr_error *err) {
  uint32_t max = lib->max;
  /* An upper bound on the candidates of every family. */
  size_t cap = NSR_NUMBERS_RULES + (size_t)MOD_MAX * (MOD_MAX + 1) / 2 + max + 9 * 6 + 10 + 1;
  lib->items = nsr_calloc(cap, sizeof *lib->items);
  if (lib->items == NULL) return nsr_fail(err, NSR_ERR_NOMEM, "concept library: out of memory");
  for (uint32_t r = 0; r < NSR_NUMBERS_RULES; r++) {
    nsr_concept *c = &lib->items[lib->n];
    if (nsr_bitset_init(&c->extension, max + 1, err) != NSR_OK) goto nomem;
    snprintf(c->name, sizeof c->name, "%s", nsr_numbers_rule_name(r));
    nsr_numbers_rule_church(r, c->definition, sizeof c->definition);
    const nsr_bitset *set = nsr_numbers_rule_set(engine, r);
    for (uint32_t i = 1; i <= max; i++) {
      if (nsr_bitset_has(set, input_at(lib, i))) nsr_bitset_add(&c->extension, i);
    }
    keep_if_new(lib, 0);
  }
  /* Digit sums of 1..NSR_NUMBERS_MAX_N are at most 9 * 6. */
  struct { family f; uint32_t a_lo, a_hi; } families[] = {
      {FAMILY_MOD, 2, MOD_MAX}, {FAMILY_LESS, 2, max}, {FAMILY_DIGIT_SUM, 1, 9 * 6},
      {FAMILY_TENS, 0, 9}};
  for (size_t k = 0; k < sizeof families / sizeof families[0]; k++) {
    for (uint32_t j = families[k].a_lo; j <= families[k].a_hi; j++) {
      uint32_t a = families[k].f == FAMILY_LESS ? less_threshold(lib, j) : j;
      for (uint32_t b = 0; b < (families[k].f == FAMILY_MOD ? a : 1); b++) {
        nsr_concept *c = &lib->items[lib->n];
        if (nsr_bitset_init(&c->extension, max + 1, err) != NSR_OK) goto nomem;
        family_text(families[k].f, a, b, c);
        for (uint32_t i = 1; i <= max; i++) {
          if (family_has(families[k].f, a, b, input_at(lib, i))) nsr_bitset_add(&c->extension, i);
        }
        keep_if_new(lib, 0);
      }
    }
  }
  return NSR_OK;
nomem:
  nsr_concept_library_free(lib);
  return nsr_fail(err, NSR_ERR_NOMEM, "concept library: out of memory");
}

nsr_code nsr_concept_library_build(const nsr_numbers *engine, nsr_concept_library *lib,
                                   nsr_error *err) {
  memset(lib, 0, sizeof *lib);
  uint32_t max = nsr_numbers_get_config(engine)->max;
  if (max > NSR_EXTRACT_MAX_N) {
    return nsr_fail(err, NSR_ERR_RANGE, "concept library: domain 1..%u is larger than 1..%u", max,
                    NSR_EXTRACT_MAX_N);
  }
  lib->max = lib->domain_max = max;
  return build(engine, lib, err);
}

nsr_code nsr_concept_library_build_sample(const nsr_numbers *engine, const uint32_t *inputs,
                                          uint32_t n, nsr_concept_library *lib, nsr_error *err) {
  memset(lib, 0, sizeof *lib);
  uint32_t max = nsr_numbers_get_config(engine)->max;
  if (n < 1 || n > NSR_EXTRACT_MAX_N) {
    return nsr_fail(err, NSR_ERR_RANGE, "concept library: a sample of %u is outside 1..%u", n,
                    NSR_EXTRACT_MAX_N);
  }
  for (uint32_t i = 0; i < n; i++) {
    if (inputs[i] < 1 || inputs[i] > max || (i > 0 && inputs[i] <= inputs[i - 1])) {
      return nsr_fail(err, NSR_ERR_INVALID, "concept library: the sample must be sorted, distinct "
                      "and inside 1..%u", max);
    }
  }
  lib->max = n;
  lib->domain_max = max;
  lib->inputs = inputs;
  return build(engine, lib, err);
}

/* Whether every example of set i is in `ext` (bits over 1..N). */
static bool set_within(const nsr_heldout *sets, size_t i, const nsr_bitset *ext) {
  const uint32_t *x = sets->examples + i * NSR_PROPOSE_MAX_EXAMPLES;
  for (uint32_t j = 0; j < sets->n_examples[i]; j++) {
    if (!nsr_bitset_has(ext, x[j])) return false;
  }
  return true;
}

nsr_code nsr_example_sets_check(const nsr_heldout *sets, uint32_t max, nsr_error *err) {
  if (sets->n < 1 || sets->n > NSR_EXTRACT_MAX_N) {
    return nsr_fail(err, NSR_ERR_RANGE, "%zu example sets: extraction reads 1..%u", sets->n,
                    NSR_EXTRACT_MAX_N);
  }
  for (size_t i = 0; i < sets->n; i++) {
    uint32_t n = sets->n_examples[i];
    const uint32_t *x = sets->examples + i * NSR_PROPOSE_MAX_EXAMPLES;
    bool ok = n >= 1 && n <= NSR_PROPOSE_MAX_EXAMPLES;
    for (uint32_t j = 0; ok && j < n; j++) ok = x[j] >= 1 && x[j] <= max;
    if (!ok) {
      return nsr_fail(err, NSR_ERR_RANGE, "example set %zu: 1..%d examples in 1..%u expected", i + 1,
                      NSR_PROPOSE_MAX_EXAMPLES, max);
    }
  }
  return NSR_OK;
}

nsr_code nsr_concept_library_lift(const nsr_concept_library *numbers, const nsr_heldout *sets,
                                  nsr_concept_library *out, nsr_error *err) {
  memset(out, 0, sizeof *out);
  if (numbers->inputs != NULL || numbers->sets != NULL) {
    return nsr_fail(err, NSR_ERR_INVALID, "concept library: only a library over the whole domain "
                                          "can be read on example sets");
  }
  if (nsr_example_sets_check(sets, numbers->domain_max, err) != NSR_OK) return err->code;
  out->max = (uint32_t)sets->n;
  out->domain_max = numbers->domain_max;
  out->sets = sets;
  out->items = nsr_calloc(numbers->n ? numbers->n : 1, sizeof *out->items);
  if (out->items == NULL) return nsr_fail(err, NSR_ERR_NOMEM, "concept library: out of memory");
  for (size_t c = 0; c < numbers->n; c++) {
    const nsr_concept *from = &numbers->items[c];
    nsr_concept *to = &out->items[out->n];
    memcpy(to->name, from->name, sizeof to->name);
    int len = snprintf(to->definition, sizeof to->definition,
                       "(lambda (i) (all (map %s (examples i))))", from->definition);
    if (len < 0 || (size_t)len >= sizeof to->definition) {
      nsr_concept_library_free(out);
      return nsr_fail(err, NSR_ERR_INTERNAL, "concept '%s': its definition on sets is too long",
                      from->name);
    }
    if (nsr_bitset_init(&to->extension, out->max + 1, err) != NSR_OK) {
      nsr_concept_library_free(out);
      return nsr_fail(err, NSR_ERR_NOMEM, "concept library: out of memory");
    }
    for (size_t i = 0; i < sets->n; i++) {
      if (set_within(sets, i, &from->extension)) nsr_bitset_add(&to->extension, i + 1);
    }
    keep_if_new(out, 0);
  }
  return NSR_OK;
}

static nsr_code prim_examples(nsr_lang *lang, void *user, const nsr_lang_value *args, int nargs,
                              nsr_lang_value *out, nsr_error *err) {
  (void)nargs;
  const nsr_heldout *sets = user;
  double i;
  if (!nsr_lang_to_double(args[0], &i) || !(i >= 1 && i <= (double)sets->n) || i != floor(i)) {
    return nsr_fail(err, NSR_ERR_RANGE, "examples: expects a set number in 1..%zu", sets->n);
  }
  size_t k = (size_t)i - 1;
  nsr_lang_value items[NSR_PROPOSE_MAX_EXAMPLES];
  for (uint32_t j = 0; j < sets->n_examples[k]; j++) {
    items[j] = nsr_lang_int(sets->examples[k * NSR_PROPOSE_MAX_EXAMPLES + j]);
  }
  return nsr_lang_list(lang, items, sets->n_examples[k], out, err);
}

/* Whether the tree of a concept has a production of `family`; an
 * interval has none. */
static bool uses_family(const nsr_space *space, const nsr_space_concept *c, const char *family) {
  if (c->kind != NSR_CONCEPT_GRAMMAR) return false;
  for (int k = 0; k < c->tree.len; k++) {
    if (strcmp(nsr_space_production_family(space, c->tree.prog[k]), family) == 0) return true;
  }
  return false;
}

/* Whether production k is the first of its family (each family once). */
static bool first_of_family(const nsr_space *space, size_t k) {
  for (size_t j = 0; j < k; j++) {
    if (strcmp(nsr_space_production_family(space, j), nsr_space_production_family(space, k)) == 0) {
      return false;
    }
  }
  return true;
}

nsr_code nsr_concept_library_add_families(nsr_concept_library *lib, const nsr_space *space,
                                          const nsr_guide_sets *guide, nsr_error *err) {
  if (lib->sets != &guide->sets) {
    return nsr_fail(err, NSR_ERR_INVALID, "concept library: families need the library read on "
                                          "the guide's sets");
  }
  size_t p = nsr_space_productions(space);
  /* One per family at most, and "from an interval". */
  nsr_concept *grown = nsr_reallocarray(lib->items, lib->n + p + 1, sizeof *grown);
  if (grown == NULL) return nsr_fail(err, NSR_ERR_NOMEM, "concept library: out of memory");
  lib->items = grown;
  lib->guide = guide;
  lib->space = space;
  lib->align_first = lib->n;
  for (size_t k = 0; k <= p; k++) {
    if (k < p && !first_of_family(space, k)) continue;
    const char *family = k < p ? nsr_space_production_family(space, k) : NULL;
    nsr_concept *c = &lib->items[lib->n];
    memset(c, 0, sizeof *c);
    if (family) {
      snprintf(c->name, sizeof c->name, "uses %s", family);
      snprintf(c->definition, sizeof c->definition,
               "(lambda (i) (if (member \"%s\" (families i)) #t #f))", family);
    } else {
      snprintf(c->name, sizeof c->name, "from an interval");
      snprintf(c->definition, sizeof c->definition, "(lambda (i) (null? (families i)))");
    }
    if (nsr_bitset_init(&c->extension, lib->max + 1, err) != NSR_OK) {
      return nsr_fail(err, NSR_ERR_NOMEM, "concept library: out of memory");
    }
    for (size_t i = 0; i < guide->sets.n; i++) {
      const nsr_space_concept *con = &guide->items[i].concept;
      bool holds = family ? uses_family(space, con, family) : con->kind == NSR_CONCEPT_INTERVAL;
      if (holds) nsr_bitset_add(&c->extension, i + 1);
    }
    keep_if_new(lib, lib->align_first);
  }
  return NSR_OK;
}

static nsr_code prim_families(nsr_lang *lang, void *user, const nsr_lang_value *args, int nargs,
                              nsr_lang_value *out, nsr_error *err) {
  (void)nargs;
  const nsr_concept_library *lib = user;
  double i;
  if (!nsr_lang_to_double(args[0], &i) || !(i >= 1 && i <= (double)lib->max) || i != floor(i)) {
    return nsr_fail(err, NSR_ERR_RANGE, "families: expects a set number in 1..%u", lib->max);
  }
  const nsr_space_concept *c = &lib->guide->items[(size_t)i - 1].concept;
  nsr_lang_value items[NSR_SPACE_TREE_MAX];
  size_t n = 0;
  for (int k = 0; c->kind == NSR_CONCEPT_GRAMMAR && k < c->tree.len; k++) {
    const char *family = nsr_space_production_family(lib->space, c->tree.prog[k]);
    if (nsr_lang_string(lang, family, strlen(family), &items[n++], err) != NSR_OK) return err->code;
  }
  return nsr_lang_list(lang, items, n, out, err);
}

nsr_code nsr_extract_define_inputs(nsr_lang *lang, const nsr_concept_library *lib, nsr_error *err) {
  nsr_code rc = NSR_OK;
  if (lib->sets) {
    rc = nsr_lang_define_primitive(lang, "examples", 1, 1, prim_examples, (void *)lib->sets, err);
  }
  if (rc == NSR_OK && lib->guide) {
    rc = nsr_lang_define_primitive(lang, "families", 1, 1, prim_families, (void *)lib, err);
  }
  return rc;
}

void nsr_concept_library_free(nsr_concept_library *lib) {
  if (lib->items != NULL) {
    for (size_t i = 0; i < lib->n; i++) nsr_bitset_free(&lib->items[i].extension);
  }
  nsr_free(lib->items);
  memset(lib, 0, sizeof *lib);
}

/* The program mapping `predicate` over the inputs, as a vector: (range 1 n)
 * or the literal list of sampled numbers. Caller frees. */
static char *extension_program(const char *predicate, const uint32_t *inputs, uint32_t n) {
  nsr_strbuf sb = {0};
  nsr_strbuf_printf(&sb, "(list->vector (map %s ", predicate);
  if (inputs == NULL) {
    nsr_strbuf_printf(&sb, "(range 1 %u)", n);
  } else {
    nsr_strbuf_puts(&sb, "(list");
    for (uint32_t i = 0; i < n; i++) nsr_strbuf_printf(&sb, " %u", inputs[i]);
    nsr_strbuf_puts(&sb, ")");
  }
  nsr_strbuf_puts(&sb, "))");
  char *text = NULL;
  return nsr_strbuf_finish(&sb, &text, NULL, NULL) == NSR_OK ? text : NULL;
}

nsr_code nsr_church_extension(nsr_lang *lang, const char *predicate, const uint32_t *inputs,
                              uint32_t n, nsr_bitset *out, nsr_error *err) {
  /* One evaluation per predicate: the interpreter maps it over the inputs
   * and hands back a vector, so reading answer i is O(1). */
  char *program = extension_program(predicate, inputs, n);
  if (program == NULL) return nsr_fail(err, NSR_ERR_NOMEM, "Church check: out of memory");
  nsr_code rc = nsr_lang_eval_string(lang, "predicate", program, strlen(program), err);
  nsr_free(program);
  if (rc != NSR_OK) {
    nsr_error_prefix(err, "Church predicate %s: ", predicate);
    /* Running out of memory is not the predicate's fault; anything else
     * the predicate did wrong is bad input. */
    if (rc == NSR_ERR_NOMEM) return rc;
    if (err != NULL) err->code = NSR_ERR_INVALID;
    return NSR_ERR_INVALID;
  }
  nsr_lang_value v = nsr_lang_result(lang);
  if (nsr_lang_length(v) != (int64_t)n) {
    return nsr_fail(err, NSR_ERR_INTERNAL, "Church predicate %s: no answer per number", predicate);
  }
  nsr_bitset_clear_all(out);
  for (uint32_t i = 1; i <= n; i++) {
    nsr_lang_value b = nsr_lang_ref(v, i - 1);
    if (b.type != NSR_LANG_BOOL) {
      return nsr_fail(err, NSR_ERR_INVALID, "Church predicate %s: answers a non-boolean at %u",
                      predicate, inputs ? inputs[i - 1] : i);
    }
    if (b.as.b) nsr_bitset_add(out, i);
  }
  return NSR_OK;
}

nsr_code nsr_concept_library_verify(const nsr_concept_library *lib, nsr_lang *lang,
                                    nsr_error *err) {
  nsr_bitset church;
  nsr_code rc = nsr_bitset_init(&church, lib->max + 1, err);
  for (size_t i = 0; rc == NSR_OK && i < lib->n; i++) {
    const nsr_concept *c = &lib->items[i];
    rc = nsr_church_extension(lang, c->definition, lib->inputs, lib->max, &church, err);
    if (rc == NSR_OK && !nsr_bitset_equal(&church, &c->extension)) {
      rc = nsr_fail(err, NSR_ERR_INTERNAL,
                    "concept '%s': its Church definition disagrees with its extension", c->name);
    }
  }
  nsr_bitset_free(&church);
  return rc;
}
