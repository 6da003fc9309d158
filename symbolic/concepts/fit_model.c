/* fit_model.c: the fit's objective, the negative log posterior of the data
 * under the space and the response model, with its exact gradient.
 *
 * For one set X with hypotheses h (score s_h = log p(h) − n log|h|,
 * posterior q_h), generalization g_y = Σ_h q_h [y ∈ h] and response
 * p_y = α g_y + (1 − α) β, the log-likelihood of the yes/no counts is
 * LL = Σ_y yes_y log p_y + no_y log(1 − p_y). With ρ_y = ∂LL/∂p_y:
 *   ∂LL/∂s_h = q_h (A_h − Ā),  A_h = α Σ_{y∈h} ρ_y,  Ā = α Σ_y ρ_y g_y,
 * since ∂g_y/∂s_h = q_h ([y ∈ h] − g_y). The prior's parameters enter s_h
 * through log p(h); production weights enter through π(h), whose
 * derivatives come back along the enumeration's recorded edges (reverse
 * mode over the classes, largest size first). */
#include <math.h>
#include <string.h>

#include "fit.h"

static double sigmoid(double x) { return 1.0 / (1.0 + exp(-x)); }
static double logit(double p) { return log(p / (1.0 - p)); }
/* Keeps a probability parameter strictly inside (0, 1) in double. */
static double open_unit(double p) { return p < 1e-9 ? 1e-9 : p > 1 - 1e-9 ? 1 - 1e-9 : p; }

nsr_code fit_problem_init(fit_problem *fp, nsr_space *s, const nsr_human_data *data,
                          const nsr_fit_options *opt, nsr_error *err) {
  memset(fp, 0, sizeof *fp);
  fp->space = s;
  fp->data = data;
  fp->opt = *opt;
  if (!data->has_counts) {
    return nsr_fail(err, NSR_ERR_INVALID, "fitting needs yes/no counts (the Bigelow & Piantadosi layout)");
  }
  if (!s->enumerated) return nsr_fail(err, NSR_ERR_INVALID, "fitting needs an enumerated space");
  if (opt->fit_weights && !s->record_edges) {
    return nsr_fail(err, NSR_ERR_INTERNAL, "fitting weights needs a space built with record_edges");
  }
  fp->fam_of = nsr_calloc(s->n_prods ? s->n_prods : 1, sizeof *fp->fam_of);
  if (fp->fam_of == NULL) return nsr_fail(err, NSR_ERR_NOMEM, "fit: out of memory");
  /* Families in order of first use; the production offsets follow. */
  for (size_t k = 0; k < s->n_prods; k++) {
    size_t f = 0;
    while (f < k && s->prods[f].family != s->prods[k].family) f++;
    fp->fam_of[k] = f < k ? fp->fam_of[f] : FIT_FIXED + fp->n_fam++;
  }
  fp->prod_base = FIT_FIXED + fp->n_fam;
  fp->dim = opt->fit_weights ? fp->prod_base + s->n_prods : FIT_FIXED;
  size_t n = s->max + 2;
  fp->sets = nsr_calloc(data->n_sets, sizeof *fp->sets);
  fp->u = nsr_mallocarray(s->n_ext, sizeof *fp->u);
  fp->post = nsr_mallocarray(s->n_ext, sizeof *fp->post);
  fp->adj = nsr_mallocarray(s->n_classes, sizeof *fp->adj);
  fp->g = nsr_mallocarray(n, sizeof *fp->g);
  fp->r = nsr_mallocarray(n, sizeof *fp->r);
  fp->r_prefix = nsr_mallocarray(n, sizeof *fp->r_prefix);
  fp->diff = nsr_mallocarray(n, sizeof *fp->diff);
  fp->qk = nsr_mallocarray(n, sizeof *fp->qk);
  fp->sim_m = nsr_mallocarray(n, sizeof *fp->sim_m);
  fp->sim_d = nsr_mallocarray(n, sizeof *fp->sim_d);
  if (!fp->sets || !fp->u || !fp->post || !fp->adj || !fp->g || !fp->r || !fp->r_prefix || !fp->diff ||
      !fp->qk || !fp->sim_m || !fp->sim_d) {
    return nsr_fail(err, NSR_ERR_NOMEM, "fit: out of memory");
  }
  uint64_t mask[(NSR_SPACE_MAX_N + 64) / 64];
  for (size_t i = 0; i < data->n_sets; i++) {
    fit_set *fs = &fp->sets[i];
    const nsr_human_set *set = &data->sets[i];
    fs->set = set;
    fs->lo = fs->hi = set->examples[0];
    for (size_t k = 0; k < set->n_examples; k++) {
      if (set->examples[k] < fs->lo) fs->lo = set->examples[k];
      if (set->examples[k] > fs->hi) fs->hi = set->examples[k];
    }
    space_examples_mask(s, set->examples, set->n_examples, mask);
    size_t count = 0;
    for (size_t e = 0; e < s->n_ext; e++) count += space_ext_contains(s, e, mask);
    fs->consistent = nsr_mallocarray(count ? count : 1, sizeof *fs->consistent);
    if (fs->consistent == NULL) return nsr_fail(err, NSR_ERR_NOMEM, "fit: out of memory");
    for (size_t e = 0; e < s->n_ext; e++) {
      if (space_ext_contains(s, e, mask)) fs->consistent[fs->n_consistent++] = (uint32_t)e;
    }
  }
  return NSR_OK;
}

