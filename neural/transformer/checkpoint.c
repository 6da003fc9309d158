/* checkpoint.c: the encoder's parameters and config as a safetensors file. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "model.h"
#include "safetensors.h"

#define NN_CONFIG_KEY "nsr.config"

nsr_code nsr_nn_save(const nsr_nn_model *m, const char *path, nsr_error *err) {
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
    const char *meta[] = {NN_CONFIG_KEY, config, "format", "pt"};
    rc = st_write(path, out, m->n_tensors, meta, 2, err);
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

nsr_code nsr_nn_load_buffer(const void *bytes, size_t size, const char *what,
                            nsr_nn_model **out, nsr_error *err) {
  *out = NULL;
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
  *out = NULL;
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
  if (rc == NSR_OK) rc = nsr_nn_load_buffer(bytes, (size_t)size, path, out, err);
  nsr_free(bytes);
  return rc;
}
