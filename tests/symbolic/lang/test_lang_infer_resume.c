/* test_lang_infer_resume.c: exact enumeration and Metropolis-Hastings that
 * resume at choice points (symbolic/lang/lang_infer_resume.c) against the
 * same queries re-running every path or proposal from the start
 * (nsr_lang_config.replay_queries: the algorithms resumption replaced,
 * which share none of its code). On models that exercise each case
 * resumption must handle, both give the same answer digit for digit
 * (enumeration: the same paths in the same order with the same weights;
 * MH: the same chain, since a resumed run consumes the random stream as a
 * full run does) and print the same output; and resumption evaluates fewer
 * steps. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lang_test.h"

static const char *const models[] = {
    /* Choices deep in a recursion (map), definitions after them. */
    "(enumeration-query\n"
    "  (define xs (map (lambda (p) (flip p)) '(0.1 0.2 0.3 0.4 0.5)))\n"
    "  (define n (length (filter (lambda (x) x) xs)))\n"
    "  (list n (first xs)) (>= n 2))",
    /* Factors between choices, a tail-recursive loop. */
    "(define (walk k x) (if (= k 0) x (begin (factor (if (> x 1) -1 0))\n"
    "                                       (walk (- k 1) (+ x (if (flip 0.3) 1 -1))))))\n"
    "(enumeration-query (define end (walk 6 0)) end (> end -3))",
    /* mem made inside the model: its cache entries are undone. */
    "(enumeration-query\n"
    "  (define f (mem (lambda (i) (uniform-draw '(a b c)))))\n"
    "  (define g (mem flip))\n"
    "  (list (f 1) (f 2) (f 1) (g 0.3) (g 0.3))\n"
    "  (not (eq? (f 1) (f 2))))",
    /* mem made outside the query: changing its cache is an effect, and
     * every later path is replayed as before. */
    "(define h (mem (lambda (i) (flip 0.6))))\n"
    "(enumeration-query (define a (flip)) (list a (h 1) (h 2)) #t)",
    /* set! and vector-set!: effects. */
    "(define count 0)\n"
    "(define d (enumeration-query (define a (flip)) (define _ (set! count (+ count 1)))\n"
    "                             (define b (flip)) (list a b) (or a b)))\n"
    "(list d count)",
    "(enumeration-query (define v (make-vector 2 0)) (define a (flip))\n"
    "  (define _ (vector-set! v 0 (if a 1 2))) (define b (flip)) (list (vector-ref v 0) b) #t)",
    /* Output inside the model, before and between choices. */
    "(enumeration-query (define s (display 's)) (define a (flip)) (define t (display a))\n"
    "  (define b (flip 0.2)) (define u (display b)) (list a b) #t)",
    /* A query nested in the model, which enumerates by replay inside the
     * resuming one. */
    "(define (speaker state) (enumeration-query (define w (uniform-draw '(some all none)))\n"
    "  w (or (and (eq? w 'all) (= state 3)) (and (eq? w 'some) (> state 0))\n"
    "        (and (eq? w 'none) (= state 0)))))\n"
    "(enumeration-query (define state (uniform-draw '(0 1 2 3)))\n"
    "  (define said (multinomial (first (speaker state)) (second (speaker state))))\n"
    "  state (eq? said 'some))",
    /* apply, eval (a nested activation: its choice gets no resume point),
     * multinomial and a redefined variable. */
    "(enumeration-query (define a (apply flip '(0.3))) (define b (eval '(flip 0.6)))\n"
    "  (define c (multinomial '(x y z) '(0.2 0.3 0.5))) (define a (if c (not a) a))\n"
    "  (list a b c) (or a b))",
    /* A condition in the middle: paths end before their last choices. */
    "(enumeration-query (define a (flip 0.4)) (condition a) (define b (uniform-draw '(1 2 3)))\n"
    "  (define c (if (= b 2) (flip) #f)) (list b c) (or c (> b 1)))",
    /* A closure made before a choice reads a variable defined after it. */
    "(enumeration-query (define (total) (+ x y)) (define x (if (flip) 1 2))\n"
    "  (define y (if (flip 0.7) 10 20)) (total) #t)",
};

/* MH chains: every proposal is accepted or rejected as under replay, so a
 * rejected proposal's changes must be taken back exactly. */
