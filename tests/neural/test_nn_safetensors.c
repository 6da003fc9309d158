/* test_nn_safetensors.c: checkpoints: the format on disk, round trips,
 * atomic saving, and refusal of corrupt, truncated or mismatched files. */
#include "nn_test_util.h"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include "json.h"
#include "safetensors.h"

static char tmpdir[] = "/tmp/nsr_nn_st_XXXXXX";

static int setup(void **state) {
  (void)state;
  nsr_json_init();
  return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state) {
  (void)state;
  DIR *dir = opendir(tmpdir);
  struct dirent *e;
  char path[600];
  while (dir && (e = readdir(dir)) != NULL) {
    if (e->d_name[0] == '.') continue;
    snprintf(path, sizeof path, "%s/%s", tmpdir, e->d_name);
    unlink(path);
  }
  if (dir) closedir(dir);
  return rmdir(tmpdir);
}

static const char *tmp_path(const char *name) {
  static char path[600];
  snprintf(path, sizeof path, "%s/%s", tmpdir, name);
  return path;
}

/* The tiny model with a sigmoid head, or with both heads (2 labels). */
static nsr_nn_model *tiny_model_with(bool both) {
  nsr_nn_config cfg = {.vocab = 5, .d_model = 4, .n_heads = 2, .n_layers = 1,
                       .d_ff = 6, .max_len = 3, .n_classes = 3,
                       .pos = NSR_NN_POS_NONE, .pool = NSR_NN_POOL_CLS,
                       .head = both ? NSR_NN_HEAD_BOTH : NSR_NN_HEAD_SIGMOID,
                       .n_labels = both ? 2 : 0};
  nsr_nn_model *m;
  nsr_error err;
  assert_int_equal(nsr_nn_create(&cfg, &m, &err), NSR_OK);
  nsr_nn_init_params(m, 9);
  return m;
}

static nsr_nn_model *tiny_model(void) { return tiny_model_with(false); }

/* The saved bytes of tiny_model(); caller frees with nsr_free. */
static unsigned char *saved_bytes(size_t *size) {
  nsr_nn_model *m = tiny_model();
  nsr_error err;
  const char *path = tmp_path("tiny.safetensors");
  if (nsr_nn_save(m, path, &err) != NSR_OK) fail_msg("%s", err.message);
  nsr_nn_free(m);
  return nn_read_file(path, size);
}

static void test_file_layout(void **state) {
  (void)state;
  size_t size;
  unsigned char *bytes = saved_bytes(&size);
  /* 8-byte little-endian header length, then JSON padded so that the data
   * starts 8-byte aligned, then 4 bytes per float of the model. */
  uint64_t n = 0;
  for (int i = 7; i >= 0; i--) n = n << 8 | bytes[i];
  assert_int_equal((8 + n) % 8, 0);
  nsr_nn_model *m = tiny_model();
  assert_int_equal(size, 8 + n + 4 * nsr_nn_num_params(m));
  json_error_t jerr;
  json_t *header = json_loadb((const char *)bytes + 8, n, 0, &jerr);
  assert_non_null(header);
  json_t *meta = json_object_get(header, "__metadata__");
  const char *config = json_string_value(json_object_get(meta, "nsr.config"));
  assert_non_null(config);
  assert_non_null(strstr(config, "\"pool\":\"cls\""));
  json_t *qkv = json_object_get(header, "blocks.0.attn.qkv.weight");
  assert_string_equal(json_string_value(json_object_get(qkv, "dtype")), "F32");
  json_t *shape = json_object_get(qkv, "shape");
  assert_int_equal(json_integer_value(json_array_get(shape, 0)), 12);
  assert_int_equal(json_integer_value(json_array_get(shape, 1)), 4);
  /* tok_emb comes first: its data is the first 5*4 floats. */
  json_t *offsets = json_object_get(json_object_get(header, "tok_emb.weight"), "data_offsets");
  assert_int_equal(json_integer_value(json_array_get(offsets, 0)), 0);
  assert_int_equal(json_integer_value(json_array_get(offsets, 1)), 80);
  assert_memory_equal(bytes + 8 + n, nsr_nn_tensor_at(m, 0).data, 80);
  json_decref(header);
  nsr_nn_free(m);
  nsr_free(bytes);
}

