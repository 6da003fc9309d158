/* test_lang_plot.c: figures (symbolic/lang/lang_plot*.c, lang_svg.c). The
 * numeric rules against hand computations, the text summaries, the SVG
 * files (well-formed: xmllint when installed, a structural check always),
 * hostile titles, bounds, budgets and bad arguments. */
#include "lang_test.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fileio.h"
#include "lang_plot.h"

/* ---- the numeric rules ---------------------------------------------------- */

static void test_quantiles_and_bin_counts(void **state) {
  (void)state;
  static double grid[3000];
  for (int i = 0; i < 3000; i++) grid[i] = i;
  /* Linear interpolation at q (n - 1): 0.25 * 2999 = 749.75. */
  assert_float_equal(plot_quantile(grid, 3000, 0.25), 749.75, 1e-12);
  assert_float_equal(plot_quantile(grid, 3000, 1.0), 2999, 1e-12);
  /* Freedman-Diaconis on an even grid: IQR is half the range, so the
   * range over 2 IQR / n^(1/3) is n^(1/3) = 14.42 for 3000: 15 bins. */
  assert_int_equal(plot_bin_count(grid, 3000), 15);
  /* Its bins: width 2999 / 15 = 199.9 rounded up to 200, from 0; 15 bins
   * of 200 values each. */
  double start, width;
  assert_int_equal(plot_bins(grid, 3000, &start, &width), 15);
  assert_float_equal(start, 0, 1e-12);
  assert_float_equal(width, 200, 1e-12);
  uint64_t counts[16];
  plot_bin_counts(grid, 3000, start, width, 15, counts);
  for (int b = 0; b < 15; b++) assert_int_equal(counts[b], 200);
  /* An IQR of 0 (90 zeros, then 1..10): Sturges, ceil(log2 100) + 1 = 8. */
  double spike[100] = {0};
  for (int i = 0; i < 10; i++) spike[90 + i] = i + 1;
  assert_int_equal(plot_bin_count(spike, 100), 8);
  /* Three values: FD gives 2, raised to the minimum of 5; width 1.25 / 5 =
   * 0.25 (already round), from floor(-0.3 / 0.25) * 0.25 = -0.5, up to the
   * bin holding 0.95: floor(1.45 / 0.25) + 1 = 6 bins. */
  double three[] = {-0.3, 0.1, 0.95};
  assert_int_equal(plot_bin_count(three, 3), PLOT_MIN_BINS);
  assert_int_equal(plot_bins(three, 3, &start, &width), 6);
  assert_float_equal(start, -0.5, 1e-12);
  assert_float_equal(width, 0.25, 1e-12);
  plot_bin_counts(three, 3, start, width, 6, counts);
  uint64_t expected[] = {1, 0, 1, 0, 0, 1};
  for (int b = 0; b < 6; b++) assert_int_equal(counts[b], expected[b]);
  /* One value: one bin of width 1 around it. */
  double same[] = {7, 7, 7};
  assert_int_equal(plot_bins(same, 3, &start, &width), 1);
  assert_float_equal(start, 6.5, 1e-12);
}

static void test_bandwidth_and_kde(void **state) {
  (void)state;
  /* s of 1..5 is sqrt(2.5); 1.06 sqrt(2.5) 5^(-1/5) = 1.2147359 (by hand
   * with a calculator). */
  double five[] = {1, 2, 3, 4, 5};
  assert_float_equal(plot_bandwidth(five, 5), 1.2147359, 1e-6);
  double one[] = {40};
  assert_float_equal(plot_bandwidth(one, 1), 4.0, 1e-12); /* 0.1 max(1, |mean|) */
  /* Epanechnikov, samples {0, 1}, h = 1: at 0.5 both kernels give
   * 0.75 (1 - 0.25), so (0.5625 + 0.5625) / 2 = 0.5625; at 0 one gives 0.75
   * and the other sits on its edge: 0.375; at 2, nothing. */
  double two[] = {0, 1};
  uint64_t work;
  assert_float_equal(plot_kde(two, 2, 1, 0.5, &work), 0.5625, 1e-12);
  assert_float_equal(plot_kde(two, 2, 1, 0.0, &work), 0.375, 1e-12);
  assert_float_equal(plot_kde(two, 2, 1, 2.0, &work), 0.0, 1e-12);
  /* A density integrates to 1: the trapezoid rule over 1..5 +- h. */
  double h = plot_bandwidth(five, 5), sum = 0, dx = 0.001;
  for (int i = 0; 1 - h + i * dx <= 5 + h; i++) sum += plot_kde(five, 5, h, 1 - h + i * dx, &work) * dx;
  assert_float_equal(sum, 1.0, 1e-3);
}