void fit_problem_free(fit_problem *fp) {
  for (size_t i = 0; fp->sets && i < fp->data->n_sets; i++) nsr_free(fp->sets[i].consistent);
  nsr_free(fp->sets);
  nsr_free(fp->u);
  nsr_free(fp->post);
  nsr_free(fp->adj);
  nsr_free(fp->g);
  nsr_free(fp->r);
  nsr_free(fp->r_prefix);
  nsr_free(fp->diff);
  nsr_free(fp->qk);
  nsr_free(fp->sim_m);
  nsr_free(fp->sim_d);
  nsr_free(fp->fam_of);
  memset(fp, 0, sizeof *fp);
}

void fit_theta_get(const fit_problem *fp, double *theta) {
  const nsr_space_params *p = &fp->space->params;
  theta[FIT_LAMBDA] = logit(p->lambda);
  theta[FIT_SIGMA] = log(p->sigma);
  theta[FIT_ALPHA] = logit(open_unit(p->alpha));
  theta[FIT_BETA] = logit(p->beta);
  theta[FIT_GAMMA] = log(p->gamma);
  theta[FIT_GAMMA1] = log(p->gamma1);
  theta[FIT_NEAR] = p->b_near;
  theta[FIT_TAU] = log(p->tau);
  theta[FIT_DIGIT] = p->b_digit;
  theta[FIT_DECADE] = p->b_decade;
  for (int k = 0; k < 3; k++) {
    theta[FIT_A_N + k] = p->a_n[k];
    theta[FIT_B_N + k] = p->b_n[k];
  }
  /* Without the hypothesis in the space, a fit of it starts at mass 0.05
   * and τ 10 (0 is not reachable in logit space). */
  bool sim = p->sim_mass > 0;
  theta[FIT_SIM_MASS] = sim ? logit(p->sim_mass) : logit(0.05);
  theta[FIT_SIM_TAU] = log(sim ? p->sim_tau : 10.0);
  if (fp->dim == FIT_FIXED) return;
  /* Splits each production's offset from its file weight into the mean of
   * its family and its own rest. */
  const nsr_space *s = fp->space;
  size_t *members = nsr_calloc(fp->n_fam, sizeof *members);
  for (size_t i = FIT_FIXED; i < fp->prod_base; i++) theta[i] = 0.0;
  for (size_t k = 0; k < s->n_prods; k++) theta[fp->fam_of[k]] += s->prods[k].log_w - s->prods[k].log_w0;
  for (size_t k = 0; members && k < s->n_prods; k++) members[fp->fam_of[k] - FIT_FIXED]++;
  for (size_t f = 0; members && f < fp->n_fam; f++) theta[FIT_FIXED + f] /= (double)members[f];
  if (members == NULL) { /* no room to average: all of it is the productions' own */
    for (size_t i = FIT_FIXED; i < fp->prod_base; i++) theta[i] = 0.0;
  }
  for (size_t k = 0; k < s->n_prods; k++) {
    theta[fp->prod_base + k] = s->prods[k].log_w - s->prods[k].log_w0 - theta[fp->fam_of[k]];
  }
  nsr_free(members);
}

