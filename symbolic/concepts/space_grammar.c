/* space_grammar.c: a space's JSON description (its grammar, bounds and
 * parameters), the space object's lifetime and its accessors. */
#include <math.h>
#include <string.h>

#include "fileio.h"
#include "json.h"
#include "space.h"

#define MAX_SPACE_BYTES (4u << 20)
#define DEFAULT_MAX_EXTENSIONS 5000000

static nsr_code add_production(nsr_space *s, int family, uint32_t arg, double weight,
                               nsr_error *err) {
  if (s->n_prods == SPACE_MAX_PRODUCTIONS) {
    return nsr_fail(err, NSR_ERR_LIMIT, "more than %d productions", SPACE_MAX_PRODUCTIONS);
  }
  production *p = &s->prods[s->n_prods];
  nsr_code rc = space_production_init(p, family, arg, s->max, err);
  if (rc != NSR_OK) return rc;
  for (size_t i = 0; i < s->n_prods; i++) {
    if (strcmp(s->prods[i].name, p->name) == 0) {
      return nsr_fail(err, NSR_ERR_INVALID, "production '%s' is listed twice", p->name);
    }
  }
  p->log_w = p->log_w0 = log(weight);
  s->n_prods++;
  return NSR_OK;
}

/* Reads one entry of "primitives" or "operations": {"family", "args"?,
 * "weight"?}; `kind_ok` tells whether the family belongs in this list. */
static nsr_code parse_entry(nsr_space *s, const json_t *entry, const char *list, size_t index,
                            bool primitives, nsr_error *err) {
  const char *name;
  double weight = 1.0;
  nsr_code rc = nsr_json_get_string(entry, "family", &name, err);
  if (rc == NSR_OK) rc = nsr_json_get_number_opt(entry, "weight", &weight, err);
  if (rc != NSR_OK) {
    nsr_error_prefix(err, "%s[%zu]: ", list, index);
    return rc;
  }
  int f = space_family_find(name);
  if (f < 0 || (space_family_kind(f) == PROD_PRIMITIVE) != primitives) {
    return nsr_fail(err, NSR_ERR_INVALID, "%s[%zu]: unknown %s family '%s'", list, index,
                    primitives ? "primitive" : "operation", name);
  }
  if (!(weight > 0.0) || !isfinite(weight)) {
    return nsr_fail(err, NSR_ERR_RANGE, "%s[%zu]: weight must be a positive number", list, index);
  }
  json_t *args = json_object_get(entry, "args");
  if (space_family_has_arg(f) != (args != NULL)) {
    return nsr_fail(err, NSR_ERR_INVALID, "%s[%zu]: '%s' %s \"args\"", list, index, name,
                    args ? "takes no" : "needs");
  }
  if (args == NULL) return add_production(s, f, 0, weight, err);
  if (!json_is_array(args) || json_array_size(args) == 0) {
    return nsr_fail(err, NSR_ERR_INVALID, "%s[%zu]: \"args\" must be a non-empty array", list, index);
  }
  size_t i;
  json_t *v;
  json_array_foreach(args, i, v) {
    if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > 1000000) {
      return nsr_fail(err, NSR_ERR_INVALID, "%s[%zu]: args[%zu] must be a whole number", list, index, i);
    }
    rc = add_production(s, f, (uint32_t)json_integer_value(v), weight, err);
    if (rc != NSR_OK) {
      nsr_error_prefix(err, "%s[%zu]: ", list, index);
      return rc;
    }
  }
  return NSR_OK;
}

static nsr_code parse_list(nsr_space *s, const json_t *root, const char *key, bool primitives,
                           nsr_error *err) {
  json_t *list = json_object_get(root, key);
  if (list == NULL && !primitives) return NSR_OK;
  if (!json_is_array(list) || (primitives && json_array_size(list) == 0)) {
    return nsr_fail(err, NSR_ERR_INVALID, "\"%s\" must be a%s array", key,
                    primitives ? " non-empty" : "n");
  }
  size_t i;
  json_t *entry;
  json_array_foreach(list, i, entry) {
    nsr_code rc = parse_entry(s, entry, key, i, primitives, err);
    if (rc != NSR_OK) return rc;
  }
  return NSR_OK;
}

/* Reads the bounds and parameters; defaults: range 100, max_size 3,
 * λ 0.5, σ 10, α 1, β 0.5, γ1 = γ = 1, no similarity in guessing (τ 5),
 * no similarity hypothesis (its τ 10). */
