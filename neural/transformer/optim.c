/* optim.c: AdamW, gradient clipping and the learning-rate schedule, each
 * written to match its PyTorch counterpart operation for operation. */
#include <math.h>

#include "model.h"
#include "threads.h"
#include "vectorise.h"

#define NN_PI 3.14159265358979323846

/* One AdamW update of a share of the parameters (see adamw_worker). */
typedef struct adamw_job {
  nsr_nn_model *m;
  float decay, b1, b2, one_b1, one_b2, step_size, bc2_sqrt, eps;
} adamw_job;

/* torch.optim.AdamW (single-tensor path) on parameters lo .. hi-1: decay,
 * moments, then p -= (lr / bc1) * m / (sqrt(v) / sqrt(bc2) + eps). */
NN_HOT static void adamw_range(const adamw_job *j, size_t lo, size_t hi) {
  /* Locals and restrict, so that the loop vectorises: the four buffers are
   * distinct allocations and the job is not written. */
  float *restrict p = j->m->params;
  float *restrict mm = j->m->adam_m;
  float *restrict vv = j->m->adam_v;
  const float *restrict g = j->m->grads;
  const float decay = j->decay, b1 = j->b1, b2 = j->b2, one_b1 = j->one_b1;
  const float one_b2 = j->one_b2, step_size = j->step_size;
  const float bc2_sqrt = j->bc2_sqrt, eps = j->eps;
  for (size_t i = lo; i < hi; i++) {
    p[i] *= decay;
    mm[i] = mm[i] * b1 + one_b1 * g[i];
    vv[i] = vv[i] * b2 + one_b2 * g[i] * g[i];
    float denom = sqrtf(vv[i]) / bc2_sqrt + eps;
    p[i] -= step_size * (mm[i] / denom);
  }
}

/* Thread tid of nt's contiguous share: each value is updated by one
 * thread the same way, so the result does not depend on the split. */
static void adamw_worker(void *ctx, int tid, int nt) {
  const adamw_job *j = ctx;
  size_t lo, hi;
  nn_split(j->m->n_params, tid, nt, &lo, &hi);
  adamw_range(j, lo, hi);
}

nsr_code nsr_nn_adamw_step(nsr_nn_model *m, const nsr_nn_adamw *opt,
                           double lr, nsr_error *err) {
  if (m->grads == NULL) {
    return nsr_fail(err, NSR_ERR_INVALID,
                    "AdamW step: the model has no gradients yet");
  }
  m->adam_step++;
  double t = (double)m->adam_step;
  adamw_job job = {
      .m = m,
      .decay = (float)(1.0 - lr * opt->weight_decay),
      .b1 = (float)opt->beta1,
      .b2 = (float)opt->beta2,
      .one_b1 = (float)(1.0 - opt->beta1),
      .one_b2 = (float)(1.0 - opt->beta2),
      .step_size = (float)(lr / (1.0 - pow(opt->beta1, t))),
      .bc2_sqrt = (float)sqrt(1.0 - pow(opt->beta2, t)),
      .eps = (float)opt->eps,
  };
  /* The pool, when the model has one, is idle between passes. */
  nn_pool_run(m->pool, adamw_worker, &job);
  return NSR_OK;
}

double nsr_nn_clip_grad_norm(nsr_nn_model *m, double max_norm) {
  if (m->grads == NULL) return 0.0;
  double sum = 0.0;
  for (size_t i = 0; i < m->n_params; i++) sum += (double)m->grads[i] * m->grads[i];
  double norm = sqrt(sum);
  /* torch.nn.utils.clip_grad_norm_: coefficient max/(norm + 1e-6), at most 1 */
  double coef = max_norm / (norm + 1e-6);
  if (coef < 1.0) {
    float f = (float)coef;
    for (size_t i = 0; i < m->n_params; i++) m->grads[i] *= f;
  }
  return norm;
}

double nsr_nn_schedule_lr(const nsr_nn_schedule *s, int64_t step) {
  if (s->warmup_steps > 0 && step <= s->warmup_steps) {
    return s->lr_max * (double)step / (double)s->warmup_steps;
  }
  if (step >= s->total_steps) return s->lr_min;
  double progress = (double)(step - s->warmup_steps) /
                    (double)(s->total_steps - s->warmup_steps);
  return s->lr_min + 0.5 * (s->lr_max - s->lr_min) * (1.0 + cos(NN_PI * progress));
}
