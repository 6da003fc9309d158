/* numbers_model.c: one front for Tenenbaum's engine and grammar spaces,
 * so that every numbers subcommand accepts --space and --prior-file, and
 * every one has Tenenbaum's model as its default. */
#include "nsr_report.h"

#include <stdio.h>
#include <string.h>

/* Tenenbaum's 34 rules as grammar primitives, without operations: the
 * hypotheses of nsr_numbers (programs/spaces/tenenbaum.json). */
#define TENENBAUM_PRIMITIVES                                                                   \
  "[{\"family\":\"even\"},{\"family\":\"odd\"},{\"family\":\"squares\"},{\"family\":\"cubes\"}," \
  "{\"family\":\"primes\"},{\"family\":\"multiples\",\"args\":[3,4,5,6,7,8,9,10,11,12]},"        \
  "{\"family\":\"powers\",\"args\":[2,3,4,5,6,7,8,9,10]},"                                       \
  "{\"family\":\"ends_in\",\"args\":[0,1,2,3,4,5,6,7,8,9]}]"

/* Builds Tenenbaum's model for `cfg` as a space: equal rule weights, and
 * λ = the rules' prior mass under cfg's prior (pmtk3's 2/3 per rule,
 * normalised, or the mixture's λ), so its answers are the engine's. */
static nsr_code tenenbaum_space(const nsr_numbers_config *cfg, unsigned space_flags, nsr_space **out,
                                nsr_error *err) {
  nsr_numbers *engine;
  nsr_code rc = nsr_numbers_new(cfg, &engine, err);
  nsr_hypothesis rule;
  if (rc == NSR_OK) rc = nsr_numbers_hypothesis_at(engine, 0, &rule, err); /* index 0: a rule */
  nsr_numbers_free(engine);
  if (rc != NSR_OK) return rc;
  char text[1024];
  int len = snprintf(text, sizeof text,
                     "{\"range\":%u,\"max_size\":1,\"lambda\":%.17g,\"sigma\":%.17g,\"primitives\":"
                     TENENBAUM_PRIMITIVES "}",
                     cfg->max, NSR_NUMBERS_RULES * rule.prior, cfg->sigma);
  if (len < 0 || (size_t)len >= sizeof text) return nsr_fail(err, NSR_ERR_INTERNAL, "Tenenbaum's space: description too long");
  return nsr_space_from_json(text, (size_t)len, "Tenenbaum's rules", space_flags, out, err);
}

nsr_code nsr_numbers_model_open(nsr_numbers_model *m, const nsr_numbers_config *cfg,
                            const char *space_path, const char *prior_path,
                            unsigned flags, nsr_error *err) {
  memset(m, 0, sizeof *m);
  m->cfg = *cfg;
  m->response = (nsr_space_params){.alpha = 1.0, .beta = 0.5, .tau = 1.0};
  m->label = "tenenbaum";
  if (space_path && prior_path) {
    return nsr_fail(err, NSR_ERR_INVALID,
                    "give --space or --prior-file, not both (a prior file records its space)");
  }
  bool edges = (flags & NSR_NUMBERS_MODEL_EDGES) != 0;
  unsigned space_flags = (edges ? NSR_SPACE_RECORD_EDGES : 0) |
                         (flags & NSR_NUMBERS_MODEL_GRAMMAR_ONLY ? NSR_SPACE_GRAMMAR_ONLY : 0);
  nsr_code rc;
  if (prior_path) {
    rc = nsr_space_load_prior(prior_path, space_flags, &m->space, err);
    m->label = m->file = prior_path;
    m->fitted = true;
  } else if (space_path) {
    rc = nsr_space_load(space_path, space_flags, &m->space, err);
    m->label = m->file = space_path;
  } else if (flags & NSR_NUMBERS_MODEL_SPACE) {
    rc = tenenbaum_space(cfg, space_flags, &m->space, err);
  } else {
    return nsr_numbers_new(cfg, &m->engine, err);
  }
  if (rc == NSR_ERR_IO) err->code = rc = NSR_ERR_INVALID; /* an unreadable file named by the user */
  if (rc != NSR_OK) return rc;
  nsr_space_params p = nsr_space_get_params(m->space);
  m->cfg.max = nsr_space_max(m->space);
  m->cfg.prior = NSR_PRIOR_MIXTURE;
  m->cfg.lambda = p.lambda;
  m->cfg.sigma = p.sigma;
  m->response = p;
  return NSR_OK;
}

void nsr_numbers_model_close(nsr_numbers_model *m) {
  nsr_numbers_free(m->engine);
  nsr_space_free(m->space);
  memset(m, 0, sizeof *m);
}

nsr_code nsr_numbers_model_infer(nsr_numbers_model *m, const uint32_t *x, size_t n, size_t top_k,
                             nsr_numbers_result *res, nsr_error *err) {
  if (m->space) return nsr_space_infer(m->space, x, n, top_k, res, err);
  return nsr_numbers_infer(m->engine, x, n, top_k, res, err);
}

nsr_code nsr_numbers_model_predict(nsr_numbers_model *m, const nsr_human_data *data, double *g,
                               nsr_error *err) {
  nsr_numbers_result res = {0};
  nsr_code rc = NSR_OK;
  for (size_t i = 0; i < data->n_sets && rc == NSR_OK; i++) {
    const nsr_human_set *set = &data->sets[i];
    rc = nsr_numbers_model_infer(m, set->examples, set->n_examples, 0, &res, err);
    for (size_t c = 0; rc == NSR_OK && c < set->n_cells; c++) {
      g[set->first_cell + c] = res.generalization[data->cells[set->first_cell + c].target - 1];
    }
  }
  nsr_numbers_result_free(&res);
  return rc;
}

numbers_query nsr_numbers_model_query(const nsr_numbers_model *m, const uint32_t *x, size_t n,
                                      const nsr_numbers_result *r) {
  return (numbers_query){.cfg = &m->cfg, .examples = x, .n_examples = n, .result = r,
                         .space = m->space, .model_file = m->file, .fitted = m->fitted};
}