static void test_round_trip(void **state) {
  (void)state;
  nsr_nn_model *m = tiny_model(), *back;
  nsr_error err;
  const char *path = tmp_path("round.safetensors");
  assert_int_equal(nsr_nn_save(m, path, &err), NSR_OK);
  /* Saving again replaces the file and leaves no temporary behind. */
  assert_int_equal(nsr_nn_save(m, path, &err), NSR_OK);
  assert_int_equal(nsr_nn_load(path, &back, &err), NSR_OK);
  assert_memory_equal(nsr_nn_get_config(back), nsr_nn_get_config(m), sizeof(nsr_nn_config));
  assert_memory_equal(nsr_nn_tensor_at(back, 0).data, nsr_nn_tensor_at(m, 0).data,
                      nsr_nn_num_params(m) * sizeof(float));
  DIR *dir = opendir(tmpdir);
  struct dirent *e;
  while ((e = readdir(dir)) != NULL) assert_null(strstr(e->d_name, ".tmp."));
  closedir(dir);
  struct stat st;
  assert_int_equal(stat(path, &st), 0);
  assert_int_equal(st.st_mode & 0777, 0644);
  nsr_nn_free(m);
  nsr_nn_free(back);
}

static void test_io_errors(void **state) {
  (void)state;
  nsr_nn_model *m = tiny_model(), *back;
  nsr_error err;
  assert_int_equal(nsr_nn_save(m, "/nonexistent-dir/m.safetensors", &err), NSR_ERR_IO);
  assert_non_null(strstr(err.message, "/nonexistent-dir/m.safetensors"));
  assert_int_equal(nsr_nn_load(tmp_path("missing.safetensors"), &back, &err), NSR_ERR_IO);
  assert_non_null(strstr(err.message, "No such file"));
  assert_null(back);
  nsr_nn_free(m);
}

/* Every proper prefix of a valid file is refused with a message. */
static void test_every_truncation_is_refused(void **state) {
  (void)state;
  size_t size;
  unsigned char *bytes = saved_bytes(&size);
  for (size_t len = 0; len < size; len++) {
    nsr_nn_model *m;
    nsr_error err;
    nsr_code rc = nsr_nn_load_buffer(bytes, len, "cut", &m, &err);
    if (rc != NSR_ERR_FORMAT) fail_msg("prefix of %zu bytes: code %d", len, rc);
    assert_null(m);
    assert_non_null(strstr(err.message, "checkpoint 'cut': "));
  }
  nsr_nn_model *m;
  nsr_error err;
  assert_int_equal(nsr_nn_load_buffer(bytes, size, "whole", &m, &err), NSR_OK);
  nsr_nn_free(m);
  nsr_free(bytes);
}

/* Flipping any single byte of the length or header either still gives a
 * valid file (e.g. inside padding) or is refused cleanly. */
static void test_corrupt_header_bytes(void **state) {
  (void)state;
  size_t size;
  unsigned char *bytes = saved_bytes(&size);
  uint64_t n = 0;
  for (int i = 7; i >= 0; i--) n = n << 8 | bytes[i];
  int refused = 0;
  for (size_t pos = 0; pos < 8 + n; pos++) {
    for (int bit = 0; bit < 8; bit += 3) {
      bytes[pos] ^= (unsigned char)(1u << bit);
      nsr_nn_model *m;
      nsr_error err;
      nsr_code rc = nsr_nn_load_buffer(bytes, size, "flip", &m, &err);
      if (rc == NSR_OK) {
        nsr_nn_free(m);
      } else {
        if (rc != NSR_ERR_FORMAT) fail_msg("byte %zu bit %d: code %d", pos, bit, rc);
        assert_true(strlen(err.message) > strlen("checkpoint 'flip': "));
        refused++;
      }
      bytes[pos] ^= (unsigned char)(1u << bit);
    }
  }
  assert_true(refused > (int)n);
  nsr_free(bytes);
}

/* Writes a file with the tiny model's tensors, after `edit` may change the
 * description of tensor `victim` ("+name": add an extra tensor of that name
 * instead), with the model's config or `config_override`, and loads it
 * expecting `message`. */
typedef void (*edit_fn)(st_out_tensor *t, int64_t *shape);

