/* safetensors.c: a strict reader and an atomic writer of safetensors files. */
#include "safetensors.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fileio.h"
#include "json.h"

/* The format is little-endian; tensors are copied as raw bytes, so this
 * build only supports little-endian hosts. */
_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
               "safetensors I/O assumes a little-endian host");

/* ---- reading ---------------------------------------------------------- */

void st_file_free(st_file *f) {
  if (f->header) json_decref(f->header);
  nsr_free(f->tensors);
  *f = (st_file){0};
}

/* Reads a JSON integer in [0, max] into *out. */
static bool get_u64(const json_t *v, uint64_t max, uint64_t *out) {
  if (!json_is_integer(v) || json_integer_value(v) < 0) return false;
  *out = (uint64_t)json_integer_value(v);
  return *out <= max;
}

/* Fills *t from the header entry `value` for tensor `name`. */
static nsr_code parse_entry(const char *name, const json_t *value,
                            uint64_t data_size, st_tensor *t, nsr_error *err) {
  t->name = name;
  const char *dtype = NULL;
  if (!json_is_object(value)) {
    return nsr_fail(err, NSR_ERR_FORMAT, "tensor '%s': entry is not an object", name);
  }
  if (nsr_json_get_string(value, "dtype", &dtype, err) != NSR_OK) {
    nsr_error_prefix(err, "tensor '%s': ", name);
    return NSR_ERR_FORMAT;
  }
  if (strcmp(dtype, "F32") != 0) {
    return nsr_fail(err, NSR_ERR_FORMAT,
                    "tensor '%s' has dtype %s; only F32 is supported", name, dtype);
  }
  const json_t *shape = json_object_get(value, "shape");
  if (!json_is_array(shape) || json_array_size(shape) > ST_MAX_DIMS) {
    return nsr_fail(err, NSR_ERR_FORMAT,
                    "tensor '%s': \"shape\" must be an array of at most %d sizes",
                    name, ST_MAX_DIMS);
  }
  t->ndim = (int)json_array_size(shape);
  uint64_t numel = 1;
  for (int i = 0; i < t->ndim; i++) {
    uint64_t dim;
    if (!get_u64(json_array_get(shape, (size_t)i), UINT32_MAX, &dim)) {
      return nsr_fail(err, NSR_ERR_FORMAT,
                      "tensor '%s': shape entry %d is not a size", name, i);
    }
    t->shape[i] = (int64_t)dim;
    /* Past `too_big` elements the size check below fails anyway; clamping
     * there keeps the product from wrapping. */
    uint64_t too_big = data_size / 4 + 1;
    numel = dim != 0 && numel > too_big / dim ? too_big : numel * dim;
  }
  const json_t *offsets = json_object_get(value, "data_offsets");
  if (!json_is_array(offsets) || json_array_size(offsets) != 2 ||
      !get_u64(json_array_get(offsets, 0), data_size, &t->begin) ||
      !get_u64(json_array_get(offsets, 1), data_size, &t->end) ||
      t->begin > t->end) {
    return nsr_fail(err, NSR_ERR_FORMAT,
                    "tensor '%s': \"data_offsets\" must be [begin, end] with "
                    "begin <= end <= %llu, the size of the data section",
                    name, (unsigned long long)data_size);
  }
  if (t->end - t->begin != numel * 4) {
    return nsr_fail(err, NSR_ERR_FORMAT,
                    "tensor '%s': data_offsets span %llu bytes but its shape "
                    "needs %llu",
                    name, (unsigned long long)(t->end - t->begin),
                    (unsigned long long)(numel * 4));
  }
  t->numel = (size_t)numel;
  return NSR_OK;
}

/* "__metadata__" must map strings to strings. */
static nsr_code parse_metadata(const json_t *meta, nsr_error *err) {
  const char *key;
  const json_t *value;
  if (!json_is_object(meta)) {
    return nsr_fail(err, NSR_ERR_FORMAT, "\"__metadata__\" is not an object");
  }
  json_object_foreach((json_t *)meta, key, value) {
    if (!json_is_string(value)) {
      return nsr_fail(err, NSR_ERR_FORMAT,
                      "\"__metadata__\" entry '%s' is not a string", key);
    }
  }
  return NSR_OK;
}

static int by_begin(const void *a, const void *b) {
  const st_tensor *x = a, *y = b;
  if (x->begin != y->begin) return x->begin < y->begin ? -1 : 1;
  return x->end < y->end ? -1 : x->end > y->end;
}

