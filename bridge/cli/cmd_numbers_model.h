/* cmd_numbers_model.h: the model behind `nsr numbers` and its subcommands
 * `eval`, `fit` and `mh`: Tenenbaum's engine (the default), a grammar space
 * (--space FILE), or a fitted prior (--prior-file FILE, which carries its
 * space). */
#ifndef NSR_CMD_NUMBERS_MODEL_H
#define NSR_CMD_NUMBERS_MODEL_H

#include "nsr.h"

typedef struct numbers_model {
  nsr_numbers *engine; /* set when no space is used */
  nsr_space *space;    /* set with --space or --prior-file, or NUMBERS_MODEL_SPACE */
  nsr_numbers_config cfg; /* for reports; with a space: mixture, λ, σ */
  nsr_space_params response; /* α, β and similarity in guessing; with a
                               space its parameters, else α 1, β 0.5 */
  const char *label;      /* "tenenbaum", the space file or the prior file */
  const char *file;       /* the space or prior file; NULL for Tenenbaum's */
  bool fitted;            /* file is a fitted prior (from `numbers fit`) */
} numbers_model;

/* How numbers_model_open builds the model. */
enum {
  NUMBERS_MODEL_EDGES = 1, /* record a space's derivation graph (for fitting) */
  NUMBERS_MODEL_SPACE = 2, /* always a space: without a file, Tenenbaum's 34
                              rules as a grammar, with the prior of `cfg` */
};

/* Opens the model the options ask for: prior_path (a fitted prior file),
 * else space_path (a space description), else Tenenbaum's model with `cfg`
 * (its engine, or with NUMBERS_MODEL_SPACE the same model as a space).
 * Giving both paths is an error; an unreadable or bad file is bad input
 * (NSR_ERR_INVALID). Close *m even when this fails. */
nsr_code numbers_model_open(numbers_model *m, const nsr_numbers_config *cfg,
                            const char *space_path, const char *prior_path,
                            unsigned flags, nsr_error *err);
void numbers_model_close(numbers_model *m);

nsr_code numbers_model_infer(numbers_model *m, const uint32_t *x, size_t n,
                             size_t top_k, nsr_numbers_result *res,
                             nsr_error *err);
/* p(y ∈ C | X) for every cell of data, into g[n_cells]. */
nsr_code numbers_model_predict(numbers_model *m, const nsr_human_data *data,
                               double *g, nsr_error *err);

#endif
