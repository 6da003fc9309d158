/* tools_rules.h: the rule store for LLM clients: the `query_rules` tool and
 * the rules://{id} resources. Both read through nsr_store_query (a
 * read-only connection with an authorizer, one statement, a row cap and a
 * time limit), so neither can change the store. */
#ifndef NSR_TOOLS_RULES_H
#define NSR_TOOLS_RULES_H

#include "mcp_server.h"
#include "tools_registry.h"

#define TOOLS_RULES_DEFAULT_LIMIT 100
#define TOOLS_RULES_MAX_LIMIT 1000
#define TOOLS_RULES_TIMEOUT_MS 2000
/* Rules per resources/list page. */
#define TOOLS_RULES_PAGE 100

/* Registers query_rules on the store at db_path. The tool is listed even
 * when no store exists there yet: a call then fails with a message saying
 * how to create one, which the model can pass on to its user. */
nsr_code tools_add_query_rules(tools_registry *reg, const char *db_path, nsr_error *err);

/* The rules://{id} resources of the store at db_path (borrowed: it must
 * outlive the server). Without a store the list is empty and every read
 * is "not found". */
mcp_resources tools_rules_resources(const char *db_path);

#endif
