/* test_nn_train.c: the training loop: a tiny model memorises a small
 * training set, evaluation runs on schedule, and a seed fixes the result. */
#include "nn_test_util.h"

enum { N = 24, SEQ = 4, CLASSES = 4, VOCAB = 9 };

typedef struct task {
  int32_t tokens[N * SEQ];
  int32_t lengths[N];
  int32_t labels[N];
  float multi[N * CLASSES];
} task;

/* Random sequences of 2..4 tokens with random labels: nothing to learn but
 * memorisation. multi[] holds "token c+1 occurs" for a sigmoid head. */
static void make_task(task *t, uint64_t seed) {
  nsr_rng rng;
  nsr_rng_seed(&rng, seed);
  for (int i = 0; i < N; i++) {
    t->lengths[i] = 2 + (int32_t)nsr_rng_below(&rng, SEQ - 1);
    t->labels[i] = (int32_t)nsr_rng_below(&rng, CLASSES);
    for (int c = 0; c < CLASSES; c++) t->multi[i * CLASSES + c] = 0.0f;
    for (int p = 0; p < SEQ; p++) {
      int32_t tok = (int32_t)nsr_rng_below(&rng, VOCAB);
      t->tokens[i * SEQ + p] = p < t->lengths[i] ? tok : 0;
      if (p < t->lengths[i] && tok >= 1 && tok <= CLASSES) t->multi[i * CLASSES + tok - 1] = 1.0f;
    }
  }
}

static nsr_nn_model *small_model(nsr_nn_config cfg, uint64_t seed) {
  nsr_nn_model *m;
  nsr_error err;
  if (nsr_nn_create(&cfg, &m, &err) != NSR_OK) fail_msg("%s", err.message);
  nsr_nn_init_params(m, seed);
  return m;
}

static nsr_nn_config train_config(nsr_nn_head head) {
  return (nsr_nn_config){.vocab = VOCAB, .d_model = 16, .n_heads = 2,
                         .n_layers = 2, .d_ff = 32, .max_len = SEQ,
                         .n_classes = CLASSES, .pos = NSR_NN_POS_SINUSOIDAL,
                         .pool = NSR_NN_POOL_MEAN, .head = head};
}

typedef struct eval_log {
  int calls;
  int64_t steps[8];
  nsr_nn_eval last;
} eval_log;

static void on_eval(void *ctx, const nsr_nn_eval *ev) {
  eval_log *log = ctx;
  if (log->calls < 8) log->steps[log->calls] = ev->step;
  log->calls++;
  log->last = *ev;
}

static void test_memorises_training_set(void **state) {
  (void)state;
  static task t;
  make_task(&t, 1);
  nsr_nn_model *m = small_model(train_config(NSR_NN_HEAD_SOFTMAX), 2);
  nsr_nn_dataset data = {N, SEQ, t.tokens, t.lengths, t.labels, NULL, NULL};
  nsr_nn_eval before, after;
  nsr_error err;
  assert_int_equal(nsr_nn_evaluate(m, &data, &before, &err), NSR_OK);
  nsr_nn_train_opts opts;
  nsr_nn_train_opts_default(&opts, 300);
  opts.batch_size = 8;
  opts.schedule.lr_max = 1e-2;
  opts.eval_every = 100;
  opts.progress = false;
  eval_log log = {0};
  opts.on_eval = on_eval;
  opts.ctx = &log;
  assert_int_equal(nsr_nn_train(m, &data, &data, &opts, &err), NSR_OK);
  assert_int_equal(nsr_nn_evaluate(m, &data, &after, &err), NSR_OK);
  assert_float_equal(after.accuracy, 1.0, 0);
  assert_true(after.loss < 0.1 && after.loss < before.loss);
  /* evaluations after steps 100, 200 and 300 */
  assert_int_equal(log.calls, 3);
  assert_int_equal(log.steps[0], 100);
  assert_int_equal(log.steps[2], 300);
  assert_float_equal(log.last.loss, after.loss, 1e-6);
  assert_true(log.last.train_loss > 0.0);
  nsr_nn_free(m);
}