void fit_theta_set(fit_problem *fp, const double *theta) {
  nsr_space *s = fp->space;
  s->params.lambda = open_unit(sigmoid(theta[FIT_LAMBDA]));
  s->params.sigma = exp(theta[FIT_SIGMA]);
  s->params.alpha = open_unit(sigmoid(theta[FIT_ALPHA]));
  s->params.beta = open_unit(sigmoid(theta[FIT_BETA]));
  s->params.gamma = exp(theta[FIT_GAMMA]);
  s->params.gamma1 = exp(theta[FIT_GAMMA1]);
  s->params.b_near = theta[FIT_NEAR];
  s->params.tau = exp(theta[FIT_TAU]);
  s->params.b_digit = theta[FIT_DIGIT];
  s->params.b_decade = theta[FIT_DECADE];
  for (int k = 0; k < 3; k++) {
    s->params.a_n[k] = theta[FIT_A_N + k];
    s->params.b_n[k] = theta[FIT_B_N + k];
  }
  if (fp->opt.fit_sim_hypothesis) {
    s->params.sim_mass = open_unit(sigmoid(theta[FIT_SIM_MASS]));
    s->params.sim_tau = exp(theta[FIT_SIM_TAU]);
  }
  space_interval_prior(s);
  if (fp->dim > FIT_FIXED) {
    for (size_t k = 0; k < s->n_prods; k++) {
      s->prods[k].log_w = s->prods[k].log_w0 + theta[fp->fam_of[k]] + theta[fp->prod_base + k];
    }
    space_tree_weights(s);
    space_forward(s);
  }
}

/* Σ of v[y] over the members of extension e. */
static double sum_members(const nsr_space *s, size_t e, const double *v) {
  const uint64_t *w = s->bits + e * s->words;
  double sum = 0.0;
  for (size_t k = 0; k < s->words; k++) {
    for (uint64_t bits = w[k]; bits; bits &= bits - 1) sum += v[k * 64 + (size_t)__builtin_ctzll(bits)];
  }
  return sum;
}

/* Posterior of every consistent grammar hypothesis into fp->post, of one
 * consistent interval of each size k into fp->qk[k], of the similarity
 * hypothesis into fp->sim_q (its membership in fp->sim_m), and
 * generalization into fp->g[1..N]. */
static void set_posterior(fit_problem *fp, const fit_set *fs) {
  double best;
  long double z;
  const nsr_space *s = fp->space;
  double n = nsr_space_sampling_exponent(&s->params, fs->set->n_examples);
  double lg = log(s->params.lambda) + log1p(-s->params.sim_mass) - s->log_z_grammar;
  double sim_score = -INFINITY;
  best = -INFINITY;
  if (s->params.sim_mass > 0) {
    fp->sim_soft = space_sim_profile(&s->params, fs->set->examples, fs->set->n_examples, s->max, fp->sim_m, fp->sim_d);
    best = sim_score = log(s->params.sim_mass) - n * log(fp->sim_soft);
  }
  for (size_t i = 0; i < fs->n_consistent; i++) {
    uint32_t e = fs->consistent[i];
    fp->post[i] = lg + log(s->pi[e]) - n * log((double)s->ext_size[e]);
    if (fp->post[i] > best) best = fp->post[i];
  }
  for (uint32_t k = fs->hi - fs->lo + 1; k <= s->max; k++) {
    double sc = s->interval_lp[k] - n * log((double)k);
    if (sc > best) best = sc;
  }
  z = sim_score > -INFINITY ? expl(sim_score - best) : 0.0L;
  for (size_t i = 0; i < fs->n_consistent; i++) z += expl(fp->post[i] - best);
  /* Intervals of size k containing [lo, hi] start at a in
   * [max(1, hi − k + 1), min(lo, N − k + 1)]. */
  for (uint32_t k = fs->hi - fs->lo + 1; k <= s->max; k++) {
    uint32_t first = fs->hi >= k ? fs->hi - k + 1 : 1, last = s->max - k + 1 < fs->lo ? s->max - k + 1 : fs->lo;
    fp->qk[k] = exp(s->interval_lp[k] - n * log((double)k) - best);
    if (last >= first) z += (long double)(last - first + 1) * fp->qk[k];
  }
  for (uint32_t k = fs->hi - fs->lo + 1; k <= s->max; k++) fp->qk[k] = (double)(fp->qk[k] / z);
  memset(fp->g, 0, (s->max + 2) * sizeof *fp->g);
  memset(fp->diff, 0, (s->max + 2) * sizeof *fp->diff);
  for (size_t i = 0; i < fs->n_consistent; i++) {
    fp->post[i] = (double)(expl(fp->post[i] - best) / z);
    const uint64_t *w = s->bits + (size_t)fs->consistent[i] * s->words;
    for (size_t k = 0; k < s->words; k++) {
      for (uint64_t bits = w[k]; bits; bits &= bits - 1) fp->g[k * 64 + (size_t)__builtin_ctzll(bits)] += fp->post[i];
    }
  }
  for (uint32_t a = 1; a <= fs->lo; a++) {
    for (uint32_t b = fs->hi; b <= s->max; b++) {
      double q = fp->qk[b - a + 1];
      fp->diff[a] += q;
      fp->diff[b + 1] -= q;
    }
  }
  double run = 0.0;
  fp->sim_q = sim_score > -INFINITY ? (double)(expl(sim_score - best) / z) : 0.0;
  for (uint32_t y = 1; y <= s->max; y++) {
    run += fp->diff[y];
    fp->g[y] += run + (fp->sim_q > 0 ? fp->sim_q * fp->sim_m[y] : 0.0);
  }
}

