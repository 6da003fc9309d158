/* guide_cli.h: the --guide option of `nsr numbers mh` and `nsr propose`:
 * which guide a space gets (a file, "none", or by default the shipped guide
 * of the space file) and the grammar it conditions on the examples. */
#ifndef NSR_GUIDE_CLI_H
#define NSR_GUIDE_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nsr_learn.h"

/* The value of --guide that asks for no guide. */
#define GUIDE_CLI_NONE "none"

typedef struct guide_cli {
  const char *path;    /* the guide file in use; NULL: none */
  bool from_default;   /* path is the space's shipped guide, not --guide */
  double *log_q;       /* [guide.rows * productions]: the conditioned grammar; NULL before open */
  nsr_space_guide guide; /* log_q and its rows, for nsr_space_mh and nsr_space_propose */
  double seconds;      /* loading the guide and running it on X */
  char buf[4096];      /* holds a default path */
} guide_cli;

/* Resolves `given` (--guide: a file, GUIDE_CLI_NONE, or NULL for the shipped
 * guide of `space_path` when one exists, else none), loads the guide against
 * `space` and conditions it on x[0..n) into g->log_q. Without a guide,
 * g->log_q stays NULL unless `prior_when_none`, which makes q the grammar's
 * prior (log_q = the production log weights). A guide of another space, a
 * file that is not a guide, or more examples than a guide reads is bad input
 * (exit 2). Close g even when this fails. */
nsr_code guide_cli_open(guide_cli *g, const char *given, const char *space_path, const nsr_space *space,
                        const uint32_t *x, size_t n, bool prior_when_none, nsr_error *err);
void guide_cli_close(guide_cli *g);

/* The guide's label for text output: its path, or "none (the grammar's prior)". */
const char *guide_cli_label(const guide_cli *g);

#endif