static void expect_refused_from(nsr_nn_model *m, const char *victim, edit_fn edit,
                                const char *message, const char *config_override) {
  size_t n = nsr_nn_num_tensors(m);
  st_out_tensor *ts = nsr_calloc(n + 1, sizeof *ts);
  int64_t shapes[64][2];
  assert_true(n < 64);
  size_t count = 0;
  for (size_t i = 0; i < n; i++) {
    nsr_nn_tensor t = nsr_nn_tensor_at(m, i);
    shapes[i][0] = t.shape[0];
    shapes[i][1] = t.shape[1];
    ts[count] = (st_out_tensor){t.name, t.ndim, shapes[i], t.numel, t.data};
    if (strcmp(t.name, victim) == 0 && edit) edit(&ts[count], shapes[i]);
    if (ts[count].name != NULL) count++;
  }
  static const int64_t one[] = {1};
  if (victim[0] == '+') ts[count++] = (st_out_tensor){victim + 1, 1, one, 1, ts[0].data};
  char *config = nsr_nn_config_to_json(nsr_nn_get_config(m));
  const char *meta[] = {"nsr.config", config_override ? config_override : config};
  nsr_error err;
  const char *path = tmp_path("edited.safetensors");
  assert_int_equal(st_write(path, ts, count, meta, 1, &err), NSR_OK);
  nsr_nn_model *back;
  nsr_code rc = nsr_nn_load(path, &back, &err);
  if (rc != NSR_ERR_FORMAT || strstr(err.message, message) == NULL) {
    fail_msg("want \"%s\", got code %d: %s", message, rc, err.message);
  }
  nsr_free(config);
  nsr_free(ts);
  nsr_nn_free(m);
}

/* expect_refused_from the tiny sigmoid model. */
static void expect_refused(const char *victim, edit_fn edit, const char *message,
                           const char *config_override) {
  expect_refused_from(tiny_model(), victim, edit, message, config_override);
}

static void drop(st_out_tensor *t, int64_t *shape) {
  (void)shape;
  t->name = NULL;
}

static void transpose(st_out_tensor *t, int64_t *shape) {
  (void)t;
  int64_t r = shape[0];
  shape[0] = shape[1];
  shape[1] = r;
}

static void rename_to_unknown(st_out_tensor *t, int64_t *shape) {
  (void)shape;
  t->name = "blocks.1.ln1.weight";
}

static void test_mismatched_checkpoints(void **state) {
  (void)state;
  expect_refused("head.bias", drop, "tensor 'head.bias' is missing", NULL);
  expect_refused("blocks.0.attn.qkv.weight", transpose,
                 "tensor 'blocks.0.attn.qkv.weight' has shape [4, 12] but config says [12, 4]",
                 NULL);
  expect_refused("ln_f.bias", rename_to_unknown, "tensor 'ln_f.bias' is missing", NULL);
  expect_refused("+blocks.1.ln1.weight", NULL,
                 "tensor 'blocks.1.ln1.weight' is not part of this model", NULL);
  expect_refused("", NULL, "d_model 4 is not a multiple of n_heads 3",
                 "{\"vocab\":5,\"d_model\":4,\"n_heads\":3,\"n_layers\":1,"
                 "\"d_ff\":6,\"max_len\":3,\"n_classes\":3}");
  expect_refused("", NULL, "\"pool\" must be \"cls\" or \"mean\", not \"max\"",
                 "{\"vocab\":5,\"d_model\":4,\"n_heads\":2,\"n_layers\":1,"
                 "\"d_ff\":6,\"max_len\":3,\"n_classes\":3,\"pool\":\"max\"}");
  expect_refused("", NULL, "metadata \"nsr.config\": JSON at line 1", "{vocab");
  /* A corrupt config cannot make the loader allocate what the file lacks. */
  expect_refused("", NULL,
                 "tensor 'tok_emb.weight' has shape [5, 4] but config says [16000000, 4]",
                 "{\"vocab\":16000000,\"d_model\":4,\"n_heads\":2,\"n_layers\":1,"
                 "\"d_ff\":6,\"max_len\":3,\"n_classes\":3,\"pool\":\"cls\"}");
}

/* Both heads: a round trip keeps n_labels and label_head; a file without
 * label_head, with its shape wrong, or with a config that does not match
 * its tensors is refused. Files without "n_labels" (older checkpoints) load
 * as before. */
