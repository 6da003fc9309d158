/* tools_spaces.h: the shipped hypothesis spaces that number_game and
 * propose_hypotheses take by name ("space": "large"), each built at most
 * once per process and shared by both tools. */
#ifndef NSR_TOOLS_SPACES_H
#define NSR_TOOLS_SPACES_H

#include <jansson.h>

#include "nsr_report.h"
#include "nsr_tools.h"

/* Names longer than this, or with characters outside [A-Za-z0-9_-], are not
 * offered (a name is never a path). */
#define TOOLS_SPACE_NAME_MAX 64
/* At most this many files of the folder are offered. */
#define TOOLS_SPACES_MAX 64

typedef struct tools_spaces tools_spaces;

/* Lists the folder `dir`: every FILE.json whose stem is a valid name is
 * offered as NAME, sorted; other entries (README.md, "a b.json", more than
 * TOOLS_SPACES_MAX) are ignored. dir NULL offers nothing. A folder that
 * cannot be read is NSR_ERR_IO naming it. Nothing is built yet. One
 * reference, dropped with tools_spaces_release. */
nsr_code tools_spaces_open(const char *dir, tools_spaces **out, nsr_error *err);
/* Another reference (each tool holding the set keeps one); returns s. */
tools_spaces *tools_spaces_retain(tools_spaces *s);
/* Drops a reference; the last one frees every built space. NULL allowed. */
void tools_spaces_release(tools_spaces *s);

size_t tools_spaces_count(const tools_spaces *s);

/* Adds the property "space" (a string, enum of the offered names, with
 * `description`) to the object schema `input`. Nothing when none is
 * offered, so that "space" is then an unknown property. */
nsr_code tools_spaces_add_property(const tools_spaces *s, json_t *input, const char *description,
                                   nsr_error *err);

/* Registers a tool whose schemas are literals (as tools_register_literal)
 * after adding "space" to its input (tools_spaces_add_property). def's
 * context passes to the registry in every case. */
nsr_code tools_spaces_register(tools_registry *reg, const tools_spaces *s, tool_def *def,
                               const char *input_schema, const char *output_schema,
                               const char *space_description, nsr_error *err);

/* The index of the offered name, or -1. The input schema's enum has
 * refused other names already; this is the second lock on the door. */
int tools_spaces_find(const tools_spaces *s, const char *name);
/* The file of space i ("lot_mag.json": no folder, for reports) and its full
 * path (to find its shipped guide). */
const char *tools_spaces_file(const tools_spaces *s, size_t i);
const char *tools_spaces_path(const tools_spaces *s, size_t i);

/* The model of space i, built on first use and kept: a space description,
 * or a prior file (a JSON object with "format", as `nsr numbers fit`
 * writes) with its fitted parameters. The model belongs to s. A file that
 * does not build is an error naming it, tried again at the next call. */
nsr_code tools_spaces_model(tools_spaces *s, size_t i, nsr_numbers_model **out, nsr_error *err);

/* How many spaces were built so far (tests: a second call builds nothing). */
unsigned tools_spaces_builds(const tools_spaces *s);

#endif
