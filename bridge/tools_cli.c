/* tools_cli.c: --tools, --db and --weights for the tool commands. */
#include "tools_cli.h"

#include "cli.h"

const char tools_cli_help[] =
    "  --tools MANIFEST   also serve the C functions a JSON manifest names, through\n"
    "                     libffi (repeatable, up to 16; format in README.md)\n"
    "  --db PATH          the rule store for query_rules (not in this build yet)\n"
    "  --weights FILE     network weights for propose_hypotheses (not in this build yet)\n";

bool tools_cli_option(int argc, char **argv, int *i, tools_options *opt, nsr_code *rc,
                      nsr_error *err) {
  static const char *const later[][2] = {
      {"--db", "query_rules and its rule store"},
      {"--weights", "propose_hypotheses and its network"},
  };
  const char *v;
  if (cli_option(argc, argv, i, "--tools", &v)) {
    if (v == NULL) *rc = nsr_fail(err, NSR_ERR_INVALID, "option '--tools' needs a value");
    else if (opt->n_manifests == TOOLS_MAX_MANIFESTS) {
      *rc = nsr_fail(err, NSR_ERR_INVALID, "--tools: at most %d manifests", TOOLS_MAX_MANIFESTS);
    } else {
      opt->manifests[opt->n_manifests++] = v;
      *rc = NSR_OK;
    }
    return true;
  }
  for (size_t k = 0; k < sizeof later / sizeof later[0]; k++) {
    if (!cli_option(argc, argv, i, later[k][0], &v)) continue;
    *rc = nsr_fail(err, NSR_ERR_INVALID, "%s: %s are not part of this build yet", later[k][0],
                   later[k][1]);
    return true;
  }
  return false;
}
