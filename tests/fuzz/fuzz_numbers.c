/* fuzz_numbers.c: libFuzzer harness for `nsr numbers`: argument parsing and
 * --batch lines, through cmd_numbers itself. The first input line is split
 * at spaces into arguments; the remaining lines, if any, become a batch
 * file. Arguments that would write files (--plot), name another batch file
 * (--batch) or switch to the eval/fit/mh subcommands (which read data sets,
 * run long fits or sample for as long as --samples says) are dropped, and at most MAX_BATCH_LINES lines are kept so
 * that one input stays fast even at the largest --max. Run with
 * -close_fd_mask=3: the command prints to stdout and stderr. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "nsr_core.h"

#define MAX_ARGS 32
#define MAX_BATCH_LINES 8

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char batch_path[64];

/* True when an argument must not reach the command (see above); *skip_next
 * says whether its value goes too. */
static bool dropped(const char *arg, int index, bool *skip_next) {
  *skip_next = strcmp(arg, "--plot") == 0 || strcmp(arg, "--batch") == 0;
  if (*skip_next || strncmp(arg, "--plot=", 7) == 0 || strncmp(arg, "--batch=", 8) == 0) return true;
  return index == 1 && (strcmp(arg, "eval") == 0 || strcmp(arg, "fit") == 0 || strcmp(arg, "mh") == 0);
}

/* Writes at most MAX_BATCH_LINES lines of text[0..len) to the batch file. */
static void write_batch(const char *text, size_t len) {
  FILE *f = fopen(batch_path, "w");
  if (f == NULL) __builtin_trap();
  size_t lines = 0, i = 0;
  for (; i < len && lines < MAX_BATCH_LINES; i++) lines += text[i] == '\n';
  fwrite(text, 1, i, f);
  if (fclose(f) != 0) __builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (batch_path[0] == '\0') {
    snprintf(batch_path, sizeof batch_path, "/tmp/nsr-fuzz-batch-%ld", (long)getpid());
  }
  char *text = nsr_strndup((const char *)data, size);
  if (text == NULL) return 0;
  size_t len = strlen(text); /* arguments cannot hold a NUL anyway */
  char *nl = strchr(text, '\n');
  if (nl != NULL) *nl = '\0';
  char *argv[MAX_ARGS + 4] = {"numbers"};
  int argc = 1;
  bool skip = false;
  for (char *save, *tok = strtok_r(text, " ", &save); tok && argc < MAX_ARGS;
       tok = strtok_r(NULL, " ", &save)) {
    bool skip_next;
    if (skip) skip = false;
    else if (dropped(tok, argc, &skip_next)) skip = skip_next;
    else argv[argc++] = tok;
  }
  if (nl != NULL) {
    write_batch(nl + 1, len - (size_t)(nl + 1 - text));
    argv[argc++] = "--batch";
    argv[argc++] = batch_path;
  }
  argv[argc] = NULL;
  (void)cmd_numbers(argc, argv);
  nsr_free(text);
  return 0;
}
