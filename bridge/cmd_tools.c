/* cmd_tools.c: `nsr tools`, the tool list and its schemas for other loops. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "json.h"
#include "tools_cli.h"

#define CMD "tools"

static const char help_text[] =
    "Usage: nsr tools [--format text|mcp|openai] [--tools MANIFEST]...\n"
    "\n"
    "Lists the tools `nsr mcp` and `nsr agent` serve. --format mcp prints the\n"
    "tools/list result {\"tools\":[{name, description, inputSchema, outputSchema}]};\n"
    "--format openai prints the \"tools\" array of a chat-completions request\n"
    "[{\"type\":\"function\",\"function\":{name, description, parameters}}].\n"
    "\n"
    "Options:\n"
    "  --format FORMAT    text (default: one line per tool), mcp or openai\n"
    "  --json             the same as --format mcp\n"
    "%s"
    "  -h, --help         show this help\n"
    "\n"
    "Exit status: 0 on success, 2 on bad arguments or a bad manifest.\n"
    "Example: nsr tools --format openai > tools.json\n";

enum format { FORMAT_TEXT, FORMAT_MCP, FORMAT_OPENAI };

static nsr_code parse_format(const char *v, enum format *out, nsr_error *err) {
  static const char *const names[] = {"text", "mcp", "openai"};
  for (int f = 0; f < 3; f++) {
    if (strcmp(v, names[f]) == 0) {
      *out = (enum format)f;
      return NSR_OK;
    }
  }
  return nsr_fail(err, NSR_ERR_INVALID, "--format: unknown format '%s' (text, mcp or openai)", v);
}

static nsr_code parse_args(int argc, char **argv, tools_options *opt, enum format *format,
                           nsr_error *err) {
  for (int i = 1; i < argc; i++) {
    nsr_code rc;
    const char *v;
    if (tools_cli_option(argc, argv, &i, opt, &rc, err)) {
      if (rc != NSR_OK) return rc;
    } else if (strcmp(argv[i], "--json") == 0) {
      *format = FORMAT_MCP;
    } else if (cli_option(argc, argv, &i, "--format", &v)) {
      if (v == NULL) return nsr_fail(err, NSR_ERR_INVALID, "option '--format' needs a value");
      rc = parse_format(v, format, err);
      if (rc != NSR_OK) return rc;
    } else if (argv[i][0] == '-') {
      return nsr_fail(err, NSR_ERR_INVALID, "unknown option '%s'", argv[i]);
    } else {
      return nsr_fail(err, NSR_ERR_INVALID, "unexpected argument '%s'", argv[i]);
    }
  }
  return NSR_OK;
}

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

int cmd_tools(int argc, char **argv) {
  for (int i = 1; i < argc; i++) {
    if (cli_is_help(argv[i])) {
      printf(help_text, tools_cli_help);
      return CLI_EXIT_OK;
    }
  }
  tools_options opt = {0};
  enum format format = FORMAT_TEXT;
  nsr_error err;
  nsr_error_clear(&err);
  if (parse_args(argc, argv, &opt, &format, &err) != NSR_OK) {
    return cli_usage_error(CMD, "%s", err.message);
  }
  tools_registry *reg = NULL;
  json_t *list = NULL, *doc = NULL;
  nsr_code rc = tools_registry_build(&opt, &reg, &err);
  if (rc == NSR_OK) {
    rc = format == FORMAT_OPENAI ? tools_list_openai_json(reg, &list, &err)
                                 : tools_list_json(reg, &list, &err);
  }
  if (rc == NSR_OK && format == FORMAT_TEXT) print_text(list);
  if (rc == NSR_OK && format != FORMAT_TEXT) {
    doc = format == FORMAT_MCP ? json_pack("{s:O}", "tools", list) : json_incref(list);
    char *text = doc ? nsr_json_dump_indent(doc, 2) : NULL;
    if (text == NULL) rc = nsr_fail(&err, NSR_ERR_NOMEM, "JSON output: out of memory");
    else puts(text);
    free(text);
  }
  if (rc == NSR_OK && (fflush(stdout) != 0 || ferror(stdout))) {
    rc = nsr_fail(&err, NSR_ERR_IO, "writing the output failed");
  }
  json_decref(doc);
  json_decref(list);
  tools_registry_free(reg);
  return rc == NSR_OK ? CLI_EXIT_OK : cli_report(CMD, &err);
}