static nsr_code parse_settings(nsr_space *s, const json_t *root, nsr_error *err) {
  int64_t range = NSR_NUMBERS_DEFAULT_N, max_size = 3, max_ext = DEFAULT_MAX_EXTENSIONS;
  nsr_space_params p = {.lambda = 0.5, .sigma = NSR_NUMBERS_DEFAULT_SIGMA, .alpha = 1.0, .beta = 0.5,
                        .gamma = 1.0, .gamma1 = 1.0, .tau = 5.0, .sim_tau = 10.0};
  nsr_code rc = nsr_json_get_int_opt(root, "range", &range, err);
  if (rc == NSR_OK) rc = nsr_json_get_int_opt(root, "max_size", &max_size, err);
  if (rc == NSR_OK) rc = nsr_json_get_int_opt(root, "max_extensions", &max_ext, err);
  if (rc == NSR_OK) rc = nsr_json_get_number_opt(root, "lambda", &p.lambda, err);
  if (rc == NSR_OK) rc = nsr_json_get_number_opt(root, "sigma", &p.sigma, err);
  if (rc == NSR_OK) rc = nsr_json_get_number_opt(root, "alpha", &p.alpha, err);
  if (rc == NSR_OK) rc = nsr_json_get_number_opt(root, "beta", &p.beta, err);
  if (rc == NSR_OK) rc = nsr_json_get_number_opt(root, "gamma", &p.gamma, err);
  if (rc == NSR_OK) rc = nsr_json_get_number_opt(root, "gamma1", &p.gamma1, err);
  if (rc == NSR_OK) rc = nsr_json_get_number_opt(root, "similarity_mass", &p.sim_mass, err);
  if (rc == NSR_OK) rc = nsr_json_get_number_opt(root, "similarity_tau", &p.sim_tau, err);
  if (rc != NSR_OK) return rc;
  if (range < 1 || range > NSR_SPACE_MAX_N) {
    return nsr_fail(err, NSR_ERR_RANGE, "\"range\" %lld must lie in 1..%u", (long long)range, NSR_SPACE_MAX_N);
  }
  if (max_size < 1 || max_size > 32) {
    return nsr_fail(err, NSR_ERR_RANGE, "\"max_size\" %lld must lie in 1..32", (long long)max_size);
  }
  if (max_ext < 1 || max_ext > 100000000) {
    return nsr_fail(err, NSR_ERR_RANGE, "\"max_extensions\" must lie in 1..100000000");
  }
  s->max = (uint32_t)range;
  s->words = (s->max + 1 + 63) / 64;
  s->max_size = (int)max_size;
  s->max_ext = (size_t)max_ext;
  s->sigma0 = p.sigma;
  return nsr_space_set_params(s, &p, err);
}

double nsr_space_sampling_exponent(const nsr_space_params *p, size_t n) {
  return n == 0 ? 0.0 : p->gamma1 + p->gamma * (double)(n - 1);
}

void nsr_similarity_of(const nsr_space_params *p, const uint32_t *x, size_t n, uint32_t y,
                       nsr_similarity *f) {
  f->dist = INFINITY;
  f->digit = f->decade = 0.0;
  for (size_t i = 0; i < n; i++) {
    double d = fabs((double)x[i] - (double)y);
    if (d < f->dist) f->dist = d;
    if (x[i] % 10 == y % 10) f->digit = 1.0;
    if (x[i] / 10 == y / 10) f->decade = 1.0;
  }
  f->near = exp(-f->dist / p->tau);
}

double space_sim_profile(const nsr_space_params *p, const uint32_t *x, size_t n, uint32_t max, double *m,
                         double *d) {
  double total = 0.0;
  m[0] = d[0] = 0.0;
  for (uint32_t y = 1; y <= max; y++) {
    double best = INFINITY;
    for (size_t i = 0; i < n; i++) best = fmin(best, fabs((double)x[i] - (double)y));
    d[y] = best;
    m[y] = exp(-best / p->sim_tau);
    total += m[y];
  }
  return total;
}

int nsr_space_n_index(size_t n) { return n < 2 ? -1 : n > 4 ? 2 : (int)n - 2; }

double nsr_space_attention(const nsr_space_params *p, size_t n) {
  int k = nsr_space_n_index(n);
  /* No offset keeps α exactly, α = 1 included (its logit is infinite). */
  if (k < 0 || p->a_n[k] == 0.0) return p->alpha;
  return 1.0 / (1.0 + exp(-(log(p->alpha / (1 - p->alpha)) + p->a_n[k])));
}

