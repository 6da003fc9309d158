/* cmd_tools.c: `nsr tools`, the tool list and its schemas for other loops. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "json.h"
#include "tools_cli.h"

#define CMD "tools"

static const char description[] =
    "Lists the tools `nsr mcp` and `nsr agent` serve (with the same options).\n"
    "--format text prints one line per tool: its name and arguments (optional ones\n"
    "marked ?), then its description. --format mcp prints the tools/list result\n"
    "{\"tools\":[{name, description, inputSchema, outputSchema}]}; --format openai\n"
    "prints the \"tools\" array of a chat-completions request\n"
    "[{\"type\":\"function\",\"function\":{name, description, parameters}}].\n";

static const char *const formats[] = {"text", "mcp", "openai", NULL};

/* One line per tool: its name and its arguments, required ones first. */
static void print_text(const json_t *list) {
  size_t i;
  const json_t *t;
  json_array_foreach(list, i, t) {
    printf("%s(", json_string_value(json_object_get(t, "name")));
    const json_t *schema = json_object_get(t, "inputSchema");
    const json_t *required = json_object_get(schema, "required");
    const char *key;
    const json_t *prop;
    int n = 0;
    json_object_foreach(json_object_get(schema, "properties"), key, prop) {
      bool req = false;
      for (size_t k = 0; k < json_array_size(required); k++) {
        if (strcmp(json_string_value(json_array_get(required, k)), key) == 0) req = true;
      }
      printf("%s%s%s", n++ ? ", " : "", key, req ? "" : "?");
    }
    printf(")\n    %s\n", json_string_value(json_object_get(t, "description")));
  }
}

/* Prints reg's tools in `format` (one of formats). */
static nsr_code print_tools(const tools_registry *reg, const char *format, nsr_error *err) {
  bool openai = strcmp(format, "openai") == 0;
  json_t *list = NULL, *doc = NULL;
  nsr_code rc = openai ? tools_list_openai_json(reg, &list, err) : tools_list_json(reg, &list, err);
  if (rc != NSR_OK) return rc;
  if (strcmp(format, "text") == 0) {
    print_text(list);
  } else {
    doc = openai ? json_incref(list) : json_pack("{s:O}", "tools", list);
    char *text = doc ? nsr_json_dump_indent(doc, 2) : NULL;
    if (text == NULL) rc = nsr_fail(err, NSR_ERR_NOMEM, "JSON output: out of memory");
    else puts(text);
    nsr_free(text);
  }
  json_decref(doc);
  json_decref(list);
  return rc;
}

int cmd_tools(int argc, char **argv) {
  tools_cli tc;
  tools_cli_init(&tc);
  const char *format = formats[0];
  bool format_given = false, json = false;
  const cli_opt opts[] = {
      CLI_OPTION("--format", CLI_CHOICE, &format, NULL, "how to print the tools", .choices = formats,
                 .given = &format_given),
      CLI_FLAG_OPTION("--json", &json, "the same as --format mcp"),
      TOOLS_CLI_OPTIONS(&tc),
  };
  const cli_spec spec = {.name = CMD, .description = description, .opts = opts,
                         .n_opts = sizeof opts / sizeof opts[0],
                         .epilog = "Example: nsr tools --format openai > tools.json\n"};
  cli_args args;
  int status = cli_parse(&spec, argc, argv, &args);
  if (status != CLI_CONTINUE) return status;
  if (json && format_given && strcmp(format, "mcp") != 0) {
    return cli_usage_error(CMD, "--json is --format mcp, not --format %s", format);
  }
  if (json) format = "mcp";
  nsr_error err = {0};
  tools_registry *reg = NULL;
  nsr_code rc = tools_registry_build(tools_cli_options(&tc), &reg, &err);
  if (rc == NSR_OK) rc = print_tools(reg, format, &err);
  tools_registry_free(reg);
  return rc == NSR_OK ? cli_finish(CMD, CLI_EXIT_OK) : cli_report(CMD, &err);
}