static void test_two_head_checkpoints(void **state) {
  (void)state;
  nsr_nn_model *m = tiny_model_with(true), *back;
  nsr_error err;
  const char *path = tmp_path("both.safetensors");
  assert_int_equal(nsr_nn_save(m, path, &err), NSR_OK);
  assert_int_equal(nsr_nn_load(path, &back, &err), NSR_OK);
  assert_int_equal(nsr_nn_get_config(back)->head, NSR_NN_HEAD_BOTH);
  assert_int_equal(nsr_nn_get_config(back)->n_labels, 2);
  nsr_nn_tensor w;
  assert_true(nsr_nn_find_tensor(back, "label_head.weight", &w));
  assert_int_equal(w.shape[0], 2);
  assert_int_equal(w.shape[1], 4);
  assert_memory_equal(nsr_nn_tensor_at(back, 0).data, nsr_nn_tensor_at(m, 0).data,
                      nsr_nn_num_params(m) * sizeof(float));
  nsr_nn_free(back);
  nsr_nn_free(m);

  expect_refused_from(tiny_model_with(true), "label_head.weight", drop,
                      "tensor 'label_head.weight' is missing", NULL);
  expect_refused_from(tiny_model_with(true), "label_head.weight", transpose,
                      "tensor 'label_head.weight' has shape [4, 2] but config says [2, 4]",
                      NULL);
  const char *base = "{\"vocab\":5,\"d_model\":4,\"n_heads\":2,\"n_layers\":1,"
                     "\"d_ff\":6,\"max_len\":3,\"n_classes\":3,\"pos\":\"none\","
                     "\"pool\":\"cls\",";
  char config[512];
  /* The label head's tensors, but a config without it. */
  snprintf(config, sizeof config, "%s\"head\":\"softmax\"}", base);
  expect_refused_from(tiny_model_with(true), "", NULL,
                      "tensor 'label_head.weight' is not part of this model", config);
  snprintf(config, sizeof config, "%s\"head\":\"both\",\"n_labels\":3}", base);
  expect_refused_from(tiny_model_with(true), "", NULL,
                      "tensor 'label_head.weight' has shape [2, 4] but config says [3, 4]",
                      config);
  /* A config asking for a label head the file lacks. */
  snprintf(config, sizeof config, "%s\"head\":\"both\",\"n_labels\":2}", base);
  expect_refused("", NULL, "tensor 'label_head.weight' is missing", config);
  struct {
    const char *tail, *message;
  } bad[] = {
      {"\"head\":\"both\"}", "head \"both\" needs n_labels in 1..16777216, not 0"},
      {"\"head\":\"both\",\"n_labels\":0}", "needs n_labels in 1..16777216, not 0"},
      {"\"head\":\"sigmoid\",\"n_labels\":2}", "n_labels 2 needs head \"both\""},
      {"\"head\":\"both\",\"n_labels\":-1}", "\"n_labels\" is out of range"},
      {"\"head\":\"both\",\"n_labels\":\"2\"}", "\"n_labels\" must be an integer"},
      {"\"head\":\"many\"}",
       "\"head\" must be \"softmax\", \"sigmoid\" or \"both\", not \"many\""},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    snprintf(config, sizeof config, "%s%s", base, bad[i].tail);
    expect_refused_from(tiny_model_with(true), "", NULL, bad[i].message, config);
  }
}

/* The config's JSON: every absent key at its default ("{}" is the default
 * model), any other key refused by name, and the text round-trips. */