static void test_axes_and_numbers(void **state) {
  (void)state;
  plot_axis a = plot_nice_axis(0, 0.506, 6); /* raw step 0.084: 0.1 */
  assert_float_equal(a.step, 0.1, 1e-12);
  assert_float_equal(a.lo, 0, 1e-12);
  assert_float_equal(a.hi, 0.6, 1e-12);
  a = plot_nice_axis(-3.37, 4.01, 8); /* raw 0.9225: 1 */
  assert_float_equal(a.step, 1, 1e-12);
  assert_float_equal(a.lo, -4, 1e-12);
  assert_float_equal(a.hi, 5, 1e-12);
  a = plot_nice_axis(2, 2, 6); /* one value: half its size either side */
  assert_true(a.lo <= 1 && a.hi >= 3);
  a = plot_nice_axis(NAN, 1, 6);
  assert_true(isfinite(a.lo) && isfinite(a.hi) && a.step > 0);
  char buf[48];
  plot_format_number(0.1 + 0.2, 0.1, buf, sizeof buf);
  assert_string_equal(buf, "0.3");
  plot_format_number(0.25, 0.05, buf, sizeof buf);
  assert_string_equal(buf, "0.25");
  plot_format_number(-1e-17, 0.5, buf, sizeof buf);
  assert_string_equal(buf, "0.0");
  plot_format_number(1200, 200, buf, sizeof buf);
  assert_string_equal(buf, "1200");
  plot_format_number(-0.75, 0.25, buf, sizeof buf); /* one digit more than 0.25 needs */
  assert_string_equal(buf, "-0.75");
  plot_format_number(2.5e8, 5e7, buf, sizeof buf); /* large steps: short scientific */
  assert_string_equal(buf, "2.5e8");
  plot_format_number(-2e8, 2e8, buf, sizeof buf);
  assert_string_equal(buf, "-2e8");
  plot_format_number(0, 2e8, buf, sizeof buf);
  assert_string_equal(buf, "0");
  plot_format_number(1.5e-7, 5e-8, buf, sizeof buf);
  assert_string_equal(buf, "1.5e-7");
}

static void test_xml_escaping(void **state) {
  (void)state;
  lang_buf b = {0};
  plot_xml_text(&b, "<a href='x'>&\"\x01\t</a>", 100);
  assert_string_equal(b.data, "&lt;a href=&apos;x&apos;&gt;&amp;&quot;  &lt;/a&gt;");
  b.len = 0;
  /* A stray byte, an overlong '/', a surrogate and U+FFFE each become
   * U+FFFD; valid UTF-8 stays. */
  plot_xml_text(&b, "\xff|\xc0\xaf|\xed\xa0\x80|\xef\xbf\xbe|\xc3\xa9", 100);
  assert_string_equal(b.data, "\xEF\xBF\xBD|\xEF\xBF\xBD\xEF\xBF\xBD|\xEF\xBF\xBD\xEF\xBF\xBD"
                              "\xEF\xBF\xBD|\xEF\xBF\xBD|\xc3\xa9");
  b.len = 0;
  plot_xml_text(&b, "\xc3\xa9t\xc3\xa9 long", 3); /* three characters, then … */
  assert_string_equal(b.data, "\xc3\xa9t\xc3\xa9\xE2\x80\xA6");
  nsr_free(b.data);
}

/* ---- text summaries --------------------------------------------------------- */

/* The text src prints (a static buffer). */
static const char *printed(const char *src) {
  static char text[65536];
  nsr_lang *lang = lt_new(3);
  lt_eval(lang, src);
  size_t len;
  snprintf(text, sizeof text, "%s", nsr_lang_output(lang, &len));
  nsr_lang_free(lang);
  return text;
}

static int count_lines(const char *s) {
  int n = 0;
  for (; *s != '\0'; s++) n += *s == '\n';
  return n;
}

