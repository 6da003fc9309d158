/* lang_prelude.c: the part of Church's library written in Church. These
 * procedures call user procedures, so they run in the evaluator: their
 * calls are traced by the inference engines like any other, and the
 * loops below are tail calls. The commonest loops, %map1 (map over one
 * list), filter, for-each and repeat, are the machine's own
 * (lang_eval_iter.c); they apply their procedure to the items in order,
 * so random choices are made in the same order as webchurch's.
 *
 * A procedure is read and defined at its first use (lang_prelude_load):
 * most programs use a few, and reading them all was most of what making
 * an interpreter cost. The entries are in the order of one text, whose
 * line numbers their positions keep. */
#include <assert.h>
#include <string.h>

#include "lang_internal.h"

const lang_prelude_def lang_prelude[] = {
    {"%map2",
     "(define (%map2 f a b)\n"
     "  (if (or (null? a) (null? b))\n"
     "      '()\n"
     "      (cons (f (car a) (car b)) (%map2 f (cdr a) (cdr b)))))\n"},
    {"map",
     "(define (map f l . ls)\n"
     "  (cond\n"
     "    ((null? ls) (%map1 f l))\n"
     "    ((null? (cdr ls)) (%map2 f l (car ls)))\n"
     "    (else\n"
     "      (let loop ((ls (cons l ls)))\n"
     "        (if (any (%map1 null? ls))\n"
     "            '()\n"
     "            (cons (apply f (%map1 car ls)) (loop (%map1 cdr ls))))))))\n"},
    {"void",
     "(define (void) (if #f #f))\n"},
    {"fold",
     ";; webchurch's fold: (f item ... accumulator), left to right.\n"
     "(define (fold f init l . ls)\n"
     "  (if (null? ls)\n"
     "      (let loop ((acc init) (l l))\n"
     "        (if (null? l) acc (loop (f (car l) acc) (cdr l))))\n"
     "      (let loop ((acc init) (ls (cons l ls)))\n"
     "        (if (any (%map1 null? ls))\n"
     "            acc\n"
     "            (loop (apply f (append (%map1 car ls) (list acc)))\n"
     "                  (%map1 cdr ls))))))\n"},
    {"foldl",
     "(define (foldl f init l)\n"
     "  (if (null? l) init (foldl f (f init (car l)) (cdr l))))\n"},
    {"foldr",
     "(define (foldr f init l)\n"
     "  (if (null? l) init (f (car l) (foldr f init (cdr l)))))\n"},
    {"reduce",
     ";; SRFI-1 reduce: fold without a seed; the seed is returned for ().\n"
     "(define (reduce f seed l)\n"
     "  (if (null? l) seed (fold f (car l) (cdr l))))\n"},
    {"partition",
     "(define (partition p l)\n"
     "  (list (filter p l) (filter (lambda (x) (not (p x))) l)))\n"},
    {"count",
     "(define (count p l) (length (filter p l)))\n"},
    {"identity",
     "(define (identity x) x)\n"},
    {"sample",
     "(define (sample thunk) (thunk))\n"},
    {"compose",
     "(define (compose . fs)\n"
     "  (if (null? fs)\n"
     "      identity\n"
     "      (lambda args ((car fs) (apply (apply compose (cdr fs)) args)))))\n"},
    {"list-tail",
     "(define (list-tail l k) (drop l k))\n"},
    {"flatten",
     "(define (flatten x)\n"
     "  (cond ((null? x) '())\n"
     "        ((pair? x) (append (flatten (car x)) (flatten (cdr x))))\n"
     "        (else (list x))))\n"},
    {"%before?",
     ";; A comparator may answer a boolean (a before b) or, as in webchurch,\n"
     ";; a number (negative: a before b).\n"
     "(define (%before? cmp a b)\n"
     "  (let ((r (cmp a b))) (if (number? r) (< r 0) r)))\n"},
    {"%merge",
     "(define (%merge cmp a b)\n"
     "  (cond ((null? a) b)\n"
     "        ((null? b) a)\n"
     "        ((%before? cmp (car b) (car a)) (cons (car b) (%merge cmp a (cdr b))))\n"
     "        (else (cons (car a) (%merge cmp (cdr a) b)))))\n"},
    {"sort",
     "(define (sort l . cmp)\n"
     "  (let ((cmp (if (null? cmp) < (car cmp)))\n"
     "        (n (length l)))\n"
     "    (if (< n 2)\n"
     "        l\n"
     "        (%merge cmp (sort (take l (quotient n 2)) cmp)\n"
     "                (sort (drop l (quotient n 2)) cmp)))))\n"},
    /* DPmem: stochastic memoization by a Dirichlet process (the Chinese
     * restaurant process). Each argument list has its own restaurant, a list
     * of (value . customers) tables; a call sits at a table in proportion to
     * its customers, or at a new one (a fresh (f args ...)) in proportion to
     * alpha. */
    {"DPmem",
     "(define (DPmem alpha f)\n"
     "  (let ((restaurants (make-hash-table)))\n"
     "    (lambda args\n"
     "      (let* ((tables (hash-table-ref restaurants args '()))\n"
     "             (k (sample-discrete (append (map rest tables) (list alpha)))))\n"
     "        (if (= k (length tables))\n"
     "            (let ((v (apply f args)))\n"
     "              (hash-table-set! restaurants args (append tables (list (pair v 1))))\n"
     "              v)\n"
     "            (let ((table (list-ref tables k)))\n"
     "              (hash-table-set! restaurants args\n"
     "                               (update-list tables k (pair (first table) (+ 1 (rest table)))))\n"
     "              (first table)))))))\n"},
    {"max-of",
     "(define (max-of l) (apply max l))\n"},
    /* webchurch names some programs use. */
    {"true",
     "(define true #t)\n"},
    {"false",
     "(define false #f)\n"},
    {"soft-equal",
     "(define (soft-equal y x tol) (and (> y (- x tol)) (< y (+ x tol))))\n"},
    {"variance",
     "(define (variance l)\n"
     "  (let ((m (mean l))) (mean (map (lambda (x) (* (- x m) (- x m))) l))))\n"},
    {"but-last",
     "(define (but-last l) (take l (- (length l) 1)))\n"},
    {"min-of",
     "(define (min-of l) (apply min l))\n"},
    {"soft=",
     "(define soft= soft-equal)\n"},
    {"make-gensym",
     ";; A gensym makes a new symbol at each call: PREFIX0, PREFIX1, ...\n"
     "(define (make-gensym . prefix)\n"
     "  (let ((p (cond ((null? prefix) \"g\")\n"
     "                 ((symbol? (car prefix)) (symbol->string (car prefix)))\n"
     "                 (else (car prefix))))\n"
     "        (n -1))\n"
     "    (lambda () (set! n (+ n 1)) (string->symbol (string-append p (number->string n))))))\n"},
    {"gensym",
     "(define (gensym) (set! %gensym-count (+ %gensym-count 1)) (string->symbol (string-append \"g\" (number->string %gensym-count))))\n"},
    {"%conditional-kind",
     ";; webchurch's conditional: its method, '(enumerate), '(rejection) or\n"
     ";; '(mh LAG), as the query method that draws one sample, and that\n"
     ";; sample from the query's answer.\n"
     "(define (%conditional-kind m) (if (pair? m) (car m) m))\n"},
    {"%conditional-method",
     ";; (No case here: under webchurch, case evaluates its data.)\n"
     "(define (%conditional-method m)\n"
     "  (let ((kind (%conditional-kind m)))\n"
     "    (cond ((memv kind '(enumerate enumeration)) 'enumerate)\n"
     "          ((eqv? kind 'rejection) '(rejection 1))\n"
     "          ((eqv? kind 'mh) (list 'mh 1 (if (and (pair? m) (pair? (cdr m))) (second m) 1)))\n"
     "          (else (error \"conditional: the method must be '(enumerate), '(rejection) or '(mh LAG)\")))))\n"},
    {"%conditional-draw",
     "(define (%conditional-draw m answer)\n"
     "  (if (memv (%conditional-kind m) '(enumerate enumeration))\n"
     "      (multinomial (first answer) (second answer))\n"
     "      (first answer)))\n"},
    /* Last, so the lines above keep their numbers. */
    {"%gensym-count",
     ";; gensym is make-gensym's with the prefix g, its count kept here.\n"
     "(define %gensym-count -1)\n"},
    {NULL, NULL},
};
_Static_assert(sizeof lang_prelude / sizeof lang_prelude[0] <= UINT8_MAX,
               "an entry's number fits a symbol's `prelude`");