static void test_config_json(void **state) {
  (void)state;
  nsr_nn_config cfg, def;
  nsr_error err;
  nsr_nn_config_default(&def);
  assert_int_equal(nsr_nn_config_parse("{}", 2, &cfg, &err), NSR_OK);
  assert_memory_equal(&cfg, &def, sizeof cfg);
  const char *some = "{\"vocab\":7,\"pos\":\"none\"}";
  assert_int_equal(nsr_nn_config_parse(some, strlen(some), &cfg, &err), NSR_OK);
  assert_int_equal(cfg.vocab, 7);
  assert_int_equal(cfg.pos, NSR_NN_POS_NONE);
  assert_int_equal(cfg.d_model, def.d_model);
  const char *typo = "{\"vocab\":7,\"layers\":3}";
  assert_int_equal(nsr_nn_config_parse(typo, strlen(typo), &cfg, &err), NSR_ERR_INVALID);
  assert_non_null(strstr(err.message, "unknown key \"layers\""));
  assert_null(strchr(err.message, '\n'));
  char *text = nsr_nn_config_to_json(&def);
  assert_string_equal(text, "{\"vocab\":128,\"d_model\":128,\"n_heads\":4,\"n_layers\":2,"
                            "\"d_ff\":512,\"max_len\":16,\"n_classes\":64,\"pos\":\"sinusoidal\","
                            "\"pool\":\"mean\",\"head\":\"softmax\"}");
  nsr_free(text);
  /* The description names every key with its default. */
  text = nsr_nn_config_describe();
  assert_non_null(text);
  const char *lines[] = {"  vocab 128 ", "  d_model 128 ", "  n_heads 4 ", "  n_layers 2 ",
                         "  d_ff 512 ", "  max_len 16 ", "  n_classes 64 ",
                         "  pos \"sinusoidal\" ", "  pool \"mean\" ", "  head \"softmax\" ",
                         "  n_labels 0 "};
  for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++) {
    if (strstr(text, lines[i]) == NULL) fail_msg("'%s' not in:\n%s", lines[i], text);
  }
  nsr_free(text);
}

/* A hand-written file: header text plus `data_len` zero bytes of data. */
static nsr_code parse_handmade(const char *header, size_t data_len,
                               nsr_error *err) {
  size_t n = strlen(header), size = 8 + n + data_len;
  unsigned char *bytes = nsr_calloc(size, 1);
  for (int i = 0; i < 8; i++) bytes[i] = (unsigned char)(n >> (8 * i));
  memcpy(bytes + 8, header, n);
  st_file f;
  nsr_code rc = st_parse(bytes, size, &f, err);
  st_file_free(&f);
  nsr_free(bytes);
  return rc;
}

static void expect_bad(const char *header, size_t data_len, const char *message) {
  nsr_error err;
  nsr_code rc = parse_handmade(header, data_len, &err);
  if (rc != NSR_ERR_FORMAT || strstr(err.message, message) == NULL) {
    fail_msg("%s: want \"%s\", got code %d: %s", header, message, rc, err.message);
  }
}

/* A one-tensor file "a" of the floats with bit patterns bits[0..n). */
static nsr_code parse_floats(const uint32_t *bits, size_t n, nsr_error *err) {
  char header[128];
  int len = snprintf(header, sizeof header, "{\"a\":{\"dtype\":\"F32\",\"shape\":[%zu],\"data_offsets\":[0,%zu]}}",
                     n, 4 * n);
  size_t size = 8 + (size_t)len + 4 * n;
  unsigned char *bytes = nsr_calloc(size, 1);
  for (int i = 0; i < 8; i++) bytes[i] = (unsigned char)((uint64_t)len >> (8 * i));
  memcpy(bytes + 8, header, (size_t)len);
  for (size_t i = 0; i < n; i++) {
    for (int k = 0; k < 4; k++) bytes[8 + (size_t)len + 4 * i + (size_t)k] = (unsigned char)(bits[i] >> (8 * k));
  }
  st_file f;
  nsr_code rc = st_parse(bytes, size, &f, err);
  st_file_free(&f);
  nsr_free(bytes);
  return rc;
}

/* Issue 19: NaN and the infinities, in any of their bit patterns, are
 * refused with the tensor and the element; the largest, smallest and
 * subnormal finite floats and -0 are not. */
