/* cmd_experiment.c: `nsr experiment injection`, the data efficiency of
 * knowledge injection, into the rule store and an SVG plot. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "nsr_learn.h"
#include "fileio.h"
#include "nsr_store.h"

#define CMD "experiment"

static const char help_text[] =
    "Usage: nsr experiment injection [OPTIONS]\n"
    "\n"
    "Trains a small proposal network (d 48, 1 layer, 400 steps of 32) on K fixed\n"
    "example sets for K = 16, 64, 256, 1024 and seeds 1..5, once per variant:\n"
    "  hard                  hard MAP labels, no injection (the baseline)\n"
    "  distill               the exact posterior as soft targets\n"
    "  constraint            hard labels + the semantic loss on inconsistent mass\n"
    "  constraint-shuffled   the same with the rules' members permuted (control)\n"
    "  constraint-size       the constraint weighted by the size principle, |h|^-n\n"
    "  constraint-size-shuffled  its control\n"
    "  kbann                 hard labels after writing rule detectors into the\n"
    "                        embeddings, FFN units and head\n"
    "  kbann-shuffled        the same detectors for permuted numbers (control)\n"
    "  kbann-distill         the KBANN weights trained on the exact posterior\n"
    "  kbann-distill-shuffled  its control\n"
    "  sinusoidal            the baseline with sinusoidal positions (architecture)\n"
    "and scores each on the same held-out sets: top-1 and top-10 recall of the\n"
    "exact MAP and KL(exact || network). Prints mean ± sd per point and, for each\n"
    "variant, the fewest sets with which it reaches the baseline's accuracy at\n"
    "the largest budget.\n"
    "\n"
    "Options:\n"
    "  --db PATH      rule store for the experiments/metrics rows (default nsr.db)\n"
    "  --plot FILE    SVG of the curves (default injection.svg)\n"
    "  --seeds S      seeds per point, 1..32 (default 5)\n"
    "  --steps S      training steps per run (default 400)\n"
    "  --max-budget K the largest budget: 16, 64, .. up to K (default 1024)\n"
    "  --quick        budgets 16 and 64, 1 seed, 30 steps, 50 held-out sets (tests)\n"
    "  -h, --help     show this help\n";

static void print_summary(const nsr_experiment_config *cfg, const nsr_experiment_result *r) {
  printf("%-25s", "variant \\ sets");
  for (size_t b = 0; b < cfg->n_budgets; b++) printf(" %15llu", (unsigned long long)cfg->budgets[b]);
  printf("   reaches baseline final at\n");
  double target = r->top1[0][cfg->n_budgets - 1].mean;
  for (size_t v = 0; v < nsr_variant_count; v++) {
    printf("%-25s", nsr_variants[v].name);
    for (size_t b = 0; b < cfg->n_budgets; b++) {
      printf("   %.3f ± %.3f", r->top1[v][b].mean, r->top1[v][b].sd);
    }
    size_t b = 0;
    while (b < cfg->n_budgets && r->top1[v][b].mean < target) b++;
    if (b < cfg->n_budgets) {
      printf("   %llu sets (%.0fx fewer)\n", (unsigned long long)cfg->budgets[b],
             (double)cfg->budgets[cfg->n_budgets - 1] / (double)cfg->budgets[b]);
    } else {
      printf("   not within the budgets\n");
    }
  }
  printf("baseline final top-1 %.3f; %.1f s\n", target, r->seconds);
}

int cmd_experiment(int argc, char **argv) {
  if (argc < 2 || cli_is_help(argv[1])) {
    fputs(help_text, argc < 2 ? stderr : stdout);
    return argc < 2 ? CLI_EXIT_USAGE : CLI_EXIT_OK;
  }
  if (strcmp(argv[1], "injection") != 0) return cli_usage_error(CMD, "unknown experiment '%s'", argv[1]);
  bool quick = false;
  for (int i = 2; i < argc; i++) quick = quick || strcmp(argv[i], "--quick") == 0;
  nsr_experiment_config cfg;
  nsr_experiment_config_default(&cfg, quick);
  const char *db = NSR_STORE_DEFAULT_PATH, *plot = "injection.svg";
  nsr_error err = {0};
  for (int i = 2; i < argc; i++) {
    const char *v;
    uint64_t u;
    if (cli_is_help(argv[i])) {
      fputs(help_text, stdout);
      return CLI_EXIT_OK;
    } else if (strcmp(argv[i], "--quick") == 0) {
      continue;
    } else if (cli_option(argc, argv, &i, "--db", &v)) {
      if (v == NULL || *v == '\0') return cli_usage_error(CMD, "--db needs a file");
      db = v;
    } else if (cli_option(argc, argv, &i, "--plot", &v)) {
      if (v == NULL || *v == '\0') return cli_usage_error(CMD, "--plot needs a file");
      plot = v;
    } else if (cli_option(argc, argv, &i, "--seeds", &v)) {
      if (v == NULL || cli_parse_u64(v, "--seeds", 1, NSR_EXPERIMENT_MAX_SEEDS, &u, &err) != NSR_OK) {
        return cli_usage_error(CMD, "%s", v ? err.message : "--seeds needs a value");
      }
      cfg.seeds = (size_t)u;
    } else if (cli_option(argc, argv, &i, "--steps", &v)) {
      if (v == NULL || cli_parse_u64(v, "--steps", 1, 1000000, &u, &err) != NSR_OK) {
        return cli_usage_error(CMD, "%s", v ? err.message : "--steps needs a value");
      }
      cfg.train.steps = (int64_t)u;
    } else if (cli_option(argc, argv, &i, "--max-budget", &v)) {
      if (v == NULL || cli_parse_u64(v, "--max-budget", 16, 1u << 20, &u, &err) != NSR_OK) {
        return cli_usage_error(CMD, "%s", v ? err.message : "--max-budget needs a value");
      }
      cfg.n_budgets = 0;
      for (uint64_t k = 16; k <= u && cfg.n_budgets < NSR_EXPERIMENT_MAX_BUDGETS; k *= 4) cfg.budgets[cfg.n_budgets++] = k;
    } else {
      return cli_usage_error(CMD, "unexpected argument '%s'", argv[i]);
    }
  }
  cfg.progress = true;
  nsr_experiment_result r;
  int64_t id = 0;
  char *svg = NULL;
  if (nsr_experiment_injection(&cfg, db, &r, &id, &err) != NSR_OK ||
      nsr_experiment_svg(&cfg, &r, &svg, &err) != NSR_OK ||
      nsr_write_file_atomic(plot, svg, strlen(svg), &err) != NSR_OK) {
    nsr_free(svg);
    return cli_report(CMD, &err);
  }
  nsr_free(svg);
  print_summary(&cfg, &r);
  printf("experiment %lld in %s (SELECT * FROM metrics WHERE experiment_id = %lld); plot %s\n",
         (long long)id, db, (long long)id, plot);
  return CLI_EXIT_OK;
}