static const char *const chains[] = {
    /* Support changes: the proposal's run is rejected outright. */
    "(mh-query 300 2 (define f (flip)) (define x (uniform-draw (if f '(0) '(0 1)))) (list f x) #t)",
    /* mem inside the model, gaussian drift, a hard condition (tug of war). */
    "(mh-query 300 3 (define s (mem (lambda (p) (gaussian 0 1))))\n"
    "  (define (lazy p) (flip 0.3)) (define (pull p) (if (lazy p) (/ (s p) 2) (s p)))\n"
    "  (s 'a) (> (+ (pull 'a) (pull 'b)) (+ (pull 'c) (pull 'a))))",
    /* Factors between choices; internal definitions in a helper's frames. */
    "(define (walk k x) (define step (if (flip 0.3) 1 -1))\n"
    "  (if (= k 0) x (begin (factor (- (abs x))) (walk (- k 1) (+ x step)))))\n"
    "(mh-query 300 1 (walk 5 0) #t)",
    /* A redefinition, and a closure made before the choices it reads. */
    "(mh-query 200 1 (define (total) (+ x y)) (define x (if (flip) 1 2))\n"
    "  (define y (gaussian x 1)) (define x (+ x 10)) (total) (> y 0))",
    /* Beta and dirichlet under mem, an observed draw. */
    "(mh-query 200 2 (define bias (beta 1 1))\n"
    "  (define w (mem (lambda (c) (beta (* 4 bias) (* 4 (- 1 bias))))))\n"
    "  (define mix (dirichlet '(1 1 1)))\n"
    "  (list bias (w 'a) (first mix))\n"
    "  (and (flip (w 'a)) (flip (w 'a)) (not (flip (w 'b))) (= 0.4 (gaussian (second mix) 0.2))))",
    /* A query nested in the model: enumeration, and a sampling query whose
     * seed is a choice of the chain. */
    "(define (speaker state) (enumeration-query (define w (uniform-draw '(some all none)))\n"
    "  w (or (and (eq? w 'all) (= state 3)) (and (eq? w 'some) (> state 0))\n"
    "        (and (eq? w 'none) (= state 0)))))\n"
    "(mh-query 200 1 (define state (uniform-draw '(0 1 2 3)))\n"
    "  (define said (multinomial (first (speaker state)) (second (speaker state))))\n"
    "  (define inner (mh-query 5 1 (define c (flip (/ state 4))) c #t))\n"
    "  (list state (length (filter (lambda (x) x) inner))) (eq? said 'some))",
    /* A condition most runs fail; apply and eval (no resume point). */
    "(mh-query 200 1 (define xs (repeat 6 (lambda () (apply flip '(0.4)))))\n"
    "  (define e (eval '(flip 0.6)))\n"
    "  (list e (length (filter (lambda (x) x) xs))) (> (length (filter (lambda (x) x) xs)) 3))",
    /* The first resume point at choice 40, past the points' first room:
     * the choices before it, made by eval, get none. */
    "(mh-query 50 1 (define xs (repeat 40 (lambda () (eval '(flip))))) (define y (flip))\n"
    "  (list (length (filter (lambda (x) x) xs)) y) #t)",
    /* Effects: output, set!, a mem made outside the query. */
    "(mh-query 30 1 (define a (flip)) (define _ (display a)) (define b (flip)) (list a b) (or a b))",
    "(define count 0)\n"
    "(define d (mh-query 50 1 (define a (flip)) (define b (flip))\n"
    "  (define _ (if b (set! count (+ count 1)) 0)) (define c (flip)) (list a b c) (or a c)))\n"
    "(list d count)",
    "(define h (mem (lambda (i) (flip 0.6))))\n"
    "(mh-query 100 1 (define a (flip)) (define b (flip)) (list a b (h 1) (h 2)) (or a b))",
};

/* SMC: particles go on from the barrier they stopped at, the heap switched
 * between them; copies made by resampling share their parent's past. */
