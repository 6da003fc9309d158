/* cmd_version.c: `nsr version`: the version and what this build was made
 * with. Only nsr-full links it, since it asks the libraries themselves. */
#include <cblas.h>
#include <curl/curl.h>
#include <sqlite3.h>
#include <stdio.h>

#include "cli.h"
#include "commands.h"
#include "json.h"
#include "nsr_config.h"

int cmd_version(int argc, char **argv) {
  bool json = false;
  const cli_opt opts[] = {CLI_FLAG_OPTION("--json", &json, "print one JSON object")};
  const cli_spec spec = {.name = "version", .opts = opts, .n_opts = 1,
                         .description = "Prints the version of nsr and the build's features: the BLAS\n"
                                        "library and the core it runs, MPI, libffi, SQLite, jansson, libcurl.\n"};
  cli_args args;
  int status = cli_parse(&spec, argc, argv, &args);
  if (status != CLI_CONTINUE) return status;
  const char *mpi = NSR_HAVE_MPI ? "yes" : "no";
  const char *curl = curl_version_info(CURLVERSION_NOW)->version;
  if (!json) {
    printf("nsr %s\nblas: %s (core %s)\nmpi: %s\nlibffi: %s\nsqlite: %s\njansson: %s\nlibcurl: %s\n",
           nsr_version(), openblas_get_config(), openblas_get_corename(), mpi, NSR_LIBFFI_VERSION,
           sqlite3_libversion(), jansson_version_str(), curl);
    return cli_finish("version", CLI_EXIT_OK);
  }
  json_t *root = json_pack("{s:s, s:s, s:s, s:b, s:s, s:s, s:s, s:s}", "version", nsr_version(),
                           "blas", openblas_get_config(), "blas_core", openblas_get_corename(),
                           "mpi", NSR_HAVE_MPI, "libffi", NSR_LIBFFI_VERSION,
                           "sqlite", sqlite3_libversion(), "jansson", jansson_version_str(),
                           "libcurl", curl);
  nsr_error err;
  if (cli_print_json(stdout, root, &err) != NSR_OK) return cli_report("version", &err);
  return cli_finish("version", CLI_EXIT_OK);
}