static void test_non_finite_values(void **state) {
  (void)state;
  static const struct {
    uint32_t bits;
    const char *shown;
  } bad[] = {{0x7FC00000u, "NaN"}, {0xFFC00000u, "NaN"}, {0x7F800001u, "NaN"}, {0xFFFFFFFFu, "NaN"},
             {0x7F800000u, "Infinity"}, {0xFF800000u, "-Infinity"}};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    uint32_t floats[4] = {0x3F800000u, 0x00000001u, bad[i].bits, 0x3F800000u};
    nsr_error err;
    char want[64];
    snprintf(want, sizeof want, "tensor 'a': element 2 is %s;", bad[i].shown);
    assert_int_equal(parse_floats(floats, 4, &err), NSR_ERR_FORMAT);
    if (strstr(err.message, want) == NULL) fail_msg("want \"%s\", got: %s", want, err.message);
  }
  uint32_t finite[] = {0x7F7FFFFFu, 0xFF7FFFFFu, 0x00800000u, 0x00000001u, 0x80000000u, 0};
  nsr_error err;
  assert_int_equal(parse_floats(finite, sizeof finite / sizeof finite[0], &err), NSR_OK);
  /* Through the loader, the message names the checkpoint too. */
  size_t size;
  unsigned char *bytes = saved_bytes(&size);
  memcpy(bytes + size - 4, &(float){NAN}, 4); /* the last element of the last tensor */
  nsr_nn_model *m;
  assert_int_equal(nsr_nn_load_buffer(bytes, size, "nan", &m, &err), NSR_ERR_FORMAT);
  assert_null(m);
  assert_non_null(strstr(err.message, "checkpoint 'nan': tensor '"));
  assert_non_null(strstr(err.message, " is NaN; weights must be finite"));
  nsr_free(bytes);
}

static void test_malformed_headers(void **state) {
  (void)state;
  nsr_error err;
  assert_int_equal(parse_handmade("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],"
                                  "\"data_offsets\":[0,8]}}", 8, &err), NSR_OK);
  expect_bad("[1,2]", 0, "header is not a JSON object");
  expect_bad("{\"a\":{\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[0,4]}}", 4,
             "tensor 'a' has dtype F16; only F32 is supported");
  expect_bad("{\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", 8,
             "data_offsets span 8 bytes but its shape needs 12");
  expect_bad("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 4,
             "begin <= end <= 4");
  expect_bad("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
             "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4,
             "(overlap)");
  expect_bad("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8,
             "(gap)");
  expect_bad("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 8,
             "the data section has 8 bytes but the tensors cover 4");
  expect_bad("{\"a\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}", 4,
             "shape entry 0 is not a size");
  expect_bad("{\"a\":{\"dtype\":\"F32\",\"shape\":[4294967295,4294967295,"
             "4294967295],\"data_offsets\":[0,4]}}", 4, "but its shape needs");
  expect_bad("{\"__metadata__\":{\"k\":1}}", 0, "entry 'k' is not a string");
  expect_bad("{\"a\":1}", 0, "tensor 'a': entry is not an object");
  expect_bad("{\"a\":{\"shape\":[1],\"data_offsets\":[0,4]}}", 4, "\"dtype\" must be a string");
  expect_bad("{\"a\":{}, \"a\":{}}", 0, "duplicate");
}

static void test_load_out_of_memory(void **state) {
  (void)state;
  size_t size;
  unsigned char *bytes = saved_bytes(&size);
  for (uint64_t k = 1;; k++) {
    nsr_nn_model *m;
    nsr_error err;
    nsr_alloc_fail_after(k);
    nsr_code rc = nsr_nn_load_buffer(bytes, size, "oom", &m, &err);
    nsr_alloc_fail_reset();
    nsr_nn_free(m);
    if (rc == NSR_OK) break;
    /* jansson reports some of its own allocation failures as syntax errors,
     * so a failure inside JSON text may read as a format error. */
    bool json_oom = rc == NSR_ERR_FORMAT && strstr(err.message, "JSON at line") != NULL;
    if (rc != NSR_ERR_NOMEM && !json_oom) {
      fail_msg("allocation %llu: code %d: %s", (unsigned long long)k, rc, err.message);
    }
    assert_true(k < 2000);
  }
  nsr_free(bytes);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_file_layout),
      cmocka_unit_test(test_round_trip),
      cmocka_unit_test(test_io_errors),
      cmocka_unit_test(test_every_truncation_is_refused),
      cmocka_unit_test(test_corrupt_header_bytes),
      cmocka_unit_test(test_mismatched_checkpoints),
      cmocka_unit_test(test_two_head_checkpoints),
      cmocka_unit_test(test_malformed_headers),
      cmocka_unit_test(test_non_finite_values),
      cmocka_unit_test(test_config_json),
      cmocka_unit_test(test_load_out_of_memory),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