static void test_text_summaries(void **state) {
  (void)state;
  /* Numbers numerically (10 after 9, not after 1), shares of 4. */
  assert_string_equal(printed("(hist '(10 9 2 2) \"n\")"),
                      "hist: n\n  4 samples\n"
                      "  2   ######################################## 0.5\n"
                      "  9   #################### 0.25\n"
                      "  10  #################### 0.25\n");
  /* Symbols and booleans by their printed text, as webchurch sorts. */
  assert_string_equal(printed("(hist '(c a b a))"),
                      "hist\n  4 samples\n"
                      "  a  ######################################## 0.5\n"
                      "  b  #################### 0.25\n"
                      "  c  #################### 0.25\n");
  const char *flips = printed("(hist (list #t #f #f #f))");
  assert_non_null(strstr(flips, "#f  ######################################## 0.75\n  #t"));
  /* 1,000 gaussians: a few lines of bins, not a line per value. */
  const char *g = printed("(hist (repeat 1000 (lambda () (gaussian 0 1))) \"g\")");
  assert_non_null(strstr(g, "1000 samples in "));
  assert_true(count_lines(g) <= PLOT_MAX_BINS + 3);
  assert_non_null(strstr(g, "0.0 to 0.5"));
  /* barplot of an enumeration result: values ascending, probabilities. */
  assert_string_equal(
      printed("(barplot (enumeration-query (define a (flip)) (define b (flip))"
              " (+ (if a 1 0) (if b 1 0)) (or a b)))"),
      "barplot\n  1  ######################################## 0.6667\n"
      "  2  #################### 0.3333\n");
  /* The book's (map pair words probabilities), in the words' order. */
  assert_string_equal(printed("(barplot (map pair '(dog cat) '(0.25 0.75)) \"t\")"),
                      "barplot: t\n  dog  ############# 0.25\n"
                      "  cat  ######################################## 0.75\n");
  const char *d = printed("(density (repeat 500 (lambda () (beta 2 5))) \"b\" true)");
  assert_non_null(strstr(d, "density: b\n  500 samples, mean 0.2"));
  assert_non_null(strstr(d, "(Epanechnikov kernel)"));
  assert_int_equal(count_lines(d), 2 + 13);
  /* lineplot lists its points sorted by x; scatter keeps their order. */
  assert_string_equal(printed("(lineplot (list (pair 3 0.5) (pair 1 0.2) '(2 4)))"),
                      "lineplot\n  3 points; x from 1 to 3, y from 0.2 to 4\n"
                      "  1            0.2\n  2            4\n  3            0.5\n");
  const char *s = printed("(scatter (repeat 500 (lambda () (pair (uniform 0 1) (uniform 0 1)))))");
  assert_non_null(strstr(s, "500 points"));
  assert_true(count_lines(s) < 25); /* a canvas, not 500 lines */
  /* multiviz shows the values among its arguments. */
  assert_string_equal(printed("(multiviz (hist '(1)) \"v\")"),
                      "hist\n  1 samples\n  1  ######################################## 1\nv\n");
}

static void test_bounds(void **state) {
  (void)state;
  /* 5,000 distinct strings: 39 bars and "others". */
  const char *t = printed("(hist (map (lambda (i) (string-append \"k\" (number->string i)))"
                          " (iota 5000)))");
  assert_int_equal(count_lines(t), 2 + PLOT_MAX_BARS);
  assert_non_null(strstr(t, "others (4961)"));
  /* Hostile text: control characters do not reach the terminal. */
  t = printed("(hist (list \"a\\nb\") \"x\\ny\")");
  assert_string_equal(t, "hist: x y\n  1 samples\n  a b  ######################################## 1\n");
}

static void test_bad_arguments(void **state) {
  (void)state;
  lt_expect_error("(hist 5)", NSR_ERR_INVALID, "hist: expected a list");
  lt_expect_error("(hist '())", NSR_ERR_INVALID, "hist: no samples to draw");
  lt_expect_error("(hist '(1 2) 5)", NSR_ERR_INVALID, "a string (the title)");
  lt_expect_error("(density '(1 a))", NSR_ERR_INVALID, "a list of finite numbers");
  lt_expect_error("(density (list 1 (/ 1.0 0)))", NSR_ERR_INVALID, "finite numbers");
  lt_expect_error("(barplot '(1 2 3))", NSR_ERR_INVALID, "((items) (numbers))");
  lt_expect_error("(barplot '())", NSR_ERR_INVALID, "no bars");
  lt_expect_error("(scatter '(1 2))", NSR_ERR_INVALID, "(x y) or (x . y)");
  lt_expect_error("(lineplot '((1 a)))", NSR_ERR_INVALID, "finite numbers");
  lt_expect_error("(scatter '((1 2)) \"t\" '(\"x\"))", NSR_ERR_INVALID, "two axis titles");
  lt_expect_error("(hist)", NSR_ERR_INVALID, "hist");
}