/* The log-likelihood of one set's cells; adds ∂LL/∂θ for the fixed
 * parameters into d and ∂LL/∂ log p(h) into fp->u. */
static double set_gradient(fit_problem *fp, const fit_set *fs, double *d) {
  const nsr_space *s = fp->space;
  const nsr_space_params *p = &s->params;
  double ll = 0.0, d_alpha = 0.0;
  size_t n = fs->set->n_examples;
  double alpha = nsr_space_attention(p, n);
  set_posterior(fp, fs);
  memset(fp->r, 0, (s->max + 2) * sizeof *fp->r);
  for (size_t c = 0; c < fs->set->n_cells; c++) {
    const nsr_human_cell *cell = &fp->data->cells[fs->set->first_cell + c];
    double g = fp->g[cell->target] < 1.0 ? fp->g[cell->target] : 1.0;
    nsr_similarity f;
    nsr_similarity_of(p, fs->set->examples, fs->set->n_examples, cell->target, &f);
    double beta = nsr_space_guess(p, n, &f);
    double q = alpha * g + (1 - alpha) * beta;
    ll += cell->yes * log(q) + cell->no * log1p(-q);
    double rho = cell->yes / q - cell->no / (1 - q);
    fp->r[cell->target] += rho;
    d_alpha += rho * (g - beta);
    /* ∂LL/∂ logit β_y; every similarity weight moves logit β_y. */
    double d_logit = rho * (1 - alpha) * beta * (1 - beta);
    d[FIT_BETA] += d_logit;
    if (fp->opt.fit_by_n && nsr_space_n_index(n) >= 0) d[FIT_B_N + nsr_space_n_index(n)] += d_logit;
    if (fp->opt.fit_similarity) {
      d[FIT_NEAR] += d_logit * f.near;
      d[FIT_TAU] += d_logit * p->b_near * f.near * f.dist / p->tau;
      d[FIT_DIGIT] += d_logit * f.digit;
      d[FIT_DECADE] += d_logit * f.decade;
    }
  }
  double a_bar = 0.0;
  fp->r_prefix[0] = 0.0;
  for (uint32_t y = 1; y <= s->max; y++) {
    a_bar += alpha * fp->r[y] * fp->g[y];
    fp->r_prefix[y] = fp->r_prefix[y - 1] + fp->r[y];
  }
  /* ∂s_h/∂ log γ = −γ (n − 1) log|h| and ∂s_h/∂ log γ1 = −γ1 log|h|: both
   * are ∂s_h/∂ log|h| (= −exponent) times a share of the exponent. */
  double d_grammar = 0.0, d_interval = 0.0, d_sigma = 0.0, d_log_size = 0.0;
  for (size_t i = 0; i < fs->n_consistent; i++) {
    uint32_t e = fs->consistent[i];
    double ds = fp->post[i] * (alpha * sum_members(s, e, fp->r) - a_bar);
    fp->u[e] += ds;
    d_grammar += ds;
    d_log_size += ds * log((double)s->ext_size[e]);
  }
  for (uint32_t a = 1; a <= fs->lo; a++) {
    for (uint32_t b = fs->hi; b <= s->max; b++) {
      uint32_t k = b - a + 1;
      double q = fp->qk[k];
      double ds = q * (alpha * (fp->r_prefix[b] - fp->r_prefix[a - 1]) - a_bar);
      d_interval += ds;
      d_sigma += ds * (k - s->interval_mean_size) / p->sigma;
      d_log_size += ds * log((double)k);
    }
  }
  if (fp->sim_q > 0) {
    /* S predicts m(y) = exp(−d/τ) with soft size M = Σ m: ∂s_S/∂ log τ =
     * −e Σ m d/τ / M (e the sampling exponent), ∂g_y/∂ log τ through m
     * = q_S m(y) d(y)/τ; its mass moves s_S alone in effect, since every
     * other score moves by −μ and Σ_h ∂LL/∂s_h = 0. */
    double a_s = 0.0, dm_rho = 0.0, dm_sum = 0.0;
    for (uint32_t y = 1; y <= s->max; y++) {
      double dm = fp->sim_m[y] * fp->sim_d[y] / p->sim_tau;
      a_s += fp->r[y] * fp->sim_m[y];
      dm_rho += fp->r[y] * dm;
      dm_sum += dm;
    }
    double ds = fp->sim_q * (alpha * a_s - a_bar);
    d_log_size += ds * log(fp->sim_soft);
    if (fp->opt.fit_sim_hypothesis) {
      double e = nsr_space_sampling_exponent(p, fs->set->n_examples);
      d[FIT_SIM_MASS] += ds;
      d[FIT_SIM_TAU] += fp->sim_q * alpha * dm_rho - ds * e * dm_sum / fp->sim_soft;
    }
  }
  if (fp->opt.fit_gamma) {
    d[FIT_GAMMA] -= d_log_size * p->gamma * (double)(fs->set->n_examples - 1);
    d[FIT_GAMMA1] -= d_log_size * p->gamma1;
  }
  d[FIT_LAMBDA] += (1 - p->lambda) * d_grammar - p->lambda * d_interval;
  d[FIT_SIGMA] += d_sigma;
  /* α_n = sigmoid(logit α + a_n): both move logit α_n. */
  d[FIT_ALPHA] += d_alpha * alpha * (1 - alpha);
  if (fp->opt.fit_by_n && nsr_space_n_index(n) >= 0) d[FIT_A_N + nsr_space_n_index(n)] += d_alpha * alpha * (1 - alpha);
  return ll;
}