static void test_multilabel_head_learns(void **state) {
  (void)state;
  static task t;
  make_task(&t, 3);
  nsr_nn_model *m = small_model(train_config(NSR_NN_HEAD_SIGMOID), 4);
  nsr_nn_dataset data = {N, SEQ, t.tokens, t.lengths, NULL, t.multi, NULL};
  nsr_nn_train_opts opts;
  nsr_nn_train_opts_default(&opts, 300);
  opts.batch_size = 8;
  opts.schedule.lr_max = 1e-2;
  opts.progress = false;
  nsr_error err;
  assert_int_equal(nsr_nn_train(m, &data, NULL, &opts, &err), NSR_OK);
  nsr_nn_eval ev;
  assert_int_equal(nsr_nn_evaluate(m, &data, &ev, &err), NSR_OK);
  assert_float_equal(ev.accuracy, 1.0, 0);
  nsr_nn_free(m);
}

static void test_same_seed_same_training(void **state) {
  (void)state;
  static task t;
  make_task(&t, 5);
  nsr_nn_dataset data = {N, SEQ, t.tokens, t.lengths, t.labels, NULL, NULL};
  nsr_nn_train_opts opts;
  nsr_nn_train_opts_default(&opts, 20);
  opts.batch_size = 5; /* does not divide N: epochs reshuffle */
  opts.progress = false;
  nsr_nn_model *a = small_model(train_config(NSR_NN_HEAD_SOFTMAX), 6);
  nsr_nn_model *b = small_model(train_config(NSR_NN_HEAD_SOFTMAX), 6);
  nsr_nn_model *c = small_model(train_config(NSR_NN_HEAD_SOFTMAX), 6);
  nsr_error err;
  assert_int_equal(nsr_nn_train(a, &data, NULL, &opts, &err), NSR_OK);
  assert_int_equal(nsr_nn_train(b, &data, NULL, &opts, &err), NSR_OK);
  opts.seed = 2;
  assert_int_equal(nsr_nn_train(c, &data, NULL, &opts, &err), NSR_OK);
  size_t bytes = nsr_nn_num_params(a) * sizeof(float);
  assert_memory_equal(nsr_nn_tensor_at(a, 0).data, nsr_nn_tensor_at(b, 0).data, bytes);
  assert_memory_not_equal(nsr_nn_tensor_at(a, 0).data, nsr_nn_tensor_at(c, 0).data, bytes);
  nsr_nn_free(a);
  nsr_nn_free(b);
  nsr_nn_free(c);
}

static void test_bad_training_input(void **state) {
  (void)state;
  static task t;
  make_task(&t, 7);
  nsr_nn_model *m = small_model(train_config(NSR_NN_HEAD_SOFTMAX), 8);
  nsr_nn_train_opts opts;
  nsr_nn_train_opts_default(&opts, 5);
  opts.progress = false;
  nsr_error err;
  nsr_nn_dataset both = {N, SEQ, t.tokens, t.lengths, t.labels, t.multi, NULL};
  assert_int_equal(nsr_nn_train(m, &both, NULL, &opts, &err), NSR_ERR_INVALID);
  assert_non_null(strstr(err.message, "training data"));
  t.tokens[SEQ * 3] = VOCAB; /* example 3 */
  nsr_nn_dataset bad = {N, SEQ, t.tokens, t.lengths, t.labels, NULL, NULL};
  opts.batch_size = N;
  assert_int_equal(nsr_nn_train(m, &bad, NULL, &opts, &err), NSR_ERR_RANGE);
  assert_non_null(strstr(err.message, "training step 1: "));
  nsr_nn_free(m);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_memorises_training_set),
      cmocka_unit_test(test_multilabel_head_learns),
      cmocka_unit_test(test_same_seed_same_training),
      cmocka_unit_test(test_bad_training_input),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