static void test_budgets(void **state) {
  (void)state;
  nsr_lang_config cfg;
  nsr_lang_config_default(&cfg);
  cfg.max_steps = 3000000;
  nsr_lang *lang = lt_new_config(&cfg);
  /* Building the list costs about 1.1 M steps; the density of 400,000
   * values over 101 grid points would take far more than what is left. */
  const char *msg = lt_eval_error(lang, "(define xs (iota 400000)) (density xs)", NSR_ERR_LIMIT);
  assert_non_null(strstr(msg, "step budget"));
  nsr_lang_free(lang);
}

/* ---- SVG files ---------------------------------------------------------------- */

/* A directory for one test's figures (removed by remove_dir). */
static char *make_dir(void) {
  static char dir[64];
  snprintf(dir, sizeof dir, "/tmp/nsr-plot-XXXXXX");
  assert_non_null(mkdtemp(dir));
  return dir;
}

static void remove_dir(const char *dir, nsr_lang *lang) {
  char path[256];
  for (size_t i = 0; i < nsr_lang_plot_count(lang); i++) {
    snprintf(path, sizeof path, "%s/%s", dir, nsr_lang_plot_file(lang, i));
    unlink(path);
  }
  rmdir(dir);
}

/* The file is an SVG document whose tags balance: every '<' opens a tag
 * that a '>' closes (program text is escaped), elements open and close in
 * order; xmllint parses it too when installed. */