/* Checks that the sorted tensors tile [0, data_size) exactly. */
static nsr_code check_coverage(const st_file *f, uint64_t data_size,
                               nsr_error *err) {
  uint64_t covered = 0;
  for (size_t i = 0; i < f->n_tensors; i++) {
    const st_tensor *t = &f->tensors[i];
    if (t->begin != covered) {
      return nsr_fail(err, NSR_ERR_FORMAT,
                      "tensor '%s' starts at byte %llu of the data section, "
                      "but the bytes before it end at %llu (%s)",
                      t->name, (unsigned long long)t->begin,
                      (unsigned long long)covered,
                      t->begin < covered ? "overlap" : "gap");
    }
    covered = t->end;
  }
  if (covered != data_size) {
    return nsr_fail(err, NSR_ERR_FORMAT,
                    "the data section has %llu bytes but the tensors cover %llu",
                    (unsigned long long)data_size, (unsigned long long)covered);
  }
  return NSR_OK;
}

/* Refuses a tensor holding NaN or an infinity: no model has them on
 * purpose, and one such weight turns every output it reaches into NaN that
 * ranks, sorts and indexes as garbage. Reads the bit patterns (exponent all
 * ones), so the unaligned data needs no float loads. */
static nsr_code check_finite(const st_tensor *t, nsr_error *err) {
  for (size_t i = 0; i < t->numel; i++) {
    uint32_t bits;
    memcpy(&bits, t->data + 4 * i, sizeof bits);
    if ((bits & 0x7F800000u) != 0x7F800000u) continue;
    const char *what = (bits & 0x007FFFFFu) ? "NaN" : (bits >> 31) ? "-Infinity" : "Infinity";
    return nsr_fail(err, NSR_ERR_FORMAT, "tensor '%s': element %zu is %s; weights must be finite",
                    t->name, i, what);
  }
  return NSR_OK;
}

nsr_code st_parse(const unsigned char *bytes, size_t size, st_file *out,
                  nsr_error *err) {
  *out = (st_file){0};
  if (size < 8) {
    return nsr_fail(err, NSR_ERR_FORMAT,
                    "%zu bytes is too short for the 8-byte header length", size);
  }
  uint64_t header_len = 0;
  for (int i = 7; i >= 0; i--) header_len = header_len << 8 | bytes[i];
  if (header_len > size - 8 || header_len > ST_MAX_HEADER) {
    return nsr_fail(err, NSR_ERR_FORMAT,
                    "header length %llu does not fit in the %zu bytes after the "
                    "length field",
                    (unsigned long long)header_len, size - 8);
  }
  uint64_t data_size = size - 8 - header_len;
  nsr_code rc = nsr_json_parse((const char *)bytes + 8, header_len, &out->header, err);
  if (rc != NSR_OK) {
    nsr_error_prefix(err, "header: ");
    return rc == NSR_ERR_NOMEM ? rc : NSR_ERR_FORMAT;
  }
  if (!json_is_object(out->header)) {
    return nsr_fail(err, NSR_ERR_FORMAT, "header is not a JSON object");
  }
  size_t entries = json_object_size(out->header);
  out->tensors = nsr_calloc(entries, sizeof(st_tensor));
  if (out->tensors == NULL) {
    return nsr_fail(err, NSR_ERR_NOMEM, "header of %zu entries: out of memory", entries);
  }
  const char *key;
  json_t *value;
  json_object_foreach(out->header, key, value) {
    if (strcmp(key, "__metadata__") == 0) {
      rc = parse_metadata(value, err);
      out->metadata = value;
    } else {
      st_tensor *t = &out->tensors[out->n_tensors++];
      rc = parse_entry(key, value, data_size, t, err);
      t->data = bytes + 8 + header_len + t->begin;
    }
    if (rc != NSR_OK) return rc;
  }
  qsort(out->tensors, out->n_tensors, sizeof(st_tensor), by_begin);
  rc = check_coverage(out, data_size, err);
  for (size_t i = 0; rc == NSR_OK && i < out->n_tensors; i++) rc = check_finite(&out->tensors[i], err);
  return rc;
}

const st_tensor *st_find(const st_file *f, const char *name) {
  for (size_t i = 0; i < f->n_tensors; i++) {
    if (strcmp(f->tensors[i].name, name) == 0) return &f->tensors[i];
  }
  return NULL;
}

const char *st_metadata(const st_file *f, const char *key) {
  if (f->metadata == NULL) return NULL;
  return json_string_value(json_object_get(f->metadata, key));
}

