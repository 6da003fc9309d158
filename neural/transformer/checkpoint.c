/* checkpoint.c: the encoder's parameters and config as a safetensors file. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "model.h"
#include "safetensors.h"

#define NN_CONFIG_KEY "nsr.config"

#define NN_MAX_EXTRA_META 8

nsr_code nsr_nn_save(const nsr_nn_model *m, const char *path, nsr_error *err) {
  return nsr_nn_save_meta(m, path, NULL, 0, err);
}

nsr_code nsr_nn_save_meta(const nsr_nn_model *m, const char *path, const char *const *extra,
                          size_t n_extra, nsr_error *err) {
  if (n_extra > NN_MAX_EXTRA_META) {
    return nsr_fail(err, NSR_ERR_INVALID, "saving '%s': %zu metadata pairs (at most %d)", path,
                    n_extra, NN_MAX_EXTRA_META);
  }
  for (size_t i = 0; i < n_extra; i++) {
    if (strcmp(extra[2 * i], NN_CONFIG_KEY) == 0 || strcmp(extra[2 * i], "format") == 0) {
      return nsr_fail(err, NSR_ERR_INVALID, "saving '%s': metadata key \"%s\" is reserved",
                      path, extra[2 * i]);
    }
  }
  char *config = nsr_nn_config_to_json(&m->cfg);
  st_out_tensor *out = nsr_mallocarray(m->n_tensors, sizeof *out);
  nsr_code rc = NSR_OK;
  if (config == NULL || out == NULL) {
    rc = nsr_fail(err, NSR_ERR_NOMEM, "saving '%s': out of memory", path);
  } else {
    for (size_t i = 0; i < m->n_tensors; i++) {
      const nn_tensor_desc *t = &m->tensors[i];
      out[i] = (st_out_tensor){t->name, t->ndim, t->shape, t->numel,
                               m->params + t->offset};
    }
    const char *meta[2 * (NN_MAX_EXTRA_META + 2)] = {NN_CONFIG_KEY, config, "format", "pt"};
    for (size_t i = 0; i < 2 * n_extra; i++) meta[4 + i] = extra[i];
    rc = st_write(path, out, m->n_tensors, meta, 2 + n_extra, err);
  }
  nsr_free(config);
  nsr_free(out);
  return rc;
}

/* Writes "[a, b]" for a shape into buf. */
static const char *shape_text(char *buf, size_t size, int ndim,
                              const int64_t *shape) {
  size_t used = (size_t)snprintf(buf, size, "[");
  for (int i = 0; i < ndim && used < size; i++) {
    used += (size_t)snprintf(buf + used, size - used, "%s%lld", i ? ", " : "",
                             (long long)shape[i]);
  }
  if (used < size) snprintf(buf + used, size - used, "]");
  return buf;
}

/* Checks that the names and shapes of the tensors of `f` are exactly those
 * of the model's table. */
static nsr_code check_tensors(const nsr_nn_model *m, const st_file *f,
                              nsr_error *err) {
  for (size_t i = 0; i < m->n_tensors; i++) {
    const nn_tensor_desc *want = &m->tensors[i];
    const st_tensor *have = st_find(f, want->name);
    if (have == NULL) {
      return nsr_fail(err, NSR_ERR_FORMAT, "tensor '%s' is missing", want->name);
    }
    bool same = have->ndim == want->ndim;
    for (int k = 0; same && k < want->ndim; k++) same = have->shape[k] == want->shape[k];
    if (!same) {
      char a[128], b[64];
      return nsr_fail(err, NSR_ERR_FORMAT,
                      "tensor '%s' has shape %s but config says %s", want->name,
                      shape_text(a, sizeof a, have->ndim, have->shape),
                      shape_text(b, sizeof b, want->ndim, want->shape));
    }
  }
  /* Every expected name is present once (JSON keys are unique), so any
   * further tensor is one the model does not have. */
  for (size_t i = 0; f->n_tensors > m->n_tensors && i < f->n_tensors; i++) {
    bool known = false;
    for (size_t k = 0; !known && k < m->n_tensors; k++) {
      known = strcmp(m->tensors[k].name, f->tensors[i].name) == 0;
    }
    if (!known) {
      return nsr_fail(err, NSR_ERR_FORMAT, "tensor '%s' is not part of this model",
                      f->tensors[i].name);
    }
  }
  return NSR_OK;
}

