/* fit_prior.c: prior files, which record a space's description together
 * with fitted parameters and production weights. */
#include <math.h>
#include <string.h>

#include "fileio.h"
#include "json.h"
#include "space.h"

#define PRIOR_FORMAT "nsr-prior/1"
#define MAX_PRIOR_BYTES (8u << 20)

/* Keys of the offsets by number of examples, a_n[k] and b_n[k]. */
static const char *const by_n_keys[2][3] = {{"alpha_2", "alpha_3", "alpha_4"}, {"beta_2", "beta_3", "beta_4"}};

static json_t *params_json(const nsr_space_params *p) {
  json_t *o = json_pack("{s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:f}", "lambda", p->lambda, "sigma",
                   p->sigma, "alpha", p->alpha, "beta", p->beta, "gamma", p->gamma, "gamma1", p->gamma1,
                   "b_near", p->b_near, "tau", p->tau, "b_digit", p->b_digit, "b_decade", p->b_decade);
  for (int k = 0; o && k < 3; k++) {
    /* A failed set leaves the key out; the reader then keeps zero. */
    json_object_set_new(o, by_n_keys[0][k], nsr_json_real(p->a_n[k]));
    json_object_set_new(o, by_n_keys[1][k], nsr_json_real(p->b_n[k]));
  }
  if (o && p->sim_mass > 0) { /* absent: no similarity hypothesis */
    json_object_set_new(o, "sim_mass", nsr_json_real(p->sim_mass));
    json_object_set_new(o, "sim_tau", nsr_json_real(p->sim_tau));
  }
  return o;
}

nsr_code nsr_space_prior_text(const nsr_space *s, const char *fit_json, char **out,
                              nsr_error *err) {
  *out = NULL;
  json_t *space, *fit = NULL;
  nsr_code rc = nsr_json_parse(s->source, strlen(s->source), &space, err);
  if (rc != NSR_OK) return rc;
  if (fit_json) {
    rc = nsr_json_parse(fit_json, strlen(fit_json), &fit, err);
    if (rc != NSR_OK) {
      json_decref(space);
      return rc;
    }
  }
  json_t *root = json_object(), *weights = json_object();
  rc = nsr_json_set(root, "format", json_string(PRIOR_FORMAT), err);
  if (rc == NSR_OK) rc = nsr_json_set(root, "space", space, err);
  else json_decref(space);
  if (rc == NSR_OK) rc = nsr_json_set(root, "params", params_json(&s->params), err);
  for (size_t i = 0; rc == NSR_OK && i < s->n_prods; i++) {
    rc = nsr_json_set(weights, s->prods[i].name, nsr_json_real(s->prods[i].log_w), err);
  }
  if (rc == NSR_OK) rc = nsr_json_set(root, "log_weights", weights, err);
  else json_decref(weights);
  if (rc == NSR_OK && fit) rc = nsr_json_set(root, "fit", fit, err);
  else json_decref(fit);
  *out = rc == NSR_OK ? nsr_json_dump_indent(root, 1) : NULL;
  json_decref(root);
  if (rc != NSR_OK) return rc;
  return *out ? NSR_OK : nsr_fail(err, NSR_ERR_NOMEM, "prior file: out of memory");
}

/* Applies "params" and "log_weights" (every production must be named, and
 * no other) to a freshly built space. */
