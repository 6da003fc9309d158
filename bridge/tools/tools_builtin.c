/* tools_builtin.c: the registry nsr's commands serve. */
#include "nsr_tools.h"

#include "ffi_tools.h"
#include "nsr_store.h"
#include "tools_numbers.h"
#include "tools_program.h"
#include "tools_propose.h"
#include "tools_spaces.h"

const char *tools_db_path(const tools_options *opt) {
  return opt->db ? opt->db : NSR_STORE_DEFAULT_PATH;
}

nsr_code tools_registry_build(const tools_options *opt, tools_registry **out, nsr_error *err) {
  tools_registry *reg = NULL;
  tools_spaces *spaces = NULL;
  nsr_code rc = tools_spaces_open(opt->spaces_dir, &spaces, err);
  if (rc == NSR_OK) rc = tools_registry_new(&reg, err);
  if (rc == NSR_OK) rc = tools_add_number_game(reg, spaces, err);
  if (rc == NSR_OK) rc = tools_add_list_concepts(reg, err);
  if (rc == NSR_OK) rc = tools_add_run_program(reg, opt, err);
  if (rc == NSR_OK) rc = tools_add_query_rules(reg, tools_db_path(opt), err);
  if (rc == NSR_OK && opt->weights) rc = tools_add_propose_hypotheses(reg, opt->weights, spaces, err);
  for (size_t i = 0; rc == NSR_OK && i < opt->n_manifests; i++) {
    rc = ffi_tools_load(reg, opt->manifests[i], err);
  }
  tools_spaces_release(spaces); /* the tools hold their own references */
  if (rc != NSR_OK) {
    tools_registry_free(reg);
    return rc;
  }
  *out = reg;
  return NSR_OK;
}