static const char *const particles[] = {
    /* Definitions between barriers, in the environment the copies share. */
    "(query '(smc 100) (define a (gaussian 0 1)) (factor (- (* a a)))\n"
    "  (define b (gaussian a 1)) (factor (- (abs (- b 1))))\n"
    "  (define c (flip)) (condition (or c (> b 0))) (define a (+ a 10)) (list a b c) #t)",
    /* mem made in the model, read on both sides of barriers; a loop. */
    "(define (walk k x f) (if (= k 0) x\n"
    "  (begin (factor (- (abs (- x (f k))))) (walk (- k 1) (+ x (gaussian 0 1)) f))))\n"
    "(query '(smc 80) (define f (mem (lambda (k) (uniform-draw '(0 1 2)))))\n"
    "  (list (walk 6 0 f) (f 1) (f 2)) #t)",
    /* A barrier met inside a library procedure's C loop (no kept machine:
     * those particles replay), observations. */
    "(query '(smc 60) (define xs (list (gaussian 0 1) (gaussian 0 1) (gaussian 0 1)))\n"
    "  (define s (sort xs (lambda (a b) (factor -0.1) (< a b))))\n"
    "  (define y (gaussian (first s) 1)) (condition (= 0.5 (gaussian y 0.5))) (list s y) #t)",
    /* A query nested in the model between barriers. */
    "(define (inner p) (enumeration-query (define c (flip p)) (define d (flip p)) (list c d) (or c d)))\n"
    "(query '(smc 40) (define p (uniform-draw '(0.2 0.5 0.8))) (factor (- p))\n"
    "  (define dist (inner p)) (define k (multinomial (first dist) (second dist)))\n"
    "  (factor (if (first k) 0 -1)) (list p k) #t)",
    /* Effects: output between barriers; rejuvenation. */
    "(query '(smc 20) (define a (flip)) (factor (if a 0 -1)) (define _ (display a))\n"
    "  (define b (flip)) (factor (if b -1 0)) (list a b) #t)",
    "(query '(smc 30 2) (define a (gaussian 0 1)) (factor (- a)) (define b (gaussian a 1))\n"
    "  (factor (- (* b b))) (list a b) #t)",
};

/* The defaults, seed 3, enumerating by replay or by resumption. */
static nsr_lang_config config(bool replay) {
  nsr_lang_config cfg;
  nsr_lang_config_default(&cfg);
  cfg.seed = 3;
  cfg.replay_queries = replay;
  return cfg;
}

static nsr_lang *interpreter(bool replay, size_t max_memory) {
  nsr_lang_config cfg = config(replay);
  if (max_memory != 0) cfg.max_memory = max_memory;
  return lt_new_config(&cfg);
}

/* src gives the same answer and output resumed as replayed. */
static void expect_as_replayed(const char *src, size_t max_memory) {
  nsr_lang *replay = interpreter(true, max_memory), *resume = interpreter(false, max_memory);
  char *want = strdup(lt_eval(replay, src));
  assert_non_null(want);
  const char *got = lt_eval(resume, src);
  if (strcmp(got, want) != 0) fail_msg("%s\nresumed %s, replayed %s", src, got, want);
  free(want);
  size_t n_replay, n_resume;
  const char *out_replay = nsr_lang_output(replay, &n_replay);
  const char *out_resume = nsr_lang_output(resume, &n_resume);
  if (n_replay != n_resume || memcmp(out_replay, out_resume, n_replay) != 0) {
    fail_msg("%s\nprinted %.*s, replay printed %.*s", src, (int)n_resume, out_resume, (int)n_replay,
             out_replay);
  }
  nsr_lang_free(replay);
  nsr_lang_free(resume);
}

static void test_same_answers_as_replay(void **state) {
  (void)state;
  for (size_t i = 0; i < sizeof models / sizeof models[0]; i++) expect_as_replayed(models[i], 0);
}

static void test_same_chains_as_replay(void **state) {
  (void)state;
  for (size_t i = 0; i < sizeof chains / sizeof chains[0]; i++) expect_as_replayed(chains[i], 0);
}

static void test_same_particles_as_replay(void **state) {
  (void)state;
  for (size_t i = 0; i < sizeof particles / sizeof particles[0]; i++) {
    expect_as_replayed(particles[i], 0);
  }
}

/* Eight choices each made 300 calls deep: their stacks (about 50 KB each)
 * pass the eighth of a 2 MiB budget that resume points may hold, so the
 * later ones are not captured (choices 6 and 7; checked once by hand) and
 * their paths resume earlier. A path whose 40,000 internal definitions
 * would take the trail past that eighth turns resumption off (at 4,096
 * entries; checked once by hand). Either way the
 * answer is replay's, and the budget is not exhausted. */