static nsr_code apply_prior(nsr_space *s, const json_t *root, nsr_error *err) {
  const json_t *pj = json_object_get(root, "params");
  nsr_space_params p = s->params;
  nsr_code rc = nsr_json_get_number(pj, "lambda", &p.lambda, err);
  if (rc == NSR_OK) rc = nsr_json_get_number(pj, "sigma", &p.sigma, err);
  if (rc == NSR_OK) rc = nsr_json_get_number(pj, "alpha", &p.alpha, err);
  if (rc == NSR_OK) rc = nsr_json_get_number(pj, "beta", &p.beta, err);
  if (rc == NSR_OK) rc = nsr_json_get_number_opt(pj, "gamma", &p.gamma, err);
  if (rc == NSR_OK) rc = nsr_json_get_number_opt(pj, "gamma1", &p.gamma1, err);
  if (rc == NSR_OK) rc = nsr_json_get_number_opt(pj, "b_near", &p.b_near, err);
  if (rc == NSR_OK) rc = nsr_json_get_number_opt(pj, "tau", &p.tau, err);
  if (rc == NSR_OK) rc = nsr_json_get_number_opt(pj, "b_digit", &p.b_digit, err);
  if (rc == NSR_OK) rc = nsr_json_get_number_opt(pj, "b_decade", &p.b_decade, err);
  for (int k = 0; rc == NSR_OK && k < 3; k++) {
    rc = nsr_json_get_number_opt(pj, by_n_keys[0][k], &p.a_n[k], err);
    if (rc == NSR_OK) rc = nsr_json_get_number_opt(pj, by_n_keys[1][k], &p.b_n[k], err);
  }
  if (rc == NSR_OK) rc = nsr_json_get_number_opt(pj, "sim_mass", &p.sim_mass, err);
  if (rc == NSR_OK) rc = nsr_json_get_number_opt(pj, "sim_tau", &p.sim_tau, err);
  if (rc == NSR_OK) rc = nsr_space_set_params(s, &p, err);
  if (rc != NSR_OK) {
    nsr_error_prefix(err, "\"params\": ");
    return rc;
  }
  const json_t *wj = json_object_get(root, "log_weights");
  if (!json_is_object(wj) || json_object_size(wj) != s->n_prods) {
    return nsr_fail(err, NSR_ERR_INVALID, "\"log_weights\" must name each of the space's %zu productions once",
                    s->n_prods);
  }
  double *w = nsr_mallocarray(s->n_prods, sizeof *w);
  if (w == NULL) return nsr_fail(err, NSR_ERR_NOMEM, "prior file: out of memory");
  for (size_t i = 0; rc == NSR_OK && i < s->n_prods; i++) {
    rc = nsr_json_get_number(wj, s->prods[i].name, &w[i], err);
    if (rc != NSR_OK) nsr_error_prefix(err, "\"log_weights\": ");
  }
  if (rc == NSR_OK) rc = nsr_space_set_log_weights(s, w, err);
  nsr_free(w);
  return rc;
}

nsr_code nsr_space_load_prior(const char *path, unsigned flags, nsr_space **out,
                              nsr_error *err) {
  char *text, *space_text = NULL;
  size_t len;
  *out = NULL;
  nsr_code rc = nsr_read_file(path, MAX_PRIOR_BYTES, &text, &len, err);
  if (rc != NSR_OK) return rc;
  json_t *root;
  rc = nsr_json_parse(text, len, &root, err);
  nsr_free(text);
  if (rc != NSR_OK) {
    nsr_error_prefix(err, "prior file '%s': ", path);
    return rc;
  }
  const char *format = NULL;
  rc = nsr_json_get_string(root, "format", &format, err);
  if (rc == NSR_OK && strcmp(format, PRIOR_FORMAT) != 0) {
    rc = nsr_fail(err, NSR_ERR_FORMAT, "\"format\" is '%s', expected '%s'", format, PRIOR_FORMAT);
  }
  const json_t *space = json_object_get(root, "space");
  if (rc == NSR_OK && !json_is_object(space)) rc = nsr_fail(err, NSR_ERR_INVALID, "\"space\" must be an object");
  if (rc == NSR_OK) {
    space_text = nsr_json_dump(space);
    if (space_text == NULL) rc = nsr_fail(err, NSR_ERR_NOMEM, "prior file: out of memory");
  }
  nsr_space *s = NULL;
  if (rc == NSR_OK) rc = nsr_space_from_json(space_text, strlen(space_text), path, flags, &s, err);
  if (rc == NSR_OK) rc = apply_prior(s, root, err);
  nsr_free(space_text);
  json_decref(root);
  if (rc != NSR_OK) {
    nsr_space_free(s);
    if (err && strncmp(err->message, "space '", 7) != 0) nsr_error_prefix(err, "prior file '%s': ", path);
    return rc;
  }
  *out = s;
  return NSR_OK;
}
