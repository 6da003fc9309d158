/* numbers_church.c: each rule of the number game as a Church predicate, so
 * a stored concept says what it means in the language that can check it. */
#include <stdio.h>

#include "numbers.h"

/* Rule indices by family, as in numbers_space.c. */
#define FIRST_MULTIPLES 5
#define FIRST_POWERS 15
#define FIRST_ENDS 24

void nsr_numbers_rule_church(uint32_t rule, char *buf, size_t len) {
  if (rule == 0) {
    snprintf(buf, len, "(lambda (x) (= (modulo x 2) 0))");
  } else if (rule == 1) {
    snprintf(buf, len, "(lambda (x) (= (modulo x 2) 1))");
  } else if (rule == 2 || rule == 3) {
    /* k^2 or k^3 for some k >= 1, searched upwards: exact, no roots. */
    snprintf(buf, len,
             "(lambda (x) (let loop ((k 1)) (cond ((= (expt k %d) x) #t) "
             "((> (expt k %d) x) #f) (else (loop (+ k 1))))))",
             rule == 2 ? 2 : 3, rule == 2 ? 2 : 3);
  } else if (rule == 4) {
    snprintf(buf, len,
             "(lambda (x) (and (> x 1) (let loop ((d 2)) (cond ((> (* d d) x) #t) "
             "((= (modulo x d) 0) #f) (else (loop (+ d 1)))))))");
  } else if (rule < FIRST_POWERS) {
    snprintf(buf, len, "(lambda (x) (= (modulo x %u) 0))", rule - FIRST_MULTIPLES + 3);
  } else if (rule < FIRST_ENDS) {
    /* b^e for some e >= 1: 1 = b^0 is not a power. */
    snprintf(buf, len,
             "(lambda (x) (let loop ((p %u)) (cond ((= p x) #t) ((> p x) #f) "
             "(else (loop (* p %u))))))",
             rule - FIRST_POWERS + 2, rule - FIRST_POWERS + 2);
  } else if (rule < NSR_NUMBERS_RULES) {
    snprintf(buf, len, "(lambda (x) (= (modulo x 10) %u))", rule - FIRST_ENDS);
  } else if (len > 0) {
    buf[0] = '\0';
  }
}
