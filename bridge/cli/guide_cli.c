/* guide_cli.c: the --guide option shared by `nsr numbers mh` and
 * `nsr propose` (guide_cli.h). */
#include "guide_cli.h"

#include <cblas.h>
#include <string.h>

/* The grammar's own prior as q: the production log weights. */
static nsr_code prior_as_guide(guide_cli *g, const nsr_space *space, nsr_error *err) {
  size_t p = nsr_space_productions(space);
  g->guide.rows = 1;
  g->log_q = nsr_mallocarray(p, sizeof *g->log_q);
  if (g->log_q == NULL) return nsr_fail(err, NSR_ERR_NOMEM, "out of memory");
  for (size_t i = 0; i < p; i++) g->log_q[i] = nsr_space_production_log_weight(space, i);
  return NSR_OK;
}

/* Loads the guide at g->path for `space` and runs it on x[0..n). */
static nsr_code condition(guide_cli *g, const nsr_space *space, const uint32_t *x, size_t n, nsr_error *err) {
  if (n > NSR_DATASET_MAX_EXAMPLES) {
    return nsr_fail(err, NSR_ERR_INVALID, "%zu examples: a guide reads at most %d (use --guide %s)", n,
                    NSR_DATASET_MAX_EXAMPLES, GUIDE_CLI_NONE);
  }
  g->guide.rows = nsr_space_guide_contexts(space);
  g->log_q = nsr_mallocarray(g->guide.rows * nsr_space_productions(space), sizeof *g->log_q);
  if (g->log_q == NULL) return nsr_fail(err, NSR_ERR_NOMEM, "out of memory");
  /* One query is a few small matrix products: more BLAS threads only add
   * hand-offs. */
  openblas_set_num_threads(1);
  nsr_guide *net = NULL;
  nsr_code rc = nsr_guide_load(g->path, space, 1, &net, err);
  if (rc == NSR_ERR_IO) err->code = rc = NSR_ERR_INVALID; /* an unreadable input file is a usage error */
  if (rc == NSR_OK) rc = nsr_guide_condition(net, x, n, g->log_q, err);
  if (rc != NSR_OK) nsr_error_prefix(err, "--guide: ");
  if (net) nsr_guide_free(net);
  return rc;
}

nsr_code guide_cli_open(guide_cli *g, const char *given, const char *space_path, const nsr_space *space,
                        const uint32_t *x, size_t n, bool prior_when_none, nsr_error *err) {
  memset(g, 0, sizeof *g);
  if (given == NULL) {
    g->from_default = space_path && nsr_guide_default_path(space_path, g->buf, sizeof g->buf);
    g->path = g->from_default ? g->buf : NULL;
  } else if (strcmp(given, GUIDE_CLI_NONE) != 0) {
    g->path = given;
  }
  uint64_t start = nsr_now_ns();
  nsr_code rc = NSR_OK;
  if (g->path) rc = condition(g, space, x, n, err);
  else if (prior_when_none) rc = prior_as_guide(g, space, err);
  g->seconds = nsr_seconds_since(start);
  g->guide.log_q = g->log_q;
  return rc;
}

void guide_cli_close(guide_cli *g) {
  nsr_free(g->log_q);
  g->log_q = NULL;
}

const char *guide_cli_label(const guide_cli *g) {
  return g->path ? g->path : "none (the grammar's prior)";
}
