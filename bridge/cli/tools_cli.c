/* tools_cli.c: the options of the tool commands. */
#include "tools_cli.h"

#include <string.h>

void tools_cli_init(tools_cli *c) {
  *c = (tools_cli){.opt = {.db = CLI_DEFAULT_DB,
                           .weights = cli_default_model(),
                           .spaces_dir = cli_shipped_spaces(),
                           .max_steps = TOOLS_DEFAULT_MAX_STEPS,
                           .max_memory = TOOLS_DEFAULT_MAX_MEMORY,
                           .timeout_seconds = TOOLS_DEFAULT_TIMEOUT}};
}

const tools_options *tools_cli_options(tools_cli *c) {
  /* The rows' .max keeps each list within its array. */
  memcpy(c->opt.manifests, c->manifests.items, c->manifests.n * sizeof *c->manifests.items);
  c->opt.n_manifests = c->manifests.n;
  memcpy(c->opt.foreign, c->foreign.items, c->foreign.n * sizeof *c->foreign.items);
  c->opt.n_foreign = c->foreign.n;
  return &c->opt;
}