double nsr_space_guess(const nsr_space_params *p, size_t n, const nsr_similarity *f) {
  int k = nsr_space_n_index(n);
  double z = log(p->beta / (1 - p->beta)) + p->b_near * f->near + p->b_digit * f->digit + p->b_decade * f->decade +
             (k < 0 ? 0.0 : p->b_n[k]);
  return 1.0 / (1.0 + exp(-z));
}

double nsr_space_response(const nsr_space_params *p, const uint32_t *x, size_t n, uint32_t y, double g) {
  nsr_similarity f;
  nsr_similarity_of(p, x, n, y, &f);
  double a = nsr_space_attention(p, n);
  return a * g + (1 - a) * nsr_space_guess(p, n, &f);
}

nsr_code nsr_space_set_params(nsr_space *s, const nsr_space_params *p, nsr_error *err) {
  if (!(p->lambda > 0.0 && p->lambda < 1.0)) return nsr_fail(err, NSR_ERR_RANGE, "lambda %g must lie in (0, 1)", p->lambda);
  if (!(p->sigma > 0.0) || !isfinite(p->sigma)) return nsr_fail(err, NSR_ERR_RANGE, "sigma %g must be positive", p->sigma);
  if (!(p->alpha > 0.0 && p->alpha <= 1.0)) return nsr_fail(err, NSR_ERR_RANGE, "alpha %g must lie in (0, 1]", p->alpha);
  if (!(p->beta > 0.0 && p->beta < 1.0)) return nsr_fail(err, NSR_ERR_RANGE, "beta %g must lie in (0, 1)", p->beta);
  if (!(p->gamma > 0.0) || !isfinite(p->gamma)) return nsr_fail(err, NSR_ERR_RANGE, "gamma %g must be positive", p->gamma);
  if (!(p->gamma1 > 0.0) || !isfinite(p->gamma1)) return nsr_fail(err, NSR_ERR_RANGE, "gamma1 %g must be positive", p->gamma1);
  if (!(p->tau > 0.0) || !isfinite(p->tau)) return nsr_fail(err, NSR_ERR_RANGE, "tau %g must be positive", p->tau);
  bool finite = isfinite(p->b_near) && isfinite(p->b_digit) && isfinite(p->b_decade);
  for (int k = 0; k < 3; k++) finite = finite && isfinite(p->a_n[k]) && isfinite(p->b_n[k]);
  if (!finite) return nsr_fail(err, NSR_ERR_RANGE, "similarity weights and offsets by n must be finite");
  if (!(p->sim_mass >= 0.0 && p->sim_mass < 1.0)) {
    return nsr_fail(err, NSR_ERR_RANGE, "similarity_mass %g must lie in [0, 1)", p->sim_mass);
  }
  if (p->sim_mass > 0.0 && (!(p->sim_tau > 0.0) || !isfinite(p->sim_tau))) {
    return nsr_fail(err, NSR_ERR_RANGE, "similarity_tau %g must be positive", p->sim_tau);
  }
  if (p->alpha == 1.0 && (p->a_n[0] != 0 || p->a_n[1] != 0 || p->a_n[2] != 0)) {
    return nsr_fail(err, NSR_ERR_RANGE, "alpha 1 takes no offsets by number of examples");
  }
  s->params = *p;
  if (s->interval_lp) space_interval_prior(s);
  return NSR_OK;
}

static nsr_code space_build(nsr_space *s, const char *text, size_t len, const char *what,
                            unsigned flags, nsr_error *err) {
  json_t *root;
  nsr_code rc = nsr_json_parse(text, len, &root, err);
  if (rc != NSR_OK) {
    nsr_error_prefix(err, "space '%s': ", what);
    return rc;
  }
  if (!json_is_object(root)) rc = nsr_fail(err, NSR_ERR_INVALID, "the description must be a JSON object");
  if (rc == NSR_OK) rc = parse_settings(s, root, err);
  s->enumerated = true;
  if (rc == NSR_OK) rc = nsr_json_get_bool_opt(root, "enumerate", &s->enumerated, err);
  if (flags & NSR_SPACE_GRAMMAR_ONLY) s->enumerated = false;
  if (rc == NSR_OK) {
    s->prods = nsr_calloc(SPACE_MAX_PRODUCTIONS, sizeof *s->prods);
    if (s->prods == NULL) rc = nsr_fail(err, NSR_ERR_NOMEM, "productions: out of memory");
  }
  if (rc == NSR_OK) rc = parse_list(s, root, "primitives", true, err);
  if (rc == NSR_OK) rc = parse_list(s, root, "operations", false, err);
  json_decref(root);
  if (rc == NSR_OK) {
    s->source = nsr_strndup(text, len);
    s->interval_lp = nsr_mallocarray(s->max + 1, sizeof *s->interval_lp);
    s->diff = nsr_mallocarray(s->max + 2, sizeof *s->diff);
    s->interval_cum = nsr_mallocarray(s->max, sizeof *s->interval_cum);
    if (!s->source || !s->interval_lp || !s->diff || !s->interval_cum) {
      rc = nsr_fail(err, NSR_ERR_NOMEM, "space: out of memory");
    }
  }
  if (rc == NSR_OK) rc = space_tree_tables(s, err);
  if (rc == NSR_OK) {
    space_interval_prior(s);
    if (s->enumerated) rc = space_enumerate(s, err);
  }
  if (rc != NSR_OK) nsr_error_prefix(err, "space '%s': ", what);
  return rc;
}

