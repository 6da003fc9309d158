/* cmd_numbers_model.h: the model behind `nsr numbers`, `numbers eval` and
 * `numbers fit`: Tenenbaum's engine (the default), a grammar space
 * (--space FILE), or a fitted prior (--prior-file FILE, which carries its
 * space). */
#ifndef NSR_CMD_NUMBERS_MODEL_H
#define NSR_CMD_NUMBERS_MODEL_H

#include "nsr.h"

typedef struct numbers_model {
  nsr_numbers *engine; /* set when no space is used */
  nsr_space *space;    /* set with --space or --prior-file */
  nsr_numbers_config cfg; /* for reports; with a space: mixture, λ, σ */
  nsr_space_params response; /* α, β and similarity in guessing; with a
                               space its parameters, else α 1, β 0.5 */
  const char *label;      /* "tenenbaum", the space file or the prior file */
} numbers_model;

/* Opens the model the options ask for: prior_path (a fitted prior file),
 * else space_path (a space description), else Tenenbaum's engine with
 * `cfg`. Giving both paths is an error. */
nsr_code numbers_model_open(numbers_model *m, const nsr_numbers_config *cfg,
                            const char *space_path, const char *prior_path,
                            bool record_edges, nsr_error *err);
void numbers_model_close(numbers_model *m);

nsr_code numbers_model_infer(numbers_model *m, const uint32_t *x, size_t n,
                             size_t top_k, nsr_numbers_result *res,
                             nsr_error *err);
/* The name of a hypothesis in a result of this model. */
void numbers_model_name(const numbers_model *m, const nsr_hypothesis *h,
                        char *buf, size_t len);
/* p(y ∈ C | X) for every cell of data, into g[n_cells]. */
nsr_code numbers_model_predict(numbers_model *m, const nsr_human_data *data,
                               double *g, nsr_error *err);

/* The frame of `numbers eval` and `numbers fit`: --help anywhere prints
 * `help`; otherwise parse(argc, argv, options) (a failure is a usage error,
 * exit 2), then run(options), then a check that stdout was written. Returns
 * the exit status. */
int numbers_subcommand(int argc, char **argv, const char *command, const char *help,
                       void *options,
                       nsr_code (*parse)(int argc, char **argv, void *options, nsr_error *err),
                       nsr_code (*run)(void *options, nsr_error *err));

#endif
