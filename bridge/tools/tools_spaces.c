/* tools_spaces.c: the shipped spaces offered to the tools by name, built
 * lazily and cached (large.json takes seconds and hundreds of MB to build,
 * so a server builds each at most once). */
#include "tools_spaces.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fileio.h"
#include "json.h"
#include "strbuf.h"
#include "tools_schema.h"

/* Space and prior files are small; this bounds the read of one. */
#define SPACE_FILE_MAX_BYTES (1u << 20)

typedef struct space_entry {
  char name[TOOLS_SPACE_NAME_MAX + 1];
  char file[TOOLS_SPACE_NAME_MAX + sizeof ".json"];
  char *path;
  nsr_numbers_model model;
  bool built;
} space_entry;

struct tools_spaces {
  space_entry *entries;
  size_t n;
  unsigned builds;
  int refs;
};

/* The name a directory entry offers, written into name: the stem of
 * STEM.json when it is 1..TOOLS_SPACE_NAME_MAX of [A-Za-z0-9_-]. */
static bool offered_name(const char *entry, char name[TOOLS_SPACE_NAME_MAX + 1]) {
  size_t len = strlen(entry);
  if (len <= 5 || strcmp(entry + len - 5, ".json") != 0) return false;
  size_t stem = len - 5;
  if (stem > TOOLS_SPACE_NAME_MAX) return false;
  for (size_t i = 0; i < stem; i++) {
    char c = entry[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-';
    if (!ok) return false;
  }
  memcpy(name, entry, stem);
  name[stem] = '\0';
  return true;
}

static int by_name(const void *a, const void *b) {
  return strcmp(((const space_entry *)a)->name, ((const space_entry *)b)->name);
}

/* Adds the entry NAME of dir/NAME.json to s (room for it is there). */
static nsr_code add_entry(tools_spaces *s, const char *dir, const char *name, nsr_error *err) {
  space_entry *e = &s->entries[s->n];
  memset(e, 0, sizeof *e);
  snprintf(e->name, sizeof e->name, "%s", name);
  snprintf(e->file, sizeof e->file, "%s.json", name);
  nsr_strbuf path = {0};
  nsr_strbuf_printf(&path, "%s/%s", dir, e->file);
  nsr_code rc = nsr_strbuf_finish(&path, &e->path, NULL, err);
  if (rc == NSR_OK) s->n++;
  return rc;
}

static nsr_code list_folder(tools_spaces *s, const char *dir, nsr_error *err) {
  DIR *d = opendir(dir);
  if (d == NULL) {
    return nsr_fail(err, NSR_ERR_IO, "the shipped spaces' folder '%s' cannot be read: %s", dir,
                    strerror(errno));
  }
  nsr_code rc = NSR_OK;
  const struct dirent *ent;
  char name[TOOLS_SPACE_NAME_MAX + 1];
  while (rc == NSR_OK && s->n < TOOLS_SPACES_MAX && (ent = readdir(d)) != NULL) {
    if (offered_name(ent->d_name, name)) rc = add_entry(s, dir, name, err);
  }
  closedir(d);
  qsort(s->entries, s->n, sizeof *s->entries, by_name);
  return rc;
}

nsr_code tools_spaces_open(const char *dir, tools_spaces **out, nsr_error *err) {
  *out = NULL;
  tools_spaces *s = nsr_calloc(1, sizeof *s);
  if (s) s->entries = nsr_calloc(TOOLS_SPACES_MAX, sizeof *s->entries);
  if (s == NULL || s->entries == NULL) {
    nsr_free(s);
    return nsr_fail(err, NSR_ERR_NOMEM, "shipped spaces: out of memory");
  }
  s->refs = 1;
  nsr_code rc = dir ? list_folder(s, dir, err) : NSR_OK;
  if (rc != NSR_OK) {
    tools_spaces_release(s);
    return rc;
  }
  *out = s;
  return NSR_OK;
}

tools_spaces *tools_spaces_retain(tools_spaces *s) {
  s->refs++;
  return s;
}

void tools_spaces_release(tools_spaces *s) {
  if (s == NULL || --s->refs > 0) return;
  for (size_t i = 0; i < s->n; i++) {
    nsr_numbers_model_close(&s->entries[i].model);
    nsr_free(s->entries[i].path);
  }
  nsr_free(s->entries);
  nsr_free(s);
}

size_t tools_spaces_count(const tools_spaces *s) { return s->n; }

nsr_code tools_spaces_add_property(const tools_spaces *s, json_t *input, const char *description,
                                   nsr_error *err) {
  if (s->n == 0) return NSR_OK;
  json_t *names = json_array();
  for (size_t i = 0; names && i < s->n; i++) {
    if (json_array_append_new(names, json_string(s->entries[i].name)) != 0) {
      json_decref(names);
      names = NULL;
    }
  }
  json_t *prop = names ? json_pack("{s:s, s:o, s:s}", "type", "string", "enum", names,
                                   "description", description)
                       : NULL;
  return nsr_json_set(json_object_get(input, "properties"), "space", prop, err);
}

nsr_code tools_spaces_register(tools_registry *reg, const tools_spaces *s, tool_def *def,
                               const char *input_schema, const char *output_schema,
                               const char *space_description, nsr_error *err) {
  def->input_schema = def->output_schema = NULL;
  nsr_code rc = tools_schema_parse(input_schema, &def->input_schema, err);
  if (rc == NSR_OK) rc = tools_schema_parse(output_schema, &def->output_schema, err);
  if (rc == NSR_OK) rc = tools_spaces_add_property(s, def->input_schema, space_description, err);
  if (rc != NSR_OK) {
    tools_def_discard(def);
    return rc;
  }
  return tools_register(reg, def, err);
}

int tools_spaces_find(const tools_spaces *s, const char *name) {
  for (size_t i = 0; i < s->n; i++) {
    if (strcmp(s->entries[i].name, name) == 0) return (int)i;
  }
  return -1;
}

const char *tools_spaces_file(const tools_spaces *s, size_t i) { return s->entries[i].file; }
const char *tools_spaces_path(const tools_spaces *s, size_t i) { return s->entries[i].path; }

/* Whether the file at path is a prior file (an object with "format", as
 * `nsr numbers fit` writes) rather than a space description. Fails when the
 * file cannot be read or is not JSON. */
static nsr_code is_prior_file(const char *path, bool *prior, nsr_error *err) {
  char *text;
  size_t len;
  json_t *root = NULL;
  nsr_code rc = nsr_read_file(path, SPACE_FILE_MAX_BYTES, &text, &len, err);
  if (rc != NSR_OK) return rc;
  rc = nsr_json_parse(text, len, &root, err);
  nsr_free(text);
  *prior = json_object_get(root, "format") != NULL;
  json_decref(root);
  return rc;
}

nsr_code tools_spaces_model(tools_spaces *s, size_t i, nsr_numbers_model **out, nsr_error *err) {
  space_entry *e = &s->entries[i];
  if (!e->built) {
    nsr_numbers_config cfg;
    nsr_numbers_config_default(&cfg);
    bool prior = false;
    nsr_code rc = is_prior_file(e->path, &prior, err);
    if (rc == NSR_OK) {
      rc = nsr_numbers_model_open(&e->model, &cfg, prior ? NULL : e->path, prior ? e->path : NULL,
                                  0, err);
    }
    if (rc != NSR_OK) {
      nsr_numbers_model_close(&e->model);
      nsr_error_prefix(err, "shipped space \"%s\": ", e->name);
      return rc;
    }
    e->built = true;
    s->builds++;
  }
  *out = &e->model;
  return NSR_OK;
}

unsigned tools_spaces_builds(const tools_spaces *s) { return s->builds; }