nsr_code nsr_space_from_json(const char *text, size_t len, const char *what, unsigned flags,
                             nsr_space **out, nsr_error *err) {
  *out = NULL;
  nsr_space *s = nsr_calloc(1, sizeof *s);
  if (s == NULL) return nsr_fail(err, NSR_ERR_NOMEM, "space: out of memory");
  s->record_edges = (flags & NSR_SPACE_RECORD_EDGES) != 0;
  nsr_code rc = space_build(s, text, len, what, flags, err);
  if (rc != NSR_OK) {
    nsr_space_free(s);
    return rc;
  }
  *out = s;
  return NSR_OK;
}

nsr_code nsr_space_load(const char *path, unsigned flags, nsr_space **out, nsr_error *err) {
  char *text;
  size_t len;
  *out = NULL;
  nsr_code rc = nsr_read_file(path, MAX_SPACE_BYTES, &text, &len, err);
  if (rc != NSR_OK) return rc;
  rc = nsr_space_from_json(text, len, path, flags, out, err);
  nsr_free(text);
  return rc;
}

void nsr_space_free(nsr_space *s) {
  if (s == NULL) return;
  nsr_free(s->source);
  nsr_free(s->prods);
  nsr_free(s->bits);
  nsr_free(s->ext_size);
  nsr_free(s->pi);
  nsr_free(s->best);
  nsr_free(s->table);
  nsr_free(s->class_of);
  nsr_free(s->classes);
  nsr_free(s->edges);
  nsr_free(s->interval_lp);
  nsr_free(s->score);
  nsr_free(s->diff);
  nsr_free(s->interval_cum);
  nsr_free(s->prim);
  nsr_free(s->pcfg_cols);
  nsr_free(s->pcfg_log_p);
  nsr_free(s->size_cum);
  nsr_free(s->size_prod_cum);
  nsr_free(s->split_cum);
  nsr_free(s);
}

uint32_t nsr_space_max(const nsr_space *s) { return s->max; }
int nsr_space_max_size(const nsr_space *s) { return s->max_size; }
size_t nsr_space_extensions(const nsr_space *s) { return s->n_ext; }
double nsr_space_expressions(const nsr_space *s) { return s->n_expressions; }
double nsr_space_build_seconds(const nsr_space *s) { return s->build_seconds; }
const char *nsr_space_source(const nsr_space *s) { return s->source; }
nsr_space_params nsr_space_get_params(const nsr_space *s) { return s->params; }
size_t nsr_space_productions(const nsr_space *s) { return s->n_prods; }

const char *nsr_space_production_name(const nsr_space *s, size_t i) {
  return i < s->n_prods ? s->prods[i].name : NULL;
}

const char *nsr_space_production_family(const nsr_space *s, size_t i) {
  return i < s->n_prods ? space_family_name(s->prods[i].family) : NULL;
}

bool nsr_space_production_is_primitive(const nsr_space *s, size_t i) {
  return i < s->n_prods && s->prods[i].kind == PROD_PRIMITIVE;
}

double nsr_space_production_log_weight(const nsr_space *s, size_t i) {
  return i < s->n_prods ? s->prods[i].log_w : NAN;
}

nsr_code nsr_space_set_log_weights(nsr_space *s, const double *log_w, nsr_error *err) {
  for (size_t i = 0; i < s->n_prods; i++) {
    if (!isfinite(log_w[i])) {
      return nsr_fail(err, NSR_ERR_RANGE, "log weight of '%s' is not finite", s->prods[i].name);
    }
  }
  for (size_t i = 0; i < s->n_prods; i++) s->prods[i].log_w = log_w[i];
  space_tree_weights(s);
  if (!s->enumerated) return NSR_OK;
  if (!s->record_edges) return space_enumerate(s, err);
  space_forward(s);
  return NSR_OK;
}
