/* ffi_tools.h: C functions in shared libraries served as tools, bound
 * through dlopen/dlsym and libffi from a JSON manifest:
 *
 *   {"library": "libm.so.6",
 *    "functions": [
 *      {"name": "cbrt", "description": "cube root of x", "returns": "double",
 *       "params": [{"name": "x", "type": "double", "description": "any real"}],
 *       "tool": "cube_root"}]}
 *
 * `library` is a file name the dynamic linker searches for ("libm.so.6"),
 * or a path, relative paths being taken from the manifest's directory.
 * Types are those of nsr_ffi.h, which the language's `foreign` form shares:
 * "int64", "int32", "uint64", "double", "bool" and "const char*" (a
 * NUL-terminated string the function only reads), or a C alias of one
 * ("int", "size_t", ...); `returns` is one of them, and a returned string
 * is copied, never freed (it must be static or owned by the library). A
 * returned NULL string is JSON null; a uint64 result past INT64_MAX is a
 * tool error. `tool` (optional) names the tool; by
 * default it is `name`.
 * Only the functions a manifest lists are ever looked up: a request names a
 * tool, which the registry resolves, never a symbol. */
#ifndef NSR_FFI_TOOLS_H
#define NSR_FFI_TOOLS_H

#include "nsr_tools.h"

#define FFI_TOOLS_MAX_FUNCTIONS 256
#define FFI_TOOLS_MAX_MANIFEST_BYTES (1u << 20)

/* Reads the manifest at `path`, opens its library and registers one tool
 * per function. Fails (NSR_ERR_FORMAT for a bad manifest, NSR_ERR_INVALID
 * for an unreadable one or a library or symbol that cannot be loaded) with a message naming the manifest and the offending entry.
 * Tools registered before a failure stay registered; callers discard the
 * registry on failure. */
nsr_code ffi_tools_load(tools_registry *reg, const char *path, nsr_error *err);

#endif
