/* tools_cli.c: the options of the tool commands. */
#include "tools_cli.h"

#include <string.h>

#include "cli.h"

#define STR_(x) #x
#define STR(x) STR_(x)

const char tools_cli_help[] =
    "  --tools MANIFEST   also serve the C functions a JSON manifest names, through\n"
    "                     libffi (repeatable, up to " STR(TOOLS_MAX_MANIFESTS) "; format in README.md)\n"
    "  --db PATH          the rule store for query_rules and rules://{id} resources\n"
    "                     (default nsr.db; create it with 'nsr store init')\n"
    "  --max-steps N      run_program: evaluation steps per call (default 100000000)\n"
    "  --max-memory BYTES run_program: heap per call, K/M/G suffixes (default 256M)\n"
    "  --max-time SECONDS run_program: wall time per call (default 10)\n"
    "  --foreign LIB:FUNC let run_program's programs bind C function FUNC of library\n"
    "                     LIB with (foreign \"LIB\" \"FUNC\" RET '(PARAMS)) (repeatable,\n"
    "                     up to " STR(LANG_FOREIGN_MAX) "; none by default)\n"
    "  --weights FILE     a proposal model (nsr train): serves propose_hypotheses\n";

/* A byte count: digits with an optional K, M or G (powers of 1024). */
static nsr_code parse_bytes(const char *v, size_t *out, nsr_error *err) {
  static const char units[] = "KMG";
  size_t len = strlen(v);
  const char *unit = len > 1 ? strchr(units, v[len - 1] & ~0x20) : NULL;
  char digits[32];
  if (len >= sizeof digits) return nsr_fail(err, NSR_ERR_INVALID, "--max-memory: '%s' is too long", v);
  memcpy(digits, v, len + 1);
  if (unit) digits[len - 1] = '\0';
  unsigned shift = unit ? 10u * (unsigned)(unit - units + 1) : 0;
  uint64_t n;
  nsr_code rc = cli_parse_u64(digits, "--max-memory", 1, (SIZE_MAX >> shift), &n, err);
  if (rc == NSR_OK) *out = (size_t)n << shift;
  return rc;
}

/* The run_program options; true when argv[*i] was one. */
static bool program_option(int argc, char **argv, int *i, tools_options *opt, nsr_code *rc,
                           nsr_error *err) {
  static const char *const names[] = {"--max-steps", "--max-memory", "--max-time", "--foreign"};
  const char *v = NULL;
  size_t k = 0;
  while (k < 4 && !cli_option(argc, argv, i, names[k], &v)) k++;
  if (k == 4) return false;
  if (v == NULL) {
    *rc = nsr_fail(err, NSR_ERR_INVALID, "option '%s' needs a value", names[k]);
  } else if (k == 0) {
    *rc = cli_parse_u64(v, names[k], 1, UINT64_MAX, &opt->max_steps, err);
  } else if (k == 1) {
    *rc = parse_bytes(v, &opt->max_memory, err);
  } else if (k == 2) {
    *rc = cli_parse_double(v, names[k], &opt->timeout_seconds, err);
    if (*rc == NSR_OK && !(opt->timeout_seconds > 0 && opt->timeout_seconds <= 86400)) {
      *rc = nsr_fail(err, NSR_ERR_RANGE, "--max-time: %s is outside (0, 86400] seconds", v);
    }
  } else if (opt->n_foreign == LANG_FOREIGN_MAX) {
    *rc = nsr_fail(err, NSR_ERR_INVALID, "--foreign: at most %d entries", LANG_FOREIGN_MAX);
  } else {
    opt->foreign[opt->n_foreign++] = v;
    *rc = NSR_OK;
  }
  return true;
}

bool tools_cli_option(int argc, char **argv, int *i, tools_options *opt, nsr_code *rc,
                      nsr_error *err) {
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
  if (cli_option(argc, argv, i, "--db", &v)) {
    *rc = v && *v ? NSR_OK : nsr_fail(err, NSR_ERR_INVALID, "option '--db' needs a path");
    opt->db = v;
    return true;
  }
  if (cli_option(argc, argv, i, "--weights", &v)) {
    *rc = v && *v ? NSR_OK : nsr_fail(err, NSR_ERR_INVALID, "option '--weights' needs a path");
    opt->weights = v;
    return true;
  }
  return program_option(argc, argv, i, opt, rc, err);
}