/* ---- writing ---------------------------------------------------------- */

/* The JSON header for `tensors`, laid out back to back in the given order. */
static nsr_code build_header(const st_out_tensor *tensors, size_t n,
                             const char *const *meta, size_t n_meta_pairs,
                             json_t **out, nsr_error *err) {
  json_t *header = json_object(), *metadata = json_object();
  nsr_code rc = header ? NSR_OK : nsr_fail(err, NSR_ERR_NOMEM, "safetensors header: out of memory");
  for (size_t i = 0; rc == NSR_OK && i < n_meta_pairs; i++) {
    rc = nsr_json_set(metadata, meta[2 * i], json_string(meta[2 * i + 1]), err);
  }
  if (rc == NSR_OK) {
    rc = nsr_json_set(header, "__metadata__", metadata, err);
    metadata = NULL; /* owned by header now, even on failure */
  }
  uint64_t offset = 0;
  for (size_t i = 0; rc == NSR_OK && i < n; i++) {
    const st_out_tensor *t = &tensors[i];
    json_t *entry = json_object(), *shape = json_array();
    json_t *offsets = json_array();
    rc = nsr_json_set(entry, "dtype", json_string("F32"), err);
    for (int k = 0; rc == NSR_OK && k < t->ndim; k++) {
      rc = nsr_json_append(shape, json_integer(t->shape[k]), err);
    }
    if (rc == NSR_OK) rc = nsr_json_append(offsets, json_integer((json_int_t)offset), err);
    offset += t->numel * sizeof(float);
    if (rc == NSR_OK) rc = nsr_json_append(offsets, json_integer((json_int_t)offset), err);
    if (rc == NSR_OK) {
      rc = nsr_json_set(entry, "shape", shape, err);
      shape = NULL;
    }
    if (rc == NSR_OK) {
      rc = nsr_json_set(entry, "data_offsets", offsets, err);
      offsets = NULL;
    }
    if (rc == NSR_OK) {
      rc = nsr_json_set(header, t->name, entry, err);
      entry = NULL;
    }
    if (shape) json_decref(shape);
    if (offsets) json_decref(offsets);
    if (entry) json_decref(entry);
  }
  if (metadata) json_decref(metadata);
  if (rc != NSR_OK) {
    if (header) json_decref(header);
    return rc;
  }
  *out = header;
  return NSR_OK;
}

/* The whole file in one buffer the caller frees with nsr_free (NULL when out
 * of memory): the length, the header padded with spaces so the data section
 * starts 8-byte aligned, then the tensors' bytes. */
static unsigned char *file_image(const char *header_text, size_t padded_len,
                                 const st_out_tensor *tensors, size_t n, size_t *len) {
  size_t total = 8 + padded_len;
  for (size_t i = 0; i < n; i++) total += tensors[i].numel * sizeof(float);
  unsigned char *buf = nsr_malloc(total);
  if (buf == NULL) return NULL;
  for (int i = 0; i < 8; i++) buf[i] = (unsigned char)((uint64_t)padded_len >> (8 * i));
  size_t text_len = strlen(header_text);
  memcpy(buf + 8, header_text, text_len);
  memset(buf + 8 + text_len, ' ', padded_len - text_len);
  unsigned char *at = buf + 8 + padded_len;
  for (size_t i = 0; i < n; i++) {
    memcpy(at, tensors[i].data, tensors[i].numel * sizeof(float));
    at += tensors[i].numel * sizeof(float);
  }
  *len = total;
  return buf;
}

nsr_code st_write(const char *path, const st_out_tensor *tensors, size_t n,
                  const char *const *meta, size_t n_meta_pairs, nsr_error *err) {
  json_t *header;
  nsr_code rc = build_header(tensors, n, meta, n_meta_pairs, &header, err);
  if (rc != NSR_OK) return rc;
  char *text = nsr_json_dump(header);
  json_decref(header);
  size_t len = 0;
  unsigned char *image = text ? file_image(text, (strlen(text) + 7) / 8 * 8, tensors, n, &len) : NULL;
  nsr_free(text);
  if (image == NULL) return nsr_fail(err, NSR_ERR_NOMEM, "saving '%s': out of memory", path);
  /* The core writer leaves the old file or the new one, and at most one
   * temporary file after a kill (fileio.h). */
  rc = nsr_write_file_atomic(path, image, len, err);
  nsr_free(image);
  return rc;
}