static void test_within_the_memory_budget(void **state) {
  (void)state;
  expect_as_replayed("(define (helper x) (define y (* x 2)) (define z (+ y 1)) z)\n"
                     "(define (loop n acc) (if (= n 0) acc (loop (- n 1) (+ acc (helper n)))))\n"
                     "(enumeration-query (define a (flip)) (define s (loop 20000 0))\n"
                     "  (define b (flip)) (list a b s) #t)",
                     (size_t)2 << 20);
  expect_as_replayed("(define (deep n) (if (= n 0) (flip 0.3) (not (not (deep (- n 1))))))\n"
                     "(enumeration-query (define xs (repeat 8 (lambda () (deep 300))))\n"
                     "  (length (filter (lambda (x) x) xs)) #t)",
                     (size_t)2 << 20);
}

/* SMC's particles keep their machines (200 particles stopped 300 calls
 * deep: about 3 MB) and their changes (50 particles, each with 4,000
 * internal definitions: about 14 MB) within an eighth of a 2 MiB budget;
 * past it they replay, with replay's answers and without exhausting the
 * budget. */
static void test_particles_within_the_memory_budget(void **state) {
  (void)state;
  expect_as_replayed("(define (deep n) (if (= n 0) (begin (factor (- (gaussian 0 1))) 0)\n"
                     "  (+ 1 (deep (- n 1)))))\n"
                     "(query '(smc 200) (define a (deep 300)) (define b (deep 300)) (list a b) #t)",
                     (size_t)2 << 20);
  expect_as_replayed("(define (helper x) (define y (* x 2)) y)\n"
                     "(define (loop n acc) (if (= n 0) acc (loop (- n 1) (+ acc (helper n)))))\n"
                     "(query '(smc 50) (define a (gaussian 0 1)) (define s (loop 2000 a))\n"
                     "  (factor (- (* a a))) (define t (loop 2000 s)) (factor (- a)) t #t)",
                     (size_t)2 << 20);
}

/* The fewest steps `src` runs in, resuming or replaying. */
static uint64_t steps_needed(const char *src, bool replay) {
  nsr_lang_config cfg = config(replay);
  return lt_steps_needed(&cfg, src);
}

/* Resumption runs src in fewer than num/den of the steps replay takes. */
static void expect_fewer_steps(const char *src, uint64_t num, uint64_t den) {
  uint64_t replay = steps_needed(src, true), resume = steps_needed(src, false);
  if (!(resume * den < replay * num)) {
    fail_msg("%s\nresumed: %llu steps, replayed: %llu", src, (unsigned long long)resume,
             (unsigned long long)replay);
  }
}

/* 2^10 paths through ten flips made in a map: a path that changes only its
 * last choices resumes after the map's other steps. About half of a run's
 * steps come before its last choice (the rest count the heads), so
 * resumption must save at least a quarter of them (it saves 51%). */
static void test_fewer_steps(void **state) {
  (void)state;
  expect_fewer_steps("(enumeration-query (define xs (map (lambda (i) (flip)) (iota 10)))\n"
                     "  (length (filter (lambda (x) x) xs)) #t)",
                     3, 4);
}

/* 300 MH steps on ten flips made in a map: each proposal changes one flip,
 * chosen uniformly, and resumes there, so it skips on average the steps
 * before the 5.5th of ten evenly spaced choices: about half of the half of
 * a run that comes before its last choice (see above), a quarter. So
 * resumption must save at least a fifth of the steps (it saves 40%). */
static void test_fewer_steps_mh(void **state) {
  (void)state;
  expect_fewer_steps("(mh-query 300 1 (define xs (map (lambda (i) (flip)) (iota 10)))\n"
                     "  (length (filter (lambda (x) x) xs)) #t)",
                     4, 5);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_same_answers_as_replay),
      cmocka_unit_test(test_same_chains_as_replay),
      cmocka_unit_test(test_same_particles_as_replay),
      cmocka_unit_test(test_within_the_memory_budget),
      cmocka_unit_test(test_particles_within_the_memory_budget),
      cmocka_unit_test(test_fewer_steps),
      cmocka_unit_test(test_fewer_steps_mh),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
