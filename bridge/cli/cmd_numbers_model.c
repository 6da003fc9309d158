/* cmd_numbers_model.c: one front for Tenenbaum's engine and grammar spaces,
 * so that every numbers subcommand accepts --space and --prior-file. */
#include "cmd_numbers_model.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

nsr_code numbers_model_open(numbers_model *m, const nsr_numbers_config *cfg,
                            const char *space_path, const char *prior_path,
                            bool record_edges, nsr_error *err) {
  memset(m, 0, sizeof *m);
  m->cfg = *cfg;
  m->response = (nsr_space_params){.alpha = 1.0, .beta = 0.5, .tau = 1.0};
  if (space_path && prior_path) {
    return nsr_fail(err, NSR_ERR_INVALID,
                    "give --space or --prior-file, not both (a prior file records its space)");
  }
  nsr_code rc;
  if (prior_path) {
    rc = nsr_space_load_prior(prior_path, record_edges, &m->space, err);
    m->label = prior_path;
  } else if (space_path) {
    rc = nsr_space_load(space_path, record_edges, &m->space, err);
    m->label = space_path;
  } else {
    m->label = "tenenbaum";
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

void numbers_model_close(numbers_model *m) {
  nsr_numbers_free(m->engine);
  nsr_space_free(m->space);
  memset(m, 0, sizeof *m);
}

nsr_code numbers_model_infer(numbers_model *m, const uint32_t *x, size_t n, size_t top_k,
                             nsr_numbers_result *res, nsr_error *err) {
  if (m->space) return nsr_space_infer(m->space, x, n, top_k, res, err);
  return nsr_numbers_infer(m->engine, x, n, top_k, res, err);
}

void numbers_model_name(const numbers_model *m, const nsr_hypothesis *h, char *buf, size_t len) {
  if (m->space) nsr_space_hypothesis_name(m->space, h, buf, len);
  else nsr_numbers_hypothesis_name(h, buf, len);
}

nsr_code numbers_model_predict(numbers_model *m, const nsr_human_data *data, double *g,
                               nsr_error *err) {
  nsr_numbers_result res = {0};
  nsr_code rc = NSR_OK;
  for (size_t i = 0; i < data->n_sets && rc == NSR_OK; i++) {
    const nsr_human_set *set = &data->sets[i];
    rc = numbers_model_infer(m, set->examples, set->n_examples, 0, &res, err);
    for (size_t c = 0; rc == NSR_OK && c < set->n_cells; c++) {
      g[set->first_cell + c] = res.generalization[data->cells[set->first_cell + c].target - 1];
    }
  }
  nsr_numbers_result_free(&res);
  return rc;
}

int numbers_subcommand(int argc, char **argv, const char *command, const char *help, void *options,
                       nsr_code (*parse)(int argc, char **argv, void *options, nsr_error *err),
                       nsr_code (*run)(void *options, nsr_error *err)) {
  for (int i = 1; i < argc; i++) {
    if (cli_is_help(argv[i])) {
      fputs(help, stdout);
      return CLI_EXIT_OK;
    }
  }
  nsr_error err;
  nsr_error_clear(&err);
  nsr_code rc = parse(argc, argv, options, &err);
  if (rc != NSR_OK) return cli_usage_error(command, "%s", err.message);
  rc = run(options, &err);
  if (rc == NSR_OK && (fflush(stdout) != 0 || ferror(stdout))) {
    rc = nsr_fail(&err, NSR_ERR_IO, "writing the output: %s", strerror(errno));
  }
  return rc == NSR_OK ? CLI_EXIT_OK : cli_report(command, &err);
}
