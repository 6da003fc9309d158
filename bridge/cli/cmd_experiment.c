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
#define INJECTION "experiment injection"

static const char injection_description[] =
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
    "exact MAP and KL(exact || network). Prints mean ± sd per point (the mean alone\n"
    "with one seed) and, for each variant, the fewest sets with which it reaches\n"
    "the baseline's accuracy at the largest budget. Every run's metrics go to the\n"
    "rule store's experiments and metrics tables.\n";

static const char subcommands[] =
    "  injection   the data efficiency of knowledge injection (see\n"
    "              'nsr experiment injection --help')\n";

/* The summary table: top-1 recall per variant and budget. */
static void print_summary(const nsr_experiment_config *cfg, const nsr_experiment_result *r) {
  char points[64];
  printf("held-out top-1 recall of the exact MAP (%s)\n",
         nsr_experiment_points_text(cfg->seeds, points, sizeof points));
  printf("%-25s", "variant \\ sets");
  for (size_t b = 0; b < cfg->n_budgets; b++) printf(" %15llu", (unsigned long long)cfg->budgets[b]);
  printf("   reaches baseline final at\n");
  double target = r->top1[0][cfg->n_budgets - 1].mean;
  for (size_t v = 0; v < nsr_variant_count; v++) {
    printf("%-25s", nsr_variants[v].name);
    for (size_t b = 0; b < cfg->n_budgets; b++) {
      /* One seed has no spread to show. */
      if (cfg->seeds == 1) printf(" %15.3f", r->top1[v][b].mean);
      else printf("   %.3f ± %.3f", r->top1[v][b].mean, r->top1[v][b].sd);
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

/* The budgets 16, 64, ... up to max (each 4 times the last). */
static void set_budgets(nsr_experiment_config *cfg, uint64_t max) {
  cfg->n_budgets = 0;
  for (uint64_t k = 16; k <= max && cfg->n_budgets < NSR_EXPERIMENT_MAX_BUDGETS; k *= 4) {
    cfg->budgets[cfg->n_budgets++] = k;
  }
}

/* Parses `nsr experiment injection`'s command line into cfg, *db and *plot.
 * --quick picks the quick defaults; options given override them. Returns
 * CLI_CONTINUE or the exit status. */
static int parse_injection(int argc, char **argv, nsr_experiment_config *cfg, const char **db,
                           const char **plot) {
  nsr_experiment_config full;
  nsr_experiment_config_default(&full, false);
  uint64_t seeds = full.seeds, steps = (uint64_t)full.train.steps,
           max_budget = full.budgets[full.n_budgets - 1];
  bool quick = false, seeds_given = false, steps_given = false, budget_given = false;
  const cli_opt opts[] = {
      CLI_OPTION("--db", CLI_STRING, db, "PATH", "the rule store for the experiments/metrics rows",
                 .env = CLI_ENV_DB),
      CLI_OPTION("--plot", CLI_STRING, plot, "FILE", "SVG of the curves"),
      CLI_OPTION("--seeds", CLI_U64, &seeds, "S", "seeds per point", .min = 1,
                 .max = NSR_EXPERIMENT_MAX_SEEDS, .given = &seeds_given),
      CLI_OPTION("--steps", CLI_U64, &steps, "S", "training steps per run", .min = 1, .max = 1000000,
                 .given = &steps_given),
      CLI_OPTION("--max-budget", CLI_U64, &max_budget, "K",
                 "the largest budget: 16, 64, .. up to K", .min = 16, .max = 1u << 20,
                 .given = &budget_given),
      CLI_FLAG_OPTION("--quick", &quick,
                      "budgets 16 and 64, 1 seed, 30 steps, 50 held-out sets (tests);\n"
                      "the options above still apply"),
  };
  const cli_spec spec = {.name = INJECTION, .description = injection_description, .opts = opts,
                         .n_opts = sizeof opts / sizeof opts[0],
                         .epilog = "Example: nsr experiment injection --seeds 5 --plot injection.svg\n"};
  cli_args args;
  int status = cli_parse(&spec, argc, argv, &args);
  if (status != CLI_CONTINUE) return status;
  nsr_experiment_config_default(cfg, quick);
  if (seeds_given) cfg->seeds = (size_t)seeds;
  if (steps_given) cfg->train.steps = (int64_t)steps;
  if (budget_given) set_budgets(cfg, max_budget);
  return CLI_CONTINUE;
}

static int run_injection(int argc, char **argv) {
  nsr_experiment_config cfg;
  const char *db = CLI_DEFAULT_DB, *plot = "injection.svg";
  int status = parse_injection(argc, argv, &cfg, &db, &plot);
  if (status != CLI_CONTINUE) return status;
  cfg.progress = true;
  nsr_experiment_result r;
  int64_t id = 0;
  char *svg = NULL;
  nsr_error err = {0};
  if (nsr_experiment_injection(&cfg, db, &r, &id, &err) != NSR_OK ||
      nsr_experiment_svg(&cfg, &r, &svg, &err) != NSR_OK ||
      nsr_write_file_atomic(plot, svg, strlen(svg), &err) != NSR_OK) {
    nsr_free(svg);
    return cli_report(INJECTION, &err);
  }
  nsr_free(svg);
  print_summary(&cfg, &r);
  printf("experiment %lld in %s (SELECT * FROM metrics WHERE experiment_id = %lld); plot %s\n",
         (long long)id, db, (long long)id, plot);
  return cli_finish(INJECTION, CLI_EXIT_OK);
}

int cmd_experiment(int argc, char **argv) {
  static const cli_subcommand subs[] = {{"injection", run_injection}};
  const cli_spec spec = {.name = CMD, .description = "Experiments that measure nsr and record "
                                                     "their results in the rule store.\n",
                         .subcommands = subcommands};
  return cli_run_subcommand(&spec, subs, sizeof subs / sizeof subs[0], argc, argv);
}