/* The line of the prelude's text on which entry `entry` starts. */
static uint32_t first_line(size_t entry) {
  uint32_t line = 1;
  for (size_t i = 0; i < entry; i++) {
    for (const char *c = lang_prelude[i].text; (c = strchr(c, '\n')) != NULL; c++) line++;
  }
  return line;
}

lang_rc lang_prelude_start(nsr_lang *I) {
  for (size_t i = 0; lang_prelude[i].text != NULL; i++) {
    lang_symbol *s;
    if (lang_intern(I, lang_prelude[i].name, strlen(lang_prelude[i].name), &s) != LANG_OK) {
      return LANG_ERROR;
    }
    s->prelude = (uint8_t)(i + 1);
  }
  return LANG_OK;
}

lang_rc lang_prelude_load(nsr_lang *I, lang_symbol *s) {
  assert(s->prelude != 0 && !s->bound && "only an unbound library name is loaded");
  size_t entry = s->prelude - 1u;
  const char *text = lang_prelude[entry].text;
  lang_site site = I->site;
  lval form, value;
  lang_rc rc = lang_read_all(I, I->library_file, first_line(entry), text, strlen(text), &form);
  if (rc == LANG_OK) rc = lang_expand(I, lang_car(form), &form);
  if (rc == LANG_OK) {
    /* (define name VALUE): a lambda, another library name, or a constant */
    value = lang_car(lang_cdr(lang_cdr(form)));
    if (value.type == NSR_LANG_PAIR) {
      rc = lang_make_closure(I, value, NULL, &value);
      if (rc == LANG_OK) LANG_CLOSURE(value)->name = lang_obj_val(NSR_LANG_SYMBOL, s);
    } else if (value.type == NSR_LANG_SYMBOL) {
      lang_symbol *other = LANG_SYM(value);
      if (!other->bound) rc = lang_prelude_load(I, other);
      value = other->global;
    }
  }
  I->site = site;
  if (rc != LANG_OK) return rc;
  s->global = value;
  s->bound = true;
  s->prelude = 0;
  return LANG_OK;
}