/* ∂LL/∂ log w for every production, from fp->u, back along the edges. */
static void weight_gradient(fit_problem *fp, double *d) {
  const nsr_space *s = fp->space;
  double total = 0.0;
  for (size_t e = 0; e < s->n_ext; e++) total += fp->u[e];
  double z = exp(s->log_z_grammar);
  for (size_t c = 0; c < s->n_classes; c++) {
    uint32_t e = s->classes[c].ext;
    /* ∂LL/∂π(e), Z_G included: log p(h) = log λ + log π(h) − log Z_G. */
    fp->adj[c] = fp->u[e] / s->pi[e] - total / z;
  }
  for (size_t i = s->n_edges; i-- > 0;) {
    const space_edge *ed = &s->edges[i];
    double w = ed->mult * exp(s->prods[ed->prod].log_w);
    double pa = ed->a == SPACE_NONE ? 1.0 : s->classes[ed->a].pi;
    double pb = ed->b == SPACE_NONE ? 1.0 : s->classes[ed->b].pi;
    double up = fp->adj[ed->parent];
    d[fp->prod_base + ed->prod] += up * w * pa * pb;
    if (ed->a != SPACE_NONE) fp->adj[ed->a] += up * w * pb;
    if (ed->b != SPACE_NONE) fp->adj[ed->b] += up * w * pa;
  }
}

double fit_objective(fit_problem *fp, const double *theta, double *grad) {
  fit_theta_set(fp, theta);
  const nsr_space *s = fp->space;
  memset(grad, 0, fp->dim * sizeof *grad);
  memset(fp->u, 0, s->n_ext * sizeof *fp->u);
  double ll = 0.0;
  for (size_t i = 0; i < fp->data->n_sets; i++) ll += set_gradient(fp, &fp->sets[i], grad);
  if (fp->dim > FIT_FIXED) {
    weight_gradient(fp, grad);
    /* A family's offset moves all its productions' log weights. */
    for (size_t k = 0; k < s->n_prods; k++) grad[fp->fam_of[k]] += grad[fp->prod_base + k];
  }
  fp->log_lik = ll;
  /* Gaussian priors on the weight offsets (around the space file's weights)
   * and on log σ (around its σ). */
  double log_prior = 0.0, var = fp->opt.weight_sd * fp->opt.weight_sd;
  double fam_var = fp->opt.family_sd * fp->opt.family_sd;
  for (size_t i = FIT_FIXED; i < fp->dim; i++) {
    double v = i < fp->prod_base ? fam_var : var;
    log_prior -= theta[i] * theta[i] / (2 * v);
    grad[i] -= theta[i] / v;
  }
  double sigma_dev = theta[FIT_SIGMA] - log(s->sigma0), sigma_var = fp->opt.sigma_sd * fp->opt.sigma_sd;
  log_prior -= sigma_dev * sigma_dev / (2 * sigma_var);
  grad[FIT_SIGMA] -= sigma_dev / sigma_var;
  for (size_t i = 0; i < fp->dim; i++) grad[i] = -grad[i];
  return -(ll + log_prior);
}
