/* test_nn_optim.c: the learning-rate schedule, gradient clipping and AdamW
 * against values worked out by hand. */
#include "nn_test_util.h"

static void test_schedule(void **state) {
  (void)state;
  nsr_nn_schedule s = {.lr_max = 1.0, .lr_min = 0.1, .warmup_steps = 4,
                       .total_steps = 12};
  /* warmup: lr_max * step / 4 */
  assert_float_equal(nsr_nn_schedule_lr(&s, 1), 0.25, 1e-12);
  assert_float_equal(nsr_nn_schedule_lr(&s, 4), 1.0, 1e-12);
  /* cosine over steps 4..12: a quarter of the way, 0.1 + 0.45 (1 + cos(pi/4)) */
  assert_float_equal(nsr_nn_schedule_lr(&s, 6), 0.1 + 0.45 * (1 + sqrt(0.5)), 1e-12);
  assert_float_equal(nsr_nn_schedule_lr(&s, 8), 0.55, 1e-12);
  assert_float_equal(nsr_nn_schedule_lr(&s, 12), 0.1, 1e-12);
  assert_float_equal(nsr_nn_schedule_lr(&s, 20), 0.1, 1e-12);
  nsr_nn_schedule flat = {.lr_max = 0.5, .lr_min = 0.5, .warmup_steps = 0,
                          .total_steps = 3};
  assert_float_equal(nsr_nn_schedule_lr(&flat, 1), 0.5, 1e-12);
}

/* A model with training buffers, every gradient 0 except those set. */
static nsr_nn_model *model_with_grads(void) {
  nsr_nn_config cfg = nn_tiny_config(NSR_NN_POS_NONE, NSR_NN_POOL_MEAN,
                                     NSR_NN_HEAD_SOFTMAX);
  nsr_nn_model *m;
  nsr_error err;
  assert_int_equal(nsr_nn_create(&cfg, &m, &err), NSR_OK);
  assert_int_equal(nsr_nn_reserve(m, 1, true, &err), NSR_OK);
  return m;
}

static void test_clip_grad_norm(void **state) {
  (void)state;
  nsr_nn_model *m = model_with_grads();
  nsr_nn_tensor a = nsr_nn_tensor_at(m, 0), b = nsr_nn_tensor_at(m, 5);
  a.grad[3] = 3.0f;
  b.grad[0] = -4.0f;
  /* norm 5 is under 10: nothing changes */
  assert_float_equal(nsr_nn_clip_grad_norm(m, 10.0), 5.0, 1e-9);
  assert_float_equal(a.grad[3], 3.0, 0);
  /* to 1: scaled by 1 / (5 + 1e-6), as torch does */
  assert_float_equal(nsr_nn_clip_grad_norm(m, 1.0), 5.0, 1e-9);
  assert_float_equal(a.grad[3], 0.6, 1e-6);
  assert_float_equal(b.grad[0], -0.8, 1e-6);
  nsr_nn_free(m);
}

static void test_adamw_by_hand(void **state) {
  (void)state;
  nsr_nn_model *m = model_with_grads();
  nsr_nn_tensor t = nsr_nn_tensor_at(m, 0);
  t.data[0] = 2.0f;
  t.data[1] = -1.0f;
  t.data[2] = 0.5f;
  nsr_nn_adamw opt = {.beta1 = 0.9, .beta2 = 0.99, .eps = 1e-3, .weight_decay = 0.1};
  double lr = 0.01, g0 = 0.5, g1 = -2.0;
  /* With a constant gradient g the bias-corrected moments are exactly g and
   * g^2 at every step, so each step is p <- p (1 - lr wd) - lr g/(|g| + eps). */
  double p0 = 2.0, p1 = -1.0, p2 = 0.5;
  nsr_error err;
  for (int step = 0; step < 3; step++) {
    t.grad[0] = (float)g0;
    t.grad[1] = (float)g1;
    t.grad[2] = 0.0f;
    assert_int_equal(nsr_nn_adamw_step(m, &opt, lr, &err), NSR_OK);
    p0 = p0 * (1 - lr * 0.1) - lr * g0 / (fabs(g0) + 1e-3);
    p1 = p1 * (1 - lr * 0.1) - lr * g1 / (fabs(g1) + 1e-3);
    p2 = p2 * (1 - lr * 0.1); /* no gradient: decay only */
    assert_float_equal(t.data[0], p0, 1e-6);
    assert_float_equal(t.data[1], p1, 1e-6);
    assert_float_equal(t.data[2], p2, 1e-6);
  }
  nsr_nn_free(m);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_schedule),
      cmocka_unit_test(test_clip_grad_norm),
      cmocka_unit_test(test_adamw_by_hand),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
