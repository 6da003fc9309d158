/* safetensors.h: reading and writing the Hugging Face safetensors format.
 *
 * A file is: an 8-byte little-endian header length N; N bytes of a JSON
 * object {name: {"dtype", "shape", "data_offsets": [begin, end]}, ...,
 * "__metadata__": {string: string}}; then the data section, with offsets
 * relative to its start. Only F32 tensors are read or written here. */
#ifndef NSR_NN_SAFETENSORS_H
#define NSR_NN_SAFETENSORS_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "nsr_core.h"

#define ST_MAX_DIMS 8
/* Larger headers are refused, as the reference implementation does. */
#define ST_MAX_HEADER (100u << 20)

typedef struct st_tensor {
  const char *name; /* owned by the parsed header */
  int ndim;
  int64_t shape[ST_MAX_DIMS];
  size_t numel;
  uint64_t begin, end;       /* offsets into the data section */
  const unsigned char *data; /* into the caller's bytes; maybe unaligned */
} st_tensor;

typedef struct st_file {
  json_t *header;
  json_t *metadata; /* borrowed from header; NULL when absent */
  size_t n_tensors;
  st_tensor *tensors; /* sorted by begin */
} st_file;

/* Parses and validates a whole file held in bytes[0..size): header length,
 * JSON, dtype F32, shapes, offsets that cover the data section exactly,
 * without gaps or overlaps, and finite values (no NaN or infinity). Messages do not name the file: callers prefix
 * it. The bytes must outlive *out. Free with st_file_free (also safe after a
 * failure). */
nsr_code st_parse(const unsigned char *bytes, size_t size, st_file *out,
                  nsr_error *err);
void st_file_free(st_file *f);
/* The tensor called `name`, or NULL. */
const st_tensor *st_find(const st_file *f, const char *name);
/* The metadata string under `key`, or NULL. */
const char *st_metadata(const st_file *f, const char *key);

/* One tensor to write: ndim dims of shape, numel floats at data. */
typedef struct st_out_tensor {
  const char *name;
  int ndim;
  const int64_t *shape;
  size_t numel;
  const float *data;
} st_out_tensor;

/* Writes tensors (in the order given) and the metadata pairs
 * meta[0]=meta[1], meta[2]=meta[3], ... to `path` atomically with
 * nsr_write_file_atomic (fileio.h), from one buffer of the whole file. */
nsr_code st_write(const char *path, const st_out_tensor *tensors, size_t n,
                  const char *const *meta, size_t n_meta_pairs, nsr_error *err);

#endif