static void check_svg(const char *path, char **text_out) {
  char *text = NULL;
  size_t len = 0;
  nsr_error err;
  assert_int_equal(nsr_read_file(path, 0, &text, &len, &err), NSR_OK);
  assert_true(strncmp(text, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg ", 44) == 0);
  assert_true(len > 8 && strcmp(text + len - 7, "</svg>\n") == 0);
  int depth = 0;
  for (const char *p = text; (p = strchr(p, '<')) != NULL; p++) {
    const char *end = strchr(p, '>');
    assert_non_null(end);
    assert_null(memchr(p + 1, '<', (size_t)(end - p - 1)));
    if (p[1] == '/') depth--;
    else if (p[1] != '?' && end[-1] != '/') depth++;
    assert_true(depth >= 0);
  }
  assert_int_equal(depth, 0);
  if (system("command -v xmllint >/dev/null 2>&1") == 0) {
    char cmd[512];
    snprintf(cmd, sizeof cmd, "xmllint --noout '%s'", path);
    assert_int_equal(system(cmd), 0);
  }
  if (text_out != NULL) *text_out = text;
  else nsr_free(text);
}

static void test_svg_files(void **state) {
  (void)state;
  const char *dir = make_dir();
  nsr_lang_config cfg;
  nsr_lang_config_default(&cfg);
  cfg.plot_dir = dir;
  nsr_lang *lang = lt_new_config(&cfg);
  lt_eval(lang,
          "(hist (repeat 100 flip) \"<script>alert('x')</script> & \\\"more\\\"\")"
          "(hist (repeat 1000 (lambda () (gaussian 0 1))) \"1000 gaussians\")"
          "(density (repeat 300 (lambda () (beta 2 5))) \"beta\" true)"
          "(barplot (map pair '(a b) '(0.3 0.7)))"
          "(scatter (repeat 6000 (lambda () (list (uniform 0 1) (uniform 0 1)))) \"s\" '(\"x<\" \"y&\"))"
          "(lineplot (list (pair 1 0.2) (pair 3 0.5)))");
  size_t out_len;
  nsr_lang_output(lang, &out_len);
  assert_int_equal(out_len, 0); /* drawn, not printed */
  const char *kinds[] = {"hist", "hist", "density", "barplot", "scatter", "lineplot"};
  assert_int_equal(nsr_lang_plot_count(lang), 6);
  assert_null(nsr_lang_plot_file(lang, 6));
  for (size_t i = 0; i < 6; i++) {
    char name[64], path[256];
    snprintf(name, sizeof name, "plot-%03zu-%s.svg", i + 1, kinds[i]);
    assert_string_equal(nsr_lang_plot_file(lang, i), name);
    snprintf(path, sizeof path, "%s/%s", dir, name);
    char *text = NULL;
    check_svg(path, &text);
    if (i == 0) { /* the hostile title is text, not markup */
      assert_null(strstr(text, "<script"));
      assert_non_null(strstr(text, "&lt;script&gt;alert(&apos;x&apos;)&lt;/script&gt; &amp;"));
    }
    if (i == 4) { /* 6,000 points: every 2nd drawn, and said so */
      int circles = 0;
      for (const char *p = text; (p = strstr(p, "<circle")) != NULL; p++) circles++;
      assert_int_equal(circles, 3000);
      assert_non_null(strstr(text, "3000 of 6000 points drawn"));
      assert_non_null(strstr(text, ">x&lt;</text>"));
    }
    nsr_free(text);
  }
  /* A directory gone since: the figure's error names the file. */
  remove_dir(dir, lang);
  const char *msg = lt_eval_error(lang, "(hist '(1))", NSR_ERR_IO);
  assert_non_null(strstr(msg, "hist: "));
  assert_non_null(strstr(msg, "plot-007-hist.svg"));
  nsr_lang_free(lang);
}

/* Circles in the SVG file `name` of dir. */
static int circles_in(const char *dir, const char *name) {
  char path[256];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  char *text = NULL;
  check_svg(path, &text);
  int n = 0;
  for (const char *p = text; (p = strstr(p, "<circle")) != NULL; p++) n++;
  nsr_free(text);
  return n;
}

static void test_lineplot_value(void **state) {
  (void)state;
  assert_string_equal(printed("(lineplot-value (pair 1 2.5) \"trajectory\")"),
                      "lineplot-value: trajectory: 1 2.5\n");
  lt_expect_error("(lineplot-value 5)", NSR_ERR_INVALID, "a point (x . y) of finite numbers");
  /* Old Church's bin count before the title is accepted and ignored. */
  assert_string_equal(printed("(hist '(1) 100 \"t\")"),
                      "hist: t\n  1 samples\n  1  ######################################## 1\n");
  const char *dir = make_dir();
  nsr_lang_config cfg;
  nsr_lang_config_default(&cfg);
  cfg.plot_dir = dir;
  nsr_lang *lang = lt_new_config(&cfg);
  /* One file per title, numbered at its first call, drawn at the end of
   * the evaluation with every point so far. */
  lt_eval(lang, "(map (lambda (n) (lineplot-value (pair n (* n n)) \"a\")) '(3 1 2))"
                "(lineplot-value (pair 0 1)) (hist '(1))");
  assert_int_equal(nsr_lang_plot_count(lang), 3);
  assert_string_equal(nsr_lang_plot_file(lang, 0), "plot-001-lineplot.svg");
  assert_string_equal(nsr_lang_plot_file(lang, 1), "plot-002-lineplot.svg");
  assert_string_equal(nsr_lang_plot_file(lang, 2), "plot-003-hist.svg");
  assert_int_equal(circles_in(dir, "plot-001-lineplot.svg"), 3);
  assert_int_equal(circles_in(dir, "plot-002-lineplot.svg"), 1);
  lt_eval(lang, "(lineplot-value (pair 4 16) \"a\")");
  assert_int_equal(nsr_lang_plot_count(lang), 3);
  assert_int_equal(circles_in(dir, "plot-001-lineplot.svg"), 4);
  /* A failed evaluation still draws the points it added. */
  lt_eval_error(lang, "(lineplot-value (pair 5 25) \"a\") (car '())", NSR_ERR_INVALID);
  assert_int_equal(circles_in(dir, "plot-001-lineplot.svg"), 5);
  remove_dir(dir, lang);
  nsr_lang_free(lang);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_quantiles_and_bin_counts),
      cmocka_unit_test(test_bandwidth_and_kde),
      cmocka_unit_test(test_axes_and_numbers),
      cmocka_unit_test(test_xml_escaping),
      cmocka_unit_test(test_text_summaries),
      cmocka_unit_test(test_bounds),
      cmocka_unit_test(test_bad_arguments),
      cmocka_unit_test(test_budgets),
      cmocka_unit_test(test_svg_files),
      cmocka_unit_test(test_lineplot_value),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