/* Copies the (checked) tensors of `f` into the model's parameters. */
static void copy_params(nsr_nn_model *m, const st_file *f) {
  for (size_t i = 0; i < m->n_tensors; i++) {
    const nn_tensor_desc *t = &m->tensors[i];
    memcpy(m->params + t->offset, st_find(f, t->name)->data, t->numel * sizeof(float));
  }
}

/* A copy of the metadata string under key into *value (NULL when absent,
 * or when key is NULL). */
static nsr_code copy_metadata(const st_file *f, const char *key, char **value, nsr_error *err) {
  *value = NULL;
  const char *text = key ? st_metadata(f, key) : NULL;
  if (text == NULL) return NSR_OK;
  size_t len = strlen(text);
  *value = nsr_malloc(len + 1);
  if (*value == NULL) return nsr_fail(err, NSR_ERR_NOMEM, "metadata \"%s\": out of memory", key);
  memcpy(*value, text, len + 1);
  return NSR_OK;
}

nsr_code nsr_nn_load_buffer(const void *bytes, size_t size, const char *what,
                            nsr_nn_model **out, nsr_error *err) {
  return nsr_nn_load_buffer_meta(bytes, size, what, NULL, out, NULL, err);
}

nsr_code nsr_nn_load_buffer_meta(const void *bytes, size_t size, const char *what,
                                 const char *key, nsr_nn_model **out, char **value,
                                 nsr_error *err) {
  *out = NULL;
  if (value) *value = NULL;
  st_file f;
  nsr_nn_model *m = NULL;
  nsr_code rc = st_parse(bytes, size, &f, err);
  if (rc == NSR_OK) {
    const char *config = st_metadata(&f, NN_CONFIG_KEY);
    nsr_nn_config cfg;
    if (config == NULL) {
      rc = nsr_fail(err, NSR_ERR_FORMAT,
                    "no model config: __metadata__ lacks \"" NN_CONFIG_KEY "\"");
    } else if ((rc = nsr_nn_config_parse(config, strlen(config), &cfg, err)) != NSR_OK) {
      nsr_error_prefix(err, "metadata \"" NN_CONFIG_KEY "\": ");
      if (rc != NSR_ERR_NOMEM) rc = NSR_ERR_FORMAT;
    } else {
      /* Names and shapes are checked before the parameters are allocated,
       * so a corrupt config cannot ask for more memory than the file holds. */
      rc = nn_create_table(&cfg, &m, err);
      if (rc == NSR_OK) rc = check_tensors(m, &f, err);
      if (rc == NSR_OK) rc = nn_alloc_params(m, err);
      if (rc == NSR_OK) copy_params(m, &f);
      if (rc == NSR_OK && value) rc = copy_metadata(&f, key, value, err);
    }
  }
  st_file_free(&f);
  if (rc != NSR_OK) {
    nsr_nn_free(m);
    nsr_error_prefix(err, "checkpoint '%s': ", what);
    return rc;
  }
  *out = m;
  return NSR_OK;
}

nsr_code nsr_nn_load(const char *path, nsr_nn_model **out, nsr_error *err) {
  return nsr_nn_load_meta(path, NULL, out, NULL, err);
}

nsr_code nsr_nn_load_meta(const char *path, const char *key, nsr_nn_model **out, char **value,
                          nsr_error *err) {
  *out = NULL;
  if (value) *value = NULL;
  FILE *f = fopen(path, "rb");
  if (f == NULL) {
    return nsr_fail(err, NSR_ERR_IO, "checkpoint '%s': %s", path, strerror(errno));
  }
  unsigned char *bytes = NULL;
  long size = -1;
  if (fseek(f, 0, SEEK_END) == 0) size = ftell(f);
  nsr_code rc = NSR_OK;
  if (size < 0 || fseek(f, 0, SEEK_SET) != 0) {
    rc = nsr_fail(err, NSR_ERR_IO, "checkpoint '%s': cannot find its size", path);
  } else if ((bytes = nsr_malloc((size_t)size)) == NULL) {
    rc = nsr_fail(err, NSR_ERR_NOMEM, "checkpoint '%s': %ld bytes: out of memory",
                  path, size);
  } else if (fread(bytes, 1, (size_t)size, f) != (size_t)size) {
    rc = nsr_fail(err, NSR_ERR_IO, "checkpoint '%s': read failed", path);
  }
  fclose(f);
  if (rc == NSR_OK) rc = nsr_nn_load_buffer_meta(bytes, (size_t)size, path, key, out, value, err);
  nsr_free(bytes);
  return rc;
}
